"""The Overview page, its queries and its chart, against a small release built by hand."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts import overview as charts
from dashboard.formatting import format_change, format_value
from dashboard.queries import overview
from dashboard.queries.release import Release, release_info
from pipelines.core.metrics import METRICS
from pipelines.core.periods import latest_complete_month
from pipelines.core.release import live_release
from pipelines.core.scope import PROGRAM
from pipelines.core.settings import Home
from tests import apptest

APP = "../dashboard/app.py"
AS_OF = date(2024, 6, 15)
MONTHS = [date(2024, m, 1) for m in range(1, 7)]  # June is the as-of month: not yet complete.
LATEST, PRIOR = date(2024, 5, 1), date(2024, 2, 1)
RUN_ID = "20240616T020000-test"

# (numerator, denominator) per month, January to June 2024; None: no row (denominator 0).
NUMBERS: dict[str, list[tuple[int, int] | None]] = {
    "active_participants": [(40, 40), (44, 44), (47, 47), (50, 50), (52, 52), (53, 53)],
    "permanent_housing": [(8, 32), (9, 36), (11, 38), (13, 40), (15, 42), (16, 43)],
    "sheltered": [(20, 32), (23, 36), (26, 38), (28, 40), (30, 42), (31, 43)],
    "unsheltered": [(12, 32), (13, 36), (12, 38), (12, 40), (12, 42), (12, 43)],
    "treatment_engaged": [(10, 40), (11, 44), (12, 47), (13, 50), (13, 52), (14, 53)],
    "employed": [(3, 20), None, (4, 24), (5, 25), (6, 30), (6, 31)],
    "employment_continuum": [(6, 20), (7, 22), (8, 24), (9, 25), (10, 30), (10, 31)],
    "income_or_benefits": [(18, 30), (20, 33), (22, 35), (24, 37), (26, 40), (27, 41)],
    "arrested": [(6, 40), (5, 44), (5, 47), (4, 50), (3, 52), (1, 53)],
}
# A site row per metric and month: the overview must read only dimension 'all'.
SITE_ROW = (999, 1000)


def build_release(path: Path, numbers: dict[str, list[tuple[int, int] | None]]) -> Path:
    """Write a release file with metric_values and release, as the nightly publishes them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for metric, months in numbers.items():
        for month, cell in zip(MONTHS, months, strict=True):
            if cell is not None:
                # A count's value is the count itself; a rate's is numerator / denominator.
                value = cell[0] if METRICS[metric].is_count else cell[0] / cell[1]
                rows.append((metric, month, "all", "all", cell[0], cell[1], value))
            rows.append((metric, month, "site", "north", *SITE_ROW, SITE_ROW[0] / SITE_ROW[1]))
    with duckdb.connect(str(path)) as con:
        con.sql(
            """
            create table metric_values (
                metric varchar, month date, dimension varchar, grp varchar,
                numerator bigint, denominator bigint, value double
            )
            """
        )
        con.executemany("insert into metric_values values (?, ?, ?, ?, ?, ?, ?)", rows)
        con.sql(
            """
            create table release (
                run_id varchar, as_of date, built_at timestamp, metrics_version varchar
            )
            """
        )
        con.execute(
            "insert into release values (?, ?, ?, ?)",
            [RUN_ID, AS_OF, datetime(2024, 6, 16, 2, 0), "v1"],
        )
    return path


def publish(home: Path, release_file: Path) -> None:
    """Point current.duckdb at a release file, swapping the link atomically like the nightly."""
    current = home / "warehouse" / "current.duckdb"
    staging = current.with_name("current.duckdb.new")
    staging.unlink(missing_ok=True)
    staging.symlink_to(release_file.name)
    os.replace(staging, current)


