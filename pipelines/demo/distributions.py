"""What the demo generator knows beyond the contract, and the helpers that draw from it.

The contract (tables, columns, allowed values, HMIS codes, missing-value tokens) comes from
`checks`; this module only adds what a generator knows: how often each value occurs, how long
things last, how outcomes move over time. Every such table is keyed by the contract's value
names and checked at import to cover exactly the contract's values. Naming: `X_P` is a table
keyed by value name (the knowledge, as a reader checks it); `X_PROBS` is the same as an array
in the contract's order (what `pick` draws from).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from checks import MODELS, vocab

# The participants' tables, and the comparison group's (written by comparison.py, for most sites).
COMPARISON_TABLES = tuple(t for t in vocab.TABLES if t.startswith("comparison"))
TABLES = tuple(t for t in vocab.TABLES if t not in COMPARISON_TABLES)
EARLIEST_REFERRAL = date.fromisoformat(vocab.EARLIEST_REFERRAL)


_SCHEMAS = {t: MODELS[t].to_schema() for t in vocab.TABLES}


def _contract_columns(table: str) -> tuple[str, ...]:
    # The model's columns, its key first (as DESIGN s.4 lists them and sites export them).
    key = tuple(MODELS[table].Config.metadata["key"])
    return (*key, *(c for c in _SCHEMAS[table].columns if c not in key))


COLUMNS: dict[str, tuple[str, ...]] = {t: _contract_columns(t) for t in vocab.TABLES}
OPTIONAL: dict[str, tuple[str, ...]] = {
    t: tuple(c for c, col in _SCHEMAS[t].columns.items() if col.nullable) for t in TABLES
}


def check_covers(name: str, keys: Iterable[str], values: Iterable[str]) -> None:
    """Refuse a generator table whose keys are not exactly the contract's values."""
    keys, values = list(keys), set(values)
    if len(keys) != len(set(keys)) or set(keys) != values:
        missing, extra = sorted(values - set(keys)), sorted(set(keys) - values)
        raise ValueError(f"demo {name} is out of line with the contract: {missing=} {extra=}")


def ordered_probs(name: str, weights: Mapping[str, float], values: tuple[str, ...]) -> np.ndarray:
    """Weights keyed by value name, as an array in the contract's order of `values`."""
    check_covers(name, weights, values)
    return np.array([weights[v] for v in values], dtype=float)


def positions(values: tuple[str, ...], *names: str) -> np.ndarray:
    """Positions of the named values in the contract's tuple (a ValueError if one is gone)."""
    return np.array([values.index(v) for v in names], dtype=np.int64)


REFERRAL_TYPES = vocab.REFERRAL_TYPES
OFFENSES = vocab.REFERRAL_OFFENSES
EXIT_REASONS = vocab.EXIT_REASONS
GENDERS = vocab.GENDERS
SERVICE_TYPES = vocab.SERVICE_TYPES
DISCHARGE_REASONS = vocab.DISCHARGE_REASONS
EMPLOYMENT_STATUSES = vocab.EMPLOYMENT_STATUSES
INCOME = vocab.YES_NO_UNKNOWN
EVENT_TYPES = vocab.EVENT_TYPES
LEVELS = vocab.EVENT_LEVELS
NOT_REFERRED_REASONS = vocab.NOT_REFERRED_REASONS
LIVING_SITUATIONS = vocab.LIVING_SITUATIONS
CATEGORIES = vocab.HOUSING_CATEGORIES

EPOCH = date(1970, 1, 1)  # day numbers count from here, as numpy's datetime64[D] does
DAYS_PER_MONTH = 30.4375

# --------------------------------------------------------------- the generator's own knowledge

