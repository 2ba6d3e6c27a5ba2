"""Time in custody (DESIGN s.9): bookings become spells of calendar days, counted once each."""

from __future__ import annotations

from datetime import date

from tests.conftest import drop, query, run

AS_OF = "2024-06-15"
JUSTICE_V2 = "participant_id,event_date,event_type,level,release_date"
PERSON = "{id},CM1,2024-01-10,social_contact,,,,,1990,man,black"


def spells(home) -> list[tuple]:
    return query(
        home,
        "select site_id, participant_id, start_date, end_date, days from custody_spells "
        "order by site_id, participant_id, start_date",
    )


def test_bookings_merge_into_spells_of_whole_days(home):
    drop(home, "s", "participants", [PERSON.format(id=p) for p in ("A", "B", "C", "D")])
    drop(
        home,
        "s",
        "justice",
        [
            "A,2024-02-01,booking,misdemeanor,2024-02-01",  # released the same day: one day
            "A,2024-02-01,arrest,misdemeanor,",
            "B,2024-03-01,booking,felony,2024-03-10",  # overlapping: 1 to 12 March, 12 days
            "B,2024-03-05,booking,warrant,2024-03-12",
            "B,2024-04-01,booking,misdemeanor,2024-04-02",  # touching: 1 to 3 April, 3 days
            "B,2024-04-03,booking,misdemeanor,2024-04-03",
            "C,2024-06-10,booking,felony,",  # still in custody: through the as-of date, 6 days
            "D,2024-05-01,charge,felony,",  # a charge is no custody
        ],
        header=JUSTICE_V2,
    )
    assert run(home, AS_OF).published
    assert spells(home) == [
        ("s", "A", date(2024, 2, 1), date(2024, 2, 1), 1),
        ("s", "B", date(2024, 3, 1), date(2024, 3, 12), 12),
        ("s", "B", date(2024, 4, 1), date(2024, 4, 3), 3),
        ("s", "C", date(2024, 6, 10), date(2024, 6, 15), 6),
    ]


def test_a_v1_justice_export_reports_no_custody(home):
    """Without the release_date column a site says nothing of custody: its bookings are not
    taken as still running, while a v2 site's blank release is."""
    for site in ("old", "new"):
        drop(home, site, "participants", [PERSON.format(id="A")])
    drop(home, "old", "justice", ["A,2024-06-10,booking,felony"])
    drop(home, "new", "justice", ["A,2024-06-10,booking,felony,"], header=JUSTICE_V2)
    assert run(home, AS_OF).published
    assert spells(home) == [("new", "A", date(2024, 6, 10), date(2024, 6, 15), 6)]
    assert query(
        home,
        "select site_id, column_name from export_columns where table_name = 'justice' "
        "and column_name = 'release_date'",
    ) == [("new", "release_date")]
