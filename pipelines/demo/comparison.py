"""The demo's comparison group (contract v2's optional `comparison` and `comparison_justice`
exports): people eligible for LEAD but not referred, at all sites but the last (at the one site
when there is one), about one to one and a half times each site's participants.

Candidates are drawn as the participants are: the same demographics, an index that is an
arrest or a police contact (in the mix of the site's arrest and social-contact referrals), index
dates in the months the site refers people, the same prior of latent arrest propensity; and
their justice records come from the same model (justice.py), never thinned by the program's
effect. A candidate is then taken with a chance that falls with their arrests in the 12 months
before the index date as their exported records show them (COMPARISON_SELECTION), so LEAD
participants have more prior arrests than the comparison group, and who is compared depends
only on what the exports show: a comparison that balances those covariates can recover the
planted effect, one that does not is biased.

Participants who exit to incarceration start a long custody on the exit date; a comparison
person, who has no exit rows, has the same chance of one at the same times after the index
date, so days in jail are not unequal by construction. Nobody in the comparison group has a
recorded death (the export has no place for one): their records run to the as-of date, where a
participant's stop at an exit by death.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.demo import justice
from pipelines.demo.distributions import (
    COLUMNS,
    COMPARISON_POOL,
    COMPARISON_SELECTION,
    COMPARISON_SIZE,
    EXIT_AFTER_DAYS,
    EXIT_MEAN_WAIT_DAYS,
    GENDERS,
    LONG_CUSTODY_P,
    NOT_REFERRED_PROBS,
    NOT_REFERRED_REASONS,
    OFFENSES,
    RACE_P,
    REFERRAL_TYPES,
    dates,
    labels,
    pick,
)
from pipelines.demo.people import OFFENSE_MISSING, People, draw_demographics, draw_offenses, year_of

ARREST_DOOR, SOCIAL_DOOR = REFERRAL_TYPES.index("arrest_diversion"), REFERRAL_TYPES.index("social_contact")
PRIOR_DAYS = 365  # "the 12 months before the index date" that selection looks at


def comparison_sites(n_sites: int) -> range:
    """The sites that send a comparison group: all but the last, or the one site."""
    return range(max(1, n_sites - 1))


def draw_comparison(seed: int, people: People, n_sites: int, as_of: int) -> dict[str, pl.DataFrame]:
    """The `comparison` and `comparison_justice` tables (each with a `site` column first, sorted
    by site), drawn from streams of their own: they do not depend on the program's effect."""
    rng = np.random.default_rng([seed, 6])
    sites = comparison_sites(n_sites)
    per_site = np.bincount(people.site, minlength=n_sites)[: len(sites)]
    sought = per_site * rng.uniform(*COMPARISON_SIZE, len(sites))
    site = np.repeat(np.arange(len(sites)), np.ceil(sought * COMPARISON_POOL).astype(np.int64))
    m = len(site)
    index = _index_days(rng, people, site, as_of)
    door = _index_types(rng, people, site, n_sites)
    offense = draw_offenses(rng, door)
    offense_missing = rng.random(m) < OFFENSE_MISSING
    gender, race, age = draw_demographics(rng, offense)
    custody = index + EXIT_AFTER_DAYS + np.floor(rng.exponential(EXIT_MEAN_WAIT_DAYS, m)).astype(np.int64)
    custody = np.where((rng.random(m) < LONG_CUSTODY_P) & (custody <= as_of), custody, -1)
    cohort = justice.Cohort(site=site, index=index, door=door, long_custody=custody, death=np.full(m, -1))
    records = justice.draw(np.random.default_rng([seed, 7]), cohort, as_of)
    rows = justice.written(records)

    # Selection on the exported records only: arrests in the 12 months before the index date.
    p, before = records.person[rows], index[records.person[rows]] - records.day[rows]
    arrested = (records.kind[rows] == justice.ARREST) & (before >= 1) & (before <= PRIOR_DAYS)
    prior = np.bincount(p[arrested], minlength=m)
    weight = np.exp(-COMPARISON_SELECTION * prior)
    scale = sought / np.maximum(np.bincount(site, weights=weight, minlength=len(sites)), 1e-12)
    taken = rng.random(m) < np.minimum(1.0, scale[site] * weight)

    numbers = np.zeros(m, dtype=np.int64)
    bounds = np.searchsorted(site, np.arange(len(sites) + 1))
    for s in range(len(sites)):
        mine = np.flatnonzero(taken[bounds[s] : bounds[s + 1]]) + bounds[s]
        numbers[mine] = int(rng.integers(1, 150)) + np.cumsum(rng.integers(1, 4, len(mine)))
    ids = ("C" + pl.Series(numbers).cast(pl.String).str.zfill(6)).rename("comparison_id")
    who = np.flatnonzero(taken)
    reason = pick(rng, NOT_REFERRED_PROBS, len(who))
    table = pl.DataFrame(
        {
            "site": pl.Series(site[who].astype(np.int32)),
            "comparison_id": ids.gather(who),
            "index_date": dates(index[who]),
            "index_offense": labels(OFFENSES, offense[who]).set(pl.Series(offense_missing[who]), None),
            "birth_year": pl.Series(year_of(index[who]) - age[who]),
            "gender": labels(GENDERS, gender[who]),
            "race_ethnicity": labels(list(RACE_P), race[who]),
            "not_referred_reason": labels(NOT_REFERRED_REASONS, reason),
        }
    )
    events = justice.frame(records, rows[taken[p]], site, ids)
    return {
        "comparison": table.select("site", *COLUMNS["comparison"]),
        "comparison_justice": events.select("site", *COLUMNS["comparison_justice"]),
    }


def _index_days(rng: np.random.Generator, people: People, site: np.ndarray, as_of: int) -> np.ndarray:
    """Index dates in the months the site refers people (a day in the referral month of one of its
    participants, at random), in order within each site."""
    starts = np.searchsorted(people.site, np.arange(int(site.max(initial=0)) + 2))
    size = starts[site + 1] - starts[site]
    ref = people.ref[starts[site] + np.floor(rng.random(len(site)) * size).astype(np.int64)]
    month = ref.astype("datetime64[D]").astype("datetime64[M]")
    first = month.astype("datetime64[D]").astype(np.int64)
    last = np.minimum((month + 1).astype("datetime64[D]").astype(np.int64) - 1, as_of)
    day = first + np.floor(rng.random(len(site)) * (last - first + 1)).astype(np.int64)
    return day[np.lexsort((day, site))]


def _index_types(rng: np.random.Generator, people: People, site: np.ndarray, n_sites: int) -> np.ndarray:
    """An arrest or a police contact, in the mix of the site's arrest and social-contact referrals."""
    arrests = np.bincount(people.site[people.door == ARREST_DOOR], minlength=n_sites)
    contacts = np.bincount(people.site[people.door == SOCIAL_DOOR], minlength=n_sites)
    share = (arrests + 1) / (arrests + contacts + 2)
    return np.where(rng.random(len(site)) < share[site], ARREST_DOOR, SOCIAL_DOOR)
