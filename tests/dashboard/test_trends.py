"""The Trends page, its query, its chart and its CSV, against a small release worked out by hand.

Site a: A1 (referred 2024-01-10, social contact), A2 (2024-02-20, arrest diversion, exited
2024-04-05), A3 (2023-11-05, arrest diversion). Site b: B1 (2024-03-01, community), B2
(2024-01-20, arrest diversion). As of 2024-06-15: the latest complete month is May 2024.

Housing at month end: A1 permanent from January (assessed 2024-01-15); A2 in emergency
shelter from February; A3 unsheltered from November, permanent from April (2024-04-20); B1
unsheltered from March; B2 never assessed (unknown).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dashboard.charts import trends as charts
from dashboard.findings import plain_definition
from dashboard.formatting import md_text
from dashboard.queries import trends
from dashboard.small_numbers import SMALL_FLAG
from pipelines.core.export import FORMULA_STARTS, csv_bytes, neutralise
from pipelines.core.metrics import METRICS
from pipelines.core.palette import line_look
from pipelines.core.periods import add_months
from pipelines.core.release import live_release, open_release
from pipelines.core.scope import PROGRAM
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from tests import apptest
from tests.conftest import Downloads, drop, run

PAGE = "app_pages/trends.py"
AS_OF = "2024-06-15"
DEFAULT_RANGE = (date(2023, 11, 1), date(2024, 5, 1))  # the release's first month to May 2024


def m(text: str) -> date:
    """`2024-03` as the month's first day."""
    year, month = text.split("-")
    return date(int(year), int(month), 1)


# (numerator, denominator) by group and month, worked out from the module docstring.
ACTIVE_BY_SITE = {
    "a": {"2023-11": 1, "2023-12": 1, "2024-01": 2, "2024-02": 3, "2024-03": 3, "2024-04": 3, "2024-05": 2},
    "b": {"2024-01": 1, "2024-02": 1, "2024-03": 2, "2024-04": 2, "2024-05": 2},
}
PERMANENT_ALL = {
    "2023-11": (0, 1),
    "2023-12": (0, 1),
    "2024-01": (1, 2),  # A3 unsheltered, A1 permanent; B2 unknown
    "2024-02": (1, 3),
    "2024-03": (1, 4),
    "2024-04": (2, 4),  # A3 permanent from 2024-04-20; A2 still active in April
    "2024-05": (2, 3),
    "2024-06": (2, 3),
}
PERMANENT_BY_SITE = {
    "a": {k: v for k, v in PERMANENT_ALL.items() if k < "2024-03"}
    | {"2024-03": (1, 3), "2024-04": (2, 3), "2024-05": (2, 2)},
    "b": {"2024-03": (0, 1), "2024-04": (0, 1), "2024-05": (0, 1)},  # B2 unknown: no row before March
}
PERMANENT_ARREST_DIVERSION = {  # A2, A3, B2
    "2023-11": (0, 1),
    "2023-12": (0, 1),
    "2024-01": (0, 1),
    "2024-02": (0, 2),
    "2024-03": (0, 2),
    "2024-04": (1, 2),
    "2024-05": (1, 1),
}
ACTIVE_SITE_A_BY_COHORT = {
    "2023-Q4": {k: 1 for k in ("2023-11", "2023-12", "2024-01", "2024-02", "2024-03", "2024-04", "2024-05")},
    "2024-Q1": {"2024-01": 1, "2024-02": 2, "2024-03": 2, "2024-04": 2, "2024-05": 1},
}


def write_release(home: Home, as_of: str = AS_OF) -> Home:
    """The release of the module docstring, built by the nightly."""
    drop(
        home,
        "a",
        "participants",
        [
            "A1,CM1,2024-01-10,social_contact,,,,,1990,man,black",
            "A2,CM1,2024-02-20,arrest_diversion,sex_work,,2024-04-05,moved,1960,woman,white",
            "A3,CM2,2023-11-05,arrest_diversion,drug_possession,,,,1980,man,unknown",
        ],
    )
    drop(
        home,
        "b",
        "participants",
        [
            "B1,CM9,2024-03-01,community,,,,,2000,woman,white",
            "B2,CM9,2024-01-20,arrest_diversion,other,,,,1985,man,black",
        ],
    )
    drop(
        home,
        "a",
        "housing",
        [
            "A1,2024-01-15,435",  # rental_with_subsidy: permanent
            "A2,2024-02-25,emergency_shelter",
            "A3,2023-11-10,unsheltered",
            "A3,2024-04-20,422",  # permanent_with_family
        ],
    )
    drop(home, "b", "housing", ["B1,2024-03-05,unsheltered"])
    # Not used by the numbers worked out here; they give every metric some rows.
    drop(home, "a", "employment", ["A1,2024-01-15,part_time,yes", "A3,2023-12-01,unemployed_seeking,no"])
    drop(home, "b", "employment", ["B1,2024-03-05,training_education,unknown"])
    drop(home, "a", "treatment", ["A3,E1,outpatient,2023-12-01,2024-02-10,completed"])
    drop(home, "b", "justice", ["B2,2024-02-03,arrest,misdemeanor"])
    result = run(home, as_of)
    assert result.published, result.error
    assert result.totals()["rows_quarantined"] == 0
    return home


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return write_release(Home(tmp_path_factory.mktemp("trends") / "home"))


