"""Small-cell and complementary suppression for funder snapshots (DESIGN s.7).

`suppress(cells)` takes tidy cells (metric, period, dimension, group, numerator, denominator
[, value]) and returns them with `suppressed` and `suppression_reason`. A suppressed row has its
numerator and value nulled; its denominator is nulled only when that count is hidden too.

The model. Each count is a quantity (flag, period, dimension, group): the metrics' numerator
and denominator flags (pipelines/core/metrics.py), so a count two metrics share (the active
participants behind active_participants, treatment_engaged and arrested; housing_known behind
three housing metrics) is one quantity, shown or hidden in every row at once. A hidden
denominator hides its numerators (no count of a hidden group is shown). Within a (flag, period,
dimension) the groups add up to the dimension 'all' / group 'all' total: an equation when the
input's groups sum exactly to the total (they do in metric_values: every participant-month falls
in exactly one group of each dimension), an inequality (total >= sum of groups) when they do not.
Each row also gives numerator <= denominator. Across metrics and periods, a reader of the metric
definitions also knows NESTED_FLAGS and EXCLUSIVE_FLAGS (pipelines/core/metrics.py) and that a quarter
'YYYY-Qn' counts at least each of its months and at most their sum (pipelines/funder/disclosure.py).

The rule.
1. Primary: every count from 1 to 10 is hidden ('small count' for a numerator, 'small
   denominator' for a denominator: its rate has a denominator under 11). 0 is shown.
2. Complementary, iterated until stable, until every hidden count is free over a range at least
   10 wide:
   a. Fast, by bound propagation over the sums and numerator <= denominator (interval bound
      tightening): a linked set (groups of one dimension plus its total) holding a hidden count
      whose interval is under 10 wide gets one more hidden count: the smallest positive shown
      group of the set, else the set's total, else the shown denominator that caps a hidden
      numerator of the set (a round takes only the cheapest kind of pick any set asks for, as one
      hidden group can widen several sets). A lone hidden cell in a set is pinned (width 0), so
      "never a single suppressed cell beside a shown total" is the first case of this.
   b. Exact, when (a) finds nothing: linear programs over every relation above, the definitions'
      included (pipelines/funder/disclosure.py). For a count they confine, one shown count in the rules
      that confine it is hidden: a group before a total, then the smallest positive.
Propagated intervals are wider than the exact ranges, so (a) never hides a count (b) would not
have asked for; (b) has the last word. tests/test_suppression.py checks results with its own
linear programs (scipy's linprog), random tables and a demo quarter too.
"""

from __future__ import annotations

import math
from collections import defaultdict

import polars as pl

from pipelines.core.metrics import METRICS, SMALL_COUNT, is_count
from pipelines.funder import disclosure

# Counts 1..THRESHOLD are never shown, nor rates over denominators <= THRESHOLD: the one
# small-count rule (a rate needs SMALL_COUNT or more in its denominator).
THRESHOLD = SMALL_COUNT - 1
MIN_WIDTH = 10  # a hidden count must stay free over at least this many values
TOTAL = ("all", "all")
KEY = ["metric", "period", "dimension", "group"]

Quantity = disclosure.Quantity  # (flag, period, dimension, group)


def flags(metric: str) -> tuple[str, str]:
    """The numerator and denominator flags of a metric; an unknown metric has its own two.

    ValueError for a metric that does not count people (jail_days, a sum of days): the rule
    protects counts of people, and a sum of days is none.
    """
    m = METRICS.get(metric)
    if m is None:
        return f"{metric}:numerator", f"{metric}:denominator"
    if not m.counts_people:
        raise ValueError(f"{metric} is {m.kind}, not a count of people: suppression cannot protect it")
    return m.numerator_flag, m.denominator_flag


def suppress(cells: pl.DataFrame) -> pl.DataFrame:
    """Suppress small counts, small-denominator rates and their complements; null what is hidden."""
    missing = {*KEY, "numerator", "denominator"} - set(cells.columns)
    if missing:
        raise ValueError(f"cells lack column(s) {sorted(missing)}")
    if cells.select(pl.struct(KEY).is_duplicated().any()).item():
        raise ValueError("cells have duplicate (metric, period, dimension, group) rows")
    if "value" not in cells.columns:
        count = pl.col("metric").map_elements(is_count, return_dtype=pl.Boolean)
        cells = cells.with_columns(
            value=pl.when(count)
            .then(pl.col("numerator").cast(pl.Float64))
            .when(pl.col("denominator") > 0)
            .then(pl.col("numerator") / pl.col("denominator"))
        )
    rows = cells.select(*KEY, "numerator", "denominator").to_dicts()
    # Worked in one fixed order: the same table in any row order gives the same suppression.
    order = cells.select(pl.arg_sort_by(KEY)).to_series().to_list()
    ranked_reasons, ranked_hidden = _reasons([rows[i] for i in order])
    reasons: list[str | None] = [None] * len(rows)
    denominator_hidden = [False] * len(rows)
    for rank, i in enumerate(order):
        reasons[i], denominator_hidden[i] = ranked_reasons[rank], ranked_hidden[rank]
    return (
        cells.with_columns(
            suppressed=pl.Series([r is not None for r in reasons], dtype=pl.Boolean),
            suppression_reason=pl.Series(reasons, dtype=pl.String),
            _denominator_hidden=pl.Series(denominator_hidden, dtype=pl.Boolean),
        )
        .with_columns(
            numerator=pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("numerator")),
            value=pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("value")),
            denominator=pl.when(pl.col("_denominator_hidden")).then(None).otherwise(pl.col("denominator")),
        )
        .drop("_denominator_hidden")
    )


