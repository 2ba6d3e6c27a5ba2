"""Small-cell and complementary suppression for funder snapshots (DESIGN s.7).

`suppress(cells)` takes tidy cells (metric, period, dimension, group, numerator, denominator
[, value]) and returns them with `suppressed` and `suppression_reason`; a suppressed cell has
its numerator, denominator and value nulled, so a row is either shown whole or hidden whole
(a shown value then adds nothing to its shown numerator and denominator).

The model. Each count is a quantity (flag, period, dimension, group): the metrics' numerator
and denominator flags (pipelines/metrics.py), so a count two metrics share (the active
participants behind active_participants, treatment_engaged and arrested; housing_known behind
three housing metrics) is one quantity, hidden only if every row showing it is suppressed.
Within a (flag, period, dimension) the groups add up to the dimension 'all' / group 'all'
total: an equation when the input's groups sum exactly to the total (they do in metric_values:
every participant-month falls in exactly one group of each dimension), an inequality
(total >= sum of groups) when they do not, so an uncovered residual needs no invented group.
Each row also gives numerator <= denominator.

The rule.
1. Primary: a row whose numerator (or count) is 1..10 ('small count') or whose denominator
   is 1..10, so its rate has a denominator under 11 ('small denominator'). 0 is shown.
2. Complementary, iterated until stable: bound every hidden quantity by propagating the sums,
   numerator <= denominator, and the same summed over each dimension's groups, over the shown
   counts (interval bound tightening). A linked set (groups of one dimension plus its total)
   holding a hidden quantity whose interval is under 10 wide gets one more hidden quantity:
   the smallest positive shown group of the set, else the set's total, else the shown
   denominator that caps a hidden numerator of the set (a round takes only the cheapest kind
   of pick any set asks for, as one hidden group can widen several sets).
   A lone hidden cell in a set is pinned (width 0), so the classic "never a single suppressed
   cell beside a shown total" is the first case of this; the width test also catches two
   hidden cells whose sum is under 10 and a denominator that caps its numerator too tightly.
Hiding a quantity suppresses every row that shows it, which can open other sets: the loop
runs until no set changes. Propagated intervals can be wider than the exact (linear program)
ranges, so tests/test_suppression.py checks results with scipy's linprog, random tables too.
"""

from __future__ import annotations

import math
from collections import defaultdict

import polars as pl

from pipelines.metrics import METRICS

THRESHOLD = 10  # counts 1..THRESHOLD are never shown, nor rates over denominators <= THRESHOLD
MIN_WIDTH = 10  # a hidden count must stay free over at least this many values
TOTAL = ("all", "all")
KEY = ["metric", "period", "dimension", "group"]

Quantity = tuple[str, object, str, str]  # (flag, period, dimension, group)


def flags(metric: str) -> tuple[str, str]:
    """The numerator and denominator flags of a metric; an unknown metric has its own two."""
    m = METRICS.get(metric)
    if m is None:
        return f"{metric}:numerator", f"{metric}:denominator"
    return m.numerator_flag, m.denominator_flag


def suppress(cells: pl.DataFrame) -> pl.DataFrame:
    """Suppress small counts, small-denominator rates and their complements; null what is hidden."""
    missing = {*KEY, "numerator", "denominator"} - set(cells.columns)
    if missing:
        raise ValueError(f"cells lack column(s) {sorted(missing)}")
    if cells.select(pl.struct(KEY).is_duplicated().any()).item():
        raise ValueError("cells have duplicate (metric, period, dimension, group) rows")
    if "value" not in cells.columns:
        is_count = pl.col("metric").map_elements(
            lambda m: METRICS[m].is_count if m in METRICS else False, return_dtype=pl.Boolean
        )
        cells = cells.with_columns(
            value=pl.when(is_count)
            .then(pl.col("numerator").cast(pl.Float64))
            .when(pl.col("denominator") > 0)
            .then(pl.col("numerator") / pl.col("denominator"))
        )
    rows = cells.select(*KEY, "numerator", "denominator").to_dicts()
    reasons = _reasons(rows)
    return cells.with_columns(
        suppressed=pl.Series([r is not None for r in reasons], dtype=pl.Boolean),
        suppression_reason=pl.Series(reasons, dtype=pl.String),
    ).with_columns(
        [
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("numerator", "denominator", "value")
        ]
    )


