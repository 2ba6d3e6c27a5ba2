"""The comparison group's exports (contract v2): validated, quarantined and loaded like every
other table, in a namespace of their own."""

from __future__ import annotations

from datetime import date

from tests.conftest import drop, query, run

AS_OF = "2024-06-15"
COMPARISON = "comparison_id,index_date,index_offense,birth_year,gender,race_ethnicity,not_referred_reason"
COMPARISON_JUSTICE = "comparison_id,event_date,event_type,level,release_date"
PARTICIPANT = "P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"


def test_comparison_tables_load_beside_the_participants(home):
    drop(home, "s", "participants", [PARTICIPANT])
    drop(
        home,
        "s",
        "comparison",
        [
            "C1,2024-01-05,drug_possession,1985,woman,white,not_eligible_shift",
            "C2,2023-11-30,,1970,man,black;hispanic_latino,unknown",
        ],
        header=COMPARISON,
    )
    drop(
        home,
        "s",
        "comparison_justice",
        ["C1,2024-02-01,arrest,misdemeanor,", "C1,2024-02-01,booking,misdemeanor,2024-02-03"],
        header=COMPARISON_JUSTICE,
    )
    result = run(home, AS_OF)
    assert result.published, result.error
    assert query(home, "select site_id, comparison_id, index_date from comparison order by 2") == [
        ("s", "C1", date(2024, 1, 5)),
        ("s", "C2", date(2023, 11, 30)),
    ]
    assert query(home, "select count(*) from comparison_justice") == [(2,)]
    assert query(home, "select count(*) from quarantine") == [(0,)]
    # The participants' own tables are untouched by the comparison group.
    assert query(home, "select count(*) from justice") == [(0,)]


def test_comparison_rows_break_rules_with_their_own_words(home):
    drop(home, "s", "participants", [PARTICIPANT])
    drop(
        home,
        "s",
        "comparison",
        [
            "C1,2024-01-05,drug_possession,1985,woman,white,not_eligible_shift",
            "C 2,2024-01-05,,1985,woman,white,declined",  # format
            "C3,2024-07-01,,1985,woman,white,declined",  # after as-of
            "C4,2024-01-05,,2010,woman,white,declined",  # age at index 14
            "C5,2024-01-05,,1985,woman,white,moved_away",  # not a reason
        ],
        header=COMPARISON,
    )
    drop(
        home,
        "s",
        "comparison_justice",
        [
            "C1,2024-02-01,arrest,misdemeanor,",
            "P1,2024-02-01,arrest,misdemeanor,",  # a participant's ID is not a comparison person
            "C3,2024-02-01,arrest,felony,",  # its person is quarantined
            "C1,2024-02-02,arrest,felony,2024-02-03",  # release on an arrest
        ],
        header=COMPARISON_JUSTICE,
    )
    result = run(home, AS_OF)
    assert result.published, result.error
    # No case manager is shown a comparison person's problem, even one whose ID (P1) is a
    # participant's: the participant's case manager must not see it.
    assert query(
        home,
        "select count(*) from problems where table_name like 'comparison%' and len(case_manager_ids) > 0",
    ) == [(0,)]
    rows = query(
        home,
        "select table_name, row_number, column_name, rule, participant_id from quarantine "
        "order by table_name, row_number, column_name",
    )
    assert rows == [
        ("comparison", 3, "comparison_id", "format", None),
        ("comparison", 4, "index_date", "after_as_of", None),
        ("comparison", 5, "birth_year", "age_at_index", None),
        ("comparison", 6, "not_referred_reason", "allowed_values", None),
        ("comparison_justice", 3, "comparison_id", "unknown_comparison", None),
        ("comparison_justice", 4, "comparison_id", "comparison_quarantined", None),
        ("comparison_justice", 5, "release_date", "release_not_booking", None),
    ]
    assert query(home, "select comparison_id from comparison") == [("C1",)]
    assert query(home, "select comparison_id, event_date from comparison_justice") == [
        ("C1", date(2024, 2, 1))
    ]


def test_data_quality_lists_the_comparison_tables_of_the_sites_that_send_them(home):
    import duckdb

    from dashboard.queries import data_quality
    from pipelines.core.scope import Scope

    for site in ("a", "b"):
        drop(home, site, "participants", [PARTICIPANT])
    drop(home, "a", "comparison", ["C1,2024-01-05,,1985,woman,white,declined"], header=COMPARISON)
    assert run(home, AS_OF).published
    con = duckdb.connect(str(home.current), read_only=True)
    try:
        fresh = data_quality.freshness(con, Scope(), date(2024, 6, 15))
    finally:
        con.close()
    listed = {(s, t) for s, t in fresh.select("site_id", "table_name").iter_rows()}
    assert ("a", "comparison") in listed and ("a", "comparison_justice") in listed
    assert not {t for s, t in listed if s == "b"} & {"comparison", "comparison_justice"}


def test_a_comparison_export_with_direct_identifiers_is_refused_and_not_archived(home):
    drop(home, "s", "participants", [PARTICIPANT])
    drop(
        home,
        "s",
        "comparison",
        ["C1,2024-01-05,,1985,woman,white,declined,1985-03-02"],
        header=COMPARISON + ",date_of_birth",
    )
    result = run(home, AS_OF)
    assert result.published, result.error
    [refused] = [f for f in result.files if f.table == "comparison"]
    assert refused.status == "refused" and "direct identifiers" in refused.error
    assert not list(home.archive.rglob("*comparison*"))
    assert query(home, "select count(*) from comparison") == [(0,)]
