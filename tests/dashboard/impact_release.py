"""A release with a comparison group and a planted program effect, for the Impact page's tests.

As of 2025-06-30. Sites `east` and `west` send participants, their justice records, a comparison
group and its justice records (release dates included); site `solo` sends participants and justice
records only, so the impact evaluation leaves it out.

Each site draws POOL people eligible for LEAD. Per person (the data-generating process):

- x = arrests in the 24 months before the index date ~ Poisson(1.5), written as arrests on random
  days before the index date;
- selection on x: P(participant) = expit(-1.2 + 0.6 x): participants had more prior arrests;
- arrests after the index date ~ Poisson(lam x years), lam = 0.35 exp(0.35 x) a year, times EFFECT
  for a participant (the planted effect: fewer arrests after referral);
- half of all arrests booked (released 0 to 10 days later), half of felony arrests charged; half the
  people arrested on the index date itself.

Index dates are spread from 2023-07-01 to 2024-12-31 (everyone followed 6 months, about two thirds
12 months), and FEW people of each group per site have an index date of 2023-03-01: the only ones
followed 24 months, too few for the 24-month window to be estimated. A few Asian people per site:
a race too small for a subgroup estimate. COSTS is an illustrative costs.toml.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from pipelines.core.settings import Home
from pipelines.evaluate.costs import costs_file
from tests.conftest import drop, run

AS_OF = "2025-06-30"
EFFECT = 0.4
POOL = 650
FEW = 4
SITES = ("east", "west")
JUSTICE = "participant_id,event_date,event_type,level,release_date"
COMPARISON = "comparison_id,index_date,index_offense,birth_year,gender,race_ethnicity,not_referred_reason"
COMPARISON_JUSTICE = "comparison_id,event_date,event_type,level,release_date"
COSTS = """illustrative = true
currency = "USD"
per_booking = 450.0
per_jail_day = 150.0
per_felony_charge = 5000.0
program_per_participant_month = 900.0
"""
RACES = ("black", "white", "hispanic_latino", "black;white", "asian")
RACE_SHARES = (0.42, 0.38, 0.14, 0.04, 0.02)


def arrests(rng: np.random.Generator, pid: str, days: list[int], index: date, as_of: date) -> list[str]:
    """An arrest on each day (offset from the index date), some booked or charged; none after as-of."""
    rows: dict[tuple[date, str], str] = {}
    for offset in days:
        day = index + timedelta(days=int(offset))
        if day > as_of:
            continue
        level = str(rng.choice(["felony", "misdemeanor", "warrant"], p=[0.3, 0.5, 0.2]))
        rows[(day, "arrest")] = f"{pid},{day},arrest,{level},"
        if rng.random() < 0.5:
            released = min(day + timedelta(days=int(rng.integers(0, 11))), as_of)
            rows[(day, "booking")] = f"{pid},{day},booking,{level},{released}"
        if level == "felony" and rng.random() < 0.5:
            rows[(day, "charge")] = f"{pid},{day},charge,felony,"
    return list(rows.values())


def person_events(rng: np.random.Generator, pid: str, index: date, x: int, rate: float) -> list[str]:
    """A person's arrests: x in the 24 months before, maybe one on the index date, and after it."""
    as_of = date.fromisoformat(AS_OF)
    before = [int(d) for d in rng.integers(-730, 0, x)]
    on_index = [0] if rng.random() < 0.5 else []
    followed = (as_of - index).days
    after = sorted({int(d) for d in rng.integers(1, followed + 1, rng.poisson(rate * followed / 365.25))})
    return arrests(rng, pid, [*before, *on_index, *after], index, as_of)


def site_exports(rng: np.random.Generator, home: Home, site: str) -> None:
    """One site's participants, comparison group and their justice records (module docstring)."""
    participants, justice, comparison, comparison_justice = [], [], [], []
    start, span = date(2023, 7, 1), (date(2024, 12, 31) - date(2023, 7, 1)).days
    x = rng.poisson(1.5, POOL)
    treated = rng.random(POOL) < 1 / (1 + np.exp(-(-1.2 + 0.6 * x)))
    early = {int(i) for i in np.flatnonzero(treated)[:FEW]} | {int(i) for i in np.flatnonzero(~treated)[:FEW]}
    for i in range(POOL):
        index = date(2023, 3, 1) if i in early else start + timedelta(days=int(rng.integers(0, span + 1)))
        born, gender = int(rng.integers(1960, 2001)), str(rng.choice(["man", "woman"]))
        race = str(rng.choice(RACES, p=RACE_SHARES))
        offense = str(rng.choice(["drug_possession", "drug_sales", "sex_work"]))
        rate = 0.35 * np.exp(0.35 * x[i]) * (EFFECT if treated[i] else 1.0)
        if treated[i]:
            pid = f"{site[0].upper()}P{i}"
            door = str(rng.choice(["arrest_diversion", "social_contact"]))
            participants.append(f"{pid},CM1,{index},{door},{offense},,,,{born},{gender},{race}")
            justice += person_events(rng, pid, index, int(x[i]), rate)
        else:
            cid = f"{site[0].upper()}C{i}"
            comparison.append(f"{cid},{index},{offense},{born},{gender},{race},not_eligible_shift")
            comparison_justice += person_events(rng, cid, index, int(x[i]), rate)
    drop(home, site, "participants", participants)
    drop(home, site, "justice", justice, header=JUSTICE)
    drop(home, site, "comparison", comparison, header=COMPARISON)
    drop(home, site, "comparison_justice", comparison_justice, header=COMPARISON_JUSTICE)


def publish(root: Path, seed: int = 14) -> Home:
    """Write the exports, run the nightly and write the illustrative costs.toml; the published home."""
    home = Home(root)
    rng = np.random.default_rng(seed)
    for site in SITES:
        site_exports(rng, home, site)
    drop(
        home,
        "solo",
        "participants",
        [f"S{i},CM1,2024-01-10,social_contact,,,,,1980,man,black" for i in range(20)],
    )
    drop(home, "solo", "justice", ["S1,2024-03-01,arrest,misdemeanor,"], header=JUSTICE)
    result = run(home, AS_OF)
    assert result.published, result.error
    assert result.totals()["rows_quarantined"] == 0
    costs_file(home).write_text(COSTS, encoding="utf-8")
    return home
