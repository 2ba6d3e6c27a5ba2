"""The Snapshots page: the catalog, a snapshot as published, its downloads, and the leadership-only
controls (create, restatement), opened in AppTest as a signed-in funder or leader."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard.charts.snapshots import snapshot_chart
from dashboard.queries import snapshots as snapshot_queries
from dashboard.queries.snapshots import TABLE_COLUMNS
from pipelines.core.metrics import SMALL_COUNT, is_count
from pipelines.core.settings import Home
from pipelines.funder import catalog as snapshot_catalog
from pipelines.funder import names
from pipelines.funder.restate import FILE_COLUMNS, NUMBER_COLUMNS
from pipelines.funder.snapshot import take_snapshot
from tests import apptest
from tests.conftest import SNAPSHOT_AS_OF, SNAPSHOT_PERIOD, drop, query, run, snapshot_demo

PAGE = "app_pages/snapshots.py"
CATALOG_COLUMNS = ("snapshot_id", "period", "created_at", "as_of", "run_id", "files", "status")
AS_OF = SNAPSHOT_AS_OF.isoformat()
PERIOD = SNAPSHOT_PERIOD
MARK = f"fewer than {SMALL_COUNT}*"
SNAKE = re.compile(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A demo home published as of AS_OF with one snapshot of 2024-Q1 (its copy per test)."""
    home = snapshot_demo(tmp_path_factory.mktemp("base") / "home")
    take_snapshot(home, PERIOD)
    return home.root


@pytest.fixture
def home(base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """A copy of the base home (the release link kept a link), served to the app."""
    root = tmp_path / "home"
    shutil.copytree(base, root, symlinks=True)
    apptest.serve(monkeypatch, root)
    return Home(root)


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple]:
    """Every deferred download the page registers: {file name: (callable, mime type)}."""
    found: dict[str, tuple] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):  # noqa: ANN001, ANN202
        found[file_name] = (data_callable, mimetype)
        return original(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return found


def open_as(email: str) -> AppTest:
    at = apptest.open_page(PAGE, email)
    assert not at.exception, at.exception
    return at


def only(home: Home) -> Path:
    [folder] = [p for p in home.snapshots.iterdir() if not p.name.startswith(".")]
    return folder


def table(at: AppTest, *columns: str) -> pl.DataFrame:
    """The one table on the page with exactly these columns."""
    found = [pl.from_pandas(f.value) for f in at.dataframe if list(f.value.columns) == list(columns)]
    assert len(found) == 1, f"{len(found)} tables with columns {columns}"
    return found[0]


def audit_entries(home: Home) -> list[dict]:
    path = home.root / "audit" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def published_rows(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / "metrics.csv").read_text(encoding="utf-8"))))


def unescape(markdown: str) -> str:
    """Markdown escapes removed: the text a reader sees."""
    return re.sub(r"\\(.)", r"\1", markdown)


def texts(at: AppTest) -> str:
    """Every title, header, caption, message and markdown on the page, as one text."""
    parts = [
        e.value
        for kind in ("title", "subheader", "caption", "markdown", "info", "success", "error")
        for e in at.get(kind)
    ]
    return unescape("\n".join(str(p) for p in parts))


