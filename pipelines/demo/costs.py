"""The illustrative unit costs `outcomes demo` writes into a home that has no `costs.toml`, so the
Impact page can show cost offsets on demo data. They are not real costs: the file says so in a
comment and in its `illustrative` key, and an existing costs.toml is never overwritten.
"""

from __future__ import annotations

from pathlib import Path

COSTS_FILE = "costs.toml"
ILLUSTRATIVE_COSTS = """\
# Illustrative unit costs written by `outcomes demo`: NOT real costs. Replace them with your
# jurisdiction's figures (or delete this file) before showing cost offsets to anyone.
illustrative = true
currency = "USD"
per_booking = 450.0            # one booking (intake, processing)
per_jail_day = 150.0           # one day in custody
per_felony_charge = 5000.0     # one felony charge (prosecution, defense, court)
program_per_participant_month = 900.0  # the program's cost for one participant for one month
"""


def write_illustrative_costs(root: Path) -> Path | None:
    """Write the illustrative unit costs to <root>/costs.toml unless the home has one already
    (then nothing is touched). Returns the file written, or None."""
    path = Path(root) / COSTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as out:  # "x": never replaces an existing file
            out.write(ILLUSTRATIVE_COSTS)
    except FileExistsError:
        return None
    return path
