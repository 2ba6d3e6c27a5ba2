"""Time to permanent housing: a Kaplan-Meier fit of each participant's follow-up.

The nightly computes each participant's time and event (pipelines/nightly/sql/time_to_housing.sql,
which says the rule); dashboard/queries/cohorts.py reads them in scope; this module fits the
curves. A pure estimator, like dashboard/stats.py: frames in, frames out, no data access. It
reports how many are still at risk wherever a number is read off a curve; whether that is enough
to show it is dashboard/small_numbers.py's rule, applied where the numbers are shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from checks.vocab import REFERRAL_TYPES

DAYS_PER_MONTH = 365.25 / 12
MILESTONE_MONTHS = (3, 6, 12, 18, 24)
CONFIDENCE = 0.95

SUMMARY_SCHEMA = {
    "referral_type": pl.String,
    "housed_at_referral": pl.Int64,
    "participants": pl.Int64,
    "events": pl.Int64,
    "censored": pl.Int64,
    "median_days": pl.Float64,
    "median_lower": pl.Float64,
    "median_upper": pl.Float64,
    "median_at_risk": pl.Int64,
    "lower_at_risk": pl.Int64,
    "upper_at_risk": pl.Int64,
}
CURVE_SCHEMA = {
    "referral_type": pl.String,
    "days": pl.Float64,
    "months": pl.Float64,
    "share_housed": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "at_risk": pl.Int64,
}
MILESTONES_SCHEMA = {
    "referral_type": pl.String,
    "months": pl.Int64,
    "days": pl.Float64,
    "share_housed": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "at_risk": pl.Int64,
}


@dataclass(frozen=True)
class HousingCurves:
    """A Kaplan-Meier fit per referral type, in "share permanently housed" (1 - S) terms.

    summary: referral_type; housed_at_referral (already in permanent housing at referral: counted,
    not fitted); participants (the rest: the curve's), events, censored; median_days,
    median_lower, median_upper (null: the curve or its band does not reach 50% housed); and the
    number at risk at each of those three times (null with the time).
    curve: referral_type, days, months, share_housed, lower, upper, at_risk; one row per
    distinct time, a step that holds until the next row.
    milestones: the curve at MILESTONE_MONTHS (null when nobody is followed that long), with the
    number at risk there; none for a group with nobody in its curve.
    """

    summary: pl.DataFrame
    curve: pl.DataFrame
    milestones: pl.DataFrame


def group_order(groups: Sequence[str]) -> list[str]:
    """Referral types in the contract's order; anything else after them, sorted."""
    known = [g for g in REFERRAL_TYPES if g in groups]
    return known + sorted(g for g in set(groups) if g not in REFERRAL_TYPES)


def finite(value: float) -> float | None:
    """A median time, or None when the curve never reaches it (lifelines says infinity)."""
    return float(value) if math.isfinite(value) else None


def step_at(times: list[float], values: list[float | None], t: float) -> float | None:
    """A right-continuous step function's value at t: the value at the last time <= t."""
    index = next((i for i in range(len(times) - 1, -1, -1) if times[i] <= t), None)
    return None if index is None else values[index]


def at_risk_at(days: np.ndarray, t: float | None) -> int | None:
    """How many are still at risk at time t: followed at least that long and not yet housed before it."""
    return None if t is None else int((days >= t).sum())


def empty_summary(group: str, housed_at_referral: int) -> dict[str, object]:
    """A group whose participants were all housed at referral: nobody to follow."""
    return {
        "referral_type": group,
        "housed_at_referral": housed_at_referral,
        "participants": 0,
        "events": 0,
        "censored": 0,
    }


def kaplan_meier(durations: pl.DataFrame, by: str = "referral_type") -> HousingCurves:
    """Fit lifelines' KaplanMeierFitter to `days` and `housed` for each group in column `by`.

    Rows with `housed_at_referral` true (when the column is there) are counted, not fitted.
    """
    # lifelines takes seconds to import: only a page that fits a curve pays for it.
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    if "housed_at_referral" not in durations.columns:
        durations = durations.with_columns(housed_at_referral=pl.lit(False))
    summaries, curves, milestones = [], [], []
    for group in group_order(durations[by].unique().to_list()):
        everyone = durations.filter(pl.col(by) == group)
        already = int(everyone["housed_at_referral"].sum())
        rows = everyone.filter(~pl.col("housed_at_referral"))
        if rows.is_empty():
            summaries.append(empty_summary(group, already))
            continue
        days = rows["days"].cast(pl.Float64).to_numpy()
        fitter = KaplanMeierFitter(alpha=1 - CONFIDENCE).fit(days, rows["housed"].to_numpy(), label="km")
        survival = fitter.survival_function_["km"]
        band = fitter.confidence_interval_
        low_s, high_s = band.iloc[:, 0], band.iloc[:, 1]
        median_band = median_survival_times(band)
        events = int(rows["housed"].sum())
        median = finite(fitter.median_survival_time_)
        median_lower, median_upper = finite(median_band.iloc[0, 0]), finite(median_band.iloc[0, 1])
        summaries.append(
            {
                "referral_type": group,
                "housed_at_referral": already,
                "participants": rows.height,
                "events": events,
                "censored": rows.height - events,
                "median_days": median,
                "median_lower": median_lower,
                "median_upper": median_upper,
                "median_at_risk": at_risk_at(days, median),
                "lower_at_risk": at_risk_at(days, median_lower),
                "upper_at_risk": at_risk_at(days, median_upper),
            }
        )
        times = [float(t) for t in survival.index]
        # Where S is 0 the log-log band is undefined (lifelines fills it with 1): leave it empty.
        housed = [1 - float(s) for s in survival]
        lower = [None if s == 0 else 1 - float(h) for s, h in zip(survival, high_s, strict=True)]
        upper = [None if s == 0 else 1 - float(lo) for s, lo in zip(survival, low_s, strict=True)]
        at_risk = [int(n) for n in fitter.event_table["at_risk"]]
        curves.append(
            pl.DataFrame(
                {
                    "referral_type": [group] * len(times),
                    "days": times,
                    "months": [t / DAYS_PER_MONTH for t in times],
                    "share_housed": housed,
                    "lower": lower,
                    "upper": upper,
                    "at_risk": at_risk,
                },
                schema=CURVE_SCHEMA,
            )
        )
        for months in MILESTONE_MONTHS:
            t = months * DAYS_PER_MONTH
            followed = at_risk_at(days, t)
            share = step_at(times, housed, t)
            # Past the longest follow-up the curve is unknown, unless everyone was housed by then.
            known = followed > 0 or share == 1
            milestones.append(
                {
                    "referral_type": group,
                    "months": months,
                    "days": t,
                    "share_housed": share if known else None,
                    "lower": step_at(times, lower, t) if known else None,
                    "upper": step_at(times, upper, t) if known else None,
                    "at_risk": followed,
                }
            )
    return HousingCurves(
        summary=pl.DataFrame(summaries, schema=SUMMARY_SCHEMA),
        curve=pl.concat(curves) if curves else pl.DataFrame(schema=CURVE_SCHEMA),
        milestones=pl.DataFrame(milestones, schema=MILESTONES_SCHEMA),
    )