def _reasons(rows: list[dict]) -> tuple[list[str | None], list[bool]]:
    """Each row's suppression reason (None: shown) and whether its denominator is hidden too."""
    counts: dict[Quantity, int] = {}
    sides: list[tuple[Quantity, Quantity]] = []
    for r in rows:
        nflag, dflag = flags(r["metric"])
        where = (r["period"], r["dimension"], r["group"])
        nq, dq = (nflag, *where), (dflag, *where)
        for q, v in ((nq, r["numerator"]), (dq, r["denominator"])):
            if v is None or v < 0:
                raise ValueError(f"a row has a missing or negative count: {r}")
            if counts.setdefault(q, v) != v:
                # Two metrics sharing a flag must agree, or hiding one would not hide the other.
                raise ValueError(f"{q} is {counts[q]} in one row and {v} in another")
        if r["numerator"] > r["denominator"]:
            raise ValueError(f"a row has a numerator above its denominator: {r}")
        sides.append((nq, dq))

    hidden = _closed({q for q, v in counts.items() if 1 <= v <= THRESHOLD}, sides)
    sets = _linked_sets(counts)
    rules: list[disclosure.Relation] | None = None
    memo = disclosure.Memo()
    while True:
        bounds = _bounds(counts, hidden, sets, sides)
        picks: list[tuple[int, Quantity]] = []
        for members, total, _ in sets:
            weak = [q for q in (*members, total) if q in hidden and _width(bounds[q]) < MIN_WIDTH]
            if weak:
                pick = _complement(members, total, weak, counts, hidden, sides)
                if pick is not None:
                    picks.append(pick)
        if not picks:
            # Propagated bounds are wider than the exact ranges, and they leave out what the
            # definitions relate between metrics and periods: the exact check has the last word.
            rules = rules if rules is not None else disclosure.relations(counts, sides, sets)
            confined = disclosure.narrow(counts, hidden, rules, MIN_WIDTH, memo)
            picks = _widening(confined, counts)
            if not picks:
                # Left: counts no shown count bears on, pinned by the definitions alone (a 0 the
                # rules force is no more than a shown 0). A positive one would be a disclosure.
                stuck = sorted((q for q in confined if counts[q] > 0), key=str)
                if stuck:
                    raise RuntimeError(f"suppression cannot keep {len(stuck)} count(s) wide: {stuck[:3]}")
                break
        # Only the cheapest kind of pick this round: a group hidden elsewhere may already widen
        # a set that would otherwise give up its total or a denominator.
        tier = min(t for t, _ in picks)
        hidden = _closed(hidden | {q for t, q in picks if t == tier}, sides)

    reasons: list[str | None] = []
    denominator_hidden: list[bool] = []
    for (nq, dq), r in zip(sides, rows, strict=True):
        if nq not in hidden:
            reasons.append(None)
        elif 1 <= r["numerator"] <= THRESHOLD:
            reasons.append("small count")
        elif 1 <= r["denominator"] <= THRESHOLD:
            reasons.append("small denominator")
        else:
            reasons.append("complementary")
        denominator_hidden.append(dq in hidden)
    return reasons, denominator_hidden


def _closed(hidden: set[Quantity], sides: list[tuple[Quantity, Quantity]]) -> set[Quantity]:
    """`hidden` with the numerator of every hidden denominator: no count of a hidden group is shown."""
    out = set(hidden)
    for nq, dq in sides:
        if dq in out:
            out.add(nq)
    return out


def _widening(
    confined: dict[Quantity, list[Quantity]], counts: dict[Quantity, int]
) -> list[tuple[int, Quantity]]:
    """The shown counts to hide next for the counts the exact check found confined.

    For each confined count, of the shown counts in the rules that confine it: a group before a
    total (the totals are a funder's headline numbers), then the smallest positive (it loses
    least; a zero adds no room). Counts whose partners overlap get one pick a round, as hiding
    one may already widen the others. Measured on demo quarters, preferring the pick that takes
    the fewest other counts along (a denominator's numerators) hid 3 to 8 points more rows.
    """
    picks: list[Quantity] = []
    for q in sorted(confined, key=str):
        partners = confined[q]
        if not partners or set(partners) & set(picks):
            continue
        picks.append(min(partners, key=lambda p: (p[2] == "all", counts[p] == 0, counts[p], str(p))))
    return [(3, p) for p in picks]


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
    for nq, dq in dict.fromkeys(sides):
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
    pairs = dict.fromkeys(sides)  # in order: the same table, the same relations, the same picks
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
    caps = [dq for nq, dq in dict.fromkeys(sides) if nq in weak and dq not in hidden and dq != nq]
    if caps:
        return 2, min(caps, key=lambda q: (counts[q], str(q)))
    return None
