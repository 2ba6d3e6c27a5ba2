"""`outcomes evaluate [--json]` on tests/evaluate/conftest.py's release, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.core.settings import Home

YEAR = 365.25


def evaluate(home: Home, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home.root), "evaluate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_carries_the_estimates(release: Home, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = evaluate(release, capsys, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["as_of"] == "2025-06-30" and report["run_id"]
    assert report["sites"] == {
        "counted": ["jail", "old"],
        "left_out": ["none"],
        "custody_reported": ["jail"],
        "custody_not_reported": ["old"],
    }
    assert report["method"]["seed"] == 13 and report["method"]["resamples"] == 1999
    assert "scipy.stats.bootstrap" in report["method"]["rates"] and "Newcombe" in report["method"]["share"]
    assert [(c["window_months"], c["referral_type"], c["people"]) for c in report["comparisons"]] == [
        (6, "all", 6),
        (6, "social_contact", 6),
        (12, "all", 6),
        (12, "social_contact", 6),
    ]
    six = report["comparisons"][0]
    assert six["referred_on_or_before"] == "2024-12-31"
    assert list(six["measures"]) == [
        "arrested",
        "arrests",
        "new_offense_arrests",
        "warrant_arrests",
        "bookings",
        "jail_days",
        "felony_charges",
    ]
    arrests = six["measures"]["arrests"]
    # Worked in tests/evaluate/test_estimate.py: 1 arrest in 1,104 days before, 4 in 705 after.
    # Numbers are rounded to 6 decimals.
    assert arrests["before"] == {
        "count": 1,
        "person_years": pytest.approx(1104 / YEAR, abs=1e-6),
        "rate": pytest.approx(YEAR / 1104, abs=1e-6),
    }
    assert arrests["after"]["count"] == 4 and arrests["after"]["rate"] == pytest.approx(
        4 * YEAR / 705, abs=1e-6
    )
    assert arrests["difference"] == pytest.approx(4 * YEAR / 705 - YEAR / 1104, abs=1e-6)
    assert arrests["low"] <= arrests["difference"] <= arrests["high"]
    assert arrests["method"] == "paired_bootstrap"
    share = six["measures"]["arrested"]
    assert share["before"] == {"arrested": 1, "people": 6, "share": pytest.approx(1 / 6, abs=1e-6)}
    assert share["after"] == {"arrested": 3, "people": 6, "share": 0.5}
    assert share["method"] == "newcombe_paired"
    assert report["measures"]["jail_days"]["unit"] == "per_person_year_alive"
    assert report["measures"]["arrests"]["unit"] == "per_person_year_at_risk"
    baseline = report["baseline"][0]
    assert (baseline["window_months"], baseline["referral_type"], baseline["people"]) == (6, "all", 6)
    assert [(w["from_month"], w["to_month"], w["arrested"]) for w in baseline["windows"]] == [
        (-18, -12, 0),
        (-12, -6, 0),
        (-6, 0, 1),
        (0, 6, 3),
    ]


def test_json_is_the_same_every_time(release: Home, capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate(release, capsys, "--json")[1] == evaluate(release, capsys, "--json")[1]


def test_summary_reads_plainly(release: Home, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = evaluate(release, capsys)
    assert code == 0
    assert "6 months before vs after: 6 people, referred on or before 2024-12-31" in out
    assert "share arrested" in out and "16.7% -> 50.0%" in out
    assert "arrests per person-year at risk" in out and "0.33 -> 2.07" in out
    assert "not reported (every day alive counted at risk): old" in out
    assert "left out (no justice records): none" in out
    assert "regression to the mean" in out
    assert "{" not in out  # not JSON


def test_without_a_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = evaluate(Home(tmp_path / "home"), capsys, "--json")
    assert code == 1 and out == ""
    assert "no release yet" in err and "outcomes nightly" in err


def test_a_release_built_before_custody_spells(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = Home(tmp_path / "home")
    home.warehouse.mkdir(parents=True)
    with duckdb.connect(str(home.warehouse / "release-old.duckdb")) as con:
        con.sql("create table release as select 'old' as run_id, date '2024-06-15' as as_of")
        con.sql("create table participants (site_id varchar, participant_id varchar)")
        con.sql("create table justice (site_id varchar, participant_id varchar)")
    home.current.symlink_to("release-old.duckdb")
    code, out, err = evaluate(home, capsys)
    assert code == 1 and out == ""
    assert "custody_spells, export_columns" in err and "outcomes nightly" in err