@pytest.fixture
def page_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder with one published release, set as OUTCOMES_HOME."""
    root = tmp_path / "home"
    release_file = build_release(root / "warehouse" / "release-0001.duckdb", NUMBERS)
    publish(root, release_file)
    apptest.serve(monkeypatch, root)
    return root


@pytest.fixture
def con(page_home: Path) -> duckdb.DuckDBPyConnection:
    """The published release opened the way the dashboard opens it."""
    with apptest.release_connection(Home(page_home)) as connection:
        yield connection


def run_app() -> AppTest:
    return apptest.app().run()


def rate(cell: tuple[int, int]) -> float:
    return cell[0] / cell[1]


def expected_kpi(metric: str) -> tuple[str, str | None]:
    """The tile's value and delta, worked out from NUMBERS alone."""
    latest, prior = NUMBERS[metric][MONTHS.index(LATEST)], NUMBERS[metric][MONTHS.index(PRIOR)]
    assert latest is not None
    if METRICS[metric].is_count:
        change = latest[0] - prior[0] if prior else None
        return f"{latest[0]:,}", None if change is None else f"{change:+d}" if change else "0"
    points = None if prior is None else round((rate(latest) - rate(prior)) * 100, 1)
    delta = None if points is None else "0.0 pp" if points == 0 else f"{points:+.1f} pp"
    return f"{rate(latest) * 100:.1f}%", delta


def complete_rows(metric: str) -> list[tuple[date, int, int]]:
    """The fixture's program-wide rows for complete months (through May)."""
    return [
        (month, cell[0], cell[1])
        for month, cell in zip(MONTHS, NUMBERS[metric], strict=True)
        if cell is not None and month <= LATEST
    ]


# --- the page -----------------------------------------------------------------------------


def test_overview_renders_kpis_with_quarter_change(page_home: Path) -> None:
    at = run_app()
    assert not at.exception
    tiles = {tile.label: tile for tile in at.metric}
    # Tiles sit in a grid of columns, so the element tree lists them column by column.
    assert sorted(tiles) == sorted(METRICS[name].label for name in NUMBERS)
    for name in NUMBERS:
        value, delta = expected_kpi(name)
        tile = tiles[METRICS[name].label]
        assert tile.value == value, name
        assert (tile.delta or None) == delta, name
        if delta is not None:
            assert tile.proto.delta_description == "vs. Feb 2024", name


def test_kpi_expectations_by_hand() -> None:
    # An anchor for expected_kpi itself: 15/42 = 35.7%, 9/36 = 25.0%, so +10.7 pp.
    assert expected_kpi("permanent_housing") == ("35.7%", "+10.7 pp")
    assert expected_kpi("unsheltered") == ("28.6%", "-7.5 pp")
    assert expected_kpi("treatment_engaged") == ("25.0%", "0.0 pp")
    assert expected_kpi("employed") == ("20.0%", None)
    assert expected_kpi("active_participants") == ("52", "+8")


def test_overview_tables_hold_the_release_rows(page_home: Path) -> None:
    at = run_app()
    assert not at.exception
    assert len(at.dataframe) == len(NUMBERS)
    for name, table in zip(NUMBERS, at.dataframe, strict=True):
        frame = table.value
        rows = complete_rows(name)[::-1]  # newest month first
        months = [m.date() if hasattr(m, "date") else m for m in frame["month"]]
        assert months == [m for m, _, _ in rows], name
        if METRICS[name].is_count:
            # A count is its own numerator and denominator: one column shows it.
            assert list(frame.columns) == ["month", "value"]
            assert list(frame["value"]) == [n for _, n, _ in rows]
            continue
        assert list(frame.columns) == ["month", "numerator", "denominator", "value"]
        assert [(int(n), int(d)) for n, d in zip(frame["numerator"], frame["denominator"], strict=True)] == [
            (n, d) for _, n, d in rows
        ]
        assert list(frame["value"]) == pytest.approx([100 * n / d for _, n, d in rows])  # in percent


def test_overview_defines_every_metric(page_home: Path) -> None:
    at = run_app()
    captions = [caption.value for caption in at.caption]
    for metric in (METRICS[name] for name in NUMBERS):  # the headline measures it shows
        line = f"Numerator: {metric.numerator}; denominator: {metric.denominator}."
        assert line in captions, metric.name
    assert [header.value for header in at.subheader] == [METRICS[n].label for n in NUMBERS]


