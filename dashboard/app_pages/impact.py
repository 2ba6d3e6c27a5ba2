"""Impact: LEAD participants against comparable people who were eligible but not referred, weighted
to resemble them. The findings in plain words first, then each measure, why the comparison group
matters, time to a first arrest, balance, subgroups and justice costs; the method in an expander."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import access, cache
from dashboard.charts.impact import (
    costs_chart,
    design_chart,
    forest_chart,
    love_plot,
    subgroup_chart,
    survival_chart,
)
from dashboard.formatting import md_text
from dashboard.impact_findings import balance_warning, costs_sentence, headline
from dashboard.page import release_page, show_chart
from dashboard.queries import impact
from dashboard.queries.impact import (
    SHORT,
    balance_view,
    costs_view,
    curves_view,
    default_window,
    design_view,
    effects_view,
    subgroup_estimates,
    subgroups_view,
    survival_view,
    too_few,
)
from dashboard.queries.release import Release
from dashboard.scope import scope_of
from dashboard.sections.impact_method import method_text
from pipelines.core.settings import resolve_home
from pipelines.evaluate.costs import Costs, CostsError, costs_file, read_costs
from pipelines.evaluate.design import ImpactSites
from pipelines.evaluate.impact import Impact, WindowImpact
from pipelines.evaluate.measures import MIN_SUBGROUP, SUBGROUP_MEASURES

PAGE = "impact"
ESTIMATING = "Weighting the comparison group and estimating the effects (a few seconds)…"
OLD_RELEASE = (
    "This release was built by an older version, without the comparison group's tables this page "
    "needs. Run `outcomes nightly` to rebuild it."
)
NO_COMPARISON = """
No site sends a comparison group yet, so there is no one to compare the participants with. This
page compares LEAD participants with similar people who were eligible but not referred. To get it,
a site sends, beside its participants and their justice records, two more exports:

- `comparison`: the people eligible for LEAD who were not referred, one row each: a pseudonymous
  ID, the index date (the eligible police contact or arrest), the index offense, birth year, gender,
  race and ethnicity, and why they were not referred;
- `comparison_justice`: their arrests, bookings and charges, with the same columns as the justice
  export (release dates included, so that days in jail can be counted).

Their columns and empty templates are on the Data contract page. The next nightly run takes them.
"""
ILLUSTRATIVE = (
    "**Illustrative figures, not real costs.** The unit costs in this home's costs.toml are examples "
    "(the demo's): replace them with your jurisdiction's before showing these numbers to anyone."
)
RATIOS = "Ratios below 1 favour the program: fewer arrests, bookings, jail days or charges for participants."
COUNT = {"format": "localized"}


def effects_config(months: int) -> dict[str, object]:
    return {
        "measure": st.column_config.TextColumn("Measure", width="large"),
        "ratio_kind": st.column_config.TextColumn("Ratio"),
        "ratio": st.column_config.TextColumn("Estimate (95% CI)"),
        "lead_text": st.column_config.TextColumn(
            "Participants", help=f"Their share or rate (per person-year) in the {months} months after"
        ),
        "comparison_text": st.column_config.TextColumn(
            "Comparison group (weighted)",
            help=f"Its share or rate (per person-year) in the {months} months after",
        ),
        "numerator": st.column_config.TextColumn("Numerator", width="medium"),
        "denominator": st.column_config.TextColumn("Denominator", width="medium"),
        "note": st.column_config.TextColumn("Note"),
    }


def design_config() -> dict[str, object]:
    return {
        "measure": st.column_config.TextColumn("Measure", width="large"),
        "design": st.column_config.TextColumn("Compared how"),
        "ratio": st.column_config.TextColumn("Ratio (95% CI)"),
        "lead": st.column_config.TextColumn("Participants, after", help="A share, or a rate per person-year"),
        "against": st.column_config.TextColumn("Against", help="The same, of the group compared with"),
        "against_what": st.column_config.TextColumn("Against whom", width="medium"),
    }


def survival_config() -> dict[str, object]:
    percent = {"format": "%.1f%%"}
    return {
        "month": st.column_config.NumberColumn("Months after", pinned=True),
        "lead": st.column_config.NumberColumn("Participants: not yet arrested", **percent),
        "lead_at_risk": st.column_config.NumberColumn("Participants at risk", **COUNT),
        "comparison_weighted": st.column_config.NumberColumn(
            "Comparison (weighted): not yet arrested", **percent
        ),
        "comparison_unweighted": st.column_config.NumberColumn(
            "Comparison (unweighted): not yet arrested", **percent
        ),
        "comparison_at_risk": st.column_config.NumberColumn("Comparison people at risk", **COUNT),
    }


def balance_config() -> dict[str, object]:
    smd = {"format": "%+.3f"}
    return {
        "covariate": st.column_config.TextColumn("Covariate", pinned=True, width="medium"),
        "mean_lead": st.column_config.NumberColumn(
            "Participants", help="Mean (a category: share in it)", format="%.3f"
        ),
        "mean_comparison": st.column_config.NumberColumn(
            "Comparison", help="Mean, unweighted", format="%.3f"
        ),
        "mean_comparison_weighted": st.column_config.NumberColumn("Comparison (weighted)", format="%.3f"),
        "smd_unweighted": st.column_config.NumberColumn(
            "Difference before weighting", help="Standardised", **smd
        ),
        "smd_weighted": st.column_config.NumberColumn(
            "Difference after weighting", help="Standardised", **smd
        ),
        "flag": st.column_config.TextColumn("Balance"),
    }


def subgroups_config() -> dict[str, object]:
    config: dict[str, object] = {
        "subgroup": st.column_config.TextColumn("Subgroup", pinned=True),
        "n_lead": st.column_config.NumberColumn("Participants", **COUNT),
        "n_comparison": st.column_config.NumberColumn("Comparison people", **COUNT),
    }
    for m in SUBGROUP_MEASURES:
        config[m.code] = st.column_config.TextColumn(
            f"{SHORT[m.code]} (95% CI)", help=f"{m.label}: {m.ratio.lower()}"
        )
    return config


def costs_config(currency: str) -> dict[str, object]:
    money = {"format": "%,.0f"}
    return {
        "what": st.column_config.TextColumn("Per person-year", width="large"),
        "amount": st.column_config.NumberColumn(currency, **money),
        "interval": st.column_config.TextColumn("95% CI", help="Of the difference"),
    }


def table(frame: pl.DataFrame, config: dict[str, object], key: str) -> None:
    """A table of the page: its configured columns, an empty cell blank (never "None")."""
    shown = frame.select(list(config))
    st.dataframe(shown, width="stretch", hide_index=True, column_config=config, placeholder="", key=key)


def chart(figure: object, key: str) -> None:
    show_chart(figure, key=key)


def unit_costs() -> tuple[Costs | None, str | None]:
    """The home's unit costs, or why its costs.toml cannot be used."""
    try:
        return read_costs(costs_file(resolve_home())), None
    except CostsError as error:
        return None, str(error)