@pytest.fixture(scope="module")
def demo_release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A bigger release: the demo's generator, three sites, thirty months."""
    home = Home(tmp_path_factory.mktemp("trends-demo") / "home")
    write_demo(home.inbox, participants=400, sites=3, months=30, seed=11, as_of=date.fromisoformat(AS_OF))
    result = run(home, AS_OF)
    assert result.published, result.error
    return home


@pytest.fixture
def demo_con(demo_release: Home) -> duckdb.DuckDBPyConnection:
    with apptest.release_connection(demo_release) as connection:
        yield connection


def rows(values: pl.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """{(group, 'YYYY-MM'): (numerator, denominator)} of a query result."""
    return {
        (group, f"{month:%Y-%m}"): (numerator, denominator)
        for month, group, numerator, denominator in values.select(
            "month", "group", "numerator", "denominator"
        ).iter_rows()
    }


def by_group(expected: dict[str, dict[str, tuple[int, int] | int]]) -> dict[tuple[str, str], tuple[int, int]]:
    """The hand-worked numbers keyed like `rows`; a bare count is its own denominator."""
    return {
        (group, month): cell if isinstance(cell, tuple) else (cell, cell)
        for group, months in expected.items()
        for month, cell in months.items()
    }


def within(expected: dict[tuple[str, str], tuple[int, int]], start: str, end: str) -> dict:
    return {key: cell for key, cell in expected.items() if start <= key[1] <= end}


# --- the query ----------------------------------------------------------------------------


def test_program_wide_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    values = trends.trend_values(con, PROGRAM, "permanent_housing")
    assert values.columns == ["month", "group", "numerator", "denominator", "value"]
    assert rows(values) == by_group({"all": PERMANENT_ALL})
    assert values["value"].to_list() == pytest.approx([n / d for n, d in PERMANENT_ALL.values()])


def test_split_by_site_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    end = m("2024-05")
    assert rows(trends.trend_values(con, PROGRAM, "permanent_housing", "site", end=end)) == by_group(
        PERMANENT_BY_SITE
    )
    active = trends.trend_values(con, PROGRAM, "active_participants", "site", end=end)
    assert rows(active) == by_group(ACTIVE_BY_SITE)
    # A count's value is the count itself.
    assert active["value"].to_list() == [float(n) for n in active["numerator"]]


def test_filters_are_applied(con: duckdb.DuckDBPyConnection) -> None:
    end = m("2024-05")
    arrest = trends.trend_values(
        con, PROGRAM, "permanent_housing", referral_types=["arrest_diversion"], end=end
    )
    assert rows(arrest) == by_group({"all": PERMANENT_ARREST_DIVERSION})
    site_a = trends.trend_values(con, PROGRAM, "active_participants", "cohort", sites=["a"], end=end)
    assert rows(site_a) == by_group(ACTIVE_SITE_A_BY_COHORT)
    q1 = trends.trend_values(con, PROGRAM, "active_participants", "site", cohorts=["2024-Q1"], end=end)
    # 2024-Q1: A1, A2 at site a; B1, B2 at site b. A3 (2023-Q4) is left out.
    assert rows(q1) == by_group(
        {
            "a": {"2024-01": 1, "2024-02": 2, "2024-03": 2, "2024-04": 2, "2024-05": 1},
            "b": ACTIVE_BY_SITE["b"],
        }
    )
    both = trends.trend_values(
        con, PROGRAM, "active_participants", sites=["a", "b"], referral_types=["community"]
    )
    assert rows(both) == by_group({"all": {"2024-03": 1, "2024-04": 1, "2024-05": 1, "2024-06": 1}})


def test_month_range_is_inclusive(con: duckdb.DuckDBPyConnection) -> None:
    values = trends.trend_values(con, PROGRAM, "permanent_housing", start=m("2024-02"), end=m("2024-04"))
    assert rows(values) == within(by_group({"all": PERMANENT_ALL}), "2024-02", "2024-04")


def test_filters_that_match_nothing_give_no_rows(con: duckdb.DuckDBPyConnection) -> None:
    # A3 is the only 2023-Q4 referral, and A3 is at site a.
    values = trends.trend_values(con, PROGRAM, "arrested", "site", sites=["b"], cohorts=["2023-Q4"])
    assert values.is_empty()
    assert values.schema == pl.Schema(
        {
            "month": pl.Date,
            "group": pl.String,
            "numerator": pl.Int64,
            "denominator": pl.Int64,
            "value": pl.Float64,
        }
    )


def test_zero_denominators_are_left_out(con: duckdb.DuckDBPyConnection) -> None:
    # B2 was never assessed and B1 only from March: site b has no housing row before March.
    values = trends.trend_values(con, PROGRAM, "permanent_housing", "site", sites=["b"])
    assert values["month"].min() == m("2024-03")
    assert (values["denominator"] > 0).all()


def test_filter_values_are_bound_not_spliced(con: duckdb.DuckDBPyConnection) -> None:
    assert trends.trend_values(con, PROGRAM, "arrested", sites=["a') or ('1'='1"]).is_empty()
    assert trends.trend_values(
        con, PROGRAM, "arrested", cohorts=["x'; drop table participants; --"]
    ).is_empty()
    with pytest.raises(ValueError, match="unknown split"):
        trends.trend_values(con, PROGRAM, "arrested", "site_id; drop table participants")
    with pytest.raises(KeyError):
        trends.trend_values(con, PROGRAM, "not_a_metric")
    assert not trends.trend_values(con, PROGRAM, "arrested").is_empty()


def metric_values(con: duckdb.DuckDBPyConnection, metric: str, dimension: str) -> pl.DataFrame:
    """The published metric_values rows of one metric and dimension, shaped like trend_values."""
    return con.sql(
        """
        select month, grp as "group", numerator, denominator, value
        from metric_values
        where metric = $metric and dimension = $dimension
        order by month, grp
        """,
        params={"metric": metric, "dimension": dimension},
    ).pl()


@pytest.mark.parametrize("split", list(trends.SPLITS))
@pytest.mark.parametrize("which", ["hand", "demo"])
def test_single_splits_match_metric_values(
    split: str, which: str, con: duckdb.DuckDBPyConnection, demo_con: duckdb.DuckDBPyConnection
) -> None:
    """With no filter, each split is the metric_values dimension of the same name, every metric."""
    connection = con if which == "hand" else demo_con
    for metric in METRICS:
        ours = trends.trend_values(connection, PROGRAM, metric, split)
        published = metric_values(connection, metric, split)
        assert not published.is_empty(), (metric, split)
        assert ours.select("month", "group", "numerator", "denominator").equals(
            published.select("month", "group", "numerator", "denominator")
        ), (metric, split)
        assert ours["value"].to_list() == pytest.approx(published["value"].to_list()), (metric, split)


def test_demo_filters_partition_the_program(demo_con: duckdb.DuckDBPyConnection) -> None:
    """Each site's filtered numbers add up to the program's, and equal the split by site."""
    options = trends.trend_options(demo_con, PROGRAM)
    assert len(options.sites) == 3
    everyone = rows(trends.trend_values(demo_con, PROGRAM, "employed"))
    by_site = rows(trends.trend_values(demo_con, PROGRAM, "employed", "site"))
    total: dict[str, list[int]] = {}
    for site in options.sites:
        one = rows(trends.trend_values(demo_con, PROGRAM, "employed", sites=[site]))
        assert one == {("all", month): cell for (group, month), cell in by_site.items() if group == site}
        for (_, month), (numerator, denominator) in one.items():
            total.setdefault(month, [0, 0])
            total[month][0] += numerator
            total[month][1] += denominator
    assert {("all", month): tuple(cell) for month, cell in total.items()} == everyone


def test_trend_options(con: duckdb.DuckDBPyConnection) -> None:
    options = trends.trend_options(con, PROGRAM)
    assert options.sites == ("a", "b")
    assert options.referral_types == ("arrest_diversion", "community", "social_contact")
    assert options.cohorts == ("2023-Q4", "2024-Q1")
    assert options.months == tuple(m(k) for k in PERMANENT_ALL)  # November 2023 to June 2024


@pytest.mark.parametrize(
    ("first", "count", "latest_complete", "expected"),
    [
        ("2023-11", 8, "2024-05", ("2023-11", "2024-05")),  # fewer than 24 complete months
        ("2020-01", 54, "2024-05", ("2022-06", "2024-05")),  # the last 24 complete months
        ("2024-06", 1, "2024-05", None),  # no complete month yet: nothing to show
    ],
)
def test_default_range(
    first: str, count: int, latest_complete: str, expected: tuple[str, str] | None
) -> None:
    months = [add_months(m(first), i) for i in range(count)]
    wanted = None if expected is None else (m(expected[0]), m(expected[1]))
    assert trends.default_range(months, m(latest_complete)) == wanted
    assert trends.default_range([], m(latest_complete)) is None
    assert max(trends.complete_months(months, m(latest_complete)), default=None) == (
        None if expected is None else m(expected[1])
    )


# --- the table, the chart and the CSV -----------------------------------------------------


SMALL_AND_NOT = pl.DataFrame(
    {
        "month": [m("2024-01"), m("2024-01"), m("2024-02")],
        "group": ["b", "a", "a"],
        "numerator": [5, 3, 4],
        "denominator": [10, 11, 40],
        "value": [0.5, 3 / 11, 0.1],
    }
)


def test_trend_table_flags_small_denominators() -> None:
    table = trends.trend_table(SMALL_AND_NOT, "employed", "site")
    assert table.columns == trends.TABLE_COLUMNS
    assert table.select("month", "group", "flag").rows() == [
        (m("2024-02"), "a", ""),  # newest month first, then by group
        (m("2024-01"), "a", ""),  # 11 is not small
        (m("2024-01"), "b", SMALL_FLAG),  # 10 is
    ]
    assert table["value"].to_list() == pytest.approx([10.0, 300 / 11, 50.0])  # rates in percent
    counts = trends.trend_table(
        SMALL_AND_NOT.with_columns(value=pl.col("numerator").cast(pl.Float64)), "active_participants", "site"
    )
    assert counts["value"].to_list() == [4.0, 3.0, 5.0]  # a count stays a count
    assert set(counts["flag"]) == {""}  # and is exact: never flagged


def test_chart_is_hollow_at_ten_not_at_eleven() -> None:
    figure = charts.trend_chart(SMALL_AND_NOT, "employed", "site")
    symbols = {trace.name: list(trace.marker.symbol) for trace in figure.data}
    # Each line has a symbol of its own; a small denominator opens it (a: 11 then 40; b: 10).
    first, second = (look["symbol"] for look in map(line_look, (0, 1)))
    assert first != second
    assert symbols == {"a": [first, first], "b": [f"{second}-open"]}
    count = charts.trend_chart(
        SMALL_AND_NOT.with_columns(value=pl.col("numerator").cast(pl.Float64)), "active_participants", "site"
    )
    assert not any(s.endswith("-open") for trace in count.data for s in trace.marker.symbol)


# Days in jail: 30 days among 10 people, 33 among 11, 20 among 40.
JAIL_DAYS = SMALL_AND_NOT.with_columns(numerator=pl.Series([30, 33, 20]), value=pl.Series([3.0, 3.0, 0.5]))


def test_days_in_jail_read_as_days_per_participant_not_percent() -> None:
    table = trends.trend_table(JAIL_DAYS, "jail_days", "site")
    assert table["value"].to_list() == pytest.approx([0.5, 3.0, 3.0])  # not times 100
    assert table["flag"].to_list() == ["", "", SMALL_FLAG]  # on 10 people: flagged like a rate
    figure = charts.trend_chart(JAIL_DAYS, "jail_days", "site")
    assert figure.layout.yaxis.title.text == "Days per participant"
    assert "%" not in figure.layout.yaxis.tickformat
    assert "days per participant" in figure.data[0].hovertemplate
    first, second = line_look(0)["symbol"], line_look(1)["symbol"]
    assert {trace.name: list(trace.marker.symbol) for trace in figure.data} == {
        "a": [first, first],
        "b": [f"{second}-open"],
    }
    line = JAIL_DAYS.filter(pl.col("group") == "a")
    said = trends.finding(line, "jail_days")
    assert said is not None and "0.5 days per participant (20 days, 40 people)" in said
    assert "3.0 days per participant (33 days, 11 people)" in said and "%" not in said


@pytest.mark.parametrize(
    ("split", "code", "label"),
    [
        ("all", "all", "All participants"),
        ("referral_type", "arrest_diversion", "Arrest diversion"),
        ("race", "hispanic_latino", "Hispanic or Latino"),
        ("gender", "non_binary", "Non-binary"),
        ("cohort", "2024-Q1", "2024-Q1"),
        ("site", "north", "north"),
    ],
)
def test_groups_are_named_by_label(split: str, code: str, label: str) -> None:
    assert trends.group_label(split, code) == label
    values = SMALL_AND_NOT.with_columns(group=pl.lit(code))
    assert set(trends.trend_table(values, "employed", split)["group"]) == {label}
    assert {trace.name for trace in charts.trend_chart(values, "employed", split).data} == {label}


def test_finding_for_one_line_and_for_a_split() -> None:
    one = pl.DataFrame(
        {
            "month": [m("2024-01"), m("2024-02"), m("2024-03")],
            "group": ["all"] * 3,
            "numerator": [200, 210, 300],
            "denominator": [1000, 1000, 1000],
            "value": [0.2, 0.21, 0.3],
        }
    )
    assert trends.finding(one, "permanent_housing") == (
        "In permanent housing: 30% (300 of 1,000) in Mar 2024. From Jan 2024 to Mar 2024 it rose "
        "from 20% to 30%."
    )
    level = one.with_columns(numerator=pl.Series([20, 21, 22]), denominator=pl.Series([100, 100, 100]))
    assert trends.finding(level, "permanent_housing").endswith(
        "it went from 20% to 22%, a change within the uncertainty."
    )
    # A split: the two largest groups' change from the first month to the last, leaving out a rate
    # on fewer than 11 people; 20 of 100 to 40 of 100 is beyond the uncertainty, 20 to 21 is not.
    split = pl.DataFrame(
        {
            "month": [m("2024-01")] * 3 + [m("2024-03")] * 3,
            "group": ["black", "white", "asian"] * 2,
            "numerator": [20, 20, 9, 40, 21, 9],
            "denominator": [100, 100, 10, 100, 120, 10],
            "value": [0.2, 0.2, 0.9, 0.4, 0.175, 0.9],
        }
    )
    assert trends.finding(split, "permanent_housing", "race") == (
        "In permanent housing by race, from Jan 2024 to Mar 2024, in the 2 largest groups: White went "
        "from 20% to 18%, a change within the uncertainty; Black rose from 20% to 40%. 1 group on "
        "fewer than 11 people left out."
    )


def test_chart_has_one_line_per_group_with_the_numbers(con: duckdb.DuckDBPyConnection) -> None:
    values = trends.trend_values(con, PROGRAM, "permanent_housing", "site", end=m("2024-05"))
    figure = charts.trend_chart(values, "permanent_housing", "site")
    assert [trace.name for trace in figure.data] == ["a", "b"]
    for trace in figure.data:
        expected = PERMANENT_BY_SITE[trace.name]
        assert [pl.Series([x]).cast(pl.Date)[0] for x in trace.x] == [m(k) for k in expected]
        assert list(trace.y) == pytest.approx([n / d for n, d in expected.values()])
        assert [tuple(cell) for cell in trace.customdata] == list(expected.values())
        assert "customdata[0]" in trace.hovertemplate and "customdata[1]" in trace.hovertemplate
        assert trace.line.color in charts.OKABE_ITO
        # Every denominator here is under 11: each line's own symbol, open.
        assert {s.removesuffix("-open") for s in trace.marker.symbol} == {trace.marker.symbol[0][:-5]}
        assert all(s.endswith("-open") for s in trace.marker.symbol)
    assert figure.data[0].marker.symbol[0] != figure.data[1].marker.symbol[0]
    assert figure.data[0].line.color != figure.data[1].line.color
    assert figure.layout.xaxis.type == "date"
    assert figure.layout.yaxis.tickformat == ".0%"
    assert figure.layout.showlegend is True
    assert figure.layout.legend.title.text == "Site"


def test_chart_of_a_count_program_wide(con: duckdb.DuckDBPyConnection) -> None:
    values = trends.trend_values(con, PROGRAM, "active_participants")
    figure = charts.trend_chart(values, "active_participants")
    (trace,) = figure.data
    assert trace.name == charts.ALL_GROUP_NAME
    assert list(trace.y) == [1, 1, 3, 4, 5, 5, 4, 4]
    assert figure.layout.yaxis.title.text == "Participants"
    assert figure.layout.showlegend is False


def test_many_groups_stay_apart() -> None:
    """Twenty cohorts: no two lines share colour, dash and marker, and no yellow or olive."""
    groups = [f"{2020 + i // 4}-Q{i % 4 + 1}" for i in range(20)]
    values = pl.DataFrame(
        {
            "month": [m("2024-01")] * 20,
            "group": groups,
            "numerator": [1] * 20,
            "denominator": [2] * 20,
            "value": [0.5] * 20,
        }
    )
    figure = charts.trend_chart(values, "employed", "cohort")
    # Below the chart, across: a phone keeps the plot's width.
    assert figure.layout.legend.orientation == "h" and figure.layout.legend.y < 0
    styles = {(trace.line.color, trace.line.dash, trace.marker.symbol[0]) for trace in figure.data}
    assert len(styles) == 20
    assert not {"#F0E442", charts.OKABE_ITO[7]} & {color for color, _, _ in styles}
    # Neighbouring lines never differ by colour alone.
    for one, other in zip(figure.data, figure.data[1:], strict=False):
        assert (one.line.dash, one.marker.symbol[0]) != (other.line.dash, other.marker.symbol[0])
    assert [trace.name for trace in figure.data] == groups


def test_table_csv_is_the_table(con: duckdb.DuckDBPyConnection) -> None:
    """The table under the headers people read, each group's code beside its label for analysts."""
    values = trends.trend_values(con, PROGRAM, "permanent_housing", "referral_type")
    parsed = list(
        csv.reader(
            io.StringIO(trends.table_csv(values, "permanent_housing", "referral_type").decode("utf-8"))
        )
    )
    table = trends.trend_table(values, "permanent_housing", "referral_type")
    assert parsed[0] == [
        "Month",
        "Group",
        "Group code",
        "Numerator",
        "Denominator",
        "Percent",
        "Small numbers",
    ]
    assert len(parsed) == table.height + 1
    for line, row in zip(parsed[1:], table.iter_rows(), strict=True):
        month, group, numerator, denominator, value, flag = row
        assert line[:2] == [month.isoformat(), group]
        assert trends.group_label("referral_type", line[2]) == group  # the code of that label
        assert line[3:5] == [str(numerator), str(denominator)]
        assert float(line[5]) == pytest.approx(value)
        assert line[6] == flag


# --- csv_bytes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a=b", "a=b"),
        ("", ""),
        ("site-1", "site-1"),
    ],
)
def test_neutralise(text: str, safe: str) -> None:
    assert neutralise(text) == safe


