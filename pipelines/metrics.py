"""The metric definitions (v1): one place for names, labels, numerators and denominators.

The marts compute them (pipelines/sql/metric_values.sql); the dashboard and the data
dictionary describe them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

METRICS_VERSION = "v1"


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    numerator: str
    denominator: str
    is_count: bool = False


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric(
            "active_participants",
            "Active participants",
            "participants referred on or before the month's end and not exited before its start",
            "the same (the value is a count)",
            is_count=True,
        ),
        Metric(
            "permanent_housing",
            "In permanent housing",
            "active participants whose housing status at month end is permanent (HMIS 4xx)",
            "active participants with a known housing status at month end",
        ),
        Metric(
            "sheltered",
            "Sheltered",
            "active participants in emergency shelter, safe haven, temporary or permanent housing",
            "active participants with a known housing status at month end",
        ),
        Metric(
            "unsheltered",
            "Unsheltered",
            "active participants whose housing status at month end is unsheltered",
            "active participants with a known housing status at month end",
        ),
        Metric(
            "treatment_engaged",
            "Engaged in treatment",
            "active participants with a treatment episode overlapping the month",
            "active participants",
        ),
        Metric(
            "employed",
            "Employed",
            "active participants working full time, part time or seasonally/sporadically",
            "active participants with a known employment status",
        ),
        Metric(
            "employment_continuum",
            "On the employment continuum",
            "active participants employed, in training or education, or retired",
            "active participants with a known employment status",
        ),
        Metric(
            "income_or_benefits",
            "Income or benefits",
            "active participants with earned income or cash benefits",
            "active participants whose income is known",
        ),
        Metric(
            "arrested",
            "Arrested",
            "active participants with at least one arrest in the month",
            "active participants",
        ),
    ]
}

STATUS_WINDOW_DAYS = 182
DIMENSIONS = ("all", "cohort", "referral_type", "site", "race", "gender", "age_band", "case_manager")