def sites_caption(sites: ImpactSites) -> str:
    def names(ids: tuple[str, ...] | list[str]) -> str:
        return ", ".join(md_text(i) for i in ids)

    text = f"Sites compared: {names(sites.used) or 'none'}."
    if sites.left_out:
        text += " Left out: " + "; ".join(f"{md_text(s)} ({why})" for s, why in sites.left_out) + "."
    for who, reported in (
        ("participants'", sites.custody_reported),
        ("comparison group's", sites.comparison_custody_reported),
    ):
        silent = [s for s in sites.used if s not in reported]
        if silent:
            text += (
                f" At {names(silent)} the {who} bookings carry no release dates: no days in jail are counted "
                "for them, and every day alive counts as at risk."
            )
    return text


def show_release(path: Path, release: Release) -> None:
    """The impact evaluation of one release file."""
    scope = scope_of(access.viewer())
    if cache.fetch(path, impact.missing_tables, scope):
        access.audit("page_view", PAGE, rows=0)
        st.info(OLD_RELEASE, icon=":material/info:")
        return
    costs, costs_problem = unit_costs()
    with st.spinner(ESTIMATING):
        result = cache.fetch(path, impact.impact_estimates, scope, release.as_of, costs)
    if result is None:
        access.audit("page_view", PAGE, rows=0)
        st.info(NO_COMPARISON, icon=":material/info:")
        st.page_link("app_pages/contract.py", label="Data contract", icon=":material/description:")
        return
    found = st.container()
    lengths = sorted(result.windows)
    months = st.radio(
        "Months after referral",
        lengths,
        index=lengths.index(default_window(result)),
        format_func=lambda m: f"{m} months",
        horizontal=True,
        key="impact-months",
    )
    show_window(result, result.windows[months], costs_problem, found)


def show_window(
    result: Impact, window: WindowImpact, costs_problem: str | None, found: DeltaGenerator
) -> None:
    """The chosen window, its findings in the place kept for them above the choice of window: the
    choices laid out and the audit entry written before any number is shown."""
    months = window.months
    subgroup_measure = None
    if window.problem is None:
        numbers = st.container()
        st.subheader("Subgroups")
        subgroup_measure = st.selectbox(
            "Measure",
            [m.code for m in SUBGROUP_MEASURES],
            format_func=lambda c: next(m.label for m in SUBGROUP_MEASURES if m.code == c),
            key="impact-subgroup-measure",
        )
        rest = st.container()
    effects = effects_view(window)
    balance = balance_view(window)
    access.audit(
        "page_view",
        PAGE,
        filters={"months": months, "subgroup_measure": subgroup_measure},
        rows=effects.height + balance.height + window.subgroups.height,
    )
    with found:
        if window.problem is not None:
            st.warning(window.problem, icon=":material/warning:")
        else:
            show_findings(window)
    if window.problem is None:
        with numbers:
            show_measures(window, effects)
            show_survival(result)
            show_balance(window, balance)
        with rest:
            show_subgroups(window, subgroup_measure)
            show_costs(window, costs_problem)
    else:
        show_survival(result)
    st.caption(sites_caption(result.sites))
    with st.expander("How this is calculated"):
        st.markdown(method_text(result, window))


