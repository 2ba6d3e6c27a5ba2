"""What the impact evaluation estimates in each window after the index date, and for whom.

`MEASURES`: the outcomes, each an odds ratio (any arrest, any new-offense arrest, any booking),
a difference-in-differences rate ratio (arrests per person-year at risk, against each group's
own 12 months before) or a rate ratio (jail days per person-year alive, felony charges per
person-year at risk). `measure_effect` estimates one for a window's people with their weights and
returns an `Effect`: the weighted estimate, the same model unweighted (the naive comparison), and
each group's share or rate after and before the index date (participants; comparison weighted
and unweighted), so a page can set the naive before-and-after, the unweighted comparison and
the weighted estimate side by side. `subgroup_effects` repeats the ratios by referral type and
by race, with the window's weights, where each group has at least MIN_SUBGROUP people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.evaluate.design import DID_BEFORE, DOOR_LABELS, RACE_LABELS, RACE_ORDER
from pipelines.evaluate.effects import (
    DID_METHOD,
    ODDS_METHOD,
    RATE_METHOD,
    Estimate,
    did_rate_ratio,
    odds_ratio,
    rate_ratio,
    weighted_rate,
    weighted_share,
)
from pipelines.evaluate.estimate import key

MIN_SUBGROUP = 30
ODDS, DID, RATE = "odds_ratio", "did_rate_ratio", "rate_ratio"
SHARE_UNIT, AT_RISK_UNIT, ALIVE_UNIT = "share of people", "per person-year at risk", "per person-year alive"


@dataclass(frozen=True)
class Measure:
    """An outcome of the windows after the index date, and how its effect is estimated."""

    code: str
    json_key: str  # its key in `outcomes evaluate --json`'s impact
    label: str
    kind: str  # ODDS, DID or RATE
    count: str  # the window column counted (for a share: people with one or more)
    days: str | None  # the days column a rate divides by

    @property
    def unit(self) -> str:
        if self.days is None:
            return SHARE_UNIT
        return ALIVE_UNIT if self.days == "days_alive" else AT_RISK_UNIT

    @property
    def method(self) -> str:
        return {ODDS: ODDS_METHOD, DID: DID_METHOD, RATE: RATE_METHOD}[self.kind]

    @property
    def ratio(self) -> str:
        return {ODDS: "Odds ratio", DID: "Rate ratio (difference-in-differences)", RATE: "Rate ratio"}[
            self.kind
        ]

    def before(self, months: int) -> tuple[int, int]:
        """The window before the index date its before values are of."""
        return (-DID_BEFORE, 0) if self.kind == DID else (-months, 0)


MEASURES: tuple[Measure, ...] = (
    Measure("any_arrest", "any_arrest_odds_ratio", "Any arrest", ODDS, "arrests", None),
    Measure(
        "new_offense_arrest",
        "new_offense_arrest_odds_ratio",
        "Any arrest for a new offense (a felony or misdemeanor)",
        ODDS,
        "new_offense_arrests",
        None,
    ),
    Measure("any_booking", "any_booking_odds_ratio", "Any booking into jail", ODDS, "bookings", None),
    Measure("arrests", "arrest_rate_ratio", "Arrests", DID, "arrests", "days_at_risk"),
    Measure("jail_days", "jail_days_rate_ratio", "Days in jail", RATE, "custody_days", "days_alive"),
    Measure(
        "felony_charges", "felony_charge_rate_ratio", "Felony charges", RATE, "felony_charges", "days_at_risk"
    ),
)
SUBGROUP_MEASURES = tuple(m for m in MEASURES if m.kind in (ODDS, DID))


@dataclass(frozen=True)
class Effect:
    """One measure in one window: the estimate, and what it is made of."""

    measure: Measure
    estimate: Estimate  # weighted: the comparison group weighted to the participants
    unweighted: Estimate  # the same model, comparison group unweighted
    lead_after: float | None  # the participants' share (or rate) in the window after
    comparison_after: float | None  # the weighted comparison group's
    comparison_after_unweighted: float | None
    lead_before: float | None  # the same, in the window before (measure.before(months))
    comparison_before: float | None
    comparison_before_unweighted: float | None
    before_months: int
    rows_dropped: int = 0  # person-windows with no time at risk, left out of a DiD model


def window_values(people: pl.DataFrame, column: str, span: tuple[int, int]) -> np.ndarray:
    return people[key(column, *span)].fill_null(0).cast(pl.Float64).to_numpy()


def measure_effect(
    measure: Measure, people: pl.DataFrame, months: int, treated: np.ndarray, weights: np.ndarray
) -> Effect:
    """The measure's effect in the `months` after the index date, for these people and weights."""
    after, before = (0, months), measure.before(months)
    ones = np.ones(len(treated))
    counts = {span: window_values(people, measure.count, span) for span in (before, after)}
    days = (
        {span: window_values(people, measure.days, span) for span in (before, after)} if measure.days else {}
    )

    def summary(span: tuple[int, int], group: np.ndarray, w: np.ndarray) -> float | None:
        if measure.days is None:
            return weighted_share(counts[span][group] > 0, w[group])
        return weighted_rate(counts[span][group], days[span][group], w[group])

    dropped = 0
    if measure.kind == ODDS:
        arrested = counts[after] > 0
        estimate, unweighted = (odds_ratio(arrested, treated, w) for w in (weights, ones))
    elif measure.kind == RATE:
        estimate, unweighted = (rate_ratio(counts[after], days[after], treated, w) for w in (weights, ones))
    else:
        spans = ((counts[before], days[before]), (counts[after], days[after]))
        estimate, dropped = did_rate_ratio(*spans, treated, weights)
        unweighted, _ = did_rate_ratio(*spans, treated, ones)
    return Effect(
        measure=measure,
        estimate=estimate,
        unweighted=unweighted,
        lead_after=summary(after, treated, ones),
        comparison_after=summary(after, ~treated, weights),
        comparison_after_unweighted=summary(after, ~treated, ones),
        lead_before=summary(before, treated, ones),
        comparison_before=summary(before, ~treated, weights),
        comparison_before_unweighted=summary(before, ~treated, ones),
        before_months=-before[0],
        rows_dropped=dropped,
    )


