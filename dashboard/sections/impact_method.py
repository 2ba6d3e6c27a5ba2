"""The Impact page's "How this is calculated", in words for a program director: who is compared, on
what, how the comparison group is weighted, how the intervals are made, and what the design cannot
do. Built from the estimates' own numbers (the truncation, the pooled categories)."""

from __future__ import annotations

from pipelines.evaluate.costs import RESAMPLES, SEED
from pipelines.evaluate.design import COVARIATES, DID_BEFORE, MIN_LEVEL
from pipelines.evaluate.impact import MIN_GROUP, Impact, WindowImpact
from pipelines.evaluate.measures import MIN_SUBGROUP
from pipelines.evaluate.weights import PERCENTILES, SMD_LIMIT


def covariate_list() -> str:
    labels = [c.label.lower() if i else c.label for i, c in enumerate(COVARIATES)]
    return ", ".join(labels[:-1]) + f" and {labels[-1]}"


def method_text(result: Impact, window: WindowImpact) -> str:
    """How this is calculated (markdown), for the window shown."""
    months = window.months
    truncation = (
        window.propensity.sentence()
        if window.propensity is not None
        else (
            f"They would be truncated at the {PERCENTILES[0]:g}st and {PERCENTILES[1]:g}th percentiles, but "
            "for this window no propensity model could be fitted, so nothing was weighted."
        )
    )
    pooled = " ".join(p.sentence() for p in window.pooled)
    return f"""
**Who is compared.** LEAD participants (their index date: the referral date) and the comparison
group: people a site lists as eligible for LEAD who were not referred (their index date: the eligible
police contact or arrest). Only sites that send a comparison group, its justice records and their
participants' justice records count (named under the page). For the {months}-month window, everyone
whose {months} months after the index date had ended by the release's as-of date
({result.as_of:%Y-%m-%d}): {window.n_lead:,} participants and {window.n_comparison:,} comparison
people. The index date itself is in no window: the arrest or contact that led to it is not an outcome.
A window needs at least {MIN_GROUP} people in each group.

**What the groups are made alike on (the covariates).** {covariate_list()}. The justice history
is counted from the same justice exports as the outcomes. A category with fewer than {MIN_LEVEL}
people in a group is merged with others for the model. {pooled}

**Propensity weighting, for the average effect on participants.** A logistic regression estimates
each person's chance of being a participant from the covariates (the propensity score). Each
participant counts once; each comparison person counts by the odds of their score (score / (1 - score)),
so that comparison people who look like participants count more and those who do not count less.
The weighted comparison group then stands for what would have happened to these participants
without LEAD: the estimate is the average effect on the people LEAD took (ATT), not on everyone
eligible. So that a few people cannot count for too much, the scores are truncated. {truncation}

**Balance.** For every covariate, the difference between the groups' means in standard deviations
(the standardised mean difference), before and after weighting. After weighting every one should be
under {SMD_LIMIT} either way; the page warns about any that is not.

**The estimates (each with a 95% interval).**

- *Odds ratios* of any arrest, any arrest for a new offense and any booking in the {months} months
  after: a weighted logistic regression of the outcome on the group. An odds ratio of 0.6 reads as
  "40% lower odds".
- *Arrest rate ratio*: arrests per person-year out of jail, as a difference-in-differences: the
  participants' change from their own {DID_BEFORE} months before to the window after, divided by
  the weighted comparison group's change (a weighted Poisson regression with each person's time at
  risk). It allows for the groups starting from different arrest levels.
- *Days in jail per person-year alive and felony charges per person-year at risk*: rate ratios
  from a weighted Poisson regression.
- *Intervals*: robust (sandwich) standard errors; for the arrest rate ratio, clustered by person,
  since each person has a before and an after. The weights are treated as known: the intervals
  leave out the uncertainty of the propensity model itself.
- *Time to a first arrest*: weighted Kaplan-Meier curves (lifelines), the comparison group weighted
  by a propensity model fitted on everyone followed at least a day; follow-up ends at the release's
  as-of date, after {max(result.windows)} months, at a death or at an exit to incarceration. The
  numbers at risk are people, unweighted.
- *Subgroups*: the same ratios by referral type (for a comparison person: arrested on the index date
  or not) and by race, with the window's weights, where both groups have at least {MIN_SUBGROUP} people.
- *Justice costs* (when the home has unit costs): bookings, days in jail and felony charges times
  their unit costs, per person-year alive, each group weighted; the difference's interval from
  {RESAMPLES:,} bootstrap resamples of people (fixed seed {SEED}).

**What this cannot tell.** This is an observational comparison, not an experiment: who was referred
was not decided by chance. The weights make the groups alike on what was measured, and only on
that. What was not measured can still differ: a person's motivation, housing, health, or why an
officer referred one person and not another (officer discretion). If participants differ from the
comparison group in such ways that also affect arrests, the estimates carry that difference. A
comparison group is also only as complete as the sites' records of who was eligible.
"""
