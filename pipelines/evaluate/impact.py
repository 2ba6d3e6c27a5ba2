"""The comparison-group impact evaluation (issue 14): LEAD participants against similar people who
were eligible but not referred, weighted by propensity score to look like the participants.

Entry point: `impact(con, as_of, lengths=(6, 12, 24), costs=None) -> Impact | None` on a release
(None when no site sends both comparison tables). `estimate_impact(people, ...)` does the same on
a people frame built by hand (design.py's docstring lists its columns), and `estimate_window`
one window: that is what the estimator tests call.

What a page reads from an `Impact`:

- `sites`: `ImpactSites` (used, left out and why, custody reporting of each group).
- `windows[N]` for N in lengths, a `WindowImpact`:
  - `n_lead`, `n_comparison`: the people followed N months after their index date (each window
    is counted only when index + N months is on or before the as-of date);
  - `problem`: None, or why nothing was estimated, in words (too few people, the propensity
    model failed); `balance` is then unweighted only;
  - `propensity`: `weights.Propensity` (scores, weights, truncation cut points and counts:
    `propensity.sentence()` says it in words); `pooled`: rare categorical levels merged
    (`Pooling.sentence()`);
  - `balance`: weights.BALANCE_SCHEMA frame, one row per covariate level or number, labels in
    plain words (a love plot: smd_unweighted and smd_weighted by covariate); `imbalanced()` lists
    those still at |SMD| >= 0.1;
  - `effects`: measure code -> `measures.Effect` (estimate and unweighted `Estimate`s, each
    group's share or rate after and before); `effects_frame()` flattens them for a table;
  - `subgroups`: measures.SUBGROUP_SCHEMA frame (referral type, race);
  - `costs`: `costs.CostComparison` when unit costs were given.
- `first_arrest`: `first_arrest.FirstArrest`: Kaplan-Meier curves and numbers at risk.
- `costs`: the unit costs used (`Costs`, with `illustrative`), or None.
- `METHOD`: the method of each part, in words; `CAVEAT`: what the design cannot do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import polars as pl

from pipelines.core.release import table_names
from pipelines.evaluate.costs import COST_METHOD, CostComparison, Costs, compare_costs
from pipelines.evaluate.design import (
    COVARIATES,
    Covariate,
    ImpactSites,
    Pooling,
    build_design,
    impact_sites,
    load_people,
)
from pipelines.evaluate.effects import DID_METHOD, ODDS_METHOD, RATE_METHOD
from pipelines.evaluate.estimate import key
from pipelines.evaluate.first_arrest import SURVIVAL_METHOD, FirstArrest, first_arrest
from pipelines.evaluate.measures import (
    MEASURES,
    MIN_SUBGROUP,
    SUBGROUP_SCHEMA,
    Effect,
    measure_effect,
    subgroup_effects,
)
from pipelines.evaluate.weights import (
    BALANCE_METHOD,
    BALANCE_SCHEMA,
    PROPENSITY_METHOD,
    Propensity,
    PropensityError,
    balance,
    fit_propensity,
)

LENGTHS = (6, 12, 24)
MIN_GROUP = 10  # fewer people than this in either group: no model is fitted for the window
IMPACT_TABLES = frozenset({"comparison", "comparison_justice", "comparison_custody_spells"})
METHOD = {
    "propensity": PROPENSITY_METHOD,
    "balance": BALANCE_METHOD,
    "odds_ratio": ODDS_METHOD,
    "did_rate_ratio": DID_METHOD,
    "rate_ratio": RATE_METHOD,
    "first_arrest": SURVIVAL_METHOD,
    "costs": COST_METHOD,
    "subgroups": (
        "By referral type, arrest diversion or social contact (a comparison person's from whether they "
        "were arrested on the index date), and by race, with the window's weights, where each group "
        f"has at least {MIN_SUBGROUP} people."
    ),
    "who": (
        "Participants referred by arrest diversion or social contact at sites that send a comparison "
        "group; community referrals are left out, since the comparison group came to the program's "
        "notice through a police contact or arrest and holds no one like them."
    ),
}
CAVEAT = (
    "An observational comparison: the weights make the comparison group resemble the participants "
    "on the covariates measured (age, gender, race, index offense, site, year, an arrest on the "
    "index date, and arrests, bookings and jail days in the 12 and 24 months before). They cannot "
    "balance what was not measured (motivation, housing, health, why an officer referred one person "
    "and not another), which may still differ."
)
EFFECT_SCHEMA = {
    "measure": pl.String,
    "measure_code": pl.String,
    "ratio": pl.String,
    "unit": pl.String,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "note": pl.String,
    "unweighted_estimate": pl.Float64,
    "unweighted_ci_low": pl.Float64,
    "unweighted_ci_high": pl.Float64,
    "lead_after": pl.Float64,
    "comparison_after": pl.Float64,
    "comparison_after_unweighted": pl.Float64,
    "lead_before": pl.Float64,
    "comparison_before": pl.Float64,
    "comparison_before_unweighted": pl.Float64,
    "before_months": pl.Int64,
    "rows_dropped": pl.Int64,
}


@dataclass(frozen=True)
class WindowImpact:
    """The estimates of one window: the `months` after the index date (module docstring)."""

    months: int
    n_lead: int
    n_comparison: int
    balance: pl.DataFrame
    problem: str | None = None
    propensity: Propensity | None = None
    pooled: tuple[Pooling, ...] = ()
    effects: dict[str, Effect] = field(default_factory=dict)
    subgroups: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SUBGROUP_SCHEMA))
    costs: CostComparison | None = None

    def imbalanced(self) -> list[str]:
        """The covariates (labels) still at |SMD| >= 0.1 after weighting."""
        return self.balance.filter(pl.col("imbalanced").fill_null(False))["covariate"].to_list()

    def effects_frame(self) -> pl.DataFrame:
        """EFFECT_SCHEMA: one row per measure, in MEASURES' order."""
        rows = [
            {
                "measure": e.measure.label,
                "measure_code": e.measure.code,
                "ratio": e.measure.ratio,
                "unit": e.measure.unit,
                "estimate": e.estimate.estimate,
                "ci_low": e.estimate.ci_low,
                "ci_high": e.estimate.ci_high,
                "note": e.estimate.note,
                "unweighted_estimate": e.unweighted.estimate,
                "unweighted_ci_low": e.unweighted.ci_low,
                "unweighted_ci_high": e.unweighted.ci_high,
                "lead_after": e.lead_after,
                "comparison_after": e.comparison_after,
                "comparison_after_unweighted": e.comparison_after_unweighted,
                "lead_before": e.lead_before,
                "comparison_before": e.comparison_before,
                "comparison_before_unweighted": e.comparison_before_unweighted,
                "before_months": e.before_months,
                "rows_dropped": e.rows_dropped,
            }
            for e in self.effects.values()
        ]
        return pl.DataFrame(rows, schema=EFFECT_SCHEMA)