def test_funder_sees_the_catalog_the_snapshot_and_its_downloads_only(home: Home, deferred: dict) -> None:
    folder = only(home)
    at = open_as(apptest.FUNDER)
    catalog = table(at, *CATALOG_COLUMNS)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert catalog.select("snapshot_id", "period", "as_of", "run_id", "status").rows() == [
        (folder.name, "Q1 2024", manifest["as_of"], manifest["run_id"], "as published")
    ]
    assert at.selectbox(key="snap-id").value == folder.name
    shown = table(at, *TABLE_COLUMNS)
    # The default view: the first metric program-wide, every month then every quarter (the quarter
    # and the two it is compared with), by their labels.
    expected = sorted(
        (
            r
            for r in published_rows(folder)
            if (r["metric"], r["dimension"]) == ("active_participants", "all")
        ),
        key=lambda r: ("Q" in r["period"], r["period"]),
    )
    assert shown["period"].to_list() == [
        "Jan 2023", "Feb 2023", "Mar 2023", "Oct 2023", "Nov 2023", "Dec 2023",
        "Jan 2024", "Feb 2024", "Mar 2024", "Q1 2023", "Q4 2023", "Q1 2024",
    ]  # fmt: skip
    # A suppressed row shows what metrics.csv shows (nothing) and reads as the mark.
    assert shown.select("numerator", "denominator", "value", "reads_as").rows() == [
        (
            r["numerator"],
            r["denominator"],
            r["value"],
            MARK if r["suppressed"] == "true" else f"{int(r['numerator']):,}",
        )
        for r in expected
    ]
    assert "Numerator:" in texts(at) and "denominator:" in texts(at)
    labels = [b.label for b in at.get("download_button")]
    assert {"Metrics (Excel)", "Metrics (CSV)", "Manifest (JSON)"} <= set(labels)
    # No leadership control, no today's data.
    assert not [s for s in at.selectbox if s.key == "snap-create-period"]
    assert not [b for b in at.button if b.key == "snap-create"]
    assert "Restatement" not in texts(at)
    assert "Create a snapshot" not in texts(at)

    entries = [e for e in audit_entries(home) if e["page"] == "snapshots"]
    assert {e["user"] for e in entries} == {apptest.FUNDER}
    views = [e for e in entries if e["event"] == "page_view" and e["snapshot"] == folder.name]
    assert views and views[-1]["rows"] == shown.height
    assert views[-1]["filters"] == {"metric": "active_participants", "dimension": "all"}
    catalog_views = [e for e in entries if e["event"] == "page_view" and e["snapshot"] is None]
    assert catalog_views and catalog_views[-1]["rows"] == 1

    # A download is made on click, after its export entry, and is the published file itself.
    name = f"snapshot-{folder.name}-metrics.csv"
    make, mime = deferred[name]
    assert mime == "text/csv"
    assert make() == (folder / "metrics.csv").read_bytes()
    [export] = [e for e in audit_entries(home) if e["event"] == "export"]
    assert (export["user"], export["snapshot"], export["filters"]["file"]) == (
        apptest.FUNDER,
        folder.name,
        name,
    )
    assert export["rows"] == len(published_rows(folder))
    make, mime = deferred[f"snapshot-{folder.name}-metrics.xlsx"]
    assert mime.endswith("spreadsheetml.sheet") and make() == (folder / "metrics.xlsx").read_bytes()


def test_a_suppressed_cell_never_shows_a_number(home: Home) -> None:
    folder = only(home)
    rows = published_rows(folder)
    hidden = [r for r in rows if r["suppressed"] == "true" and r["dimension"] != "all"]
    assert hidden, "the demo snapshot should suppress some cells"
    metric, dimension = hidden[0]["metric"], hidden[0]["dimension"]
    at = open_as(apptest.FUNDER)
    at.selectbox(key="snap-metric").set_value(metric).run()
    at.selectbox(key="snap-dimension").set_value(dimension).run()
    assert not at.exception
    shown = table(at, *TABLE_COLUMNS)
    label = {
        (names.period_label(r["period"]), names.group_label(dimension, r["group"])): r
        for r in rows
        if (r["metric"], r["dimension"]) == (metric, dimension)
    }
    assert len(shown) == len(label)
    suppressed = 0
    for r in shown.iter_rows(named=True):
        published = label[(r["period"], r["group"])]
        if published["suppressed"] == "true":
            suppressed += 1
            assert (r["numerator"], r["denominator"], r["value"], r["reads_as"]) == ("", "", "", MARK)
        else:
            assert (r["numerator"], r["denominator"], r["value"]) == (
                published["numerator"],
                published["denominator"],
                published["value"],
            )
    assert suppressed == sum(r["suppressed"] == "true" for r in label.values())
    # Nor is it drawn: the chart's bars are the shown cells only; each hidden group keeps its place
    # on the axis, in the panel of its month or of the whole quarter, with the mark.
    [chart] = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    drawn = {(t["meta"]["period"], y) for t in figure["data"] if t["type"] == "bar" for y in t["y"]}
    by_code = {(r["period"], names.group_label(dimension, r["group"])): r for r in label.values()}
    assert drawn == {k for k, r in by_code.items() if r["suppressed"] == "false"}
    panels = {
        (t.get("xaxis", "x"), t.get("yaxis", "y")): t["meta"]["period"]
        for t in figure["data"]
        if "period" in (t.get("meta") or {})
    }
    marked = {
        (panels[(a["xref"], a["yref"])], a["y"])
        for a in figure["layout"]["annotations"]
        if a.get("text") == MARK
    }
    assert marked == {k for k, r in by_code.items() if r["suppressed"] == "true"}
    groups = {names.group_label(dimension, r["group"]) for r in label.values()}
    for key, axis in figure["layout"].items():
        if key.startswith("yaxis"):
            assert set(axis["categoryarray"]) == groups
    # Months and the quarter in panels of their own; one colour for the measure.
    titles = {a["text"] for a in figure["layout"]["annotations"] if a.get("yref") == "paper"}
    assert {"Jan 2024", "Feb 2024", "Mar 2024", "Whole quarter (Q1 2024)"} <= titles
    assert len({t["marker"]["color"] for t in figure["data"] if t["type"] == "bar"}) == 1