# The referral offense by door: social contacts are often not tied to any offense.
OFFENSE_BY_DOOR: dict[str, dict[str, float]] = {
    "arrest_diversion": {
        "drug_possession": 0.55,
        "drug_sales": 0.20,
        "sex_work": 0.15,
        "other": 0.10,
        "none": 0.00,
    },
    "social_contact": {
        "drug_possession": 0.40,
        "drug_sales": 0.08,
        "sex_work": 0.12,
        "other": 0.15,
        "none": 0.25,
    },
    "community": {
        "drug_possession": 0.25,
        "drug_sales": 0.00,
        "sex_work": 0.05,
        "other": 0.10,
        "none": 0.60,
    },
}
# Arrest propensity by door, relative to a social contact (a comparison person's index type is
# an arrest, as arrest_diversion, or a police contact, as social_contact).
DOOR_ARREST_FACTOR = {"arrest_diversion": 1.2, "social_contact": 1.0, "community": 0.6}
# An exit comes at least EXIT_AFTER_DAYS after referral, then after an exponential wait.
EXIT_AFTER_DAYS = 45
EXIT_MEAN_WAIT_DAYS = 1100
EXIT_P = {
    "graduated": 0.30,
    "disengaged": 0.34,
    "moved": 0.12,
    "incarcerated": 0.10,
    "deceased": 0.05,
    "other": 0.09,
}
GENDER_P = {
    "woman": 0.32,
    "man": 0.625,
    "transgender": 0.025,
    "non_binary": 0.01,
    "other": 0.005,
    "unknown": 0.015,
}
GENDER_P_SEX_WORK = {
    "woman": 0.68,
    "man": 0.15,
    "transgender": 0.15,
    "non_binary": 0.01,
    "other": 0.005,
    "unknown": 0.005,
}
# Seattle's LEAD referrals: Black participants about half, far above their population share.
# Keys are race_ethnicity values, some of them ;-separated lists; drawn in this order.
RACE_P = {
    "black": 0.48,
    "white": 0.32,
    "hispanic_latino": 0.06,
    "american_indian_alaska_native": 0.04,
    "asian": 0.025,
    "native_hawaiian_pacific_islander": 0.01,
    "middle_eastern_north_african": 0.005,
    "black;white": 0.025,
    "american_indian_alaska_native;white": 0.015,
    "black;hispanic_latino": 0.005,
    "unknown": 0.015,
}

# Weight of each living situation within its category. The homeless ones are split by time
# in program instead (see housing): the sheltered share rises, safe havens stay rare.
HOMELESS_SPLIT = ("unsheltered", "emergency_shelter", "safe_haven")
LIVING_WEIGHT = {
    "psychiatric_facility": 0.15,
    "substance_use_treatment": 0.30,
    "hospital": 0.15,
    "jail_prison": 0.30,
    "foster_care": 0.02,
    "long_term_care": 0.08,
    "transitional_housing": 0.25,
    "hotel_motel_self_paid": 0.12,
    "hopwa_transitional": 0.03,
    "halfway_house": 0.08,
    "host_home": 0.02,
    "temporary_with_family": 0.25,
    "temporary_with_friends": 0.25,
    "rental_no_subsidy": 0.15,
    "owned_no_subsidy": 0.02,
    "owned_with_subsidy": 0.01,
    "permanent_with_family": 0.12,
    "permanent_with_friends": 0.05,
    "hopwa_permanent": 0.05,
    "rental_with_subsidy": 0.60,
    "other": 0.3,
    "unknown": 0.7,
}

SERVICE_P = {
    "withdrawal_management": 0.15,
    "residential": 0.12,
    "intensive_outpatient": 0.13,
    "outpatient": 0.25,
    "moud": 0.22,
    "mental_health": 0.10,
    "other": 0.03,
}
SERVICE_DAYS = {  # episode length range in days (log-uniform)
    "withdrawal_management": (3, 14),
    "residential": (14, 120),
    "intensive_outpatient": (21, 120),
    "outpatient": (30, 365),
    "moud": (30, 1100),
    "mental_health": (30, 540),
    "other": (7, 180),
}
DISCHARGE_P = {
    "completed": 0.35,
    "left_before_completion": 0.30,
    "terminated_by_facility": 0.06,
    "transferred": 0.12,
    "incarcerated": 0.06,
    "died": 0.00,  # only at a participant's death
    "other": 0.11,
}

# Work statuses from most to least attached to work, so one latent per person moves along
# them: share at referral and after about a year in the program. Retired and unknown are
# set apart (by age, and as missing answers).
WORK_P = {
    "full_time": (0.02, 0.05),
    "part_time": (0.04, 0.08),
    "seasonal_sporadic": (0.07, 0.10),
    "training_education": (0.03, 0.06),
    "unemployed_seeking": (0.13, 0.17),
    "unemployed_not_seeking": (0.39, 0.29),
    "unable_to_work": (0.32, 0.25),
}
WORKING = ("full_time", "part_time", "seasonal_sporadic")
OUTSIDE_WORK_SCALE = ("retired", "unknown")


