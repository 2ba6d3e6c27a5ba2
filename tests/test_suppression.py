"""Funder suppression (DESIGN s.7): every hidden count stays at least 10 wide under a linear program."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog

from pipelines.demo import write_demo
from pipelines.settings import Home
from pipelines.suppression import MIN_WIDTH, THRESHOLD, flags, suppress
from tests.conftest import query, run

P = "2024-03"


def cells(metric: str, rows: list[tuple[str, str, int, int]], period: str = P) -> list[dict]:
    """Rows (dimension, group, numerator, denominator) of one metric."""
    return [
        {"metric": metric, "period": period, "dimension": d, "group": g, "numerator": n, "denominator": den}
        for d, g, n, den in rows
    ]


def counts(metric: str, rows: list[tuple[str, str, int]], period: str = P) -> list[dict]:
    """Rows (dimension, group, count) of a count metric: numerator = denominator."""
    return cells(metric, [(d, g, c, c) for d, g, c in rows], period)


def frame(*parts: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([r for part in parts for r in part])


def _part(
    a: list[list[float]], b: list[float], cols: list[int]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The constraints touching the columns cols, over those columns only."""
    keep = set(cols)
    picked = [k for k, coefs in enumerate(a) if any(coefs[i] for i in keep)]
    if not picked:
        return None, None
    return np.array([[a[k][i] for i in cols] for k in picked]), np.array([b[k] for k in picked])


