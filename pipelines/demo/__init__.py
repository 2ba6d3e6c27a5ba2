"""Realistic synthetic LEAD exports (DESIGN.md s.4 and s.8) for the demo, tests and benchmarks.

Everything is generated column-wise with numpy and polars (loops only over sites, tables and
assessment slots), so a national-scale inbox of millions of rows takes seconds. The output is
a pure function of the arguments: every random stream is seeded from (seed, purpose, ...).

The package, one concern per module:
- `distributions`: the contract's names and what the generator knows beyond them (how often
  each value occurs, how long things last), checked against the contract at import;
- `people`: sites, referral waves and the participants;
- `outcomes`: housing, employment, treatment and justice records for those participants;
- `faults`: the `--messy` faults real exports have (which file gets which, and row faults);
- `files`: writing clean and messy CSV and XLSX files;
- `marker`: the home's record of what the demo wrote, which demo mode needs (`outcomes serve --demo`).
This module holds the entry point, `write_demo`, and `site_ids`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.demo import faults, files, marker, outcomes
from pipelines.demo.distributions import COLUMNS, EARLIEST_REFERRAL, TABLES, day_number
from pipelines.demo.people import People, draw_participants, site_ids

__all__ = ["site_ids", "write_demo"]


def write_demo(
    inbox: Path,
    *,
    participants: int = 600,
    sites: int = 3,
    months: int = 36,
    seed: int = 7,
    messy: bool = False,
    as_of: date | None = None,
    marker_file: Path | None = None,
) -> dict[str, int]:
    """Write realistic synthetic exports into inbox/<site_id>/<table>.csv; return rows per table.

    With `marker_file` (the home's demo marker), record what was written there: demo mode is
    only served on a home whose exports are all the demo's.
    """
    as_of = as_of or date.today()
    if sites < 1 or months < 1 or participants < sites:
        raise ValueError("need sites >= 1, months >= 1 and at least one participant per site")
    if as_of < EARLIEST_REFERRAL:
        raise ValueError(f"as_of must be on or after {EARLIEST_REFERRAL}")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    tables, people = _generate(participants, sites, months, seed, day_number(as_of))
    ids = site_ids(sites)
    styles = faults.plan_styles(sites) if messy else {}
    written = dict.fromkeys(TABLES, 0)
    paths: list[Path] = []
    inbox = Path(inbox)
    for t_idx, table in enumerate(TABLES):
        df = tables[table]
        bounds = np.searchsorted(df["site"].to_numpy(), np.arange(sites + 1))
        for s in range(sites):
            part = df.slice(int(bounds[s]), int(bounds[s + 1] - bounds[s])).drop("site")
            folder = inbox / ids[s]
            folder.mkdir(parents=True, exist_ok=True)
            if messy:
                rng = np.random.default_rng([seed, 1000 + s, t_idx])
                style = styles.get((s, table), faults.FileStyle())
                text = faults.messy_rows(part, table, s, ids[s], style, rng, as_of, people.max_number[s])
                rows = text.height
                paths.append(files.write_messy(text, table, folder, style, as_of))
            else:
                rows = part.height
                paths.append(files.write_clean(part, table, folder))
            written[table] += rows
    if marker_file is not None:
        marker.record(marker_file, inbox, paths)
    return written


def _generate(
    total: int, n_sites: int, months: int, seed: int, as_of: int
) -> tuple[dict[str, pl.DataFrame], People]:
    """Every table of the demo (participants sorted by site, a `site` column first), and the
    participants' record the outcomes were drawn from."""
    rng = np.random.default_rng([seed, 1])
    roster, people = draw_participants(rng, total, n_sites, months, as_of)
    tables = {
        "participants": roster,
        "housing": outcomes.housing(np.random.default_rng([seed, 2]), people),
        "treatment": outcomes.treatment(np.random.default_rng([seed, 3]), people, as_of),
        "employment": outcomes.employment(np.random.default_rng([seed, 4]), people),
        "justice": outcomes.justice(np.random.default_rng([seed, 5]), people, as_of),
    }
    # Exactly the contract's columns, in its order (a column the contract lost fails here).
    return {t: tables[t].select("site", *COLUMNS[t]) for t in TABLES}, people
