"""The Data quality page, its queries and its charts, on a release built by two nightly runs.

The nightly's clock is fixed, so each export's acceptance time is known:

Run 1, as of 2024-06-15, at 2024-06-15T02:00:00Z:
  north/participants P1, P2: read 2, loaded 2.
  north/housing P1 couch, P2 tent (two unknown living situations), P1 unsheltered: read 3,
    loaded 1, quarantined 2.
  south/participants S1, S2 (referral type walk_in): read 2, loaded 1, quarantined 1.
  Totals: 3 files, read 7, loaded 4, quarantined 3, duplicates 0.
Run 2, as of 2024-06-20, at 2024-06-20T02:00:00Z:
  north/housing again, P1's couch corrected, P2's tent not, and one row sent twice: read 4,
    loaded 2, quarantined 1, duplicate 1.
  north/employment P1: read 1, loaded 1.
  south/housing with a first_name column: refused (direct identifiers), not archived.
  north/participants and south/participants stay in force (read again: 2 + 2).
  Totals: 5 files, 1 refused, read 9, loaded 6, quarantined 2, duplicates 1.
Problems after run 2: P1's couch fixed on 2024-06-20 after 5 days; P2's tent and S2's walk_in
open, first seen 2024-06-15, 5 days old at the release's as-of date (2024-06-20).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from checks.labels import label
from dashboard.charts import data_quality as charts
from dashboard.formatting import PROBLEMS_CONFIG
from dashboard.queries import data_quality as dq
from dashboard.queries.release import release_info
from pipelines.core.export import FORMULA_STARTS
from pipelines.core.palette import OKABE_ITO
from pipelines.core.release import live_release, open_release, table_names
from pipelines.core.scope import PROGRAM, Scope, ScopeError
from pipelines.core.settings import SETTLE_SECONDS, Home
from pipelines.nightly import report
from tests import apptest
from tests.conftest import Downloads, drop, run

PAGE = "app_pages/data_quality.py"
RUN1, RUN2 = "2024-06-15", "2024-06-20"
CLOCK1, CLOCK2 = "2024-06-15T02:00:00Z", "2024-06-20T02:00:00Z"

P1 = "P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"
P2 = "P2,CM2,2024-01-10,community,,,,,1985,woman,white"
S1 = "S1,CM9,2024-01-10,community,,,,,1985,woman,white"
S2 = "S2,CM9,2024-01-10,walk_in,,,,,1980,man,white"
IDENTIFIED = "participant_id,assessed_on,living_situation,first_name"


def nightly_at(home: Home, as_of: str, clock: str, monkeypatch: pytest.MonkeyPatch) -> report.Run:
    """A nightly run whose clock (acceptance and start times) reads `clock`."""
    monkeypatch.setattr(report, "now_utc", lambda: clock)
    return run(home, as_of)


def two_runs(root: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """The module docstring's two runs, in a home of their own."""
    home = Home(root)
    drop(home, "north", "participants", [P1, P2])
    drop(home, "north", "housing", ["P1,2024-02-01,couch", "P2,2024-02-01,tent", "P1,2024-03-01,unsheltered"])
    drop(home, "south", "participants", [S1, S2])
    assert nightly_at(home, RUN1, CLOCK1, monkeypatch).published
    drop(
        home,
        "north",
        "housing",
        [
            "P1,2024-02-01,unsheltered",
            "P2,2024-02-01,tent",
            "P1,2024-03-01,unsheltered",
            "P1,2024-03-01,unsheltered",
        ],
    )
    drop(home, "north", "employment", ["P1,2024-02-01,part_time,yes"])
    drop(home, "south", "housing", ["S1,2024-02-01,unsheltered,Sam"], header=IDENTIFIED)
    assert nightly_at(home, RUN2, CLOCK2, monkeypatch).published
    return home


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """The two runs' release, built once for the module."""
    with pytest.MonkeyPatch.context() as patch:
        yield two_runs(tmp_path_factory.mktemp("dq") / "home", patch)


def open_page() -> AppTest:
    at = apptest.open_page(PAGE)
    assert not at.exception
    return at


def table(at: AppTest, first_column: str, *more: str) -> pl.DataFrame:
    """The one table on the page whose columns start with these."""
    wanted = [first_column, *more]
    found = [
        pl.from_pandas(frame.value)
        for frame in at.dataframe
        if list(frame.value.columns)[: len(wanted)] == wanted
    ]
    assert len(found) == 1, f"{len(found)} tables start with {wanted}"
    return found[0]


def as_shown(rows: list[tuple], columns: list[str], status: str = "file_status") -> list[tuple]:
    """Expected rows (of codes) as the page shows them: tables, statuses and rules by their labels."""
    vocabularies = {"table_name": "table", "status": status, "rule": "rule"}
    return [
        tuple(
            label(vocabularies[c], v) if c in vocabularies else v for c, v in zip(columns, row, strict=True)
        )
        for row in rows
    ]


