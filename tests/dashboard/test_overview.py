"""The Overview page, its queries and its chart, against a small release built by hand."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from dashboard.charts import overview as charts
from dashboard.findings import plain_definition
from dashboard.formatting import format_change, format_value
from dashboard.queries import overview
from dashboard.queries.release import Release, release_info
from dashboard.small_numbers import SMALL_FLAG
from pipelines.core.metrics import METRICS
from pipelines.core.periods import add_months, latest_complete_month
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


# A planted release: clear changes (a thousand people a month) beside one within its uncertainty
# (a hundred), and a rate whose denominator crosses SMALL_COUNT: 10 in January, 11 in February.
PLANTED: dict[str, list[tuple[int, int] | None]] = {
    **NUMBERS,
    # +10 pp on 1,000 a month: clearly a rise (green).
    "permanent_housing": [(300, 1000), (300, 1000), (320, 1000), (350, 1000), (400, 1000), (410, 1000)],
    # -10 pp on 1,000: clearly a fall, and a fall in shelter is bad (red).
    "sheltered": [(600, 1000), (600, 1000), (580, 1000), (550, 1000), (500, 1000), (490, 1000)],
    # +3 pp on 100 a month: within the uncertainty (grey).
    "unsheltered": [(30, 100), (30, 100), (31, 100), (32, 100), (33, 100), (33, 100)],
    # -5 pp on 1,000: clearly a fall, and a fall in arrests is good (green).
    "arrested": [(90, 1000), (100, 1000), (80, 1000), (70, 1000), (50, 1000), (50, 1000)],
    # The denominator crosses SMALL_COUNT: 10 in January (hollow, flagged), 11 from February.
    "employed": [(3, 10), (4, 11), (4, 24), (5, 25), (6, 30), (6, 31)],
}


def build_release(path: Path, numbers: dict[str, list[tuple[int, int] | None]], as_of: date = AS_OF) -> Path:
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
            [RUN_ID, as_of, datetime(2024, 6, 16, 2, 0), "v1"],
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


def serve_release(root: Path, monkeypatch: pytest.MonkeyPatch, numbers: dict, as_of: date = AS_OF) -> AppTest:
    """Publish a release of `numbers` as of `as_of` in a home of its own, and open the Overview."""
    publish(root, build_release(root / "warehouse" / "release-0001.duckdb", numbers, as_of))
    apptest.serve(monkeypatch, root)
    at = run_app()
    assert not at.exception
    return at


def tile_notes(at: AppTest) -> dict[str, str]:
    """The line under each tile's change, by the tile's label (the tiles fill the first columns)."""
    notes = {}
    for column in at.columns[:3]:
        assert len(column.metric) == len(column.caption)
        notes |= {tile.label: note.value for tile, note in zip(column.metric, column.caption, strict=True)}
    return notes


def newcombe(latest: tuple[int, int], prior: tuple[int, int]) -> tuple[float, float]:
    """The change's 95% interval straight from statsmodels (Newcombe, independent samples)."""
    low, high = confint_proportions_2indep(*latest, *prior, compare="diff", method="newcomb")
    return float(low), float(high)


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
        if METRICS[name].is_count or delta is None:
            continue
        # Every change here rests on a few dozen people: coloured only if its interval leaves out 0.
        low, high = newcombe(NUMBERS[name][MONTHS.index(LATEST)], NUMBERS[name][MONTHS.index(PRIOR)])
        interval = f"95% CI {low * 100:+.1f} to {high * 100:+.1f} pp"
        clear = low > 0 or high < 0
        assert (tile.proto.color != MetricProto.MetricColor.GRAY) == clear, name
        note = f"Beyond the uncertainty ({interval})." if clear else f"Within the uncertainty ({interval})."
        assert tile_notes(at)[tile.label] == note, name
    assert tile_notes(at)["Employed"] == "No value in Feb 2024 to compare with."


def test_tiles_are_coloured_only_when_the_interval_leaves_out_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = serve_release(tmp_path / "home", monkeypatch, PLANTED)
    tiles = {tile.label: tile.proto for tile in at.metric}
    colour = {name: tiles[METRICS[name].label].color for name in PLANTED}
    Colour, Direction = MetricProto.MetricColor, MetricProto.MetricDirection
    # 40% against 30% of 1,000: the interval is well above 0, so a green rise.
    assert newcombe((400, 1000), (300, 1000))[0] > 0.05
    assert colour["permanent_housing"] == Colour.GREEN
    assert tiles["In permanent housing"].direction == Direction.UP
    # 50% against 60% of 1,000: a clear fall in shelter is bad news, in red.
    assert colour["sheltered"] == Colour.RED
    # 5% against 10% arrested: a clear fall, good news (the colours are inverted), in green.
    assert colour["arrested"] == Colour.GREEN
    # 33% against 30% of 100: the interval spans 0, so grey, no arrow, and it says so.
    low, high = newcombe((33, 100), (30, 100))
    assert low < 0 < high
    unsheltered = tiles["Unsheltered"]
    assert unsheltered.delta == "+3.0 pp"
    assert unsheltered.color == Colour.GRAY and unsheltered.direction == Direction.NONE
    notes = tile_notes(at)
    assert unsheltered.delta_description == "vs. Feb 2024"
    assert (
        notes["Unsheltered"] == f"Within the uncertainty (95% CI {low * 100:+.1f} to {high * 100:+.1f} pp)."
    )
    housed = newcombe((400, 1000), (300, 1000))
    assert notes["In permanent housing"] == (
        f"Beyond the uncertainty (95% CI {housed[0] * 100:+.1f} to {housed[1] * 100:+.1f} pp)."
    )
    # A count has no interval: grey, a plain change.
    active = tiles["Active participants"]
    assert active.delta == "+8" and active.color == Colour.GRAY
    assert active.delta_description == "vs. Feb 2024"
    assert notes["Active participants"] == "A count of everyone: no interval."
    assert sum(c != Colour.GRAY for c in colour.values()) == 3