def show_findings(window: WindowImpact) -> None:
    """The headline sentences, who is compared, and the balance warning."""
    (first, *others) = window.effects.items()
    st.markdown(f"**{headline(first[0], first[1].estimate, window.months)}**")
    st.markdown(f"In the same {window.months} months:")
    st.markdown(
        "\n".join(f"- {headline(code, e.estimate, window.months, opening=False)}" for code, e in others)
    )
    effective = (
        f" (weighted, the comparison group counts as {window.propensity.effective_comparison:,.0f} people)"
        if window.propensity is not None
        else ""
    )
    st.caption(
        f"Compared: {window.n_lead:,} participants and {window.n_comparison:,} comparison people followed "
        f"{window.months} months after their index date{effective}. {RATIOS}"
    )
    warning = balance_warning(window.balance)
    if warning:
        st.warning(warning, icon=":material/warning:")


def show_measures(window: WindowImpact, effects: pl.DataFrame) -> None:
    months = window.months
    st.subheader("Every measure")
    chart(forest_chart(effects, months), "impact-forest")
    table(effects, effects_config(months), "impact-effects")
    st.caption(
        "Each ratio compares the participants with the comparison group weighted to resemble them. "
        "Participants and comparison group: a share in percent, or a rate per person-year. " + RATIOS
    )
    st.subheader("Why the comparison group matters")
    design = design_view(window)
    chart(design_chart(design), "impact-design")
    table(design, design_config(), "impact-design-table")
    st.caption(
        "The same ratio three ways. Participants after against before compares people with themselves: "
        "people are often referred after a run of arrests, and the drop that follows is partly a return "
        "to their usual level. Against the comparison group unweighted compares them with people who "
        "differed before the index date (fewer prior arrests, for one). Weighted, the comparison group "
        "resembles the participants on every covariate measured: that is the estimate."
    )


def show_survival(result: Impact) -> None:
    first = result.first_arrest
    st.subheader("Time to a first arrest")
    if first.problem:
        st.info(first.problem, icon=":material/info:")
    if first.curves.is_empty():
        return
    chart(survival_chart(curves_view(first), first.months), "impact-survival")
    table(survival_view(first), survival_config(), "impact-at-risk")
    st.caption(
        f"The share not yet arrested after the index date: {first.n_lead:,} participants and "
        f"{first.n_comparison:,} comparison people followed at least a day (Kaplan-Meier). At risk: "
        "people still followed and not yet arrested at that month (unweighted)."
    )


def show_balance(window: WindowImpact, balance: pl.DataFrame) -> None:
    st.subheader("Are the groups alike? Balance")
    chart(love_plot(balance), "impact-love")
    table(balance, balance_config(), "impact-balance")
    notes = " ".join(
        [window.propensity.sentence() if window.propensity else "", *(p.sentence() for p in window.pooled)]
    )
    st.caption(
        "The difference between the groups' means of each covariate in standard deviations (standardised "
        "mean difference), before weighting (hollow) and after (filled); within the dashed lines (0.1 "
        f"either way) the groups are alike on it. {notes}"
    )


def show_subgroups(window: WindowImpact, measure: str) -> None:
    label = next(m.label for m in SUBGROUP_MEASURES if m.code == measure)
    estimates = subgroup_estimates(window, measure)
    if not estimates.is_empty():
        chart(subgroup_chart(estimates, label), "impact-subgroups")
    view = subgroups_view(window)
    if not view.is_empty():
        table(view, subgroups_config(), "impact-subgroups-table")
    few = too_few(window)
    text = (
        f"By referral type and by race, with the window's weights, where both groups have at least "
        f"{MIN_SUBGROUP} people."
    )
    if few:
        text += f" Too few people to estimate (fewer than {MIN_SUBGROUP} in a group): {'; '.join(few)}."
    st.caption(text)


def show_costs(window: WindowImpact, costs_problem: str | None) -> None:
    st.subheader("Justice costs")
    if costs_problem:
        st.warning(f"The unit costs cannot be used: {md_text(costs_problem)}", icon=":material/warning:")
        return
    if window.costs is None:
        st.caption(
            "No unit costs: a costs.toml in the home folder with the cost of a booking, a day in jail, a "
            "felony charge and the program's cost per participant-month adds justice costs beside "
            "the program's."
        )
        return
    if window.costs.illustrative:
        st.warning(ILLUSTRATIVE, icon=":material/warning:")
    st.markdown(costs_sentence(window.costs, window.months))
    view = costs_view(window)
    chart(costs_chart(view, window.costs.currency, window.costs.illustrative), "impact-costs")
    table(view, costs_config(window.costs.currency), "impact-costs-table")
    st.caption(
        "Justice costs: bookings, days in jail and felony charges in the window times their unit costs, over "
        "the person-years alive in it (the comparison group weighted)."
    )


release_page("Impact", show_release)
