"""The impact evaluation as `outcomes evaluate` prints it: the `impact` key of the JSON, and a
short section of the text summary in plain words.

`impact_json(result)` is null without a comparison group, else one entry per window length in
months ("6", "12", "24"), each with:

    any_arrest_odds_ratio, new_offense_arrest_odds_ratio, any_booking_odds_ratio,
    arrest_rate_ratio (difference-in-differences), jail_days_rate_ratio, felony_charge_rate_ratio:
        {estimate, ci_low, ci_high} (nulls when not estimable)
    n_lead, n_comparison        people followed that many months after their index date
    balance                     [{covariate, code, smd_unweighted, smd_weighted, imbalanced}]
    problem                     null, or why nothing was estimated
    measures                    {<measure>: {label, ratio, unit, estimate, unweighted, lead_after,
                                 comparison_after, comparison_after_unweighted, lead_before,
                                 comparison_before, comparison_before_unweighted, before_months,
                                 rows_dropped, note}}
    trimming                    {low, high, raised, lowered, effective_comparison} or null
    pooled                      the rare levels merged, in words
    subgroups                   [{dimension, group, n_lead, n_comparison, measure, estimate,
                                 ci_low, ci_high, note}]
    costs                       null, or {currency, illustrative, lead, comparison,
                                 comparison_unweighted, difference: {estimate, ci_low, ci_high},
                                 program_per_participant_year}, per person-year alive
    method                      each part's method in words, and the caveat
"""

from __future__ import annotations

from typing import Any

from pipelines.evaluate.effects import Estimate
from pipelines.evaluate.impact import CAVEAT, METHOD, Impact, WindowImpact
from pipelines.evaluate.measures import MEASURES, ODDS

DIGITS = 6


def number(value: float | int | None) -> float | int | None:
    """A JSON number: floats rounded, NaN as null."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if value != value or value in (float("inf"), float("-inf")) else round(value, DIGITS)
    return value


def interval(estimate: Estimate | None) -> dict[str, Any]:
    if estimate is None:
        return {"estimate": None, "ci_low": None, "ci_high": None}
    return {k: number(getattr(estimate, k)) for k in ("estimate", "ci_low", "ci_high")}


def window_json(window: WindowImpact) -> dict[str, Any]:
    """One window's entry of the `impact` key."""
    effects = window.effects
    entry: dict[str, Any] = {
        m.json_key: interval(effects[m.code].estimate if m.code in effects else None) for m in MEASURES
    }
    entry |= {
        "n_lead": window.n_lead,
        "n_comparison": window.n_comparison,
        "balance": [
            {
                "covariate": row["covariate"],
                "code": row["code"],
                "smd_unweighted": number(row["smd_unweighted"]),
                "smd_weighted": number(row["smd_weighted"]),
                "imbalanced": row["imbalanced"],
            }
            for row in window.balance.iter_rows(named=True)
        ],
        "problem": window.problem,
        "measures": {
            code: {
                "label": e.measure.label,
                "ratio": e.measure.ratio,
                "unit": e.measure.unit,
                "estimate": interval(e.estimate),
                "unweighted": interval(e.unweighted),
                **{
                    side: number(getattr(e, side))
                    for side in (
                        "lead_after",
                        "comparison_after",
                        "comparison_after_unweighted",
                        "lead_before",
                        "comparison_before",
                        "comparison_before_unweighted",
                    )
                },
                "before_months": e.before_months,
                "rows_dropped": e.rows_dropped,
                "note": e.estimate.note,
            }
            for code, e in effects.items()
        },
        "trimming": None,
        "pooled": [p.sentence() for p in window.pooled],
        "subgroups": [
            {
                "dimension": row["dimension"],
                "group": row["group"],
                "n_lead": row["n_lead"],
                "n_comparison": row["n_comparison"],
                "measure": row["measure_code"],
                **{k: number(row[k]) for k in ("estimate", "ci_low", "ci_high")},
                "note": row["note"],
            }
            for row in window.subgroups.iter_rows(named=True)
        ],
        "costs": None,
        "method": METHOD | {"caveat": CAVEAT},
    }
    if window.propensity is not None:
        p = window.propensity
        entry["trimming"] = {
            "low": number(p.low),
            "high": number(p.high),
            "raised": p.below,
            "lowered": p.above,
            "effective_comparison": number(p.effective_comparison),
        }
    if window.costs is not None:
        c = window.costs
        entry["costs"] = {
            "currency": c.currency,
            "illustrative": c.illustrative,
            "lead": number(c.lead),
            "comparison": number(c.comparison),
            "comparison_unweighted": number(c.comparison_unweighted),
            "difference": interval(c.difference),
            "program_per_participant_year": number(c.program_per_participant_year),
        }
    return entry


