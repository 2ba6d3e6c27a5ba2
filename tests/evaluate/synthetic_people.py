"""Synthetic people frames (pipelines/evaluate/design.py's columns) with a planted effect.

The data-generating process, per person:

- x = arrests in the 24 months before the index date ~ Poisson(2): observed (prior_arrests_24).
- Selection on x: P(participant) = expit(-1.4 + 0.55 x): participants had more prior arrests.
- Confounding through x: the arrest rate without the program is lam = exp(-0.6 + 0.3 x) a year
  (`trend` times that after the index date), so the people with more prior arrests are both
  referred more often and arrested more often afterwards.
- The program multiplies a participant's arrest rate after the index date by `rate_ratio`.
- Arrests in a window ~ Poisson(rate x years at risk); new-offense arrests, bookings and felony
  charges thin the arrests (binomially) with fixed shares, independent of the group.

Truth comes from the potential outcomes, never from the code under test: `true_odds_ratio` is the
participants' marginal odds ratio of any arrest in a window, (p1 / (1 - p1)) / (p0 / (1 - p0)),
with p1 and p0 their mean probabilities of an arrest with and without the program.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.evaluate.design import ImpactSites
from pipelines.evaluate.estimate import key

LENGTHS = (6, 12, 24)
DAYS = {6: 182, 12: 365, 24: 730}
SITES = ImpactSites(
    used=("north", "south"),
    left_out=(),
    custody_reported=("north", "south"),
    comparison_custody_reported=("north", "south"),
    any_comparison=True,
)
AS_OF = date(2025, 6, 30)
TREND = 1.2  # arrests after the index date against before, without the program
# Shares of the arrests that are new-offense arrests, booked, and (of new-offense arrests)
# charged as felonies; the share of a window's days in custody.
NEW_OFFENSE, BOOKED, FELONY_CHARGED, IN_CUSTODY = 0.7, 0.5, 0.4, 0.02


def expit(v: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-v))


def base_rate(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.6 + 0.3 * x)


def selection(x: np.ndarray) -> np.ndarray:
    return expit(-1.4 + 0.55 * x)


def people_frame(
    seed: int, n: int = 3000, rate_ratio: float = 0.5, trend: float = TREND, all_followed: bool = True
) -> tuple[pl.DataFrame, dict[int, float]]:
    """A people frame, and the true odds ratio of any arrest in each window (potential outcomes)."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(2.0, n)
    treated = rng.random(n) < selection(x)
    lam = base_rate(x)
    index = np.array([date(2021, 1, 1).toordinal() + int(d) for d in rng.integers(0, 700, n)])
    columns: dict[str, object] = {
        "treated": treated,
        "site_id": rng.choice(["north", "south"], n),
        "person_id": [f"P{i}" for i in range(n)],
        "index_date": [date.fromordinal(int(d)) for d in index],
        "referral_type": np.where(treated, rng.choice(["arrest_diversion", "social_contact"], n), None),
        "age": rng.integers(18, 70, n),
        "gender": rng.choice(["man", "woman", "non_binary"], n, p=[0.65, 0.33, 0.02]),
        "race": rng.choice(["black", "white", "hispanic_latino", "asian"], n, p=[0.4, 0.4, 0.17, 0.03]),
        "index_offense": rng.choice(["drug_possession", "sex_work", "not_recorded"], n),
        "index_arrest": rng.random(n) < 0.5,
        "prior_arrests_24": x,
        "prior_bookings_12": rng.poisson(0.5, n),
        "prior_bookings_24": rng.poisson(1.0, n),
        "prior_jail_days_12": rng.poisson(3.0, n),
        "prior_jail_days_24": rng.poisson(6.0, n),
    }
    columns["index_year"] = [str(date.fromordinal(int(d)).year) for d in index]
    columns["door"] = np.where(
        treated,
        columns["referral_type"],
        np.where(columns["index_arrest"], "arrest_diversion", "social_contact"),
    )
    truth = {}
    spans = [(-12, 0), *((-m, 0) for m in LENGTHS), *((0, m) for m in LENGTHS)]
    for start, end in dict.fromkeys(spans):
        length = DAYS[end - start]
        after = start >= 0
        custody = rng.binomial(length, IN_CUSTODY, n)
        at_risk = length - custody
        rate = lam * (trend * np.where(treated, rate_ratio, 1.0) if after else 1.0)
        arrests = rng.poisson(rate * at_risk / 365.25)
        if after:
            p1 = 1 - np.exp(-lam * trend * rate_ratio * at_risk / 365.25)
            p0 = 1 - np.exp(-lam * trend * at_risk / 365.25)
            p1, p0 = p1[treated].mean(), p0[treated].mean()
            truth[end] = (p1 / (1 - p1)) / (p0 / (1 - p0))
        new_offense = rng.binomial(arrests, NEW_OFFENSE)
        bookings = rng.binomial(arrests, BOOKED)
        values = {
            "complete": np.full(n, True) if all_followed or not after else rng.random(n) < 0.8,
            "arrests": arrests,
            "new_offense_arrests": new_offense,
            "warrant_arrests": arrests - new_offense,
            "bookings": bookings,
            "felony_charges": rng.binomial(new_offense, FELONY_CHARGED),
            "days_alive": np.full(n, length),
            "custody_days": custody,
            "days_at_risk": at_risk,
        }
        for column, value in values.items():
            columns[key(column, start, end)] = value
    columns["prior_arrests_12"] = columns[key("arrests", -12, 0)]
    first = rng.exponential(365.25 / (lam * trend * np.where(treated, rate_ratio, 1.0)))
    follow = rng.integers(30, 731, n)
    columns["followed_days"] = np.minimum(np.ceil(first), follow).astype(np.int64)
    columns["arrest_seen"] = np.ceil(first) <= follow
    return pl.DataFrame(columns), truth
