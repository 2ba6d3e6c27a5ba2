"""The Impact page's sentences, computed from the estimates: a headline per measure, the balance
warning, and the justice costs in words.

A ratio below 1 reads as "lower" (or "fewer"), by 1 - ratio; above 1 as "higher" (or "more"), by
ratio - 1. Only an interval that leaves out 1 is a clear difference; an interval through 1 is said
to be no clear difference, one that could be chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines.evaluate.costs import CostComparison
from pipelines.evaluate.effects import Estimate
from pipelines.evaluate.weights import SMD_LIMIT

COMPARABLE = "comparable people who were not diverted"


@dataclass(frozen=True)
class Wording:
    """How one measure's headline says what differs.

    `subject` is the clear case's sentence up to the percentage ("LEAD participants had"), `noun`
    what the percentage is of ("odds of arrest"), `topic` the same for "no clear difference in
    ...", `fewer` whether it reads fewer/more (counts) rather than lower/higher, and `than` whom
    the participants are set against."""

    subject: str
    noun: str
    topic: str
    fewer: bool = False
    than: str = COMPARABLE
    aside: str = ""


WORDINGS = {
    "any_arrest": Wording("LEAD participants had", "odds of arrest", "the odds of arrest"),
    "new_offense_arrest": Wording(
        "LEAD participants had",
        "odds of an arrest for a new offense (a felony or misdemeanor)",
        "the odds of an arrest for a new offense (a felony or misdemeanor)",
    ),
    "any_booking": Wording(
        "LEAD participants had", "odds of being booked into jail", "the odds of being booked into jail"
    ),
    "arrests": Wording(
        "LEAD participants' arrest rate (arrests per year out of jail) was",
        "",
        "the arrest rate (arrests per year out of jail)",
        than=f"that of {COMPARABLE}",
        aside=", each group set against its own 12 months before",
    ),
    "jail_days": Wording(
        "LEAD participants spent", "days in jail per year", "days in jail per year", fewer=True
    ),
    "felony_charges": Wording(
        "LEAD participants had",
        "felony charges per year out of jail",
        "felony charges per year out of jail",
        fewer=True,
    ),
}


def percent(fraction: float) -> str:
    """A fraction as a whole percentage; a change under half a percent as `less than 1%`."""
    value = abs(fraction) * 100
    return "less than 1%" if 0 < value < 0.5 else f"{value:.0f}%"


def direction(ratio: float, wording: Wording) -> str:
    if wording.fewer:
        return "fewer" if ratio < 1 else "more"
    return "lower" if ratio < 1 else "higher"


def change(ratio: float, wording: Wording) -> str:
    """`41% lower odds of arrest`, `12% fewer days in jail per year`, `38% lower` (the rate)."""
    words = f"{percent(ratio - 1)} {direction(ratio, wording)}"
    return f"{words} {wording.noun}" if wording.noun else words


def interval_words(estimate: Estimate, wording: Wording) -> str:
    """The interval in the same terms as the estimate: `95% CI 22% to 55%` (both ends lower, or both
    higher), or `95% CI from 35% lower to 20% higher` when it runs through 1."""
    low, high = estimate.ci_low, estimate.ci_high
    assert low is not None and high is not None
    if high < 1:
        return f"95% CI {percent(1 - high)} to {percent(1 - low)}"
    if low > 1:
        return f"95% CI {percent(low - 1)} to {percent(high - 1)}"
    down, up = ("fewer", "more") if wording.fewer else ("lower", "higher")
    return f"95% CI from {percent(1 - low)} {down} to {percent(high - 1)} {up}"


def headline(code: str, estimate: Estimate, months: int, opening: bool = True) -> str:
    """One measure's finding in a sentence, from its weighted ratio and 95% interval; without the
    opening ("In the 12 months after referral, ") for a list under a sentence that has it."""
    sentence = finding(WORDINGS[code], estimate)
    return (
        f"In the {months} months after referral, {sentence}"
        if opening
        else sentence[0].upper() + sentence[1:]
    )


def finding(wording: Wording, estimate: Estimate) -> str:
    """The headline after its opening, starting lower-case."""
    if estimate.estimate is None:
        why = f": {estimate.note}" if estimate.note else ""
        return f"{wording.topic} could not be compared{why}."
    ratio = estimate.estimate
    if estimate.ci_low is None or estimate.ci_high is None:
        return (
            f"{wording.subject} {change(ratio, wording)} than {wording.than}{wording.aside}, "
            "but no 95% interval could be computed, so this cannot be told from chance."
        )
    if estimate.ci_high < 1 or estimate.ci_low > 1:
        return (
            f"{wording.subject} {change(ratio, wording)} than {wording.than}{wording.aside} "
            f"({interval_words(estimate, wording)})."
        )
    point = "about the same" if round(abs(ratio - 1) * 100) == 0 else change(ratio, wording)
    return (
        f"there was no clear difference in {wording.topic} between LEAD participants and "
        f"{COMPARABLE}{wording.aside}: the estimate ({point}) has a {interval_words(estimate, wording)}, "
        "so the difference could be chance."
    )


def balance_warning(balance: pl.DataFrame) -> str | None:
    """The warning to show when a covariate still differs after weighting (|SMD| of 0.1 or more),
    naming each; None when every covariate is balanced."""
    flagged = balance.filter(pl.col("imbalanced").fill_null(False))
    if flagged.is_empty():
        return None
    names = [
        f"{row['covariate']} ({row['smd_weighted']:+.2f})"
        if row["smd_weighted"] is not None
        else row["covariate"]
        for row in flagged.iter_rows(named=True)
    ]
    return (
        f"**The groups still differ after weighting** on {len(names)} "
        f"{'covariate' if len(names) == 1 else 'covariates'} (a standardised mean difference of "
        f"{SMD_LIMIT} or more): {'; '.join(names)}. The estimates may be biased by "
        f"{'this difference' if len(names) == 1 else 'these differences'}; read them with care."
    )


def money(value: float, currency: str) -> str:
    return f"{currency} {abs(value):,.0f}"


def costs_sentence(costs: CostComparison, months: int) -> str:
    """The justice costs of both groups, their difference and the program's cost, in words."""
    if costs.lead is None or costs.comparison is None:
        why = costs.difference.note
        return f"In the {months} months after referral, justice costs could not be compared: {why}."
    d = costs.difference
    text = (
        f"In the {months} months after referral, justice costs (bookings, days in jail and felony "
        f"charges) came to {money(costs.lead, costs.currency)} per participant-year, against "
        f"{money(costs.comparison, costs.currency)} per person-year for {COMPARABLE}"
    )
    if d.estimate is not None:
        text += f": {money(d.estimate, costs.currency)} {'less' if d.estimate < 0 else 'more'}"
        if d.ci_low is not None and d.ci_high is not None:
            if d.ci_low < 0 < d.ci_high:
                low, high = money(d.ci_low, costs.currency), money(d.ci_high, costs.currency)
                text += f" (95% CI {low} less to {high} more: no clear difference)"
            else:
                word = "less" if d.ci_high < 0 else "more"
                ends = sorted((abs(d.ci_low), abs(d.ci_high)))
                text += f" (95% CI {costs.currency} {ends[0]:,.0f} to {ends[1]:,.0f} {word})"
    program = money(costs.program_per_participant_year, costs.currency)
    return f"{text}. The program costs {program} per participant-year."
