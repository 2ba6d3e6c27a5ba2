"""Data contract: what each export must hold, generated from the schemas, with empty templates."""

from __future__ import annotations

import streamlit as st

from checks import MODELS
from checks.dictionary import data_dictionary, template
from checks.labels import label
from dashboard import access

st.title("Data contract")
st.caption(
    "What each site's exports must hold, generated from the same schemas the nightly run checks "
    "them against. The templates are empty files with the header row in the right order, named as "
    "the exports must be. They stay CSV, to fill in and send as they are (other pages' tables also "
    "download as Excel)."
)
access.audit("page_view", "contract", rows=0)
# Four buttons to a row: seven tables side by side would squeeze each label.
PER_ROW = 4
tables = list(MODELS)
for start in range(0, len(tables), PER_ROW):
    row = tables[start : start + PER_ROW]
    for column, table in zip(st.columns(PER_ROW), row, strict=False):
        header = template(table)
        with column:
            access.download(
                f"{label('table', table)} template",
                data=lambda header=header: header.encode("utf-8"),
                file_name=f"{table}.csv",
                mime="text/csv",
                page="contract",
                rows=0,
                key=f"template-{table}",
                icon=":material/download:",
            )
# The dictionary is our own text, generated from the schemas: no data in it. Its wide tables
# scroll inside their frame on a phone instead of spilling off the screen.
st.html("<style>[data-testid='stMarkdownContainer'] table {display: block; overflow-x: auto;}</style>")
st.markdown(data_dictionary())
