"""Trends: any metric over months, split by one dimension, filtered by site, referral type and cohort.

The metric_values table holds one dimension at a time; a split under filters combines two or
more, so the numbers are counted here from metric_flags, the participant-months that
metric_values itself counts (pipelines/nightly/sql/metric_flags.sql).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import plotly.graph_objects as go
import polars as pl

from pipelines.core.export import csv_bytes
from pipelines.core.metrics import METRICS, Metric
from pipelines.core.palette import FONT_FAMILY, OKABE_ITO
from pipelines.core.periods import add_months

# The splits the page offers, in its order: metric_values' dimension names, with their labels.
SPLITS = {
    "all": "None (all participants)",
    "cohort": "Cohort",
    "referral_type": "Referral type",
    "site": "Site",
    "race": "Race",
    "gender": "Gender",
    "age_band": "Age band",
}
DEFAULT_MONTHS = 24
# Below this many in the denominator a rate is shown but flagged (DESIGN s.7 suppresses
# such cells in funder outputs; leadership sees them, marked).
SMALL_DENOMINATOR = 11
SMALL_FLAG = f"n < {SMALL_DENOMINATOR}"
TABLE_COLUMNS = ["month", "group", "numerator", "denominator", "value", "flag"]
# Seven colours, never yellow on white; past seven groups the dash changes instead.
LINE_COLOURS = OKABE_ITO[:7]
LINE_DASHES = ("solid", "dash", "dot")
ALL_GROUP_NAME = "All participants"

# Everything the user picks is bound: the split and the metric's flags by name, the filters
# as lists (an empty list means every value). The split column is one of a fixed CASE.
TREND_SQL = """
with

metric_flags as (
    select * from metric_flags
),

filtered as (
    select
        f.month,
        case $split
            when 'cohort' then f.cohort
            when 'referral_type' then f.referral_type
            when 'site' then f.site_id
            when 'race' then f.race
            when 'gender' then f.gender
            when 'age_band' then f.age_band
            else 'all'
        end as grp,
        struct_extract(f, $numerator_flag) as in_numerator,
        struct_extract(f, $denominator_flag) as in_denominator
    from metric_flags as f
    where (len($sites::varchar[]) = 0 or list_contains($sites::varchar[], f.site_id))
      and (len($referral_types::varchar[]) = 0 or list_contains($referral_types::varchar[], f.referral_type))
      and (len($cohorts::varchar[]) = 0 or list_contains($cohorts::varchar[], f.cohort))
      and ($start is null or f.month >= $start)
      and ($end is null or f.month <= $end)
),

counted as (
    select
        month,
        grp,
        count_if(in_numerator)::bigint as numerator,
        count_if(in_denominator)::bigint as denominator
    from filtered
    group by month, grp
),

final as (
    select
        month,
        grp as "group",
        numerator,
        denominator,
        case when $is_count then numerator::double else numerator / denominator end as value
    from counted
    where denominator > 0
)

select * from final
order by month, "group"
"""

OPTIONS_SQL = """
select
    list(distinct site_id order by site_id) as sites,
    list(distinct referral_type order by referral_type) as referral_types,
    list(distinct cohort order by cohort) as cohorts,
    list(distinct month order by month) as months
from metric_flags
"""


@dataclass(frozen=True)
class TrendOptions:
    """What a release holds to filter on: its sites, referral types, cohorts and months."""

    sites: tuple[str, ...]
    referral_types: tuple[str, ...]
    cohorts: tuple[str, ...]
    months: tuple[date, ...]


def trend_options(con: duckdb.DuckDBPyConnection) -> TrendOptions:
    """The values the page's filters and month range offer, read from the release."""
    sites, referral_types, cohorts, months = con.sql(OPTIONS_SQL).fetchall()[0]
    return TrendOptions(
        sites=tuple(sites or ()),
        referral_types=tuple(referral_types or ()),
        cohorts=tuple(cohorts or ()),
        months=tuple(months or ()),
    )


def default_range(months: Sequence[date], latest_complete: date) -> tuple[date, date] | None:
    """The last 24 complete months the release holds (or fewer), as (first, last) of `months`.

    When the release has no complete month yet, its last month stands in for the end.
    """
    if not months:
        return None
    complete = [month for month in months if month <= latest_complete]
    end = complete[-1] if complete else months[-1]
    first_wanted = add_months(end, -(DEFAULT_MONTHS - 1))
    start = next(month for month in months if month >= first_wanted)
    return start, end


