"""The exact check behind complementary suppression: what a reader can work out from a table.

A reader of a snapshot knows its shown counts and the rules they obey: each dimension's groups
add up to the total, a numerator never exceeds its denominator, and what the metric
definitions imply between metrics and periods (NESTED_FLAGS and EXCLUSIVE_FLAGS in
pipelines/core/metrics.py; a quarter counts at least each of its months and at most their sum).
`narrow` solves linear programs over all of that and returns the hidden counts that these
rules confine to a range under MIN_WIDTH wide, each with the shown counts that confine it.

Only a range's width matters, so most counts are cleared without their own programs: every
solution found is a feasible table, and a count that already differs by MIN_WIDTH between two
of them is wide enough. Only the rest get a program each (their maximum, then their minimum),
all of a group's programs in one HiGHS model whose objective alone changes, so each starts from
the last one's basis. Between rounds of one suppression a Memo keeps what cannot have changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import highspy
import numpy as np
from highspy.highs import _Highs

from pipelines.core.metrics import EXCLUSIVE_FLAGS, NESTED_FLAGS
from pipelines.core.periods import QUARTER

Quantity = tuple[str, object, str, str]  # (flag, period, dimension, group)
# sum(coef * count) == rhs (exact) or <= rhs, over shown and hidden counts alike.
Relation = tuple[tuple[tuple[float, Quantity], ...], float, bool]
# A relation over the hidden counts (position -> coefficient), its constant, ==, and its shown counts.
Row = tuple[dict[int, float], float, bool, list[Quantity]]
PROBES = 4  # random directions tried, after the least and most sums, before a count's own programs
SEED = 20240101  # the probes are the same on every run: the same table, the same suppression


def quarter_months(period: object) -> list[str]:
    """The months 'YYYY-MM' of a quarter 'YYYY-Qn'; none for any other period."""
    match = QUARTER.match(str(period))
    if not match:
        return []
    year, q = match[1], int(match[2])
    return [f"{year}-{3 * q - 2 + i:02d}" for i in range(3)]


def relations(
    counts: dict[Quantity, int],
    sides: Iterable[tuple[Quantity, Quantity]],
    sets: Iterable[tuple[list[Quantity], Quantity, bool]],
) -> list[Relation]:
    """Every rule the counts obey that a reader of the table and the definitions knows.

    `sets` are each (flag, period, dimension)'s groups, its total, and whether they sum to it
    exactly (suppression._linked_sets); `sides` each row's (numerator, denominator).
    """
    out: list[Relation] = [
        ((*((1.0, q) for q in members), (-1.0, total)), 0.0, exact) for members, total, exact in sets
    ]
    for n, d in dict.fromkeys(sides):
        if n != d:
            out.append((((1.0, n), (-1.0, d)), 0.0, False))
    cells = dict.fromkeys(q[1:] for q in counts)
    for where in cells:
        for a, b in NESTED_FLAGS:
            if (a, *where) in counts and (b, *where) in counts:
                out.append((((1.0, (a, *where)), (-1.0, (b, *where))), 0.0, False))
        # Exclusive within a participant-month only: over a quarter someone can be both.
        if not QUARTER.match(str(where[0])):
            for (a, b), c in EXCLUSIVE_FLAGS:
                cell = [(f, *where) for f in (a, b, c)]
                if all(q in counts for q in cell):
                    out.append((((1.0, cell[0]), (1.0, cell[1]), (-1.0, cell[2])), 0.0, False))
    for q in counts:
        flag, period, dimension, group = q
        months = [(flag, m, dimension, group) for m in quarter_months(period)]
        present = [m for m in months if m in counts]  # a month without a row counted none
        if months:
            out.append(((((1.0, q), *((-1.0, m) for m in present))), 0.0, False))
            out.extend((((1.0, m), (-1.0, q)), 0.0, False) for m in present)
    return out


@dataclass
class Memo:
    """What one suppression's exact checks have learned, kept between its rounds.

    Hiding one more count only turns a constant of the rules into a free count, so a hidden
    count's range can only grow:
    - a count once found wide stays wide;
    - a count found confined stays confined while no shown count in the rules that confine it
      (its certificate: the rules with a nonzero dual value at its least and most) is hidden. The
      same rules with the same constants still prove the same bounds, and a count hidden elsewhere
      is in none of them.
    """

    wide: set = field(default_factory=set)
    # confined count -> (the shown counts in the rules that confine it, the partners to hide)
    confined: dict = field(default_factory=dict)


def narrow(
    counts: dict[Quantity, int],
    hidden: set[Quantity],
    rules: list[Relation],
    min_width: float,
    memo: Memo | None = None,
) -> dict[Quantity, list[Quantity]]:
    """The hidden counts confined to a range under `min_width`, by linear programs over `rules`,
    each with the shown counts whose hiding can widen it: those in the rules that confine it."""
    memo = Memo() if memo is None else memo
    memo.confined = {
        q: (shown, partners)
        for q, (shown, partners) in memo.confined.items()
        if q in hidden and not shown & hidden
    }
    order = sorted(hidden, key=str)
    index = {q: i for i, q in enumerate(order)}
    rows: list[Row] = []
    for terms, rhs, exact in rules:
        coefs: dict[int, float] = {}
        constant = rhs
        for c, q in terms:
            if q in index:
                coefs[index[q]] = coefs.get(index[q], 0.0) + c
            else:
                constant -= c * counts[q]
        if coefs:
            rows.append((coefs, constant, exact, [q for _, q in terms if q not in index]))
    for cols in _components(len(order), rows):
        settled = [order[i] in memo.wide or order[i] in memo.confined for i in cols]
        if all(settled):
            continue
        members = set(cols)
        mine = [r for r in rows if next(iter(r[0])) in members]
        confined = _narrow_in(cols, mine, [counts[order[i]] for i in cols], settled, min_width)
        memo.wide.update(order[i] for j, i in enumerate(cols) if not settled[j] and j not in confined)
        for j, binding in confined.items():
            q = order[cols[j]]
            # Its bounds follow from these rules alone, so hiding any other count leaves them as
            # they are. (None holds a shown count only if it is pinned at 0 by the definitions,
            # a 0 that no hiding can widen, and that is no more than a shown 0.)
            shown = frozenset(p for k in binding for p in mine[k][3])
            memo.confined[q] = (shown, sorted(shown, key=lambda p: (counts[p], str(p))))
    return {q: partners for q, (_, partners) in memo.confined.items()}


def _components(n: int, rows: list[Row]) -> list[list[int]]:
    """The hidden counts in groups no rule connects: each group's programs are solved alone."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for coefs, *_ in rows:
        first, *rest = coefs
        for i in rest:
            parent[root(i)] = root(first)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[root(i)].append(i)
    return list(groups.values())