def _reasons(rows: list[dict]) -> list[str | None]:
    """The suppression reason of each row (None: shown)."""
    counts: dict[Quantity, int] = {}
    sides: list[tuple[Quantity, Quantity]] = []
    rows_of: dict[Quantity, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        nflag, dflag = flags(r["metric"])
        where = (r["period"], r["dimension"], r["group"])
        nq, dq = (nflag, *where), (dflag, *where)
        for q, v in ((nq, r["numerator"]), (dq, r["denominator"])):
            if v is None or v < 0:
                raise ValueError(f"row {i} has a missing or negative count: {r}")
            if counts.setdefault(q, v) != v:
                # Two metrics sharing a flag must agree, or hiding one would not hide the other.
                raise ValueError(f"{q} is {counts[q]} in one row and {v} in another")
        if r["numerator"] > r["denominator"]:
            raise ValueError(f"row {i} has a numerator above its denominator: {r}")
        sides.append((nq, dq))
        rows_of[nq].append(i)
        if dq != nq:
            rows_of[dq].append(i)

    reasons: list[str | None] = [None] * len(rows)
    for i, r in enumerate(rows):
        if 1 <= r["numerator"] <= THRESHOLD:
            reasons[i] = "small count"
        elif 1 <= r["denominator"] <= THRESHOLD:
            reasons[i] = "small denominator"

    sets = _linked_sets(counts)
    while True:
        hidden = {q for q, idx in rows_of.items() if all(reasons[i] is not None for i in idx)}
        bounds = _bounds(counts, hidden, sets, sides)
        picks: list[tuple[int, Quantity]] = []
        for members, total, _ in sets:
            weak = [q for q in (*members, total) if q in hidden and _width(bounds[q]) < MIN_WIDTH]
            if weak:
                pick = _complement(members, total, weak, counts, hidden, sides)
                if pick is not None:
                    picks.append(pick)
        if not picks:
            return reasons
        # Only the cheapest kind of pick this round: a group hidden elsewhere may already widen
        # a set that would otherwise give up its total or a denominator.
        tier = min(t for t, _ in picks)
        added = {q for t, q in picks if t == tier}
        for q in added:
            for i in rows_of[q]:
                if reasons[i] is None:
                    reasons[i] = "complementary"


def _linked_sets(counts: dict[Quantity, int]) -> list[tuple[list[Quantity], Quantity, bool]]:
    """Each (flag, period, dimension)'s groups, its total, and whether they sum to it exactly."""
    groups: dict[tuple, list[Quantity]] = defaultdict(list)
    for q in counts:
        flag, period, dimension, _ = q
        if dimension != "all":
            groups[(flag, period, dimension)].append(q)
    sets = []
    for (flag, period, _), members in sorted(groups.items(), key=lambda kv: str(kv[0])):
        total = (flag, period, *TOTAL)
        if total not in counts:
            continue  # no margin shown, nothing to subtract from
        exact = sum(counts[q] for q in members) == counts[total]
        sets.append((sorted(members, key=str), total, exact))
    return sets


def _width(bound: tuple[float, float]) -> float:
    return bound[1] - bound[0]


def _bounds(
    counts: dict[Quantity, int],
    hidden: set[Quantity],
    sets: list[tuple[list[Quantity], Quantity, bool]],
    sides: list[tuple[Quantity, Quantity]],
) -> dict[Quantity, tuple[float, float]]:
    """Intervals every hidden count must lie in, given the shown counts (bound propagation)."""
    lo = {q: 0.0 for q in hidden}
    hi = {q: math.inf for q in hidden}
    # Each linear relation as (terms, constant, exact): sum(coef * x) == / <= constant.
    relations: list[tuple[list[tuple[int, Quantity]], float, bool]] = []
    for members, total, exact in sets:
        terms = [(1, q) for q in members if q in hidden]
        constant = -sum(counts[q] for q in members if q not in hidden)
        if total in hidden:
            terms.append((-1, total))
        else:
            constant += counts[total]
        if terms:
            relations.append((terms, constant, exact))
    for nq, dq in set(sides):
        if nq == dq or (nq not in hidden and dq not in hidden):
            continue
        terms = [(1, nq)] if nq in hidden else []
        constant = 0.0 if nq in hidden else -counts[nq]
        if dq in hidden:
            terms.append((-1, dq))
        else:
            constant += counts[dq]
        relations.append((terms, constant, False))

    relations += _pair_relations(counts, hidden, sides)

    def term_range(coef: int, q: Quantity) -> tuple[float, float]:
        return (coef * lo[q], coef * hi[q]) if coef > 0 else (coef * hi[q], coef * lo[q])

    for _ in range(100):
        changed = False
        for terms, constant, exact in relations:
            ranges = [term_range(c, q) for c, q in terms]
            low_sum = sum(r[0] for r in ranges)
            low_inf = sum(math.isinf(r[0]) for r in ranges)
            high_sum = sum(r[1] for r in ranges if not math.isinf(r[1]))
            high_inf = sum(math.isinf(r[1]) for r in ranges)
            for (coef, q), (rlo, rhi) in zip(terms, ranges, strict=True):
                # coef * x <= constant - (the others' least); == also gives >= constant - their most.
                others_low = -math.inf if low_inf - math.isinf(rlo) else low_sum - rlo
                upper = constant - others_low
                others_high = (
                    math.inf if high_inf - math.isinf(rhi) else high_sum - (0 if math.isinf(rhi) else rhi)
                )
                lower = constant - others_high if exact else -math.inf
                new_lo, new_hi = (lower / coef, upper / coef) if coef > 0 else (upper / coef, lower / coef)
                if new_lo > lo[q] + 1e-9:
                    lo[q], changed = new_lo, True
                if new_hi < hi[q] - 1e-9:
                    hi[q], changed = new_hi, True
        if not changed:
            break
    return {q: (lo[q], hi[q]) for q in hidden}


def _pair_relations(
    counts: dict[Quantity, int], hidden: set[Quantity], sides: list[tuple[Quantity, Quantity]]
) -> list[tuple[list[tuple[int, Quantity]], float, bool]]:
    """Numerator <= denominator summed over a dimension's groups, as totals minus the rest.

    Per-count bounds miss that hidden numerators share what their hidden denominators add up to
    (two 7s capped by denominators summing to 14 leave the third hidden numerator >= 8): for
    the groups Q whose denominator (or numerator) is hidden, sum of n over Q <= sum of d over
    Q, written as n_total - n_rest <= d_total - d_rest. Valid when the groups sum exactly.
    """
    by_set: dict[tuple, list[tuple[Quantity, Quantity]]] = defaultdict(list)
    pairs = set(sides)
    for nq, dq in pairs:
        if nq != dq and nq[2] != "all":
            by_set[(nq[0], dq[0], nq[1], nq[2])].append((nq, dq))
    relations = []
    for (nflag, dflag, period, _), members in by_set.items():
        n_total, d_total = (nflag, period, *TOTAL), (dflag, period, *TOTAL)
        if (n_total, d_total) not in pairs:
            continue
        n_groups, d_groups = [n for n, _ in members], [d for _, d in members]
        if (
            sum(counts[q] for q in n_groups) != counts[n_total]
            or sum(counts[q] for q in d_groups) != counts[d_total]
        ):
            continue
        for side in (1, 0):
            rest = [(n, d) for n, d in members if (n, d)[side] not in hidden]
            if len(rest) == len(members):
                continue
            coefs = [(1, n_total), (-1, d_total)] + [t for n, d in rest for t in ((-1, n), (1, d))]
            terms = [(c, q) for c, q in coefs if q in hidden]
            constant = -sum(c * counts[q] for c, q in coefs if q not in hidden)
            if terms:
                relations.append((terms, float(constant), False))
    return relations


def _complement(
    members: list[Quantity],
    total: Quantity,
    weak: list[Quantity],
    counts: dict[Quantity, int],
    hidden: set[Quantity],
    sides: list[tuple[Quantity, Quantity]],
) -> tuple[int, Quantity] | None:
    """(tier, count) to hide next in a set whose hidden counts are too narrow; None if none helps."""
    # The smallest shown positive group loses least; a zero adds no slack to the sum.
    shown = [q for q in members if q not in hidden and counts[q] > 0]
    if shown:
        return 0, min(shown, key=lambda q: (counts[q], str(q)))
    if total not in hidden:
        return 1, total
    # All groups and the total hidden and still narrow: a shown denominator caps a numerator.
    caps = [dq for nq, dq in set(sides) if nq in weak and dq not in hidden and dq != nq]
    if caps:
        return 2, min(caps, key=lambda q: (counts[q], str(q)))
    return None
