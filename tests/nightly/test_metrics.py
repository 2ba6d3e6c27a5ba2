"""metric_values on a small dataset whose every number was worked out by hand (DESIGN s.5).

Site a: P1 (referred 2024-01-10), P2 (2024-02-20, exited 2024-04-05), P4 (2023-06-01).
Site b: P1 (2024-03-01): the same ID as a:P1, another person. As of 2024-06-15.
"""

from __future__ import annotations

import pytest

from tests.conftest import drop, query, run


@pytest.fixture
def release(home):
    drop(
        home,
        "a",
        "participants",
        [
            "P1,CM1,2024-01-10,social_contact,drug_possession,2024-01-12,,,1990,man,black",
            "P2,CM1,2024-02-20,arrest_diversion,sex_work,,2024-04-05,moved,1960,woman,white;black",
            "P4,CM2,2023-06-01,arrest_diversion,,,,,1980,man,unknown",
        ],
    )
    drop(home, "b", "participants", ["P1,CM9,2024-03-01,community,,,,,2000,man,white"])
    drop(
        home,
        "a",
        "housing",
        [
            "P1,2023-12-20,unsheltered",
            "P1,2024-03-15,435",  # HMIS 435 = rental_with_subsidy: permanent
            "P2,2024-02-25,emergency_shelter",
            "P4,2023-06-01,422",  # permanent_with_family; 182 days later is 2023-11-30
        ],
    )
    drop(home, "a", "treatment", ["P1,E1,outpatient,2023-11-01,2024-02-10,completed"])
    drop(home, "b", "treatment", ["P1,E1,moud,2024-05-20,,"])
    drop(
        home,
        "a",
        "employment",
        [
            "P1,2024-01-15,part_time,yes",
            "P1,2024-04-10,unknown,unknown",
            "P2,2024-02-25,unemployed_seeking,no",
        ],
    )
    drop(
        home,
        "a",
        "justice",
        [
            "P1,2023-10-05,arrest,misdemeanor",
            "P1,2024-03-03,arrest,misdemeanor",
            "P1,2024-03-03,booking,misdemeanor",
            "P2,2024-05-01,arrest,felony",  # after P2's exit: not an active month
        ],
    )
    result = run(home, "2024-06-15")
    assert result.published, result.error
    assert result.totals()["rows_quarantined"] == 0
    return home


def series(home, metric, dimension="all", grp="all"):
    rows = query(
        home,
        "select strftime(month, '%Y-%m'), numerator, denominator from metric_values "
        "where metric = ? and dimension = ? and grp = ? order by month",
        [metric, dimension, grp],
    )
    return {m: (n, d) for m, n, d in rows}


def test_active_participants(release):
    expected = {f"2023-{m:02d}": (1, 1) for m in range(6, 13)}
    expected |= {
        "2024-01": (2, 2),
        "2024-02": (3, 3),
        "2024-03": (4, 4),
        "2024-04": (4, 4),
        "2024-05": (3, 3),
        "2024-06": (3, 3),
    }
    assert series(release, "active_participants") == expected
    values = query(
        release, "select distinct value = numerator from metric_values where metric = 'active_participants'"
    )
    assert values == [(True,)]


def test_housing_status_at_month_end_within_182_days(release):
    perm = series(release, "permanent_housing")
    # P4's assessment of 2023-06-01 counts until 2023-11-30 (182 days), not at 2023-12-31.
    assert perm["2023-11"] == (1, 1)
    assert "2023-12" not in perm
    assert {m: perm[m] for m in ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06")} == {
        "2024-01": (0, 1),
        "2024-02": (0, 2),
        "2024-03": (1, 2),
        "2024-04": (1, 2),
        "2024-05": (1, 1),
        "2024-06": (1, 1),
    }
    assert series(release, "unsheltered")["2024-01"] == (1, 1)
    assert series(release, "unsheltered")["2024-02"] == (1, 2)
    assert series(release, "sheltered")["2024-02"] == (1, 2)
    assert series(release, "sheltered")["2024-03"] == (2, 2)