def _narrow_in(
    cols: list[int], rows: list[Row], truth: list[int], known: list[bool], min_width: float
) -> dict[int, set[int]]:
    """The counts of one connected group (positions in `cols`) whose feasible range is under
    min_width, each with the rows (positions in `rows`) binding at its least or most; `known`
    marks the counts already settled, which need no program."""
    position = {c: j for j, c in enumerate(cols)}
    n = len(cols)
    starts, indices, values, lower, upper = [], [], [], [], []
    for coefs, constant, exact, _ in rows:
        starts.append(len(indices))
        for i, c in coefs.items():
            indices.append(position[i]), values.append(c)
        lower.append(constant if exact else -highspy.kHighsInf), upper.append(constant)
    # One model for all of the group's programs: only the objective changes between them, so each
    # solve starts from the last one's basis (a handful of simplex steps instead of a cold start).
    # The core class: highspy.Highs() also wires up callbacks, which prints HiGHS's banner to
    # stdout before any option can turn output off (ERGO-Code/HiGHS#1702); we need no callback.
    lp = _Highs()
    lp.setOptionValue("output_flag", False)
    lp.setOptionValue("random_seed", SEED)
    # Primal simplex from the last basis, which stays feasible when only the objective changes
    # (dual simplex or presolve would start over: measured 6x slower).
    lp.setOptionValue("presolve", "off")
    lp.setOptionValue("simplex_strategy", 4)
    lp.addVars(n, np.zeros(n), np.full(n, highspy.kHighsInf))
    lp.addRows(
        len(rows),
        np.array(lower),
        np.array(upper),
        len(indices),
        np.array(starts, dtype=np.int32),
        np.array(indices, dtype=np.int32),
        np.array(values, dtype=float),
    )
    every = np.arange(n, dtype=np.int32)

    def solve(objective: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """A feasible table at the optimum of `objective` and the rows' duals; None if unbounded."""
        lp.changeColsCost(n, every, objective)
        lp.run()
        status = lp.getModelStatus()
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"disclosure check failed: {lp.modelStatusToString(status)}")
        solution = lp.getSolution()
        return np.array(solution.col_value), np.array(solution.row_dual)

    low = np.array(truth, dtype=float)  # the true table is feasible
    high = low.copy()

    def seen(res: tuple[np.ndarray, np.ndarray] | None) -> None:
        if res is not None:
            np.minimum(low, res[0], out=low)
            np.maximum(high, res[0], out=high)

    open_ = ~np.array(known, dtype=bool)
    if open_.any():
        # Every solution is a feasible table: two that differ by min_width in a count clear it.
        rng = np.random.default_rng(SEED)
        for direction in (-1.0, 1.0, *(rng.choice([-1.0, 1.0], size=len(cols)) for _ in range(PROBES))):
            seen(solve(np.where(open_, direction, 0.0)))
            open_ &= high - low < min_width
            if not open_.any():
                break
    result: dict[int, set[int]] = {}
    for j in np.flatnonzero(open_):
        binding: set[int] = set()
        wide = False
        for sign in (-1.0, 1.0):  # its maximum, then its minimum
            if sign > 0 and low[j] <= 1e-9:
                break  # a solution with it at 0 was seen: its least is 0, no program needed
            objective = np.zeros(len(cols))
            objective[j] = sign
            res = solve(objective)
            if res is None:
                wide = True  # unbounded
                break
            seen(res)
            if high[j] - low[j] >= min_width:
                wide = True
                break
            binding.update(np.flatnonzero(np.abs(res[1]) > 1e-9).tolist())
        if not wide and high[j] - low[j] < min_width - 1e-6:
            result[j] = binding
    return result
