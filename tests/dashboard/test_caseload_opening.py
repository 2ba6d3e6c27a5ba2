"""The Caseload page's opening sentence: the current caseload and what needs doing first."""

from __future__ import annotations

import polars as pl

from dashboard.queries.caseload import FLAGS, opening


def caseload(rows: list[dict[str, bool]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"participant_id": f"P{i}", **dict.fromkeys(FLAGS, False), **row} for i, row in enumerate(rows)]
    )


def test_the_sentence_counts_each_prompt_most_first_and_the_open_problems() -> None:
    table = caseload(
        [
            {"housing_check_due": True, "unsheltered": True},
            {"housing_check_due": True},
            {"housing_check_due": True, "recent_arrest": True},
            {},
        ]
    )
    problems = pl.DataFrame({"participant_id": ["P1", "P1", "P3"]})
    text = opening(table, problems)
    assert text.startswith("4 current participants in this caseload: 3 have had no housing assessment")
    # Most first: 3 (housing check) before the two prompts that apply to 1 each.
    assert text.index("3 have") < text.index("1 has been unsheltered")
    assert "1 has an arrest record" in text
    assert text.endswith("3 open data problems concern 2 of them (see Data problems below).")


def test_a_caseload_with_nothing_due_and_an_empty_one_say_so() -> None:
    assert (
        opening(caseload([{}, {}]), None)
        == "2 current participants in this caseload, and none needs a prompt today."
    )
    assert opening(caseload([]).clear(), None) == "This caseload has no current participants."
    one = opening(caseload([{"unsheltered": True}]), pl.DataFrame({"participant_id": ["P0"]}))
    assert one == (
        "1 current participant in this caseload: 1 has been unsheltered at their last housing assessment. "
        "1 open data problem concerns 1 of them (see Data problems below)."
    )
