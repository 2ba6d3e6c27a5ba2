"""Intake (intake.py): what a run takes from the inbox, what it leaves, and the export in force."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pipelines.core.settings import SETTLE_SECONDS
from pipelines.nightly import archive, intake
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


# --- an export still being written (item 1 of issue 12) ------------------------------------


def people(n, first=1):
    return [f"P{i},CM1,2024-01-10,social_contact,,,,,1990,man,black" for i in range(first, first + n)]


def participants_loaded(home, site="s"):
    [(count,)] = query(home, "select count(*) from participants where site_id = ?", [site])
    return count


def test_an_export_still_being_written_stays_in_the_inbox_untouched(home):
    drop(home, "s", "participants", people(2090))
    assert run(home, AS_OF).published
    # The site's next upload is cut off mid-write when the nightly starts: 1,044 of 2,090 rows so far.
    uploading = drop(home, "s", "participants", people(1044))
    sent = uploading.read_bytes()
    result = run(home, AS_OF, settle=SETTLE_SECONDS)
    assert result.published
    waiting = [f for f in result.files if f.status == "waiting"]
    assert [(f.site_id, f.table, f.path, f.error) for f in waiting] == [
        ("s", "participants", "inbox/s/participants.csv", None)
    ]
    assert uploading.read_bytes() == sent  # left untouched, for a later run
    assert len(archive.load_index(home.archive)) == 1
    assert participants_loaded(home) == 2090  # the complete export stays in force
    assert result.report()["totals"]["files_refused"] == 0


def test_an_upload_that_sets_its_modification_time_back_still_waits(home):
    # SFTP's `put -p` and some sync clients give a file its original time once it is written,
    # or while it is being written: the inode's change time still says it was just written.
    uploading = drop(home, "s", "participants", [P1])
    an_hour_ago = time.time() - 3600
    os.utime(uploading, (an_hour_ago, an_hour_ago))
    result = run(home, AS_OF, settle=SETTLE_SECONDS)
    assert [f.status for f in result.files] == ["waiting"]
    assert uploading.exists() and not archive.load_index(home.archive)


def test_a_file_written_to_while_the_run_reads_it_is_left_for_a_later_run(home, monkeypatch):
    drop(home, "s", "participants", people(20))
    assert run(home, AS_OF).published
    uploading = drop(home, "s", "participants", people(10))
    read_export = intake.read_export

    def uploader_writes_on(path, table):  # the upload goes on while the run reads its first rows
        if archive.STAGING in path.parts:
            with uploading.open("a", encoding="utf-8") as f:
                f.write("\n".join(people(10, first=11)) + "\n")
        return read_export(path, table)

    monkeypatch.setattr(intake, "read_export", uploader_writes_on)
    result = run(home, AS_OF)
    assert [(f.path, f.status) for f in result.files if f.site_id == "s" and f.status != "in_force"] == [
        ("inbox/s/participants.csv", "waiting")
    ]
    assert uploading.read_text(encoding="utf-8").count("\n") == 21  # the header and all 20 rows
    assert len(archive.load_index(home.archive)) == 1
    assert not (home.archive / archive.STAGING).exists()
    assert participants_loaded(home) == 20


def test_no_inbox_file_is_removed_before_its_archived_copy_matches_its_hash(home, monkeypatch):
    uploaded = drop(home, "s", "participants", [P1])
    flush = archive.fsync

    def disk_damages_copies(path):  # a copy spoiled on its way to the disk
        if path.is_file():
            path.write_bytes(path.read_bytes().replace(b"P1", b"P9"))
        flush(path)

    monkeypatch.setattr(archive, "fsync", disk_damages_copies)
    result = run(home, AS_OF)
    assert (result.status, result.published) == ("failed", False)
    assert "does not hold the bytes copied into it" in result.error
    assert uploaded.read_text(encoding="utf-8").endswith(P1 + "\n")
    assert not archive.load_index(home.archive)
    assert not (home.archive / archive.STAGING).exists()


def test_a_file_taken_back_by_its_uploader_during_the_run_is_passed_over(home, monkeypatch):
    drop(home, "s", "participants", [P1])
    listed = intake.inbox_files
    monkeypatch.setattr(intake, "inbox_files", lambda inbox: [*listed(inbox), inbox / "s" / "housing.csv"])
    result = run(home, AS_OF)
    assert result.published and [(f.table, f.status) for f in result.files] == [("participants", "new")]


def test_a_refused_file_leaves_no_copy_in_the_archive(home):
    drop(home, "s", "participants", [P1 + ",Pat"], header=HEADERS["participants"] + ",first_name")
    assert [f.status for f in run(home, AS_OF).files] == ["refused"]
    assert not [p for p in home.archive.rglob("*") if p.is_file()]


# --- the archive verified by hash (item 2 of issue 12) -------------------------------------


def two_sites(home):
    """Sites s and t, one participant each, published; s's archived participants copy."""
    sent = drop(home, "s", "participants", [P1]).read_bytes()
    drop(home, "t", "participants", [P2])
    assert run(home, AS_OF).published
    [copy] = (home.archive / "s" / "participants").iterdir()
    return copy, sent


def test_a_lost_archive_copy_refuses_only_its_site_and_table_and_a_resend_restores_it(home):
    copy, sent = two_sites(home)
    copy.unlink()
    result = run(home, AS_OF)
    assert result.published  # exit 0: the other site publishes
    shown = f"archive/s/participants/{copy.name}"
    [lost] = [f for f in result.files if f.error]
    assert (lost.site_id, lost.table, lost.path) == ("s", "participants", shown)
    assert f"the archived copy {shown} is missing" in lost.error and "Send the export again" in lost.error
    assert query(home, "select site_id, participant_id from participants") == [("t", "P2")]
    # The site sends the very same file again: it restores the only copy, and is not thrown away.
    drop(home, "s", "participants", [P1])
    again = run(home, AS_OF)
    assert [(f.site_id, f.status, f.error) for f in again.files] == [
        ("s", "unchanged", None),
        ("t", "in_force", None),
    ]
    assert copy.read_bytes() == sent and archive.sha256_of(copy) == copy.stem
    assert not (home.inbox / "s" / "participants.csv").exists()
    assert query(home, "select site_id, participant_id from participants order by 1") == [
        ("s", "P1"),
        ("t", "P2"),
    ]


