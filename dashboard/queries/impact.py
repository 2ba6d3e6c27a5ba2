"""Impact: LEAD participants against comparable people who were eligible but not referred, for the
whole program (the estimates of pipelines/evaluate/impact.py, what `outcomes evaluate` prints).

`impact_estimates` runs the evaluation (seconds: the page fetches it through the cache); the other
functions are plain: they shape one window's `WindowImpact` into the page's tables, with labels,
never codes. Ratios stay ratios (below 1 favours the program); shares are in percent.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipelines.core.release import table_names
from pipelines.core.scope import Scope
from pipelines.evaluate import windows
from pipelines.evaluate.costs import Costs
from pipelines.evaluate.design import COMPARISON, DID_BEFORE, TREATED
from pipelines.evaluate.effects import Estimate
from pipelines.evaluate.first_arrest import COMPARISON_UNWEIGHTED, COMPARISON_WEIGHTED, FirstArrest
from pipelines.evaluate.impact import IMPACT_TABLES, LENGTHS, Impact, WindowImpact, impact
from pipelines.evaluate.measures import MEASURES, ODDS, SUBGROUP_MEASURES, Effect

DEFAULT_MONTHS = 12
DAYS_PER_MONTH = 365.25 / 12
# What each measure counts, in the words of the table under the forest plot.
NUMERATORS = {
    "any_arrest": ("People with at least one arrest in the window", "People followed through the window"),
    "new_offense_arrest": (
        "People with at least one arrest for a felony or misdemeanor in the window",
        "People followed through the window",
    ),
    "any_booking": (
        "People booked into jail at least once in the window",
        "People followed through the window",
    ),
    "arrests": (
        f"Arrests in the window, and in the {DID_BEFORE} months before the index date",
        "Person-years at risk (out of jail) in each",
    ),
    "jail_days": ("Days in jail in the window", "Person-years alive in the window"),
    "felony_charges": ("Felony charges in the window", "Person-years at risk (out of jail) in the window"),
}
# Each measure in a few words, for a chart's axis (the tables name it in full).
SHORT = {
    "any_arrest": "Any arrest",
    "new_offense_arrest": "New-offense arrest",
    "any_booking": "Booked into jail",
    "arrests": "Arrest rate",
    "jail_days": "Days in jail",
    "felony_charges": "Felony charges",
}
assert set(NUMERATORS) == set(SHORT) == {m.code for m in MEASURES}
# The three ways of reading the same measure that the design chart sets side by side.
NAIVE = "Participants, after against before"
UNWEIGHTED = "Comparison group, unweighted"
WEIGHTED = "Comparison group, weighted (the estimate)"
DESIGNS = (NAIVE, UNWEIGHTED, WEIGHTED)


def missing_tables(con: duckdb.DuckDBPyConnection, scope: Scope) -> frozenset[str]:
    """The tables the evaluation reads that this release lacks (built by an older version)."""
    scope.require_program()
    return (IMPACT_TABLES | windows.RELEASE_TABLES) - table_names(con)


def impact_estimates(
    con: duckdb.DuckDBPyConnection, scope: Scope, as_of: date, costs: Costs | None
) -> Impact | None:
    """The impact evaluation of the release for 6, 12 and 24 months; None without a comparison group."""
    scope.require_program()
    return impact(con, as_of, LENGTHS, costs)


def has_estimates(window: WindowImpact) -> bool:
    """Whether the window has a weighted estimate of any arrest (the headline's measure)."""
    effect = window.effects.get("any_arrest")
    return window.problem is None and effect is not None and effect.estimate.estimate is not None


def default_window(result: Impact) -> int:
    """12 months when that window has estimates, else the longest window that has; else 12 (or
    the first length) so that the page can say why there is none."""
    lengths = sorted(result.windows)
    if DEFAULT_MONTHS in result.windows and has_estimates(result.windows[DEFAULT_MONTHS]):
        return DEFAULT_MONTHS
    with_estimates = [m for m in lengths if has_estimates(result.windows[m])]
    if with_estimates:
        return with_estimates[-1]
    return DEFAULT_MONTHS if DEFAULT_MONTHS in result.windows else lengths[0]


def measure_title(effect: Effect) -> str:
    """A measure as the tables name it: `Any arrest`, `Arrests per person-year at risk`."""
    m = effect.measure
    return m.label if m.kind == ODDS else f"{m.label} {m.unit}"


def ratio_text(estimate: Estimate) -> str:
    """`0.62 (0.45 to 0.85)`, `0.62 (no interval)`, or why there is no estimate."""
    if estimate.estimate is None:
        return f"no estimate: {estimate.note}" if estimate.note else "no estimate"
    if estimate.ci_low is None or estimate.ci_high is None:
        return f"{estimate.estimate:.2f} (no interval)"
    return f"{estimate.estimate:.2f} ({estimate.ci_low:.2f} to {estimate.ci_high:.2f})"


def scaled(effect: Effect, value: float | None) -> float | None:
    """A share in percent; a rate as it is."""
    if value is None:
        return None
    return value * 100 if effect.measure.kind == ODDS else value


def value_text(effect: Effect, value: float | None) -> str:
    """A share as `51.2%`, a rate per person-year as `0.99`; a dash for none."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if effect.measure.kind == ODDS else f"{value:.2f}"


def effects_view(window: WindowImpact) -> pl.DataFrame:
    """Every measure's weighted estimate with its interval, each group's value after the index date,
    and what the value counts (numerator and denominator): the forest plot's numbers."""
    rows = []
    for code, effect in window.effects.items():
        numerator, denominator = NUMERATORS[code]
        e = effect.estimate
        rows.append(
            {
                "measure": measure_title(effect),
                "short": SHORT[code],
                "ratio_kind": effect.measure.ratio,
                "estimate": e.estimate,
                "ci_low": e.ci_low,
                "ci_high": e.ci_high,
                "ratio": ratio_text(e),
                "lead_after": scaled(effect, effect.lead_after),
                "comparison_after": scaled(effect, effect.comparison_after),
                "lead_text": value_text(effect, effect.lead_after),
                "comparison_text": value_text(effect, effect.comparison_after),
                "numerator": numerator,
                "denominator": denominator,
                "is_share": effect.measure.kind == ODDS,
                "note": e.note or "",
            }
        )
    schema = {
        "measure": pl.String,
        "short": pl.String,
        "ratio_kind": pl.String,
        "estimate": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "ratio": pl.String,
        "lead_after": pl.Float64,
        "comparison_after": pl.Float64,
        "lead_text": pl.String,
        "comparison_text": pl.String,
        "numerator": pl.String,
        "denominator": pl.String,
        "is_share": pl.Boolean,
        "note": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def naive_ratio(effect: Effect) -> float | None:
    """The participants' own after over before, as the measure's ratio: the odds ratio of the share
    after against the share before, or the rate after over the rate before."""
    after, before = effect.lead_after, effect.lead_before
    if after is None or before is None:
        return None
    if effect.measure.kind == ODDS:
        if not (0 < after < 1 and 0 < before < 1):
            return None
        return (after / (1 - after)) / (before / (1 - before))
    return after / before if before > 0 else None


def design_view(window: WindowImpact) -> pl.DataFrame:
    """For each ratio measure: the participants' naive before-and-after ratio, the unweighted
    comparison and the weighted estimate (the same ratio three ways), with the values behind them."""
    rows = []
    for effect in window.effects.values():
        title = measure_title(effect)
        before = f"{effect.before_months} months before"
        against = {
            NAIVE: effect.lead_before,
            UNWEIGHTED: effect.comparison_after_unweighted,
            WEIGHTED: effect.comparison_after,
        }
        for design, estimate in (
            (
                NAIVE,
                Estimate(naive_ratio(effect), None, None, "no interval: the same people, before and after"),
            ),
            (UNWEIGHTED, effect.unweighted),
            (WEIGHTED, effect.estimate),
        ):
            rows.append(
                {
                    "measure": title,
                    "short": SHORT[effect.measure.code],
                    "design": design,
                    "estimate": estimate.estimate,
                    "ci_low": estimate.ci_low,
                    "ci_high": estimate.ci_high,
                    "ratio": ratio_text(estimate),
                    "lead": value_text(effect, effect.lead_after),
                    "against": value_text(effect, against[design]),
                    "against_what": {
                        NAIVE: f"Participants, {before}",
                        UNWEIGHTED: "Comparison group, after (unweighted)",
                        WEIGHTED: "Comparison group, after (weighted)",
                    }[design],
                    "is_share": effect.measure.kind == ODDS,
                }
            )
    schema = {
        "measure": pl.String,
        "short": pl.String,
        "design": pl.String,
        "estimate": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "ratio": pl.String,
        "lead": pl.String,
        "against": pl.String,
        "against_what": pl.String,
        "is_share": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)


def curves_view(first: FirstArrest) -> pl.DataFrame:
    """The Kaplan-Meier curves with months for the x axis and the share not yet arrested in percent."""
    return first.curves.with_columns(
        months=pl.col("day") / DAYS_PER_MONTH, percent=pl.col("share_not_arrested") * 100
    )


def share_on(curves: pl.DataFrame, group: str, day: int) -> float | None:
    """A step function's value on `day`: its last step on or before it (None past its end)."""
    rows = curves.filter(pl.col("group") == group).sort("day")
    if rows.is_empty() or day > rows["day"].max():
        return None
    return float(rows.filter(pl.col("day") <= day)["share_not_arrested"][-1])


def survival_view(first: FirstArrest) -> pl.DataFrame:
    """Every 3 months from the index date: each curve's share not yet arrested (percent) and the
    number at risk under it (people still followed and not yet arrested, unweighted)."""
    rows = []
    at_risk = {(g, m): n for g, m, n in first.at_risk.select("group", "month", "at_risk").iter_rows()}
    days = dict(first.at_risk.select("month", "day").unique().iter_rows())
    for month in sorted(days):

        def percent(group: str, day: int = days[month]) -> float | None:
            share = share_on(first.curves, group, day)
            return None if share is None else share * 100

        rows.append(
            {
                "month": month,
                "lead": percent(TREATED),
                "lead_at_risk": at_risk.get((TREATED, month)),
                "comparison_weighted": percent(COMPARISON_WEIGHTED),
                "comparison_unweighted": percent(COMPARISON_UNWEIGHTED),
                "comparison_at_risk": at_risk.get((COMPARISON, month)),
            }
        )
    schema = {
        "month": pl.Int64,
        "lead": pl.Float64,
        "lead_at_risk": pl.Int64,
        "comparison_weighted": pl.Float64,
        "comparison_unweighted": pl.Float64,
        "comparison_at_risk": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def balance_view(window: WindowImpact) -> pl.DataFrame:
    """The balance table in labels: each covariate (a category: the share of people in it), the
    groups' means, the standardised mean differences before and after weighting, and a flag."""
    return window.balance.select(
        "covariate",
        "mean_lead",
        "mean_comparison",
        "mean_comparison_weighted",
        "smd_unweighted",
        "smd_weighted",
        pl.when(pl.col("imbalanced").fill_null(False))
        .then(pl.lit("Still differs"))
        .otherwise(pl.lit(""))
        .alias("flag"),
    )


def subgroup_label(dimension: str, group: str) -> str:
    return f"{dimension}: {group}"


def subgroups_view(window: WindowImpact) -> pl.DataFrame:
    """One row per subgroup with enough people in both groups: its sizes and each ratio as text."""
    frame = window.subgroups
    enough = frame.filter(pl.col("note").is_null() | ~pl.col("note").str.starts_with("fewer than"))
    rows = []
    for (dimension, group), part in enough.group_by(["dimension", "group"], maintain_order=True):
        row = {
            "subgroup": subgroup_label(dimension, group),
            "n_lead": part["n_lead"][0],
            "n_comparison": part["n_comparison"][0],
        }
        for measure in SUBGROUP_MEASURES:
            found = part.filter(pl.col("measure_code") == measure.code).rows(named=True)
            row[measure.code] = (
                ratio_text(Estimate(*(found[0][k] for k in ("estimate", "ci_low", "ci_high", "note"))))
                if found
                else "—"
            )
        rows.append(row)
    schema = {"subgroup": pl.String, "n_lead": pl.Int64, "n_comparison": pl.Int64}
    schema |= {m.code: pl.String for m in SUBGROUP_MEASURES}
    return pl.DataFrame(rows, schema=schema)


def subgroup_estimates(window: WindowImpact, measure: str) -> pl.DataFrame:
    """One measure's estimates of the subgroups with enough people (the subgroup chart: each group
    named on its own, `Arrest diversion`, `Black`)."""
    return window.subgroups.filter(
        (pl.col("measure_code") == measure) & pl.col("estimate").is_not_null()
    ).select(pl.col("group").alias("subgroup"), "n_lead", "n_comparison", "estimate", "ci_low", "ci_high")


def too_few(window: WindowImpact) -> list[str]:
    """The subgroups with fewer than 30 people in a group, in words: `Race: Asian (12 participants,
    8 comparison people)`."""
    rows = window.subgroups.filter(pl.col("note").str.starts_with("fewer than"))
    people = rows.unique(["dimension", "group"], maintain_order=True)
    return [
        f"{subgroup_label(r['dimension'], r['group'])} ({r['n_lead']:,} participants, "
        f"{r['n_comparison']:,} comparison people)"
        for r in people.iter_rows(named=True)
    ]


COSTS_SCHEMA = {"what": pl.String, "amount": pl.Float64, "interval": pl.String, "in_chart": pl.Boolean}


def costs_view(window: WindowImpact) -> pl.DataFrame:
    """Justice costs per person-year alive: participants, the comparison group (weighted and not),
    the difference with its interval, and the program's cost per participant-year; `in_chart`
    marks the three the chart sets side by side."""
    c = window.costs
    if c is None:
        return pl.DataFrame(schema=COSTS_SCHEMA)
    d = c.difference
    interval = (
        f"{d.ci_low:+,.0f} to {d.ci_high:+,.0f}" if d.ci_low is not None and d.ci_high is not None else ""
    )
    rows = [
        (f"{TREATED}: justice costs", c.lead, "", True),
        (f"{COMPARISON} (weighted): justice costs", c.comparison, "", True),
        (f"{COMPARISON} (unweighted): justice costs", c.comparison_unweighted, "", False),
        ("Difference, participants minus comparison group (weighted)", d.estimate, interval, False),
        ("The program's cost per participant-year", c.program_per_participant_year, "", True),
    ]
    return pl.DataFrame(rows, schema=COSTS_SCHEMA, orient="row")
