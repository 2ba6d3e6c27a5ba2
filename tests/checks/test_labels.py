"""The label registry: every contract code has a label people can read, in Python and in Polars."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from checks import MODELS, labels, rules, schema, vocab
from checks.dictionary import write_contract
from checks.fixes import FIXES

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


# --- what the registry names beside the contract's codes ----------------------------------------

NIGHTLY = Path(__file__).resolve().parents[2] / "pipelines" / "nightly"


def test_every_rule_the_models_and_the_reader_check_has_a_plain_name() -> None:
    assert rules.unlabelled_rules() == []
    # Derived from the models: a custom check's name and a built-in check's rule are both there.
    assert {"after_as_of", "unknown_comparison", "required", "allowed_values", "range"} <= rules.model_rules()
    shown = [labels.label("rule", rule) for rule in sorted(rules.all_rules())]
    assert not any(SNAKE.search(text) or "_" in text for text in shown), shown
    assert len(set(shown)) == len(shown)  # two rules never read the same
    # Every rule has its advice for the data coordinator too.
    assert set(FIXES) == rules.all_rules()


def test_the_readers_own_rules_are_the_ones_the_nightly_writes() -> None:
    """The rules pipelines/nightly writes by name (not through a model) are READER_RULES."""
    source = "\n".join(path.read_text(encoding="utf-8") for path in NIGHTLY.glob("*.py"))
    written = set(re.findall(r'pl\.lit\("([a-z_]+)"\)\.alias\("rule"\)', source))
    written |= set(
        re.findall(r'return .*, "([a-z_]+)", "', (NIGHTLY / "parse.py").read_text(encoding="utf-8"))
    )
    assert written == set(rules.READER_RULES)


def test_a_rule_added_without_a_label_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(labels.RULE, "before_booking")
    assert rules.unlabelled_rules() == ["before_booking"]


@pytest.mark.parametrize(
    ("vocabulary", "code", "expected"),
    [
        ("rule", "after_as_of", "Date in the future"),
        ("dimension", "all", "All participants"),
        ("metric", "jail_days", "Days in jail"),
        ("age_band", "55+", "55 and older"),
        ("file_status", "in_force", "In force (accepted earlier)"),
        ("run_status", "as_of_too_early", "As-of date before the first referral"),
        ("race", "multiracial", "More than one race"),
    ],
)
def test_the_releases_own_groups_and_names(vocabulary: str, code: str, expected: str) -> None:
    assert labels.label(vocabulary, code) == expected


def test_a_code_to_type_is_shown_beside_its_label() -> None:
    assert labels.with_code("gender", "non_binary") == "non_binary (Non-binary)"
    assert labels.with_code("service_type", "moud") == "moud (Medication for opioid use disorder)"
    assert labels.with_code("yes_no_unknown", "yes") == "yes"  # a plain word its label capitalises
    assert labels.vocabulary_of(("yes", "no", "unknown")) == "yes_no_unknown"
    assert labels.vocabulary_of(reversed(vocab.REFERRAL_TYPES)) == "referral_type"
    assert labels.vocabulary_of(("yes", "no")) is None


def test_labelled_reads_the_named_columns_only() -> None:
    frame = pl.DataFrame({"table_name": ["comparison_justice", None], "rule": ["after_as_of", "required"]})
    shown = labels.labelled(frame, {"table_name": "table", "rule": "rule", "absent": "gender"})
    assert shown.rows() == [
        ("Comparison group's justice records", "Date in the future"),
        (labels.NOT_RECORDED, "Required value missing"),
    ]


def test_the_data_dictionary_names_codes_beside_their_labels(tmp_path: Path) -> None:
    """`outcomes contract`'s dictionary: no code but column names, the files' names, and codes to
    type beside their labels (`non_binary` (Non-binary))."""
    text = write_contract(tmp_path).joinpath("data_dictionary.md").read_text(encoding="utf-8")
    columns = {column for table in MODELS for column in schema(table).columns}
    plain = text.replace("`", "")
    for names in labels.VOCABULARIES.values():
        for code, name in names.items():
            plain = plain.replace(f"{code} ({name})", name)
    assert {w for w in SNAKE.findall(plain) if w not in columns and w not in MODELS} == set()
    assert "`non_binary` (Non-binary)" in text and "`hotel_motel_self_paid` (Hotel or motel" in text
    assert "| Comparison group's justice records: `comparison_justice.csv`" not in text  # a heading
    assert "## Comparison group's justice records: `comparison_justice.csv` (optional)" in text
