"""The demo tests' shared knowledge: the contract written out from DESIGN.md s.4 (so the tests do
not trust the generator's own constants), and reading the exports back.
"""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import polars as pl

AS_OF = date(2025, 6, 30)

# DESIGN.md s.4, written out here so the test does not trust the generator's own constants.
CONTRACT = {
    "participants": [
        "participant_id",
        "case_manager_id",
        "referral_date",
        "referral_type",
        "referral_offense",
        "intake_date",
        "exit_date",
        "exit_reason",
        "birth_year",
        "gender",
        "race_ethnicity",
    ],
    "housing": ["participant_id", "assessed_on", "living_situation"],
    "treatment": [
        "episode_id",
        "participant_id",
        "service_type",
        "start_date",
        "end_date",
        "discharge_reason",
    ],
    "employment": ["participant_id", "assessed_on", "employment_status", "has_income"],
    "justice": ["participant_id", "event_date", "event_type", "level", "release_date"],
    "comparison": [
        "comparison_id",
        "index_date",
        "index_offense",
        "birth_year",
        "gender",
        "race_ethnicity",
        "not_referred_reason",
    ],
    "comparison_justice": ["comparison_id", "event_date", "event_type", "level", "release_date"],
}
# The comparison group's tables: sent by all demo sites but the last (by the one site if only one).
COMPARISON_TABLES = ("comparison", "comparison_justice")
PERMANENT = {
    "rental_no_subsidy",
    "owned_no_subsidy",
    "owned_with_subsidy",
    "permanent_with_family",
    "permanent_with_friends",
    "hopwa_permanent",
    "rental_with_subsidy",
}
LIVING = PERMANENT | {
    "unsheltered",
    "emergency_shelter",
    "safe_haven",
    "psychiatric_facility",
    "substance_use_treatment",
    "hospital",
    "jail_prison",
    "foster_care",
    "long_term_care",
    "transitional_housing",
    "hotel_motel_self_paid",
    "hopwa_transitional",
    "halfway_house",
    "host_home",
    "temporary_with_family",
    "temporary_with_friends",
    "other",
    "unknown",
}
ENUMS = {
    ("participants", "referral_type"): {"arrest_diversion", "social_contact", "community"},
    ("participants", "referral_offense"): {
        "drug_possession",
        "drug_sales",
        "sex_work",
        "other",
        "none",
    },
    ("participants", "exit_reason"): {
        "graduated",
        "disengaged",
        "moved",
        "incarcerated",
        "deceased",
        "other",
    },
    ("participants", "gender"): {
        "woman",
        "man",
        "transgender",
        "non_binary",
        "other",
        "unknown",
    },
    ("housing", "living_situation"): LIVING,
    ("treatment", "service_type"): {
        "withdrawal_management",
        "residential",
        "intensive_outpatient",
        "outpatient",
        "moud",
        "mental_health",
        "other",
    },
    ("treatment", "discharge_reason"): {
        "completed",
        "left_before_completion",
        "terminated_by_facility",
        "transferred",
        "incarcerated",
        "died",
        "other",
    },
    ("employment", "employment_status"): {
        "full_time",
        "part_time",
        "seasonal_sporadic",
        "training_education",
        "unemployed_seeking",
        "unemployed_not_seeking",
        "unable_to_work",
        "retired",
        "unknown",
    },
    ("employment", "has_income"): {"yes", "no", "unknown"},
    ("justice", "event_type"): {"arrest", "booking", "charge"},
    ("justice", "level"): {"felony", "misdemeanor", "warrant", "unknown"},
}
ENUMS |= {
    ("comparison", "index_offense"): ENUMS[("participants", "referral_offense")],
    ("comparison", "gender"): ENUMS[("participants", "gender")],
    ("comparison", "not_referred_reason"): {
        "not_eligible_shift",
        "outside_area",
        "declined",
        "other",
        "unknown",
    },
    ("comparison_justice", "event_type"): ENUMS[("justice", "event_type")],
    ("comparison_justice", "level"): ENUMS[("justice", "level")],
}
RACES = {
    "american_indian_alaska_native",
    "asian",
    "black",
    "hispanic_latino",
    "middle_eastern_north_african",
    "native_hawaiian_pacific_islander",
    "white",
    "unknown",
}
OPTIONAL = {
    "referral_offense",
    "intake_date",
    "exit_date",
    "exit_reason",
    "end_date",
    "discharge_reason",
    "release_date",
    "index_offense",
}
DATES = {"referral_date", "intake_date", "exit_date", "assessed_on", "start_date", "end_date"}
DATES |= {"event_date", "release_date", "index_date"}
KEYS = {
    "participants": ["participant_id"],
    "housing": ["participant_id", "assessed_on"],
    "treatment": ["episode_id"],
    "employment": ["participant_id", "assessed_on"],
    "justice": ["participant_id", "event_date", "event_type"],
    "comparison": ["comparison_id"],
    "comparison_justice": ["comparison_id", "event_date", "event_type"],
}
MISSING_TOKENS = {"", "na", "n/a", "null", "#n/a"}
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
IDENTIFIER_WORDS = ("name", "ssn", "birth_date", "date_of_birth", "dob", "address", "phone")


def file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def read_clean(root: Path, table: str) -> pl.DataFrame:
    """Every site's clean CSV of one table, all values as text, with site_id."""
    frames = [
        pl.read_csv(path, infer_schema=False).with_columns(site_id=pl.lit(path.parent.name))
        for path in sorted(root.glob(f"*/{table}.csv"))
    ]
    return pl.concat(frames)


def typed_clean(root: Path, table: str) -> pl.DataFrame:
    df = read_clean(root, table)
    return df.with_columns(pl.col(c).str.to_date("%Y-%m-%d") for c in df.columns if c in DATES)


def decode(data: bytes) -> str:
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _normalise(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def read_messy(path: Path) -> pl.DataFrame:
    """A messy export read the way the contract allows, all values as trimmed text."""
    if path.suffix == ".xlsx":
        df = pl.read_excel(path).cast(pl.String)
    else:
        text = decode(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")
        df = pl.read_csv(io.StringIO(text.rstrip("\n") + "\n"), infer_schema=False)
    df = df.rename({c: _normalise(c) for c in df.columns})
    return df.with_columns(pl.all().str.strip_chars())
