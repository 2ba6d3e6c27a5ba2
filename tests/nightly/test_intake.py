"""Intake (intake.py): what a run takes from the inbox, what it leaves, and the export in force."""

from __future__ import annotations

from pipelines.nightly import archive
from tests.conftest import drop, query, run

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
