"""The Caseload page's queries and charts: one case manager's participants, one participant's
timeline, caseload sizes at a site, and the open data problems of a caseload.

Every query of one caseload takes (site_id, case_manager_id) and applies that scope in its SQL,
with bound values: a page can never show another case manager's participants by a widget slip.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, timedelta

import duckdb
import plotly.graph_objects as go
import polars as pl

from checks.vocab import EVENT_TYPES, HOUSING_CATEGORIES
from pipelines.core.palette import FONT_FAMILY, OKABE_ITO

# LEAD's guidance on caseloads (DESIGN s.1): 12 to 25 participants per case manager.
GUIDANCE_LOW, GUIDANCE_HIGH = 12, 25
HOUSING_DUE_DAYS = 90
RECENT_ARREST_DAYS = 30

# Flag column -> what it means, in the words the page shows. Prompts for outreach, not judgments.
FLAGS: dict[str, str] = {
    "housing_check_due": f"No housing assessment in {HOUSING_DUE_DAYS} days",
    "unsheltered": "Unsheltered at last housing assessment",
    "recent_arrest": f"Arrest record in the last {RECENT_ARREST_DAYS} days",
    "exited": "Exited the program",
}
CASELOAD_COLUMNS = [
    "participant_id",
    *FLAGS,
    "referral_date",
    "referral_type",
    "living_situation",
    "housing_category",
    "housing_assessed_on",
    "days_since_housing",
    "treatment_service",
    "treatment_start",
    "current_episodes",
    "employment_status",
    "has_income",
    "employment_assessed_on",
    "days_since_employment",
    "last_arrest",
    "exit_date",
]
TIMELINE_COLUMNS = ["event", "date", "end_date", "detail", "category"]
# What staff read first comes first; the long archive path last.
PROBLEM_COLUMNS = [
    "participant_id",
    "table_name",
    "row_number",
    "column_name",
    "value",
    "message",
    "fix",
    "age_days",
    "first_seen",
    "file",
]

HOUSING_COLOURS = {
    "permanent": OKABE_ITO[2],  # bluish green
    "temporary": OKABE_ITO[5],  # sky blue
    "institutional": OKABE_ITO[4],  # reddish purple
    "homeless": OKABE_ITO[1],  # orange
    "unknown": OKABE_ITO[6],  # black
}
TREATMENT_COLOUR = OKABE_ITO[0]  # blue
EMPLOYMENT_COLOUR = OKABE_ITO[3]  # vermillion
JUSTICE_COLOUR = OKABE_ITO[6]  # black: a record, not an alarm
JUSTICE_SYMBOLS = dict(zip(EVENT_TYPES, ("x", "triangle-up", "square-open"), strict=True))
WITHIN_COLOUR, OVER_COLOUR = OKABE_ITO[0], OKABE_ITO[1]


def label(text: str | None) -> str:
    """A code as staff say it: `rental_with_subsidy` is `rental with subsidy`."""
    return "" if text is None else text.replace("_", " ")


# --- queries ------------------------------------------------------------------------------


def sites(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The sites that have participants, in order."""
    rows = con.sql(
        "select distinct site_id from participants where site_id is not null order by 1"
    ).fetchall()
    return [site for (site,) in rows]


def caseload_sizes(con: duckdb.DuckDBPyConnection, site_id: str, as_of: date) -> pl.DataFrame:
    """Each case manager of a site: current participants (not exited by the as-of date), exited
    participants, and where the current caseload stands against the 12-to-25 guidance.

    Columns case_manager_id, current, exited, guidance ('more than 25', '12 to 25', 'fewer than 12').
    """
    return con.sql(
        """
        with
        caseloads as (
            select
                case_manager_id,
                count(*) filter (where exit_date is null or exit_date > $as_of) as current,
                count(*) filter (where exit_date <= $as_of) as exited,
            from participants
            where site_id = $site_id
            group by case_manager_id
        ),
        final as (
            select
                case_manager_id,
                current,
                exited,
                case
                    when current > $high then 'more than ' || $high
                    when current >= $low then $low || ' to ' || $high
                    else 'fewer than ' || $low
                end as guidance,
            from caseloads
        )
        select * from final order by case_manager_id
        """,
        params={"site_id": site_id, "as_of": as_of, "low": GUIDANCE_LOW, "high": GUIDANCE_HIGH},
    ).pl()