def day(value: object) -> date | None:
    """A date cell as AppTest hands it back (a datetime, a date, or null)."""
    return value.date() if isinstance(value, datetime) else value


RUN2_FILES = [
    # site, table, status, read, loaded, quarantined, duplicate
    ("north", "employment", "new", 1, 1, 0, 0),
    ("north", "housing", "new", 4, 2, 1, 1),
    ("north", "participants", "in_force", 2, 2, 0, 0),
    ("south", "housing", "refused", 0, 0, 0, 0),
    ("south", "participants", "in_force", 2, 1, 1, 0),
]
RUN1_FILES = [
    ("north", "housing", "new", 3, 1, 2, 0),
    ("north", "participants", "new", 2, 2, 0, 0),
    ("south", "participants", "new", 2, 1, 1, 0),
]
ACCOUNTING = [
    "site_id",
    "table_name",
    "status",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_duplicate",
]

# Freshness on 2024-06-21, worked by hand from the acceptance dates (state, days since).
FRESHNESS_JUNE_21 = {
    ("north", "participants"): ("stale", 6),  # accepted 2024-06-15
    ("north", "housing"): ("up to date", 1),  # accepted again 2024-06-20
    ("north", "treatment"): ("missing", None),
    ("north", "employment"): ("up to date", 1),
    ("north", "justice"): ("not sent (optional)", None),
    ("south", "participants"): ("stale", 6),
    ("south", "housing"): ("missing", None),  # its only file was refused
    ("south", "treatment"): ("missing", None),
    ("south", "employment"): ("missing", None),
    ("south", "justice"): ("not sent (optional)", None),
}


# --- the page -----------------------------------------------------------------------------


def test_run_history_newest_first_with_totals(page_home: Home) -> None:
    at = open_page()
    runs = table(at, "started_at", "as_of", "status")
    assert [day(d) for d in runs["as_of"]] == [date(2024, 6, 20), date(2024, 6, 15)]
    assert runs.select(
        "status",
        "in_release",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "rows_duplicate",
        "files",
        "files_refused",
    ).rows() == [
        ("Published", True, 9, 6, 2, 1, 5, 1),
        ("Published", False, 7, 4, 3, 0, 3, 0),
    ]


def test_files_of_the_chosen_run_add_up(page_home: Home) -> None:
    at = open_page()
    files = table(at, "site_id", "table_name", "status", "rows_read")
    assert files.select(ACCOUNTING).rows() == as_shown(RUN2_FILES, ACCOUNTING)
    assert files["adds_up"].all()
    assert (
        files["rows_read"] == files["rows_loaded"] + files["rows_quarantined"] + files["rows_duplicate"]
    ).all()
    # The older run, chosen in the box, has its own files.
    runs = table(at, "started_at", "as_of", "status")
    at.selectbox(key="dq-run").set_value(runs["run_id"][1]).run()
    assert not at.exception
    files = table(at, "site_id", "table_name", "status", "rows_read")
    assert files.select(ACCOUNTING).rows() == as_shown(RUN1_FILES, ACCOUNTING)
    assert all(path.startswith("archive/") for path in files["path"])


def test_a_problem_fixed_by_the_second_export_shows_as_fixed_after_5_days(page_home: Home) -> None:
    at = open_page()
    fixed = table(
        at, "site_id", "table_name", "participant_id", "column_name", "rule", "value", "message", "first_seen"
    )
    assert fixed.select("site_id", "participant_id", "value", "days_to_fix").rows() == [
        ("north", "P1", "couch", 5)
    ]
    assert [day(fixed["first_seen"][0]), day(fixed["fixed_on"][0])] == [date(2024, 6, 15), date(2024, 6, 20)]


def test_open_problems_show_their_age_and_how_to_fix_them(page_home: Home) -> None:
    at = open_page()
    open_rows = table(at, "site_id", "table_name", "participant_id", "case_manager_id")
    assert sorted(
        open_rows.select("site_id", "table_name", "participant_id", "column_name", "value", "age_days").rows()
    ) == [
        ("north", "Housing", "P2", "living_situation", "tent", 5),
        ("south", "Participants", "S2", "referral_type", "walk_in", 5),
    ]
    assert set(open_rows["rule"]) == {label("rule", "allowed_values")}
    assert {day(d) for d in open_rows["first_seen"]} == {date(2024, 6, 15)}
    assert all(open_rows["fix"]) and all(open_rows["message"])
    # The row is the spreadsheet row of the latest file: P2's tent is on row 3 (header = 1).
    assert open_rows.filter(pl.col("participant_id") == "P2")["row_number"].to_list() == [3]
    assert open_rows.filter(pl.col("participant_id") == "P2")["case_manager_id"].to_list() == ["CM2"]


