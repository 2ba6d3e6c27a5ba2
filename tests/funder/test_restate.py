"""Restatement: a snapshot against today's data, with the numbers and files that changed.

What a restatement should list is worked out independently: a second snapshot is taken from
today's release and the two metrics.csv files are compared with plain csv reading.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest

from pipelines.core.metrics import METRICS_VERSION
from pipelines.core.settings import Home
from pipelines.funder.restate import InvalidSnapshot, compare_files, restate
from pipelines.funder.snapshot import NoRelease, take_snapshot
from tests.conftest import SNAPSHOT_AS_OF, SNAPSHOT_PERIOD, drop, query, run, snapshot_demo

AS_OF = SNAPSHOT_AS_OF
PERIOD = SNAPSHOT_PERIOD
KEY = ("metric", "period", "dimension", "group")
FIGURES = ("numerator", "denominator", "value", "suppressed")


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Home, Path]:
    """A demo home and one snapshot of it, for the tests that leave its release alone."""
    home = snapshot_demo(tmp_path_factory.mktemp("published") / "home")
    return home, take_snapshot(home, PERIOD)


def csv_rows(folder: Path) -> dict[tuple[str, ...], dict[str, str]]:
    """A snapshot's metrics.csv by (metric, period, dimension, group)."""
    text = (folder / "metrics.csv").read_text(encoding="utf-8")
    return {tuple(r[k] for k in KEY): r for r in csv.DictReader(io.StringIO(text))}


def expected_changes(before: Path, after: Path) -> dict[tuple[str, ...], tuple[dict | None, dict | None]]:
    """Every cell whose figures differ between two snapshots, or that only one has."""
    a, b = csv_rows(before), csv_rows(after)
    changes = {}
    for key in a.keys() | b.keys():
        old = a.get(key) and tuple(a[key][f] for f in FIGURES)
        new = b.get(key) and tuple(b[key][f] for f in FIGURES)
        if old != new:
            changes[key] = (a.get(key), b.get(key))
    return changes


def expected_kind(old: dict | None, new: dict | None) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if (old["suppressed"], new["suppressed"]) == ("false", "true"):
        return "newly suppressed"
    if (old["suppressed"], new["suppressed"]) == ("true", "false"):
        return "no longer suppressed"
    return "changed"


def restated_by_key(numbers) -> dict[tuple[str, ...], dict]:  # noqa: ANN001 - a Polars frame
    return {tuple(r[k] for k in KEY): r for r in numbers.iter_rows(named=True)}


def test_nothing_changed_right_after_the_snapshot(published):
    home, snap = published
    result = restate(home, snap)
    assert result.numbers.is_empty() and result.files.is_empty() and not result.notes
    assert result.summary().startswith("Nothing changed")
    manifest = json.loads((snap / "manifest.json").read_text())
    assert (result.snapshot_id, result.period) == (snap.name, PERIOD)
    assert (result.then.run_id, result.then.as_of) == (manifest["run_id"], manifest["as_of"])
    assert result.now.as_of == AS_OF.isoformat()


def test_a_replaced_housing_file_restates_exactly_the_cells_that_differ(tmp_path):
    home = snapshot_demo(tmp_path / "home")
    snap = take_snapshot(home, PERIOD)
    site, other = (s for (s,) in query(home, "select distinct site_id from participants order by 1"))
    ids = [p for (p,) in query(home, "select participant_id from participants where site_id = ?", [site])]
    # Everyone at `site` in permanent housing from December: its housing numbers all move.
    path = drop(home, site, "housing", [f"{p},2023-12-01,435" for p in ids])
    new_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    # One row per participant, far fewer than the export it replaces: taken as asked.
    assert run(home, AS_OF.isoformat(), accept=[(site, "housing")]).published

    result = restate(home, snap)
    expected = expected_changes(snap, take_snapshot(home, PERIOD))
    assert expected  # the new file must move some published number
    restated = restated_by_key(result.numbers)
    assert set(restated) == set(expected)
    for key, (old, new) in expected.items():
        row = restated[key]
        assert row["kind"] == expected_kind(old, new), key
        for figure in FIGURES:
            assert row[f"then_{figure}"] == (old[figure] if old else ""), key
            assert row[f"now_{figure}"] == (new[figure] if new else ""), key

    manifest = json.loads((snap / "manifest.json").read_text())
    [then_sha] = [
        f["sha256"] for f in manifest["archived_files"] if (f["site_id"], f["table"]) == (site, "housing")
    ]
    assert result.files.select("site_id", "table", "change", "then_sha256", "now_sha256").rows() == [
        (site, "housing", "replaced", then_sha, new_sha)
    ]
    named = f"{site}/housing replaced"
    for key, row in restated.items():
        if key[2] == "site" and key[3] != site:
            # The other site's files did not change: only suppression can move its cells, so
            # a figure it shows on both sides is the same (a suppressed row's denominator may
            # be shown on one side only: the kind is then 'changed').
            assert row["changed_by"] == f"no file of site {other} changed", key
            for figure in ("numerator", "denominator", "value"):
                then, now = row[f"then_{figure}"], row[f"now_{figure}"]
                assert then == now or "" in (then, now), (key, figure)
        else:
            assert row["changed_by"] == named, key
    assert result.summary().startswith(f"{len(expected):,} numbers changed; 1 file changed: {named}.")