def test_csv_neutralises_text_but_not_numbers() -> None:
    frame = pl.DataFrame(
        {
            "group": ["=1+1", "-x", "ok", None],
            "numerator": [-3, 2, 0, None],
            "value": [-1.5, 0.25, 0.0, None],
            "month": [m("2024-01")] * 4,
        }
    )
    parsed = list(csv.reader(io.StringIO(csv_bytes(frame).decode("utf-8"))))
    assert parsed == [
        ["group", "numerator", "value", "month"],
        ["'=1+1", "-3", "-1.5", "2024-01-01"],
        ["'-x", "2", "0.25", "2024-01-01"],
        ["ok", "0", "0.0", "2024-01-01"],
        ["", "", "", "2024-01-01"],
    ]
    headers = list(csv.reader(io.StringIO(csv_bytes(pl.DataFrame({"=cmd": ["a"]})).decode("utf-8"))))
    assert headers[0] == ["'=cmd"]


def test_csv_is_utf8() -> None:
    data = csv_bytes(pl.DataFrame({"group": ["Tōkyō", "ñ"]}))
    assert data.decode("utf-8").splitlines() == ["group", "Tōkyō", "ñ"]


# Text that often starts with a formula character, and sometimes holds quotes and line breaks.
risky_text = st.one_of(
    st.text(),
    st.builds(lambda start, rest: start + rest, st.sampled_from(FORMULA_STARTS), st.text()),
    st.text(alphabet=st.sampled_from([*FORMULA_STARTS, '"', ",", "\n", "a", " ", "'"])),
)


