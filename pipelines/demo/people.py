"""The demo's participants: sites and their sizes, referral waves, doors, demographics, ids,
case managers and exits, and the `People` record the outcome tables are drawn from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.demo.distributions import (
    DAYS_PER_MONTH,
    EARLIEST_REFERRAL,
    EXIT_AFTER_DAYS,
    EXIT_MEAN_WAIT_DAYS,
    EXIT_PROBS,
    EXIT_REASONS,
    GENDER_PROBS,
    GENDER_PROBS_SEX_WORK,
    GENDERS,
    OFFENSE_PROBS,
    OFFENSES,
    RACE_P,
    REFERRAL_TYPES,
    dates,
    day_number,
    labels,
    pick,
    positions,
)

OFFENSE_MISSING = 0.02  # share of referrals (and comparison indexes) with no offense recorded
SITE_NAMES = ("seattle", "king-south", "santa-fe")
SITE_PREFIXES = {"seattle": "SEA", "king-south": "KCS", "santa-fe": "SFE"}


def site_ids(n: int) -> list[str]:
    """The demo's site ids: a few named sites, then site-04, site-05, ..."""
    named = list(SITE_NAMES[:n])
    return named + [f"site-{i:02d}" for i in range(len(named) + 1, n + 1)]


@dataclass
class People:
    """The participants as arrays, one entry each, in the participants table's order."""

    site: np.ndarray  # site index per participant (participants sorted by site, referral)
    ref: np.ndarray  # referral day (days since 1970-01-01)
    start: np.ndarray  # first day of engagement (intake, or a few days after referral)
    end: np.ndarray  # last active day: exit date or as-of
    exit_reason: np.ndarray  # index into EXIT_REASONS, -1 while still in the program
    door: np.ndarray
    age: np.ndarray
    pid: pl.Series
    max_number: list[int]  # highest id number per site, to mint ids that do not exist


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
    starts = np.maximum(starts, day_number(EARLIEST_REFERRAL))
    ends = np.minimum(ends, as_of)
    keep = starts <= ends
    starts, ends = starts[keep], ends[keep]
    m = len(starts)
    t = np.arange(m)
    length = (ends - starts + 1) / DAYS_PER_MONTH
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


def draw_participants(
    rng: np.random.Generator, total: int, n_sites: int, months: int, as_of: int
) -> tuple[pl.DataFrame, People]:
    """The participants table (with a `site` column) and the `People` record behind it."""
    sizes = _site_sizes(rng, total, n_sites)
    refs = _referral_days(rng, sizes, months, as_of)
    site = np.repeat(np.arange(n_sites), sizes)
    ref = np.concatenate([np.sort(r) for r in refs])
    n = len(ref)

    social = np.clip(rng.normal(0.5, 0.05, n_sites), 0.38, 0.62)
    community = np.where(np.arange(n_sites) == 0, 0.0, rng.uniform(0.02, 0.12, n_sites))
    u = rng.random(n)
    arrest, social_contact, community_door = positions(
        REFERRAL_TYPES, "arrest_diversion", "social_contact", "community"
    )
    door = np.where(
        u < social[site],
        social_contact,
        np.where(u < social[site] + community[site], community_door, arrest),
    )

    offense = draw_offenses(rng, door)
    offense_missing = rng.random(n) < OFFENSE_MISSING
    gender, race, age = draw_demographics(rng, offense)
    birth_year = year_of(ref) - age

    intake = ref + np.minimum(rng.geometric(0.3, n) - 1, 30)
    has_intake = (rng.random(n) > 0.07) & (intake <= as_of)
    start = np.where(has_intake, intake, ref + rng.integers(0, 15, n))
    exit_ = ref + EXIT_AFTER_DAYS + np.floor(rng.exponential(EXIT_MEAN_WAIT_DAYS, n)).astype(np.int64)
    exited = exit_ <= as_of
    exit_reason = pick(rng, EXIT_PROBS, n)
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
        pid_parts.append(format_ids(numbers[lo:hi], s, names[s]))
    pid = pl.concat(pid_parts).rename("participant_id")

    df = pl.DataFrame(
        {
            "site": pl.Series(site.astype(np.int32)),
            "participant_id": pid,
            "case_manager_id": "CM" + pl.Series(case_manager + 1).cast(pl.String).str.zfill(2),
            "referral_date": dates(ref),
            "referral_type": labels(REFERRAL_TYPES, door),
            "referral_offense": labels(OFFENSES, offense),
            "intake_date": dates(intake),
            "exit_date": dates(exit_),
            "exit_reason": labels(EXIT_REASONS, exit_reason),
            "birth_year": pl.Series(birth_year),
            "gender": labels(GENDERS, gender),
            "race_ethnicity": labels(list(RACE_P), race),
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
    people = People(site, ref, start, end, reason, door, age, pid, max_number)
    return df, people


def draw_offenses(rng: np.random.Generator, door: np.ndarray) -> np.ndarray:
    """The offense behind each referral (or comparison index), by door (index type)."""
    offense = np.zeros(len(door), dtype=np.int64)
    for d, p in OFFENSE_PROBS.items():
        mask = door == REFERRAL_TYPES.index(d)
        offense[mask] = pick(rng, p, int(mask.sum()))
    return offense


def draw_demographics(rng: np.random.Generator, offense: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gender (by offense: sex work changes the mix), race (positions in RACE_P) and age at the
    referral or index date, for the participants and the comparison group alike."""
    n = len(offense)
    gender = np.where(
        offense == OFFENSES.index("sex_work"),
        pick(rng, GENDER_PROBS_SEX_WORK, n),
        pick(rng, GENDER_PROBS, n),
    )
    race = pick(rng, np.array(list(RACE_P.values())), n)
    age = np.clip(np.rint(rng.normal(40, 11.5, n)), 18, 75).astype(np.int64)
    return gender, race, age


def year_of(days: np.ndarray) -> np.ndarray:
    """The calendar year of each day number."""
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def format_ids(numbers: np.ndarray, site: int, site_id: str) -> pl.Series:
    # Sites differ: some use bare zero-padded numbers (so two sites can share an ID), some a prefix.
    digits = pl.Series(numbers).cast(pl.String)
    if site % 2 == 0:
        return digits.str.zfill(6)
    return SITE_PREFIXES.get(site_id, f"S{site + 1:02d}") + "-" + digits.str.zfill(5)
