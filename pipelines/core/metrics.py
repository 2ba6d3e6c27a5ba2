"""The metric definitions (v1): one place for names, labels, numerators and denominators.

The nightly loads the pairs into the release as the table metric_definitions, which the macro
metric_cells (pipelines/nightly/sql/metric_cells.sql) counts for metric_values and for funder
snapshots; the dashboard and the data dictionary describe them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

METRICS_VERSION = "v1"
# The one small-count threshold: the smallest denominator a rate is shown on without a flag. Below
# it the pages mark a rate as resting on few people, and funder snapshots (DESIGN s.7) hide it and
# every count from 1 to SMALL_COUNT - 1.
SMALL_COUNT = 11


@dataclass(frozen=True)
class Metric:
    """A monthly metric: count_if(numerator_flag) / count_if(denominator_flag) over metric_flags."""

    name: str
    label: str
    numerator: str
    denominator: str
    numerator_flag: str
    denominator_flag: str
    is_count: bool = False


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric(
            "active_participants",
            "Active participants",
            "participants referred on or before the month's end and not exited before its start",
            "the same (the value is a count)",
            "active",
            "active",
            is_count=True,
        ),
        Metric(
            "permanent_housing",
            "In permanent housing",
            "active participants whose housing status at month end is permanent (HMIS 4xx)",
            "active participants with a known housing status at month end",
            "permanent_housing",
            "housing_known",
        ),
        Metric(
            "sheltered",
            "Sheltered",
            "active participants in emergency shelter, safe haven, temporary or permanent housing",
            "active participants with a known housing status at month end",
            "sheltered",
            "housing_known",
        ),
        Metric(
            "unsheltered",
            "Unsheltered",
            "active participants whose housing status at month end is unsheltered",
            "active participants with a known housing status at month end",
            "unsheltered",
            "housing_known",
        ),
        Metric(
            "treatment_engaged",
            "Engaged in treatment",
            "active participants with a treatment episode overlapping the month",
            "active participants",
            "treatment_engaged",
            "active",
        ),
        Metric(
            "employed",
            "Employed",
            "active participants working full time, part time or seasonally/sporadically",
            "active participants with a known employment status",
            "employed",
            "employment_known",
        ),
        Metric(
            "employment_continuum",
            "On the employment continuum",
            "active participants employed, in training or education, or retired",
            "active participants with a known employment status",
            "employment_continuum",
            "employment_known",
        ),
        Metric(
            "income_or_benefits",
            "Income or benefits",
            "active participants with earned income or cash benefits",
            "active participants whose income is known",
            "income_or_benefits",
            "income_known",
        ),
        Metric(
            "arrested",
            "Arrested",
            "active participants with at least one arrest in the month",
            "active participants",
            "arrested",
            "active",
        ),
    ]
}

# What the definitions imply between the flags of one participant-month (metric_flags.sql), so
# between any two counts of them over the same participants: anyone who reads DESIGN s.5 knows
# these, so suppression (pipelines/funder/suppression.py) must keep a hidden count wide against them.
# (a, b): every participant-month with flag a has flag b, so count(a) <= count(b).
NESTED_FLAGS = (
    ("permanent_housing", "sheltered"),
    ("sheltered", "housing_known"),
    ("unsheltered", "housing_known"),
    ("housing_known", "active"),
    ("treatment_engaged", "active"),
    ("employed", "employment_continuum"),
    ("employment_continuum", "employment_known"),
    ("employment_known", "active"),
    ("income_or_benefits", "income_known"),
    ("income_known", "active"),
    ("arrested", "active"),
)
# ((a, b), c): no participant-month has both a and b, and each has c, so count(a) + count(b) <=
# count(c) in one month (not over a quarter: one participant may be each in different months).
EXCLUSIVE_FLAGS = ((("sheltered", "unsheltered"), "housing_known"),)

# The one rule for survival estimates (Kaplan-Meier): a median or milestone read where fewer than
# MIN_AT_RISK people are still at risk is shown as "too few at risk", not as a number.
MIN_AT_RISK = 20

STATUS_WINDOW_DAYS = 182
# metric_values' dimensions and the metric_flags column each splits by: the grouping sets of
# pipelines/nightly/sql/metric_cells.sql, in this order.
DIMENSIONS = {
    "all": None,
    "cohort": "cohort",
    "referral_type": "referral_type",
    "site": "site_id",
    "race": "race",
    "gender": "gender",
    "age_band": "age_band",
    "case_manager": "case_manager",
}
# How a report names each breakdown of a snapshot (case managers are never in one).
DIMENSION_LABELS = {
    "all": "All participants",
    "cohort": "Cohort (referral quarter)",
    "referral_type": "Referral type",
    "site": "Site",
    "race": "Race",
    "gender": "Gender",
    "age_band": "Age band (age at referral)",
}


def is_count(metric: str) -> bool:
    """Whether the metric's value is a count (else a rate); False for a metric not defined today."""
    return metric in METRICS and METRICS[metric].is_count
