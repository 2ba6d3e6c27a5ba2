"""Realistic synthetic LEAD exports (DESIGN.md s.4 and s.8) for the demo, tests and benchmarks.

Everything is generated column-wise with numpy and polars (loops only over sites, tables and
assessment slots), so a national-scale inbox of millions of rows takes seconds. The output is
a pure function of the arguments: every random stream is seeded from (seed, purpose, ...).

The contract (tables, columns, allowed values, HMIS codes, missing-value tokens) comes from
`checks`; this module only adds what a generator knows: how often each value occurs, how long
things last, how outcomes move over time. Every such table is keyed by the contract's value
names and checked at import to cover exactly the contract's values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from checks import MODELS, vocab

TABLES = vocab.TABLES
EARLIEST_REFERRAL = date.fromisoformat(vocab.EARLIEST_REFERRAL)


_SCHEMAS = {t: MODELS[t].to_schema() for t in TABLES}


def _contract_columns(table: str) -> tuple[str, ...]:
    # The model's columns, its key first (as DESIGN s.4 lists them and sites export them).
    key = tuple(MODELS[table].Config.metadata["key"])
    return (*key, *(c for c in _SCHEMAS[table].columns if c not in key))


COLUMNS: dict[str, tuple[str, ...]] = {t: _contract_columns(t) for t in TABLES}
OPTIONAL: dict[str, tuple[str, ...]] = {
    t: tuple(c for c, col in _SCHEMAS[t].columns.items() if col.nullable) for t in TABLES
}


def _covers(name: str, keys: Iterable[str], values: Iterable[str]) -> None:
    """Refuse a generator table whose keys are not exactly the contract's values."""
    keys, values = list(keys), set(values)
    if len(keys) != len(set(keys)) or set(keys) != values:
        missing, extra = sorted(values - set(keys)), sorted(set(keys) - values)
        raise ValueError(f"demo {name} is out of line with the contract: {missing=} {extra=}")


def _probs(name: str, weights: Mapping[str, float], values: tuple[str, ...]) -> np.ndarray:
    """Weights keyed by value name, as an array in the contract's order of `values`."""
    _covers(name, weights, values)
    return np.array([weights[v] for v in values], dtype=float)


def _index(values: tuple[str, ...], *names: str) -> np.ndarray:
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
LIVING_SITUATIONS = vocab.LIVING_SITUATIONS
CATEGORIES = vocab.HOUSING_CATEGORIES

SITE_NAMES = ("seattle", "king-south", "santa-fe")
SITE_PREFIXES = {"seattle": "SEA", "king-south": "KCS", "santa-fe": "SFE"}

_EPOCH = date(1970, 1, 1)
_EXCEL_EPOCH_OFFSET = 25569  # Excel serial of 1970-01-01 (serial 0 is 1899-12-30)
_DAYS_PER_MONTH = 30.4375

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
# Arrest propensity by door, relative to a social contact.
DOOR_ARREST_FACTOR = {"arrest_diversion": 1.2, "social_contact": 1.0, "community": 0.6}
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
# in program instead (see _housing): the sheltered share rises, safe havens stay rare.
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
# Arrests per month by period relative to referral (Santa Fe 2018, Collins 2017: fewer after).
ARREST_RATES = ((-1095, -183, 0.10), (-182, -1, 0.20), (0, 182, 0.10), (183, 10**6, 0.07))

# How often each missing-value token stands for a missing cell in messy exports (sites write
# them in upper case; the contract matches them in any case).
NA_TOKEN_WEIGHT = {"": 3, "na": 1, "n/a": 1, "null": 1, "#n/a": 1}

# Arrays in the contract's order, built (and checked against the contract) once at import.
_OFFENSE_P = {d: _probs(f"offense[{d}]", p, OFFENSES) for d, p in OFFENSE_BY_DOOR.items()}
_covers("OFFENSE_BY_DOOR", OFFENSE_BY_DOOR, REFERRAL_TYPES)
_DOOR_ARREST = _probs("DOOR_ARREST_FACTOR", DOOR_ARREST_FACTOR, REFERRAL_TYPES)
_EXIT_P = _probs("EXIT_P", EXIT_P, EXIT_REASONS)
_GENDER_P = _probs("GENDER_P", GENDER_P, GENDERS)
_GENDER_P_SEX_WORK = _probs("GENDER_P_SEX_WORK", GENDER_P_SEX_WORK, GENDERS)
_covers("RACE_P parts", {r for v in RACE_P for r in v.split(";")}, vocab.RACES)
_covers("LIVING_WEIGHT", [*HOMELESS_SPLIT, *LIVING_WEIGHT], LIVING_SITUATIONS)
_covers(
    "HOMELESS_SPLIT",
    HOMELESS_SPLIT,
    (k for k, (_, c) in LIVING_SITUATIONS.items() if c == "homeless"),
)
_SERVICE_P = _probs("SERVICE_P", SERVICE_P, SERVICE_TYPES)
_covers("SERVICE_DAYS", SERVICE_DAYS, SERVICE_TYPES)
_SERVICE_LOG_DAYS = np.log(np.array([SERVICE_DAYS[s] for s in SERVICE_TYPES], dtype=float))
_DISCHARGE_P = _probs("DISCHARGE_P", DISCHARGE_P, DISCHARGE_REASONS)
_covers("WORK_P", [*WORK_P, *OUTSIDE_WORK_SCALE], EMPLOYMENT_STATUSES)
_WORK_STATUS = _index(EMPLOYMENT_STATUSES, *WORK_P)  # work-scale position -> contract index
_WORK_P_START = np.array([p for p, _ in WORK_P.values()])
_WORK_P_LATER = np.array([p for _, p in WORK_P.values()])
_ARREST_LEVEL_P = _probs("ARREST_LEVEL_P", ARREST_LEVEL_P, LEVELS)
_JAIL_LEVEL_P = _probs("JAIL_LEVEL_P", JAIL_LEVEL_P, LEVELS)
_EXIT_ASSESSED = _probs("EXIT_ASSESSED", EXIT_ASSESSED, EXIT_REASONS)
_covers("NA_TOKEN_WEIGHT", NA_TOKEN_WEIGHT, vocab.MISSING_TOKENS)
NA_TOKENS = tuple(t.upper() for t in vocab.MISSING_TOKENS for _ in range(NA_TOKEN_WEIGHT[t]))
# Messy exports give some living situations as HMIS numbers: a name's first code, except
# "unknown", whose codes (don't know, refused, not collected...) all occur.
HMIS_CODE = {name: str(codes[0]) for name, (codes, _) in LIVING_SITUATIONS.items()}
UNKNOWN_HMIS_CODES = tuple(str(c) for c in LIVING_SITUATIONS["unknown"][0])
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def site_ids(n: int) -> list[str]:
    """The demo's site ids: a few named sites, then site-04, site-05, ..."""
    named = list(SITE_NAMES[:n])
    return named + [f"site-{i:02d}" for i in range(len(named) + 1, n + 1)]


