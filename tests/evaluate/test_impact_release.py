"""The impact evaluation on a release built by the nightly from hand-made exports.

As of 2025-06-30. Sites:

- `east`: participants, justice (with release dates), comparison, comparison_justice (with
  release dates);
- `west`: the same, but its comparison_justice export has no release_date column (its comparison
  group reports no custody);
- `solo`: participants and justice only: left out of the impact evaluation.

People are made in groups by index date, each group followed a known number of months by the
as-of date (index + N months on or before 2025-06-30): FOLLOWED below. Beside them, in east's
comparison group:

- CX1, index 2024-10-15: arrested and booked on the index date (released 2024-10-17), booked
  again 2024-10-17 (released 2024-10-20): one spell of 6 days, 5 of them in the 6 months after
  (16 October to 15 April, 182 days); first arrest after the index date 2025-01-10, day 87;
- CX2, index 2024-10-15: booked 2025-06-01, no release date: in custody through the as-of date
  (30 days); never arrested;
- CB1, index 2024-12-31: its 6 months after end 2025-06-30: followed 6 months, not 12;
- CB2, index 2025-01-01: its 6 months after end 2025-07-01: not followed 6 months;

and in west's: CW1, booked 2024-11-01 (no release_date column: no spell).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.core.settings import Home
from pipelines.evaluate.costs import costs_file
from pipelines.evaluate.design import impact_sites, load_people
from pipelines.evaluate.estimate import key
from pipelines.evaluate.impact import impact
from tests import apptest
from tests.conftest import drop, query, run

AS_OF = "2025-06-30"
JUSTICE_V2 = "participant_id,event_date,event_type,level,release_date"
COMPARISON = "comparison_id,index_date,index_offense,birth_year,gender,race_ethnicity,not_referred_reason"
COMPARISON_JUSTICE_V2 = "comparison_id,event_date,event_type,level,release_date"
COMPARISON_JUSTICE_V1 = "comparison_id,event_date,event_type,level"
# Index dates by the months each group is followed (0: not even 6), and how many people of each
# group every site sends: (participants, comparison people).
FOLLOWED = {24: "2023-03-15", 12: "2023-10-15", 6: "2024-10-15", 0: "2025-03-15"}
PEOPLE = {
    "east": {24: (14, 20), 12: (12, 18), 6: (10, 15), 0: (4, 7)},
    "west": {24: (6, 10), 12: (5, 8), 6: (5, 7), 0: (4, 5)},
    "solo": {24: (8, 0), 12: (8, 0), 6: (8, 0), 0: (0, 0)},
}
# The hand-made comparison people (module docstring), by the months they are followed.
SPECIAL = {"CX1": 6, "CX2": 6, "CB1": 6, "CB2": 0, "CW1": 6}


def events(rng: np.random.Generator, pid: str, index: date, with_release: bool) -> list[str]:
    """Random arrests before and after the index date, some booked (and released) or charged."""
    as_of = date.fromisoformat(AS_OF)
    rows: dict[tuple[date, str], str] = {}
    offsets = [*rng.integers(-700, 0, rng.integers(0, 4)), *rng.integers(1, 700, rng.integers(0, 3))]
    if rng.random() < 0.5:
        offsets.append(0)
    for offset in offsets:
        day = index + timedelta(days=int(offset))
        if day > as_of:
            continue
        level = str(rng.choice(["felony", "misdemeanor", "warrant"]))
        rows[(day, "arrest")] = f"{pid},{day},arrest,{level}" + ("," if with_release else "")
        if rng.random() < 0.5:
            released = min(day + timedelta(days=int(rng.integers(0, 20))), as_of)
            rows[(day, "booking")] = f"{pid},{day},booking,{level}" + (f",{released}" if with_release else "")
        if level == "felony" and rng.random() < 0.5:
            rows[(day, "charge")] = f"{pid},{day},charge,felony" + ("," if with_release else "")
    return list(rows.values())


def person(rng: np.random.Generator) -> tuple[int, str, str]:
    race = str(rng.choice(["black", "white", "hispanic_latino", "black;white"]))
    return int(rng.integers(1960, 2000)), str(rng.choice(["man", "woman"])), race


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("impact") / "home")
    rng = np.random.default_rng(14)
    for site, groups in PEOPLE.items():
        participants, justice, comparison, comparison_justice = [], [], [], []
        for months, (n_lead, n_comparison) in groups.items():
            index = date.fromisoformat(FOLLOWED[months])
            for i in range(n_lead):
                pid = f"P{months}x{i}"
                born, gender, race = person(rng)
                door = rng.choice(["arrest_diversion", "social_contact"])
                participants.append(f"{pid},CM1,{index},{door},drug_possession,,,,{born},{gender},{race}")
                justice += events(rng, pid, index, with_release=True)
            for i in range(n_comparison):
                cid = f"C{months}x{i}"
                born, gender, race = person(rng)
                comparison.append(f"{cid},{index},drug_possession,{born},{gender},{race},not_eligible_shift")
                comparison_justice += events(rng, cid, index, with_release=site == "east")
        if site == "east":
            comparison += [
                f"{cid},{day},,1980,man,black,outside_area"
                for cid, day in (
                    ("CX1", "2024-10-15"),
                    ("CX2", "2024-10-15"),
                    ("CB1", "2024-12-31"),
                    ("CB2", "2025-01-01"),
                )
            ]
            comparison_justice += [
                "CX1,2024-10-15,arrest,misdemeanor,",
                "CX1,2024-10-15,booking,misdemeanor,2024-10-17",
                "CX1,2024-10-17,booking,warrant,2024-10-20",
                "CX1,2025-01-10,arrest,felony,",
                "CX2,2025-06-01,booking,misdemeanor,",
            ]
        if site == "west":
            comparison.append("CW1,2024-10-15,,1980,man,black,outside_area")
            comparison_justice.append("CW1,2024-11-01,booking,misdemeanor")
        drop(home, site, "participants", participants)
        drop(home, site, "justice", justice, header=JUSTICE_V2)
        if comparison:
            drop(home, site, "comparison", comparison, header=COMPARISON)
            header = COMPARISON_JUSTICE_V2 if site == "east" else COMPARISON_JUSTICE_V1
            drop(home, site, "comparison_justice", comparison_justice, header=header)
    result = run(home, AS_OF)
    assert result.published, result.error
    assert result.totals()["rows_quarantined"] == 0
    return home


def expected_followed(months: int) -> tuple[int, int]:
    """(participants, comparison people) of east and west followed `months` months."""
    lead = sum(n for site in ("east", "west") for m, (n, _) in PEOPLE[site].items() if m >= months)
    comparison = sum(n for site in ("east", "west") for m, (_, n) in PEOPLE[site].items() if m >= months)
    return lead, comparison + sum(1 for m in SPECIAL.values() if m >= months)


def test_comparison_custody_spells_share_the_participants_definition(release: Home) -> None:
    spells = query(
        release,
        "select site_id, comparison_id, start_date, end_date, days from comparison_custody_spells "
        "where comparison_id in ('CX1', 'CX2', 'CW1') order by comparison_id",
    )
    assert spells == [
        ("east", "CX1", date(2024, 10, 15), date(2024, 10, 20), 6),  # touching bookings: one spell
        ("east", "CX2", date(2025, 6, 1), date(2025, 6, 30), 30),  # no release date: to the as-of date
    ]
    # West's comparison_justice has no release_date column: none of its bookings is a spell.
    assert query(release, "select count(*) from comparison_custody_spells where site_id = 'west'") == [(0,)]
    # The participants' spells are untouched by the comparison group's.
    assert query(release, "select count(*) from custody_spells where participant_id like 'C%'") == [(0,)]


def test_sites_used_and_left_out(release: Home) -> None:
    with apptest.release_connection(release) as con:
        sites = impact_sites(con)
    assert sites.used == ("east", "west")
    assert [site for site, _ in sites.left_out] == ["solo"]
    assert "comparison group" in sites.left_out[0][1]
    assert sites.comparison_custody_reported == ("east",)
    assert sites.custody_reported == ("east", "west")


@pytest.fixture(scope="module")
def people(release: Home) -> pl.DataFrame:
    with apptest.release_connection(release) as con:
        return load_people(con, date.fromisoformat(AS_OF), ("east", "west"), (6, 12, 24))


def row(people: pl.DataFrame, pid: str) -> dict:
    (found,) = people.filter(pl.col("person_id") == pid).rows(named=True)
    return found


def test_people_and_their_windows(people: pl.DataFrame) -> None:
    assert set(people.filter(pl.col("treated"))["site_id"]) == {"east", "west"}  # not solo
    cx1 = row(people, "CX1")
    assert not cx1["treated"] and cx1["index_arrest"] and cx1["door"] == "arrest_diversion"
    assert (cx1["followed_days"], cx1["arrest_seen"]) == (87, True)
    assert (cx1[key("custody_days", 0, 6)], cx1[key("days_at_risk", 0, 6)]) == (5, 177)
    # The arrest and booking of the index date are in no window; the booking of 17 October is.
    assert (cx1[key("arrests", 0, 6)], cx1[key("bookings", 0, 6)]) == (1, 1)
    cx2 = row(people, "CX2")
    assert not cx2["index_arrest"] and cx2["door"] == "social_contact" and not cx2["arrest_seen"]
    # Never arrested: followed from 2024-10-15 to the as-of date.
    assert cx2["followed_days"] == (date(2025, 6, 30) - date(2024, 10, 15)).days
    assert row(people, "CX1")["race"] == "black"
    assert row(people, "CB1")[key("complete", 0, 6)] and not row(people, "CB1")[key("complete", 0, 12)]
    assert not row(people, "CB2")[key("complete", 0, 6)]
    # Several races: one group of its own.
    races = set(people["race"])
    assert "more_than_one" in races and "white" in races


def test_index_type_uses_the_same_rule_for_both_groups(people: pl.DataFrame, release: Home) -> None:
    on_index = {
        (treated, pid)
        for treated, pid in query(
            release,
            "select true, j.participant_id from justice as j "
            "join participants as p using (site_id, participant_id) "
            "where j.event_type = 'arrest' and j.event_date = p.referral_date and j.site_id <> 'solo' "
            "union all "
            "select false, j.comparison_id from comparison_justice as j join comparison as c "
            "using (site_id, comparison_id) where j.event_type = 'arrest' and j.event_date = c.index_date",
        )
    }
    flagged = {(r["treated"], r["person_id"]) for r in people.filter(pl.col("index_arrest")).rows(named=True)}
    assert flagged == on_index and any(t for t, _ in flagged) and any(not t for t, _ in flagged)


def evaluate(home: Home, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home.root), "evaluate", *args])
    out, err = capsys.readouterr()
    return code, out, err


REQUIRED = {
    "any_arrest_odds_ratio",
    "new_offense_arrest_odds_ratio",
    "any_booking_odds_ratio",
    "arrest_rate_ratio",
    "n_lead",
    "n_comparison",
    "balance",
}


def test_json_carries_the_impact_per_window(release: Home, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = evaluate(release, capsys, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert {"comparisons", "baseline", "sites", "method"} <= set(report)  # the before/after output stays
    result = report["impact"]
    assert list(result) == ["6", "12", "24"]
    for months, window in result.items():
        assert REQUIRED <= set(window)
        assert (window["n_lead"], window["n_comparison"]) == expected_followed(int(months))
        for name in REQUIRED - {"n_lead", "n_comparison", "balance"}:
            assert set(window[name]) == {"estimate", "ci_low", "ci_high"}
        assert window["balance"], months
        for entry in window["balance"]:
            assert {"covariate", "smd_unweighted", "smd_weighted"} <= set(entry)
            assert "_" not in entry["covariate"] and entry["covariate"][0].isupper()
        labels = {entry["covariate"] for entry in window["balance"]}
        assert {"Arrests in the 12 months before", "Days in jail in the 24 months before"} <= labels
    six = result["6"]
    assert six["problem"] is None
    odds = six["any_arrest_odds_ratio"]
    assert odds["estimate"] > 0 and odds["ci_low"] <= odds["estimate"] <= odds["ci_high"]
    assert six["trimming"]["raised"] + six["trimming"]["lowered"] >= 1
    assert six["costs"] is None  # no costs.toml
    assert json.loads(evaluate(release, capsys, "--json")[1]) == report  # the same every time


def test_summary_has_an_impact_section(release: Home, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = evaluate(release, capsys)
    assert code == 0
    assert "Impact: participants against comparable people" in out
    assert "left out: solo" in out
    assert "6 months after the index date: " in out and "any arrest: participants" in out
    assert "_" not in out.split("Impact:")[1]  # plain words, no codes


def test_impact_is_null_without_comparison_tables(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    home = Home(tmp_path / "home")
    drop(home, "s", "participants", ["P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"])
    drop(home, "s", "justice", ["P1,2024-02-01,arrest,misdemeanor"])
    assert run(home, AS_OF).published
    with apptest.release_connection(home) as con:
        assert impact(con, date.fromisoformat(AS_OF)) is None
    code, out, _ = evaluate(home, capsys, "--json")
    assert code == 0 and json.loads(out)["impact"] is None
    assert "Impact against a comparison group: none yet" in evaluate(home, capsys)[1]


COSTS = """
illustrative = true
currency = "USD"
per_booking = 450.0
per_jail_day = 150.0
per_felony_charge = 5000.0
program_per_participant_month = 900.0
"""


def test_costs_from_the_home(release: Home, capsys: pytest.CaptureFixture[str]) -> None:
    path = costs_file(release)
    path.write_text(COSTS, encoding="utf-8")
    try:
        code, out, err = evaluate(release, capsys, "--json")
        summary = evaluate(release, capsys)[1]
    finally:
        path.unlink()
    assert code == 0, err
    costs = json.loads(out)["impact"]["12"]["costs"]
    assert costs["currency"] == "USD" and costs["illustrative"] is True
    assert costs["program_per_participant_year"] == 12 * 900.0
    assert costs["lead"] > 0 and costs["comparison"] > 0
    difference = costs["difference"]
    assert difference["estimate"] == pytest.approx(costs["lead"] - costs["comparison"], abs=1e-3)
    assert difference["ci_low"] <= difference["estimate"] <= difference["ci_high"]
    assert "illustrative unit costs" in summary and "per participant-year" in summary


GOOD = {
    "per_booking": "1",
    "per_jail_day": "1",
    "per_felony_charge": "1",
    "program_per_participant_month": "1",
}


def costs_text(**values: str | None) -> str:
    """GOOD's costs with some values replaced (None leaves the key out)."""
    chosen = GOOD | values
    return "\n".join(f"{k} = {v}" for k, v in chosen.items() if v is not None)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (costs_text(per_booking="'a lot'"), "per_booking"),
        (costs_text(per_jail_day="-5"), "per_jail_day"),
        (costs_text(program_per_participant_month=None), "program_per_participant_month"),
        (costs_text(illustrative="'yes'"), "illustrative"),
        ("per_bookng = 1", "per_bookng"),
        ("per_booking = [", "not valid TOML"),
    ],
)
def test_a_bad_costs_file_is_named(
    home: Home, capsys: pytest.CaptureFixture[str], text: str, named: str
) -> None:
    home.root.mkdir(parents=True)
    costs_file(home).write_text(text, encoding="utf-8")
    code, out, err = evaluate(home, capsys, "--json")
    assert code == 2 and out == ""
    assert "costs.toml" in err and named in err