SUBGROUP_SCHEMA = {
    "dimension": pl.String,  # "Referral type", "Race"
    "group": pl.String,  # "Arrest diversion", "Black"
    "n_lead": pl.Int64,
    "n_comparison": pl.Int64,
    "measure": pl.String,  # the measure's label
    "measure_code": pl.String,
    "ratio": pl.String,  # "Odds ratio", ...
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "note": pl.String,  # why there is no estimate
}
# The subgroups: a participant's referral type (a comparison person's from an arrest on the index
# date: design.load_people's `door`), and race.
DIMENSIONS = (
    ("Referral type", "door", DOOR_LABELS, tuple(DOOR_LABELS)),
    ("Race", "race", RACE_LABELS, RACE_ORDER),
)


def subgroup_effects(people: pl.DataFrame, months: int, weights: np.ndarray) -> pl.DataFrame:
    """SUBGROUP_SCHEMA: each subgroup's ratios with the window's weights (not refitted), or a note
    where a group has fewer than MIN_SUBGROUP people."""
    treated = people["treated"].to_numpy().astype(bool)
    rows = []
    for dimension, column, labels, order in DIMENSIONS:
        values = people[column].cast(pl.String).to_numpy().astype(object)
        for value in order:
            members = values == value
            n_lead, n_comparison = int((members & treated).sum()), int((members & ~treated).sum())
            if not n_lead and not n_comparison:
                continue
            common = {
                "dimension": dimension,
                "group": labels[value],
                "n_lead": n_lead,
                "n_comparison": n_comparison,
            }
            for measure in SUBGROUP_MEASURES:
                if min(n_lead, n_comparison) < MIN_SUBGROUP:
                    estimate = Estimate.missing(f"fewer than {MIN_SUBGROUP} people in a group")
                else:
                    part = people.filter(pl.Series(members))
                    effect = measure_effect(measure, part, months, treated[members], weights[members])
                    estimate = effect.estimate
                rows.append(
                    common
                    | {
                        "measure": measure.label,
                        "measure_code": measure.code,
                        "ratio": measure.ratio,
                        "estimate": estimate.estimate,
                        "ci_low": estimate.ci_low,
                        "ci_high": estimate.ci_high,
                        "note": estimate.note,
                    }
                )
    return pl.DataFrame(rows, schema=SUBGROUP_SCHEMA)