@given(
    st.lists(st.lists(st.one_of(st.none(), risky_text), min_size=3, max_size=3), max_size=12),
    st.lists(risky_text, min_size=3, max_size=3, unique_by=neutralise),
)
def test_no_csv_cell_starts_a_formula(cells: list[list[str | None]], names: list[str]) -> None:
    frame = pl.DataFrame(cells, schema={name: pl.String for name in names}, orient="row")
    parsed = list(csv.reader(io.StringIO(csv_bytes(frame).decode("utf-8"), newline="")))
    for line in parsed:
        for cell in line:
            assert not cell.startswith(FORMULA_STARTS), repr(cell)
    # Nothing is lost: each text cell is the original, behind at most one quote.
    assert parsed[0] == [neutralise(name) for name in names]
    for line, original in zip(parsed[1:], cells, strict=True):
        assert line == ["" if cell is None else neutralise(cell) for cell in original]


@given(st.lists(st.one_of(st.integers(-(10**12), 10**12), st.none()), min_size=1, max_size=12))
def test_numbers_stay_numbers(numbers: list[int | None]) -> None:
    frame = pl.DataFrame({"count": numbers, "value": [None if n is None else n / 4 for n in numbers]})
    parsed = list(csv.reader(io.StringIO(csv_bytes(frame).decode("utf-8"), newline="")))
    for (count, value), number in zip(parsed[1:], numbers, strict=True):
        if number is None:
            assert (count, value) == ("", "")
        else:
            assert int(count) == number
            assert float(value) == number / 4