def write_demo(
    inbox: Path,
    *,
    participants: int = 600,
    sites: int = 3,
    months: int = 36,
    seed: int = 7,
    messy: bool = False,
    as_of: date | None = None,
) -> dict[str, int]:
    """Write realistic synthetic exports into inbox/<site_id>/<table>.csv; return rows per table."""
    as_of = as_of or date.today()
    if sites < 1 or months < 1 or participants < sites:
        raise ValueError("need sites >= 1, months >= 1 and at least one participant per site")
    if as_of < EARLIEST_REFERRAL:
        raise ValueError(f"as_of must be on or after {EARLIEST_REFERRAL}")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    tables, people = _generate(participants, sites, months, seed, _days(as_of))
    ids = site_ids(sites)
    styles = _plan_styles(sites) if messy else {}
    written = dict.fromkeys(TABLES, 0)
    inbox = Path(inbox)
    for t_idx, table in enumerate(TABLES):
        df = tables[table]
        bounds = np.searchsorted(df["site"].to_numpy(), np.arange(sites + 1))
        for s in range(sites):
            part = df.slice(int(bounds[s]), int(bounds[s + 1] - bounds[s])).drop("site")
            folder = inbox / ids[s]
            folder.mkdir(parents=True, exist_ok=True)
            if messy:
                rng = np.random.default_rng([seed, 1000 + s, t_idx])
                style = styles.get((s, table), _FileStyle())
                text = _messy_rows(part, table, s, ids[s], style, rng, as_of, people.max_number[s])
                rows = text.height
                _write_text(text, table, folder, style, as_of)
            else:
                rows = part.height
                _remove_sibling(folder, table, "csv")
                part.write_csv(folder / f"{table}.csv", date_format="%Y-%m-%d", null_value="")
            written[table] += rows
    return written


# --------------------------------------------------------------------------- generation


@dataclass
class _People:
    site: np.ndarray  # site index per participant (participants sorted by site, referral)
    ref: np.ndarray  # referral day (days since 1970-01-01)
    start: np.ndarray  # first day of engagement (intake, or a few days after referral)
    end: np.ndarray  # last active day: exit date or as-of
    exit_reason: np.ndarray  # index into EXIT_REASONS, -1 while still in the program
    door: np.ndarray
    age: np.ndarray
    pid: pl.Series
    max_number: list[int]  # highest id number per site, to mint ids that do not exist


def _days(d: date) -> int:
    return (d - _EPOCH).days


def _labels(names: tuple[str, ...] | list[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(names)[idx], dtype=pl.String)


def _pick(rng: np.random.Generator, p: tuple[float, ...] | np.ndarray, size: int) -> np.ndarray:
    cdf = np.cumsum(p)
    return np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(size), side="right"), len(p) - 1)


def _date(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype(np.int32)).cast(pl.Date)


def _generate(
    total: int, n_sites: int, months: int, seed: int, as_of: int
) -> tuple[dict[str, pl.DataFrame], _People]:
    rng = np.random.default_rng([seed, 1])
    participants, people = _participants(rng, total, n_sites, months, as_of)
    tables = {
        "participants": participants,
        "housing": _housing(np.random.default_rng([seed, 2]), people),
        "treatment": _treatment(np.random.default_rng([seed, 3]), people, as_of),
        "employment": _employment(np.random.default_rng([seed, 4]), people),
        "justice": _justice(np.random.default_rng([seed, 5]), people, as_of),
    }
    # Exactly the contract's columns, in its order (a column the contract lost fails here).
    return {t: tables[t].select("site", *COLUMNS[t]) for t in TABLES}, people


