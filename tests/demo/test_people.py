"""The demo's participants: ids as sites write them, doors and demographics like Seattle's."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tests.demo.exports import (
    read_clean,
)


def test_participant_ids_are_unique_text_with_leading_zeros(
    clean: tuple[Path, dict[str, int]],
) -> None:
    people = read_clean(clean[0], "participants")
    assert people.select(pl.struct("site_id", "participant_id").is_unique().all()).item()
    assert people["participant_id"].str.contains(r"^[A-Za-z0-9_-]{1,64}$").all()
    assert people["participant_id"].str.starts_with("0").any()
    shared = people.group_by("participant_id").agg(pl.col("site_id").n_unique().alias("sites"))
    assert (shared["sites"] > 1).any()
    assert people["case_manager_id"].str.contains(r"^CM\d{2,}$").all()


def test_referral_doors_and_race_mix_look_like_seattle(clean: tuple[Path, dict[str, int]]) -> None:
    p = read_clean(clean[0], "participants")
    doors = p["referral_type"].value_counts(normalize=True)
    share = dict(zip(doors["referral_type"], doors["proportion"], strict=True))
    assert 0.35 <= share["social_contact"] <= 0.65
    assert share["arrest_diversion"] > share.get("community", 0)
    assert (p["race_ethnicity"] == "black").mean() > 0.35
    assert p["race_ethnicity"].str.contains(";").any()
    assert (p["gender"] == "man").mean() > 0.5
    assert p["exit_reason"].drop_nulls().len() > 0