def test_treatment_overlapping_the_month(release):
    engaged = series(release, "treatment_engaged")
    assert {m: engaged[m] for m in ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06")} == {
        "2024-01": (1, 2),
        "2024-02": (1, 3),
        "2024-03": (0, 4),
        "2024-04": (0, 4),
        "2024-05": (1, 3),
        "2024-06": (1, 3),
    }


def test_employment_and_income_exclude_unknown(release):
    assert series(release, "employed") == {
        "2024-01": (1, 1),
        "2024-02": (1, 2),
        "2024-03": (1, 2),
        "2024-04": (0, 1),
    }
    assert series(release, "employment_continuum") == series(release, "employed")
    assert series(release, "income_or_benefits") == {
        "2024-01": (1, 1),
        "2024-02": (1, 2),
        "2024-03": (1, 2),
        "2024-04": (0, 1),
    }


def test_arrests_in_active_months_only(release):
    arrested = series(release, "arrested")
    assert arrested["2024-03"] == (1, 4)
    assert arrested["2024-05"] == (0, 3)  # P2's arrest came after P2's exit
    assert sum(n for n, _ in arrested.values()) == 1


def test_breakdowns(release):
    march = dict(
        ((d, g), n)
        for d, g, n in query(
            release,
            "select dimension, grp, numerator from metric_values "
            "where metric = 'active_participants' and month = '2024-03-01'",
        )
    )
    assert march == {
        ("all", "all"): 4,
        ("site", "a"): 3,
        ("site", "b"): 1,
        ("referral_type", "social_contact"): 1,
        ("referral_type", "arrest_diversion"): 2,
        ("referral_type", "community"): 1,
        ("cohort", "2024-Q1"): 3,
        ("cohort", "2023-Q2"): 1,
        ("race", "black"): 1,
        ("race", "multiracial"): 1,
        ("race", "white"): 1,
        ("race", "unknown"): 1,
        ("gender", "man"): 3,
        ("gender", "woman"): 1,
        ("age_band", "25-34"): 1,
        ("age_band", "55+"): 1,
        ("age_band", "18-24"): 1,
        ("age_band", "35-44"): 1,
        ("case_manager", "a:CM1"): 2,
        ("case_manager", "a:CM2"): 1,
        ("case_manager", "b:CM9"): 1,
    }


def test_metric_values_contract(release):
    columns = query(
        release,
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'metric_values' order by ordinal_position",
    )
    assert [c for c, _ in columns] == [
        "metric",
        "month",
        "dimension",
        "grp",
        "numerator",
        "denominator",
        "value",
    ]
    [(zero,)] = query(release, "select count(*) from metric_values where denominator = 0")
    assert zero == 0
    [(wrong,)] = query(
        release,
        "select count(*) from metric_values where metric <> 'active_participants' "
        "and abs(value - numerator / denominator) > 1e-12",
    )
    assert wrong == 0


def test_metric_values_count_the_flags_metrics_py_names(release):
    """metric_values pairs columns through the release's metric_definitions, loaded from
    pipelines/core/metrics.py, which pairs them for the dashboard too: a flag counts its
    participant-months, a day column (custody_days) sums its days."""
    from pipelines.core.metrics import DIMENSIONS, METRICS

    assert query(
        release,
        "select metric, numerator_flag, denominator_flag, is_count, kind from metric_definitions "
        "order by metric_order",
    ) == [(m.name, m.numerator_flag, m.denominator_flag, m.is_count, str(m.kind)) for m in METRICS.values()]
    for metric in METRICS.values():
        for dimension, column in DIMENSIONS.items():
            grp, num, den = column or "'all'", metric.numerator_flag, metric.denominator_flag
            counted = query(
                release,
                f"select month, {grp}, sum({num}::int), sum({den}::int) from metric_flags "  # noqa: S608
                f"group by all having sum({den}::int) > 0 order by all",
            )
            stored = query(
                release,
                "select month, grp, numerator, denominator from metric_values "
                "where metric = ? and dimension = ? order by all",
                [metric.name, dimension],
            )
            assert counted == stored, (metric.name, dimension)
