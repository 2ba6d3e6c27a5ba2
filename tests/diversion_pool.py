"""An eligible pool built by hand for the Equity page's section on who is diverted
(tests/dashboard/test_diversion.py and test_diversion_page.py): every number is known by
construction.

As of 2024-06-15. Sites a and b send a comparison group; c does not. (people: count)

| site | year | group      | race              | gender     | born | people |
|------|------|------------|-------------------|------------|------|--------|
| a    | 2023 | LEAD       | white             | man        | 1990 | 6      |
| a    | 2023 | LEAD       | white             | woman      | 1980 | 4      |
| a    | 2023 | comparison | white             | man        | 1990 | 20     |
| a    | 2023 | comparison | white             | woman      | 2000 | 10     |
| a    | 2023 | LEAD       | black             | man        | 1990 | 12     |
| a    | 2023 | LEAD       | black             | woman      | 2000 | 8      |
| a    | 2023 | comparison | black             | man        | 1980 | 15     |
| a    | 2023 | comparison | black             | non-binary | 1960 | 5      |
| a    | 2023 | LEAD       | asian             | woman      | 1980 | 1      |
| a    | 2023 | comparison | asian             | man        | 1990 | 2      |
| a    | 2023 | LEAD       | black;white       | man        | 2000 | 1      |
| a    | 2023 | comparison | white;black       | woman      | 1990 | 1      |
| a    | 2023 | comparison | unknown           | unknown    | 1980 | 1      |
| a    | 2024 | LEAD       | white             | man        | 1990 | 2      |
| a    | 2024 | comparison | white             | woman      | 1990 | 3      |
| a    | 2021 | LEAD       | black             | man        | 1990 | 2      | (a's comparison has no 2021)
| b    | 2023 | LEAD       | black             | man        | 1990 | 5      |
| b    | 2023 | comparison | white             | man        | 1990 | 5      |
| c    | 2023 | LEAD       | white             | man        | 1990 | 4      | (c: no comparison group)

The pool (a 2023 and 2024, b 2023), referred of eligible: White 12 of 50 (LEAD 6+4+2, comparison
20+10+3+5), Black 25 of 45 (12+8+5; 15+5), Asian 1 of 3, multiracial 1 of 2, unknown 0 of 1:
39 of 101 referred.
"""

from __future__ import annotations

from pathlib import Path

from dashboard.queries.diversion import COMPARISON, LEAD
from pipelines.core.settings import Home
from tests.conftest import drop, run

AS_OF = "2024-06-15"
COMPARISON_HEADER = (
    "comparison_id,index_date,index_offense,birth_year,gender,race_ethnicity,not_referred_reason"
)
# (site, index date, group, race_ethnicity, gender, birth year, people): the table above.
PEOPLE = [
    ("a", "2023-03-15", LEAD, "white", "man", 1990, 6),
    ("a", "2023-03-15", LEAD, "white", "woman", 1980, 4),
    ("a", "2023-04-01", COMPARISON, "white", "man", 1990, 20),
    ("a", "2023-04-01", COMPARISON, "white", "woman", 2000, 10),
    ("a", "2023-05-10", LEAD, "black", "man", 1990, 12),
    ("a", "2023-05-10", LEAD, "black", "woman", 2000, 8),
    ("a", "2023-06-01", COMPARISON, "black", "man", 1980, 15),
    ("a", "2023-06-01", COMPARISON, "black", "non_binary", 1960, 5),
    ("a", "2023-07-01", LEAD, "asian", "woman", 1980, 1),
    ("a", "2023-07-01", COMPARISON, "asian", "man", 1990, 2),
    ("a", "2023-08-01", LEAD, "black;white", "man", 2000, 1),
    ("a", "2023-08-01", COMPARISON, "white;black", "woman", 1990, 1),
    ("a", "2023-09-01", COMPARISON, "unknown", "unknown", 1980, 1),
    ("a", "2024-02-01", LEAD, "white", "man", 1990, 2),
    ("a", "2024-02-01", COMPARISON, "white", "woman", 1990, 3),
    ("a", "2021-06-01", LEAD, "black", "man", 1990, 2),
    ("b", "2023-03-01", LEAD, "black", "man", 1990, 5),
    ("b", "2023-03-01", COMPARISON, "white", "man", 1990, 5),
    ("c", "2023-03-01", LEAD, "white", "man", 1990, 4),
]
# race -> (referred, eligible) in the whole pool, counted by hand from the table.
RATES = {"white": (12, 50), "black": (25, 45), "asian": (1, 3), "multiracial": (1, 2), "unknown": (0, 1)}
ORDER = ["asian", "black", "white", "multiracial", "unknown"]  # the contract's order


def write(home: Home, people: list[tuple]) -> None:
    """Each site's participants and comparison exports, one row per person of `people`."""
    rows: dict[tuple[str, str], list[str]] = {}
    for number, (site, day, group, races, gender, born, count) in enumerate(people):
        for k in range(count):
            pid = f"{group[0].upper()}{number}x{k}"
            if group == LEAD:
                line = f"{pid},CM1,{day},social_contact,,,,,{born},{gender},{races}"
            else:
                line = f"{pid},{day},,{born},{gender},{races},not_eligible_shift"
            rows.setdefault((site, group), []).append(line)
    for (site, group), lines in rows.items():
        if group == LEAD:
            drop(home, site, "participants", lines)
        else:
            drop(home, site, "comparison", lines, header=COMPARISON_HEADER)


def publish(root: Path, *, comparison: bool = True) -> Home:
    """A home at `root` with the table's release published; without `comparison`, the same
    participants and no site sends a comparison group."""
    home = Home(root)
    write(home, PEOPLE if comparison else [row for row in PEOPLE if row[2] == LEAD])
    result = run(home, AS_OF)
    assert result.published, result.error
    assert result.totals()["rows_quarantined"] == 0
    return home
