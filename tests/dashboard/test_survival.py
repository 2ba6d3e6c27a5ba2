"""Time to permanent housing: follow-up per participant from a real release, and the
Kaplan-Meier fit checked against the product-limit and Greenwood formulas worked out by hand.

Status at referral is the latest housing assessment on or before the referral date (within 182
days); a participant in permanent housing then is counted apart, not followed. The event is the
first permanent assessment dated after the referral date."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from dashboard import survival
from dashboard.queries import cohorts
from pipelines.core.release import live_release, open_release
from pipelines.core.scope import PROGRAM, Scope
from pipelines.core.settings import Home
from tests.conftest import drop, run

AS_OF = date(2024, 6, 15)
Z = 1.959963984540054  # the standard normal's 97.5th percentile
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A release with one participant per case; P1 exists at both sites. Built once: it is only read."""
    home = Home(tmp_path_factory.mktemp("survival") / "home")
    drop(
        home,
        "north",
        "participants",
        [
            "P1,CM1,2024-01-10,arrest_diversion,,,,,1980,man,white",  # housed at referral
            "P2,CM1,2024-01-10,social_contact,,,,,1985,woman,black",  # housed later
            "P3,CM1,2024-02-01,social_contact,,,,,1990,man,unknown",  # never housed
            "P4,CM2,2024-01-15,arrest_diversion,,,2024-03-01,moved,1975,woman,white",  # exited first
            "P5,CM2,2024-01-15,community,,,2024-03-01,disengaged,1970,man,asian",  # housed after exit
            "P6,CM2,2024-02-01,community,,,2024-04-01,graduated,1988,woman,white",  # housed on exit day
            "P7,CM1,2024-02-10,social_contact,,,,,1992,woman,white",  # permanent, then superseded
            "P8,CM2,2024-03-01,arrest_diversion,,,,,1979,man,black",  # permanent on the referral date
        ],
    )
    drop(
        home,
        "north",
        "housing",
        [
            "P1,2024-01-01,rental_with_subsidy",  # nine days before referral: housed at referral
            "P1,2024-02-01,unsheltered",
            "P2,2024-01-20,unsheltered",
            "P2,2024-03-10,410",  # HMIS 410 = rental_no_subsidy: the first permanent one
            "P2,2024-05-01,owned_no_subsidy",
            "P3,2024-02-05,emergency_shelter",
            "P3,2024-04-01,transitional_housing",
            "P3,2024-05-01,unknown",
            "P5,2024-01-20,unsheltered",
            "P5,2024-04-01,rental_with_subsidy",
            "P6,2024-04-01,permanent_with_family",
            "P7,2024-01-21,owned_with_subsidy",  # 20 days before referral...
            "P7,2024-02-05,unsheltered",  # ...superseded 5 days before: not housed at referral
            "P7,2024-03-01,rental_with_subsidy",  # the move, 20 days after referral
            "P8,2024-03-01,permanent_with_friends",  # on the referral date: housed at referral
            "P8,2024-04-01,unsheltered",
        ],
    )
    # Another site's P1: a different participant, never permanently housed.
    drop(home, "south", "participants", ["P1,CM9,2024-03-01,community,,,,,2000,man,white"])
    drop(home, "south", "housing", ["P1,2024-03-02,temporary_with_family"])
    assert run(home, AS_OF.isoformat()).published
    return home


@pytest.fixture
def durations(release: Home) -> pl.DataFrame:
    con = open_release(live_release(release.current))
    try:
        return cohorts.housing_durations(con, PROGRAM)
    finally:
        con.close()


def days(start: date, end: date) -> int:
    return (end - start).days


