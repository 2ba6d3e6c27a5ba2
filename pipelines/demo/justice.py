"""The demo's justice records: one outcome model for the participants and the comparison group.

Each person has a latent arrest propensity, drawn from one prior and scaled by their index type
(DOOR_ARREST_FACTOR); arrests come as Poisson counts in periods around the index date
(ARREST_RATES: a spike in the 6 months before it, the ordinary baseline after it). A person
whose index is an arrest (a participant referred by arrest_diversion, a comparison person whose
index was an arrest) has an arrest on the index date itself; nobody else has one that day. Most
arrests bring a booking (with a stay in custody) and a charge. A long custody (a participant's
exit to incarceration, or a comparison person's equivalent) is a long booking on its first day.
A recorded death (participants only) ends a person's records.

Nothing here knows who is in the program. `draw` gives the untreated records; the program's
effect is planted afterwards (`kept_arrests`, with a random stream of its own) by dropping some
of the participants' arrests after the index date with what they brought, so the same seed gives
the same untreated world whatever the effect, and effect 1.0 gives the participants'
counterfactual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.demo.distributions import (
    ARREST_LEVEL_PROBS,
    ARREST_RATES,
    DAYS_PER_MONTH,
    DOOR_ARREST,
    EVENT_TYPES,
    EXIT_REASONS,
    EXIT_STAY_DAYS,
    JAIL_LEVEL_PROBS,
    LEVELS,
    REFERRAL_TYPES,
    STAY_BANDS,
    STAY_P,
    dates,
    labels,
    pick,
    positions,
)
from pipelines.demo.people import People

ARREST, BOOKING, CHARGE = positions(EVENT_TYPES, "arrest", "booking", "charge")
ARREST_DOOR = REFERRAL_TYPES.index("arrest_diversion")


@dataclass(frozen=True)
class Cohort:
    """The people justice records are drawn for, as arrays with one entry each."""

    site: np.ndarray  # site index (people sorted by site)
    index: np.ndarray  # index day: the referral date, or a comparison person's index date
    door: np.ndarray  # index type, a position in REFERRAL_TYPES
    long_custody: np.ndarray  # first day of a long custody (jail or prison), or -1
    death: np.ndarray  # day of a recorded death, or -1


@dataclass(frozen=True)
class Records:
    """A cohort's justice records before the program's effect, sorted by person, day, type and
    level. Two records of one type on one person's day are one record in police data: each run
    of them (`first` marks where one starts) is written once, as its first row."""

    person: np.ndarray
    day: np.ndarray
    kind: np.ndarray  # position in EVENT_TYPES
    level: np.ndarray  # position in LEVELS
    release: np.ndarray  # a booking's release day; -1 when not known on the as-of date or not a booking
    source: np.ndarray  # the arrest each record is or came from (a position in arrest_day); -1: long custody
    first: np.ndarray
    arrest_after_index: np.ndarray  # per arrest drawn: after its person's index date


def cohort_of(people: People) -> Cohort:
    """The participants as a cohort: an exit to incarceration starts a long custody, an exit by
    death ends their records."""
    incarcerated = people.exit_reason == EXIT_REASONS.index("incarcerated")
    deceased = people.exit_reason == EXIT_REASONS.index("deceased")
    return Cohort(
        site=people.site,
        index=people.ref,
        door=people.door,
        long_custody=np.where(incarcerated, people.end, -1),
        death=np.where(deceased, people.end, -1),
    )


def draw(rng: np.random.Generator, cohort: Cohort, as_of: int) -> Records:
    """Every justice record of the cohort up to the as-of date, untreated."""
    n = len(cohort.index)
    propensity = rng.gamma(1.5, 1 / 1.5, n) * DOOR_ARREST[cohort.door]
    ps, days = [], []
    for lo, hi, per_month in ARREST_RATES:
        first = cohort.index + lo
        last = np.minimum(cohort.index + hi, as_of)
        length = np.maximum(last - first + 1, 0)
        counts = rng.poisson(propensity * per_month * length / DAYS_PER_MONTH)
        idx = np.repeat(np.arange(n), counts)
        ps.append(idx)
        days.append(first[idx] + np.floor(rng.random(len(idx)) * length[idx]).astype(np.int64))
    # The arrest that is the index (the index date is in no period above).
    at_index = np.flatnonzero(cohort.door == ARREST_DOOR)
    p = np.concatenate([*ps, at_index])
    day = np.concatenate([*days, cohort.index[at_index]])
    arrests = np.arange(len(p))
    level = pick(rng, ARREST_LEVEL_PROBS, len(p))

    booked = rng.random(len(p))
    b = booked < 0.62
    b_day = day[b] + (booked[b] >= 0.55)  # usually the same day, sometimes the next
    charged = rng.random(len(p)) < 0.75
    c_day = day[charged] + np.minimum(rng.geometric(0.3, int(charged.sum())) - 1, 30)
    c_level = np.where(
        rng.random(int(charged.sum())) < 0.8,
        level[charged],
        pick(rng, ARREST_LEVEL_PROBS, int(charged.sum())),
    )
    jailed = np.flatnonzero(cohort.long_custody >= 0)
    j_level = pick(rng, JAIL_LEVEL_PROBS, len(jailed))

    all_p = np.concatenate([p, p[b], p[charged], jailed])
    all_day = np.concatenate([day, b_day, c_day, cohort.long_custody[jailed]])
    kind = np.concatenate(
        [
            np.full(len(p), ARREST),
            np.full(len(b_day), BOOKING),
            np.full(len(c_day), CHARGE),
            np.full(len(jailed), BOOKING),
        ]
    )
    all_level = np.concatenate([level, level[b], c_level, j_level])
    source = np.concatenate([arrests, arrests[b], arrests[charged], np.full(len(jailed), -1)])
    stay = _stays(rng, all_level, len(all_p) - len(jailed))

    death = cohort.death[all_p]
    keep = (all_day <= as_of) & ((death < 0) | (all_day <= death))
    columns = (all_p, all_day, kind, all_level, stay, source)
    all_p, all_day, kind, all_level, stay, source = (a[keep] for a in columns)
    order = _order(all_p, all_day, kind, all_level)
    all_p, all_day, kind, all_level, stay, source = (
        a[order] for a in (all_p, all_day, kind, all_level, stay, source)
    )
    first = np.ones(len(all_p), dtype=bool)
    first[1:] = (np.diff(all_p) != 0) | (np.diff(all_day) != 0) | (np.diff(kind) != 0)
    # A booking's release: unknown while the person is still in custody on the as-of date (or
    # died there: a death ends the stay on its day).
    released = all_day + stay
    death = cohort.death[all_p]
    released = np.where((death >= 0) & (released > death) & (all_day <= death), death, released)
    known = (kind == BOOKING) & (released <= as_of)
    return Records(
        person=all_p,
        day=all_day,
        kind=kind,
        level=all_level,
        release=np.where(known, released, -1),
        source=source,
        first=first,
        arrest_after_index=day > cohort.index[p],
    )


def kept_arrests(rng: np.random.Generator, records: Records, effect: float) -> np.ndarray:
    """Which arrests the program leaves (a flag per arrest drawn): each arrest after the index
    date is kept with chance `effect`, every other one always. One uniform per arrest whatever the
    effect, so a smaller effect drops a subset of what a larger one drops."""
    u = rng.random(len(records.arrest_after_index))
    return ~records.arrest_after_index | (u < effect)


def written(records: Records, kept: np.ndarray | None = None) -> np.ndarray:
    """Positions of the records written: the first of each run of one type on one person's day,
    where some record of the run stands (a long custody, or one that came from a kept arrest).
    A run is written as the same row whichever of its arrests were kept."""
    starts = np.flatnonzero(records.first)
    if kept is None or not len(starts):
        return starts
    stands = (records.source < 0) | kept[np.maximum(records.source, 0)]
    run = np.cumsum(records.first) - 1
    return starts[np.bincount(run, weights=stands, minlength=len(starts)) > 0]


def frame(records: Records, rows: np.ndarray, site: np.ndarray, ids: pl.Series) -> pl.DataFrame:
    """The records at `rows` as a justice export (a `site` column first), keyed by `ids` (the
    cohort's participant_id or comparison_id, by person)."""
    p = records.person[rows]
    release = records.release[rows]
    return pl.DataFrame(
        {
            "site": pl.Series(site[p].astype(np.int32)),
            ids.name: ids.gather(p),
            "event_date": dates(records.day[rows]),
            "event_type": labels(EVENT_TYPES, records.kind[rows]),
            "level": labels(LEVELS, records.level[rows]),
            "release_date": dates(release).set(pl.Series(release < 0), None),
        }
    )


def _order(person: np.ndarray, day: np.ndarray, kind: np.ndarray, level: np.ndarray) -> np.ndarray:
    """The order by person, day, type and level (as np.lexsort, stable), sorting one packed key:
    several times faster than lexsort on millions of records."""
    if not len(person):
        return np.arange(0)
    key = (person * (1 << 20) + (day - day.min())) * len(EVENT_TYPES) + kind
    return np.argsort(key * len(LEVELS) + level, kind="stable")


def _stays(rng: np.random.Generator, level: np.ndarray, ordinary: int) -> np.ndarray:
    """Days in custody after each event's day (used for bookings): the first `ordinary` events
    by their level's stay bands, the rest (long custodies) long stays.
    """
    felony = level[:ordinary] == LEVELS.index("felony")
    band = np.where(
        felony,
        pick(rng, STAY_P["felony"], ordinary),
        pick(rng, STAY_P["other"], ordinary),
    )
    lows = np.array([lo for lo, _ in STAY_BANDS])[band]
    highs = np.array([hi for _, hi in STAY_BANDS])[band]
    ordinary_stays = lows + np.floor(rng.random(ordinary) * (highs - lows + 1)).astype(np.int64)
    lo, hi = EXIT_STAY_DAYS
    long_stays = rng.integers(lo, hi + 1, len(level) - ordinary)
    return np.concatenate([ordinary_stays, long_stays]).astype(np.int64)
