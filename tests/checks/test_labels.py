"""The label registry: every contract code has a label people can read, in Python and in Polars."""

from __future__ import annotations

import re

import polars as pl
import pytest

from checks import labels, vocab

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def test_every_contract_code_has_a_readable_label() -> None:
    assert labels.unlabelled() == {}
    for name, codes in labels.CONTRACT_CODES.items():
        shown = [labels.label(name, code) for code in codes]
        assert not any(SNAKE.search(text) for text in shown), (name, shown)
        # Two codes of one vocabulary never read the same (a legend could not tell them apart).
        assert len(set(shown)) == len(shown), (name, shown)
        for text in shown:
            assert "_" not in text and text[0].isupper(), (name, text)


def test_the_registry_checks_what_the_contract_holds() -> None:
    """A code added to the contract without a label is caught (the check import runs)."""
    codes = dict(labels.CONTRACT_CODES)
    try:
        labels.CONTRACT_CODES["level"] = (*vocab.EVENT_LEVELS, "infraction")
        assert labels.unlabelled() == {"level": ["infraction"]}
    finally:
        labels.CONTRACT_CODES.clear()
        labels.CONTRACT_CODES.update(codes)


@pytest.mark.parametrize(
    ("vocabulary", "code", "expected"),
    [
        ("living_situation", "hotel_motel_self_paid", "Hotel or motel paid without a shelter voucher"),
        ("race", "american_indian_alaska_native", "American Indian or Alaska Native"),
        ("service_type", "moud", "Medication for opioid use disorder"),
        ("referral_type", None, labels.NOT_RECORDED),
        ("referral_type", "", labels.NOT_RECORDED),
        ("exit_reason", "left_the_state", "Left the state"),  # not in the contract: never raw
    ],
)
def test_label_and_label_expr_agree(vocabulary: str, code: str | None, expected: str) -> None:
    assert labels.label(vocabulary, code) == expected
    frame = pl.DataFrame({"value": [code]}, schema={"value": pl.String})
    assert frame.select(labels.label_expr("value", vocabulary))["value"].to_list() == [expected]


def test_an_unknown_vocabulary_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        labels.label("colour", "red")