def test_durations_follow_the_censoring_rule(durations: pl.DataFrame) -> None:
    got = {
        (row["site_id"], row["participant_id"]): (row["housed_at_referral"], row["days"], row["housed"])
        for row in durations.iter_rows(named=True)
    }
    assert got == {
        ("north", "P1"): (True, None, None),  # permanent nine days before referral: not followed
        ("north", "P2"): (False, days(date(2024, 1, 10), date(2024, 3, 10)), True),  # 60 days
        ("north", "P3"): (False, days(date(2024, 2, 1), AS_OF), False),  # censored at the as-of date
        ("north", "P4"): (False, days(date(2024, 1, 15), date(2024, 3, 1)), False),  # censored at exit
        ("north", "P5"): (False, days(date(2024, 1, 15), date(2024, 3, 1)), False),  # housed after exit
        ("north", "P6"): (False, days(date(2024, 2, 1), date(2024, 4, 1)), True),  # housed on exit day
        ("north", "P7"): (False, 20, True),  # Feb 10 to Mar 1 (2024 is a leap year: 19 + 1)
        ("north", "P8"): (True, None, None),  # permanent on the referral date itself
        ("south", "P1"): (False, days(date(2024, 3, 1), AS_OF), False),
    }
    assert got[("north", "P2")] == (False, 60, True)  # 2024 is a leap year: 21 + 29 + 10


def test_status_at_referral_is_the_latest_assessment_on_or_before_it(durations: pl.DataFrame) -> None:
    north = durations.filter(pl.col("site_id") == "north")
    status = {row["participant_id"]: row["status_at_referral"] for row in north.iter_rows(named=True)}
    # P7's permanent assessment 20 days before referral is superseded 5 days before it.
    assert status["P7"] == "unsheltered"
    assert status["P1"] == "rental_with_subsidy"
    assert status["P8"] == "permanent_with_friends"
    assert status["P2"] is None  # first assessed ten days after referral: unknown at referral
    p7 = durations.filter(pl.col("participant_id") == "P7").row(0, named=True)
    assert p7["housed_on"] == date(2024, 3, 1)  # the first permanent assessment after referral


def test_durations_keep_the_dates_they_came_from(durations: pl.DataFrame) -> None:
    row = durations.filter(pl.col("site_id") == "north", pl.col("participant_id") == "P5").row(0, named=True)
    assert row["housed_on"] == date(2024, 4, 1)
    assert row["followed_until"] == date(2024, 3, 1)
    assert row["referral_type"] == "community"
    assert durations.columns == list(cohorts.DURATIONS_SCHEMA)
    assert dict(durations.schema) == cohorts.DURATIONS_SCHEMA


def test_those_housed_at_referral_are_counted_apart_per_referral_type(durations: pl.DataFrame) -> None:
    fit = survival.kaplan_meier(durations)
    counts = fit.summary.select("referral_type", "housed_at_referral", "participants", "events").rows()
    # Arrest diversion: P1 and P8 housed at referral, P4 followed (censored at exit).
    # Social contact: P2 and P7 housed later, P3 not. Community: P6 housed, P5 and south's P1 not.
    assert counts == [
        ("arrest_diversion", 2, 1, 0),
        ("social_contact", 0, 3, 2),
        ("community", 0, 3, 1),
    ]


def test_durations_filter_by_bound_values(release: Home) -> None:
    con = open_release(live_release(release.current))
    try:
        community = cohorts.housing_durations(con, PROGRAM, referral_types=["community"])
        assert sorted(community.select("site_id", "participant_id").rows()) == [
            ("north", "P5"),
            ("north", "P6"),
            ("south", "P1"),
        ]
        south = cohorts.housing_durations(con, PROGRAM, sites=["south"])
        assert south.select("site_id", "participant_id").rows() == [("south", "P1")]
        both = cohorts.housing_durations(con, PROGRAM, referral_types=["community"], sites=["north"])
        assert both["participant_id"].to_list() == ["P5", "P6"]
        assert cohorts.housing_durations(con, PROGRAM, sites=["north' or '1'='1"]).is_empty()
    finally:
        con.close()


