"""The `outcomes` command (also `python -m pipelines`)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path

from checks import vocab
from pipelines.core import settings
from pipelines.core.settings import SETTLE_SECONDS, Home, resolve_home

EXIT_PUBLISHED, EXIT_NOT_PUBLISHED, EXIT_USAGE = 0, 1, 2
# No referral is dated before the contract's floor: an earlier as-of date would publish an empty program.
EARLIEST_AS_OF = dt.date.fromisoformat(vocab.EARLIEST_REFERRAL)


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date YYYY-MM-DD") from None


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError("must be 0 or more seconds")
    return value


def site_table(text: str) -> tuple[str, str]:
    """`north/participants` -> ("north", "participants")."""
    site, _, table = text.partition("/")
    if not vocab.SITE_ID.match(site) or table not in vocab.TABLES:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not SITE/TABLE: a site id, a slash and one of {', '.join(vocab.TABLES)}"
        )
    return site, table


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="outcomes", description="LEAD Outcomes: participant outcome pipeline and dashboard."
    )
    p.add_argument("--home", help="home folder (default: $OUTCOMES_HOME, else ./data)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="write realistic synthetic exports into the inbox")
    demo.add_argument("--participants", type=positive, default=600)
    demo.add_argument("--sites", type=positive, default=3)
    demo.add_argument("--months", type=positive, default=36)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--messy", action="store_true", help="add the faults real exports have")
    demo.add_argument("--as-of", type=parse_date, default=None, help="last day of the data (default: today)")
    # The planted program effect (write_demo's `effect`), for testing estimators: not for users.
    demo.add_argument("--effect", type=float, default=None, help=argparse.SUPPRESS)

    nightly = sub.add_parser("nightly", help="ingest, validate, rebuild and publish a release")
    nightly.add_argument(
        "--as-of", type=parse_date, default=None, help="the run's as-of date (default: today)"
    )
    nightly.add_argument("--json", action="store_true", help="print the run report as JSON on stdout")
    nightly.add_argument(
        "--accept-shrink",
        action="store_true",
        help="publish even when the release has fewer than half the live release's participants",
    )
    nightly.add_argument(
        "--settle",
        type=seconds,
        default=SETTLE_SECONDS,
        metavar="SECONDS",
        help=f"leave inbox files changed less than this long ago for a later run (default {SETTLE_SECONDS})",
    )
    nightly.add_argument(
        "--accept",
        type=site_table,
        action="append",
        default=[],
        metavar="SITE/TABLE",
        help="take this export even if it has fewer than half the rows of the one in force (repeatable)",
    )

    sub.add_parser("runs", help="run history")

    evaluate = sub.add_parser(
        "evaluate",
        help="before-and-after estimates of arrests, bookings and jail days, and the impact against a "
        "comparison group",
    )
    evaluate.add_argument("--json", action="store_true", help="print the estimates as JSON on stdout")

    feedback = sub.add_parser("feedback", help="write a site's open data problems as a spreadsheet-safe CSV")
    feedback.add_argument("--site", required=True, help="the site's id")
    feedback.add_argument("--out", type=Path, default=None, help="file (default: <home>/feedback/...)")

    contract = sub.add_parser("contract", help="write the data dictionary and empty templates")
    contract.add_argument("--out", type=Path, default=None, help="folder (default: <home>/contract)")

    serve = sub.add_parser("serve", help="start the dashboard (sign-in required; --demo for the demo)")
    serve.add_argument("--port", type=int, default=settings.serve_port())
    serve.add_argument(
        "--address",
        default=settings.serve_address(),
        help="the address to listen on (default 127.0.0.1; put a TLS proxy in front for anything else)",
    )
    serve.add_argument("--demo", action="store_true", help="demo mode: a role picker, synthetic data only")

    # `snapshot --period YYYY-Qn` takes one (the public contract); `snapshot verify [ID]` checks them.
    snapshot = sub.add_parser("snapshot", help="freeze a quarter's suppressed metrics for funders")
    snapshot.add_argument("--period", help="the quarter to freeze, YYYY-Qn (e.g. 2024-Q1)")
    snapshot_sub = snapshot.add_subparsers(dest="snapshot_action", metavar="verify")
    verify = snapshot_sub.add_parser(
        "verify", help="check snapshots against their manifests and the audit log"
    )
    verify.add_argument("snapshot_id", nargs="?", help="one snapshot's folder name (default: every snapshot)")

    audit = sub.add_parser("audit", help="check the audit log of sign-ins, views and exports")
    audit.add_argument("action", choices=["verify"], help="verify: detect edited, removed or moved entries")
    return p


class Terminal(logging.Formatter):
    """A progress line on the terminal: the message alone, never a traceback (the log file has it)."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        return self.formatMessage(record)


