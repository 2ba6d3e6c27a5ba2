"""The data dictionary and templates come from the models; the command line is documented."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

from checks import MODELS, vocab
from checks.labels import label
from pipelines.cli import parser

ROOT = Path(__file__).parents[2]


def test_contract_writes_dictionary_and_templates(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines",
            "--home",
            str(tmp_path),
            "contract",
            "--out",
            str(tmp_path / "c"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(tmp_path / "c") in done.stdout
    dictionary = (tmp_path / "c" / "data_dictionary.md").read_text()
    for table, model in MODELS.items():
        header = next(csv.reader((tmp_path / "c" / "templates" / f"{table}.csv").open()))
        assert header == list(model.to_schema().columns)
        assert f"## {label('table', table)}: `{table}.csv`" in dictionary
        for column in header:
            assert f"| `{column}` |" in dictionary
    for values in (
        vocab.REFERRAL_TYPES,
        vocab.SERVICE_TYPES,
        vocab.DISCHARGE_REASONS,
        vocab.EMPLOYMENT_STATUSES,
    ):
        for value in values:
            assert f"`{value}`" in dictionary
    for name, (codes, category) in vocab.LIVING_SITUATIONS.items():
        numbers = ", ".join(map(str, codes))
        named = f"`{name}` ({label('living_situation', name)})"
        assert f"| {named} | {numbers} | {label('housing_category', category)} |" in dictionary


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    commands = parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    for name in commands:
        assert re.search(rf"`outcomes {name}\b", readme), f"`outcomes {name}` is not in README.md"
    assert "make run" in readme and "make test" in readme


def test_makefile_targets_are_self_documented():
    makefile = (ROOT / "Makefile").read_text()
    targets = re.findall(r"^([a-z][a-z_-]*):", makefile, re.M)
    for target in ("setup", "run", "test", "nightly", "bench", "lint", "help"):
        assert target in targets
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split()
    for target in targets:
        assert target in phony, f"{target} is not .PHONY"
        assert re.search(rf"^{target}:.*## ", makefile, re.M), f"make {target} has no ## description"