# --- the page -----------------------------------------------------------------------------


def open_trends() -> AppTest:
    return apptest.open_page(PAGE)


def labelled(expected: dict[tuple[str, str], tuple[int, int]], split: str = "all") -> dict:
    """Hand-worked rows keyed by group code, keyed instead by the label the page shows."""
    return {(trends.group_label(split, group), month): cell for (group, month), cell in expected.items()}


def table_rows(at: AppTest) -> dict[tuple[str, str], tuple[int, int]]:
    """The page table's rows as {(group, 'YYYY-MM'): (numerator, denominator)}, the group as the
    page names it ('All participants' for no split; see `labelled`)."""
    (table,) = at.dataframe
    frame = table.value
    assert list(frame.columns) == trends.TABLE_COLUMNS
    return {
        (group, f"{month:%Y-%m}"): (int(numerator), int(denominator))
        for month, group, numerator, denominator in zip(
            frame["month"], frame["group"], frame["numerator"], frame["denominator"], strict=True
        )
    }


def test_page_defaults_by_hand(page_home: Home, downloads: Downloads) -> None:
    at = open_trends()
    assert not at.exception
    assert [title.value for title in at.title] == ["Trends"]
    assert at.selectbox(key="trends-metric").value == "active_participants"
    assert at.selectbox(key="trends-split").value == "all"
    assert at.select_slider(key="trends-months").value == DEFAULT_RANGE
    metric = METRICS["active_participants"]
    assert plain_definition(metric) in at.caption.values
    # Active participants program-wide, November 2023 to May 2024 (June is not complete).
    expected = {
        "2023-11": 1,
        "2023-12": 1,
        "2024-01": 3,
        "2024-02": 4,
        "2024-03": 5,
        "2024-04": 5,
        "2024-05": 4,
    }
    assert table_rows(at) == labelled(by_group({"all": expected}))
    frame = at.dataframe[0].value
    assert [f"{month:%Y-%m}" for month in frame["month"]] == sorted(expected, reverse=True)
    assert list(frame["value"]) == [expected[k] for k in sorted(expected, reverse=True)]
    assert set(frame["flag"]) == {""}  # a count is exact: never flagged, however small
    assert len(at.get("plotly_chart")) == 1
    button, _excel = at.download_button
    data, filename = downloads.fetch(button)
    assert filename == "trends-active-participants-all-2023-11-2024-05.csv"
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert parsed[0][:2] == ["Month", "Group"] and parsed[0][5] == "Participants"
    assert [(line[1], line[0][:7], int(line[3]), int(line[4])) for line in parsed[1:]] == [
        ("All participants", month, n, n) for month, n in sorted(expected.items(), reverse=True)
    ]
    # It opens with what the chart shows, worked out from the numbers above.
    assert at.markdown[0].value == md_text("Active participants: 4 in May 2024, against 1 in Nov 2023.")
    assert [e.label for e in at.expander] == ["How this is calculated"]