def test_page_opens_with_what_it_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = serve_release(tmp_path / "home", monkeypatch, PLANTED)
    # The first thing under the title: computed from the release, January to May 2024.
    assert at.markdown[0].value == (
        "52 participants were active in May 2024. From Jan 2024 to May 2024, the share in permanent "
        "housing rose from 30% to 40%; the share unsheltered went from 30% to 33%, a change within "
        "the uncertainty."
    )
    (expander,) = at.expander
    assert expander.label == "How this is calculated"
    method = " ".join(m.value for m in expander.markdown)
    assert "Newcombe" in method and "wider than it needs to be" in method


def test_trends_are_hollow_and_flagged_under_eleven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = serve_release(tmp_path / "home", monkeypatch, PLANTED)
    index = list(NUMBERS).index("employed")
    frame = at.dataframe[index].value
    months = [m.date() if hasattr(m, "date") else m for m in frame["month"]]
    flags = dict(zip(months, frame["flag"], strict=True))
    assert flags[date(2024, 1, 1)] == SMALL_FLAG  # 3 of 10
    assert flags[date(2024, 2, 1)] == ""  # 4 of 11
    assert set(flags.values()) == {SMALL_FLAG, ""}
    chart = at.get("plotly_chart")[index].proto.spec
    assert '"symbol":["circle-open","circle","circle","circle","circle"]' in chart.replace(" ", "")


@pytest.mark.parametrize(
    ("as_of", "last"),
    [(date(2024, 6, 15), date(2024, 5, 1)), (date(2024, 6, 30), date(2024, 6, 1))],
)
def test_trends_stop_at_the_last_complete_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_of: date, last: date
) -> None:
    at = serve_release(tmp_path / "home", monkeypatch, PLANTED, as_of)
    for table in at.dataframe:
        months = [m.date() if hasattr(m, "date") else m for m in table.value["month"]]
        assert max(months) == last
    tile = next(t for t in at.metric if t.label == "In permanent housing")
    # Mid-June: May against February; the last day of June: June itself against March.
    assert tile.value == ("40.0%" if last.month == 5 else "41.0%")
    assert tile.proto.delta_description == ("vs. Feb 2024" if last.month == 5 else "vs. Mar 2024")


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
        assert list(frame.columns) == ["month", "numerator", "denominator", "value", "flag"]
        assert list(frame["flag"]) == [SMALL_FLAG if d < 11 else "" for _, _, d in rows]
        assert [(int(n), int(d)) for n, d in zip(frame["numerator"], frame["denominator"], strict=True)] == [
            (n, d) for _, n, d in rows
        ]
        assert list(frame["value"]) == pytest.approx([100 * n / d for _, n, d in rows])  # in percent


def test_overview_defines_every_metric(page_home: Path) -> None:
    at = run_app()
    captions = [caption.value for caption in at.caption]
    for metric in (METRICS[name] for name in NUMBERS):  # the headline measures it shows
        line = plain_definition(metric)
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
        # An as-of date on a month's last day completes that month (a leap February too).
        (date(2024, 1, 30), date(2023, 12, 1)),
        (date(2024, 1, 31), date(2024, 1, 1)),
        (date(2024, 2, 29), date(2024, 2, 1)),
        (date(2024, 2, 28), date(2024, 1, 1)),
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
    # The change's 95% interval, as statsmodels gives it; it spans 0, so the change is not clear.
    assert (arrested["change_low"], arrested["change_high"]) == pytest.approx(newcombe((3, 52), (5, 44)))
    assert arrested["change_low"] < 0 < arrested["change_high"] and arrested["clear"] is False
    assert employed["change_low"] is None and employed["clear"] is False
    active = overview.kpis(con, PROGRAM, ["active_participants"], AS_OF).row(0, named=True)
    assert active["change"] == 8 and active["change_low"] is None and active["clear"] is False


def series_frame(months: list[date], cells: list[tuple[int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "month": months,
            "numerator": [n for n, _ in cells],
            "denominator": [d for _, d in cells],
            "value": [n / d for n, d in cells],
        }
    )


def test_headline_over_twelve_months() -> None:
    months = [add_months(date(2023, 1, 1), i) for i in range(15)]
    latest = months[-1]  # March 2024; a year earlier, March 2023
    housed = [(200 + 5 * i, 1000) for i in range(15)]  # 21% in March 2023, 27% in March 2024
    unsheltered = [(31, 100)] * 14 + [(29, 100)]  # 31% to 29% of 100: within the uncertainty
    active = [(1000, 1000)] * 15
    text = overview.headline(
        {
            "active_participants": series_frame(months, active),
            "permanent_housing": series_frame(months, housed),
            "unsheltered": series_frame(months, unsheltered),
        },
        latest,
    )
    assert text == (
        "1,000 participants were active in Mar 2024. Over the 12 months to Mar 2024, the share in "
        "permanent housing rose from 21% to 27%; the share unsheltered went from 31% to 29%, a change "
        "within the uncertainty."
    )
    # A clear fall says so; a release without the month has nothing to say.
    falling = series_frame(months, [(400, 1000)] * 14 + [(300, 1000)])
    fell = overview.headline({"unsheltered": falling}, latest)
    assert fell == "Over the 12 months to Mar 2024, the share unsheltered fell from 40% to 30%."
    assert overview.headline({"unsheltered": series_frame(months[:3], unsheltered[:3])}, latest) is None


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
