"""write_demo, the demo's entry point: deterministic, contract-exact when clean, checked arguments."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.demo import write_demo
from tests.demo.exports import (
    AS_OF,
    CONTRACT,
    ENUMS,
    KEYS,
    OPTIONAL,
    RACES,
    file_bytes,
    read_clean,
)


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    args = {"participants": 150, "sites": 4, "months": 12, "messy": True, "as_of": AS_OF}
    write_demo(tmp_path / "a", seed=5, **args)
    write_demo(tmp_path / "b", seed=5, **args)
    write_demo(tmp_path / "c", seed=6, **args)
    a, b, c = (file_bytes(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys()
    assert any(a[k] != c[k] for k in a)


def test_counts_match_rows_and_sites_differ_in_size(clean: tuple[Path, dict[str, int]]) -> None:
    root, counts = clean
    assert counts == {t: read_clean(root, t).height for t in CONTRACT}
    assert counts["participants"] == 600
    sizes = read_clean(root, "participants").group_by("site_id").len()["len"]
    assert sizes.max() >= 2 * sizes.min()


def test_clean_values_are_valid_and_only_optional_ones_missing(
    clean: tuple[Path, dict[str, int]],
) -> None:
    root, _ = clean
    for table, columns in CONTRACT.items():
        df = read_clean(root, table)
        for column in columns:
            if column not in OPTIONAL:
                assert df[column].null_count() == 0, (table, column)
        for (t, column), allowed in ENUMS.items():
            if t == table:
                assert set(df[column].drop_nulls()) <= allowed, (table, column)
        duplicated = df.select(pl.struct("site_id", *KEYS[table]).is_duplicated().any()).item()
        assert not duplicated, table
    races = read_clean(root, "participants")["race_ethnicity"].str.split(";").explode()
    assert set(races) <= RACES


@pytest.mark.parametrize(
    "kwargs", [{"sites": 0}, {"participants": 2, "sites": 3}, {"months": 0}, {"seed": -1}]
)
def test_invalid_arguments_are_refused(tmp_path: Path, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        write_demo(tmp_path, as_of=AS_OF, **kwargs)