def test_the_page_opens_with_what_the_snapshot_found(home: Home) -> None:
    folder = only(home)
    rows = published_rows(folder)
    [active] = [
        r
        for r in rows
        if (r["metric"], r["period"], r["dimension"]) == ("active_participants", PERIOD, "all")
    ]
    # Permanent housing is a status: read at the end of the quarter, its last month.
    [housed] = [
        r
        for r in rows
        if (r["metric"], r["period"], r["dimension"]) == ("permanent_housing", "2024-03", "all")
    ]
    at = open_as(apptest.FUNDER)
    opening = unescape(at.markdown[0].value)
    assert opening.startswith(f"{int(active['numerator']):,} participants were active in Q1 2024")
    if housed["suppressed"] == "false":
        n, d = int(housed["numerator"]), int(housed["denominator"])
        assert (
            f"{n / d:.0%} of participants with a known housing status" in opening
            and f"({n:,} of {d:,})" in opening
        )
    else:  # a small program: hidden, and never said
        assert f"In permanent housing at the end of March 2024: not shown ({MARK})." in opening
    assert opening.endswith(f"(Snapshot {folder.name}, as published.)")
    (expander,) = at.expander
    assert expander.label == "How this is calculated"
    assert "never drawn at all" in " ".join(m.value for m in expander.markdown)


def test_no_chart_draws_a_rate_on_fewer_than_eleven(home: Home) -> None:
    """The one small-numbers rule: other pages draw a rate on fewer than 11 hollow; a snapshot
    suppresses it, so no chart of this page ever draws one, in any metric and breakdown."""
    folder = only(home)
    table = pl.DataFrame(published_rows(folder))
    # Rows whose denominator was small hide it, and their rate: there are some in the demo.
    hidden = table.filter(pl.col("denominator") == "")
    assert hidden.height and set(hidden["suppressed"]) == {"true"}
    drawn = []
    for metric in snapshot_queries.metrics_in(table):
        if is_count(metric):
            continue
        for dimension in snapshot_queries.dimensions_in(table, metric):
            rows = snapshot_queries.metric_rows(table, metric, dimension)
            figure = snapshot_chart(rows, metric, metric, dimension)
            drawn += [d for trace in figure.data if trace.customdata is not None for _, d in trace.customdata]
    assert drawn and min(drawn) >= SMALL_COUNT


def test_groups_are_named_by_label(home: Home) -> None:
    at = open_as(apptest.FUNDER)
    at.selectbox(key="snap-metric").set_value("active_participants").run()
    at.selectbox(key="snap-dimension").set_value("referral_type").run()
    assert not at.exception
    shown = table(at, *TABLE_COLUMNS)
    expected = {"Arrest diversion", "Social contact", "Community referral"}
    assert set(shown["group"]) <= expected and set(shown["period"]) <= {
        "Jan 2024",
        "Feb 2024",
        "Mar 2024",
        "Q1 2024",
    }
    [chart] = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    assert set(figure["layout"]["yaxis"]["categoryarray"]) == set(shown["group"])
    drawn = {y for trace in figure["data"] if trace["type"] == "bar" for y in trace["y"]}
    marked = {a["y"] for a in figure["layout"]["annotations"] if a.get("text") == MARK}
    # This small program hides some or all of them: each is drawn or marked, by its label.
    assert drawn | marked == set(shown["group"]) and drawn <= expected


