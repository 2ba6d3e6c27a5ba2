"""Evaluation: participants' justice outcomes before and after referral (DESIGN s.9, issue 13), and
against a comparison group of people eligible but not referred (issue 14).

- `windows.py`: the windows around an index date and each person's time at risk in them, in SQL
  (`sql/justice_windows.sql`, a table macro a comparison group can reuse with its own people).
- `estimate.py`: the paired comparison of the windows before and after referral: shares, rates
  per person-year at risk, differences with 95% intervals.
- `report.py`: the estimates as `outcomes evaluate` prints them (JSON, or a short summary).
- The impact evaluation: `impact.py` (the entry point, `impact(con, as_of)`, and what a page
  reads), `design.py` (sites, people and covariates), `weights.py` (propensity, ATT weights,
  balance), `effects.py` and `measures.py` (the weighted estimators and what they estimate),
  `first_arrest.py` (Kaplan-Meier), `costs.py` (costs.toml and cost offsets), `impact_report.py`
  (its JSON and summary).

The dashboard's Before and after page reads the same estimates (dashboard/queries/before_after.py).
"""
