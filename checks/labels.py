"""The one label registry: every code of the export contract's vocabularies, and the groups the
release derives from them, as people read them (issue 15).

Pages, tables, legends, downloads meant for people, funder reports and the data dictionary name a
code through `label(vocabulary, code)` (or `label_expr` in Polars), never by reformatting the code
itself. A missing value reads `NOT_RECORDED`. Analysts' downloads may keep the code in a column of
its own beside the label.

Every code of every vocabulary in `checks.vocab` has a label here (checked at import), so a code
added to the contract without one fails the first import, not a page in front of a user; so does
every rule the models check (`checks.rules`, checked when `checks` is imported). Beside the
contract's codes it names what the release and the nightly derive from them: the rules a row can
break, run and file statuses, breakdowns (dimensions), age bands and metrics (the last two from
`pipelines.core.metrics`, where they are defined).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from checks import vocab
from pipelines.core.metrics import DIMENSION_LABELS, METRICS

NOT_RECORDED = "Not recorded"

REFERRAL_TYPE = {
    "arrest_diversion": "Arrest diversion",
    "social_contact": "Social contact",
    "community": "Community referral",
}
REFERRAL_OFFENSE = {
    "drug_possession": "Drug possession",
    "drug_sales": "Drug sales",
    "sex_work": "Sex work",
    "other": "Another offense",
    "none": "No offense",
}
EXIT_REASON = {
    "graduated": "Graduated",
    "disengaged": "Disengaged",
    "moved": "Moved away",
    "incarcerated": "Incarcerated",
    "deceased": "Died",
    "other": "Another reason",
}
GENDER = {
    "woman": "Woman",
    "man": "Man",
    "transgender": "Transgender",
    "non_binary": "Non-binary",
    "other": "Another gender identity",
    "unknown": "Unknown",
}
# The contract's races, and the groups the release makes of people with several.
RACE = {
    "american_indian_alaska_native": "American Indian or Alaska Native",
    "asian": "Asian",
    "black": "Black",
    "hispanic_latino": "Hispanic or Latino",
    "middle_eastern_north_african": "Middle Eastern or North African",
    "native_hawaiian_pacific_islander": "Native Hawaiian or Pacific Islander",
    "white": "White",
    "unknown": "Unknown",
    "multiracial": "More than one race",
    "more_than_one": "More than one race",
}
SERVICE_TYPE = {
    "withdrawal_management": "Withdrawal management (detox)",
    "residential": "Residential treatment",
    "intensive_outpatient": "Intensive outpatient",
    "outpatient": "Outpatient",
    "moud": "Medication for opioid use disorder",
    "mental_health": "Mental health treatment",
    "other": "Other treatment",
}
DISCHARGE_REASON = {
    "completed": "Completed",
    "left_before_completion": "Left before completing",
    "terminated_by_facility": "Ended by the provider",
    "transferred": "Transferred",
    "incarcerated": "Incarcerated",
    "died": "Died",
    "other": "Another reason",
}
EMPLOYMENT_STATUS = {
    "full_time": "Working full time",
    "part_time": "Working part time",
    "seasonal_sporadic": "Seasonal or occasional work",
    "training_education": "In training or education",
    "unemployed_seeking": "Unemployed, looking for work",
    "unemployed_not_seeking": "Unemployed, not looking",
    "unable_to_work": "Unable to work",
    "retired": "Retired",
    "unknown": "Unknown",
}
YES_NO_UNKNOWN = {"yes": "Yes", "no": "No", "unknown": "Unknown"}
EVENT_TYPE = {"arrest": "Arrest", "booking": "Booking into jail", "charge": "Charge"}
EVENT_LEVEL = {"felony": "Felony", "misdemeanor": "Misdemeanor", "warrant": "Warrant", "unknown": "Unknown"}
NOT_REFERRED_REASON = {
    "not_eligible_shift": "Not on an eligible shift",
    "outside_area": "Outside the program's area",
    "declined": "Declined",
    "other": "Another reason",
    "unknown": "Unknown",
}
# HUD HMIS living situations (FY2024), in the words of HUD's data standards, shortened.
LIVING_SITUATION = {
    "unsheltered": "Place not meant for habitation (unsheltered)",
    "emergency_shelter": "Emergency shelter",
    "safe_haven": "Safe Haven",
    "psychiatric_facility": "Psychiatric hospital or facility",
    "substance_use_treatment": "Substance use treatment facility or detox",
    "hospital": "Hospital or other medical facility",
    "jail_prison": "Jail, prison or juvenile detention",
    "foster_care": "Foster care or group home",
    "long_term_care": "Long-term care facility or nursing home",
    "transitional_housing": "Transitional housing",
    "hotel_motel_self_paid": "Hotel or motel paid without a shelter voucher",
    "hopwa_transitional": "HOPWA transitional housing",
    "halfway_house": "Residential project or halfway house",
    "host_home": "Host home (non-crisis)",
    "temporary_with_family": "Staying with family (temporary)",
    "temporary_with_friends": "Staying with friends (temporary)",
    "rental_no_subsidy": "Renting, no ongoing subsidy",
    "owned_no_subsidy": "Owned, no ongoing subsidy",
    "owned_with_subsidy": "Owned, with ongoing subsidy",
    "permanent_with_family": "Staying with family (permanent)",
    "permanent_with_friends": "Staying with friends (permanent)",
    "hopwa_permanent": "HOPWA permanent housing",
    "rental_with_subsidy": "Renting, with ongoing subsidy",
    "other": "Another situation",
    "unknown": "Not known",
}
HOUSING_CATEGORY = {
    "homeless": "Homeless",
    "institutional": "Institution",
    "temporary": "Temporary housing",
    "permanent": "Permanent housing",
    "unknown": "Not known",
}
TABLE = {
    "participants": "Participants",
    "housing": "Housing",
    "treatment": "Treatment",
    "employment": "Employment",
    "justice": "Justice",
    "comparison": "Comparison group",
    "comparison_justice": "Comparison group's justice records",
}

# The rules a row can break (quarantine's `rule`), as a data coordinator would name them: the
# models' checks (`checks.rules.model_rules`) and the reader's own (`checks.rules.READER_RULES`).
RULE = {
    "ragged_row": "Too many or too few values in the row",
    "encoding": "Characters saved in another encoding",
    "date_format": "Not a date",
    "whole_number": "Not a whole number",
    "required": "Required value missing",
    "allowed_values": "Not an allowed value",
    "format": "ID in the wrong format",
    "range": "Date before the program's data",
    "after_as_of": "Date in the future",
    "before_referral": "Date before the referral",
    "before_referral_window": "Date long before the referral",
    "before_start": "Ends before it starts",
    "before_booking": "Release before the booking",
    "release_not_booking": "Release date on a record that is not a booking",
    "age_at_referral": "Age at referral not 18 to 100",
    "age_at_index": "Age at the index date not 18 to 100",
    "required_with_end_date": "Discharge reason missing on an ended episode",
    "conflicting_duplicate": "Rows with the same key that differ",
    "unknown_participant": "Participant not in the participants export",
    "participant_quarantined": "Participant's own row quarantined",
    "unknown_comparison": "Person not in the comparison export",
    "comparison_quarantined": "Person's own comparison row quarantined",
}
# A nightly run's status (the run report's `status`), and each file's in it.
RUN_STATUS = {
    "running": "Running",
    "published": "Published",
    "failed": "Failed",
    "held": "Held back: the release shrank by more than half",
    "nothing_to_publish": "Nothing to publish",
    "as_of_too_early": "As-of date before the first referral",
}
FILE_STATUS = {
    "new": "New",
    "unchanged": "Sent again, unchanged",
    "in_force": "In force (accepted earlier)",
    "refused": "Refused",
    "waiting": "Waiting: still being written",
    "held": "Held: fewer than half the rows in force",
}
# The release's age bands (participant_months.sql), and its breakdowns and metrics.
AGE_BAND = {
    "18-24": "18 to 24",
    "25-34": "25 to 34",
    "35-44": "35 to 44",
    "45-54": "45 to 54",
    "55+": "55 and older",
}
DIMENSION = {**DIMENSION_LABELS, "case_manager": "Case manager"}
METRIC = {name: metric.label for name, metric in METRICS.items()}

VOCABULARIES: dict[str, Mapping[str, str]] = {
    "referral_type": REFERRAL_TYPE,
    "referral_offense": REFERRAL_OFFENSE,
    "exit_reason": EXIT_REASON,
    "gender": GENDER,
    "race": RACE,
    "service_type": SERVICE_TYPE,
    "discharge_reason": DISCHARGE_REASON,
    "employment_status": EMPLOYMENT_STATUS,
    "yes_no_unknown": YES_NO_UNKNOWN,
    "event_type": EVENT_TYPE,
    "level": EVENT_LEVEL,
    "not_referred_reason": NOT_REFERRED_REASON,
    "living_situation": LIVING_SITUATION,
    "housing_category": HOUSING_CATEGORY,
    "table": TABLE,
    "rule": RULE,
    "run_status": RUN_STATUS,
    "file_status": FILE_STATUS,
    "age_band": AGE_BAND,
    "dimension": DIMENSION,
    "metric": METRIC,
}
# Each vocabulary's codes in the contract: every one must have a label.
CONTRACT_CODES: dict[str, Iterable[str]] = {
    "referral_type": vocab.REFERRAL_TYPES,
    "referral_offense": vocab.REFERRAL_OFFENSES,
    "exit_reason": vocab.EXIT_REASONS,
    "gender": vocab.GENDERS,
    "race": vocab.RACES,
    "service_type": vocab.SERVICE_TYPES,
    "discharge_reason": vocab.DISCHARGE_REASONS,
    "employment_status": vocab.EMPLOYMENT_STATUSES,
    "yes_no_unknown": vocab.YES_NO_UNKNOWN,
    "event_type": vocab.EVENT_TYPES,
    "level": vocab.EVENT_LEVELS,
    "not_referred_reason": vocab.NOT_REFERRED_REASONS,
    "living_situation": vocab.LIVING_SITUATIONS,
    "housing_category": vocab.HOUSING_CATEGORIES,
    "table": vocab.TABLES,
}


def unlabelled() -> dict[str, list[str]]:
    """Codes of the contract without a label, by vocabulary (none: checked at import)."""
    missing = {
        name: [c for c in codes if c not in VOCABULARIES[name]] for name, codes in CONTRACT_CODES.items()
    }
    return {name: codes for name, codes in missing.items() if codes}


if unlabelled():  # pragma: no cover - a contract change without its labels
    raise ImportError(f"contract codes without a label in checks/labels.py: {unlabelled()}")


def label(vocabulary: str, code: str | None) -> str:
    """How people read `code` of `vocabulary`; NOT_RECORDED for a missing value.

    A vocabulary not in the registry is a programming error (KeyError). A code the vocabulary
    does not hold (a value from before a contract change) is shown with its underscores as
    spaces, never as a raw code.
    """
    names = VOCABULARIES[vocabulary]
    if code is None or code == "":
        return NOT_RECORDED
    return names.get(code) or code.replace("_", " ").capitalize()  # as label_expr's fallback


def with_code(vocabulary: str, code: str) -> str:
    """A code a person must type, beside its label: `non_binary (Non-binary)`; the code alone when
    it is a plain word its label only capitalises (`yes`). The data dictionary's and the quarantine
    messages' way of naming a code."""
    name = label(vocabulary, code)
    return code if "_" not in code and name.lower() == code.lower() else f"{code} ({name})"


def vocabulary_of(codes: Iterable[str]) -> str | None:
    """The contract vocabulary whose codes are exactly `codes` (a column's allowed values)."""
    wanted = set(codes)
    return next((name for name, held in CONTRACT_CODES.items() if set(held) == wanted), None)


def label_expr(column: str, vocabulary: str) -> pl.Expr:
    """`label` for a Polars column: the labelled values, under the column's own name."""
    names = VOCABULARIES[vocabulary]
    codes = pl.col(column).cast(pl.String)
    spaced = codes.str.replace_all("_", " ")
    fallback = spaced.str.slice(0, 1).str.to_uppercase() + spaced.str.slice(1)  # as str.capitalize
    return (
        pl.when(codes.is_null() | (codes == ""))
        .then(pl.lit(NOT_RECORDED))
        .otherwise(codes.replace_strict(dict(names), default=fallback, return_dtype=pl.String))
        .alias(column)
    )


def labelled(frame: pl.DataFrame, columns: Mapping[str, str]) -> pl.DataFrame:
    """`frame` with each column of `columns` (column -> vocabulary) read as its labels; columns the
    frame lacks are left alone."""
    return frame.with_columns(
        label_expr(column, vocabulary) for column, vocabulary in columns.items() if column in frame.columns
    )
