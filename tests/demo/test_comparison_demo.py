"""The demo's comparison group (issue 14): written for all sites but the last and loaded by the
nightly; selected on prior arrests (LEAD takes people with more); a spike of arrests before the
index date in both groups; and a planted program effect that thins only the participants'
arrests after referral, so the same seed with effect 1.0 is their counterfactual."""

from __future__ import annotations

import math
import tomllib
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipelines.cli import main
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from tests.conftest import query, run
from tests.demo.exports import AS_OF, COMPARISON_TABLES, file_bytes, typed_clean

PLANTED = 0.6
DEMO = {"participants": 3000, "sites": 3, "months": 36, "seed": 21, "as_of": AS_OF}
KEY = ["site_id", "id"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same demo twice: without the program's effect (every arrest kept), and with it."""
    root = tmp_path_factory.mktemp("pair")
    write_demo(root / "untreated", effect=1.0, **DEMO)
    write_demo(root / "treated", effect=PLANTED, **DEMO)
    return root / "untreated", root / "treated"


def people(root: Path, group: str) -> pl.DataFrame:
    """site_id, id, index (referral or index date) and, for participants, referral_type."""
    if group == "lead":
        p = typed_clean(root, "participants")
        return p.select(
            "site_id",
            pl.col("participant_id").alias("id"),
            pl.col("referral_date").alias("index"),
            "referral_type",
        )
    c = typed_clean(root, "comparison")
    return c.select("site_id", pl.col("comparison_id").alias("id"), pl.col("index_date").alias("index"))


def events(root: Path, group: str) -> pl.DataFrame:
    """Each justice record with its person's index date and `days` from it."""
    table, key = ("justice", "participant_id") if group == "lead" else ("comparison_justice", "comparison_id")
    e = typed_clean(root, table).rename({key: "id"})
    return e.join(people(root, group).select(*KEY, "index"), on=KEY).with_columns(
        days=(pl.col("event_date") - pl.col("index")).dt.total_days()
    )


def arrests_per_person(root: Path, group: str, first: int, last: int) -> float:
    """Mean arrests per person from `first` to `last` days after the index date (negative: before),
    over the people of the sites that send a comparison group."""
    sites = typed_clean(root, "comparison")["site_id"].unique().to_list()
    who = people(root, group).filter(pl.col("site_id").is_in(sites))
    arrests = events(root, group).filter(
        (pl.col("event_type") == "arrest")
        & pl.col("days").is_between(first, last)
        & pl.col("site_id").is_in(sites)
    )
    return arrests.height / who.height


def test_all_sites_but_the_last_send_a_comparison_group_the_nightly_loads_whole(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    as_of = date(2024, 6, 15)
    counts = write_demo(home.inbox, participants=300, sites=3, months=24, seed=4, as_of=as_of)
    sites = sorted(p.name for p in home.inbox.iterdir())
    sending = sorted(p.parent.name for p in home.inbox.glob("*/comparison.csv"))
    assert len(sites) == 3 and len(sending) == 2
    assert sorted(p.parent.name for p in home.inbox.glob("*/comparison_justice.csv")) == sending
    assert counts["comparison"] > 0 and counts["comparison_justice"] > counts["comparison"]
    result = run(home, as_of.isoformat())
    assert result.published, result.error
    assert query(home, "select count(*) from comparison") == [(counts["comparison"],)]
    assert query(home, "select count(*) from comparison_justice") == [(counts["comparison_justice"],)]
    assert query(home, "select distinct site_id from comparison order by 1") == [(s,) for s in sending]
    quarantined = "select count(*) from quarantine where table_name in ('comparison', 'comparison_justice')"
    assert query(home, quarantined) == [(0,)]
    # One site alone sends a comparison group too.
    single = write_demo(tmp_path / "one", participants=40, sites=1, months=12, seed=4, as_of=as_of)
    assert single["comparison"] > 0 and {p.name for p in (tmp_path / "one").iterdir()} == {"seattle"}


def test_comparison_groups_are_about_the_size_of_the_sites_and_named_apart(pair: tuple[Path, Path]) -> None:
    root = pair[1]
    lead = people(root, "lead").group_by("site_id").len("lead")
    comparison = typed_clean(root, "comparison")
    sizes = comparison.group_by("site_id").len("comparison").join(lead, on="site_id")
    assert sizes.height == 2
    assert sizes.select(((pl.col("comparison") / pl.col("lead")).is_between(0.85, 1.7)).all()).item(), sizes
    assert comparison["comparison_id"].str.contains(r"^C\d+$").all()
    assert comparison.select(pl.struct("site_id", "comparison_id").is_unique().all()).item()
    reasons = comparison["not_referred_reason"].value_counts(normalize=True)
    share = dict(zip(reasons["not_referred_reason"], reasons["proportion"], strict=True))
    assert set(share) == {"not_eligible_shift", "outside_area", "declined", "other", "unknown"}
    assert share["not_eligible_shift"] > 0.5
    # Index dates fall in the months the site refers people.
    months = (
        people(root, "lead").select("site_id", pl.col("index").dt.truncate("1mo").alias("month")).unique()
    )
    index_months = comparison.select("site_id", pl.col("index_date").dt.truncate("1mo").alias("month"))
    assert index_months.join(months, on=["site_id", "month"], how="anti").is_empty()


def test_lead_takes_people_with_more_prior_arrests_and_both_groups_spike_before_index(
    pair: tuple[Path, Path],
) -> None:
    root = pair[1]
    lead, comparison = (arrests_per_person(root, g, -365, -1) for g in ("lead", "comparison"))
    assert lead > 1.2 * comparison, (lead, comparison)
    assert lead < 2.0 * comparison, (lead, comparison)  # selected, not a different population
    for group in ("lead", "comparison"):
        spike = arrests_per_person(root, group, -182, -1)
        earlier = arrests_per_person(root, group, -365, -183)
        assert spike > 1.5 * earlier, (group, spike, earlier)


def arrested_on_index(root: Path, group: str) -> pl.DataFrame:
    """The group's people with `arrested`: whether they have an arrest on their index date."""
    on_index = events(root, group).filter((pl.col("event_type") == "arrest") & (pl.col("days") == 0))
    flags = on_index.select(KEY).unique().with_columns(arrested=pl.lit(True))
    return (
        people(root, group).join(flags, on=KEY, how="left").with_columns(pl.col("arrested").fill_null(False))
    )


def test_an_arrest_index_is_an_arrest_on_the_index_date_and_a_contact_is_not(pair: tuple[Path, Path]) -> None:
    root = pair[1]
    lead = arrested_on_index(root, "lead")
    assert (lead["arrested"] == (lead["referral_type"] == "arrest_diversion")).all()
    offenses = typed_clean(root, "comparison").select(
        "site_id", pl.col("comparison_id").alias("id"), "index_offense"
    )
    comparison = arrested_on_index(root, "comparison").join(offenses, on=KEY)
    # Both index types occur, and an arrest index always has an offense (never "none").
    assert 0.2 < comparison["arrested"].mean() < 0.8
    assert comparison.filter(pl.col("arrested"))["index_offense"].ne_missing("none").all()
    assert (comparison.filter(~pl.col("arrested"))["index_offense"] == "none").any()


def test_the_planted_effect_only_drops_participants_arrests_after_referral(pair: tuple[Path, Path]) -> None:
    untreated, treated = pair
    a, b = file_bytes(untreated), file_bytes(treated)
    assert a.keys() == b.keys()
    differ = {name for name in a if a[name] != b[name]}
    assert differ and all(name.endswith("/justice.csv") for name in differ)
    assert sum(name.endswith(f"/{t}.csv") for name in a for t in COMPARISON_TABLES) == 4  # the same in both

    full, thinned = events(untreated, "lead"), events(treated, "lead")
    columns = ["site_id", "id", "event_date", "event_type", "level", "release_date"]
    assert (
        thinned.select(columns)
        .join(full.select(columns), on=columns, how="anti", nulls_equal=True)
        .is_empty()
    )
    gone = full.join(thinned.select(columns), on=columns, how="anti", nulls_equal=True)
    assert gone.filter(pl.col("days") <= 0).is_empty()
    assert set(gone["event_type"]) == {"arrest", "booking", "charge"}

    # About PLANTED of the arrests after referral are kept (binomial bounds, 4 standard errors).
    after = full.filter((pl.col("event_type") == "arrest") & (pl.col("days") > 0)).height
    kept = thinned.filter((pl.col("event_type") == "arrest") & (pl.col("days") > 0)).height
    assert after > 2000
    assert abs(kept / after - PLANTED) < 4 * math.sqrt(PLANTED * (1 - PLANTED) / after), kept / after

    # A booking the day of (or after) a dropped arrest goes with it, unless an arrest that could
    # have brought it stands, or it starts a long custody (an exit to incarceration).
    arrests = thinned.filter(pl.col("event_type") == "arrest").select(*KEY, "event_date")
    standing = pl.concat([arrests, arrests.with_columns(pl.col("event_date") + timedelta(days=1))]).unique()
    exits = (
        typed_clean(untreated, "participants")
        .filter(pl.col("exit_reason") == "incarcerated")
        .select("site_id", pl.col("participant_id").alias("id"), pl.col("exit_date").alias("event_date"))
    )
    dropped = gone.filter(pl.col("event_type") == "arrest").select(*KEY, "event_date")
    orphans = (
        full.filter((pl.col("event_type") == "booking") & (pl.col("days") > 0))
        .join(dropped, on=[*KEY, "event_date"], how="semi")
        .join(standing, on=[*KEY, "event_date"], how="anti")
        .join(exits, on=[*KEY, "event_date"], how="anti")
    )
    assert orphans.height > 100
    assert orphans.join(thinned, on=columns, how="semi", nulls_equal=True).is_empty()


@pytest.mark.parametrize("effect", [0.0, -0.2, 1.01, 2.0, math.nan])
def test_an_effect_outside_zero_to_one_is_refused(tmp_path: Path, effect: float) -> None:
    with pytest.raises(ValueError, match="effect must be more than 0 and at most 1"):
        write_demo(tmp_path, participants=20, sites=1, months=6, as_of=AS_OF, effect=effect)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_the_demo_writes_illustrative_costs_once_and_never_over_a_homes_own(tmp_path: Path) -> None:
    def demo(root: Path) -> int:
        args = ["--participants", "20", "--sites", "2", "--months", "6", "--as-of", "2025-06-30"]
        return main(["--home", str(root), "demo", *args])

    assert demo(tmp_path / "a") == 0
    costs = tmp_path / "a" / "costs.toml"
    text = costs.read_text(encoding="utf-8")
    assert text.startswith("# Illustrative unit costs written by `outcomes demo`: NOT real costs.")
    values = tomllib.loads(text)
    assert values["illustrative"] is True and values["currency"] == "USD"
    for key in ("per_booking", "per_jail_day", "per_felony_charge", "program_per_participant_month"):
        assert isinstance(values[key], float) and values[key] > 0, key
    costs.write_text("currency = 'EUR'\nper_booking = 1.0\n", encoding="utf-8")
    assert demo(tmp_path / "a") == 0
    assert costs.read_text(encoding="utf-8") == "currency = 'EUR'\nper_booking = 1.0\n"
    # A home with its own costs before any demo keeps them too.
    own = tmp_path / "b" / "costs.toml"
    own.parent.mkdir()
    own.write_text("per_jail_day = 99.0\n", encoding="utf-8")
    assert demo(tmp_path / "b") == 0
    assert own.read_text(encoding="utf-8") == "per_jail_day = 99.0\n"