def impact_json(result: Impact | None) -> dict[str, Any] | None:
    """`outcomes evaluate --json`'s `impact`: null without a comparison group."""
    if result is None:
        return None
    return {str(months): window_json(window) for months, window in result.windows.items()}


def ratio_text(estimate: Estimate) -> str:
    if estimate.estimate is None:
        return f"not estimable ({estimate.note})"
    if estimate.ci_low is None or estimate.ci_high is None:
        return f"{estimate.estimate:.2f} (no interval)"
    return f"{estimate.estimate:.2f} (95% CI {estimate.ci_low:.2f} to {estimate.ci_high:.2f})"


def value_text(value: float | None, share: bool) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if share else f"{value:.2f}"


def money(value: float | None, currency: str) -> str:
    return "—" if value is None else f"{currency} {value:,.0f}"


def window_lines(window: WindowImpact) -> list[str]:
    lines = [
        f"{window.months} months after the index date: {window.n_lead:,} participants, "
        f"{window.n_comparison:,} comparison people"
    ]
    if window.problem:
        return lines + [f"  {window.problem}"]
    for effect in window.effects.values():
        m = effect.measure
        share = m.kind == ODDS
        what = m.label.lower() if share else f"{m.label.lower()} {m.unit}"
        values = (
            f"participants {value_text(effect.lead_after, share)}, comparable people "
            f"{value_text(effect.comparison_after, share)} (unweighted "
            f"{value_text(effect.comparison_after_unweighted, share)})"
        )
        lines.append(f"  {what}: {values}; {m.ratio.lower()} {ratio_text(effect.estimate)}")
    imbalanced = window.imbalanced()
    lines.append(
        "  balance: every covariate within 0.1 standard deviations after weighting"
        if not imbalanced
        else f"  balance: still differ after weighting (|SMD| 0.1 or more): {', '.join(imbalanced)}"
    )
    if window.propensity is not None:
        lines.append(f"  {window.propensity.sentence()}")
    lines += [f"  {p.sentence()}" for p in window.pooled]
    if window.costs is not None:
        c = window.costs
        d = c.difference
        spread = (
            f" (95% CI {d.ci_low:,.0f} to {d.ci_high:,.0f})"
            if d.ci_low is not None and d.ci_high is not None
            else ""
        )
        lines.append(
            f"  justice costs per person-year: participants {money(c.lead, c.currency)}, comparable people "
            f"{money(c.comparison, c.currency)}, difference {money(d.estimate, c.currency)}{spread}; the "
            f"program costs {money(c.program_per_participant_year, c.currency)} per participant-year"
            + (" (illustrative unit costs)" if c.illustrative else "")
        )
    return lines


def impact_summary(result: Impact | None) -> list[str]:
    """The impact section of `outcomes evaluate`'s text summary."""
    if result is None:
        return [
            "Impact against a comparison group: none yet. A site that sends `comparison` and "
            "`comparison_justice` exports (people eligible for LEAD but not referred) makes one possible."
        ]
    sites = result.sites
    lines = [
        "Impact: participants against comparable people who were eligible but not referred "
        "(comparison group weighted by propensity score)",
        f"  sites compared: {', '.join(sites.used) or 'none'}"
        + (f"; left out: {'; '.join(f'{s} ({why})' for s, why in sites.left_out)}" if sites.left_out else ""),
        "  ratios below 1 favour the program",
    ]
    for window in result.windows.values():
        lines += ["  " + line for line in window_lines(window)]
    lines.append(f"  {CAVEAT}")
    return lines
