"""Opening a published release: read-only, no file or network access, configuration locked."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.core.release import live_release, open_release


@pytest.fixture
def release_file(tmp_path: Path) -> Path:
    path = tmp_path / "release-1.duckdb"
    con = duckdb.connect(str(path))
    con.sql("create table metric_values as select 1 as numerator")
    con.close()
    return path


def test_live_release_follows_the_link_and_a_dangling_or_missing_link_is_none(
    release_file: Path, tmp_path: Path
) -> None:
    current = tmp_path / "current.duckdb"
    assert live_release(current) is None
    current.symlink_to(release_file.name)
    assert live_release(current) == release_file
    release_file.unlink()
    assert live_release(current) is None


def test_live_release_of_a_link_to_itself_is_none_and_of_a_stray_file_is_that_file(tmp_path: Path) -> None:
    current = tmp_path / "current.duckdb"
    current.symlink_to(current.name)  # Path.resolve raises for a loop
    assert live_release(current) is None
    current.unlink()
    current.write_bytes(b"not a database")  # what a reader would open: the run reads it and says so
    assert live_release(current) == current


@pytest.mark.parametrize(
    "setting",
    ["set memory_limit = '64GB'", "set threads = 64", "set enable_external_access = false"],
)
def test_a_release_reader_cannot_change_its_configuration(release_file: Path, setting: str) -> None:
    con = open_release(release_file)
    try:
        with pytest.raises(duckdb.Error, match="(?i)lock"):
            con.sql(setting)
        assert con.sql("select numerator from metric_values").fetchall() == [(1,)]
    finally:
        con.close()
