"""Realistic synthetic LEAD exports (DESIGN.md s.4 and s.8) for the demo, tests and benchmarks.

Everything is generated column-wise with numpy and polars (loops only over sites, tables and
assessment slots), so a national-scale inbox of millions of rows takes seconds. The output is
a pure function of the arguments: every random stream is seeded from (seed, purpose, ...).

The package, one concern per module:
- `distributions`: the contract's names and what the generator knows beyond them (how often
  each value occurs, how long things last), checked against the contract at import;
- `people`: sites, referral waves and the participants;
- `outcomes`: housing, employment and treatment records for those participants;
- `justice`: arrests, bookings and charges, one model for the participants and the comparison
  group (latent propensity, a spike before the index date), and the planted program effect;
- `comparison`: the comparison group (eligible, not referred) and its justice records, selected
  on their observed prior arrests, for all sites but the last;
- `faults`: the `--messy` faults real exports have (which file gets which, and row faults);
- `files`: writing clean and messy CSV and XLSX files;
- `marker`: the home's record of what the demo wrote, which demo mode needs (`outcomes serve --demo`).
- `costs`: the illustrative unit costs `outcomes demo` writes into a home without a costs.toml.
This module holds the entry point, `write_demo`, and `site_ids`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.demo import faults, files, justice, marker, outcomes
from pipelines.demo.comparison import comparison_sites, draw_comparison
from pipelines.demo.distributions import (
    COLUMNS,
    COMPARISON_TABLES,
    DEMO_EFFECT,
    EARLIEST_REFERRAL,
    TABLES,
    day_number,
)
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
    effect: float = DEMO_EFFECT,
) -> dict[str, int]:
    """Write realistic synthetic exports into inbox/<site_id>/<table>.csv; return rows per table.

    All sites but the last (the one site when there is one) also send a comparison group
    (`comparison`, `comparison_justice`). `effect` is the program's planted effect: each
    participant's arrest after the referral date is kept with that chance (DEMO_EFFECT). The
    same arguments with effect=1.0 give exactly the same records but for the arrests (and the
    bookings and charges they brought) that the effect drops: the participants' outcomes
    without the program. With `marker_file` (the home's demo marker), record what was written
    there: demo mode is only served on a home whose exports are all the demo's.
    """
    as_of = as_of or date.today()
    if sites < 1 or months < 1 or participants < sites:
        raise ValueError("need sites >= 1, months >= 1 and at least one participant per site")
    if as_of < EARLIEST_REFERRAL:
        raise ValueError(f"as_of must be on or after {EARLIEST_REFERRAL}")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    if not 0 < effect <= 1:
        raise ValueError(
            f"effect must be more than 0 and at most 1 (the share of participants' arrests after "
            f"referral that the program leaves), not {effect}"
        )
    tables, people = _generate(participants, sites, months, seed, day_number(as_of), effect)
    ids = site_ids(sites)
    styles = faults.plan_styles(sites) if messy else {}
    written = dict.fromkeys((*TABLES, *COMPARISON_TABLES), 0)
    paths: list[Path] = []
    inbox = Path(inbox)
    for t_idx, table in enumerate(TABLES):
        for s, part in _by_site(tables[table], range(sites)):
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
    # The comparison group's exports are written clean even with --messy: the fault plan
    # (faults.py) knows the participants' tables only.
    for table in COMPARISON_TABLES:
        for s, part in _by_site(tables[table], comparison_sites(sites)):
            paths.append(files.write_clean(part, table, inbox / ids[s]))
            written[table] += part.height
    if marker_file is not None:
        marker.record(marker_file, inbox, paths)
    return written


def _by_site(df: pl.DataFrame, sites: range) -> Iterator[tuple[int, pl.DataFrame]]:
    """Each site's rows of a table sorted by site, without the `site` column."""
    bounds = np.searchsorted(df["site"].to_numpy(), np.arange(len(sites) + 1))
    for s in sites:
        yield s, df.slice(int(bounds[s]), int(bounds[s + 1] - bounds[s])).drop("site")


def _generate(
    total: int, n_sites: int, months: int, seed: int, as_of: int, effect: float
) -> tuple[dict[str, pl.DataFrame], People]:
    """Every table of the demo (sorted by site, a `site` column first), and the participants'
    record the outcomes were drawn from. Each table has random streams of its own, and the
    program's effect one more (thinning the participants' untreated justice records), so the
    effect changes nothing else."""
    rng = np.random.default_rng([seed, 1])
    roster, people = draw_participants(rng, total, n_sites, months, as_of)
    records = justice.draw(np.random.default_rng([seed, 5]), justice.cohort_of(people), as_of)
    kept = justice.kept_arrests(np.random.default_rng([seed, 8]), records, effect)
    tables = {
        "participants": roster,
        "housing": outcomes.housing(np.random.default_rng([seed, 2]), people),
        "treatment": outcomes.treatment(np.random.default_rng([seed, 3]), people, as_of),
        "employment": outcomes.employment(np.random.default_rng([seed, 4]), people),
        "justice": justice.frame(records, justice.written(records, kept), people.site, people.pid),
        **draw_comparison(seed, people, n_sites, as_of),
    }
    # Exactly the contract's columns, in its order (a column the contract lost fails here).
    return {t: tables[t].select("site", *COLUMNS[t]) for t in (*TABLES, *COMPARISON_TABLES)}, people