class RunLog(logging.FileHandler):
    """The run's log file. When a line cannot be written (the disk is full), the file is given up
    with one line on the terminal, not a traceback for every line after it."""

    def __init__(self, path: Path, home: Home) -> None:
        super().__init__(path, encoding="utf-8")
        self.home, self.given_up = home, False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.given_up:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        from pipelines.nightly.failure import reason

        self.given_up = True
        why = reason(sys.exc_info()[1], self.home.root, where=self.baseFilename)
        print(f"outcomes: the log file is no longer written: {why}", file=sys.stderr)


def setup_logging(home: Home, run_id: str, quiet_stderr: bool = False) -> Path:
    """Progress to stderr and to logs/<run_id>.log."""
    home.logs.mkdir(parents=True, exist_ok=True)
    log_path = home.logs / f"{run_id}.log"
    root = logging.getLogger("outcomes")
    root.setLevel(logging.INFO)
    root.handlers.clear()
    to_file = RunLog(log_path, home)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root.addHandler(to_file)
    if not quiet_stderr:
        to_err = logging.StreamHandler(sys.stderr)
        to_err.setFormatter(Terminal("%(asctime)s %(message)s", "%H:%M:%S"))
        root.addHandler(to_err)
    return log_path


def cmd_nightly(home: Home, args: argparse.Namespace) -> int:
    from pipelines.nightly.failure import reason, understood
    from pipelines.nightly.lock import RunLocked
    from pipelines.nightly.report import new_run_id, summary
    from pipelines.nightly.run import AS_OF_TOO_EARLY, nightly

    as_of = args.as_of or dt.date.today()
    latest = dt.date.today() + dt.timedelta(days=1)
    if not EARLIEST_AS_OF <= as_of <= latest:
        print(
            f"outcomes nightly: --as-of {as_of} is impossible: it must be from {EARLIEST_AS_OF} (the "
            f"earliest referral the contract allows) to {latest} (tomorrow by this machine's clock). "
            "Nothing was run; the live release stays.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    run_id, log_path = new_run_id(), None
    try:
        log_path = setup_logging(home, run_id)
        run = nightly(
            home,
            as_of,
            run_id=run_id,
            accept_shrink=args.accept_shrink,
            settle=args.settle,
            accept=args.accept,
        )
    except RunLocked as e:
        print(f"outcomes nightly: {e}", file=sys.stderr)
        return not_run(run_id, "locked", str(e), args.json)
    except Exception as e:  # the run could not start: one line saying why, never a traceback
        why = f"the run could not start: {reason(e, home.root)}. The previous release stays live"
        if log_path is None:
            print(f"outcomes nightly: {why}", file=sys.stderr)
        else:  # the terminal shows the line; the log file keeps a bug's traceback too
            logging.getLogger("outcomes.nightly").error(why, exc_info=None if understood(e) else e)
        return not_run(run_id, "failed", why, args.json)
    report = run.report()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(summary(report, log_path))
        if run.status == "held" and args.accept:  # the exports accepted made the release shrink
            accepted = " ".join(f"--accept {site}/{table}" for site, table in args.accept)
            print(f"  to publish it, run again with both: outcomes nightly --accept-shrink {accepted}")
    if run.unsaved:
        print(f"outcomes nightly: the run report could not be saved: {run.unsaved}", file=sys.stderr)
    if run.status == AS_OF_TOO_EARLY:
        return EXIT_USAGE
    return EXIT_PUBLISHED if run.published else EXIT_NOT_PUBLISHED


def not_run(run_id: str, status: str, why: str, as_json: bool) -> int:
    """A run that never got going (locked out, or unable to write its lock or report): exit 1."""
    if as_json:
        print(json.dumps({"run_id": run_id, "status": status, "published": False, "error": why}))
    return EXIT_NOT_PUBLISHED


def cmd_runs(home: Home) -> int:
    reports = sorted(home.runs.glob("*.json"), reverse=True) if home.runs.exists() else []
    if not reports:
        print("no runs yet: run `outcomes nightly`")
        return 0
    print(
        f"{'run_id':<34} {'as_of':<10} {'status':<18} {'read':>10} {'loaded':>10} "
        f"{'quarant.':>9} {'dup':>6} refused"
    )
    for path in reports:
        r = json.loads(path.read_text())
        t = r.get("totals", {})
        print(
            f"{r['run_id']:<34} {r['as_of']:<10} {r['status']:<18} {t.get('rows_read', 0):>10,} "
            f"{t.get('rows_loaded', 0):>10,} {t.get('rows_quarantined', 0):>9,} "
            f"{t.get('rows_duplicate', 0):>6,} "
            f"{t.get('files_refused', 0)}"
        )
    return 0


def cmd_feedback(home: Home, args: argparse.Namespace) -> int:
    """The site's open problems, one row each, as a CSV a data coordinator opens in a spreadsheet."""
    import duckdb

    from pipelines.core.export import csv_bytes
    from pipelines.core.problems import NOT_TRACKED, feedback, for_people, tracks_problems
    from pipelines.core.release import live_release

    release = live_release(home.current)
    if release is None:
        print("outcomes feedback: no release yet: run `outcomes nightly` first", file=sys.stderr)
        return EXIT_NOT_PUBLISHED
    con = duckdb.connect(str(release), read_only=True)
    try:
        sites = [s for (s,) in con.sql("select distinct site_id from files order by 1").fetchall()]
        if args.site not in sites:
            print(
                f"outcomes feedback: unknown site '{args.site}'; sites: {', '.join(sites)}", file=sys.stderr
            )
            return EXIT_USAGE
        if not tracks_problems(con):
            print(f"outcomes feedback: {NOT_TRACKED}", file=sys.stderr)
            return EXIT_NOT_PUBLISHED
        [(as_of,)] = con.sql("select as_of from release").fetchall()
        problems = feedback(con, args.site)
    finally:
        con.close()
    out = args.out or home.root / "feedback" / f"{args.site}-open-problems-{as_of}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(csv_bytes(for_people(problems)))
    print(f"{problems.height:,} open problems of site {args.site} written to {out}")
    return 0


def cmd_serve(home: Home, args: argparse.Namespace) -> int:
    """Become Streamlit with the hardened settings; exit 2 if sign-in is not configured."""
    from pipelines.serve import ServeRefused, streamlit_command

    try:
        command, env = streamlit_command(home, args.port, demo=args.demo, address=args.address)
    except ServeRefused as e:
        print(f"outcomes serve: {e}", file=sys.stderr)
        return EXIT_USAGE
    mode = "demo mode, synthetic data" if args.demo else "sign-in required"
    print(
        f"LEAD Outcomes dashboard ({mode}): http://{args.address}:{args.port}/  (Ctrl-C to stop)", flush=True
    )
    # Become Streamlit: a signal to `outcomes serve` then stops the server itself.
    os.execve(sys.executable, command, env)


def cmd_audit(home: Home, args: argparse.Namespace) -> int:
    """`outcomes audit verify`: 0 when the keyed chain, its head and the runs' copies agree; else 1."""
    from pipelines.core.audit import log_path
    from pipelines.core.audit_verify import check

    verdict = check(home)
    count, problems = verdict.entries, verdict.problems
    if not problems and not log_path(home).exists():
        print(f"no audit log yet at {log_path(home)}")
        return 0
    if not problems:
        print(f"audit log intact: {count:,} entries")
        if verdict.unkeyed:
            print(
                f"  the first {verdict.unkeyed:,} were written before the audit key (version 1): they are "
                "checked as a plain SHA-256 chain, as written, and the key protects only what follows"
            )
        return 0
    for problem in problems:
        print(problem)
    print(f"audit log NOT intact: {len(problems):,} problems in {count:,} entries ({log_path(home)})")
    return 1


def cmd_snapshot(home: Home, args: argparse.Namespace) -> int:
    """`outcomes snapshot --period YYYY-Qn`: prints the new snapshot's folder."""
    from pipelines.core.audit import AuditUnavailable
    from pipelines.funder.snapshot import NoRelease, SnapshotRefused, take_snapshot

    if args.snapshot_action == "verify":
        if args.period is not None:
            print(
                "outcomes snapshot: --period takes a snapshot; `verify` checks them: not both",
                file=sys.stderr,
            )
            return EXIT_USAGE
        return cmd_snapshot_verify(home, args.snapshot_id)
    if args.period is None:
        print(
            "outcomes snapshot: give --period YYYY-Qn to take a snapshot, or `verify [ID]`", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        folder = take_snapshot(home, args.period)
    except (NoRelease, AuditUnavailable) as e:
        print(f"outcomes snapshot: {e}", file=sys.stderr)
        return EXIT_NOT_PUBLISHED
    except SnapshotRefused as e:
        print(f"outcomes snapshot: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(folder)
    return 0


def cmd_snapshot_verify(home: Home, snapshot_id: str | None) -> int:
    """`outcomes snapshot verify [ID]`: one line per snapshot; 1 if any is not as published."""
    from pipelines.funder.catalog import snapshot_folders
    from pipelines.funder.integrity import check_snapshots

    folders = snapshot_folders(home)
    if snapshot_id is not None:
        folders = [f for f in folders if f.name == snapshot_id]
        if not folders:
            print(f"outcomes snapshot verify: no snapshot {snapshot_id} in {home.snapshots}", file=sys.stderr)
            return EXIT_USAGE
    if not folders:
        print(f"no snapshots yet in {home.snapshots}")
        return 0
    checks = check_snapshots(home, folders)
    for checked in checks.values():
        if checked.intact:
            print(f"{checked.snapshot_id}: intact ({len(checked.files)} files as published and recorded)")
        else:
            print(f"{checked.snapshot_id}: NOT intact: {'; '.join(checked.problems)}")
    return 1 if any(not c.intact for c in checks.values()) else 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code follows DESIGN s.3."""
    args = parser().parse_args(argv)
    home = resolve_home(args.home)
    if args.command == "demo":
        from pipelines.demo import write_demo
        from pipelines.demo.costs import write_illustrative_costs
        from pipelines.demo.marker import marker_path

        effect = {} if args.effect is None else {"effect": args.effect}
        written = write_demo(
            home.inbox,
            participants=args.participants,
            sites=args.sites,
            months=args.months,
            seed=args.seed,
            messy=args.messy,
            as_of=args.as_of,
            marker_file=marker_path(home),
            **effect,
        )
        print(f"wrote demo exports to {home.inbox}: " + ", ".join(f"{n:,} {t}" for t, n in written.items()))
        costs = write_illustrative_costs(home.root)
        if costs is not None:
            print(f"wrote illustrative unit costs (not real ones) to {costs}")
        # A nightly leaves files written in the last SETTLE_SECONDS for a later run: these are complete.
        print("take them now with `outcomes nightly --settle 0`")
        return 0
    if args.command == "nightly":
        return cmd_nightly(home, args)
    if args.command == "runs":
        return cmd_runs(home)
    if args.command == "feedback":
        return cmd_feedback(home, args)
    if args.command == "evaluate":
        from pipelines.evaluate.report import command

        return command(home, args.json)
    if args.command == "contract":
        from checks.dictionary import write_contract

        out = write_contract(args.out or home.root / "contract")
        print(f"wrote the data dictionary and templates to {out}")
        return 0
    if args.command == "serve":
        return cmd_serve(home, args)
    if args.command == "audit":
        return cmd_audit(home, args)
    if args.command == "snapshot":
        return cmd_snapshot(home, args)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