def trend_values(
    con: duckdb.DuckDBPyConnection,
    metric: str,
    split: str = "all",
    *,
    sites: Sequence[str] = (),
    referral_types: Sequence[str] = (),
    cohorts: Sequence[str] = (),
    start: date | None = None,
    end: date | None = None,
) -> pl.DataFrame:
    """A metric by month and group: month, group, numerator, denominator, value.

    `split` is a key of SPLITS ('all' gives the one group 'all'). An empty filter keeps
    every value; `start` and `end` bound the months, both included. A group whose
    denominator is 0 in a month has no row for that month. For active_participants the
    value is the count; for a rate it is numerator / denominator.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: one of {', '.join(SPLITS)}")
    definition = METRICS[metric]
    return con.sql(
        TREND_SQL,
        params={
            "split": split,
            "numerator_flag": definition.numerator_flag,
            "denominator_flag": definition.denominator_flag,
            "is_count": definition.is_count,
            "sites": list(sites),
            "referral_types": list(referral_types),
            "cohorts": list(cohorts),
            "start": start,
            "end": end,
        },
    ).pl()


def trend_table(values: pl.DataFrame, metric: str) -> pl.DataFrame:
    """The numbers as the page's table and CSV show them: newest month first, rates in percent.

    Columns: month, group, numerator, denominator, value (a percent for a rate, the count
    for active_participants) and flag ("n < 11" where the denominator is under 11, else empty).
    """
    scale = 1 if METRICS[metric].is_count else 100
    return values.sort(["month", "group"], descending=[True, False]).select(
        "month",
        "group",
        "numerator",
        "denominator",
        (pl.col("value") * scale).alias("value"),
        pl.when(pl.col("denominator") < SMALL_DENOMINATOR)
        .then(pl.lit(SMALL_FLAG))
        .otherwise(pl.lit(""))
        .alias("flag"),
    )


def table_csv(values: pl.DataFrame, metric: str) -> bytes:
    """The page's table as a CSV download, safe to open in a spreadsheet."""
    return csv_bytes(trend_table(values, metric))


def line_style(index: int) -> dict[str, object]:
    """The colour and dash of the index-th group's line."""
    colour = LINE_COLOURS[index % len(LINE_COLOURS)]
    dash = LINE_DASHES[(index // len(LINE_COLOURS)) % len(LINE_DASHES)]
    return {"color": colour, "dash": dash, "width": 2}


def hover_template(definition: Metric) -> str:
    """What a point says on hover: the group, the month, the value and its counts."""
    if definition.is_count:
        body = "%{y:,.0f} participants"
    else:
        body = "%{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,})"
    return "<b>%{fullData.name}</b><br>%{x|%B %Y}<br>" + body + "<extra></extra>"


def trend_chart(values: pl.DataFrame, metric: str, split: str = "all") -> go.Figure:
    """One line per group over the months: a percentage for rates, a count for participants.

    `values` is what `trend_values` returns. Many groups keep a legend of their own on the
    right, which scrolls when it is taller than the chart. A point with fewer than 11 in
    its denominator is drawn hollow.
    """
    definition = METRICS[metric]
    figure = go.Figure()
    groups = values["group"].unique(maintain_order=False).sort().to_list()
    for index, group in enumerate(groups):
        rows = values.filter(pl.col("group") == group).sort("month")
        figure.add_trace(
            go.Scatter(
                x=rows["month"].to_list(),
                y=rows["value"].to_list(),
                customdata=rows.select("numerator", "denominator").rows(),
                mode="lines+markers",
                name=ALL_GROUP_NAME if split == "all" else str(group),
                line=line_style(index),
                # A hollow point: fewer than 11 in the denominator (the table flags it too).
                marker={
                    "size": 6,
                    "symbol": [
                        "circle-open" if denominator < SMALL_DENOMINATOR else "circle"
                        for denominator in rows["denominator"]
                    ],
                },
                hovertemplate=hover_template(definition),
            )
        )
    if definition.is_count:
        y_title, tickformat = "Participants", ",d"
    else:
        y_title, tickformat = "Percent of denominator", ".0%"
    figure.update_layout(
        colorway=list(LINE_COLOURS),
        font={"family": FONT_FAMILY},
        showlegend=split != "all",
        legend={"title": {"text": SPLITS[split]}, "orientation": "v", "x": 1.02, "y": 1},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=420,
    )
    figure.update_xaxes(title_text="Month", type="date", tickformat="%b %Y", hoverformat="%B %Y")
    figure.update_yaxes(title_text=y_title, tickformat=tickformat, rangemode="tozero")
    return figure