# --- Kaplan-Meier, by hand ------------------------------------------------------------------

# Eight made-up participants: (days, housed). Ties: a censoring at 40 stays at risk at 40.
HAND = [
    (10, True),
    (40, True),
    (40, False),
    (100, True),
    (100, True),
    (200, False),
    (300, True),
    (400, False),
]
# Product-limit, step by step: at each event time S *= (n - d) / n.
#   t=10:  n=8, d=1  S = 7/8               = 0.875
#   t=40:  n=7, d=1  S = 0.875 * 6/7       = 0.75
#   t=100: n=5, d=2  S = 0.75 * 3/5        = 0.45
#   t=300: n=2, d=1  S = 0.45 * 1/2        = 0.225
HAND_S = {0: 1.0, 10: 0.875, 40: 0.75, 100: 0.45, 200: 0.45, 300: 0.225, 400: 0.225}
# Greenwood's sum of d / (n (n - d)) over event times up to t.
HAND_GREENWOOD = {
    10: 1 / (8 * 7),
    40: 1 / (8 * 7) + 1 / (7 * 6),
    100: 1 / (8 * 7) + 1 / (7 * 6) + 2 / (5 * 3),
    300: 1 / (8 * 7) + 1 / (7 * 6) + 2 / (5 * 3) + 1 / (2 * 1),
}


def frame(rows: list[tuple[int, bool]], group: str = "arrest_diversion") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "referral_type": [group] * len(rows),
            "days": [d for d, _ in rows],
            "housed": [h for _, h in rows],
        },
        schema={"referral_type": pl.String, "days": pl.Int64, "housed": pl.Boolean},
    )


def log_log_band(s: float, greenwood: float) -> tuple[float, float]:
    """The exponential Greenwood 95% interval of S: S ** exp(+-z sqrt(sum) / |log S|)."""
    c = Z * math.sqrt(greenwood) / abs(math.log(s))
    return s ** math.exp(c), s ** math.exp(-c)


def test_product_limit_by_hand() -> None:
    fit = survival.kaplan_meier(frame(HAND))
    curve = fit.curve
    assert curve["days"].to_list() == [float(t) for t in HAND_S]
    assert curve["share_housed"].to_list() == pytest.approx([1 - s for s in HAND_S.values()])
    # The number at risk: participants with a time at or after t.
    assert curve["at_risk"].to_list() == [8, 8, 7, 5, 3, 2, 1]
    assert curve["months"].to_list() == pytest.approx([t / (365.25 / 12) for t in HAND_S])
    (summary,) = fit.summary.iter_rows(named=True)
    assert (summary["participants"], summary["events"], summary["censored"]) == (8, 5, 3)
    # The median: the first time S falls to 0.5 or below (0.45 at 100 days).
    assert summary["median_days"] == 100


def test_greenwood_band_at_one_time_by_hand() -> None:
    fit = survival.kaplan_meier(frame(HAND))
    at_100 = fit.curve.filter(pl.col("days") == 100).row(0, named=True)
    # Greenwood's variance of S(100): S^2 * sum = 0.45^2 * (1/56 + 1/42 + 2/15) = 0.0354375.
    assert 0.45**2 * HAND_GREENWOOD[100] == pytest.approx(0.0354375)
    low_s, high_s = log_log_band(0.45, HAND_GREENWOOD[100])
    assert (low_s, high_s) == pytest.approx((0.1076, 0.7513), abs=1e-4)
    # In housed terms the band flips: 1 - upper(S) to 1 - lower(S).
    assert at_100["lower"] == pytest.approx(1 - high_s)
    assert at_100["upper"] == pytest.approx(1 - low_s)