def caseload(
    con: duckdb.DuckDBPyConnection,
    site_id: str,
    case_manager_id: str,
    as_of: date,
    include_exited: bool = False,
) -> pl.DataFrame:
    """One case manager's participants with their latest statuses and the outreach prompts.

    Latest housing and employment: the newest assessment on or before the as-of date, however old
    (its date and the days since it say how old). Current treatment: the episode started most
    recently among those open on the as-of date (no end date, or ending on or after it);
    current_episodes counts them. Flags: housing_check_due (no housing assessment in the
    90 days up to the as-of date, or none at all), unsheltered (the latest housing status),
    recent_arrest (an arrest dated in the 30 days up to the as-of date), exited (an exit date on
    or before the as-of date). Columns: CASELOAD_COLUMNS, one row per participant.
    """
    return con.sql(
        """
        with
        caseload as (
            select participant_id, referral_date, referral_type, exit_date
            from participants
            where site_id = $site_id
              and case_manager_id = $case_manager_id
              and ($include_exited or exit_date is null or exit_date > $as_of)
        ),
        latest_housing as (
            select
                h.participant_id,
                h.living_situation,
                coalesce(ls.category, 'unknown') as housing_category,
                h.assessed_on as housing_assessed_on,
            from housing as h
            left join living_situations as ls on ls.living_situation = h.living_situation
            where h.site_id = $site_id
              and h.participant_id in (select participant_id from caseload)
              and h.assessed_on <= $as_of
            qualify row_number() over (partition by h.participant_id order by h.assessed_on desc) = 1
        ),
        current_treatment as (
            select
                participant_id,
                service_type as treatment_service,
                start_date as treatment_start,
                count(*) over (partition by participant_id) as current_episodes,
            from treatment
            where site_id = $site_id
              and participant_id in (select participant_id from caseload)
              and start_date <= $as_of
              and (end_date is null or end_date >= $as_of)
            qualify row_number() over (
                partition by participant_id order by start_date desc, episode_id desc
            ) = 1
        ),
        latest_employment as (
            select
                participant_id,
                employment_status,
                has_income,
                assessed_on as employment_assessed_on,
            from employment
            where site_id = $site_id
              and participant_id in (select participant_id from caseload)
              and assessed_on <= $as_of
            qualify row_number() over (partition by participant_id order by assessed_on desc) = 1
        ),
        arrests as (
            select participant_id, max(event_date) as last_arrest
            from justice
            where site_id = $site_id
              and participant_id in (select participant_id from caseload)
              and event_type = 'arrest'
              and event_date <= $as_of
            group by participant_id
        ),
        joined as (
            select
                c.*,
                h.living_situation,
                h.housing_category,
                h.housing_assessed_on,
                datediff('day', h.housing_assessed_on, $as_of) as days_since_housing,
                t.treatment_service,
                t.treatment_start,
                coalesce(t.current_episodes, 0) as current_episodes,
                e.employment_status,
                e.has_income,
                e.employment_assessed_on,
                datediff('day', e.employment_assessed_on, $as_of) as days_since_employment,
                a.last_arrest,
            from caseload as c
            left join latest_housing as h on h.participant_id = c.participant_id
            left join current_treatment as t on t.participant_id = c.participant_id
            left join latest_employment as e on e.participant_id = c.participant_id
            left join arrests as a on a.participant_id = c.participant_id
        ),
        final as (
            select
                participant_id,
                coalesce(days_since_housing > $housing_due_days, true) as housing_check_due,
                coalesce(living_situation = 'unsheltered', false) as unsheltered,
                coalesce(last_arrest >= $as_of::date - $recent_arrest_days::integer, false) as recent_arrest,
                coalesce(exit_date <= $as_of, false) as exited,
                referral_date,
                referral_type,
                living_situation,
                housing_category,
                housing_assessed_on,
                days_since_housing,
                treatment_service,
                treatment_start,
                current_episodes,
                employment_status,
                has_income,
                employment_assessed_on,
                days_since_employment,
                last_arrest,
                exit_date,
            from joined
        )
        select * from final order by participant_id
        """,
        params={
            "site_id": site_id,
            "case_manager_id": case_manager_id,
            "as_of": as_of,
            "include_exited": include_exited,
            "housing_due_days": HOUSING_DUE_DAYS,
            "recent_arrest_days": RECENT_ARREST_DAYS,
        },
    ).pl()


