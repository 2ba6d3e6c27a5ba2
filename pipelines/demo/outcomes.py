"""The outcome records drawn for the demo's participants: housing and employment assessments and
treatment episodes, each as a frame with a `site` column first (justice events: justice.py).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.demo.distributions import (
    CATEGORIES,
    DAYS_PER_MONTH,
    DISCHARGE_PROBS,
    DISCHARGE_REASONS,
    EMPLOYMENT_CADENCE,
    EMPLOYMENT_STATUSES,
    EXIT_ASSESSED_PROBS,
    EXIT_REASONS,
    HOMELESS_SPLIT,
    HOUSING_CADENCE,
    INCOME,
    LIVING_SITUATIONS,
    LIVING_WEIGHT,
    OUT_OF_CONTACT_PER_MONTH,
    SERVICE_LOG_DAYS,
    SERVICE_PROBS,
    SERVICE_TYPES,
    WORK_P,
    WORK_PROBS_LATER,
    WORK_PROBS_START,
    WORK_STATUS,
    WORKING,
    Cadence,
    dates,
    labels,
    pick,
    positions,
)
from pipelines.demo.people import People


def _assessment_days(
    rng: np.random.Generator, people: People, cadence: Cadence
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Participant index, day and exit flag of each assessment: for many one in the 30 days
    before the referral, one at the start of engagement, then every few months (by `cadence`)
    while active, and for most exits one on the exit day.
    """
    n = len(people.ref)
    span = people.end - people.start  # negative when engagement starts after as-of
    months = np.array(list(cadence.every), dtype=np.int32)
    shortest = int(months.min()) * DAYS_PER_MONTH - cadence.jitter
    slots = max(int(span.max(initial=0)), 0) // int(shortest) + 1
    step = months[pick(rng, np.array(list(cadence.every.values())), n * slots)].reshape(n, slots)
    gaps = np.rint(step * DAYS_PER_MONTH).astype(np.int32)
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
    at_exit = exited[rng.random(len(exited)) < EXIT_ASSESSED_PROBS[people.exit_reason[exited]]]
    p = np.concatenate([pre, rows, at_exit])
    d = np.concatenate([pre_days, days, people.end[at_exit]])
    is_exit = np.concatenate([np.zeros(len(pre) + len(rows), dtype=bool), np.ones(len(at_exit), bool)])
    order = np.lexsort((~is_exit, d, p))
    p, d, is_exit = p[order], d[order], is_exit[order]
    # A routine assessment that falls on the exit day is the exit assessment.
    first = np.ones(len(p), dtype=bool)
    first[1:] = (np.diff(p) != 0) | (np.diff(d) != 0)
    return p[first], d[first], is_exit[first]


def _outcome_frame(people: People, p: np.ndarray, columns: dict[str, pl.Series]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "site": pl.Series(people.site[p].astype(np.int32)),
            "participant_id": people.pid.gather(p),
            **columns,
        }
    )