def hand_home(root: Path) -> Home:
    """Two sites of 30 and 25 participants referred in 2023; 20 at north in treatment to 2024-05-01."""
    home = Home(root)
    north = [f"N{i:02d},CM1,2023-06-{1 + i % 28:02d},social_contact,,,,,1980,man,black" for i in range(30)]
    south = [f"S{i:02d},CM2,2023-07-{1 + i % 28:02d},social_contact,,,,,1975,woman,white" for i in range(25)]
    drop(home, "north", "participants", north)
    drop(home, "south", "participants", south)
    drop(
        home,
        "north",
        "treatment",
        [f"N{i:02d},E{i},outpatient,2024-01-15,2024-05-01,completed" for i in range(20)],
    )
    return home


def test_a_later_as_of_with_no_file_change_says_no_file_changed(tmp_path):
    home = hand_home(tmp_path / "home")
    # As of 2024-04-15 the episodes end in the future: held back, so nobody is in treatment in Q1.
    assert run(home, "2024-04-15").published
    snap = take_snapshot(home, PERIOD)
    assert run(home, "2024-06-15").published  # same files, later as-of: the episodes count now

    result = restate(home, snap)
    expected = expected_changes(snap, take_snapshot(home, PERIOD))
    assert {k[0] for k in expected} == {"treatment_engaged"}
    assert set(restated_by_key(result.numbers)) == set(expected)
    assert result.files.is_empty()
    assert (result.then.as_of, result.now.as_of) == ("2024-04-15", "2024-06-15")
    for row in result.numbers.iter_rows(named=True):
        assert row["changed_by"].startswith("no file changed")
        assert "2024-04-15" in row["changed_by"] and "2024-06-15" in row["changed_by"]
    summary = result.summary()
    assert "no file changed" in summary
    assert "as-of date moved from 2024-04-15 to 2024-06-15" in summary


def test_a_different_metrics_version_is_named(published):
    home, snap = published
    copy = home.snapshots / (snap.name[:-8] + "888888Z")
    shutil.copytree(snap, copy)
    (copy / "manifest.json").chmod(0o644)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["metrics_version"] = "v0"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = restate(home, copy)
    assert result.numbers.is_empty() and result.files.is_empty()
    assert f"v0 then, {METRICS_VERSION} now" in result.summary()


def test_a_snapshot_of_older_metric_definitions_is_restated_against_todays(published):
    """A v1 snapshot lacking a metric today's snapshots carry, against a v2 release: its own numbers
    are the same, the metric's rows are added, and the changed definitions, not a file, are named."""
    home, snap = published
    copy = home.snapshots / (snap.name[:-8] + "777777Z")
    shutil.copytree(snap, copy)
    for name in ("metrics.csv", "manifest.json"):
        (copy / name).chmod(0o644)
    new = {"arrested"}
    lines = (copy / "metrics.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    older = "".join(line for line in lines if line.split(",", 1)[0] not in new)
    (copy / "metrics.csv").write_text(older, encoding="utf-8")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["metrics_version"] = "v1"
    manifest["metrics"] = {k: v for k, v in manifest["metrics"].items() if k not in new}
    manifest["metrics_csv_sha256"] = hashlib.sha256(older.encode()).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))

    result = restate(home, copy)
    assert result.files.is_empty()
    assert set(result.numbers["kind"]) == {"added"}
    assert set(result.numbers["metric"]) == new
    assert result.numbers.height == len(lines) - len(older.splitlines())
    assert "the metric definitions changed from v1 to v2" in result.summary()


def test_an_invalid_snapshot_or_no_release_is_a_clear_error(published, tmp_path):
    home, snap = published
    with pytest.raises(InvalidSnapshot, match="not a snapshot folder"):
        restate(home, home.snapshots / "2024-Q1-20240101T000000.000000Z")
    building = home.snapshots / f".{snap.name}.building"
    shutil.copytree(snap, building)
    with pytest.raises(InvalidSnapshot, match="being written"):
        restate(home, building)
    # A published metrics.csv edited afterwards is not the snapshot any more.
    changed = home.snapshots / (snap.name[:-8] + "999999Z")
    shutil.copytree(snap, changed)
    (changed / "metrics.csv").chmod(0o644)
    with (changed / "metrics.csv").open("a", encoding="utf-8") as f:
        f.write("arrested,2024-Q1,all,all,1,1,1.000000,false\n")
    with pytest.raises(InvalidSnapshot, match="not the file its manifest"):
        restate(home, changed)
    (changed / "manifest.json").chmod(0o644)
    (changed / "manifest.json").unlink()
    with pytest.raises(InvalidSnapshot, match="no manifest.json"):
        restate(home, changed)

    elsewhere = Home(tmp_path / "empty")
    shutil.copytree(snap, elsewhere.snapshots / snap.name)
    with pytest.raises(NoRelease, match="outcomes nightly"):
        restate(elsewhere, elsewhere.snapshots / snap.name)


def test_files_are_compared_per_site_and_table():
    def f(site: str, table: str, sha: str) -> dict:
        return {"site_id": site, "table": table, "path": f"archive/{site}/{table}/{sha}.csv", "sha256": sha}

    then = [f("a", "housing", "1"), f("a", "justice", "2"), f("b", "housing", "3")]
    now = [f("a", "housing", "9"), f("a", "justice", "2"), f("c", "housing", "4")]
    assert compare_files(then, now).select(
        "site_id", "table", "change", "then_sha256", "now_sha256"
    ).rows() == [
        ("a", "housing", "replaced", "1", "9"),
        ("b", "housing", "removed", "3", None),
        ("c", "housing", "added", None, "4"),
    ]
