"""The release the evaluation tests work by hand (tests/evaluate): `release`, built once.

A release as of 2025-06-30. Every participant below was referred on 2024-01-10, so:

    6 months before:  2023-07-10 .. 2024-01-09   184 days
    6 months after:   2024-01-11 .. 2024-07-10   182 days
    12 months after:  2024-01-11 .. 2025-01-10   366 days (2024 is a leap year)

Site `jail` sends justice records with release dates (contract v2); site `old` sends them
without (v1: its bookings say nothing of custody); site `none` sends no justice records.

| who | what happened | 6 months after: alive, custody, at risk |
|-----|---------------|------------------------------------------|
| J   | booked 2024-01-20, released 2024-06-30 (163 days); arrested 2024-01-20 and 2024-07-05 | 182, 163, 19 |
| D   | died 2024-03-01 (exit deceased); arrested 2024-02-15 | 50 (11 Jan to 29 Feb), 0, 50 |
| R   | arrested and booked on the referral date, released 2024-01-12; arrested 2023-12-01 | 182, 2, 180 |
| I   | booked 2024-03-28, released 2024-04-15; exit incarcerated 2024-04-01 (in that spell) | 182, 19, 163 |
| I2  | exit incarcerated 2024-05-01, no booking: away through the as-of date | 182, 0, 111 |
| V   | (site old) booked 2024-02-01 with no release date known; arrested 2024-02-01 | 182, 0, 182 |
| N   | referred 2025-01-15: 6 months after end 2025-07-15, after the as-of date | not compared |
"""

from __future__ import annotations

import pytest

from pipelines.core.settings import Home
from tests.conftest import drop, run

AS_OF = "2025-06-30"
JUSTICE_V2 = "participant_id,event_date,event_type,level,release_date"
REFERRED = "2024-01-10"


def person(pid: str, referred: str = REFERRED, exit_date: str = "", exit_reason: str = "") -> str:
    return f"{pid},CM1,{referred},social_contact,,,{exit_date},{exit_reason},1980,man,black"


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("windows") / "home")
    drop(
        home,
        "jail",
        "participants",
        [
            person("J"),
            person("D", exit_date="2024-03-01", exit_reason="deceased"),
            person("R"),
            person("I", exit_date="2024-04-01", exit_reason="incarcerated"),
            person("I2", exit_date="2024-05-01", exit_reason="incarcerated"),
            person("N", referred="2025-01-15"),
        ],
    )
    drop(
        home,
        "jail",
        "justice",
        [
            "J,2024-01-20,booking,misdemeanor,2024-06-30",
            "J,2024-01-20,arrest,misdemeanor,",
            "J,2024-07-05,arrest,felony,",
            "D,2024-02-15,arrest,warrant,",
            "R,2023-12-01,arrest,misdemeanor,",
            "R,2024-01-10,arrest,felony,",
            "R,2024-01-10,booking,felony,2024-01-12",
            "R,2024-01-10,charge,felony,",
            "I,2024-03-28,booking,felony,2024-04-15",
        ],
        header=JUSTICE_V2,
    )
    drop(home, "old", "participants", [person("V")])
    drop(home, "old", "justice", ["V,2024-02-01,booking,misdemeanor", "V,2024-02-01,arrest,misdemeanor"])
    drop(home, "none", "participants", [person("Q")])
    result = run(home, AS_OF)
    assert result.published, result.error
    assert result.totals()["rows_quarantined"] == 0
    return home
