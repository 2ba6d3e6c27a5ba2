"""Funder snapshots: suppressed, de-identified, reproducible to the byte, immutable, refused when unfit."""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.core.audit import AuditUnavailable
from pipelines.core.release import live_release, open_release
from pipelines.core.settings import SETTLE_SECONDS, Home
from pipelines.funder.restate import restate
from pipelines.funder.snapshot import (
    COLUMNS,
    SNAPSHOT_METRICS,
    OutdatedRelease,
    SnapshotRefused,
    files_in_force,
    take_snapshot,
)
from pipelines.funder.workbook import metrics_xlsx
from tests.conftest import SNAPSHOT_AS_OF, SNAPSHOT_PERIOD, drop, run, snapshot_demo

AS_OF = SNAPSHOT_AS_OF  # 2024-Q1 is complete, 2024-Q2 is not
PERIOD = SNAPSHOT_PERIOD
MONTHS = {"2024-01", "2024-02", "2024-03"}
# What the summary compares 2024-Q1 with, program-wide: the quarter before, a year earlier.
COMPARED = {"2023-10", "2023-11", "2023-12", "2023-Q4", "2023-01", "2023-02", "2023-03", "2023-Q1"}


@pytest.fixture(scope="module", autouse=True)
def no_pdf() -> Iterator[None]:
    """The PDF has its own tests (tests/test_report.py); here it would add a Chromium run per snapshot."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTCOMES_CHROMIUM", "/nonexistent/chromium")
        yield


@pytest.fixture(scope="module")
def homes(tmp_path_factory) -> tuple[Home, Home]:
    """Two independent homes built from the same demo inbox and as-of."""
    first = snapshot_demo(tmp_path_factory.mktemp("a") / "home")
    return first, snapshot_demo(tmp_path_factory.mktemp("b") / "home")


@pytest.fixture(scope="module")
def snap(homes) -> Path:
    return take_snapshot(homes[0], PERIOD)


def outcomes(home: Home, *args: str) -> subprocess.CompletedProcess:
    """Run the `outcomes` command as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines", "--home", str(home.root), *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )


def rows(folder: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO((folder / "metrics.csv").read_text(encoding="utf-8"))))


def release_rows(home: Home, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(home.current), read_only=True)
    try:
        return con.sql(sql, params=params).fetchall()
    finally:
        con.close()


def test_same_archive_and_as_of_give_a_byte_identical_metrics_csv_and_xlsx(homes, snap):
    other = outcomes(homes[1], "snapshot", "--period", PERIOD)
    assert other.returncode == 0, other.stderr
    folder = Path(other.stdout.strip())
    assert folder.parent == homes[1].snapshots and folder.name.startswith(f"{PERIOD}-")
    assert (folder / "metrics.csv").read_bytes() == (snap / "metrics.csv").read_bytes()
    assert folder.name != snap.name  # taken at another time: the workbook carries no time of its own
    assert (folder / "metrics.xlsx").read_bytes() == (snap / "metrics.xlsx").read_bytes()
    # The two releases differ (run ids, build times): only the figures are reproducible.
    a, b = (json.loads((f / "manifest.json").read_text()) for f in (snap, folder))
    assert a["metrics_csv_sha256"] == b["metrics_csv_sha256"] and a["run_id"] != b["run_id"]
    assert a["metrics_xlsx_sha256"] == b["metrics_xlsx_sha256"]


