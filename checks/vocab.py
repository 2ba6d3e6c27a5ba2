"""The export contract's vocabularies (v1): enum values, HMIS living situations, identifiers."""

from __future__ import annotations

import re

CONTRACT_VERSION = "v2"
TABLES = (
    "participants",
    "housing",
    "treatment",
    "employment",
    "justice",
    "comparison",
    "comparison_justice",
)
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PARTICIPANT_ID = r"^[A-Za-z0-9_-]{1,64}$"
MISSING_TOKENS = ("", "na", "n/a", "null", "#n/a")
EARLIEST_REFERRAL = "2011-01-01"

REFERRAL_TYPES = ("arrest_diversion", "social_contact", "community")
REFERRAL_OFFENSES = ("drug_possession", "drug_sales", "sex_work", "other", "none")
EXIT_REASONS = ("graduated", "disengaged", "moved", "incarcerated", "deceased", "other")
GENDERS = ("woman", "man", "transgender", "non_binary", "other", "unknown")
RACES = (
    "american_indian_alaska_native",
    "asian",
    "black",
    "hispanic_latino",
    "middle_eastern_north_african",
    "native_hawaiian_pacific_islander",
    "white",
    "unknown",
)
SERVICE_TYPES = (
    "withdrawal_management",
    "residential",
    "intensive_outpatient",
    "outpatient",
    "moud",
    "mental_health",
    "other",
)
# SAMHSA TEDS discharge reasons 1-7, in that order.
DISCHARGE_REASONS = (
    "completed",
    "left_before_completion",
    "terminated_by_facility",
    "transferred",
    "incarcerated",
    "died",
    "other",
)
EMPLOYMENT_STATUSES = (
    "full_time",
    "part_time",
    "seasonal_sporadic",
    "training_education",
    "unemployed_seeking",
    "unemployed_not_seeking",
    "unable_to_work",
    "retired",
    "unknown",
)
YES_NO_UNKNOWN = ("yes", "no", "unknown")
EVENT_TYPES = ("arrest", "booking", "charge")
EVENT_LEVELS = ("felony", "misdemeanor", "warrant", "unknown")
# Why a comparison-group person was not referred to LEAD (contract v2, comparison table).
NOT_REFERRED_REASONS = ("not_eligible_shift", "outside_area", "declined", "other", "unknown")

# HUD HMIS living situations (FY2024, elements 3.917/3.12/4.12): our name -> (HMIS codes, category).
LIVING_SITUATIONS: dict[str, tuple[tuple[int, ...], str]] = {
    "unsheltered": ((116,), "homeless"),
    "emergency_shelter": ((101,), "homeless"),
    "safe_haven": ((118,), "homeless"),
    "psychiatric_facility": ((204,), "institutional"),
    "substance_use_treatment": ((205,), "institutional"),
    "hospital": ((206,), "institutional"),
    "jail_prison": ((207,), "institutional"),
    "foster_care": ((215,), "institutional"),
    "long_term_care": ((225,), "institutional"),
    "transitional_housing": ((302,), "temporary"),
    "hotel_motel_self_paid": ((314,), "temporary"),
    "hopwa_transitional": ((327,), "temporary"),
    "halfway_house": ((329,), "temporary"),
    "host_home": ((332,), "temporary"),
    "temporary_with_family": ((335, 312), "temporary"),
    "temporary_with_friends": ((336, 313), "temporary"),
    "rental_no_subsidy": ((410,), "permanent"),
    "owned_no_subsidy": ((411,), "permanent"),
    "owned_with_subsidy": ((421,), "permanent"),
    "permanent_with_family": ((422,), "permanent"),
    "permanent_with_friends": ((423,), "permanent"),
    "hopwa_permanent": ((426,), "permanent"),
    "rental_with_subsidy": ((435,), "permanent"),
    "other": ((17,), "unknown"),
    "unknown": ((8, 9, 30, 37, 99), "unknown"),
}
HMIS_CODES: dict[str, str] = {
    str(code): name for name, (codes, _) in LIVING_SITUATIONS.items() for code in codes
}
HOUSING_CATEGORIES = ("homeless", "institutional", "temporary", "permanent", "unknown")

# Column names that carry direct identifiers: a file holding one is refused whole.
DIRECT_IDENTIFIER = re.compile(
    r"^(?:.*_)?(?:name|names|surname|firstname|lastname|fullname|ssn|social_security(?:_number)?"
    r"|dob|date_of_birth|birth_date|birthdate|address|street|street_address|phone|phone_number"
    r"|telephone|mobile|cell|email|e_mail|email_address)(?:_.*)?$"
)
