"""Funder suppression (DESIGN s.7): every hidden count stays at least 10 wide under a linear program."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from pipelines.core.metrics import EXCLUSIVE_FLAGS, NESTED_FLAGS
from pipelines.core.release import live_release, open_release
from pipelines.core.settings import Home
from pipelines.demo import write_demo
from pipelines.funder.snapshot import cells as cells_of
from pipelines.funder.snapshot import parse_period
from pipelines.funder.suppression import KEY, MIN_WIDTH, THRESHOLD, flags, suppress
from tests.conftest import run

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
    a: list[dict[int, float]], b: list[float], cols: list[int]
) -> tuple[csr_matrix | None, np.ndarray | None]:
    """The constraints touching the columns cols, over those columns only."""
    position = {i: j for j, i in enumerate(cols)}
    picked = [k for k, coefs in enumerate(a) if any(i in position for i in coefs)]
    if not picked:
        return None, None
    data, rows, columns = [], [], []
    for n, k in enumerate(picked):
        for i, c in a[k].items():
            data.append(c), rows.append(n), columns.append(position[i])
    return csr_matrix((data, (rows, columns)), shape=(len(picked), len(cols))), np.array(
        [b[k] for k in picked]
    )


# DESIGN s.5 and s.9, read as a reader of a snapshot would: (a, b) means every participant
# counted in a is counted in b, for the same period and group.
SUBSETS = [
    ("permanent_housing", "sheltered"),
    ("sheltered", "housing_known"),
    ("unsheltered", "housing_known"),
    ("housing_known", "active"),
    ("employed", "employment_continuum"),
    ("employment_continuum", "employment_known"),
    ("employment_known", "active"),
    ("income_or_benefits", "income_known"),
    ("income_known", "active"),
    ("treatment_engaged", "active"),
    ("arrested", "active"),
    ("new_offense_arrest", "arrested"),  # a felony or misdemeanor arrest is an arrest
    ("new_offense_arrest", "active"),
    ("booked", "active"),
    ("felony_charged", "active"),
]


def definition_relations(truth: dict[tuple, int]) -> list[list[tuple[float, tuple]]]:
    """Terms of `sum(coef * count) <= 0` rows the metric definitions imply across metrics and periods.

    Nested conditions (SUBSETS); sheltered + unsheltered <= housing_known within a month (one
    status at a month end); a quarter 'YYYY-Qn' counts at least each of its months and at most
    their sum (a month without a row counted nobody).
    """
    out = []
    for flag, period, dimension, group in truth:
        if flag != "active":
            continue
        where = (period, dimension, group)
        for a, b in SUBSETS:
            if (a, *where) in truth and (b, *where) in truth:
                out.append([(1, (a, *where)), (-1, (b, *where))])
        cell = [(f, *where) for f in ("sheltered", "unsheltered", "housing_known")]
        if "-Q" not in str(period) and all(q in truth for q in cell):
            out.append([(1, cell[0]), (1, cell[1]), (-1, cell[2])])
    for q in truth:
        flag, period, dimension, group = q
        if "-Q" not in str(period):
            continue
        year, quarter = str(period).split("-Q")
        months = [(flag, f"{year}-{3 * int(quarter) - 3 + k:02d}", dimension, group) for k in (1, 2, 3)]
        present = [m for m in months if m in truth]
        out.append([(1, q)] + [(-1, m) for m in present])
        out += [[(1, m), (-1, q)] for m in present]
    return out


def lp_ranges(
    original: pl.DataFrame, out: pl.DataFrame, probes: int = 0
) -> dict[tuple, tuple[float, float, int]]:
    """(least, most, true value) of every count `out` hides, given all it shows, by linear programs.

    Counts are (flag, period, dimension, group): metrics sharing a flag share the count, so a
    count shown by any row is known. Constraints: each dimension's groups sum to its total
    (<= when the original does not sum exactly), 0 <= x, numerator <= denominator,
    numerator = value * denominator wherever a value and a denominator are shown, and what the
    metric definitions imply between metrics and periods (definition_relations).
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

    def row(terms: list[tuple[float, tuple]]) -> tuple[dict[int, float], float]:
        """A constraint row over the hidden counts and the constant the known ones move across."""
        coefs: dict[int, float] = defaultdict(float)
        constant = 0.0
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
    for terms in definition_relations(truth):
        coefs, constant = row(terms)
        a_ub.append(coefs), b_ub.append(constant)

    # The true counts satisfy every constraint: a wrong constraint would prove nothing.
    x = [truth[q] for q in hidden]
    for a, b, exact in ((a_eq, b_eq, True), (a_ub, b_ub, False)):
        for coefs, constant in zip(a, b, strict=True):
            got = sum(c * x[i] for i, c in coefs.items())
            assert (abs(got - constant) < 1e-6) if exact else (got <= constant + 1e-6), (coefs, constant, got)

    # Solve each connected group of hidden counts on its own: no constraint joins two groups.
    parent = list(range(len(hidden)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for coefs in a_eq + a_ub:
        used = [i for i, c in coefs.items() if c]
        for i in used[1:]:
            parent[root(i)] = root(used[0])
    components: dict[int, list[int]] = defaultdict(list)
    for i in range(len(hidden)):
        components[root(i)].append(i)

    rng = np.random.default_rng(1)
    ranges = {}
    for cols in components.values():
        a_eq_c, b_eq_c = _part(a_eq, b_eq, cols)
        a_ub_c, b_ub_c = _part(a_ub, b_ub, cols)

        def solve(c: np.ndarray, parts: tuple = (a_ub_c, b_ub_c, a_eq_c, b_eq_c)):
            a_u, b_u, a_e, b_e = parts
            res = linprog(c, A_ub=a_u, b_ub=b_u, A_eq=a_e, b_eq=b_e, bounds=(0, None), method="highs")
            assert res.status in (0, 3), res.message  # 3: unbounded, the most is infinite
            return res

        # Optional shortcut for big tables: any two solutions are feasible tables, so a count
        # seen MIN_WIDTH apart in them is wide enough; its range is then only what was seen.
        seen = [[truth[hidden[i]]] for i in cols]
        for _ in range(probes):
            res = solve(rng.choice([-1.0, 1.0], size=len(cols)))
            if res.status == 0:
                for j in range(len(cols)):
                    seen[j].append(res.x[j])
        for j, i in enumerate(cols):
            if max(seen[j]) - min(seen[j]) >= MIN_WIDTH:
                ranges[hidden[i]] = (min(seen[j]), max(seen[j]), truth[hidden[i]])
                continue
            ends = []
            for sign in (1, -1):
                c = np.zeros(len(cols))
                c[j] = sign
                res = solve(c)
                ends.append(sign * res.fun if res.status == 0 else math.inf)
            ranges[hidden[i]] = (ends[0], ends[1], truth[hidden[i]])
    return ranges


def check(
    original: pl.DataFrame, out: pl.DataFrame, probes: int = 0
) -> dict[tuple, tuple[float, float, int]]:
    """Assert DESIGN s.7 on a suppressed table; return the hidden counts' ranges."""
    # No count from 1 to 10 anywhere, a suppressed row's denominator included.
    assert not out.filter(pl.col("numerator").is_between(1, THRESHOLD)).height
    assert not out.filter(pl.col("denominator").is_between(1, THRESHOLD)).height
    assert not out.filter(pl.col("suppressed") & pl.col("value").is_not_null()).height
    assert not out.filter(pl.col("suppressed") & pl.col("numerator").is_not_null()).height
    assert not out.filter(~pl.col("suppressed") & pl.col("value").is_null()).height
    assert out.select(
        pl.exclude("suppressed", "suppression_reason", "numerator", "denominator", "value")
    ).equals(original.select(pl.exclude("numerator", "denominator", "value")))
    ranges = lp_ranges(original, out, probes)
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


def test_a_small_numerator_takes_its_rate_but_leaves_a_large_denominator() -> None:
    # Nulling the 3 alone would leave 3 = 0.075 * 40: the value goes with it, then its set's
    # complement. The denominators (40 and 60) are no small count and stay shown.
    rows = [("all", "all", 23, 100), ("site", "A", 3, 40), ("site", "B", 20, 60)]
    t = frame(cells("arrested", rows))
    out = suppress(t)
    assert hidden_groups(out) == {"site/A": "small count", "site/B": "complementary"}
    hidden = out.filter(pl.col("suppressed")).sort("group")
    assert hidden["numerator"].null_count() == hidden["value"].null_count() == 2
    assert hidden["denominator"].to_list() == [40, 60]
    check(t, out)


def test_a_small_denominator_hides_its_whole_row_and_its_complement() -> None:
    # 4 of 6: the 6 is a small count itself, so the row shows nothing; the 6 then needs a
    # complement among the denominators, and the numerators of a hidden denominator go with it.
    rows = [("all", "all", 30, 100), ("site", "A", 4, 6), ("site", "B", 12, 40), ("site", "C", 14, 54)]
    t = frame(cells("treatment_engaged", rows))
    out = suppress(t)
    assert hidden_groups(out) == {
        "site/A": "small count",
        "site/B": "complementary",
    }
    hidden = out.filter(pl.col("suppressed"))
    assert hidden.select("numerator", "denominator", "value").null_count().row(0) == (2, 2, 2)
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


def test_days_in_jail_is_refused_it_counts_no_people() -> None:
    # 30 days over 12 participants: a numerator above its denominator is no error for days, but
    # a small sum of days can be one person's stay, which no rule here protects.
    t = frame(
        counts("active_participants", [("all", "all", 12)]), cells("jail_days", [("all", "all", 30, 12)])
    )
    with pytest.raises(ValueError, match="not a count of people"):
        suppress(t)


def test_a_new_offense_arrest_is_kept_wide_against_arrests(monkeypatch) -> None:
    # Site A: 5 of its 12 arrested for a new offense (small: hidden), B: 14 of 15, 19 of 27 in
    # all. Hiding B's 14 beside it leaves A + B = 19, free over 0..19 by the sums alone; but a new
    # offense arrest is an arrest (NESTED_FLAGS), so A <= 12 and B <= 15 pin A to 4..12.
    active = [("all", "all", 120), ("site", "A", 60), ("site", "B", 60)]
    t = frame(
        counts("active_participants", active),
        cells("arrested", [("all", "all", 27, 120), ("site", "A", 12, 60), ("site", "B", 15, 60)]),
        cells("new_offense_arrest", [("all", "all", 19, 120), ("site", "A", 5, 60), ("site", "B", 14, 60)]),
    )
    out = suppress(t)
    assert hidden_groups(out, "new_offense_arrest") == {"site/A": "small count", "site/B": "complementary"}
    # The nesting asks for more: here the arrests of both sites.
    assert hidden_groups(out, "arrested") == {"site/A": "complementary", "site/B": "complementary"}
    check(t, out)
    # Without the relation the same table would stop at two hidden cells, and A would be pinned.
    from pipelines.funder import disclosure

    monkeypatch.setattr(
        disclosure, "NESTED_FLAGS", tuple(r for r in NESTED_FLAGS if r != ("new_offense_arrest", "arrested"))
    )
    blind = suppress(t)
    assert blind["suppressed"].sum() == 2
    with pytest.raises(AssertionError, match="narrower"):
        check(t, blind)


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


def test_a_month_is_kept_wide_against_its_quarter() -> None:
    # Site A is 9 in May: hidden, and B with it (the sum). Within May alone B is free over 0..59,
    # but a quarter counts at least each month and at most their sum, so the shown quarter (52)
    # and the other months would pin B in May to 47..52: the quarter's B must go too.
    rows = []
    for period, a, b in [("2024-04", 12, 50), ("2024-05", 9, 50), ("2024-06", 12, 50), ("2024-Q2", 12, 52)]:
        rows += counts(
            "active_participants", [("all", "all", a + b), ("site", "A", a), ("site", "B", b)], period
        )
    t = frame(rows)
    out = suppress(t)
    hidden = {
        (r["period"], r["group"]): r["suppression_reason"]
        for r in out.filter(pl.col("suppressed")).to_dicts()
    }
    assert hidden[("2024-05", "A")] == "small count"
    assert hidden[("2024-05", "B")] == "complementary"
    assert any(period == "2024-Q2" for period, _ in hidden)
    check(t, out)


def test_a_count_is_kept_wide_against_the_metrics_it_is_nested_in() -> None:
    # Unsheltered 6 of 48 beside sheltered 40 of 48: sheltered + unsheltered <= housing_known in a
    # month, so shown as they are, unsheltered would lie in 0..8.
    known = [("all", "all", 100), ("site", "A", 48), ("site", "B", 52)]
    t = frame(
        cells("sheltered", [("all", "all", 80, 100), ("site", "A", 40, 48), ("site", "B", 40, 52)]),
        cells("unsheltered", [("all", "all", 18, 100), ("site", "A", 6, 48), ("site", "B", 12, 52)]),
        counts("active_participants", [("all", "all", 110), ("site", "A", 55), ("site", "B", 55)]),
        cells("permanent_housing", [(d, g, n // 2, n) for d, g, n in known]),
    )
    out = suppress(t)
    assert hidden_groups(out, "unsheltered")["site/A"] == "small count"
    assert hidden_groups(out, "sheltered") or hidden_groups(out, "permanent_housing")
    check(t, out)


def test_random_programs_over_a_quarter_hold_every_hidden_count_ten_wide() -> None:
    # Small programs month by month: nested housing statuses, arrests (new offense arrests within
    # them), bookings, and the quarter counted per participant (any month), so every relation of
    # the definitions is in play.
    rng = np.random.default_rng(8)
    months = ["2024-04", "2024-05", "2024-06"]
    metrics = [
        ("active_participants", "active", "active"),
        ("permanent_housing", "permanent_housing", "housing_known"),
        ("sheltered", "sheltered", "housing_known"),
        ("unsheltered", "unsheltered", "housing_known"),
        ("arrested", "arrested", "active"),
        ("new_offense_arrest", "new_offense_arrest", "active"),
        ("booked", "booked", "active"),
    ]
    for _ in range(12):
        people = int(rng.integers(40, 160))
        parts = [("all", "all", np.ones(people, bool))]
        for dimension, k in (("site", 3), ("gender", 2)):
            label = rng.integers(0, k, people)
            parts += [(dimension, f"g{i}", label == i) for i in range(k)]
        flags_in: dict[str, dict[str, np.ndarray]] = {}
        for month in months:
            active = rng.random(people) < 0.9
            known = active & (rng.random(people) < 0.85)
            status = rng.integers(0, 4, people)  # unsheltered, institutional, sheltered, permanent
            flags_in[month] = {
                "active": active,
                "housing_known": known,
                "unsheltered": known & (status == 0),
                "sheltered": known & (status >= 2),
                "permanent_housing": known & (status == 3),
                "arrested": active & (rng.random(people) < 0.1),
            }
            flags_in[month]["new_offense_arrest"] = flags_in[month]["arrested"] & (rng.random(people) < 0.7)
            flags_in[month]["booked"] = active & (rng.random(people) < 0.08)
        flags_in["2024-Q2"] = {
            f: np.logical_or.reduce([flags_in[m][f] for m in months]) for f in flags_in[months[0]]
        }
        rows = []
        for period, flag in flags_in.items():
            for metric, n, d in metrics:
                for dimension, group, mask in parts:
                    numerator, denominator = int((flag[n] & mask).sum()), int((flag[d] & mask).sum())
                    if denominator:
                        rows.append((metric, period, dimension, group, numerator, denominator))
        t = pl.DataFrame(
            rows, schema=["metric", "period", "dimension", "group", "numerator", "denominator"], orient="row"
        )
        check(t, suppress(t))


@contextmanager
def demo_release(root: Path, participants: int, sites: int, seed: int) -> Iterator[duckdb.DuckDBPyConnection]:
    """A demo program published as of 2024-07-15 (two years of referrals), its release open."""
    as_of = dt.date(2024, 7, 15)
    home = Home(root / "home")
    write_demo(home.inbox, participants=participants, sites=sites, months=24, seed=seed, as_of=as_of)
    run(home, as_of.isoformat())
    con = open_release(live_release(home.current))
    try:
        yield con
    finally:
        con.close()


def test_the_definitions_the_check_assumes_hold_on_every_participant_month(tmp_path) -> None:
    # suppression keeps hidden counts wide against pipelines.core.metrics.NESTED_FLAGS and
    # EXCLUSIVE_FLAGS: if a definition changed so that one no longer held, it would protect
    # against the wrong relations. Checked row by row on a demo's metric_flags.
    with demo_release(tmp_path, participants=300, sites=2, seed=3) as con:
        flags_of = con.sql("select * from metric_flags").pl()
    for a, b in NESTED_FLAGS:
        assert flags_of[a].any(), a
        assert not flags_of.filter(pl.col(a) & ~pl.col(b)).height, (a, b)
    for (a, b), c in EXCLUSIVE_FLAGS:
        assert not flags_of.filter(pl.col(a) & pl.col(b)).height, (a, b)
        assert not flags_of.filter((pl.col(a) | pl.col(b)) & ~pl.col(c)).height, (a, b, c)


def test_a_quarter_of_the_demo(tmp_path) -> None:
    # What a snapshot publishes: each month and the quarter, every dimension but case managers.
    with demo_release(tmp_path, participants=400, sites=3, seed=5) as con:
        t = cells_of(con, parse_period("2024-Q2"))
    assert set(t["period"]) == {"2024-04", "2024-05", "2024-06", "2024-Q2"}
    out = suppress(t)
    assert out["suppressed"].any() and not out["suppressed"].all()
    # A suppressed row keeps a denominator that is not itself small.
    assert out.filter(pl.col("suppressed") & pl.col("denominator").is_not_null()).height
    check(t, out, probes=8)
    # A release hands the same cells back in any order (DuckDB's grouping keeps none), and a
    # snapshot of the same archive must be byte-identical: the order changes nothing.
    again = suppress(t.sample(fraction=1.0, shuffle=True, seed=3))
    assert again.sort(KEY).equals(out.sort(KEY))