def _site_sizes(rng: np.random.Generator, total: int, k: int) -> np.ndarray:
    # Zipf-like: a big founding site and a long tail of small ones.
    w = np.sort(rng.uniform(0.8, 1.2, k) / np.arange(1, k + 1) ** 1.05)[::-1]
    share = (total - k) * w / w.sum()
    sizes = 1 + np.floor(share).astype(np.int64)
    rest = total - int(sizes.sum())
    sizes[np.argsort(-(share - np.floor(share)), kind="stable")[:rest]] += 1
    return sizes


def _referral_days(rng: np.random.Generator, sizes: np.ndarray, months: int, as_of: int) -> list[np.ndarray]:
    first = np.datetime64(as_of, "D").astype("datetime64[M]")
    offsets = np.arange(months - 1, -1, -1)
    starts = (first - offsets).astype("datetime64[D]").astype(np.int64)
    ends = (first - offsets + 1).astype("datetime64[D]").astype(np.int64) - 1
    starts = np.maximum(starts, _days(EARLIEST_REFERRAL))
    ends = np.minimum(ends, as_of)
    keep = starts <= ends
    starts, ends = starts[keep], ends[keep]
    m = len(starts)
    t = np.arange(m)
    length = (ends - starts + 1) / _DAYS_PER_MONTH
    # Program-wide waves (funding rounds, new officer cohorts) shared by all sites.
    shared = np.zeros(m)
    for centre in rng.uniform(0, m, max(1, m // 12)):
        shared += rng.uniform(0.8, 2.0) * np.exp(-0.5 * ((t - centre) / rng.uniform(1.5, 3.5)) ** 2)
    result = []
    for s, n in enumerate(sizes):
        launch = 0 if s == 0 else int(rng.integers(0, max(1, m // 2)))
        own = np.zeros(m)
        for centre in rng.uniform(launch, m, 2):
            width = rng.uniform(1.0, 3.0)
            own += rng.uniform(0.5, 1.5) * np.exp(-0.5 * ((t - centre) / width) ** 2)
        backlog = 1.5 * np.exp(-(t - launch) / 3.0)  # a new site refers its waiting list first
        lam = np.where(t >= launch, 0.6 + shared + own + backlog, 0.0) * length
        counts = rng.multinomial(int(n), lam / lam.sum())
        month = np.repeat(t, counts)
        span = ends[month] - starts[month] + 1
        result.append(starts[month] + np.floor(rng.random(len(month)) * span).astype(np.int64))
    return result


def _participants(
    rng: np.random.Generator, total: int, n_sites: int, months: int, as_of: int
) -> tuple[pl.DataFrame, _People]:
    sizes = _site_sizes(rng, total, n_sites)
    refs = _referral_days(rng, sizes, months, as_of)
    site = np.repeat(np.arange(n_sites), sizes)
    ref = np.concatenate([np.sort(r) for r in refs])
    n = len(ref)

    social = np.clip(rng.normal(0.5, 0.05, n_sites), 0.38, 0.62)
    community = np.where(np.arange(n_sites) == 0, 0.0, rng.uniform(0.02, 0.12, n_sites))
    u = rng.random(n)
    arrest, social_contact, community_door = _index(
        REFERRAL_TYPES, "arrest_diversion", "social_contact", "community"
    )
    door = np.where(
        u < social[site],
        social_contact,
        np.where(u < social[site] + community[site], community_door, arrest),
    )

    offense = np.zeros(n, dtype=np.int64)
    for d, p in _OFFENSE_P.items():
        mask = door == REFERRAL_TYPES.index(d)
        offense[mask] = _pick(rng, p, int(mask.sum()))
    offense_missing = rng.random(n) < 0.02

    gender = np.where(
        offense == OFFENSES.index("sex_work"),
        _pick(rng, _GENDER_P_SEX_WORK, n),
        _pick(rng, _GENDER_P, n),
    )
    race = _pick(rng, np.array(list(RACE_P.values())), n)
    age = np.clip(np.rint(rng.normal(40, 11.5, n)), 18, 75).astype(np.int64)
    ref_year = ref.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    birth_year = ref_year - age

    intake = ref + np.minimum(rng.geometric(0.3, n) - 1, 30)
    has_intake = (rng.random(n) > 0.07) & (intake <= as_of)
    start = np.where(has_intake, intake, ref + rng.integers(0, 15, n))
    exit_ = ref + 45 + np.floor(rng.exponential(1100, n)).astype(np.int64)
    exited = exit_ <= as_of
    exit_reason = _pick(rng, _EXIT_P, n)
    # Nobody graduates in their first year; early leavers mostly disengage.
    early = (exit_reason == EXIT_REASONS.index("graduated")) & (exit_ - ref < 365)
    exit_reason = np.where(early, EXIT_REASONS.index("disengaged"), exit_reason)
    end = np.where(exited, exit_, as_of)

    case_manager = np.zeros(n, dtype=np.int64)
    numbers = np.zeros(n, dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    pid_parts: list[pl.Series] = []
    max_number: list[int] = []
    names = site_ids(n_sites)
    for s in range(n_sites):
        lo, hi = int(bounds[s]), int(bounds[s + 1])
        active = np.flatnonzero(~exited[lo:hi]) + lo
        n_active = len(active)
        target = int(rng.integers(15, 23))
        n_cm = max(1, min(max(round(n_active / target), math.ceil(n_active / 25)), max(1, n_active // 12)))
        case_manager[lo:hi] = rng.integers(0, n_cm, hi - lo)
        case_manager[rng.permutation(active)] = np.arange(n_active) % n_cm
        numbers[lo:hi] = int(rng.integers(1, 150)) + np.cumsum(rng.integers(1, 4, hi - lo))
        max_number.append(int(numbers[hi - 1]))
        pid_parts.append(_format_ids(numbers[lo:hi], s, names[s]))
    pid = pl.concat(pid_parts).rename("participant_id")

    df = pl.DataFrame(
        {
            "site": pl.Series(site.astype(np.int32)),
            "participant_id": pid,
            "case_manager_id": "CM" + pl.Series(case_manager + 1).cast(pl.String).str.zfill(2),
            "referral_date": _date(ref),
            "referral_type": _labels(REFERRAL_TYPES, door),
            "referral_offense": _labels(OFFENSES, offense),
            "intake_date": _date(intake),
            "exit_date": _date(exit_),
            "exit_reason": _labels(EXIT_REASONS, exit_reason),
            "birth_year": pl.Series(birth_year),
            "gender": _labels(GENDERS, gender),
            "race_ethnicity": _labels(list(RACE_P), race),
        }
    ).with_columns(
        pl.when(pl.Series(offense_missing))
        .then(None)
        .otherwise(pl.col("referral_offense"))
        .alias("referral_offense"),
        pl.when(pl.Series(has_intake)).then(pl.col("intake_date")).alias("intake_date"),
        pl.when(pl.Series(exited)).then(pl.col("exit_date")).alias("exit_date"),
        pl.when(pl.Series(exited)).then(pl.col("exit_reason")).alias("exit_reason"),
    )
    reason = np.where(exited, exit_reason, -1)
    people = _People(site, ref, start, end, reason, door, age, pid, max_number)
    return df, people


def _format_ids(numbers: np.ndarray, site: int, site_id: str) -> pl.Series:
    # Sites differ: some use bare zero-padded numbers (so two sites can share an ID), some a prefix.
    digits = pl.Series(numbers).cast(pl.String)
    if site % 2 == 0:
        return digits.str.zfill(6)
    return SITE_PREFIXES.get(site_id, f"S{site + 1:02d}") + "-" + digits.str.zfill(5)


def _assessment_days(
    rng: np.random.Generator, people: _People, cadence: Cadence
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Participant index, day and exit flag of each assessment: for many one in the 30 days
    before the referral, one at the start of engagement, then every few months (by `cadence`)
    while active, and for most exits one on the exit day.
    """
    n = len(people.ref)
    span = people.end - people.start  # negative when engagement starts after as-of
    months = np.array(list(cadence.every), dtype=np.int32)
    shortest = int(months.min()) * _DAYS_PER_MONTH - cadence.jitter
    slots = max(int(span.max(initial=0)), 0) // int(shortest) + 1
    step = months[_pick(rng, np.array(list(cadence.every.values())), n * slots)].reshape(n, slots)
    gaps = np.rint(step * _DAYS_PER_MONTH).astype(np.int32)
    gaps += rng.integers(-cadence.jitter, cadence.jitter + 1, (n, slots), dtype=np.int32)
    # Some participants drop out of contact for a while before re-engaging.
    away = rng.random((n, slots)) < OUT_OF_CONTACT_PER_MONTH * step
    gaps += np.where(away, rng.integers(90, 200, (n, slots), dtype=np.int32), 0).astype(np.int32)
    gaps[:, 0] = 0
    offs = np.cumsum(gaps, axis=1, dtype=np.int32)
    rows, cols = np.nonzero(offs <= span[:, None])
    days = people.start[rows] + offs[rows, cols]
    pre = np.flatnonzero(rng.random(n) < cadence.before_referral)
    pre_days = people.ref[pre] - rng.integers(1, 31, len(pre))
    exited = np.flatnonzero(people.exit_reason >= 0)
    at_exit = exited[rng.random(len(exited)) < _EXIT_ASSESSED[people.exit_reason[exited]]]
    p = np.concatenate([pre, rows, at_exit])
    d = np.concatenate([pre_days, days, people.end[at_exit]])
    is_exit = np.concatenate([np.zeros(len(pre) + len(rows), dtype=bool), np.ones(len(at_exit), bool)])
    order = np.lexsort((~is_exit, d, p))
    p, d, is_exit = p[order], d[order], is_exit[order]
    # A routine assessment that falls on the exit day is the exit assessment.
    first = np.ones(len(p), dtype=bool)
    first[1:] = (np.diff(p) != 0) | (np.diff(d) != 0)
    return p[first], d[first], is_exit[first]


def _outcome_frame(people: _People, p: np.ndarray, columns: dict[str, pl.Series]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "site": pl.Series(people.site[p].astype(np.int32)),
            "participant_id": people.pid.gather(p),
            **columns,
        }
    )


def _housing(rng: np.random.Generator, people: _People) -> pl.DataFrame:
    n = len(people.ref)
    p, day, at_exit = _assessment_days(rng, people, HOUSING_CADENCE)
    t = (day - people.ref[p]) / _DAYS_PER_MONTH
    # Clifasefi 2017: ~2/3 homeless at referral, permanent housing ~1/3 by 18 months.
    p_perm = np.where(t < 0, 0.06, 0.08 + 0.30 * (1 - np.exp(-t / 9)))
    p_home = np.where(t < 0, 0.68, 0.25 + 0.40 * np.exp(-t / 10))
    p_inst = 0.06
    p_temp = 1 - p_perm - p_home - p_inst
    latent = rng.random(n)[p] + rng.normal(0, 0.07, len(p))
    homeless, institutional, temporary, permanent, unknown = _index(
        CATEGORIES, "homeless", "institutional", "temporary", "permanent", "unknown"
    )
    category = np.select(
        [latent < p_perm, latent < p_perm + p_temp, latent < p_perm + p_temp + p_inst],
        [permanent, temporary, institutional],
        default=homeless,
    )
    category = np.where(rng.random(len(p)) < 0.03, unknown, category)
    # A person keeps the same kind of place within a category (e.g. their subsidised rental).
    taste = rng.random(n)[p]
    names = list(LIVING_SITUATIONS)
    chosen = np.zeros(len(p), dtype=np.int64)
    for c, cat in enumerate(CATEGORIES):
        mask = category == c
        if cat == "homeless":
            # Sheltered share rises with months in program (more than doubles by 18 months).
            unsheltered = 0.75 - 0.30 * np.minimum(np.maximum(t[mask], 0), 18) / 18
            v = taste[mask]
            idx = np.where(v < unsheltered, 0, np.where(v < 0.97, 1, 2))
            chosen[mask] = _index(tuple(names), *HOMELESS_SPLIT)[idx]
            continue
        members = [i for i, x in enumerate(names) if LIVING_SITUATIONS[x][1] == cat]
        cdf = np.cumsum([LIVING_WEIGHT[names[i]] for i in members])
        pos = np.minimum(np.searchsorted(cdf / cdf[-1], taste[mask], side="right"), len(cdf) - 1)
        chosen[mask] = np.array(members)[pos]
    # Someone leaving the program for jail or prison lives there at exit.
    jailed = at_exit & (people.exit_reason[p] == EXIT_REASONS.index("incarcerated"))
    chosen = np.where(jailed, names.index("jail_prison"), chosen)
    return _outcome_frame(people, p, {"assessed_on": _date(day), "living_situation": _labels(names, chosen)})


def _employment(rng: np.random.Generator, people: _People) -> pl.DataFrame:
    n = len(people.ref)
    p, day, _ = _assessment_days(rng, people, EMPLOYMENT_CADENCE)
    t = np.maximum((day - people.ref[p]) / _DAYS_PER_MONTH, 0)
    k = len(p)
    w = 1 - np.exp(-t / 12)
    probs = _WORK_P_START[None, :] + (_WORK_P_LATER - _WORK_P_START)[None, :] * w[:, None]
    cdf = np.cumsum(probs, axis=1)
    latent = np.clip(rng.random(n)[p] + rng.normal(0, 0.08, k), 0, 0.999999)
    scale = np.minimum((latent[:, None] >= cdf).sum(axis=1), len(WORK_P) - 1)
    status = _WORK_STATUS[scale]
    age_now = people.age[p] + (day - people.ref[p]) // 365
    retired = (age_now >= 60) & (rng.random(n)[p] < 0.4)
    status = np.where(retired, EMPLOYMENT_STATUSES.index("retired"), status)
    status = np.where(rng.random(k) < 0.05, EMPLOYMENT_STATUSES.index("unknown"), status)

    working = np.isin(status, _index(EMPLOYMENT_STATUSES, *WORKING))
    unable = status == EMPLOYMENT_STATUSES.index("unable_to_work")
    benefits_p = 0.38 + 0.17 * w + np.where(unable | retired, 0.25, 0.0)
    benefits = (rng.random(n)[p] + rng.normal(0, 0.05, k)) < benefits_p
    yes, no, unknown = _index(INCOME, "yes", "no", "unknown")
    income = np.where(working, np.where(rng.random(k) < 0.93, yes, no), np.where(benefits, yes, no))
    income = np.where(rng.random(k) < 0.04, unknown, income)
    return _outcome_frame(
        people,
        p,
        {
            "assessed_on": _date(day),
            "employment_status": _labels(EMPLOYMENT_STATUSES, status),
            "has_income": _labels(INCOME, income),
        },
    )


def _treatment(rng: np.random.Generator, people: _People, as_of: int) -> pl.DataFrame:
    n = len(people.ref)
    n_pre = rng.poisson(0.5, n)
    rate = rng.gamma(2.0, 0.5, n)  # episodes per year in program, varies a lot by person
    active_years = (people.end - people.ref + 1) / 365.25
    n_post = rng.poisson(rate * active_years)
    pre = np.repeat(np.arange(n), n_pre)
    post = np.repeat(np.arange(n), n_post)
    pre_start = people.ref[pre] - rng.integers(1, 366, len(pre))
    span = people.end[post] - people.ref[post] + 1
    post_start = people.ref[post] + np.floor(rng.random(len(post)) * span).astype(np.int64)
    p = np.concatenate([pre, post])
    start = np.concatenate([pre_start, post_start])
    k = len(p)
    service = _pick(rng, _SERVICE_P, k)
    lo, hi = _SERVICE_LOG_DAYS[service, 0], _SERVICE_LOG_DAYS[service, 1]
    end = start + np.floor(np.exp(rng.uniform(lo, hi))).astype(np.int64)
    reason = _pick(rng, _DISCHARGE_P, k)
    # Episodes running (or recently begun) when a participant died end that day, as "died".
    death = np.where(people.exit_reason[p] == EXIT_REASONS.index("deceased"), people.end[p], -1)
    died = (death >= 0) & ((end >= death) | (start >= death - 180))
    end = np.where(died, death, end)
    reason = np.where(died, DISCHARGE_REASONS.index("died"), reason)
    closed = end <= as_of
    site = people.site[p]
    order = np.lexsort((service, start, p, site))
    p, start, end, closed, reason, service, site = (
        a[order] for a in (p, start, end, closed, reason, service, site)
    )
    df = _outcome_frame(
        people,
        p,
        {
            "service_type": _labels(SERVICE_TYPES, service),
            "start_date": _date(start),
            "end_date": _date(end),
            "discharge_reason": _labels(DISCHARGE_REASONS, reason),
        },
    )
    numbers = df.select(pl.int_range(pl.len()).over("site") + 1).to_series()
    return df.with_columns(
        episode_id=("TX" + numbers.cast(pl.String).str.zfill(6)),
        end_date=pl.when(pl.Series(closed)).then(pl.col("end_date")),
        discharge_reason=pl.when(pl.Series(closed)).then(pl.col("discharge_reason")),
    )


def _justice(rng: np.random.Generator, people: _People, as_of: int) -> pl.DataFrame:
    n = len(people.ref)
    propensity = rng.gamma(1.5, 1 / 1.5, n) * _DOOR_ARREST[people.door]
    ps, days = [], []
    for lo, hi, per_month in ARREST_RATES:
        first = people.ref + lo
        last = np.minimum(people.ref + hi, as_of)
        length = np.maximum(last - first + 1, 0)
        counts = rng.poisson(propensity * per_month * length / _DAYS_PER_MONTH)
        idx = np.repeat(np.arange(n), counts)
        ps.append(idx)
        days.append(first[idx] + np.floor(rng.random(len(idx)) * length[idx]).astype(np.int64))
    p = np.concatenate(ps)
    day = np.concatenate(days)
    level = _pick(rng, _ARREST_LEVEL_P, len(p))

    booked = rng.random(len(p))
    b = booked < 0.62
    b_day = day[b] + (booked[b] >= 0.55)  # usually the same day, sometimes the next
    charged = rng.random(len(p)) < 0.75
    c_day = day[charged] + np.minimum(rng.geometric(0.3, int(charged.sum())) - 1, 30)
    c_level = np.where(
        rng.random(int(charged.sum())) < 0.8,
        level[charged],
        _pick(rng, _ARREST_LEVEL_P, int(charged.sum())),
    )

    # Exits to incarceration come with a booking on the exit day.
    jailed = np.flatnonzero(people.exit_reason == EXIT_REASONS.index("incarcerated"))
    j_level = _pick(rng, _JAIL_LEVEL_P, len(jailed))

    all_p = np.concatenate([p, p[b], p[charged], jailed])
    all_day = np.concatenate([day, b_day, c_day, people.end[jailed]])
    arrest, booking, charge = _index(EVENT_TYPES, "arrest", "booking", "charge")
    all_type = np.concatenate(
        [
            np.full(len(p), arrest),
            np.full(len(b_day), booking),
            np.full(len(c_day), charge),
            np.full(len(jailed), booking),
        ]
    )
    all_level = np.concatenate([level, level[b], c_level, j_level])
    alive = (people.exit_reason[all_p] != EXIT_REASONS.index("deceased")) | (all_day <= people.end[all_p])
    keep = (all_day <= as_of) & alive
    all_p, all_day, all_type, all_level = (a[keep] for a in (all_p, all_day, all_type, all_level))
    order = np.lexsort((all_level, all_type, all_day, all_p))
    all_p, all_day, all_type, all_level = (a[order] for a in (all_p, all_day, all_type, all_level))
    # Two events of one type on one day are one record in police data: keep the first.
    first = np.ones(len(all_p), dtype=bool)
    first[1:] = (np.diff(all_p) != 0) | (np.diff(all_day) != 0) | (np.diff(all_type) != 0)
    all_p, all_day, all_type, all_level = (a[first] for a in (all_p, all_day, all_type, all_level))
    return _outcome_frame(
        people,
        all_p,
        {
            "event_date": _date(all_day),
            "event_type": _labels(EVENT_TYPES, all_type),
            "level": _labels(LEVELS, all_level),
        },
    )


# --------------------------------------------------------------------------- messy exports


@dataclass(frozen=True)
class _FileStyle:
    encoding: str = "utf-8"  # utf-8, utf-8-sig, utf-16 (with BOM) or cp1252
    newline: str = "\n"
    xlsx: bool = False
    headers: str = "snake"  # snake, title ("Participant ID") or upper ("PARTICIPANT-ID")
    us_dates: bool = False
    mixed_dates: bool = True  # a few US dates and Excel serials among ISO ones
    hmis_codes: bool = False
    blank_lines: int = 0
    reorder: bool = False
    accented_case_manager: bool = False


def _plan_styles(n_sites: int) -> dict[tuple[int, str], _FileStyle]:
    """Which file-level faults go where: deterministic, each fault at least once."""
    styles: dict[tuple[int, str], _FileStyle] = {}
    special = ("cp1252", "utf-16", "utf-8-sig", "utf-8", "utf-8")
    for s in range(n_sites):
        for t, table in enumerate(TABLES):
            if n_sites >= 3:
                encoding = {0: "utf-8-sig", 1: "cp1252", 2: "utf-16"}.get(s, "utf-8")
            else:
                encoding = special[(s * len(TABLES) + t) % len(special)]
            windows = encoding in ("cp1252", "utf-16")
            styles[(s, table)] = _FileStyle(
                encoding=encoding,
                newline="\r\n" if windows or (s + t) % 4 == 2 else "\n",
                headers="title" if windows else ("upper" if (s + t) % 5 == 1 else "snake"),
                us_dates=encoding == "cp1252",
                hmis_codes=n_sites >= 4 and s == 3 and table == "housing",
                blank_lines=1 + (s + t) % 3 if (s * 5 + t) % 3 == 0 else 0,
                reorder=s == 0 and table == "treatment",
                accented_case_manager=encoding == "cp1252" and table == "participants",
            )
    last = n_sites - 1 if n_sites >= 4 else 0
    # Spreadsheet dates are real date cells.
    styles[(last, "employment")] = _FileStyle(xlsx=True, headers="title", mixed_dates=False)
    cr = styles[(last, "justice")]
    styles[(last, "justice")] = _FileStyle(
        encoding=cr.encoding, newline="\r", headers=cr.headers, blank_lines=2
    )
    return styles


def _header(name: str, style: str) -> str:
    if style == "title":
        return " ".join("ID" if w == "id" else w.capitalize() for w in name.split("_"))
    if style == "upper":
        return name.upper().replace("_", "-")
    return name


def _messy_rows(
    df: pl.DataFrame,
    table: str,
    site: int,
    site_id: str,
    style: _FileStyle,
    rng: np.random.Generator,
    as_of: date,
    max_number: int,
) -> pl.DataFrame:
    """The site's rows as text, with the faults real exports have on a small share of them."""
    n = df.height
    force = site == 0  # the biggest site carries every row fault at least once

    def count(rate: float) -> int:
        k = int(rng.binomial(n, rate)) if n else 0
        return min(max(k, 1 if force else 0), n)

    perm = rng.permutation(n)
    taken = 0

    def take(k: int) -> np.ndarray:
        nonlocal taken
        rows = perm[taken : taken + k]
        taken += len(rows)
        return rows

    def mask(rows: np.ndarray) -> pl.Series:
        m = np.zeros(n, dtype=bool)
        m[rows] = True
        return pl.Series(m)

    def put(frame: pl.DataFrame, rows: np.ndarray, column: str, value: pl.Expr) -> pl.DataFrame:
        if len(rows) == 0:
            return frame
        return frame.with_columns(pl.when(mask(rows)).then(value).otherwise(pl.col(column)).alias(column))

    after = pl.lit(as_of) + pl.duration(days=pl.lit(int(rng.integers(1, 40))))
    # Rule breakers, set while the columns still have their types.
    if table == "participants":
        df = put(df, take(count(0.002)), "referral_type", pl.lit("walk_in"))
        rows = take(count(0.002))
        df = put(df, rows, "intake_date", pl.col("referral_date") - pl.duration(days=3))
        if style.accented_case_manager and n:
            last_cm = df["case_manager_id"].sort()[-1]
            df = df.with_columns(pl.col("case_manager_id").replace(last_cm, "CM-José"))
    elif table == "housing":
        df = put(df, take(count(0.002)), "living_situation", pl.lit("couch_surfing"))
        df = put(df, take(count(0.002)), "assessed_on", after)
    elif table == "treatment":
        rows = take(count(0.003))
        df = put(df, rows, "end_date", pl.col("start_date") - pl.duration(days=5))
        df = put(df, rows, "discharge_reason", pl.lit("completed"))
        df = put(df, take(count(0.002)), "service_type", pl.lit("acupuncture"))
    elif table == "employment":
        df = put(df, take(count(0.002)), "has_income", pl.lit("maybe"))
        df = put(df, take(count(0.002)), "assessed_on", after)
    else:
        df = put(df, take(count(0.002)), "level", pl.lit("infraction"))
        df = put(df, take(count(0.002)), "event_date", after)

    # Every cell as text: dates in mixed styles, missing values as the usual tokens.
    helpers: dict[str, pl.Series] = {}
    exprs = []
    for c, dtype in df.schema.items():
        if dtype == pl.Date:
            fmt = _pick(rng, (0.97, 0.02, 0.01), n).astype(np.int8)
            if style.us_dates or not style.mixed_dates:
                fmt[:] = 1 if style.us_dates else 0
            helpers[f"_fmt_{c}"] = pl.Series(fmt)
            e = (
                pl.when(pl.col(f"_fmt_{c}") == 1)
                .then(pl.col(c).dt.strftime("%m/%d/%Y"))
                .when(pl.col(f"_fmt_{c}") == 2)
                .then((pl.col(c).cast(pl.Int32) + _EXCEL_EPOCH_OFFSET).cast(pl.String))
                .otherwise(pl.col(c).dt.strftime("%Y-%m-%d"))
            )
        else:
            e = pl.col(c).cast(pl.String)
        if c in OPTIONAL[table]:
            helpers[f"_na_{c}"] = _labels(NA_TOKENS, rng.integers(0, len(NA_TOKENS), n))
            e = pl.when(pl.col(c).is_null()).then(pl.col(f"_na_{c}")).otherwise(e)
        exprs.append(e.alias(c))
    if table == "housing":
        share = 1.0 if style.hmis_codes else 0.05
        helpers["_code"] = pl.Series(rng.random(n) < share)
        helpers["_unknown_code"] = _labels(UNKNOWN_HMIS_CODES, rng.integers(0, len(UNKNOWN_HMIS_CODES), n))
        column = df.columns.index("living_situation")
        exprs[column] = (
            pl.when(~pl.col("_code") | ~pl.col("living_situation").is_in(list(HMIS_CODE)))
            .then(pl.col("living_situation"))
            .when(pl.col("living_situation") == "unknown")
            .then(pl.col("_unknown_code"))
            .otherwise(pl.col("living_situation").replace_strict(HMIS_CODE, default=None))
            .alias("living_situation")
        )
    text = df.with_columns(**helpers).select(exprs)

    # Values padded with spaces (trimmed on read) in one enum column.
    enum_col = {
        "participants": "gender",
        "housing": "living_situation",
        "treatment": "service_type",
        "employment": "employment_status",
        "justice": "event_type",
    }[table]
    text = put(text, take(count(0.005)), enum_col, pl.lit(" ") + pl.col(enum_col) + pl.lit(" "))

    extra: list[pl.DataFrame] = []
    after_row: list[np.ndarray] = []
    if table != "participants" and n:
        rows = take(count(0.003))
        unknown = _format_ids(max_number + 1000 + 7 * np.arange(len(rows)), site, site_id)
        ghost = text[rows].with_columns(participant_id=unknown)
        if table == "treatment":
            ghost = ghost.with_columns(
                episode_id="TX" + pl.Series(900000 + np.arange(len(rows))).cast(pl.String)
            )
        extra.append(ghost)
        after_row.append(rows)
    dup_rate = 0.003 if table != "participants" else 0.002
    rows = take(count(dup_rate))
    extra.append(text[rows])
    after_row.append(rows)
    conflict_col = {
        "participants": "gender",
        "housing": "living_situation",
        "treatment": "service_type",
        "employment": "has_income",
        "justice": "level",
    }[table]
    choices = {
        "participants": GENDERS,
        "housing": tuple(LIVING_SITUATIONS),
        "treatment": SERVICE_TYPES,
        "employment": INCOME,
        "justice": LEVELS,
    }[table]
    k = count(0.002) if table != "participants" else (1 if force else 0)
    rows = take(min(k, n - taken))
    if len(rows):
        current = text[conflict_col].gather(rows).str.strip_chars()
        current = current.replace(vocab.HMIS_CODES).to_numpy()
        shift = rng.integers(1, len(choices), len(rows))
        other = np.array(
            [
                choices[(choices.index(v) + d) % len(choices)] if v in choices else choices[0]
                for v, d in zip(current, shift, strict=True)
            ]
        )
        extra.append(text[rows].with_columns(pl.Series(conflict_col, other)))
        after_row.append(rows)

    # Copies go right after their source row, as re-exported or merged records do.
    keys = np.concatenate([2 * np.arange(n), *(2 * r + 1 for r in after_row)])
    text = pl.concat([text, *extra]).gather(np.argsort(keys, kind="stable"))
    if style.reorder:
        text = text.select(text.columns[::-1])
    return text


def _remove_sibling(folder: Path, table: str, ext: str) -> None:
    # One export per (site, table): a stale export in the other format would be read too.
    other = folder / f"{table}.{'xlsx' if ext == 'csv' else 'csv'}"
    other.unlink(missing_ok=True)


def _write_text(text: pl.DataFrame, table: str, folder: Path, style: _FileStyle, as_of: date) -> None:
    text = text.rename({c: _header(c, style.headers) for c in text.columns})
    if style.xlsx:
        _remove_sibling(folder, table, "xlsx")
        _write_xlsx(text, folder / f"{table}.xlsx", table, as_of)
        return
    _remove_sibling(folder, table, "csv")
    blank = text.select(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in text.columns)
    body = blank.write_csv(null_value="") + "\n" * style.blank_lines
    if style.newline != "\n":
        body = body.replace("\n", style.newline)
    if style.encoding == "utf-16":
        data = b"\xff\xfe" + body.encode("utf-16-le")
    else:
        data = body.encode(style.encoding)
    (folder / f"{table}.csv").write_bytes(data)


def _write_xlsx(text: pl.DataFrame, path: Path, table: str, as_of: date) -> None:
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})
    # Fixed metadata so the same arguments give the same bytes.
    wb.set_properties({"created": datetime(as_of.year, as_of.month, as_of.day)})
    ws = wb.add_worksheet(table)
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for col, name in enumerate(text.columns):
        ws.write_string(0, col, name)
        for row, value in enumerate(text[name].to_list(), start=1):
            if value is None or value == "":
                continue
            if _ISO_DATE.match(value):
                ws.write_datetime(row, col, date.fromisoformat(value), date_format)
            else:
                ws.write_string(row, col, value)
    wb.close()