def test_median_interval_by_hand() -> None:
    # The median's interval is where the band of S crosses 0.5. The lower band is already
    # below 0.5 at 10 days: 0.875 ** exp(1.96 * sqrt(1/56) / -log 0.875) = 0.387.
    low_10, _ = log_log_band(0.875, HAND_GREENWOOD[10])
    assert low_10 == pytest.approx(0.387, abs=1e-3)
    # The upper band stays above 0.5 at every event time: the interval's end is not reached.
    assert all(log_log_band(HAND_S[t], g)[1] > 0.5 for t, g in HAND_GREENWOOD.items())
    (summary,) = survival.kaplan_meier(frame(HAND)).summary.iter_rows(named=True)
    assert summary["median_lower"] == 10
    assert summary["median_upper"] is None


def test_milestones_by_hand() -> None:
    milestones = survival.kaplan_meier(frame(HAND)).milestones
    assert milestones["months"].to_list() == [3, 6, 12, 18, 24]
    # 3 months = 91.3 days: S = 0.75 (events at 10 and 40); 6 months = 182.6 days: S = 0.45;
    # 12 months = 365.25 days: S = 0.225. Nobody is followed 18 months: unknown.
    assert milestones["share_housed"].to_list()[:3] == pytest.approx([0.25, 0.55, 0.775])
    assert milestones["share_housed"].to_list()[3:] == [None, None]
    assert milestones["at_risk"].to_list() == [5, 3, 1, 0, 0]
    low_s, high_s = log_log_band(0.75, HAND_GREENWOOD[40])
    three = milestones.row(0, named=True)
    assert (three["lower"], three["upper"]) == pytest.approx((1 - high_s, 1 - low_s))


def test_median_not_reached() -> None:
    # One housed in four: S never falls to 0.5.
    fit = survival.kaplan_meier(frame([(5, True), (10, False), (20, False), (30, False)], "community"))
    (summary,) = fit.summary.iter_rows(named=True)
    assert summary["median_days"] is None
    # Four at risk make a wide band: its lower end is below 0.5 at once, its upper end never.
    low_s, high_s = log_log_band(0.75, 1 / (4 * 3))
    assert low_s < 0.5 < high_s
    assert (summary["median_lower"], summary["median_upper"]) == (5, None)
    assert fit.curve["share_housed"].to_list() == pytest.approx([0, 0.25, 0.25, 0.25, 0.25])


def test_everyone_housed_has_no_band_at_zero_survival() -> None:
    fit = survival.kaplan_meier(frame([(0, True), (30, True)], "social_contact"))
    assert fit.curve["share_housed"].to_list() == pytest.approx([0.5, 1.0])
    last = fit.curve.row(-1, named=True)
    assert last["lower"] is None and last["upper"] is None
    # Nobody is followed 3 months, but everyone was housed by then: the share is known.
    assert fit.milestones["share_housed"].to_list() == [1.0] * 5
    assert fit.summary["median_days"].to_list() == [0]


def test_groups_in_contract_order_and_fit_separately() -> None:
    rows = pl.concat(
        [frame([(5, True), (9, False)], "community"), frame(HAND), frame([(1, True)], "social_contact")]
    )
    fit = survival.kaplan_meier(rows)
    assert fit.summary["referral_type"].to_list() == ["arrest_diversion", "social_contact", "community"]
    assert fit.summary["participants"].to_list() == [8, 1, 2]
    community = fit.curve.filter(pl.col("referral_type") == "community")
    assert community["share_housed"].to_list() == pytest.approx([0, 0.5, 0.5])


def test_housed_at_referral_are_counted_not_fitted() -> None:
    followed = frame(HAND).with_columns(housed_at_referral=pl.lit(False))
    housed = pl.DataFrame(
        {"referral_type": ["arrest_diversion"] * 3, "days": [None] * 3, "housed": [None] * 3},
        schema={"referral_type": pl.String, "days": pl.Int64, "housed": pl.Boolean},
    ).with_columns(housed_at_referral=pl.lit(True))
    fit = survival.kaplan_meier(pl.concat([followed, housed]))
    (summary,) = fit.summary.iter_rows(named=True)
    assert (summary["housed_at_referral"], summary["participants"], summary["events"]) == (3, 8, 5)
    # The curve is HAND's alone: the three housed at referral are not events at day 0.
    assert fit.curve["share_housed"].to_list() == pytest.approx([1 - s for s in HAND_S.values()])
    assert fit.curve["at_risk"].to_list()[0] == 8


