"""Intake (intake.py): what a run takes from the inbox, what it leaves, and the export in force."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.nightly import archive
from tests.conftest import HEADERS, drop, query, run

P1 = "P1,CM1,2024-01-10,social_contact,,,,,1990,man,black"
P2 = "P2,CM1,2024-02-10,community,,,,,1980,woman,white"
AS_OF = "2024-06-15"


def test_hidden_and_excel_lock_files_are_left_alone(home):
    drop(home, "s", "participants", [P1])
    for name in (".DS_Store", "~$participants.xlsx"):
        (home.inbox / "s" / name).write_bytes(b"not an export")
    result = run(home, AS_OF)
    assert [(f.table, f.error) for f in result.files] == [("participants", None)]
    assert (home.inbox / "s" / "~$participants.xlsx").exists()


def test_the_same_file_dropped_twice_is_ingested_once(home):
    drop(home, "s", "participants", [P1])
    assert run(home, AS_OF).published
    drop(home, "s", "participants", [P1])
    second = run(home, AS_OF)
    assert [f.status for f in second.files] == ["unchanged"]
    assert not (home.inbox / "s" / "participants.csv").exists()
    assert len(archive.load_index(home.archive)) == 1
    assert len(list((home.archive / "s" / "participants").iterdir())) == 1


def test_a_new_export_replaces_the_previous_one(home):
    drop(home, "s", "participants", [P1])
    run(home, AS_OF)
    drop(home, "s", "participants", [P2])
    result = run(home, AS_OF)
    assert [f.status for f in result.files] == ["new"]
    assert query(home, "select participant_id from participants") == [("P2",)]


def test_a_refused_export_leaves_the_previous_one_in_force(home):
    drop(home, "s", "participants", [P1])
    drop(home, "t", "participants", [P2])
    run(home, AS_OF)
    drop(home, "s", "participants", [P2], header="participant_id,case_manager_id")
    result = run(home, AS_OF)
    assert result.published
    refused = [f for f in result.files if f.error]
    assert [(f.site_id, f.status) for f in refused] == [("s", "refused")]
    assert "missing required column" in refused[0].error
    assert query(home, "select site_id, participant_id from participants order by 1") == [
        ("s", "P1"),
        ("t", "P2"),
    ]
    assert (home.inbox / "s" / "participants.csv").exists()


# Issue 12, item 7: nothing is read through a link, and what cannot be read is reported, not skipped.
PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


def refusals(result):
    return [(f.site_id, f.table, f.path, f.status, f.sha256) for f in result.files if f.error]


def test_a_link_to_a_file_outside_the_inbox_is_refused_without_reading_it(home, tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text(PASSWD)
    (home.inbox / "north").mkdir(parents=True)
    (home.inbox / "north" / "participants.csv").symlink_to(secret)
    drop(home, "south", "participants", [P1])
    result = run(home, AS_OF)
    assert result.published  # the other site still publishes
    [refused] = [f for f in result.files if f.error]
    assert (refused.site_id, refused.table, refused.status) == ("north", "participants", "refused")
    assert "symbolic link" in refused.error
    assert refused.sha256 is None  # not even hashed: the link is never followed
    assert "root" not in refused.error and "bash" not in refused.error
    assert (home.inbox / "north" / "participants.csv").is_symlink()
    assert secret.read_text() == PASSWD


def test_a_link_to_a_good_export_elsewhere_is_refused_and_not_loaded(home, tmp_path):
    elsewhere = drop(home, "south", "participants", [P1])
    (home.inbox / "north").mkdir()
    (home.inbox / "north" / "participants.csv").symlink_to(elsewhere)
    result = run(home, AS_OF)
    assert [(s, t, st) for s, t, _, st, _ in refusals(result)] == [("north", "participants", "refused")]
    assert query(home, "select site_id, participant_id from participants") == [("south", "P1")]


def test_a_linked_site_folder_is_reported_not_walked_into(home, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "participants.csv").write_text(f"{HEADERS['participants']}\n{P1}\n")
    home.inbox.mkdir(parents=True)
    (home.inbox / "north").symlink_to(outside, target_is_directory=True)
    result = run(home, AS_OF)
    assert not result.published
    assert refusals(result) == [("north", "", "inbox/north", "refused", None)]
    assert "symbolic link" in result.files[0].error
    assert (outside / "participants.csv").exists()


def test_a_folder_named_like_an_export_is_reported(home):
    drop(home, "north", "participants", [P1])
    (home.inbox / "north" / "housing.csv").mkdir()
    (home.inbox / "north" / "housing.csv" / "housing.csv").write_text(HEADERS["housing"] + "\n")
    result = run(home, AS_OF)
    assert result.published
    assert refusals(result) == [("north", "housing", "inbox/north/housing.csv", "refused", None)]
    assert "is a folder, not a file" in result.files[0].error


def test_exports_in_a_hidden_site_folder_are_reported(home):
    drop(home, "north", "participants", [P1])
    drop(home, ".south", "participants", [P2])
    (home.inbox / ".south" / ".DS_Store").write_bytes(b"not an export")
    result = run(home, AS_OF)
    hidden = home.inbox / ".south" / "participants.csv"
    assert refusals(result) == [
        (".south", "participants", "inbox/.south/participants.csv", "refused", archive.sha256_of(hidden))
    ]
    assert "'.south' is hidden" in result.files[0].error
    assert query(home, "select site_id, participant_id from participants") == [("north", "P1")]
    assert (home.inbox / ".south" / "participants.csv").exists()


def test_what_hidden_folders_hold_deeper_is_left_alone(home):
    drop(home, "north", "participants", [P1])
    for folder in (".stversions/north", "north/.sync"):
        (home.inbox / folder).mkdir(parents=True)
        (home.inbox / folder / "housing.csv").write_text(HEADERS["housing"] + "\n")
    result = run(home, AS_OF)
    assert [(f.site_id, f.table, f.error) for f in result.files] == [("north", "participants", None)]


def test_a_pipe_named_like_an_export_is_refused_without_waiting_for_it(home):
    drop(home, "north", "participants", [P1])
    os.mkfifo(home.inbox / "north" / "housing.csv")
    result = run(home, AS_OF)
    assert refusals(result) == [("north", "housing", "inbox/north/housing.csv", "refused", None)]
    assert "not a regular file" in result.files[0].error


def test_a_folder_that_cannot_be_opened_is_reported(home, monkeypatch):
    """A site folder the nightly's user may not read (the tests run as root, who may: the refusal
    is simulated) is reported, not skipped, and the other sites publish."""
    drop(home, "north", "participants", [P1])
    drop(home, "south", "participants", [P2])
    scandir = os.scandir

    def denied(path):
        if Path(path).name == "south":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    result = run(home, AS_OF)
    assert result.published
    assert refusals(result) == [("south", "", "inbox/south", "refused", None)]
    assert "cannot be opened" in result.files[0].error
