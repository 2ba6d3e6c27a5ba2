"""The justice measures of metric_values (DESIGN s.9), every number worked out by hand.

As of 2024-06-15. Site s sends contract v2 (release_date); site old sends v1 (no such column).
Everyone was referred on 2024-01-10; s:E exited on 2024-04-10. Active: 6 in January to April
(s:A-E, old:A), 5 in May and June.

- s:A booked 28 March, released 3 April: 4 days in March (28-31), 3 in April. A felony charge
  in February; a felony arrest on 28 March.
- s:B booked 10 February (released 14th) and 12 February (released 20th): one spell, 10 to 20
  February, 11 days (not 5 + 9). A misdemeanor charge in February; a warrant arrest in March.
- s:C booked 10 June, not released: 10 to 15 June, 6 days. A misdemeanor arrest on 10 June.
- s:D booked 30 May, not released: 2 days in May, 15 in June (to the as-of date, not the
  month's end). An arrest of unknown level in May.
- s:E booked 2 May, released 3 May: after E's exit, in no active month.
- old:A booked 10 May, in a v1 export: booked, but no custody days (its site reports none).
"""

from __future__ import annotations

import pytest

from tests.conftest import drop, query, run

AS_OF = "2024-06-15"
PERSON = "{id},CM1,2024-01-10,social_contact,,,{exit},,1990,man,black"
JUSTICE_V2 = "participant_id,event_date,event_type,level,release_date"
MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    from pipelines.core.settings import Home

    home = Home(tmp_path_factory.mktemp("justice") / "home")
    drop(
        home,
        "s",
        "participants",
        [PERSON.format(id=p, exit="") for p in "ABCD"] + [PERSON.format(id="E", exit="2024-04-10")],
    )
    drop(
        home,
        "s",
        "justice",
        [
            "A,2024-02-05,charge,felony,",
            "A,2024-03-28,arrest,felony,",
            "A,2024-03-28,booking,felony,2024-04-03",
            "B,2024-02-06,charge,misdemeanor,",
            "B,2024-02-10,booking,misdemeanor,2024-02-14",
            "B,2024-02-12,booking,misdemeanor,2024-02-20",
            "B,2024-03-15,arrest,warrant,",
            "C,2024-06-10,arrest,misdemeanor,",
            "C,2024-06-10,booking,misdemeanor,",
            "D,2024-05-30,arrest,unknown,",
            "D,2024-05-30,booking,felony,",
            "E,2024-05-02,booking,misdemeanor,2024-05-03",
        ],
        header=JUSTICE_V2,
    )
    drop(home, "old", "participants", [PERSON.format(id="A", exit="")])
    drop(home, "old", "justice", ["A,2024-05-10,booking,felony"])
    result = run(home, AS_OF)
    assert result.published, result.error
    assert result.totals()["rows_quarantined"] == 0
    return home


def series(home, metric, dimension="all", grp="all") -> dict[str, tuple[int, int, float]]:
    rows = query(
        home,
        "select strftime(month, '%Y-%m'), numerator, denominator, value from metric_values "
        "where metric = ? and dimension = ? and grp = ? order by month",
        [metric, dimension, grp],
    )
    return {m: (n, d, v) for m, n, d, v in rows}


def counts(home, metric, dimension="all", grp="all") -> dict[str, tuple[int, int]]:
    return {m: (n, d) for m, (n, d, _) in series(home, metric, dimension, grp).items()}


ACTIVE = dict(zip(MONTHS, (6, 6, 6, 6, 5, 5), strict=True))


def with_active(numerators: tuple[int, ...]) -> dict[str, tuple[int, int]]:
    return {m: (n, ACTIVE[m]) for m, n in zip(MONTHS, numerators, strict=True)}


def test_custody_days_split_by_month_merged_and_cut_at_the_as_of_date(release):
    # Feb: B's two overlapping bookings, 11 days. Mar/Apr: A's stay split 4 + 3. May: D's 2
    # (E's stay is after E's exit). Jun: C's 6 and D's 15, both up to 15 June.
    assert counts(release, "jail_days") == with_active((0, 11, 4, 3, 2, 21))


def test_jail_days_value_is_days_per_active_participant(release):
    values = {m: v for m, (_, _, v) in series(release, "jail_days").items()}
    assert values == pytest.approx({"2024-01": 0, "2024-02": 11 / 6, "2024-03": 4 / 6,
                                    "2024-04": 3 / 6, "2024-05": 2 / 5, "2024-06": 21 / 5})  # fmt: skip


def test_booked_counts_people_with_a_booking_dated_in_the_month(release):
    # Feb: B (two bookings, one person). Mar: A (not April: A's booking is dated in March).
    # May: D and old:A, whose v1 export still reports the booking. Jun: C.
    assert counts(release, "booked") == with_active((0, 1, 1, 0, 2, 1))


def test_a_site_without_release_dates_has_bookings_but_no_custody_days(release):
    assert counts(release, "booked", "site", "old") == {m: (int(m == "2024-05"), 1) for m in MONTHS}
    assert counts(release, "jail_days", "site", "old") == {m: (0, 1) for m in MONTHS}
    assert counts(release, "jail_days", "site", "s")["2024-06"] == (21, 4)


def test_a_felony_charge_counts_and_a_misdemeanor_charge_does_not(release):
    assert counts(release, "felony_charged") == with_active((0, 1, 0, 0, 0, 0))


def test_a_warrant_arrest_is_an_arrest_but_not_a_new_offense(release):
    # Mar: A (felony) and B (warrant). May: D (unknown level). Jun: C (misdemeanor).
    assert counts(release, "arrested") == with_active((0, 0, 2, 0, 1, 1))
    assert counts(release, "new_offense_arrest") == with_active((0, 0, 1, 0, 0, 1))


def test_justice_measures_break_down_like_every_metric(release):
    dimensions = query(
        release,
        "select distinct dimension from metric_values where metric = 'jail_days' order by all",
    )
    assert [d for (d,) in dimensions] == sorted(
        ["all", "cohort", "referral_type", "site", "race", "gender", "age_band", "case_manager"]
    )
    # The site rows add up to the program's, days as well as people.
    for metric in ("jail_days", "booked", "felony_charged", "new_offense_arrest"):
        [(mismatched,)] = query(
            release,
            "select count(*) from (select month, sum(numerator) as n, sum(denominator) as d "
            "from metric_values where metric = ? and dimension = 'site' group by month) as s "
            "join metric_values as a on a.month = s.month and a.metric = ? and a.dimension = 'all' "
            "where a.numerator <> s.n or a.denominator <> s.d",
            [metric, metric],
        )
        assert mismatched == 0, metric


def test_the_release_names_its_metric_definitions_v2(release):
    assert query(release, "select metrics_version from release") == [("v2",)]
    assert query(
        release,
        "select metric, kind from metric_definitions where metric in ('jail_days', 'booked') order by all",
    ) == [("booked", "share"), ("jail_days", "days per participant")]