@dataclass(frozen=True)
class Cadence:
    """How often case managers assess an outcome while a participant is active."""

    every: dict[int, float]  # months between assessments -> share of intervals
    jitter: int  # days either side of the planned date
    before_referral: float  # share with an assessment in the 30 days before the referral


# LEAD case managers see participants often: housing is assessed about monthly (now and then
# a month is missed), employment every one to three months.
HOUSING_CADENCE = Cadence(every={1: 0.95, 2: 0.05}, jitter=6, before_referral=0.85)
EMPLOYMENT_CADENCE = Cadence(every={1: 0.75, 2: 0.15, 3: 0.10}, jitter=6, before_referral=0.7)
# Chance per month of cadence of dropping out of contact for 3 to 6 months.
OUT_OF_CONTACT_PER_MONTH = 0.01
# Share of exits with an exit assessment (HMIS: destination and income at exit) on the exit
# day: routine at graduation, rarer when the case manager has lost touch, never at a death.
EXIT_ASSESSED = {
    "graduated": 0.95,
    "disengaged": 0.15,
    "moved": 0.60,
    "incarcerated": 0.80,
    "deceased": 0.00,
    "other": 0.50,
}

ARREST_LEVEL_P = {"felony": 0.22, "misdemeanor": 0.55, "warrant": 0.18, "unknown": 0.05}
JAIL_LEVEL_P = {"felony": 0.55, "misdemeanor": 0.15, "warrant": 0.25, "unknown": 0.05}
# How long a booking holds its person, in days after the booking day (0: released the same day),
# as bands (first day, last day, chance): most leave within three days, some stay weeks, a few
# months, as in county jail stay data; a felony booking stays longer. An exit to incarceration
# is the start of a long stay. A release after the as-of date is not yet known: left blank.
STAY_BANDS = ((0, 3), (4, 45), (46, 240))
STAY_P = {"felony": (0.60, 0.28, 0.12), "other": (0.85, 0.12, 0.03)}
EXIT_STAY_DAYS = (60, 540)
# Arrests per month (times the person's propensity) by period in days relative to the index
# date (referral for participants): people are referred after a run of arrests (Santa Fe 2018,
# Collins 2017), so the 6 months before it are a spike in both groups; after it, the ordinary
# baseline. The index date itself holds an arrest exactly when the index is one (justice.py).
ARREST_RATES = ((-1095, -183, 0.10), (-182, -1, 0.20), (1, 10**6, 0.10))
# The program's effect planted in the demo (write_demo's `effect`): each participant's arrest
# after the referral date is kept with this chance (and the booking and charge it brought are
# dropped with it), so the participants' arrest rate after referral is this share of what it
# would have been without the program: an arrest rate ratio of 0.6, 40% fewer arrests. The
# comparison group is never thinned; effect=1.0 gives the participants' untreated outcomes.
DEMO_EFFECT = 0.6

# The comparison group (people eligible but not referred), for all sites but the last. Per
# site, COMPARISON_SIZE times the site's participants are sought (uniform in the range), from
# COMPARISON_POOL times as many candidates drawn like the participants. A candidate is taken
# with a chance proportional to exp(-COMPARISON_SELECTION * k), k their arrests in the 12 months
# before the index date as exported: LEAD takes people with more prior arrests, and who is
# compared depends only on what the exports show (no hidden selection).
COMPARISON_SIZE = (1.0, 1.5)
COMPARISON_POOL = 2.0
COMPARISON_SELECTION = 0.18
NOT_REFERRED_P = {
    "not_eligible_shift": 0.70,
    "outside_area": 0.12,
    "declined": 0.08,
    "other": 0.04,
    "unknown": 0.06,
}

# How often each missing-value token stands for a missing cell in messy exports (sites write
# them in upper case; the contract matches them in any case).
NA_TOKEN_WEIGHT = {"": 3, "na": 1, "n/a": 1, "null": 1, "#n/a": 1}

