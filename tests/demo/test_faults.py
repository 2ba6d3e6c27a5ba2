"""The --messy row faults: bad dates, HMIS codes, missing tokens, unknown participants, duplicates."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tests.demo.exports import (
    CONTRACT,
    DATES,
    IDENTIFIER_WORDS,
    LIVING,
    read_messy,
)


def test_messy_rows_carry_the_usual_faults(messy: Path) -> None:
    tables: dict[str, list[pl.DataFrame]] = {t: [] for t in CONTRACT}
    headers = set()
    for path in sorted(messy.rglob("*.*")):
        df = read_messy(path)
        assert sorted(df.columns) == sorted(CONTRACT[path.stem]), path
        headers.add(path.read_bytes()[:40])
        df = df.select(CONTRACT[path.stem]).with_columns(site_id=pl.lit(path.parent.name))
        tables[path.stem].append(df)
    data = {t: pl.concat(frames) for t, frames in tables.items()}
    assert any(b"Participant ID" in h or b"P\x00a\x00r" in h for h in headers)

    values = pl.concat(
        [data[t].select(pl.col(c).alias("v")) for t in data for c in data[t].columns if c in DATES]
    )["v"].drop_nulls()
    assert values.str.contains(r"^\d{2}/\d{2}/\d{4}$").any()
    assert values.str.contains(r"^\d{5}$").any()

    living = data["housing"]["living_situation"]
    assert living.is_in(["116", "101", "410", "435", "8"]).any()
    assert living.is_in(list(LIVING)).mean() > 0.5
    p = data["participants"]
    assert p["exit_reason"].is_in(["NA", "N/A", "NULL", "#N/A"]).any()

    people = p.select("site_id", "participant_id").unique()
    ghosts = data["housing"].join(people, on=["site_id", "participant_id"], how="anti")
    assert 0 < ghosts.height < data["housing"].height * 0.02

    h = data["housing"]
    assert h.is_duplicated().any()
    keyed = h.unique().group_by("site_id", "participant_id", "assessed_on").len()
    assert (keyed["len"] > 1).any()

    t = data["treatment"]
    iso = r"^\d{4}-\d{2}-\d{2}$"
    both = t.filter(pl.col("start_date").str.contains(iso) & pl.col("end_date").str.contains(iso))
    assert (both["end_date"] < both["start_date"]).any()

    for df in data.values():
        for column in df.columns:
            assert not any(word in column for word in IDENTIFIER_WORDS), column