def test_summary_per_site(page_home: Home) -> None:
    at = open_page()
    summary = table(at, "site_id", "open_problems")
    assert summary.rows() == [
        # site, open, median age, oldest, fixed, median days to fix
        ("north", 1, 5.0, 5, 1, 5.0),
        ("south", 1, 5.0, 5, 0, None),
    ]


def test_problems_filter_by_site_and_table(page_home: Home) -> None:
    at = open_page()
    at.selectbox(key="dq-problem-site").set_value("south").run()
    assert not at.exception
    assert table(at, "site_id", "table_name", "participant_id", "case_manager_id")["site_id"].to_list() == [
        "south"
    ]
    assert table(at, "site_id", "open_problems")["site_id"].to_list() == ["south"]
    assert "Download open problems, south (CSV)" in [b.label for b in at.get("download_button")]
    at.multiselect(key="dq-problem-tables").set_value(["housing"]).run()
    assert not at.exception
    assert "No open problem for these filters." in [i.value for i in at.info]
    assert "No problem has been fixed yet for these filters." in [i.value for i in at.info]


def test_refused_file_is_shown_with_its_message(page_home: Home) -> None:
    at = open_page()
    refused = table(at, "site_id", "table_name", "path", "status", "error")
    assert refused.select("site_id", "table_name", "path", "status").rows() == [
        ("south", "Housing", "inbox/south/housing.csv", "Refused")
    ]
    assert "direct identifiers" in refused["error"][0] and "first_name" in refused["error"][0]
    history = table(at, "site_id", "table_name", "path", "error", "first_refused")
    assert history.select("site_id", "table_name", "runs").rows() == [("south", "Housing", 1)]
    assert day(history["last_refused"][0]) == date(2024, 6, 20)


def test_a_held_export_says_how_to_accept_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Home(tmp_path / "home")
    people = [f"N{i},CM1,2024-01-10,community,,,,,1985,woman,white" for i in range(5)]
    drop(home, "north", "participants", people)
    run(home, RUN1)
    drop(home, "north", "participants", people[:2])
    assert run(home, RUN2).published
    apptest.serve(monkeypatch, home.root)
    at = open_page()
    [held] = [w.value.replace("\\", "") for w in at.warning]
    assert held.startswith("north: Participants is held: 2 rows where the export in force has 5")
    assert "accept it with `outcomes nightly --accept north/participants`" in held
    with apptest.release_connection(home) as connection:
        assert dq.held_exports(connection, PROGRAM).select("site_id", "table_name", "path").rows() == [
            ("north", "participants", "inbox/north/participants.csv")
        ]
        assert dq.held_exports(connection, Scope("south")).is_empty()
        fresh = dq.freshness(connection, PROGRAM, date(2024, 6, 21))
    # The export in force is the one accepted at the first run, not the held one.
    assert fresh.filter(pl.col("table_name") == "participants")["path"].to_list() == [
        "archive/north/participants/" + next((home.archive / "north" / "participants").iterdir()).name
    ]