# Arrays in the contract's order, built (and checked against the contract) once at import.
OFFENSE_PROBS = {d: ordered_probs(f"offense[{d}]", p, OFFENSES) for d, p in OFFENSE_BY_DOOR.items()}
check_covers("OFFENSE_BY_DOOR", OFFENSE_BY_DOOR, REFERRAL_TYPES)
DOOR_ARREST = ordered_probs("DOOR_ARREST_FACTOR", DOOR_ARREST_FACTOR, REFERRAL_TYPES)
EXIT_PROBS = ordered_probs("EXIT_P", EXIT_P, EXIT_REASONS)
# A comparison person's chance of a long custody after the index date: a participant's of an
# exit to incarceration (they have no exit rows), at the same times (see comparison.py).
LONG_CUSTODY_P = EXIT_P["incarcerated"] / sum(EXIT_P.values())
NOT_REFERRED_PROBS = ordered_probs("NOT_REFERRED_P", NOT_REFERRED_P, NOT_REFERRED_REASONS)
GENDER_PROBS = ordered_probs("GENDER_P", GENDER_P, GENDERS)
GENDER_PROBS_SEX_WORK = ordered_probs("GENDER_P_SEX_WORK", GENDER_P_SEX_WORK, GENDERS)
check_covers("RACE_P parts", {r for v in RACE_P for r in v.split(";")}, vocab.RACES)
check_covers("LIVING_WEIGHT", [*HOMELESS_SPLIT, *LIVING_WEIGHT], LIVING_SITUATIONS)
check_covers(
    "HOMELESS_SPLIT",
    HOMELESS_SPLIT,
    (k for k, (_, c) in LIVING_SITUATIONS.items() if c == "homeless"),
)
SERVICE_PROBS = ordered_probs("SERVICE_P", SERVICE_P, SERVICE_TYPES)
check_covers("SERVICE_DAYS", SERVICE_DAYS, SERVICE_TYPES)
SERVICE_LOG_DAYS = np.log(np.array([SERVICE_DAYS[s] for s in SERVICE_TYPES], dtype=float))
DISCHARGE_PROBS = ordered_probs("DISCHARGE_P", DISCHARGE_P, DISCHARGE_REASONS)
check_covers("WORK_P", [*WORK_P, *OUTSIDE_WORK_SCALE], EMPLOYMENT_STATUSES)
WORK_STATUS = positions(EMPLOYMENT_STATUSES, *WORK_P)  # work-scale position -> contract index
WORK_PROBS_START = np.array([p for p, _ in WORK_P.values()])
WORK_PROBS_LATER = np.array([p for _, p in WORK_P.values()])
ARREST_LEVEL_PROBS = ordered_probs("ARREST_LEVEL_P", ARREST_LEVEL_P, LEVELS)
JAIL_LEVEL_PROBS = ordered_probs("JAIL_LEVEL_P", JAIL_LEVEL_P, LEVELS)
EXIT_ASSESSED_PROBS = ordered_probs("EXIT_ASSESSED", EXIT_ASSESSED, EXIT_REASONS)
check_covers("NA_TOKEN_WEIGHT", NA_TOKEN_WEIGHT, vocab.MISSING_TOKENS)
NA_TOKENS = tuple(t.upper() for t in vocab.MISSING_TOKENS for _ in range(NA_TOKEN_WEIGHT[t]))
# Messy exports give some living situations as HMIS numbers: a name's first code, except
# "unknown", whose codes (don't know, refused, not collected...) all occur.
HMIS_CODE = {name: str(codes[0]) for name, (codes, _) in LIVING_SITUATIONS.items()}
UNKNOWN_HMIS_CODES = tuple(str(c) for c in LIVING_SITUATIONS["unknown"][0])


# --------------------------------------------------------------- drawing columns


def day_number(d: date) -> int:
    """A date as days since 1970-01-01, the generator's arithmetic unit."""
    return (d - EPOCH).days


def labels(names: tuple[str, ...] | list[str], idx: np.ndarray) -> pl.Series:
    """Value names for positions into `names`."""
    return pl.Series(list(names), dtype=pl.String).gather(idx)


def pick(rng: np.random.Generator, p: tuple[float, ...] | np.ndarray, size: int) -> np.ndarray:
    """`size` positions drawn with weights `p` (one uniform draw each)."""
    cdf = np.cumsum(p)
    return np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(size), side="right"), len(p) - 1)


def dates(values: np.ndarray) -> pl.Series:
    """Day numbers as a Date series."""
    return pl.Series(values.astype(np.int32)).cast(pl.Date)