def housing(rng: np.random.Generator, people: People) -> pl.DataFrame:
    """Living situation at each housing assessment: homelessness falls with time in program."""
    n = len(people.ref)
    p, day, at_exit = _assessment_days(rng, people, HOUSING_CADENCE)
    t = (day - people.ref[p]) / DAYS_PER_MONTH
    # Clifasefi 2017: ~2/3 homeless at referral, permanent housing ~1/3 by 18 months.
    p_perm = np.where(t < 0, 0.06, 0.08 + 0.30 * (1 - np.exp(-t / 9)))
    p_home = np.where(t < 0, 0.68, 0.25 + 0.40 * np.exp(-t / 10))
    p_inst = 0.06
    p_temp = 1 - p_perm - p_home - p_inst
    latent = rng.random(n)[p] + rng.normal(0, 0.07, len(p))
    homeless, institutional, temporary, permanent, unknown = positions(
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
            chosen[mask] = positions(tuple(names), *HOMELESS_SPLIT)[idx]
            continue
        members = [i for i, x in enumerate(names) if LIVING_SITUATIONS[x][1] == cat]
        cdf = np.cumsum([LIVING_WEIGHT[names[i]] for i in members])
        pos = np.minimum(np.searchsorted(cdf / cdf[-1], taste[mask], side="right"), len(cdf) - 1)
        chosen[mask] = np.array(members)[pos]
    # Someone leaving the program for jail or prison lives there at exit.
    jailed = at_exit & (people.exit_reason[p] == EXIT_REASONS.index("incarcerated"))
    chosen = np.where(jailed, names.index("jail_prison"), chosen)
    return _outcome_frame(people, p, {"assessed_on": dates(day), "living_situation": labels(names, chosen)})


def employment(rng: np.random.Generator, people: People) -> pl.DataFrame:
    """Work status and income at each employment assessment: both improve slowly."""
    n = len(people.ref)
    p, day, _ = _assessment_days(rng, people, EMPLOYMENT_CADENCE)
    t = np.maximum((day - people.ref[p]) / DAYS_PER_MONTH, 0)
    k = len(p)
    w = 1 - np.exp(-t / 12)
    probs = WORK_PROBS_START[None, :] + (WORK_PROBS_LATER - WORK_PROBS_START)[None, :] * w[:, None]
    cdf = np.cumsum(probs, axis=1)
    latent = np.clip(rng.random(n)[p] + rng.normal(0, 0.08, k), 0, 0.999999)
    scale = np.minimum((latent[:, None] >= cdf).sum(axis=1), len(WORK_P) - 1)
    status = WORK_STATUS[scale]
    age_now = people.age[p] + (day - people.ref[p]) // 365
    retired = (age_now >= 60) & (rng.random(n)[p] < 0.4)
    status = np.where(retired, EMPLOYMENT_STATUSES.index("retired"), status)
    status = np.where(rng.random(k) < 0.05, EMPLOYMENT_STATUSES.index("unknown"), status)

    working = np.isin(status, positions(EMPLOYMENT_STATUSES, *WORKING))
    unable = status == EMPLOYMENT_STATUSES.index("unable_to_work")
    benefits_p = 0.38 + 0.17 * w + np.where(unable | retired, 0.25, 0.0)
    benefits = (rng.random(n)[p] + rng.normal(0, 0.05, k)) < benefits_p
    yes, no, unknown = positions(INCOME, "yes", "no", "unknown")
    income = np.where(working, np.where(rng.random(k) < 0.93, yes, no), np.where(benefits, yes, no))
    income = np.where(rng.random(k) < 0.04, unknown, income)
    return _outcome_frame(
        people,
        p,
        {
            "assessed_on": dates(day),
            "employment_status": labels(EMPLOYMENT_STATUSES, status),
            "has_income": labels(INCOME, income),
        },
    )


def treatment(rng: np.random.Generator, people: People, as_of: int) -> pl.DataFrame:
    """Treatment episodes in the year before referral and while in the program."""
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
    service = pick(rng, SERVICE_PROBS, k)
    lo, hi = SERVICE_LOG_DAYS[service, 0], SERVICE_LOG_DAYS[service, 1]
    end = start + np.floor(np.exp(rng.uniform(lo, hi))).astype(np.int64)
    reason = pick(rng, DISCHARGE_PROBS, k)
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
            "service_type": labels(SERVICE_TYPES, service),
            "start_date": dates(start),
            "end_date": dates(end),
            "discharge_reason": labels(DISCHARGE_REASONS, reason),
        },
    )
    numbers = df.select(pl.int_range(pl.len()).over("site") + 1).to_series()
    return df.with_columns(
        episode_id=("TX" + numbers.cast(pl.String).str.zfill(6)),
        end_date=pl.when(pl.Series(closed)).then(pl.col("end_date")),
        discharge_reason=pl.when(pl.Series(closed)).then(pl.col("discharge_reason")),
    )
