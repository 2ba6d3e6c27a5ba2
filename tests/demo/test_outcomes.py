"""The demo's outcome records: dates within the contract, outcomes that move as LEAD's do."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from tests.demo.exports import (
    AS_OF,
    ENUMS,
    LIVING,
    PERMANENT,
    read_clean,
    typed_clean,
)


def test_clean_dates_respect_the_contract(clean: tuple[Path, dict[str, int]]) -> None:
    root, _ = clean
    p = typed_clean(root, "participants").with_columns(pl.col("birth_year").cast(pl.Int32))
    assert p["referral_date"].min() >= date(2011, 1, 1)
    assert p["referral_date"].max() <= AS_OF
    assert p.filter(pl.col("intake_date") < pl.col("referral_date")).is_empty()
    assert p.filter(pl.col("exit_date") < pl.col("referral_date")).is_empty()
    assert p.filter(pl.col("exit_date") > AS_OF).is_empty()
    assert (p["exit_date"].is_null() == p["exit_reason"].is_null()).all()
    age = p["referral_date"].dt.year() - p["birth_year"]
    assert age.min() >= 18 and age.max() <= 100
    ref = p.select("site_id", "participant_id", "referral_date")

    for table, column, before in (
        ("housing", "assessed_on", 30),
        ("employment", "assessed_on", 30),
    ):
        df = typed_clean(root, table).join(ref, on=["site_id", "participant_id"], how="left")
        assert df["referral_date"].null_count() == 0, f"{table} has unknown participants"
        low = pl.col("referral_date") - pl.duration(days=before)
        assert df.filter((pl.col(column) < low) | (pl.col(column) > AS_OF)).is_empty(), table

    t = typed_clean(root, "treatment").join(ref, on=["site_id", "participant_id"], how="left")
    assert t["referral_date"].null_count() == 0
    assert t.filter(pl.col("start_date") < pl.col("referral_date") - pl.duration(days=365)).is_empty()
    assert t.filter((pl.col("start_date") > AS_OF) | (pl.col("end_date") > AS_OF)).is_empty()
    assert t.filter(pl.col("end_date") < pl.col("start_date")).is_empty()
    assert (t["end_date"].is_null() == t["discharge_reason"].is_null()).all()

    j = typed_clean(root, "justice").join(ref, on=["site_id", "participant_id"], how="left")
    assert j["referral_date"].null_count() == 0
    assert j.filter(pl.col("event_date") > AS_OF).is_empty()


def test_housing_improves_with_months_in_program(clean: tuple[Path, dict[str, int]]) -> None:
    root, _ = clean
    ref = typed_clean(root, "participants").select("site_id", "participant_id", "referral_date")
    h = typed_clean(root, "housing").join(ref, on=["site_id", "participant_id"])
    days = (pl.col("assessed_on") - pl.col("referral_date")).dt.total_days()
    permanent = pl.col("living_situation").is_in(list(PERMANENT)).mean()
    before = h.filter(days < 0).select(permanent).item()
    later = h.filter(days >= 365).select(permanent).item()
    assert later > before + 0.15
    assert set(h["living_situation"]) == LIVING


def test_arrests_fall_after_referral(clean: tuple[Path, dict[str, int]]) -> None:
    root, _ = clean
    ref = typed_clean(root, "participants").filter(pl.col("referral_date") <= AS_OF - timedelta(days=183))
    arrests = (
        typed_clean(root, "justice")
        .filter(pl.col("event_type") == "arrest")
        .join(
            ref.select("site_id", "participant_id", "referral_date"),
            on=["site_id", "participant_id"],
        )
        .with_columns(d=(pl.col("event_date") - pl.col("referral_date")).dt.total_days())
    )
    before = arrests.filter(pl.col("d").is_between(-182, -1)).height / ref.height
    after = arrests.filter(pl.col("d").is_between(1, 182)).height / ref.height
    assert before > after
    bookings = typed_clean(root, "justice").filter(pl.col("event_type") == "booking")
    same_day = bookings.join(
        arrests.select("site_id", "participant_id", "event_date"),
        on=["site_id", "participant_id", "event_date"],
        how="semi",
    )
    assert same_day.height > bookings.height / 2


def test_bookings_hold_people_for_realistic_stays(clean: tuple[Path, dict[str, int]]) -> None:
    j = typed_clean(clean[0], "justice")
    assert (
        j.filter(pl.col("event_type") != "booking")["release_date"].null_count()
        == j.filter(pl.col("event_type") != "booking").height
    )
    bookings = j.filter(pl.col("event_type") == "booking")
    stays = bookings.drop_nulls("release_date").select(
        (pl.col("release_date") - pl.col("event_date")).dt.total_days().alias("days")
    )["days"]
    assert stays.min() >= 0 and bookings["release_date"].max() <= AS_OF
    # Most leave within three days, some stay weeks, a few months.
    assert (stays <= 3).mean() > 0.6
    assert 0.05 < stays.is_between(4, 45).mean() < 0.3
    assert 0.005 < (stays > 45).mean() < 0.15
    # Still in custody on the as-of date: a blank release, only for bookings that could still run.
    open_stays = bookings.filter(pl.col("release_date").is_null())
    assert 0 < open_stays.height < bookings.height / 10
    assert open_stays["event_date"].min() > AS_OF - timedelta(days=541)
    # Arrests are for new offenses (felony, misdemeanor) and for warrants.
    levels = j.filter(pl.col("event_type") == "arrest")["level"].value_counts(normalize=True)
    share = dict(zip(levels["level"], levels["proportion"], strict=True))
    assert share["felony"] + share["misdemeanor"] > 0.6 and 0.1 < share["warrant"] < 0.3


def test_treatment_covers_every_type_and_reason(clean: tuple[Path, dict[str, int]]) -> None:
    t = read_clean(clean[0], "treatment")
    assert set(t["service_type"]) == ENUMS[("treatment", "service_type")]
    assert set(t["discharge_reason"].drop_nulls()) == ENUMS[("treatment", "discharge_reason")]
    assert t["end_date"].null_count() > 0
    assert t.select(pl.struct("site_id", "episode_id").is_unique().all()).item()


def test_outcomes_are_assessed_often_while_active(clean: tuple[Path, dict[str, int]]) -> None:
    root, counts = clean
    people = typed_clean(root, "participants")
    key = ["site_id", "participant_id"]
    for table, typical in (("housing", (25, 40)), ("employment", (25, 95))):
        df = typed_clean(root, table).join(people.select(*key, "referral_date"), on=key)
        gaps = (
            df.sort(*key, "assessed_on")
            .select(pl.col("assessed_on").diff().dt.total_days().over(key).alias("gap"))["gap"]
            .drop_nulls()
        )
        assert typical[0] <= gaps.median() <= typical[1], table
        before = df.filter(pl.col("assessed_on") < pl.col("referral_date"))
        assert before.select(key).n_unique() > 0.4 * counts["participants"], table
    # About monthly housing: at least ~2/3 of an assessment per month of engagement.
    start = pl.coalesce("intake_date", "referral_date")
    end = pl.coalesce("exit_date", pl.lit(AS_OF))
    months = people.select(((end - start).dt.total_days().clip(0) / 30.44).sum()).item()
    assert counts["housing"] > 0.65 * months
    assert counts["housing"] > counts["employment"] > 0.4 * months

    # Most people leaving for jail or prison have an exit assessment that says so.
    jailed = people.filter(pl.col("exit_reason") == "incarcerated").select(*key, "exit_date")
    at_exit = typed_clean(root, "housing").join(
        jailed, left_on=[*key, "assessed_on"], right_on=[*key, "exit_date"]
    )
    assert at_exit.height > 0.5 * jailed.height
    assert (at_exit["living_situation"] == "jail_prison").all()