def test_a_site_whose_only_file_is_still_being_written_has_no_export_yet(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    drop(home, "north", "participants", [P1, P2])
    run(home, RUN1)
    drop(home, "south", "participants", [S1])
    assert run(home, RUN2, settle=SETTLE_SECONDS).published
    with apptest.release_connection(home) as connection:
        assert dq.problem_sites(connection, PROGRAM) == ["north"]
        assert dq.problem_summary(connection, PROGRAM)["site_id"].to_list() == ["north"]
        assert dq.freshness(connection, PROGRAM, date(2024, 6, 21))["site_id"].unique().to_list() == ["north"]
        assert dq.quarantine_by_run(connection, PROGRAM, by_site=True)["site_id"].unique().to_list() == [
            "north"
        ]


def test_freshness_against_today(page_home: Home) -> None:
    today = datetime.now(UTC).date()
    at = open_page()
    fresh = table(at, "site_id", "table_name", "state", "days_since")
    assert any(f"to today ({today:%Y-%m-%d})" in caption.value for caption in at.caption)
    shown = {
        (site, name): (state, days) for site, name, state, days in fresh.select(fresh.columns[:4]).rows()
    }
    assert set(shown) == {(site, label("table", table)) for site, table in FRESHNESS_JUNE_21}
    for (site, table_name), (state, _) in FRESHNESS_JUNE_21.items():
        accepted = {("north", "housing"), ("north", "employment")}
        days = (today - date(2024, 6, 20 if (site, table_name) in accepted else 15)).days
        key = (site, label("table", table_name))
        if state in ("missing", "not sent (optional)"):
            assert shown[key][1] is None or shown[key][1] != shown[key][1], key  # null (NaN in pandas)
            assert shown[key][0] == state, key
        else:
            assert shown[key] == ("stale", days), key  # every export is long stale today
    tiles = {tile.label: tile.value for tile in at.metric}
    assert tiles == {
        "Up to date": "0",
        "Stale (> 2 days)": "4",
        "Missing or unreadable": "4",
        "Optional, not sent": "2",
    }


def test_quarantine_over_runs_chart_and_table(page_home: Home) -> None:
    at = open_page()
    assert [chart.key for chart in at.get("plotly_chart")] == ["dq-quarantine-chart", "dq-problems-chart"]
    numbers = table(at, "run_label", "rows_quarantined")
    assert numbers.select("run_label", "rows_quarantined", "rows_read", "status").rows() == [
        (RUN2, 2, 9, "Published"),
        (RUN1, 3, 7, "Published"),
    ]
    assert numbers["share"].to_list() == pytest.approx([100 * 2 / 9, 100 * 3 / 7])
    at.toggle(key="dq-by-site").set_value(True).run()
    assert not at.exception
    by_site = table(at, "run_label", "site_id", "rows_quarantined")
    assert by_site.select("run_label", "site_id", "rows_quarantined", "rows_read").rows() == [
        (RUN2, "north", 1, 7),
        (RUN2, "south", 1, 2),
        (RUN1, "north", 2, 5),
        (RUN1, "south", 1, 2),
    ]


def test_every_chart_has_a_caption(page_home: Home) -> None:
    at = open_page()
    captions = " ".join(caption.value for caption in at.caption)
    assert "Rows quarantined: data rows" in captions
    assert "Share: rows quarantined ÷ rows read" in captions
    assert "Per site: open problems, the median and oldest age" in captions


def test_no_release_says_how_to_make_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apptest.serve(monkeypatch, tmp_path / "empty")
    at = open_page()
    assert any("outcomes nightly" in info.value for info in at.info)
    assert not at.dataframe


def test_a_release_from_before_problem_tracking_still_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(tmp_path / "home")
    drop(home, "north", "participants", [P1, P2])
    run(home, RUN1)
    with duckdb.connect(str(home.current.resolve())) as writable:
        writable.sql("drop table problems")
        writable.sql("drop table run_files")
    apptest.serve(monkeypatch, home.root)
    at = open_page()
    assert dq.NO_TRACKING in [info.value for info in at.info]
    files = table(at, "site_id", "table_name", "status", "rows_read")
    assert files.select(ACCOUNTING).rows() == [("north", "Participants", "New", 2, 2, 0, 0)]
    assert at.toggle(key="dq-by-site").disabled


# --- queries ------------------------------------------------------------------------------


def test_freshness_with_a_fixed_reference_date(con: duckdb.DuckDBPyConnection) -> None:
    fresh = dq.freshness(con, PROGRAM, date(2024, 6, 21))
    assert {(s, t): (state, days) for s, t, state, days in fresh.select(fresh.columns[:4]).rows()} == (
        FRESHNESS_JUNE_21
    )
    # Sites in order, tables in the contract's order.
    assert fresh.select("site_id", "table_name").rows()[:5] == [
        ("north", t) for t in ("participants", "housing", "treatment", "employment", "justice")
    ]
    south_housing = fresh.filter((pl.col("site_id") == "south") & (pl.col("table_name") == "housing"))
    assert south_housing["refused_files"].to_list() == [1]
    assert fresh.filter(pl.col("table_name") == "justice")["optional"].all()
    assert dq.freshness_counts(fresh) == {
        "up to date": 2,
        "stale": 2,
        "missing": 4,
        "unreadable": 0,
        "not sent (optional)": 2,
    }


@pytest.mark.parametrize(
    ("today", "state", "days"),
    [
        (date(2024, 6, 15), "up to date", 0),
        (date(2024, 6, 17), "up to date", 2),  # two days old: not yet older than 2 days
        (date(2024, 6, 18), "stale", 3),
    ],
)
def test_stale_after_more_than_two_days(
    con: duckdb.DuckDBPyConnection, today: date, state: str, days: int
) -> None:
    fresh = dq.freshness(con, PROGRAM, today)
    row = fresh.filter((pl.col("site_id") == "north") & (pl.col("table_name") == "participants"))
    assert row.select("state", "days_since").rows() == [(state, days)]
    assert row["accepted_on"].to_list() == [date(2024, 6, 15)]


def test_stale_after_is_a_parameter(con: duckdb.DuckDBPyConnection) -> None:
    fresh = dq.freshness(con, PROGRAM, date(2024, 6, 21), stale_after_days=7)
    assert set(fresh.filter(pl.col("days_since").is_not_null())["state"]) == {"up to date"}


def test_run_history(con: duckdb.DuckDBPyConnection) -> None:
    runs = dq.run_history(con, PROGRAM)
    assert runs.columns == list(dq.RUN_COLUMNS)
    assert runs["run_label"].to_list() == [RUN2, RUN1]
    assert runs["started_at"].to_list() == [datetime(2024, 6, 20, 2), datetime(2024, 6, 15, 2)]
    assert runs["in_release"].to_list() == [True, False]
    assert runs["run_id"][0] == release_info(con).run_id


def test_runs_sharing_an_as_of_date_are_told_apart_by_start_time() -> None:
    frame = pl.DataFrame(
        {
            "as_of": [date(2024, 6, 20), date(2024, 6, 20), date(2024, 6, 15)],
            "started_at": [
                datetime(2024, 6, 20, 9, 5, 1),
                datetime(2024, 6, 20, 2),
                datetime(2024, 6, 15, 2),
            ],
        }
    )
    assert dq.with_run_labels(frame)["run_label"].to_list() == [
        "2024-06-20 (09:05:01)",
        "2024-06-20 (02:00:00)",
        "2024-06-15",
    ]


def test_run_files(con: duckdb.DuckDBPyConnection) -> None:
    runs = dq.run_history(con, PROGRAM)
    assert dq.run_files(con, PROGRAM, runs["run_id"][0]).select(ACCOUNTING).rows() == RUN2_FILES
    assert dq.run_files(con, PROGRAM, runs["run_id"][1]).select(ACCOUNTING).rows() == RUN1_FILES
    assert dq.run_files(con, PROGRAM, "no such run' or '1'='1").is_empty()


def test_refused_files(con: duckdb.DuckDBPyConnection) -> None:
    refused = dq.refused_files(con, PROGRAM)
    assert refused.select("site_id", "table_name", "status").rows() == [("south", "housing", "refused")]


def test_a_file_refused_run_after_run_is_listed_once(tmp_path: Path) -> None:
    other = Home(tmp_path / "again")
    drop(other, "north", "participants", [P1])
    drop(other, "north", "housing", ["P1,2024-02-01,unsheltered,Pat"], header=IDENTIFIED)
    run(other, "2024-06-15")
    run(other, "2024-06-16")  # the refused file is still in the inbox
    with open_release(live_release(other.current)) as connection:
        history = dq.refusal_history(connection, PROGRAM)
    assert history.select(
        "site_id", "table_name", "path", "runs", "first_refused", "last_refused"
    ).rows() == [("north", "housing", "inbox/north/housing.csv", 2, date(2024, 6, 15), date(2024, 6, 16))]


def test_quarantine_by_run(con: duckdb.DuckDBPyConnection) -> None:
    overall = dq.quarantine_by_run(con, PROGRAM)
    assert overall.select("run_label", "site_id", "rows_quarantined", "rows_read").rows() == [
        (RUN1, "all", 3, 7),
        (RUN2, "all", 2, 9),
    ]
    by_site = dq.quarantine_by_run(con, PROGRAM, by_site=True)
    assert by_site.select("run_label", "site_id", "rows_quarantined", "rows_read").rows() == [
        (RUN1, "north", 2, 5),
        (RUN1, "south", 1, 2),
        (RUN2, "north", 1, 7),
        (RUN2, "south", 1, 2),
    ]
    # Per run, the sites add up to the run's total.
    totals = by_site.group_by("run_label").agg(pl.col("rows_quarantined").sum()).sort("run_label")
    assert totals.rows() == [(RUN1, 3), (RUN2, 2)]


def many_sites(count: int) -> pl.DataFrame:
    """Two runs of `count` sites; site k quarantines k rows of 100 at each run."""
    return pl.DataFrame(
        [
            {
                "run_id": run_id,
                "run_label": label,
                "started_at": datetime(2024, 6, day_of_month),
                "as_of": date(2024, 6, day_of_month),
                "status": "published",
                "site_id": f"site{k:02d}",
                "rows_quarantined": k,
                "rows_read": 100,
                "share": k / 100,
            }
            for run_id, label, day_of_month in (("r1", RUN1, 15), ("r2", RUN2, 20))
            for k in range(1, count + 1)
        ]
    )


def test_lump_sites_keeps_the_sites_with_most_rows_quarantined() -> None:
    lumped = dq.lump_sites(many_sites(10))
    first_run = lumped.filter(pl.col("run_id") == "r1")
    assert first_run["site_id"].to_list() == [f"site{k:02d}" for k in range(5, 11)] + [dq.OTHER_SITES]
    other = first_run.filter(pl.col("site_id") == dq.OTHER_SITES)
    assert other.select("rows_quarantined", "rows_read", "share").rows() == [(1 + 2 + 3 + 4, 400, 10 / 400)]
    assert lumped["rows_quarantined"].sum() == many_sites(10)["rows_quarantined"].sum()
    # Seven sites fit: nothing is lumped.
    assert dq.lump_sites(many_sites(7)).equals(many_sites(7))


def test_problem_summary_and_lists(con: duckdb.DuckDBPyConnection) -> None:
    assert dq.problem_summary(con, PROGRAM).rows() == [
        ("north", 1, 5.0, 5, 1, 5.0),
        ("south", 1, 5.0, 5, 0, None),
    ]
    assert dq.problem_summary(con, PROGRAM, tables=["participants"]).rows() == [
        ("south", 1, 5.0, 5, 0, None),
        ("north", 0, None, None, 0, None),
    ]
    assert dq.open_problems(con, PROGRAM).columns == list(dq.PROBLEM_COLUMNS)
    assert dq.open_problems(con, Scope("north"))["participant_id"].to_list() == ["P2"]
    assert dq.open_problems(con, PROGRAM, tables=["participants"])["participant_id"].to_list() == ["S2"]
    assert dq.fixed_problems(con, PROGRAM).columns == list(dq.FIXED_COLUMNS)
    assert dq.fixed_problems(con, Scope("south")).is_empty()
    assert dq.fixed_problems(con, PROGRAM, limit=0).is_empty()
    assert dq.problem_sites(con, PROGRAM) == ["north", "south"]


def test_filters_are_bound_not_spliced(con: duckdb.DuckDBPyConnection) -> None:
    assert dq.open_problems(con, Scope("north' or '1'='1")).is_empty()
    assert dq.open_problems(con, PROGRAM, tables=["housing') or (1=1"]).is_empty()
    assert dq.problem_summary(con, Scope("x'; drop table problems; --")).is_empty()
    assert dq.open_problems(con, PROGRAM).height == 2


def test_open_problems_csv_opens_as_data_in_a_spreadsheet(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    drop(home, "s", "participants", ["P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"])
    drop(
        home,
        "s",
        "housing",
        ["P1,2024-02-01,=cmd|' /C calc'!A0", "P1,2024-03-01,+couch", "P1,2024-04-01,@sofa"],
    )
    run(home, RUN1)
    with open_release(live_release(home.current)) as connection:
        rows = dq.open_problems(connection, Scope("s"))
    parsed = list(csv.reader(io.StringIO(dq.open_problems_csv(rows).decode("utf-8"))))
    header, body = parsed[0], parsed[1:]
    # The page's headers, a data coordinator's words: the table's label and the rule's plain name.
    assert header == [PROBLEMS_CONFIG[column]["label"] for column in dq.PROBLEM_COLUMNS]
    assert len(body) == 3
    assert all(not cell.startswith(FORMULA_STARTS) for row in parsed for cell in row)
    assert {row[header.index("Value")] for row in body} == {"'=cmd|' /C calc'!A0", "'+couch", "'@sofa"}
    assert {row[header.index("Age (days)")] for row in body} == {"0"}
    assert {(row[header.index("Export")], row[header.index("Rule")]) for row in body} == {
        ("Housing", label("rule", "allowed_values"))
    }


def test_has_tracking(con: duckdb.DuckDBPyConnection) -> None:
    assert dq.has_tracking(con)
    assert {"problems", "run_files", "runs", "files"} <= table_names(con)


# --- scope in the queries (DESIGN s.7): each filter of the SQL has a test that fails without it ---

NORTH_CM2 = Scope("north", "CM2")


def sites_of(frame: pl.DataFrame) -> set[str]:
    return set(frame["site_id"])


def test_freshness_of_a_case_managers_site_only(con: duckdb.DuckDBPyConnection) -> None:
    """A case manager sees their site's exports, from SQL: never another site's row."""
    fresh = dq.freshness(con, NORTH_CM2, date(2024, 6, 21))
    assert {(s, t): (state, days) for s, t, state, days in fresh.select(fresh.columns[:4]).rows()} == {
        key: value for key, value in FRESHNESS_JUNE_21.items() if key[0] == "north"
    }
    south = dq.freshness(con, Scope("south"), date(2024, 6, 21))
    assert sites_of(south) == {"south"}
    assert south.filter(pl.col("table_name") == "housing")["refused_files"].to_list() == [1]


@pytest.mark.parametrize(
    ("sql", "extra"),
    [
        (dq.ACCEPTED_SQL, {"today": date(2024, 6, 21)}),
        (dq.REFUSED_BY_TABLE_SQL, {}),
        (dq.REFUSED_SQL, {}),
        (dq.REFUSAL_HISTORY_SQL, {"limit": 10}),
        (dq.QUARANTINE_BY_RUN_AND_SITE_SQL, {}),
    ],
    ids=["accepted", "refused_by_table", "refused", "refusal_history", "quarantine_by_site"],
)
def test_each_site_query_returns_the_scopes_site_only(
    con: duckdb.DuckDBPyConnection, sql: str, extra: dict
) -> None:
    """Every query of a site's rows, run bare: north's scope never returns south's rows (the only
    refused file is south's, so north's refusals are none)."""
    everything = sites_of(con.sql(sql, params=PROGRAM.site_params() | extra).pl())
    north = sites_of(con.sql(sql, params=NORTH_CM2.site_params() | extra).pl())
    south = sites_of(con.sql(sql, params=Scope("south").site_params() | extra).pl())
    assert "south" in everything
    assert north <= {"north"} and south == {"south"}


def test_run_files_refusals_and_quarantine_by_site_keep_to_the_scope(con: duckdb.DuckDBPyConnection) -> None:
    latest = dq.run_history(con, PROGRAM)["run_id"][0]
    assert sites_of(dq.run_files(con, Scope("north"), latest)) == {"north"}
    assert sites_of(dq.run_files(con, Scope("south"), latest)) == {"south"}
    assert dq.refused_files(con, Scope("north")).is_empty()
    assert sites_of(dq.refused_files(con, Scope("south"))) == {"south"}
    assert dq.refusal_history(con, Scope("north")).is_empty()
    assert sites_of(dq.quarantine_by_run(con, Scope("south"), by_site=True)) == {"south"}
    assert dq.problem_sites(con, Scope("south")) == ["south"]


def test_run_files_of_a_release_from_before_tracking_keep_to_the_scope(tmp_path: Path) -> None:
    """An older release knows its run's files from `files`: a site's scope still gets its own."""
    old = Home(tmp_path / "old")
    drop(old, "north", "participants", [P1, P2])
    drop(old, "south", "participants", [S1, S2])
    run(old, RUN1)
    with duckdb.connect(str(old.current.resolve())) as writable:
        writable.sql("drop table problems")
        writable.sql("drop table run_files")
    with open_release(live_release(old.current)) as connection:
        (run_id,) = dq.run_history(connection, PROGRAM)["run_id"]
        assert sites_of(dq.run_files(connection, PROGRAM, run_id)) == {"north", "south"}
        assert sites_of(dq.run_files(connection, Scope("north"), run_id)) == {"north"}


def test_program_wide_totals_refuse_a_narrower_scope(con: duckdb.DuckDBPyConnection) -> None:
    for narrower in (Scope("north"), NORTH_CM2):
        with pytest.raises(ScopeError):
            dq.run_history(con, narrower)
        with pytest.raises(ScopeError):
            dq.quarantine_by_run(con, narrower)


def test_problem_lists_keep_to_the_case_manager(con: duckdb.DuckDBPyConnection) -> None:
    """North's P1 (CM1) had the fixed problem; P2 (CM2) has the open one."""
    assert dq.open_problems(con, NORTH_CM2)["participant_id"].to_list() == ["P2"]
    assert dq.open_problems(con, Scope("north", "CM1")).is_empty()
    assert dq.fixed_problems(con, NORTH_CM2).is_empty()
    assert dq.fixed_problems(con, Scope("north", "CM1"))["participant_id"].to_list() == ["P1"]
    assert dq.problem_summary(con, NORTH_CM2).rows() == [("north", 1, 5.0, 5, 0, None)]
    assert dq.problem_summary(con, Scope("north", "CM1")).rows() == [("north", 0, None, None, 1, 5.0)]
    assert dq.problem_summary(con, Scope("south")).rows() == [("south", 1, 5.0, 5, 0, None)]


def test_a_case_managers_page_shows_their_sites_freshness_and_their_problems(
    page_home: Home, downloads: Downloads
) -> None:
    """The freshness table and tiles, the problems and the download: north and CM2's only."""
    apptest.grant(page_home.root, "north", "CM2")
    at = apptest.open_page(PAGE, apptest.CASE_MANAGER)
    assert not at.exception
    fresh = table(at, "site_id", "table_name", "state", "days_since")
    assert sites_of(fresh) == {"north"}
    # The comparison group's tables are listed only where a site sends them (none here).
    assert set(fresh["table_name"]) == {label("table", t) for t in dq.TABLES} - {
        label("table", "comparison"),
        label("table", "comparison_justice"),
    }
    tiles = {tile.label: tile.value for tile in at.metric}
    assert tiles == {
        "Up to date": "0",
        "Stale (> 2 days)": "3",  # participants, housing, employment: long stale today
        "Missing or unreadable": "1",
        "Optional, not sent": "1",
    }
    own = table(at, "participant_id", "table_name", "row_number")
    assert own.select("participant_id", "value").rows() == [("P2", "tent")]
    button, _excel = at.download_button
    data, _ = downloads.fetch(button)
    body = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert [(row["Participant"], row["Value"]) for row in body] == [("P2", "tent")]
    # No run history, files or problems of the program on a case manager's page.
    assert [header.value for header in at.header] == [
        "Freshness",
        "Data problems in your participants' records",
    ]


# --- charts -------------------------------------------------------------------------------


def test_quarantine_chart_program_wide(con: duckdb.DuckDBPyConnection) -> None:
    figure = charts.quarantine_chart(dq.quarantine_by_run(con, PROGRAM))
    (trace,) = figure.data
    assert list(trace.x) == [RUN1, RUN2]
    assert list(trace.y) == [3, 2]
    assert [tuple(c)[:2] for c in trace.customdata] == [(7, 3 / 7), (9, 2 / 9)]
    assert trace.marker.color in OKABE_ITO
    assert figure.layout.xaxis.title.text == "Nightly run (as-of date)"
    assert figure.layout.yaxis.title.text == "Rows quarantined"
    assert list(figure.layout.xaxis.categoryarray) == [RUN1, RUN2]
    assert not figure.layout.showlegend


def test_quarantine_chart_by_site_stacks_one_trace_per_site(con: duckdb.DuckDBPyConnection) -> None:
    figure = charts.quarantine_chart(dq.quarantine_by_run(con, PROGRAM, by_site=True))
    assert figure.layout.barmode == "stack"
    assert {trace.name: list(trace.y) for trace in figure.data} == {"north": [2, 1], "south": [1, 1]}
    assert len({trace.marker.color for trace in figure.data}) == 2
    assert all(trace.marker.color in OKABE_ITO for trace in figure.data)


def test_quarantine_chart_of_lumped_sites_draws_the_others_in_black() -> None:
    figure = charts.quarantine_chart(dq.lump_sites(many_sites(12)))
    names = [trace.name for trace in figure.data]
    assert names[-1] == dq.OTHER_SITES and len(names) == dq.NAMED_SITES + 1
    assert figure.data[-1].marker.color == "#000000"
    assert "#F0E442" not in {trace.marker.color for trace in figure.data}  # never yellow


def test_problems_chart(con: duckdb.DuckDBPyConnection) -> None:
    summary = dq.problem_summary(con, PROGRAM)
    figure = charts.problems_chart(summary)
    fixed, opened = figure.data  # Open drawn last: on top within each site
    assert (opened.name, fixed.name) == ("Open", "Fixed")
    assert figure.layout.legend.traceorder == "reversed"
    # The table's first site is drawn on top (Plotly draws the first category at the bottom).
    assert list(opened.y) == ["south", "north"]
    assert list(opened.x) == [1, 1] and list(fixed.x) == [0, 1]
    assert figure.layout.xaxis.title.text == "Problems"
    assert figure.layout.yaxis.title.text == "Site"
    assert {opened.marker.color, fixed.marker.color} <= set(OKABE_ITO)


@pytest.mark.parametrize(("top", "range_"), [(0, [0, 1.05]), (3, [0, 3.15]), (5, [0, 5.25])])
def test_small_counts_get_whole_number_ticks(top: int, range_: list[float]) -> None:
    axis = charts.count_axis(top)
    assert axis["dtick"] == 1 and axis["range"] == pytest.approx(range_)


def test_large_counts_let_plotly_choose_ticks() -> None:
    assert charts.count_axis(900) == {"tickformat": ",d", "rangemode": "tozero"}


def test_a_chart_of_nothing_quarantined_has_whole_number_ticks() -> None:
    frame = many_sites(2).with_columns(pl.lit(0).alias("rows_quarantined"), pl.lit(0.0).alias("share"))
    figure = charts.quarantine_chart(frame)
    assert figure.layout.yaxis.dtick == 1
    assert list(figure.layout.yaxis.range) == pytest.approx([0, 1.05])


def test_a_conflict_between_case_managers_counts_and_stays_fixed_for_both(tmp_path: Path) -> None:
    """Issue 12, item 16: P1's two rows name CM-A and CM-B. Both see the conflict in their
    problem summary; once the site sends one row, both see it fixed; CM-C, at the same site, never."""
    home = Home(tmp_path / "home")
    a = "P1,CM-A,2024-01-10,social_contact,,,,,1990,man,black"
    b = "P1,CM-B,2024-01-10,community,,,,,1990,man,black"
    other = "P2,CM-C,2024-01-10,community,,,,,1985,woman,white"
    drop(home, "s", "participants", [a, b, other])
    assert run(home, RUN1).published
    with open_release(live_release(home.current)) as con:
        for case_manager, count in (("CM-A", 1), ("CM-B", 1), ("CM-C", 0)):
            summary = dq.problem_summary(con, Scope("s", case_manager))
            assert summary.select("site_id", "open_problems").rows() == [("s", count)], case_manager
    drop(home, "s", "participants", [b, other])
    assert run(home, RUN2).published
    with open_release(live_release(home.current)) as con:
        for case_manager, count in (("CM-A", 1), ("CM-B", 1), ("CM-C", 0)):
            fixed = dq.fixed_problems(con, Scope("s", case_manager))
            assert fixed.select("participant_id", "rule").rows() == [("P1", "conflicting_duplicate")] * count
            summary = dq.problem_summary(con, Scope("s", case_manager))
            assert summary.select("open_problems", "fixed_problems").rows() == [(0, count)], case_manager
