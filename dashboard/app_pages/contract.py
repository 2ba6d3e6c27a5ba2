"""Data contract: what each export must hold, generated from the schemas, with empty templates."""

from __future__ import annotations

import streamlit as st

from checks import MODELS
from checks.dictionary import data_dictionary, template
from dashboard import access

st.title("Data contract")
st.caption(
    "What each site's exports must hold, generated from the same schemas the nightly run checks "
    "them against. The templates are empty files with the header row in the right order."
)
access.audit("page_view", "contract", rows=0)
columns = st.columns(len(MODELS))
for column, table in zip(columns, MODELS, strict=True):
    header = template(table)
    with column:
        access.download(
            f"{table}.csv template",
            data=lambda header=header: header.encode("utf-8"),
            file_name=f"{table}.csv",
            mime="text/csv",
            page="contract",
            rows=0,
            key=f"template-{table}",
            icon=":material/download:",
        )
# The dictionary is our own text, generated from the schemas: no data in it.
st.markdown(data_dictionary())
