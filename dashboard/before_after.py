"""Before and after referral: who was arrested in the 6 months before and the 6 months after.

Queries take a read-only connection and return Polars frames; `with_intervals` adds the
Newcombe interval of each paired difference; `before_after_chart` draws the table.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date

import duckdb
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from checks.vocab import REFERRAL_TYPES
from dashboard import stats
from pipelines.core.palette import FONT_FAMILY, OKABE_ITO
from pipelines.core.periods import add_months, month_start

WINDOW_MONTHS = 6
ALL = "all"
REFERRAL_TYPE_LABELS = {
    ALL: "All referral types",
    "arrest_diversion": "Arrest diversion",
    "social_contact": "Social contact",
    "community": "Community",
}
BEFORE_COLOUR, AFTER_COLOUR, DIFFERENCE_COLOUR = OKABE_ITO[1], OKABE_ITO[0], OKABE_ITO[6]
SHARE_HOVER = "%{x:.1%} (%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>"
COUNT_COLUMNS = ("participants", "both", "before_only", "after_only", "neither")


@dataclass(frozen=True)
class Coverage:
    """Who the comparison can count: sites with justice records, people with follow-up."""

    referred_by: date  # referred on or before this day: 6 months of follow-up by the as-of date
    sites: int
    sites_with_justice: tuple[str, ...]
    sites_without_justice: tuple[str, ...]
    followed: int  # participants of sites with justice records and 6 months of follow-up


def followed_since(as_of: date, months: int = WINDOW_MONTHS) -> date:
    """The last referral date with `months` of follow-up by the as-of date.

    As DuckDB adds months: 31 August plus 6 months is the last day of February, so when the
    as-of date ends its month, every later day of the earlier month qualifies too.
    """
    month = add_months(month_start(as_of), -months)
    last_day = monthrange(month.year, month.month)[1]
    if as_of.day == monthrange(as_of.year, as_of.month)[1]:
        return month.replace(day=last_day)
    return month.replace(day=min(as_of.day, last_day))


def coverage(con: duckdb.DuckDBPyConnection, as_of: date, months: int = WINDOW_MONTHS) -> Coverage:
    """Which sites send justice records, and how many of their participants have follow-up."""
    sites = con.sql(
        """
        with
        sites as (
            select distinct site_id from participants
        ),
        justice_sites as (
            select distinct site_id from justice
        ),
        followed as (
            select count(*) as followed
            from participants
            where site_id in (select site_id from justice_sites)
              and referral_date + to_months($months) <= $as_of
        )
        select
            s.site_id,
            s.site_id in (select site_id from justice_sites) as has_justice,
            (select followed from followed) as followed
        from sites as s
        order by s.site_id
        """,
        params={"as_of": as_of, "months": months},
    ).fetchall()
    return Coverage(
        referred_by=followed_since(as_of, months),
        sites=len(sites),
        sites_with_justice=tuple(site for site, has, _ in sites if has),
        sites_without_justice=tuple(site for site, has, _ in sites if not has),
        followed=sites[0][2] if sites else 0,
    )


def arrest_pairs(con: duckdb.DuckDBPyConnection, as_of: date, months: int = WINDOW_MONTHS) -> pl.DataFrame:
    """McNemar's counts overall and per referral type, one row each ('all' first).

    Participants referred at least `months` months before the as-of date, at sites that send
    justice records (elsewhere no arrest could be counted), each counted once by whether they
    had at least one arrest in [referral - months, referral) and in [referral, referral +
    months). Follow-up is by calendar, exits included: justice records keep coming after an
    exit. Columns: referral_type, participants, both, before_only, after_only, neither.
    """
    counts = con.sql(
        """
        with
        justice_sites as (
            select distinct site_id from justice
        ),
        followed as (
            select site_id, participant_id, referral_type, referral_date
            from participants
            where site_id in (select site_id from justice_sites)
              and referral_date + to_months($months) <= $as_of
        ),
        arrests as (
            select site_id, participant_id, event_date
            from justice
            where event_type = 'arrest'
        ),
        per_participant as (
            select
                f.referral_type,
                coalesce(bool_or(
                    a.event_date >= f.referral_date - to_months($months) and a.event_date < f.referral_date
                ), false) as before,
                coalesce(bool_or(
                    a.event_date >= f.referral_date and a.event_date < f.referral_date + to_months($months)
                ), false) as after,
            from followed as f
            left join arrests as a
                on a.site_id = f.site_id
                and a.participant_id = f.participant_id
                and a.event_date >= f.referral_date - to_months($months)
                and a.event_date < f.referral_date + to_months($months)
            group by f.site_id, f.participant_id, f.referral_type
        ),
        final as (
            select
                coalesce(referral_type, 'all') as referral_type,
                count(*) as participants,
                count_if(before and after) as both,
                count_if(before and not after) as before_only,
                count_if(after and not before) as after_only,
                count_if(not before and not after) as neither,
            from per_participant
            group by grouping sets ((), (referral_type))
        )
        select * from final
        """,
        params={"as_of": as_of, "months": months},
    ).pl()
    order = {name: index for index, name in enumerate((ALL, *REFERRAL_TYPES))}
    return (
        counts.with_columns(pl.col(COUNT_COLUMNS).cast(pl.Int64))
        # Grouping by () gives a row of zeros when no one has follow-up: no one to show.
        .filter(pl.col("participants") > 0)
        .sort(pl.col("referral_type").replace_strict(order, default=len(order), return_dtype=pl.Int64))
        .select("referral_type", *COUNT_COLUMNS)
    )


def with_intervals(pairs: pl.DataFrame, confidence: float = 0.95) -> pl.DataFrame:
    """Each row's shares before and after, and the difference (after minus before) with CI.

    Adds: arrested_before, arrested_after (counts), before, after (shares), difference, low,
    high (Newcombe 1998, method 10). A row of no participants gets nulls, never an error.
    """
    rows = []
    for row in pairs.iter_rows(named=True):
        n = row["participants"]
        before = row["both"] + row["before_only"]
        after = row["both"] + row["after_only"]
        if n > 0:
            difference, low, high = stats.newcombe_paired_difference(
                row["both"], row["before_only"], row["after_only"], row["neither"], confidence
            )
            shares = (before / n, after / n)
        else:
            difference = low = high = None
            shares = (None, None)
        rows.append(
            {
                "arrested_before": before,
                "arrested_after": after,
                "before": shares[0],
                "after": shares[1],
                "difference": difference,
                "low": low,
                "high": high,
            }
        )
    extra = pl.DataFrame(
        rows,
        schema={
            "arrested_before": pl.Int64,
            "arrested_after": pl.Int64,
            "before": pl.Float64,
            "after": pl.Float64,
            "difference": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
        },
    )
    return pl.concat([pairs, extra], how="horizontal")


def group_label(referral_type: str, participants: int) -> str:
    """A row's name on the chart: the referral type and how many people it counts."""
    return f"{REFERRAL_TYPE_LABELS.get(referral_type, referral_type)} (n={participants:,})"


