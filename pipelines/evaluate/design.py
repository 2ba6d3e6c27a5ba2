"""The comparison design of the impact evaluation (issue 14): who is compared, and on what.

Sites used: those that send the comparison group (`comparison`), its justice records
(`comparison_justice`) and the participants' justice records (`impact_sites`, from
sql/impact_sites.sql). People: their participants (index date: the referral date) and their
comparison people (index date: the eligible contact that did not lead to a referral).

`load_people(con, as_of, sites, lengths)` returns the **people frame** every estimator of the
evaluation reads, one row per person (synthetic tests build the same frame by hand):

- treated: true for a LEAD participant, false for a comparison person;
- site_id, person_id: who (IDs are namespaced by group: a comparison ID never names a participant);
- index_date: the referral date, or the comparison person's index date;
- referral_type: a participant's referral type; null for a comparison person;
- door: the referral-type subgroup: a participant's referral type; for a comparison person,
  `arrest_diversion` when arrested on the index date, else `social_contact`;
- age, gender, race, index_offense, index_year, index_arrest: covariates (race: `more_than_one`
  for several; index_arrest: an arrest on the index date in the person's own justice records);
- prior_arrests_12, prior_arrests_24, prior_bookings_12, prior_bookings_24, prior_jail_days_12,
  prior_jail_days_24: justice history in the 12 and 24 months before the index date;
- `<column>@<from>:<to>` (estimate.key): each window's `complete`, events and days
  (windows.EVENTS, windows.DAYS) as sql/justice_windows.sql counts them, for (0, N) and (-N, 0)
  for each length N, and for (-12, 0) and (-24, 0);
- followed_days, arrest_seen: time to a first arrest: days from the index date to the first
  arrest after it (arrest_seen true), or to the end of follow-up (the as-of date, the longest
  window, the day before a death, the day of an exit to incarceration).

`build_design(people, covariates)` turns the covariates of a population into the columns of the
propensity model and of the balance table, pooling rare levels (`Pooling` says which).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import polars as pl

from checks.labels import NOT_RECORDED, label
from checks.vocab import GENDERS, RACES, REFERRAL_OFFENSES
from pipelines.evaluate.estimate import key
from pipelines.evaluate.windows import DAYS, EVENTS, create_macro, sql

TREATED, COMPARISON = "LEAD participants", "Comparison group"
# A categorical level with fewer people than this in either group cannot be estimated: pooled.
MIN_LEVEL = 10
POOLED = "pooled"
PRIOR_MONTHS = (12, 24)
# The before window the rate ratio's difference-in-differences compares each group against.
DID_BEFORE = 12

# Each covariate's levels as people read them, from the label registry (checks/labels.py).
GENDER_LABELS = {g: label("gender", g) for g in GENDERS}
RACE_ORDER = (*(r for r in RACES if r != "unknown"), "more_than_one", "unknown")
RACE_LABELS = {r: label("race", r) for r in RACE_ORDER}
# impact_people.sql's level for an offense left blank.
OFFENSE_LABELS = {o: label("referral_offense", o) for o in REFERRAL_OFFENSES} | {"not_recorded": NOT_RECORDED}
DOOR_LABELS = {t: label("referral_type", t) for t in ("arrest_diversion", "social_contact")}


@dataclass(frozen=True)
class Covariate:
    """A covariate of the propensity model: a column of the people frame, named in plain words.

    `levels` (a categorical's values in order, with their labels) is None for a number; a value
    not listed is labelled as itself (a site ID, a year)."""

    code: str
    label: str
    levels: Mapping[str, str] | None = None
    categorical: bool = False

    def level_label(self, value: str) -> str:
        return (self.levels or {}).get(value, value)


def prior_label(what: str, months: int) -> str:
    return f"{what} in the {months} months before"


COVARIATES: tuple[Covariate, ...] = (
    Covariate("age", "Age at index"),
    Covariate("gender", "Gender", GENDER_LABELS, categorical=True),
    Covariate("race", "Race", RACE_LABELS, categorical=True),
    Covariate("index_offense", "Index offense", OFFENSE_LABELS, categorical=True),
    Covariate("site_id", "Site", categorical=True),
    Covariate("index_year", "Index year", categorical=True),
    Covariate("index_arrest", "Arrested on the index date"),
    *(
        Covariate(f"prior_{code}_{months}", prior_label(what, months))
        for code, what in (("arrests", "Arrests"), ("bookings", "Bookings"), ("jail_days", "Days in jail"))
        for months in PRIOR_MONTHS
    ),
)


@dataclass(frozen=True)
class ImpactSites:
    """The sites of a release, by what the impact evaluation can use of them."""

    used: tuple[str, ...]  # send comparison, comparison_justice and the participants' justice
    left_out: tuple[tuple[str, str], ...]  # (site, why in words): sites that cannot be used
    custody_reported: tuple[str, ...]  # of those used: participants' bookings carry release dates
    comparison_custody_reported: tuple[str, ...]  # of those used: the comparison group's do
    any_comparison: bool  # some site sends both comparison tables


def impact_sites(con: duckdb.DuckDBPyConnection) -> ImpactSites:
    """Which sites the impact evaluation uses, and why the others are left out."""
    rows = con.sql(sql("impact_sites")).pl().rows(named=True)
    used, left_out = [], []
    for row in rows:
        missing = [
            what
            for what, sent in (
                ("participants", row["has_participants"]),
                ("justice records of its participants", row["sends_justice"]),
                ("comparison group", row["sends_comparison"]),
                ("justice records of a comparison group", row["sends_comparison_justice"]),
            )
            if not sent
        ]
        if missing:
            left_out.append((row["site_id"], "sends no " + " and no ".join(missing)))
        else:
            used.append(row["site_id"])
    by_site = {row["site_id"]: row for row in rows}
    return ImpactSites(
        used=tuple(used),
        left_out=tuple(left_out),
        custody_reported=tuple(s for s in used if by_site[s]["reports_custody"]),
        comparison_custody_reported=tuple(s for s in used if by_site[s]["comparison_reports_custody"]),
        any_comparison=any(r["sends_comparison"] and r["sends_comparison_justice"] for r in rows),
    )


def impact_windows(lengths: tuple[int, ...]) -> list[tuple[int, int]]:
    """The windows the evaluation reads: after and before each length, and the prior history."""
    spans = {(0, n) for n in lengths} | {(-n, 0) for n in (*lengths, *PRIOR_MONTHS, DID_BEFORE)}
    return sorted(spans)


def load_people(
    con: duckdb.DuckDBPyConnection, as_of: date, sites: tuple[str, ...], lengths: tuple[int, ...]
) -> pl.DataFrame:
    """The people frame (this module's docstring) of the sites used, from a release."""
    create_macro(con)
    follow = max(lengths)
    people = con.sql(
        sql("impact_people"), params={"sites": list(sites), "as_of": as_of, "months": follow}
    ).pl()
    spans = impact_windows(lengths)
    windows = con.sql(
        sql("impact_windows"),
        params={"sites": list(sites), "as_of": as_of, "windows": [list(s) for s in spans]},
    ).pl()
    ids = ["treated", "site_id", "person_id"]
    for start, end in spans:
        part = windows.filter((pl.col("from_month") == start) & (pl.col("to_month") == end)).select(
            *ids, *(pl.col(c).alias(key(c, start, end)) for c in ("complete", *EVENTS, *DAYS))
        )
        people = people.join(part, on=ids, how="left")
    prior = {"arrests": "arrests", "bookings": "bookings", "jail_days": "custody_days"}
    return people.with_columns(
        *(
            pl.col(key(column, -months, 0)).alias(f"prior_{name}_{months}")
            for name, column in prior.items()
            for months in PRIOR_MONTHS
        ),
        door=pl.when(pl.col("treated"))
        .then(pl.col("referral_type"))
        .when(pl.col("index_arrest"))
        .then(pl.lit("arrest_diversion"))
        .otherwise(pl.lit("social_contact")),
        followed_days=(pl.coalesce("first_arrest", "followed_to") - pl.col("index_date")).dt.total_days(),
        arrest_seen=pl.col("first_arrest").is_not_null(),
    )


@dataclass(frozen=True)
class Pooling:
    """Levels of a categorical covariate too rare to estimate, merged for the model."""

    covariate: str  # its label
    levels: tuple[str, ...]  # the levels' labels
    into: str | None  # the label of the level they were merged into; None: into one level of their own

    def sentence(self) -> str:
        """`Race: Asian and White had fewer than 10 people in a group, so the propensity model counts
        them as one level.`"""
        levels = (
            self.levels[0]
            if len(self.levels) == 1
            else f"{', '.join(self.levels[:-1])} and {self.levels[-1]}"
        )
        them = "it" if len(self.levels) == 1 else "them"
        counted = f"with {self.into}" if self.into else "as one level"
        return (
            f"{self.covariate}: {levels} had fewer than {MIN_LEVEL} people in a group, so the propensity "
            f"model counts {them} {counted}."
        )


@dataclass(frozen=True, eq=False)
class Column:
    """One column of the design: a number, or one level of a categorical (1 for that level)."""

    code: str  # for analysts: `age`, `race=black`
    label: str  # for people: `Age at index`, `Race: Black`
    values: np.ndarray
    reference: bool = False  # a categorical's most common level: in the balance table, not the model


@dataclass(frozen=True, eq=False)
class Design:
    """The covariates of one population as the propensity model and the balance table read them."""

    treated: np.ndarray
    columns: tuple[Column, ...]
    pooled: tuple[Pooling, ...] = field(default=())

    def model_columns(self) -> list[Column]:
        """The columns the model fits: no reference level, nothing that never varies."""
        return [c for c in self.columns if not c.reference and np.ptp(c.values) > 0]


def pool_levels(
    values: pl.Series, treated: np.ndarray, covariate: Covariate
) -> tuple[np.ndarray, Pooling | None]:
    """The covariate's values with levels rarer than MIN_LEVEL in either group merged: into one
    pooled level, or, when that is still too rare, into the most common level."""
    codes = values.cast(pl.String).fill_null("unknown").to_numpy().astype(object)
    levels, counts_t = np.unique(codes[treated], return_counts=True)
    by_t = dict(zip(levels, counts_t, strict=True))
    levels, counts_c = np.unique(codes[~treated], return_counts=True)
    by_c = dict(zip(levels, counts_c, strict=True))
    every = sorted(set(by_t) | set(by_c), key=lambda v: level_order(covariate, v))
    rare = [v for v in every if min(by_t.get(v, 0), by_c.get(v, 0)) < MIN_LEVEL]
    if not rare:
        return codes, None
    pooled = np.where(np.isin(codes, rare), POOLED, codes)
    in_pool = np.isin(codes, rare)
    kept = [v for v in every if v not in rare]
    if kept and min(int((in_pool & treated).sum()), int((in_pool & ~treated).sum())) < MIN_LEVEL:
        common = max(kept, key=lambda v: by_t.get(v, 0) + by_c.get(v, 0))
        pooled = np.where(in_pool, common, codes)
        into = covariate.level_label(common)
    else:
        into = None
    labels = tuple(covariate.level_label(v) for v in rare)
    return pooled, Pooling(covariate.label, labels, into)


def level_order(covariate: Covariate, value: str) -> tuple[int, str]:
    order = list(covariate.levels or {})
    if covariate.code == "race":
        order = list(RACE_ORDER)
    return (order.index(value) if value in order else len(order), value)


def pooled_label(covariate: Covariate, pooling: Pooling | None) -> str:
    return f"{covariate.label}: other ({', '.join(pooling.levels) if pooling else ''})"


def build_design(people: pl.DataFrame, covariates: tuple[Covariate, ...] = COVARIATES) -> Design:
    """The columns of the covariates for these people (one row each), rare levels pooled."""
    treated = people["treated"].to_numpy().astype(bool)
    columns: list[Column] = []
    pooled: list[Pooling] = []
    for covariate in covariates:
        if not covariate.categorical:
            values = people[covariate.code].cast(pl.Float64).fill_null(0.0).to_numpy()
            columns.append(Column(covariate.code, covariate.label, values))
            continue
        codes, pooling = pool_levels(people[covariate.code], treated, covariate)
        if pooling:
            pooled.append(pooling)
        levels = sorted(set(codes.tolist()), key=lambda v: level_order(covariate, v))
        counts = {v: int((codes == v).sum()) for v in levels}
        reference = max(levels, key=lambda v: (counts[v], -levels.index(v)))
        for level in levels:
            label = (
                pooled_label(covariate, pooling)
                if level == POOLED
                else f"{covariate.label}: {covariate.level_label(level)}"
            )
            columns.append(
                Column(
                    f"{covariate.code}={level}",
                    label,
                    (codes == level).astype(np.float64),
                    reference=level == reference,
                )
            )
    return Design(treated=treated, columns=tuple(columns), pooled=tuple(pooled))
