"""The metric definitions (v2): one place for names, labels, numerators and denominators.

The nightly loads the pairs into the release as the table metric_definitions, which the macro
metric_cells (pipelines/nightly/sql/metric_cells.sql) counts for metric_values and for funder
snapshots; the dashboard and the data dictionary describe them from here. v2 adds the justice
measures of DESIGN s.9: booked, jail_days, felony_charged and new_offense_arrest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

METRICS_VERSION = "v2"
# The one small-count threshold: the smallest denominator a rate is shown on without a flag. Below
# it the pages mark a rate as resting on few people, and funder snapshots (DESIGN s.7) hide it and
# every count from 1 to SMALL_COUNT - 1.
SMALL_COUNT = 11


class Kind(StrEnum):
    """What a metric's value is, and so how it reads."""

    COUNT = "count"  # the number of participants (numerator = denominator = value)
    SHARE = "share"  # participants in the numerator over participants in the denominator
    DAYS = "days per participant"  # a sum of days over the participants in the denominator


@dataclass(frozen=True)
class Metric:
    """A monthly metric over metric_flags: the sum of its numerator column over the sum of its
    denominator column (metric_cells.sql). A flag (true/false) sums to a count of participant-months;
    a day column (jail_days' custody_days) sums to days."""

    name: str
    label: str
    numerator: str
    denominator: str
    numerator_flag: str
    denominator_flag: str
    kind: Kind = Kind.SHARE
    # Whether funder snapshots carry it. The justice measures of v2 wait for issue 16's
    # suppression: on a 150-participant pilot their many small counts took the exact check from
    # 13 s to 35-60 s, and they would hide more of a small program's figures than they show.
    in_snapshots: bool = True

    @property
    def is_count(self) -> bool:
        """Whether the value is a count of participants (else a share or days per participant)."""
        return self.kind is Kind.COUNT

    @property
    def counts_people(self) -> bool:
        """Whether numerator and denominator are both counts of participants (a count or a share):
        what small-count suppression protects. Days are not people."""
        return self.kind in (Kind.COUNT, Kind.SHARE)


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
            kind=Kind.COUNT,
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
            "active participants with at least one arrest in the month (warrant arrests included)",
            "active participants",
            "arrested",
            "active",
        ),
        Metric(
            "new_offense_arrest",
            "Arrested for a new offense",
            "active participants arrested in the month for a felony or a misdemeanor "
            "(an arrest on a warrant or of unknown level is not a new offense)",
            "active participants",
            "new_offense_arrest",
            "active",
            in_snapshots=False,
        ),
        Metric(
            "booked",
            "Booked into jail",
            "active participants booked into jail in the month",
            "active participants",
            "booked",
            "active",
            in_snapshots=False,
        ),
        Metric(
            "felony_charged",
            "Charged with a felony",
            "active participants charged with a felony in the month",
            "active participants",
            "felony_charged",
            "active",
            in_snapshots=False,
        ),
        Metric(
            "jail_days",
            "Days in jail",
            "days that active participants spent in jail in the month (up to the as-of date), "
            "from sites that report release dates",
            "active participants (the value is days in jail per participant)",
            "custody_days",
            "active",
            kind=Kind.DAYS,
        ),
    ]
}

# What the definitions imply between the flags of one participant-month (metric_flags.sql), so
# between any two counts of them over the same participants: anyone who reads DESIGN s.5 and s.9
# knows these, so suppression (pipelines/funder/suppression.py) must keep a hidden count wide
# against them. (a, b): every participant-month with flag a has flag b, so count(a) <= count(b).
# (Flags only: custody_days is a sum of days, never in a snapshot.)
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
    ("new_offense_arrest", "arrested"),
    ("new_offense_arrest", "active"),
    ("booked", "active"),
    ("felony_charged", "active"),
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