def test_metrics_csv_is_de_identified_and_covers_the_months_and_the_quarter(snap):
    header = (snap / "metrics.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == COLUMNS  # no participant_id, no reason, no timestamp
    table = rows(snap)
    assert {r["period"] for r in table} == MONTHS | {PERIOD} | COMPARED
    # The quarters compared with are program-wide only, and hold every metric the quarter does.
    assert {r["dimension"] for r in table if r["period"] in COMPARED} == {"all"}
    quarter_metrics = {r["metric"] for r in table if r["period"] == PERIOD}
    for period in COMPARED:
        assert {r["metric"] for r in table if r["period"] == period} == quarter_metrics, period
    assert "case_manager" not in {r["dimension"] for r in table}
    assert {r["dimension"] for r in table} == {
        "all",
        "cohort",
        "referral_type",
        "site",
        "race",
        "gender",
        "age_band",
    }
    assert not any(":" in r["group"] for r in table)  # case managers are named <site>:<id>


def test_suppressed_cells_are_empty_and_no_small_count_is_shown(snap):
    table = rows(snap)
    hidden = [r for r in table if r["suppressed"] == "true"]
    shown = [r for r in table if r["suppressed"] == "false"]
    assert hidden and shown and len(hidden) + len(shown) == len(table)
    assert all(r["numerator"] == r["value"] == "" for r in hidden)
    # A suppressed row keeps its denominator unless that count is small or hidden too.
    kept = [int(r["denominator"]) for r in hidden if r["denominator"] != ""]
    assert kept and all(d > 10 for d in kept)
    for r in shown:
        numerator, denominator = int(r["numerator"]), int(r["denominator"])
        assert not 1 <= numerator <= 10 and denominator > 10
        value = numerator if r["metric"] == "active_participants" else numerator / denominator
        assert r["value"] == f"{value:.6f}"


def test_months_are_the_releases_monthly_metrics(homes, snap):
    live = {
        (m, month, d, g): (n, den)
        for m, month, d, g, n, den in release_rows(
            homes[0],
            "select metric, strftime(month, '%Y-%m'), dimension, grp, numerator, denominator "
            "from metric_values where (month between '2024-01-01' and '2024-03-31' or (dimension = 'all' "
            "and month between '2023-01-01' and '2023-12-31' and month(month) in (1, 2, 3, 10, 11, 12))) "
            "and dimension <> 'case_manager' and list_contains(?, metric)",
            [list(SNAPSHOT_METRICS)],
        )
    }
    table = [r for r in rows(snap) if r["period"] in MONTHS | (COMPARED - {"2023-Q4", "2023-Q1"})]
    assert {(r["metric"], r["period"], r["dimension"], r["group"]) for r in table} == set(live)
    for r in table:
        if r["suppressed"] == "false":
            key = (r["metric"], r["period"], r["dimension"], r["group"])
            assert (int(r["numerator"]), int(r["denominator"])) == live[key]


def test_the_justice_measures_of_v2_are_not_in_snapshots(homes, snap):
    """jail_days is a sum of days, which suppression cannot protect; booked, felony_charged and
    new_offense_arrest wait for issue 16's suppression: in no row or definition, and the rule says
    they are left out."""
    published = {r["metric"] for r in rows(snap)}
    assert "arrested" in published
    assert not published & {"jail_days", "booked", "felony_charged", "new_offense_arrest"}
    assert published == set(SNAPSHOT_METRICS) and "jail_days" not in SNAPSHOT_METRICS
    manifest = json.loads((snap / "manifest.json").read_text())
    assert "jail_days" not in manifest["metrics"]
    assert (
        "days in jail" in manifest["suppression_rule"] and "not in snapshots" in manifest["suppression_rule"]
    )
    report = (snap / "report.html").read_text(encoding="utf-8")
    assert "Days in jail" not in report and 'data-metric="jail_days"' not in report
    assert 'data-metric="booked"' not in report and 'data-metric="arrested"' in report
    assert "bookings, felony charges and arrests for a new offense" in manifest["suppression_rule"]


def test_the_quarter_counts_distinct_participants_not_a_sum_of_months(homes, snap):
    [(distinct, biggest_month, summed)] = release_rows(
        homes[0],
        "select (select count(distinct (site_id, participant_id)) from metric_flags "
        "        where month between '2024-01-01' and '2024-03-31'), "
        "max(n), sum(n) from (select count(*) as n from metric_flags "
        "        where month between '2024-01-01' and '2024-03-31' group by month)",
    )
    [quarter] = [
        r
        for r in rows(snap)
        if (r["metric"], r["period"], r["dimension"]) == ("active_participants", PERIOD, "all")
    ]
    assert int(quarter["numerator"]) == distinct
    assert biggest_month <= distinct < summed
    manifest = json.loads((snap / "manifest.json").read_text())
    assert "distinct participants" in manifest["quarter_definition"]


def test_manifest_names_the_release_the_archive_and_the_csv(homes, snap):
    home = homes[0]
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["snapshot_id"] == snap.name and manifest["period"] == PERIOD
    assert manifest["metrics_csv_sha256"] == hashlib.sha256((snap / "metrics.csv").read_bytes()).hexdigest()
    assert manifest["metrics_xlsx_sha256"] == hashlib.sha256((snap / "metrics.xlsx").read_bytes()).hexdigest()
    assert manifest["comparison_periods"] == ["2023-Q4", "2023-Q1"]
    release = live_release(home.current)
    assert manifest["release_sha256"] == hashlib.sha256(release.read_bytes()).hexdigest()
    [(run_id, as_of, version)] = release_rows(home, "select run_id, as_of, metrics_version from release")
    assert (manifest["run_id"], manifest["as_of"], manifest["metrics_version"]) == (
        run_id,
        as_of.isoformat(),
        version,
    )
    files = manifest["archived_files"]
    assert len(files) == 12  # 2 sites x 5 tables, and the first site's comparison group (2 tables)
    for f in files:
        assert hashlib.sha256((home.root / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert "1 to 10" in manifest["suppression_rule"]
    assert list(manifest["metrics"]) == list(SNAPSHOT_METRICS)
    assert manifest["created_at"].startswith(snap.name.removeprefix(f"{PERIOD}-")[:4])


def test_a_snapshot_is_read_only_and_a_second_one_is_a_new_folder(homes, snap):
    before = {name: (snap / name).read_bytes() for name in ("metrics.csv", "metrics.xlsx", "manifest.json")}
    second = take_snapshot(homes[0], PERIOD)
    assert second != snap and second.parent == snap.parent
    assert {name: (snap / name).read_bytes() for name in before} == before
    for folder in (snap, second):
        for name in before:
            assert (folder / name).stat().st_mode & 0o777 == 0o444
    # Nothing half-written is left beside the snapshots.
    assert not [p for p in homes[0].snapshots.iterdir() if p.name.startswith(".")]


def test_an_existing_snapshot_is_never_overwritten(homes, snap):
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    first = take_snapshot(homes[0], PERIOD, now=now)
    data = (first / "metrics.csv").read_bytes()
    with pytest.raises(FileExistsError):
        take_snapshot(homes[0], PERIOD, now=now)
    assert (first / "metrics.csv").read_bytes() == data


@pytest.mark.parametrize(
    ("period", "message"),
    [("2024-Q2", "not complete"), ("2019-Q1", "no data"), ("2024-5", "not a quarter")],
)
def test_an_incomplete_empty_or_malformed_quarter_is_refused(homes, period, message):
    before = sorted(homes[1].snapshots.iterdir()) if homes[1].snapshots.exists() else []
    done = outcomes(homes[1], "snapshot", "--period", period)
    assert done.returncode == 2 and message in done.stderr and not done.stdout
    after = sorted(homes[1].snapshots.iterdir()) if homes[1].snapshots.exists() else []
    assert after == before
    with pytest.raises(SnapshotRefused):
        take_snapshot(homes[1], period)


def test_no_release_exits_1_with_a_message(tmp_path):
    done = outcomes(Home(tmp_path / "empty"), "snapshot", "--period", PERIOD)
    assert done.returncode == 1
    assert "no release" in done.stderr and "outcomes nightly" in done.stderr
    assert not (tmp_path / "empty" / "snapshots").exists()


def test_a_release_built_before_the_metric_cells_macro_is_refused(homes, tmp_path):
    """A release from before metric_cells.sql (no macro, no metric_definitions): run the nightly."""
    home = Home(tmp_path / "home")
    home.warehouse.mkdir(parents=True)
    old = home.warehouse / "release-old.duckdb"
    old.write_bytes(live_release(homes[1].current).read_bytes())
    con = duckdb.connect(str(old))
    try:
        con.execute("drop macro table metric_cells")
        con.execute("drop table metric_definitions")
    finally:
        con.close()
    home.current.symlink_to(old.name)
    done = outcomes(home, "snapshot", "--period", PERIOD)
    assert done.returncode == 1 and not done.stdout
    assert "outcomes nightly" in done.stderr and "Error" not in done.stderr
    assert not home.snapshots.exists() or not list(home.snapshots.iterdir())


def test_a_release_of_older_metric_definitions_is_refused_until_nightly_rebuilds_it(homes, snap, tmp_path):
    """A release still live from before metric definitions v2 (no justice measures, no custody
    days): neither a snapshot nor a restatement mixes it with today's definitions."""
    home = Home(tmp_path / "home")
    home.warehouse.mkdir(parents=True)
    old = home.warehouse / "release-v1.duckdb"
    old.write_bytes(live_release(homes[1].current).read_bytes())
    con = duckdb.connect(str(old))
    try:
        con.execute("update release set metrics_version = 'v1'")
    finally:
        con.close()
    home.current.symlink_to(old.name)
    done = outcomes(home, "snapshot", "--period", PERIOD)
    assert done.returncode == 1 and not done.stdout
    assert "metric definitions v1" in done.stderr and "outcomes nightly" in done.stderr
    assert not home.snapshots.exists() or not list(home.snapshots.iterdir())
    with pytest.raises(OutdatedRelease, match="metric definitions v1"):
        restate(home, snap)


def test_the_archived_files_of_a_release_leave_out_files_held_or_waiting_in_the_inbox(tmp_path):
    home = Home(tmp_path / "home")
    people = [f"P{i},CM1,2024-01-10,community,,,,,1985,woman,white" for i in range(4)]
    drop(home, "s", "participants", people)
    assert run(home).published
    drop(home, "s", "participants", people[:1])  # 1 row where 4 are in force
    for settle, statuses in ((0, ["held", "in_force"]), (SETTLE_SECONDS, ["in_force", "waiting"])):
        assert run(home, settle=settle).published
        assert release_rows(home, "select list(status order by status) from files") == [(statuses,)]
        with open_release(live_release(home.current)) as con:
            [archived] = files_in_force(con)
        assert archived["path"].startswith("archive/s/participants/")


# Tamper-evidence (issue 12, item 11): the creation is audited with the manifest's hash, and
# `outcomes snapshot verify [ID]` checks every file against the manifest and the manifest against it.


def audit_entries(home: Home) -> list[dict]:
    return [json.loads(line) for line in (home.root / "audit" / "audit.jsonl").read_text().splitlines()]


@pytest.fixture
def copied(homes, snap, tmp_path) -> Home:
    """A copy of the first home (its release link kept a link), to tamper with."""
    root = tmp_path / "home"
    shutil.copytree(homes[0].root, root, symlinks=True)
    return Home(root)


def in_process(capsys: pytest.CaptureFixture[str], home: Home, *args: str) -> tuple[int, str, str]:
    """`outcomes ARGS` run in this process (no interpreter start): exit code, stdout, stderr."""
    code = main(["--home", str(home.root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def writable(path: Path) -> Path:
    path.chmod(0o644)
    return path


def test_taking_a_snapshot_records_its_manifest_hash_in_the_audit_log(homes, snap):
    [entry] = [e for e in audit_entries(homes[0]) if e["snapshot"] == snap.name]
    manifest_sha = hashlib.sha256((snap / "manifest.json").read_bytes()).hexdigest()
    assert (entry["event"], entry["filters"]) == (
        "snapshot_created",
        {"period": PERIOD, "manifest_sha256": manifest_sha},
    )
    assert (entry["user"], entry["role"]) == (getpass.getuser(), "command line")


def test_verify_passes_every_snapshot_as_taken_and_one_by_id(homes, snap):
    done = outcomes(homes[0], "snapshot", "verify")
    folders = sorted(p.name for p in homes[0].snapshots.iterdir())
    assert done.returncode == 0, done
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == folders
    assert all(": intact (" in line for line in done.stdout.splitlines())
    done = outcomes(homes[0], "snapshot", "verify", snap.name)
    assert done.returncode == 0 and done.stdout.splitlines() == [
        # No PDF here: the manifest, metrics.csv, metrics.xlsx and report.html.
        f"{snap.name}: intact (4 files as published and recorded)"
    ]


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("edit metrics.csv", "metrics.csv was changed after the snapshot was taken"),
        ("edit metrics.xlsx", "metrics.xlsx was changed after the snapshot was taken"),
        (
            "edit metrics.csv and its hash in the manifest",
            "manifest.json is not the one the audit log recorded",
        ),
        ("delete report.html", "report.html is missing"),
        ("add a file", "extra.csv was not published with the snapshot"),
        ("delete manifest.json", "manifest.json is missing or cannot be read"),
        ("edit the audit entry and recompute the chain", "the audit log has no record of this snapshot"),
    ],
)
def test_verify_names_what_was_changed_and_exits_1(copied, snap, capsys, tamper, problem):
    folder = copied.snapshots / snap.name
    metrics, manifest = folder / "metrics.csv", folder / "manifest.json"
    if tamper.startswith("edit metrics.csv"):
        writable(metrics).write_text(metrics.read_text().replace(",false\n", ",true\n", 1))
    if tamper == "edit metrics.csv and its hash in the manifest":
        fields = json.loads(manifest.read_text()) | {
            "metrics_csv_sha256": hashlib.sha256(metrics.read_bytes()).hexdigest()
        }
        writable(manifest).write_text(json.dumps(fields))
    if tamper == "edit metrics.xlsx":
        # A well-formed workbook with one number hidden that the snapshot showed.
        edited = metrics.read_bytes().replace(b",false\n", b",true\n", 1)
        writable(folder / "metrics.xlsx").write_bytes(metrics_xlsx(edited, PERIOD, AS_OF.isoformat()))
    if tamper == "delete report.html":
        (folder / "report.html").unlink()
    if tamper == "add a file":
        (folder / "extra.csv").write_text("metric\n")
    if tamper == "delete manifest.json":
        manifest.unlink()
    if tamper == "edit the audit entry and recompute the chain":
        log = copied.root / "audit" / "audit.jsonl"
        prev, out = "0" * 64, []
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            if entry["snapshot"] == snap.name:
                entry["filters"]["manifest_sha256"] = "0" * 64
            entry["prev"] = prev
            body = {k: v for k, v in entry.items() if k != "hash"}
            entry["hash"] = prev = hashlib.sha256(
                json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest()
            out.append(json.dumps(entry) + "\n")
        log.write_text("".join(out))
    code, out, _ = in_process(capsys, copied, "snapshot", "verify", snap.name)
    [line] = out.splitlines()
    assert code == 1 and line.startswith(f"{snap.name}: NOT intact: ") and problem in line
    code, out, _ = in_process(capsys, copied, "snapshot", "verify")
    assert code == 1 and f"{snap.name}: NOT intact: " in out


def test_snapshot_command_line_forms(copied, snap, capsys):
    """`snapshot --period` keeps its contract; `verify` is a second form; both or neither: usage error."""
    code, out, _ = in_process(capsys, copied, "snapshot", "--period", PERIOD)
    assert code == 0 and Path(out.strip()).parent == copied.snapshots
    for args, says in [
        (("snapshot",), "give --period YYYY-Qn"),
        (("snapshot", "--period", PERIOD, "verify"), "not both"),
        (("snapshot", "verify", "2024-Q1-nosuch"), "no snapshot 2024-Q1-nosuch"),
        (("snapshot", "verify", "../audit"), "no snapshot ../audit"),
    ]:
        code, out, err = in_process(capsys, copied, *args)
        assert (code, out) == (2, "") and says in err
    assert in_process(capsys, Home(copied.root / "none"), "snapshot", "verify")[1].startswith(
        "no snapshots yet"
    )


def test_a_snapshot_whose_creation_cannot_be_audited_is_not_left_behind(copied, capsys):
    shutil.rmtree(copied.root / "audit")
    (copied.root / "audit").write_text("not a folder")
    before = sorted(copied.snapshots.iterdir())
    with pytest.raises(AuditUnavailable):
        take_snapshot(copied, PERIOD)
    assert sorted(copied.snapshots.iterdir()) == before
    code, _, err = in_process(capsys, copied, "snapshot", "--period", PERIOD)
    assert code == 1 and "audit log cannot be written" in err
