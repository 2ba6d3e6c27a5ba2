"""The Data contract page: a template per export table, and the dictionary, for every role."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks import MODELS
from checks.dictionary import template
from checks.labels import label
from tests import apptest

PAGE = "app_pages/contract.py"


@pytest.mark.parametrize("email", [apptest.LEADERSHIP, apptest.FUNDER])
def test_every_table_has_its_template_and_the_dictionary_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, email: str
) -> None:
    apptest.serve(monkeypatch, tmp_path / "home")
    at = apptest.open_page(PAGE, email)
    assert not at.exception
    labels = [button.label for button in at.download_button]
    assert labels == [f"{label('table', table)} template" for table in MODELS]
    text = "\n".join(m.value for m in at.markdown)
    for table in MODELS:
        assert f"## {label('table', table)}: `{table}.csv`" in text
        assert template(table).startswith(next(iter(MODELS[table].to_schema().columns)))
    assert "comparison_id" in text and "release_date" in text