def test_sidebar_names_the_release(page_home: Path) -> None:
    at = run_app()
    sidebar = [e.value for e in at.sidebar.markdown] + [e.value for e in at.sidebar.caption]
    text = " ".join(sidebar)
    assert "2024-06-15" in text
    assert RUN_ID in text


def test_demo_banner_never_over_data_the_demo_did_not_write(
    page_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This release was built by hand, not by `outcomes demo`: demo mode shows neither banner nor
    # numbers (tests/dashboard/test_access.py shows the banner on the demo's own home).
    banner = "Demo data: synthetic participants, not a real program"
    assert banner not in [w.value for w in run_app().warning]
    monkeypatch.setenv("OUTCOMES_DEMO", "1")
    at = run_app()
    assert not at.exception
    assert banner not in [w.value for w in at.warning]
    assert not at.metric and not at.dataframe


@pytest.mark.parametrize("state", ["no warehouse", "dangling link"])
def test_no_release_says_how_to_make_one(empty_home: Path, state: str) -> None:
    if state == "dangling link":
        (empty_home / "warehouse").mkdir()
        (empty_home / "warehouse" / "current.duckdb").symlink_to("release-gone.duckdb")
    at = run_app()
    assert not at.exception
    assert any("outcomes nightly" in info.value for info in at.info)
    assert not at.metric and not at.dataframe
    assert "No release yet" in [c.value for c in at.sidebar.caption]


def test_unreadable_release_is_reported_not_raised(empty_home: Path) -> None:
    warehouse = empty_home / "warehouse"
    warehouse.mkdir()
    (warehouse / "release-broken.duckdb").write_text("not a database\n")
    publish(empty_home, warehouse / "release-broken.duckdb")
    at = run_app()
    assert not at.exception
    assert any("could not be read" in error.value for error in at.error)
    assert not at.metric


def test_new_release_is_picked_up_on_the_next_run(page_home: Path) -> None:
    at = run_app()
    assert at.metric[0].value == "52"
    bigger = {
        **NUMBERS,
        "active_participants": [(n * 10, d * 10) for n, d in NUMBERS["active_participants"]],
    }
    publish(page_home, build_release(page_home / "warehouse" / "release-0002.duckdb", bigger))
    at.run()
    assert not at.exception
    assert at.metric[0].value == "520"
    assert at.metric[0].delta == "+80"


# --- queries ------------------------------------------------------------------------------


def test_release_path_follows_the_link(page_home: Path, tmp_path: Path) -> None:
    assert live_release(Home(page_home).current) == (page_home / "warehouse" / "release-0001.duckdb")
    assert live_release(Home(tmp_path / "nowhere").current) is None


def test_release_info(con: duckdb.DuckDBPyConnection) -> None:
    release = release_info(con)
    assert release == Release(RUN_ID, AS_OF, datetime(2024, 6, 16, 2, 0), "v1")


@pytest.mark.parametrize(
    ("as_of", "month"),
    [
        (date(2024, 6, 15), date(2024, 5, 1)),
        (date(2024, 6, 1), date(2024, 5, 1)),
        (date(2024, 1, 31), date(2023, 12, 1)),
    ],
)
def test_latest_complete_month(as_of: date, month: date) -> None:
    assert latest_complete_month(as_of) == month


def test_metric_series_is_program_wide(con: duckdb.DuckDBPyConnection) -> None:
    series = overview.metric_series(con, PROGRAM, "permanent_housing")
    assert series.columns == ["month", "numerator", "denominator", "value"]
    assert series.select("month", "numerator", "denominator").rows() == [
        (month, *cell) for month, cell in zip(MONTHS, NUMBERS["permanent_housing"], strict=True)
    ]
    through = overview.metric_series(con, PROGRAM, "permanent_housing", LATEST)
    assert through["month"].to_list() == MONTHS[:5]


def test_metric_name_is_bound_not_spliced(con: duckdb.DuckDBPyConnection) -> None:
    assert overview.metric_series(con, PROGRAM, "permanent_housing' or '1'='1").is_empty()
    assert overview.metric_series(con, PROGRAM, "x'; drop table metric_values; --").is_empty()
    assert not overview.metric_series(con, PROGRAM, "arrested").is_empty()


def test_kpis(con: duckdb.DuckDBPyConnection) -> None:
    kpis = overview.kpis(con, PROGRAM, ["arrested", "employed", "not_a_metric"], AS_OF)
    assert kpis["metric"].to_list() == ["arrested", "employed", "not_a_metric"]
    assert kpis["month"].to_list() == [LATEST] * 3
    assert kpis["prior_month"].to_list() == [PRIOR] * 3
    arrested, employed, unknown = kpis.iter_rows(named=True)
    assert (arrested["numerator"], arrested["denominator"]) == (3, 52)
    assert (arrested["prior_numerator"], arrested["prior_denominator"]) == (5, 44)
    assert arrested["change"] == pytest.approx(3 / 52 - 5 / 44)
    assert employed["value"] == pytest.approx(6 / 30)
    assert employed["prior_value"] is None and employed["change"] is None
    assert unknown["value"] is None


def test_release_is_read_only(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error, match="read-only"):
        con.sql("insert into release values ('x', date '2024-01-01', null, 'v1')")
    with pytest.raises(duckdb.Error):
        con.sql("delete from metric_values")
    assert con.sql("select count(*) from metric_values").fetchall()[0][0] > 0


def test_release_has_no_file_access_and_cannot_unlock(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    with pytest.raises(duckdb.Error):
        con.sql("select * from read_csv($path)", params={"path": str(outside)}).fetchall()
    with pytest.raises(duckdb.Error):
        con.sql("copy metric_values to $path", params={"path": str(tmp_path / "out.csv")})
    with pytest.raises(duckdb.Error):
        con.sql("set enable_external_access = true")
    with pytest.raises(duckdb.Error):
        con.sql("attach $path as other", params={"path": str(tmp_path / "other.duckdb")})


# --- chart and formats --------------------------------------------------------------------


def test_trend_chart_carries_the_numbers(con: duckdb.DuckDBPyConnection) -> None:
    series = overview.metric_series(con, PROGRAM, "unsheltered", LATEST)
    figure = charts.trend_chart(series, "unsheltered")
    (trace,) = figure.data
    rows = complete_rows("unsheltered")
    assert [pl.Series([x]).cast(pl.Date)[0] for x in trace.x] == [m for m, _, _ in rows]
    assert list(trace.y) == pytest.approx([n / d for _, n, d in rows])
    assert [tuple(c) for c in trace.customdata] == [(n, d) for _, n, d in rows]
    assert "customdata[0]" in trace.hovertemplate and "customdata[1]" in trace.hovertemplate
    assert figure.layout.xaxis.title.text == "Month"
    assert figure.layout.yaxis.title.text == "Percent of denominator"
    assert figure.layout.yaxis.tickformat == ".0%"
    assert trace.line.color in charts.OKABE_ITO


def test_trend_chart_counts_participants(con: duckdb.DuckDBPyConnection) -> None:
    series = overview.metric_series(con, PROGRAM, "active_participants", LATEST)
    figure = charts.trend_chart(series, "active_participants")
    assert list(figure.data[0].y) == [n for _, n, _ in complete_rows("active_participants")]
    assert figure.layout.yaxis.title.text == "Participants"


@pytest.mark.parametrize(
    ("change", "is_count", "shown"),
    [
        (0.0254, False, "+2.5 pp"),
        (-0.0754, False, "-7.5 pp"),
        (-0.0004, False, "0.0 pp"),
        (12.0, True, "+12"),
        (-3.0, True, "-3"),
        (0.0, True, "0"),
        (None, False, None),
    ],
)
def test_format_change(change: float | None, is_count: bool, shown: str | None) -> None:
    assert format_change(change, is_count) == shown


def test_format_value() -> None:
    assert format_value(0.357, False) == "35.7%"
    assert format_value(1234.0, True) == "1,234"
    assert format_value(None, False) == "—"