def test_page_metric_split_filter_and_range(page_home: Home, downloads: Downloads) -> None:
    at = open_trends()
    at.selectbox(key="trends-metric").set_value("permanent_housing").run()
    assert not at.exception
    assert table_rows(at) == labelled(within(by_group({"all": PERMANENT_ALL}), "2023-11", "2024-05"))
    metric = METRICS["permanent_housing"]
    assert plain_definition(metric) in at.caption.values
    values = at.dataframe[0].value
    assert list(values["value"]) == pytest.approx(
        [100 * n / d for n, d in (PERMANENT_ALL[k] for k in sorted(PERMANENT_ALL)[:-1][::-1])]
    )

    at.selectbox(key="trends-split").set_value("site").run()
    assert not at.exception
    assert table_rows(at) == labelled(by_group(PERMANENT_BY_SITE), "site")
    assert [header.value for header in at.subheader] == ["In permanent housing by site"]

    at.selectbox(key="trends-split").set_value("all").run()
    at.multiselect(key="trends-referral-types").set_value(["arrest_diversion"]).run()
    assert not at.exception
    assert table_rows(at) == labelled(by_group({"all": PERMANENT_ARREST_DIVERSION}))

    at.select_slider(key="trends-months").set_value((m("2024-02"), m("2024-04"))).run()
    assert not at.exception
    assert table_rows(at) == labelled(
        within(by_group({"all": PERMANENT_ARREST_DIVERSION}), "2024-02", "2024-04")
    )
    button, _excel = at.download_button
    data, filename = downloads.fetch(button)
    assert filename == "trends-permanent-housing-all-2024-02-2024-04.csv"
    with open_release(live_release(page_home.current)) as con:
        values = trends.trend_values(
            con,
            PROGRAM,
            "permanent_housing",
            referral_types=["arrest_diversion"],
            start=m("2024-02"),
            end=m("2024-04"),
        )
    assert data == trends.table_csv(values, "permanent_housing")