def lp_ranges(original: pl.DataFrame, out: pl.DataFrame) -> dict[tuple, tuple[float, float, int]]:
    """(least, most, true value) of every count `out` hides, given all it shows, by linear programs.

    Counts are (flag, period, dimension, group): metrics sharing a flag share the count, so a
    count shown by any row is known. Constraints: each dimension's groups sum to its total
    (<= when the original does not sum exactly), 0 <= x, numerator <= denominator, and
    numerator = value * denominator wherever a value and a denominator are shown.
    """
    truth: dict[tuple, int] = {}
    known: dict[tuple, float] = {}
    pairs: list[tuple[tuple, tuple, dict]] = []
    for o, r in zip(original.to_dicts(), out.to_dicts(), strict=True):
        nflag, dflag = flags(o["metric"])
        where = (o["period"], o["dimension"], o["group"])
        nq, dq = (nflag, *where), (dflag, *where)
        truth[nq], truth[dq] = o["numerator"], o["denominator"]
        if r["numerator"] is not None:
            known[nq] = r["numerator"]
        if r["denominator"] is not None:
            known[dq] = r["denominator"]
        pairs.append((nq, dq, r))
    hidden = sorted((q for q in truth if q not in known), key=str)
    index = {q: i for i, q in enumerate(hidden)}

    def row(terms: list[tuple[float, tuple]]) -> tuple[list[float], float]:
        """A constraint row over the hidden counts and the constant the known ones move across."""
        coefs, constant = [0.0] * len(hidden), 0.0
        for c, q in terms:
            if q in index:
                coefs[index[q]] += c
            else:
                constant -= c * known[q]
        return coefs, constant

    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for q in truth:
        if q[2] != "all":
            groups[(q[0], q[1], q[2])].append(q)
    for (flag, period, _), members in groups.items():
        total = (flag, period, "all", "all")
        if total not in truth:
            continue
        coefs, constant = row([(1, q) for q in members] + [(-1, total)])
        if sum(truth[q] for q in members) == truth[total]:
            a_eq.append(coefs), b_eq.append(constant)
        else:
            a_ub.append(coefs), b_ub.append(constant)
    for nq, dq, r in pairs:
        if nq != dq:
            coefs, constant = row([(1, nq), (-1, dq)])
            a_ub.append(coefs), b_ub.append(constant)
        if r["value"] is not None and r["denominator"] is not None and nq in index and nq != dq:
            coefs, constant = row([(1, nq), (-r["value"], dq)])
            a_eq.append(coefs), b_eq.append(constant)

    # The true counts satisfy every constraint: a wrong constraint would prove nothing.
    x = np.array([truth[q] for q in hidden], dtype=float)
    for a, b, exact in ((a_eq, b_eq, True), (a_ub, b_ub, False)):
        for coefs, constant in zip(a, b, strict=True):
            got = float(np.dot(coefs, x)) if hidden else 0.0
            assert (abs(got - constant) < 1e-6) if exact else (got <= constant + 1e-6), (coefs, constant, got)

    # Solve each connected group of hidden counts on its own: periods never meet, so this is exact.
    parent = list(range(len(hidden)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for coefs in a_eq + a_ub:
        used = [i for i, c in enumerate(coefs) if c]
        for i in used[1:]:
            parent[root(i)] = root(used[0])
    components: dict[int, list[int]] = defaultdict(list)
    for i in range(len(hidden)):
        components[root(i)].append(i)

    ranges = {}
    for cols in components.values():
        a_eq_c, b_eq_c = _part(a_eq, b_eq, cols)
        a_ub_c, b_ub_c = _part(a_ub, b_ub, cols)
        for j, i in enumerate(cols):
            ends = []
            for sign in (1, -1):
                c = np.zeros(len(cols))
                c[j] = sign
                res = linprog(
                    c, A_ub=a_ub_c, b_ub=b_ub_c, A_eq=a_eq_c, b_eq=b_eq_c, bounds=(0, None), method="highs"
                )
                assert res.status in (0, 3), res.message  # 3: unbounded, the most is infinite
                ends.append(sign * res.fun if res.status == 0 else math.inf)
            ranges[hidden[i]] = (ends[0], ends[1], truth[hidden[i]])
    return ranges


def check(original: pl.DataFrame, out: pl.DataFrame) -> dict[tuple, tuple[float, float, int]]:
    """Assert DESIGN s.7 on a suppressed table; return the hidden counts' ranges."""
    shown = out.filter(~pl.col("suppressed"))
    assert not shown.filter(pl.col("numerator").is_between(1, THRESHOLD)).height
    assert not shown.filter(pl.col("denominator").is_between(1, THRESHOLD)).height
    assert not out.filter(pl.col("suppressed") & pl.col("value").is_not_null()).height
    assert out.select(
        pl.exclude("suppressed", "suppression_reason", "numerator", "denominator", "value")
    ).equals(original.select(pl.exclude("numerator", "denominator", "value")))
    ranges = lp_ranges(original, out)
    narrow = {q: r for q, r in ranges.items() if r[1] - r[0] < MIN_WIDTH - 1e-6}
    assert not narrow, f"hidden counts narrower than {MIN_WIDTH}: {narrow}"
    for lo, hi, value in ranges.values():
        assert lo - 1e-6 <= value <= hi + 1e-6
    return ranges


def hidden_groups(out: pl.DataFrame, metric: str | None = None) -> dict[str, str]:
    """'dimension/group' -> reason of the suppressed rows (of one metric)."""
    rows = out.filter(pl.col("suppressed"))
    if metric:
        rows = rows.filter(pl.col("metric") == metric)
    return {f"{r['dimension']}/{r['group']}": r["suppression_reason"] for r in rows.to_dicts()}


def test_one_small_cell_beside_a_total_takes_the_next_smallest() -> None:
    t = frame(
        counts(
            "active_participants",
            [("all", "all", 100), ("site", "A", 3), ("site", "B", 40), ("site", "C", 57)],
        )
    )
    out = suppress(t)
    assert hidden_groups(out) == {"site/A": "small count", "site/B": "complementary"}
    ranges = check(t, out)
    # A + B = 43 once C and the total are shown: each free over 0..43.
    assert ranges[("active", P, "site", "A")][:2] == pytest.approx((0, 43))


def test_two_small_cells_summing_under_ten_take_a_third() -> None:
    rows = [("all", "all", 100), ("site", "A", 3), ("site", "B", 5), ("site", "C", 40), ("site", "D", 52)]
    t = frame(counts("active_participants", rows))
    out = suppress(t)
    # A + B = 8 would leave each within 0..8: C joins them.
    assert hidden_groups(out) == {"site/A": "small count", "site/B": "small count", "site/C": "complementary"}
    check(t, out)


def test_a_small_numerator_is_not_left_behind_its_rate() -> None:
    # Nulling the 3 alone would leave 3 = 0.075 * 40; the whole row goes, then its denominator's set.
    rows = [("all", "all", 23, 100), ("site", "A", 3, 40), ("site", "B", 20, 60)]
    t = frame(cells("arrested", rows))
    out = suppress(t)
    assert hidden_groups(out) == {"site/A": "small count", "site/B": "complementary"}
    assert out.filter(pl.col("suppressed")).select("numerator", "denominator", "value").null_count().row(
        0
    ) == (
        2,
        2,
        2,
    )
    check(t, out)


def test_a_denominator_shown_by_another_metric_stays_shown() -> None:
    # arrested's denominator is the active count: with active_participants shown, only the numerators go.
    active = counts("active_participants", [("all", "all", 100), ("site", "A", 40), ("site", "B", 60)])
    arrested = cells("arrested", [("all", "all", 23, 100), ("site", "A", 3, 40), ("site", "B", 20, 60)])
    t = frame(active, arrested)
    out = suppress(t)
    assert hidden_groups(out, "active_participants") == {}
    assert hidden_groups(out, "arrested") == {"site/A": "small count", "site/B": "complementary"}
    check(t, out)


def test_a_small_denominator_hides_a_zero_rate() -> None:
    rows = [("all", "all", 0, 100), ("site", "A", 0, 7), ("site", "B", 0, 93)]
    t = frame(cells("treatment_engaged", rows))
    out = suppress(t)
    # A shown total of 0 would pin every hidden numerator (so site A's rate) at 0: it goes too.
    assert hidden_groups(out) == {
        "site/A": "small denominator",
        "site/B": "complementary",
        "all/all": "complementary",
    }
    check(t, out)


def test_zero_and_eleven_are_shown() -> None:
    rows = [("all", "all", 11), ("site", "A", 0), ("site", "B", 11)]
    t = frame(
        counts("active_participants", rows), cells("arrested", [("all", "all", 0, 11), ("site", "B", 0, 11)])
    )
    out = suppress(t)
    assert not out["suppressed"].any()
    assert out.equals(t.with_columns(value=out["value"], suppressed=False, suppression_reason=None))
    check(t, out)


def test_a_tight_denominator_cascades_through_the_total_into_another_dimension() -> None:
    # sheltered shows every housing_known count. Site A's 2 of 11 and site B's 40 of 40 hidden
    # together leave A in 2..11 (A <= 11, B <= 40, A + B = 42): 9 wide. No shown site is left, so
    # the total goes; gender then shows all but the total, which pins it, so its smaller group goes.
    known = [
        ("all", "all", 51),
        ("site", "A", 11),
        ("site", "B", 40),
        ("gender", "man", 26),
        ("gender", "woman", 25),
    ]
    sheltered = cells("sheltered", [(d, g, n, n) for d, g, n in known])
    housed = cells(
        "permanent_housing",
        [
            ("all", "all", 42, 51),
            ("site", "A", 2, 11),
            ("site", "B", 40, 40),
            ("gender", "man", 22, 26),
            ("gender", "woman", 20, 25),
        ],
    )
    t = frame(sheltered, housed)
    out = suppress(t)
    assert hidden_groups(out, "sheltered") == {}
    assert hidden_groups(out, "permanent_housing") == {
        "site/A": "small count",
        "site/B": "complementary",
        "all/all": "complementary",
        "gender/woman": "complementary",
    }
    ranges = check(t, out)
    assert ranges[("permanent_housing", P, "site", "A")][:2] == pytest.approx((0, 11))


def test_groups_short_of_the_total_are_an_upper_bound() -> None:
    # 2 participants fall in no race group: the sum is an inequality, and a lone hidden 4 would
    # only be known to lie in 0..6; still too narrow, so the next smallest joins it.
    rows = [("all", "all", 60), ("race", "asian", 4), ("race", "black", 20), ("race", "white", 34)]
    t = frame(counts("active_participants", rows))
    out = suppress(t)
    assert hidden_groups(out) == {"race/asian": "small count", "race/black": "complementary"}
    check(t, out)


def test_a_small_total_hides_every_group() -> None:
    rows = [("all", "all", 9), ("site", "A", 4), ("site", "B", 5), ("gender", "man", 9)]
    t = frame(counts("active_participants", rows))
    out = suppress(t)
    assert out["suppressed"].all()
    check(t, out)


def test_cells_that_disagree_on_a_shared_count_are_refused() -> None:
    t = frame(
        counts("active_participants", [("all", "all", 50)]),
        cells("arrested", [("all", "all", 3, 51)]),
    )
    with pytest.raises(ValueError, match="in one row"):
        suppress(t)


def test_random_tables_hold_every_hidden_count_ten_wide() -> None:
    rng = np.random.default_rng(6)
    for _ in range(25):
        sizes = {"site": 3, "gender": 2, "age_band": 4}
        people = int(rng.integers(15, 120))
        labels = {d: rng.integers(0, k, people) for d, k in sizes.items()}
        housing_known = rng.random(people) < 0.8
        housed = housing_known & (rng.random(people) < 0.4)
        arrested = rng.random(people) < 0.1
        rows = []
        for metric, num, den in [
            ("active_participants", np.ones(people, bool), np.ones(people, bool)),
            ("permanent_housing", housed, housing_known),
            ("arrested", arrested, np.ones(people, bool)),
        ]:
            parts = [("all", "all", np.ones(people, bool))]
            parts += [(d, f"g{k}", labels[d] == k) for d, n in sizes.items() for k in range(n)]
            for d, g, mask in parts:
                n, m = int((num & mask).sum()), int((den & mask).sum())
                if m > 0:
                    rows.append((metric, d, g, n, m))
        t = pl.DataFrame(
            rows, schema=["metric", "dimension", "group", "numerator", "denominator"], orient="row"
        )
        t = t.with_columns(period=pl.lit(P)).select(
            "metric", "period", "dimension", "group", "numerator", "denominator"
        )
        check(t, suppress(t))


def test_a_quarter_of_the_demo(tmp_path) -> None:
    as_of = dt.date(2024, 7, 15)
    home = Home(tmp_path / "home")
    write_demo(home.inbox, participants=400, sites=3, months=24, seed=5, as_of=as_of)
    run(home, as_of.isoformat())
    rows = query(
        home,
        "select metric, month, dimension, grp, numerator, denominator, value from metric_values "
        "where month between date '2024-04-01' and date '2024-06-01'",
    )
    t = pl.DataFrame(
        rows,
        schema=["metric", "period", "dimension", "group", "numerator", "denominator", "value"],
        orient="row",
    )
    out = suppress(t)
    assert out["suppressed"].any() and not out["suppressed"].all()
    check(t, out)
