"""The demo tests' fixtures: one clean and one messy inbox, written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.demo import write_demo
from tests.demo.exports import AS_OF


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("clean")
    counts = write_demo(root, participants=600, sites=3, months=36, seed=11, as_of=AS_OF)
    return root, counts


@pytest.fixture(scope="session")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("messy")
    write_demo(root, participants=500, sites=5, months=24, seed=3, messy=True, as_of=AS_OF)
    return root