def test_page_offers_days_in_jail(page_home: Home) -> None:
    at = open_trends()
    at.selectbox(key="trends-metric").set_value("jail_days").run()
    assert not at.exception
    assert METRICS["jail_days"].label in at.selectbox(key="trends-metric").options
    metric = METRICS["jail_days"]
    assert plain_definition(metric) in at.caption.values
    frame = at.dataframe[0].value
    assert (frame["value"] == frame["numerator"] / frame["denominator"]).all()


def test_page_cohort_split_under_a_site_filter(page_home: Home) -> None:
    at = open_trends()
    at.selectbox(key="trends-split").set_value("cohort").run()
    at.multiselect(key="trends-sites").set_value(["a"]).run()
    assert not at.exception
    assert table_rows(at) == labelled(by_group(ACTIVE_SITE_A_BY_COHORT), "cohort")
    (chart,) = at.get("plotly_chart")
    assert '"name":"2023-Q4"' in chart.proto.spec.replace(" ", "")


def test_page_filters_with_no_data_say_so(page_home: Home) -> None:
    at = open_trends()
    at.multiselect(key="trends-sites").set_value(["b"]).run()
    at.multiselect(key="trends-cohorts").set_value(["2023-Q4"]).run()
    assert not at.exception
    assert any("No participants match these filters" in info.value for info in at.info)
    assert not at.dataframe
    assert not at.download_button
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("state", ["no warehouse", "dangling link"])
def test_page_without_a_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: str) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    if state == "dangling link":
        (root / "warehouse").mkdir()
        (root / "warehouse" / "current.duckdb").symlink_to("release-gone.duckdb")
    apptest.serve(monkeypatch, root)
    at = open_trends()
    assert not at.exception
    assert any("No release has been published yet" in info.value for info in at.info)
    assert not at.selectbox and not at.dataframe