def before_after_chart(table: pl.DataFrame, months: int = WINDOW_MONTHS) -> go.Figure:
    """Left: the share arrested before and after referral per group (a dot plot joined by a
    line). Right: the difference, after minus before, in percentage points with its CI.

    `table` is `with_intervals` output; rows without participants are left out of the chart
    (the table beside it still lists them).
    """
    shown = table.filter(pl.col("participants") > 0)
    labels = [group_label(t, n) for t, n in zip(shown["referral_type"], shown["participants"], strict=True)]
    figure = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        column_widths=[0.55, 0.45],
        horizontal_spacing=0.06,
        subplot_titles=(
            f"Arrested in the {months} months before and after referral",
            "Difference, after minus before (95% CI)",
        ),
    )
    before, after = shown["before"].to_list(), shown["after"].to_list()
    for label, b, a in zip(labels, before, after, strict=True):
        figure.add_trace(
            go.Scatter(
                x=[b, a],
                y=[label, label],
                mode="lines",
                line={"color": "#999999", "width": 2},
                showlegend=False,
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
    counts = shown.select("arrested_before", "arrested_after", "participants").rows()
    figure.add_trace(
        go.Scatter(
            x=before,
            y=labels,
            mode="markers",
            name=f"{months} months before referral",
            marker={"color": BEFORE_COLOUR, "size": 12, "symbol": "circle"},
            customdata=[(b, n) for b, _, n in counts],
            hovertemplate="%{y}<br>Before: " + SHARE_HOVER,
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=after,
            y=labels,
            mode="markers",
            name=f"{months} months after referral",
            marker={"color": AFTER_COLOUR, "size": 12, "symbol": "diamond"},
            customdata=[(a, n) for _, a, n in counts],
            hovertemplate="%{y}<br>After: " + SHARE_HOVER,
        ),
        row=1,
        col=1,
    )
    points = shown.select(
        (pl.col("difference") * 100).alias("difference"),
        (pl.col("low") * 100).alias("low"),
        (pl.col("high") * 100).alias("high"),
    )
    figure.add_trace(
        go.Scatter(
            x=points["difference"].to_list(),
            y=labels,
            mode="markers",
            name="Difference (95% CI)",
            marker={"color": DIFFERENCE_COLOUR, "size": 10, "symbol": "square"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (points["high"] - points["difference"]).to_list(),
                "arrayminus": (points["difference"] - points["low"]).to_list(),
                "color": DIFFERENCE_COLOUR,
                "thickness": 2,
                "width": 6,
            },
            customdata=points.select("low", "high").rows(),
            hovertemplate=(
                "%{y}<br>%{x:+.1f} pp (95% CI %{customdata[0]:+.1f} to %{customdata[1]:+.1f})<extra></extra>"
            ),
        ),
        row=1,
        col=2,
    )
    # No change: the line the interval is read against.
    figure.add_vline(x=0, line={"color": "#555555", "width": 1, "dash": "dash"}, row=1, col=2)
    figure.update_layout(
        font={"family": FONT_FAMILY},
        colorway=list(OKABE_ITO),
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=180 + 55 * max(len(labels), 1),
    )
    figure.update_yaxes(type="category", autorange="reversed", title_text="Referral type", row=1, col=1)
    figure.update_xaxes(
        title_text="Share of participants arrested", tickformat=".0%", rangemode="tozero", row=1, col=1
    )
    # Room on both sides of the widest interval and of 0, so the line of no change is inside.
    lows, highs = [*points["low"].drop_nulls(), 0.0], [*points["high"].drop_nulls(), 0.0]
    pad = max(2.0, (max(highs) - min(lows)) * 0.08)
    figure.update_xaxes(
        title_text="Percentage points",
        zeroline=False,
        range=[min(lows) - pad, max(highs) + pad],
        row=1,
        col=2,
    )
    return figure