def timeline(
    con: duckdb.DuckDBPyConnection, site_id: str, case_manager_id: str, participant_id: str
) -> pl.DataFrame:
    """One participant's records in date order: referral, housing and employment assessments,
    treatment episodes, justice events and exit. Empty unless the participant is on this case
    manager's caseload at this site.

    Columns: event ('referral', 'housing', 'treatment', 'employment', 'justice', 'exit'), date,
    end_date (treatment only; null while open), detail (living situation, service type,
    employment status, event type, referral type or exit reason), category (housing category,
    discharge reason, has_income, level).
    """
    return con.sql(
        """
        with
        person as (
            select participant_id, referral_date, referral_type, exit_date, exit_reason
            from participants
            where site_id = $site_id
              and case_manager_id = $case_manager_id
              and participant_id = $participant_id
        ),
        referral as (
            select 'referral' as event, referral_date as date, null::date as end_date,
                referral_type as detail, null::varchar as category, 0 as lane
            from person
        ),
        housing_events as (
            select 'housing', h.assessed_on, null::date, h.living_situation,
                coalesce(ls.category, 'unknown'), 1
            from housing as h
            join person as p on p.participant_id = h.participant_id
            left join living_situations as ls on ls.living_situation = h.living_situation
            where h.site_id = $site_id
        ),
        treatment_events as (
            select 'treatment', t.start_date, t.end_date, t.service_type, t.discharge_reason, 2
            from treatment as t
            join person as p on p.participant_id = t.participant_id
            where t.site_id = $site_id
        ),
        employment_events as (
            select 'employment', e.assessed_on, null::date, e.employment_status, e.has_income, 3
            from employment as e
            join person as p on p.participant_id = e.participant_id
            where e.site_id = $site_id
        ),
        justice_events as (
            select 'justice', j.event_date, null::date, j.event_type, j.level, 4
            from justice as j
            join person as p on p.participant_id = j.participant_id
            where j.site_id = $site_id
        ),
        exit as (
            select 'exit', exit_date, null::date, exit_reason, null::varchar, 5
            from person
            where exit_date is not null
        ),
        final as (
            select * from referral
            union all select * from housing_events
            union all select * from treatment_events
            union all select * from employment_events
            union all select * from justice_events
            union all select * from exit
        )
        select event, date, end_date, detail, category
        from final
        order by date, lane, detail
        """,
        params={"site_id": site_id, "case_manager_id": case_manager_id, "participant_id": participant_id},
    ).pl()