def test_unreadable_release_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = tmp_path / "broken" / "warehouse"
    warehouse.mkdir(parents=True)
    (warehouse / "release-broken.duckdb").write_text("not a database\n")
    (warehouse / "current.duckdb").symlink_to("release-broken.duckdb")
    apptest.serve(monkeypatch, tmp_path / "broken")
    at = open_trends()
    assert not at.exception
    assert any("could not be read" in error.value for error in at.error)


@pytest.fixture(scope="module")
def month_end_release(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """The same exports, published as of 2024-06-30: June is complete."""
    return write_release(Home(tmp_path_factory.mktemp("trends-month-end") / "home"), "2024-06-30")


@pytest.mark.parametrize(("which", "last"), [("mid-month", "2024-05"), ("month end", "2024-06")])
def test_page_stops_at_the_last_complete_month(
    which: str, last: str, release: Home, month_end_release: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As of 2024-06-15 June is under way: the months stop at May. As of 2024-06-30 June is whole.
    apptest.serve(monkeypatch, (release if which == "mid-month" else month_end_release).root)
    at = open_trends()
    assert not at.exception
    slider = at.select_slider(key="trends-months")
    assert slider.options[-1] == f"{m(last):%b %Y}"  # the last month offered
    assert slider.value == (m("2023-11"), m(last))
    assert max(month for _, month in table_rows(at)) == last
    (chart,) = at.get("plotly_chart")
    spec = chart.proto.spec
    assert f"{last}-01" in spec and ("2024-06-01" in spec) == (last == "2024-06")
    # Nor can the range be stretched into a month still under way.
    assert "2024-07-01" not in spec


def test_page_without_a_complete_month(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Everyone referred in June 2024, as of 2024-06-15: participant-months, but none complete.
    home = Home(tmp_path / "home")
    drop(home, "a", "participants", ["N1,CM1,2024-06-03,community,,,,,1990,man,white"])
    assert run(home, AS_OF).published
    apptest.serve(monkeypatch, home.root)
    at = open_trends()
    assert not at.exception
    assert any("no complete month yet" in info.value for info in at.info)
    assert not at.dataframe and not at.get("plotly_chart")


def test_page_hollow_points_match_the_flags(demo_release: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the demo program split by race, a point is hollow exactly where its table row is flagged,
    and a row is flagged exactly where its denominator is under 11."""
    apptest.serve(monkeypatch, demo_release.root)
    at = open_trends()
    at.selectbox(key="trends-metric").set_value("permanent_housing").run()
    at.selectbox(key="trends-split").set_value("race").run()
    assert not at.exception
    frame = at.dataframe[0].value
    flagged = {
        (group, f"{month:%Y-%m}"): flag == SMALL_FLAG
        for group, month, flag in zip(frame["group"], frame["month"], frame["flag"], strict=True)
    }
    small = {
        (group, f"{month:%Y-%m}"): int(d) < 11
        for group, month, d in zip(frame["group"], frame["month"], frame["denominator"], strict=True)
    }
    assert flagged == small and any(small.values()) and not all(small.values())
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    hollow = {
        (trace["name"], str(x)[:7]): symbol.endswith("-open")
        for trace in spec["data"]
        for x, symbol in zip(trace["x"], trace["marker"]["symbol"], strict=True)
    }
    assert hollow == flagged