def test_an_edited_archive_copy_is_never_used_and_a_resend_restores_it(home):
    copy, sent = two_sites(home)
    copy.chmod(0o644)
    copy.write_bytes(sent.replace(b"P1,", b"P9,"))  # same size, different participant
    result = run(home, AS_OF)
    assert result.published
    [edited] = [f for f in result.files if f.error]
    assert edited.path == f"archive/s/participants/{copy.name}"
    assert "has been changed or damaged since it was archived" in edited.error
    assert query(home, "select site_id, participant_id from participants") == [("t", "P2")]
    drop(home, "s", "participants", [P1])
    assert run(home, AS_OF).published
    assert copy.read_bytes() == sent
    assert query(home, "select participant_id from participants where site_id = 's'") == [("P1",)]


def test_an_earlier_export_sent_again_replaces_its_damaged_archive_copy(home):
    copy, sent = two_sites(home)
    drop(home, "s", "participants", [P1, P2])
    assert run(home, AS_OF).published  # a newer export replaces it; the first copy stays archived
    copy.chmod(0o644)
    copy.write_bytes(sent.replace(b"P1,", b"P9,"))
    drop(home, "s", "participants", [P1])  # the first export, again: in force once more
    result = run(home, AS_OF)
    assert [(f.site_id, f.status, f.error) for f in result.files] == [
        ("s", "new", None),
        ("t", "in_force", None),
    ]
    assert copy.read_bytes() == sent
    assert query(home, "select participant_id from participants where site_id = 's'") == [("P1",)]


# --- an export that shrinks by more than half (item 4 of issue 12) -------------------------


def test_an_export_with_fewer_than_half_the_rows_is_held_until_accepted(home):
    drop(home, "s", "participants", people(212))
    drop(
        home, "t", "participants", [f"T{i},CM1,2024-01-10,community,,,,,1980,woman,white" for i in range(300)]
    )
    assert run(home, AS_OF).published
    truncated = drop(home, "s", "participants", people(21))
    sent = truncated.read_bytes()
    result = run(home, AS_OF)
    assert result.published
    [held] = [f.report() for f in result.files if f.status == "held"]
    assert (held["site_id"], held["table"], held["path"]) == ("s", "participants", "inbox/s/participants.csv")
    assert (held["rows_sent"], held["rows_in_force"]) == (21, 212)
    assert held["rows_read"] == 0  # nothing of it was read into the release
    assert "21 rows where the export in force has 212" in held["error"]
    assert "outcomes nightly --accept s/participants" in held["error"]
    assert truncated.read_bytes() == sent
    assert len(archive.load_index(home.archive)) == 2  # not archived
    assert participants_loaded(home) == 212  # the previous export stays in force
    accepted = run(home, AS_OF, accept=[("s", "participants")])
    assert accepted.published
    assert [f.status for f in accepted.files if f.site_id == "s"] == ["new"]
    assert participants_loaded(home) == 21 and not truncated.exists()


def test_any_table_is_held_and_half_the_rows_is_not_fewer_than_half(home):
    drop(home, "s", "participants", people(10))
    drop(home, "s", "housing", [f"P{i},2024-02-01,unsheltered" for i in range(1, 11)])
    assert run(home, AS_OF).published
    drop(home, "s", "housing", [f"P{i},2024-02-01,unsheltered" for i in range(1, 5)] + ["", ""])
    result = run(home, AS_OF)
    assert [(f.table, f.status, f.rows_sent, f.rows_in_force) for f in result.files][0] == (
        "housing",
        "held",
        4,  # blank rows are not rows
        10,
    )
    drop(home, "s", "housing", [f"P{i},2024-02-01,emergency_shelter" for i in range(1, 6)])
    assert [f.status for f in run(home, AS_OF).files if f.table == "housing"] == ["new"]


def test_an_export_accepted_before_rows_were_counted_is_counted_from_its_archived_copy(home):
    drop(home, "s", "participants", people(10))
    assert run(home, AS_OF).published
    index = home.archive / archive.INDEX
    lines = [json.loads(line) for line in index.read_text(encoding="utf-8").splitlines()]
    index.write_text("".join(json.dumps({k: v for k, v in e.items() if k != "rows"}) + "\n" for e in lines))
    drop(home, "s", "participants", people(4))
    assert [(f.status, f.rows_sent, f.rows_in_force) for f in run(home, AS_OF).files][0] == ("held", 4, 10)


def test_an_export_in_force_whose_archived_copy_is_lost_holds_nothing_back(home):
    drop(home, "s", "participants", people(10))
    drop(home, "t", "participants", people(10))
    assert run(home, AS_OF).published
    next((home.archive / "s" / "participants").iterdir()).unlink()
    drop(home, "s", "participants", people(4))  # better than nothing at all
    assert [f.status for f in run(home, AS_OF).files] == ["new", "in_force"]
    assert participants_loaded(home) == 4


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

    def denied(path):  # a path, or a folder's descriptor (shutil.rmtree's)
        if not isinstance(path, int) and Path(path).name == "south":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    result = run(home, AS_OF)
    assert result.published
    assert refusals(result) == [("south", "", "inbox/south", "refused", None)]
    assert "cannot be opened" in result.files[0].error