def tracks_problems(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the release has the `problems` table (releases built before tracking do not)."""
    rows = con.sql(
        "select count(*) from information_schema.tables where table_name = $name", params={"name": "problems"}
    ).fetchall()
    return rows[0][0] > 0


def caseload_problems(con: duckdb.DuckDBPyConnection, site_id: str, case_manager_id: str) -> pl.DataFrame:
    """The open data problems in this case manager's participants' records, oldest first.

    Columns PROBLEM_COLUMNS; age_days counts from the as-of date of the run that first saw it.
    """
    return con.sql(
        """
        select participant_id, table_name, row_number, column_name, value, message, fix,
            age_days, first_seen, file
        from problems
        where site_id = $site_id
          and case_manager_id = $case_manager_id
          and status = 'open'
        order by age_days desc nulls last, table_name, file, row_number, column_name
        """,
        params={"site_id": site_id, "case_manager_id": case_manager_id},
    ).pl()


def unassigned_problems(con: duckdb.DuckDBPyConnection, site_id: str) -> pl.DataFrame:
    """The site's open data problems that no case manager can be found for, oldest first.

    Columns PROBLEM_COLUMNS: e.g. a participant row without a case manager, a record of an
    unknown participant, or a row too broken to read its participant_id.
    """
    return con.sql(
        """
        select participant_id, table_name, row_number, column_name, value, message, fix,
            age_days, first_seen, file
        from problems
        where site_id = $site_id
          and case_manager_id is null
          and status = 'open'
        order by age_days desc nulls last, table_name, file, row_number, column_name
        """,
        params={"site_id": site_id},
    ).pl()


# --- filters ------------------------------------------------------------------------------


def filter_caseload(table: pl.DataFrame, flags: Sequence[str] = (), search: str = "") -> pl.DataFrame:
    """The rows with any of the chosen flags (all rows when none is chosen) whose participant_id
    holds the search text (ignoring case and surrounding spaces)."""
    unknown = set(flags) - set(FLAGS)
    if unknown:
        raise ValueError(f"unknown flags: {sorted(unknown)}")
    if flags:
        table = table.filter(pl.any_horizontal(pl.col(flag) for flag in flags))
    text = search.strip().lower()
    if text:
        table = table.filter(pl.col("participant_id").str.to_lowercase().str.contains(text, literal=True))
    return table


def problem_counts(table: pl.DataFrame, problems: pl.DataFrame) -> pl.DataFrame:
    """The caseload table with open_problems: each participant's open data problems (0 if none)."""
    counts = problems.group_by("participant_id").agg(pl.len().cast(pl.Int64).alias("open_problems"))
    return table.join(counts, on="participant_id", how="left", maintain_order="left").with_columns(
        pl.col("open_problems").fill_null(0)
    )


def flag_counts(table: pl.DataFrame) -> dict[str, int]:
    """How many rows carry each flag."""
    return {flag: int(table[flag].sum()) for flag in FLAGS}


# --- charts -------------------------------------------------------------------------------


def timeline_table(events: pl.DataFrame) -> pl.DataFrame:
    """The timeline's events as the table under the chart shows them, in words."""
    what = {
        "referral": "Referral",
        "housing": "Housing assessment",
        "treatment": "Treatment episode",
        "employment": "Employment assessment",
        "justice": "Justice record",
        "exit": "Exit",
    }
    note = (
        pl.when(pl.col("event") == "housing")
        .then(pl.lit("category: ") + pl.col("category"))
        .when(pl.col("event") == "treatment")
        .then(
            pl.when(pl.col("end_date").is_null())
            .then(pl.lit("open"))
            .otherwise(pl.lit("discharge: ") + pl.col("category").fill_null("not given"))
        )
        .when(pl.col("event") == "employment")
        .then(pl.lit("income or benefits: ") + pl.col("category").fill_null("not given"))
        .when(pl.col("event") == "justice")
        .then(pl.lit("level: ") + pl.col("category").fill_null("not given"))
        .otherwise(pl.lit(""))
    )
    return events.select(
        "date",
        "end_date",
        pl.col("event").replace_strict(what, default=pl.col("event")).alias("record"),
        pl.col("detail").str.replace_all("_", " ").fill_null(""),
        note.str.replace_all("_", " ").alias("note"),
    )


def _vertical_line(figure: go.Figure, day: date, text: str, dash: str) -> None:
    """A labelled vertical line across the whole plot (shape + annotation: date-safe)."""
    figure.add_shape(
        type="line",
        x0=day,
        x1=day,
        xref="x",
        y0=0,
        y1=1,
        yref="paper",
        line={"color": "#555555", "width": 1, "dash": dash},
    )
    figure.add_annotation(
        x=day, y=1, xref="x", yref="paper", text=text, showarrow=False, yanchor="bottom", font={"size": 11}
    )


def timeline_chart(events: pl.DataFrame, as_of: date) -> go.Figure:
    """A participant's records over time, one lane per kind: housing assessments coloured by
    category, treatment episodes as bars from start to end (or the as-of date while open),
    employment assessments and justice records as markers; referral, exit and the as-of date as
    vertical lines.

    `events` has the columns of `timeline`.
    """
    figure = go.Figure()
    housing = events.filter(pl.col("event") == "housing")
    for category in HOUSING_CATEGORIES:
        rows = housing.filter(pl.col("category") == category)
        if rows.is_empty():
            continue
        figure.add_trace(
            go.Scatter(
                x=rows["date"].to_list(),
                y=["Housing"] * rows.height,
                mode="markers",
                name=f"Housing: {category}",
                legendgroup="housing",
                marker={"color": HOUSING_COLOURS[category], "size": 12, "symbol": "circle"},
                customdata=[[label(v)] for v in rows["detail"].to_list()],
                hovertemplate="%{x|%Y-%m-%d}<br>%{customdata[0]}<br>" + category + "<extra></extra>",
            )
        )
    treatment = events.filter(pl.col("event") == "treatment")
    if not treatment.is_empty():
        starts = treatment["date"].to_list()
        ends = [end or as_of for end in treatment["end_date"].to_list()]
        # A bar on a date axis: base at the start, length in milliseconds (at least a day, to be seen).
        lengths = [max((end - start).days, 1) * 86_400_000 for start, end in zip(starts, ends, strict=True)]
        lanes = [f"Treatment: {label(service)}" for service in treatment["detail"].to_list()]
        open_flags = ["open" if end is None else "ended" for end in treatment["end_date"].to_list()]
        figure.add_trace(
            go.Bar(
                base=starts,
                x=lengths,
                y=lanes,
                orientation="h",
                name="Treatment episode",
                marker={"color": TREATMENT_COLOUR, "opacity": 0.75},
                width=0.5,
                customdata=list(zip(starts, ends, open_flags, strict=True)),
                hovertemplate="%{y}<br>%{customdata[0]|%Y-%m-%d} to %{customdata[1]|%Y-%m-%d}"
                " (%{customdata[2]})<extra></extra>",
            )
        )
    employment = events.filter(pl.col("event") == "employment")
    if not employment.is_empty():
        figure.add_trace(
            go.Scatter(
                x=employment["date"].to_list(),
                y=["Employment"] * employment.height,
                mode="markers",
                name="Employment assessment",
                marker={"color": EMPLOYMENT_COLOUR, "size": 11, "symbol": "diamond"},
                customdata=[
                    [label(status), label(income)]
                    for status, income in employment.select("detail", "category").rows()
                ],
                hovertemplate="%{x|%Y-%m-%d}<br>%{customdata[0]}<br>income or benefits: %{customdata[1]}"
                "<extra></extra>",
            )
        )
    justice = events.filter(pl.col("event") == "justice")
    for event_type in EVENT_TYPES:
        rows = justice.filter(pl.col("detail") == event_type)
        if rows.is_empty():
            continue
        figure.add_trace(
            go.Scatter(
                x=rows["date"].to_list(),
                y=["Justice record"] * rows.height,
                mode="markers",
                name=f"Justice: {event_type}",
                marker={"color": JUSTICE_COLOUR, "size": 11, "symbol": JUSTICE_SYMBOLS[event_type]},
                customdata=[[label(level)] for level in rows["category"].to_list()],
                hovertemplate="%{x|%Y-%m-%d}<br>" + event_type + " (%{customdata[0]})<extra></extra>",
            )
        )
    for event, text, dash in (("referral", "Referral", "dash"), ("exit", "Exit", "dash")):
        for day in events.filter(pl.col("event") == event)["date"].to_list():
            _vertical_line(figure, day, text, dash)
    _vertical_line(figure, as_of, "As of", "dot")
    # A lane per service type, so that overlapping episodes do not hide each other.
    services = sorted(set(f"Treatment: {label(s)}" for s in treatment["detail"].to_list()))
    lanes = ["Housing", *(services or ["Treatment"])]
    lanes += ["Employment", "Justice record"]
    first = events["date"].min() if not events.is_empty() else as_of
    figure.update_layout(
        colorway=list(OKABE_ITO),
        font={"family": FONT_FAMILY},
        barmode="overlay",
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=260 + 28 * len(lanes),
    )
    figure.update_xaxes(
        title_text="Date",
        type="date",
        range=[first - timedelta(days=20), as_of + timedelta(days=20)],
        hoverformat="%Y-%m-%d",
    )
    # Top to bottom in the order of `lanes`; every lane shows, even one without records.
    figure.update_yaxes(
        title_text="Record", type="category", categoryorder="array", categoryarray=lanes[::-1]
    )
    figure.add_trace(
        go.Scatter(x=[None] * len(lanes), y=lanes, mode="markers", showlegend=False, hoverinfo="skip")
    )
    return figure


def caseload_chart(sizes: pl.DataFrame, selected: str | None = None) -> go.Figure:
    """Current participants per case manager, against the guidance: the 12-to-25 band shaded, a
    line at 25, and caseloads over 25 in a colour of their own; the selected case manager's bar
    outlined.

    `sizes` has the columns of `caseload_sizes`.
    """
    over = sizes["current"] > GUIDANCE_HIGH
    figure = go.Figure()
    for name, mask, colour in (
        (f"Up to {GUIDANCE_HIGH}", ~over, WITHIN_COLOUR),
        (f"More than {GUIDANCE_HIGH}", over, OVER_COLOUR),
    ):
        rows = sizes.filter(mask)
        if rows.is_empty():
            continue
        ids = rows["case_manager_id"].to_list()
        figure.add_trace(
            go.Bar(
                # Plotly reads tags in labels: a case manager ID from an export is escaped, shown as itself.
                x=[html.escape(cm) for cm in ids],
                y=rows["current"].to_list(),
                name=name,
                marker={
                    "color": colour,
                    "line": {
                        "color": "#000000",
                        "width": [3 if cm == selected else 0 for cm in ids],
                    },
                },
                hovertemplate="%{x}<br>%{y} current participants<extra></extra>",
            )
        )
    figure.add_hrect(
        y0=GUIDANCE_LOW, y1=GUIDANCE_HIGH, fillcolor=OKABE_ITO[2], opacity=0.12, line_width=0, layer="below"
    )
    figure.add_hline(
        y=GUIDANCE_HIGH,
        line={"color": "#000000", "width": 1.5, "dash": "dash"},
        annotation_text=f"Guidance: {GUIDANCE_LOW} to {GUIDANCE_HIGH}",
        annotation_position="top right",
    )
    top = max([GUIDANCE_HIGH, *sizes["current"].to_list()])
    figure.update_layout(
        colorway=list(OKABE_ITO),
        font={"family": FONT_FAMILY},
        barmode="overlay",
        showlegend=True,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=360,
    )
    figure.update_xaxes(
        title_text="Case manager",
        type="category",
        categoryorder="array",
        categoryarray=sizes["case_manager_id"].to_list(),
    )
    figure.update_yaxes(title_text="Current participants", rangemode="tozero", range=[0, top * 1.15])
    return figure
