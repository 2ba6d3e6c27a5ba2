"""Evaluation: participants' justice outcomes before and after referral (DESIGN s.9, issue 13).

- `windows.py`: the windows around an index date and each person's time at risk in them, in SQL
  (`sql/justice_windows.sql`, a table macro a comparison group can reuse with its own people).
- `estimate.py`: the paired comparison of the windows before and after referral: shares, rates
  per person-year at risk, differences with 95% intervals.
- `report.py`: the estimates as `outcomes evaluate` prints them (JSON, or a short summary).

The dashboard's Before and after page reads the same estimates (dashboard/queries/before_after.py).
"""
