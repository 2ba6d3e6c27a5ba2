"""The paired before-and-after comparison (DESIGN s.9, issue 13): the same participants in the N
months before and the N months after their referral, overall and by referral type.

- Any arrest: the share of people arrested in each window; the paired difference with
  Newcombe's interval (pipelines/core/stats.py).
- Rates: events per person-year at risk (jail days per person-year alive), each window's the
  ratio of the group's sums; the difference after minus before with a 95% interval from
  scipy.stats.bootstrap, resampling people (each with both windows: the pairing is kept).
- The longer baseline: consecutive 6-month windows from 18 months before referral to N months
  after, for the same people, so a spike just before referral shows beside the months before it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import polars as pl
from scipy import stats as scipy_stats

from checks.vocab import REFERRAL_TYPES
from pipelines.core.stats import newcombe_paired_difference, wilson_interval
from pipelines.evaluate.windows import (
    DAYS_PER_YEAR,
    Sites,
    followed_since,
    justice_sites,
    participant_windows,
)

WINDOW_LENGTHS = (6, 12)
BASELINE_FROM, STEP = -18, 6  # the longer baseline: 6-month windows from 18 months before referral
ALL = "all"
CONFIDENCE = 0.95
RESAMPLES = 1999
SEED = 13  # a fixed seed: the same release gives the same intervals every time
BATCH_VALUES = 10_000_000  # people drawn per batch of resamples: bounds memory (about 160 MB)

SHARE_METHOD = (
    "Newcombe's hybrid score interval for the difference of paired proportions (Newcombe 1998, "
    "method 10): Wilson score limits for each share, combined with the correlation of the pairs."
)
RATE_METHOD = (
    f"Paired bootstrap over people (scipy.stats.bootstrap, percentile method, {RESAMPLES:,} "
    f"resamples, fixed seed {SEED}): each resample draws people with replacement, each with both "
    "of their windows, and recomputes both rates and their difference."
)
WINDOW_METHOD = "Wilson score interval for a window's share; the paired bootstrap for its rate."


@dataclass(frozen=True)
class Measure:
    """What is compared: a share of people, or events per person-year."""

    name: str
    label: str
    numerator: str  # in words, per window
    denominator: str  # in words, per window
    count: str  # the column of participant_windows counted (for a share: people with one or more)
    days: str | None  # the days column whose person-years divide the count; None for a share

    @property
    def is_share(self) -> bool:
        return self.days is None


AT_RISK = "person-years at risk (days not in custody, alive, not after an exit to incarceration, / 365.25)"
MEASURES: dict[str, Measure] = {
    m.name: m
    for m in [
        Measure(
            "arrested",
            "Share arrested",
            "people with at least one arrest (any level, warrants included)",
            "people compared",
            "arrests",
            None,
        ),
        Measure(
            "arrests", "Arrests", "arrests (any level, warrants included)", AT_RISK, "arrests", "days_at_risk"
        ),
        Measure(
            "new_offense_arrests",
            "New-offense arrests",
            "arrests for a felony or a misdemeanor",
            AT_RISK,
            "new_offense_arrests",
            "days_at_risk",
        ),
        Measure(
            "warrant_arrests",
            "Warrant arrests",
            "arrests on a warrant",
            AT_RISK,
            "warrant_arrests",
            "days_at_risk",
        ),
        Measure("bookings", "Bookings", "bookings into jail", AT_RISK, "bookings", "days_at_risk"),
        Measure(
            "jail_days",
            "Jail days",
            "days in custody (from bookings, at sites that report release dates)",
            "person-years alive (the window's days before any death, / 365.25)",
            "custody_days",
            "days_alive",
        ),
        Measure(
            "felony_charges",
            "Felony charges",
            "charges of level felony",
            AT_RISK,
            "felony_charges",
            "days_at_risk",
        ),
    ]
}
RATES = tuple(m for m in MEASURES.values() if not m.is_share)

COMPARISON_SCHEMA = {
    "window_months": pl.Int64,
    "referral_type": pl.String,
    "measure": pl.String,
    "people": pl.Int64,
    "before_numerator": pl.Float64,
    "before_denominator": pl.Float64,
    "before_value": pl.Float64,
    "after_numerator": pl.Float64,
    "after_denominator": pl.Float64,
    "after_value": pl.Float64,
    "difference": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
}
BASELINE_SCHEMA = {
    "window_months": pl.Int64,
    "referral_type": pl.String,
    "from_month": pl.Int64,
    "to_month": pl.Int64,
    "people": pl.Int64,
    "arrested": pl.Int64,
    "share": pl.Float64,
    "share_low": pl.Float64,
    "share_high": pl.Float64,
    "arrests": pl.Int64,
    "person_years_at_risk": pl.Float64,
    "rate": pl.Float64,
    "rate_low": pl.Float64,
    "rate_high": pl.Float64,
}


@dataclass(frozen=True)
class Evaluation:
    """The estimates of one release: what the page shows and `outcomes evaluate` prints."""

    as_of: date
    sites: Sites
    referred_by: dict[int, date]  # per window length: the last referral date with that follow-up
    comparisons: pl.DataFrame  # COMPARISON_SCHEMA: one row per window length, referral type, measure
    baseline: pl.DataFrame  # BASELINE_SCHEMA: one row per window length, referral type, 6-month window


def baseline_windows(months: int) -> list[tuple[int, int]]:
    """The consecutive 6-month windows from 18 months before referral to `months` after."""
    return [(start, start + STEP) for start in range(BASELINE_FROM, months, STEP)]


def asked_windows(lengths: tuple[int, ...]) -> list[tuple[int, int]]:
    """Every window the comparisons of these lengths read: before, after, and the baseline's."""
    windows = {w for n in lengths for w in [(-n, 0), (0, n), *baseline_windows(n)]}
    return sorted(windows)