@dataclass(frozen=True)
class Impact:
    """Every estimate of the impact evaluation of one release (module docstring)."""

    as_of: date
    sites: ImpactSites
    windows: dict[int, WindowImpact]
    first_arrest: FirstArrest
    costs: Costs | None = None


def estimate_window(
    people: pl.DataFrame,
    months: int,
    costs: Costs | None = None,
    covariates: tuple[Covariate, ...] = COVARIATES,
) -> WindowImpact:
    """The window's estimates for the people of the people frame followed `months` after index."""
    followed = people.filter(pl.col(key("complete", 0, months)).fill_null(False))
    treated = followed["treated"].to_numpy().astype(bool)
    n_lead, n_comparison = int(treated.sum()), int((~treated).sum())
    if min(n_lead, n_comparison) < MIN_GROUP:
        return WindowImpact(
            months,
            n_lead,
            n_comparison,
            pl.DataFrame(schema=BALANCE_SCHEMA),
            problem=(
                f"Too few people followed {months} months after their index date to compare: "
                f"{n_lead:,} participants and {n_comparison:,} comparison people (at least {MIN_GROUP} each)."
            ),
        )
    design = build_design(followed, covariates)
    try:
        propensity = fit_propensity(design)
    except PropensityError as error:
        return WindowImpact(
            months,
            n_lead,
            n_comparison,
            balance(design, None),
            problem=f"No estimate for the {months} months after the index date: {error}",
            pooled=design.pooled,
        )
    weights = propensity.weights
    after = (0, months)
    cost = None
    if costs is not None:
        columns = ("bookings", "custody_days", "felony_charges", "days_alive")
        events = {c: followed[key(c, *after)].fill_null(0).cast(pl.Float64).to_numpy() for c in columns}
        cost = compare_costs(costs, events, treated, weights)
    return WindowImpact(
        months=months,
        n_lead=n_lead,
        n_comparison=n_comparison,
        balance=balance(design, weights),
        propensity=propensity,
        pooled=design.pooled,
        effects={m.code: measure_effect(m, followed, months, treated, weights) for m in MEASURES},
        subgroups=subgroup_effects(followed, months, weights),
        costs=cost,
    )


def estimate_impact(
    people: pl.DataFrame,
    as_of: date,
    sites: ImpactSites,
    lengths: tuple[int, ...] = LENGTHS,
    costs: Costs | None = None,
    covariates: tuple[Covariate, ...] = COVARIATES,
) -> Impact:
    """Every window's estimates, and the time to a first arrest, from a people frame."""
    return Impact(
        as_of=as_of,
        sites=sites,
        windows={months: estimate_window(people, months, costs, covariates) for months in lengths},
        first_arrest=first_arrest(people, max(lengths), covariates),
        costs=costs,
    )


def has_comparison_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the release holds the comparison group's tables (a release built before them does not)."""
    return IMPACT_TABLES <= table_names(con)


def impact(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    lengths: tuple[int, ...] = LENGTHS,
    costs: Costs | None = None,
) -> Impact | None:
    """The impact evaluation of a release; None when no site sends both comparison tables."""
    if not has_comparison_tables(con):
        return None
    sites = impact_sites(con)
    if not sites.any_comparison:
        return None
    people = load_people(con, as_of, sites.used, lengths)
    return estimate_impact(people, as_of, sites, lengths, costs)
