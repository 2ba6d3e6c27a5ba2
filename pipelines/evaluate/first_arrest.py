"""Time to a first arrest after the index date: weighted Kaplan-Meier curves (lifelines).

Everyone followed at least one day after the index date is counted: the time runs in days from
the index date (an arrest on the day after it is at day 1; one on the index date itself is not an
outcome) to the first arrest, or is censored at the end of follow-up: the as-of date, the longest
window, the day before a death or the day of an exit to incarceration (participants), whichever
comes first (design.load_people's `followed_days` and `arrest_seen`). The comparison group is
weighted by an ATT propensity model fitted on these people (weights.fit_propensity); the
unweighted comparison curve is given too. The number at risk under each curve counts people,
unweighted, every 3 months.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
from lifelines import KaplanMeierFitter

from pipelines.evaluate.design import COMPARISON, COVARIATES, TREATED, Covariate, build_design
from pipelines.evaluate.weights import Propensity, PropensityError, fit_propensity

AT_RISK_STEP = 3  # months between the numbers at risk
COMPARISON_UNWEIGHTED = f"{COMPARISON} (unweighted)"
COMPARISON_WEIGHTED = f"{COMPARISON} (weighted)"
SURVIVAL_METHOD = (
    "Kaplan-Meier estimate of the share not yet arrested (lifelines, the comparison group weighted by a "
    "propensity model fitted on everyone followed at least one day); days from the index date, censored "
    "at the as-of date, the end of the longest window, death or an exit to incarceration."
)
CURVE_SCHEMA = {"group": pl.String, "day": pl.Int64, "share_not_arrested": pl.Float64}
AT_RISK_SCHEMA = {"group": pl.String, "month": pl.Int64, "day": pl.Int64, "at_risk": pl.Int64}


@dataclass(frozen=True)
class FirstArrest:
    """Kaplan-Meier curves of the share not yet arrested after the index date, by group.

    curves: CURVE_SCHEMA, a step function per group (LEAD participants, the comparison group
    weighted, and unweighted), from day 0 (share 1) to each day the curve steps or ends.
    at_risk: AT_RISK_SCHEMA, people still followed and not yet arrested at month 0, 3, 6, ... (day
    round(month x 365.25 / 12)): participants, and comparison people (the unweighted count, under
    both comparison curves)."""

    months: int  # the longest follow-up
    n_lead: int
    n_comparison: int
    curves: pl.DataFrame
    at_risk: pl.DataFrame
    propensity: Propensity | None
    problem: str | None = None  # why the weighted comparison curve is missing
    method: str = SURVIVAL_METHOD


def curve(group: str, days: np.ndarray, seen: np.ndarray, weights: np.ndarray) -> pl.DataFrame:
    """One group's Kaplan-Meier step function, weighted, at day 0 and every day someone's time ends
    (lifelines warns that weights that are not whole numbers make its variance approximate; no
    interval is drawn from it here)."""
    fitter = KaplanMeierFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter.fit(days, seen, weights=weights)
    survival = fitter.survival_function_.iloc[:, 0]
    frame = pl.DataFrame(
        {
            "group": group,
            "day": survival.index.to_numpy().astype(np.int64),
            "share_not_arrested": survival.to_numpy(),
        },
        schema=CURVE_SCHEMA,
    )
    return frame


def first_arrest(
    people: pl.DataFrame, months: int, covariates: tuple[Covariate, ...] = COVARIATES
) -> FirstArrest:
    """The curves for the people frame's everyone followed at least one day."""
    followed = people.filter(pl.col("followed_days") > 0)
    treated = followed["treated"].to_numpy().astype(bool)
    days = followed["followed_days"].to_numpy().astype(float)
    seen = followed["arrest_seen"].to_numpy().astype(bool)
    n_lead, n_comparison = int(treated.sum()), int((~treated).sum())
    if not n_lead or not n_comparison:
        return FirstArrest(
            months,
            n_lead,
            n_comparison,
            pl.DataFrame(schema=CURVE_SCHEMA),
            pl.DataFrame(schema=AT_RISK_SCHEMA),
            None,
            problem="No curves: one group has no one followed a day after the index date yet.",
        )
    propensity, problem = None, None
    try:
        propensity = fit_propensity(build_design(followed, covariates))
    except PropensityError as error:
        problem = f"No weighted comparison curve: {error}"
    parts = [
        curve(TREATED, days[treated], seen[treated], np.ones(n_lead)),
        curve(COMPARISON_UNWEIGHTED, days[~treated], seen[~treated], np.ones(n_comparison)),
    ]
    if propensity is not None:
        parts.append(curve(COMPARISON_WEIGHTED, days[~treated], seen[~treated], propensity.weights[~treated]))
    at_risk = []
    for month in range(0, months + 1, AT_RISK_STEP):
        day = round(month * 365.25 / 12)
        for group, members in ((TREATED, treated), (COMPARISON, ~treated)):
            at_risk.append((group, month, day, int((days[members] >= day).sum())))
    return FirstArrest(
        months=months,
        n_lead=n_lead,
        n_comparison=n_comparison,
        curves=pl.concat(parts),
        at_risk=pl.DataFrame(at_risk, schema=AT_RISK_SCHEMA, orient="row"),
        propensity=propensity,
        problem=problem,
    )