def test_a_group_all_housed_at_referral_has_no_curve() -> None:
    rows = pl.DataFrame(
        {"referral_type": ["community"] * 2, "days": [None, None], "housed": [None, None]},
        schema={"referral_type": pl.String, "days": pl.Int64, "housed": pl.Boolean},
    ).with_columns(housed_at_referral=pl.lit(True))
    fit = survival.kaplan_meier(pl.concat([rows, frame(HAND).with_columns(housed_at_referral=pl.lit(False))]))
    community = fit.summary.filter(pl.col("referral_type") == "community").row(0, named=True)
    assert [community[c] for c in ("housed_at_referral", "participants", "events", "censored")] == [
        2,
        0,
        0,
        0,
    ]
    assert community["median_days"] is None and community["median_at_risk"] is None
    assert fit.curve["referral_type"].unique().to_list() == ["arrest_diversion"]
    assert fit.milestones["referral_type"].unique().to_list() == ["arrest_diversion"]


def test_the_median_carries_the_number_at_risk_where_it_is_read() -> None:
    # 39 followed: one housed on each of days 1 to 20, 19 censored at day 500. After k moves
    # S = (39 - k) / 39: 20/39 > 0.5 after 19, 19/39 < 0.5 after 20, so the median is day 20,
    # where 20 are at risk (the one housed that day and the 19 still waiting).
    rows = [(d, True) for d in range(1, 21)] + [(500, False)] * 19
    (summary,) = survival.kaplan_meier(frame(rows)).summary.iter_rows(named=True)
    assert (summary["median_days"], summary["median_at_risk"]) == (20, 20)
    # 37 followed: 19 moves on days 1 to 19, 18 censored: S = 18/37 < 0.5 at day 19, 19 at risk.
    rows = [(d, True) for d in range(1, 20)] + [(500, False)] * 18
    (summary,) = survival.kaplan_meier(frame(rows)).summary.iter_rows(named=True)
    assert (summary["median_days"], summary["median_at_risk"]) == (19, 19)
    assert summary["upper_at_risk"] is None or summary["upper_at_risk"] <= 19


def test_durations_keep_to_their_scope(release: Home) -> None:
    """Participant rows: a narrower scope is filtered in SQL, not refused."""
    con = open_release(live_release(release.current))
    try:
        north_cm2 = cohorts.housing_durations(con, Scope("north", "CM2"))
        assert north_cm2.select("site_id", "participant_id").rows() == [
            ("north", "P4"),
            ("north", "P5"),
            ("north", "P6"),
            ("north", "P8"),
        ]
        south = cohorts.housing_durations(con, Scope("south"))
        assert south.select("site_id", "participant_id").rows() == [("south", "P1")]
        # CM9 works at south: at north, that scope holds no one.
        assert cohorts.housing_durations(con, Scope("north", "CM9")).is_empty()
        both = cohorts.housing_durations(con, Scope("north", "CM1"), referral_types=["social_contact"])
        assert both["participant_id"].to_list() == ["P2", "P3", "P7"]
    finally:
        con.close()


def test_no_participants_fit_nothing() -> None:
    fit = survival.kaplan_meier(frame([]))
    assert fit.summary.is_empty() and fit.curve.is_empty() and fit.milestones.is_empty()
    assert fit.curve.columns == list(survival.CURVE_SCHEMA)


def test_lifelines_is_imported_only_when_fitting() -> None:
    code = (
        "import sys; import dashboard.survival, dashboard.queries.cohorts, dashboard.charts.cohorts; "
        "print('lifelines' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