def test_no_code_reaches_the_page(home: Home) -> None:
    """Every breakdown of every measure: titles, captions, tables and chart labels read as labels."""
    at = open_as(apptest.FUNDER)
    for metric in ("permanent_housing", "arrested"):
        at.selectbox(key="snap-metric").set_value(metric).run()
        for dimension in ("all", "referral_type", "race", "gender", "site", "cohort", "age_band"):
            at.selectbox(key="snap-dimension").set_value(dimension).run()
            assert not at.exception
            seen = [texts(at)]
            for frame in at.dataframe:
                seen += [str(v) for v in frame.value.to_numpy().ravel()]
            [chart] = at.get("plotly_chart")
            figure = json.loads(chart.proto.spec)
            seen += [str(a.get("text")) for a in figure["layout"].get("annotations", [])]
            seen += [str(y) for t in figure["data"] for y in (t.get("y") or []) if isinstance(y, str)]
            found = {w for text in seen for w in SNAKE.findall(text)}
            assert not found, (metric, dimension, found)
            assert not [v for v in seen if v == "None"]


def test_leadership_creates_a_snapshot_and_it_joins_the_catalog(home: Home) -> None:
    first = only(home)
    at = open_as(apptest.LEADERSHIP)
    assert "Restatement" in texts(at) and "Nothing changed" in texts(at)
    period = at.selectbox(key="snap-create-period")
    by_label = ["Q1 2024", "Q4 2023", "Q3 2023", "Q2 2023", "Q1 2023", "Q4 2022", "Q3 2022"]
    assert period.options == by_label[: len(period.options)]
    assert "Q2 2024" not in period.options  # not complete as of 2024-06-15
    period.set_value(PERIOD)
    at.button(key="snap-create").click().run()
    assert not at.exception
    created = sorted(p for p in home.snapshots.iterdir() if not p.name.startswith(".") and p != first)
    assert len(created) == 1
    new = created[0]
    assert any(new.name in unescape(s.value) for s in at.success)
    catalog = table(at, *CATALOG_COLUMNS)
    assert catalog["snapshot_id"].to_list() == [new.name, first.name]  # newest first
    assert at.selectbox(key="snap-id").value == new.name
    # The same archive and as-of: the same numbers, so the new snapshot restates nothing.
    assert (new / "metrics.csv").read_bytes() == (first / "metrics.csv").read_bytes()
    views = [e for e in audit_entries(home) if e["page"] == "snapshots" and e["snapshot"] == new.name]
    assert views and all(e["user"] == apptest.LEADERSHIP for e in views)


def test_a_snapshot_being_written_is_not_listed(home: Home) -> None:
    folder = only(home)
    building = home.snapshots / ".2024-Q1-20990101T000000.000000Z.building"
    shutil.copytree(folder, building)
    assert [e.snapshot_id for e in snapshot_catalog.catalog(home)] == [folder.name]
    at = open_as(apptest.FUNDER)
    catalog = table(at, *CATALOG_COLUMNS)
    assert catalog["snapshot_id"].to_list() == [folder.name]
    assert at.selectbox(key="snap-id").options == [folder.name]


def test_no_snapshot_yet_says_so_and_leadership_is_told_how(home: Home) -> None:
    shutil.rmtree(home.snapshots)
    funder = open_as(apptest.FUNDER)
    assert "No snapshot has been published yet." in [i.value for i in funder.info]
    assert not funder.dataframe
    leader = open_as(apptest.LEADERSHIP)
    assert any("outcomes snapshot --period" in i.value for i in leader.info)


def test_snapshots_stay_readable_without_a_live_release(home: Home) -> None:
    folder = only(home)
    home.current.unlink()
    at = open_as(apptest.FUNDER)
    assert table(at, *TABLE_COLUMNS).height > 0
    assert at.selectbox(key="snap-id").value == folder.name
    leader = open_as(apptest.LEADERSHIP)
    assert "no live release" in texts(leader).lower()
    assert table(leader, *TABLE_COLUMNS).height > 0