def groups(people: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    """All people, then each referral type (in the contract's order) that has any."""
    order = [t for t in REFERRAL_TYPES if t in set(people["referral_type"])]
    return [(ALL, people)] + [(t, people.filter(pl.col("referral_type") == t)) for t in order]


def wide(windows: pl.DataFrame, followed: pl.DataFrame, spans: list[tuple[int, int]]) -> pl.DataFrame:
    """One row per followed person: each span's counts and days as `<column>@<from>:<to>`."""
    columns = list(dict.fromkeys([*(m.count for m in RATES), *(m.days for m in RATES if m.days)]))
    frame = followed.select("site_id", "person_id", "referral_type")
    for start, end in spans:
        part = windows.filter((pl.col("from_month") == start) & (pl.col("to_month") == end)).select(
            "site_id", "person_id", *(pl.col(c).alias(key(c, start, end)) for c in columns)
        )
        frame = frame.join(part, on=["site_id", "person_id"], how="left")
    return frame.sort("site_id", "person_id")


def key(column: str, start: int, end: int) -> str:
    return f"{column}@{start}:{end}"


def bootstrap_rates(
    values: np.ndarray, ratios: list[tuple[int, int]], differences: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """95% intervals, resampling people, of rates per person-year and differences between them.

    `values` has one row per person and one column per variable (a count or a number of days in
    a window). Rate j is sum(column a) / (sum(column b) / 365.25) for (a, b) = ratios[j];
    difference d is rate[after] - rate[before] for (before, after) = differences[d]. Returns
    (low, high) of the differences, then of the rates; nan where a resample leaves no days to
    divide by.

    scipy.stats.bootstrap resamples the people's row numbers; each resample's sums are the rows
    of the people drawn, each as often as drawn (one matrix product for a batch of resamples,
    rather than a copy of every variable of every person drawn).
    """
    people = values.shape[0]
    numerators = np.array([a for a, _ in ratios], dtype=int)
    denominators = np.array([b for _, b in ratios], dtype=int)
    before = np.array([b for b, _ in differences], dtype=int)
    after = np.array([a for _, a in differences], dtype=int)

    def statistic(drawn: np.ndarray, axis: int = -1) -> np.ndarray:
        resamples = np.atleast_2d(drawn)
        times = np.empty(resamples.shape, dtype=np.float64)  # resamples x people: times drawn
        for index, resample in enumerate(resamples):
            times[index] = np.bincount(resample, minlength=people)
        sums = (times @ values).T  # variables x resamples
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = DAYS_PER_YEAR * sums[numerators] / sums[denominators]
        result = np.concatenate([rates[after] - rates[before], rates])
        return result if np.ndim(drawn) > 1 else result[:, 0]

    # A resample can hold only people with no days (very small groups): its rate is not defined,
    # and that rate's interval is left out (None), which the pages and report say.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy_stats.DegenerateDataWarning)
        result = scipy_stats.bootstrap(
            (np.arange(people),),
            statistic,
            n_resamples=RESAMPLES,
            batch=max(1, BATCH_VALUES // people),
            vectorized=True,
            axis=-1,
            confidence_level=CONFIDENCE,
            method="percentile",
            rng=np.random.default_rng(SEED),
        )
    return np.asarray(result.confidence_interval.low), np.asarray(result.confidence_interval.high)


def share_arrested(before: pl.Series, after: pl.Series) -> dict[str, object]:
    """The share arrested before and after (whether each person was), with Newcombe's interval."""
    n = before.len()
    both = int((before & after).sum())
    before_only = int((before & ~after).sum())
    after_only = int((~before & after).sum())
    difference, low, high = newcombe_paired_difference(
        both, before_only, after_only, n - both - before_only - after_only
    )
    return {
        "measure": "arrested",
        "before_numerator": both + before_only,
        "before_denominator": n,
        "before_value": (both + before_only) / n,
        "after_numerator": both + after_only,
        "after_denominator": n,
        "after_value": (both + after_only) / n,
        "difference": difference,
        "low": low,
        "high": high,
    }


def group_estimates(
    people: pl.DataFrame, months: int, referral_type: str
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The comparison rows (one per measure) and baseline rows (one per 6-month window) of one group."""
    before, after = (-months, 0), (0, months)
    spans = sorted({before, after, *baseline_windows(months)})
    names = [c for c in people.columns if "@" in c]
    sums = people.select(pl.col(names).fill_null(0).cast(pl.Int64).sum()).row(0, named=True)
    # Every rate: per window, the events (or custody days) over the days, per person-year.
    ratio_keys: list[tuple[str, str]] = []
    ratio_of: dict[tuple[str, tuple[int, int]], int] = {}
    for measure in RATES:
        for span in spans:
            if measure.name == "arrests" or span in (before, after):
                ratio_of[(measure.name, span)] = len(ratio_keys)
                ratio_keys.append((key(measure.count, *span), key(measure.days, *span)))
    used = list(dict.fromkeys(k for pair in ratio_keys for k in pair))
    row = {name: index for index, name in enumerate(used)}
    ratios = [(row[a], row[b]) for a, b in ratio_keys]
    # One row per person, one column per variable the rates read.
    values = people.select(pl.col(used).fill_null(0).cast(pl.Float64)).to_numpy()
    differences = [(ratio_of[(m.name, before)], ratio_of[(m.name, after)]) for m in RATES]
    n = people.height
    if n >= 2:
        lows, highs = bootstrap_rates(values, ratios, differences)
    else:  # one person: nothing to resample
        lows = highs = np.full(len(differences) + len(ratios), np.nan)

    def interval(index: int) -> tuple[float | None, float | None]:
        low, high = float(lows[index]), float(highs[index])
        return (None if np.isnan(low) else low, None if np.isnan(high) else high)

    def rate(count: float, days: float) -> float | None:
        return count / (days / DAYS_PER_YEAR) if days > 0 else None

    arrested = {span: people[key("arrests", *span)].fill_null(0) > 0 for span in spans}
    comparisons = [share_arrested(arrested[before], arrested[after])]
    for index, measure in enumerate(RATES):
        counts = [sums[key(measure.count, *span)] for span in (before, after)]
        days = [sums[key(measure.days, *span)] for span in (before, after)]
        rates = [rate(c, d) for c, d in zip(counts, days, strict=True)]
        low, high = interval(index)
        comparisons.append(
            {
                "measure": measure.name,
                "before_numerator": counts[0],
                "before_denominator": days[0] / DAYS_PER_YEAR,
                "before_value": rates[0],
                "after_numerator": counts[1],
                "after_denominator": days[1] / DAYS_PER_YEAR,
                "after_value": rates[1],
                "difference": None if None in rates else rates[1] - rates[0],
                "low": low,
                "high": high,
            }
        )
    baseline = []
    for span in baseline_windows(months):
        count = int(arrested[span].sum())
        share_low, share_high = wilson_interval(count, n)
        arrests, days = sums[key("arrests", *span)], sums[key("days_at_risk", *span)]
        rate_low, rate_high = interval(len(differences) + ratio_of[("arrests", span)])
        baseline.append(
            {
                "from_month": span[0],
                "to_month": span[1],
                "arrested": count,
                "share": count / n,
                "share_low": share_low,
                "share_high": share_high,
                "arrests": arrests,
                "person_years_at_risk": days / DAYS_PER_YEAR,
                "rate": rate(arrests, days),
                "rate_low": rate_low,
                "rate_high": rate_high,
            }
        )
    common = {"window_months": months, "referral_type": referral_type, "people": n}
    return [common | c for c in comparisons], [common | b for b in baseline]


def estimates(windows: pl.DataFrame, months: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The comparison and baseline rows of one window length, from participant_windows' rows.

    Compared: everyone whose N months after referral have passed by the as-of date (the window
    (0, N) is complete), each counted in both windows.
    """
    followed = windows.filter(
        (pl.col("from_month") == 0) & (pl.col("to_month") == months) & pl.col("complete")
    ).select("site_id", "person_id", "referral_type")
    spans = sorted({(-months, 0), (0, months), *baseline_windows(months)})
    people = wide(windows, followed, spans)
    comparisons, baseline = [], []
    if people.height:
        for referral_type, group in groups(people):
            c, b = group_estimates(group, months, referral_type)
            comparisons += c
            baseline += b
    return (
        pl.DataFrame(comparisons, schema=COMPARISON_SCHEMA),
        pl.DataFrame(baseline, schema=BASELINE_SCHEMA),
    )


def evaluate(
    con: duckdb.DuckDBPyConnection, as_of: date, lengths: tuple[int, ...] = WINDOW_LENGTHS
) -> Evaluation:
    """Every estimate of the release for these window lengths (months before and after referral)."""
    sites = justice_sites(con)
    windows = participant_windows(con, as_of, asked_windows(lengths))
    parts = [estimates(windows, months) for months in lengths]
    return Evaluation(
        as_of=as_of,
        sites=sites,
        referred_by={months: followed_since(as_of, months) for months in lengths},
        comparisons=pl.concat([c for c, _ in parts]),
        baseline=pl.concat([b for _, b in parts]),
    )