def test_leadership_sees_what_today_would_restate(home: Home) -> None:
    folder = only(home)
    [(site,)] = query(home, "select min(site_id) from participants")
    ids = [p for (p,) in query(home, "select participant_id from participants where site_id = ?", [site])]
    drop(home, site, "housing", [f"{p},2023-12-01,435" for p in ids])
    # One row per participant, far fewer than the export it replaces: taken as asked.
    assert run(home, AS_OF, accept=[(site, "housing")]).published
    at = open_as(apptest.LEADERSHIP)
    shown = texts(at)
    assert f"1 file changed: {site}/housing replaced" in shown
    numbers = table(at, *NUMBER_COLUMNS)
    periods = {"Jan 2024", "Feb 2024", "Mar 2024", "Q1 2024", "Oct 2023", "Nov 2023", "Dec 2023", "Q4 2023"}
    assert numbers.height > 0 and set(numbers["period"]) <= periods | {
        "Jan 2023",
        "Feb 2023",
        "Mar 2023",
        "Q1 2023",
    }
    assert "Housing" in " ".join(numbers["metric"]) or set(numbers["metric"]) & {"Sheltered", "Unsheltered"}
    files = table(at, *FILE_COLUMNS)
    assert files.select("site_id", "table", "change").rows() == [
        (names.site_label(site), "Housing", "replaced")
    ]
    [view] = [
        e
        for e in audit_entries(home)
        if e["event"] == "page_view" and (e["filters"] or {}).get("view") == "restatement"
    ]
    assert (view["user"], view["snapshot"], view["rows"]) == (
        apptest.LEADERSHIP,
        folder.name,
        numbers.height + 1,
    )
    # A funder opening the same snapshot sees the published numbers only.
    funder = open_as(apptest.FUNDER)
    assert "Restatement" not in texts(funder) and "housing replaced" not in texts(funder)
    assert not [f for f in funder.dataframe if "changed_by" in f.value.columns]


# Tampering (issue 12, item 11): a snapshot is shown only as it was published.


def edit_metrics(folder: Path) -> None:
    """Change one shown number in metrics.csv, as someone with write access to the home could."""
    path = folder / "metrics.csv"
    rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    shown = next(
        i for i, r in enumerate(rows) if r.startswith("active_participants,") and r.rstrip().endswith("false")
    )
    fields = rows[shown].split(",")
    fields[4] = str(int(fields[4]) + 40)  # the numerator
    rows[shown] = ",".join(fields)
    path.chmod(0o644)
    path.write_text("".join(rows), encoding="utf-8")


def fix_manifest(folder: Path) -> None:
    """Make the manifest agree with the edited metrics.csv, as a careful forger would."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["metrics_csv_sha256"] = hashlib.sha256((folder / "metrics.csv").read_bytes()).hexdigest()
    path.chmod(0o644)
    path.write_text(json.dumps(manifest, indent=2) + "\n")


def assert_nothing_of_it_shown(at: AppTest, folder: Path, why: str) -> None:
    """An error in plain words naming what changed; no number, no chart, no download, no manifest."""
    [error] = [unescape(e.value) for e in at.error]
    assert f"Snapshot {folder.name} is not shown" in error and why in error
    assert "None of its numbers is shown and none of its files can be downloaded" in error
    assert not [f for f in at.dataframe if list(f.value.columns) in (list(TABLE_COLUMNS), ["field", "value"])]
    assert not at.get("plotly_chart") and not at.get("download_button")
    catalog = table(at, *CATALOG_COLUMNS)
    assert catalog.select("snapshot_id", "as_of", "run_id", "status").rows() == [
        (folder.name, "", "", "changed since published: not shown")
    ]


@pytest.mark.parametrize("who", [apptest.FUNDER, apptest.LEADERSHIP])
def test_an_edited_metrics_csv_is_not_shown_nor_offered(home: Home, deferred: dict, who: str) -> None:
    folder = only(home)
    edit_metrics(folder)
    at = open_as(who)
    assert_nothing_of_it_shown(at, folder, "metrics.csv was changed after the snapshot was taken")
    assert not deferred
    assert "Restatement" not in texts(at)


def test_an_edited_metrics_csv_with_its_manifest_made_to_agree_is_caught_by_the_audit_log(home: Home) -> None:
    folder = only(home)
    edit_metrics(folder)
    fix_manifest(folder)
    at = open_as(apptest.FUNDER)
    assert_nothing_of_it_shown(at, folder, "manifest.json is not the one the audit log recorded")


def test_a_snapshot_the_audit_log_never_recorded_is_not_shown(home: Home) -> None:
    folder = only(home)
    planted = folder.with_name(folder.name.replace("2024", "2025", 1))
    folder.rename(planted)  # a genuine snapshot's files under a name no one took a snapshot as
    at = open_as(apptest.FUNDER)
    assert_nothing_of_it_shown(at, planted, "the audit log has no record of this snapshot being taken")


def test_downloads_are_the_bytes_that_were_checked(home: Home, deferred: dict) -> None:
    folder = only(home)
    published = (folder / "metrics.csv").read_bytes()
    at = open_as(apptest.FUNDER)
    assert table(at, *TABLE_COLUMNS).height > 0
    edit_metrics(folder)  # after the page was drawn, before the click
    make, _ = deferred[f"snapshot-{folder.name}-metrics.csv"]
    assert make() == published
