"""The intervals in dashboard/stats.py, each against a computation written out step by step.

Every step below was worked with the formula on paper (to 6 decimals); the tests check the
function and the arithmetic of each step, so a wrong step fails here, not on a page.
"""

from __future__ import annotations

import warnings
from math import exp, inf, log, sqrt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.proportion import confint_proportions_2indep

from dashboard import stats
from dashboard.stats import (
    LOG,
    SCORE,
    SCORE_BELOW,
    Z95,
    katz_ratio,
    newcombe_paired_difference,
    paired_phi,
    proportion_difference,
    rate_ratio,
    score_ratio,
    wilson_interval,
    z_value,
)

Z = 1.959964  # the 97.5th percentile of the standard normal
Z2 = 3.841459  # Z squared
STEP = 1e-6  # each written-out step is rounded to 6 decimals


def test_z_value() -> None:
    assert Z95 == pytest.approx(Z, abs=STEP)
    assert Z95**2 == pytest.approx(Z2, abs=STEP)
    assert z_value(0.90) == pytest.approx(1.644854, abs=STEP)
    assert z_value(0.99) == pytest.approx(2.575829, abs=STEP)
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError):
            z_value(bad)


# --- Wilson ------------------------------------------------------------------------------


def test_wilson_by_hand() -> None:
    # Wilson (1927): (x + z²/2 ± z·sqrt(x(n − x)/n + z²/4)) / (n + z²). For 81 of 263:
    x, n = 81, 263
    centre = x + Z2 / 2  # 81 + 1.920729 = 82.920729
    assert centre == pytest.approx(82.920729, abs=STEP)
    inside = x * (n - x) / n + Z2 / 4  # 81·182/263 + 0.960365 = 56.053232 + 0.960365 = 57.013597
    assert inside == pytest.approx(57.013597, abs=STEP)
    half = Z * sqrt(inside)  # 1.959964 × 7.550735 = 14.799178
    assert sqrt(inside) == pytest.approx(7.550735, abs=STEP)
    assert half == pytest.approx(14.799178, abs=1e-5)
    scale = n + Z2  # 266.841459
    low, high = (centre - half) / scale, (centre + half) / scale  # 68.121551 / ..., 97.719907 / ...
    assert low == pytest.approx(0.255289, abs=STEP)
    assert high == pytest.approx(0.366210, abs=STEP)
    assert wilson_interval(x, n) == pytest.approx((low, high), abs=STEP)
    # The same example in Newcombe (1998a), Statistics in Medicine 17:857-872, Table I: 0.2553 to 0.3662.
    assert wilson_interval(x, n) == pytest.approx((0.2553, 0.3662), abs=5e-5)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        # Newcombe (1998a), Table I, method 3 (Wilson score, no continuity correction).
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_published_examples(x: int, n: int, low: float, high: float) -> None:
    assert wilson_interval(x, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_edges() -> None:
    # 0 of n: the low limit is exactly 0, the high one z²/(n + z²); n of n mirrors it.
    assert wilson_interval(0, 10) == (0.0, pytest.approx(Z2 / (10 + Z2), abs=STEP))
    assert wilson_interval(10, 10) == (pytest.approx(10 / (10 + Z2), abs=STEP), 1.0)
    for x, n in ((-1, 10), (11, 10), (0, 0)):
        with pytest.raises(ValueError):
            wilson_interval(x, n)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_the_share_and_mirrors(case: tuple[int, int]) -> None:
    x, n = case
    low, high = wilson_interval(x, n)
    assert 0 <= low <= x / n <= high <= 1
    mirror_low, mirror_high = wilson_interval(n - x, n)
    assert mirror_low == pytest.approx(1 - high, abs=1e-12)
    assert mirror_high == pytest.approx(1 - low, abs=1e-12)


def test_wilson_narrows_with_more_data() -> None:
    widths = [high - low for low, high in (wilson_interval(3 * k, 10 * k) for k in (1, 10, 100, 1000))]
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < 0.03


# --- Newcombe, method 10 -------------------------------------------------------------------


def test_newcombe_worked_example_by_hand() -> None:
    """The paired table a = 12 (both), b = 9, c = 2 (discordant), d = 1 (neither), n = 24.

    In Newcombe's notation the difference is p1 − p2 with p1 = (a + b)/n, p2 = (a + c)/n; here
    the first classification is "after" (after only = b = 9) and the second "before" (before
    only = c = 2), so our after-minus-before difference is his p1 − p2.

    The brief remembered this table as giving 0.2500 (0.0017 to 0.4514). That cannot be this
    table: any method's point estimate is (b − c)/n = 7/24 = 0.2917. The careful computation
    below gives 0.2917 (0.0311 to 0.5078), and that is what we test.
    """
    a, b, c, d = 12, 9, 2, 1
    n = a + b + c + d
    assert n == 24
    p1, p2 = (a + b) / n, (a + c) / n  # 21/24 = 0.875, 14/24 = 0.583333
    theta = p1 - p2  # 7/24 = 0.291667
    assert theta == pytest.approx(0.291667, abs=STEP)

    # Step 1: Wilson limits of p1 = 21/24.
    #   centre 21 + z²/2 = 22.920729; inside 21·3/24 + z²/4 = 2.625 + 0.960365 = 3.585365;
    #   sqrt 1.893506; half 1.959964 × 1.893506 = 3.711203; scale 24 + z² = 27.841459.
    l1, u1 = (22.920729 - 3.711203) / 27.841459, (22.920729 + 3.711203) / 27.841459
    assert (l1, u1) == pytest.approx((0.689961, 0.956557), abs=STEP)
    # Step 2: Wilson limits of p2 = 14/24.
    #   centre 14 + 1.920729 = 15.920729; inside 14·10/24 + 0.960365 = 6.793698;
    #   sqrt 2.606472; half 1.959964 × 2.606472 = 5.108592.
    l2, u2 = (15.920729 - 5.108592) / 27.841459, (15.920729 + 5.108592) / 27.841459
    assert (l2, u2) == pytest.approx((0.388347, 0.755324), abs=STEP)
    assert wilson_interval(21, 24) == pytest.approx((l1, u1), abs=STEP)
    assert wilson_interval(14, 24) == pytest.approx((l2, u2), abs=STEP)

    # Step 3: phi. ad − bc = 12 − 18 = −6: negative, so no correction. The margins' product
    #   (a+b)(c+d)(a+c)(b+d) = 21·3·14·10 = 8820, sqrt 93.914855; phi = −6/93.914855 = −0.063888.
    phi = -6 / sqrt(8820)
    assert phi == pytest.approx(-0.063888, abs=STEP)
    assert paired_phi(both=a, before_only=c, after_only=b, neither=d) == pytest.approx(phi, abs=1e-12)

    # Step 4: the lower distance δ = sqrt((p1 − l1)² − 2φ(p1 − l1)(u2 − p2) + (u2 − p2)²)
    #   p1 − l1 = 0.185039; u2 − p2 = 0.171991;
    #   δ² = 0.034239 + 0.004066 + 0.029581 = 0.067886; δ = 0.260551.
    delta = sqrt(0.185039**2 - 2 * phi * 0.185039 * 0.171991 + 0.171991**2)
    assert delta == pytest.approx(0.260551, abs=1e-5)
    # Step 5: the upper distance ε = sqrt((u1 − p1)² − 2φ(u1 − p1)(p2 − l2) + (p2 − l2)²)
    #   u1 − p1 = 0.081557; p2 − l2 = 0.194987;
    #   ε² = 0.006652 + 0.002032 + 0.038020 = 0.046704; ε = 0.216109.
    epsilon = sqrt(0.081557**2 - 2 * phi * 0.081557 * 0.194987 + 0.194987**2)
    assert epsilon == pytest.approx(0.216109, abs=1e-5)

    # Step 6: L = θ − δ = 0.031116, U = θ + ε = 0.507776.
    low, high = theta - delta, theta + epsilon
    assert (low, high) == pytest.approx((0.0311, 0.5078), abs=5e-5)

    result = newcombe_paired_difference(both=a, before_only=c, after_only=b, neither=d)
    assert result == pytest.approx((theta, low, high), abs=1e-5)
    assert result == pytest.approx((0.2917, 0.0311, 0.5078), abs=5e-5)
    # What the brief remembered is not what the method gives for this table.
    assert result[0] != pytest.approx(0.25, abs=1e-3)


def test_newcombe_with_the_phi_correction_by_hand() -> None:
    """a = 14, b = 5, c = 0, d = 22 (Altman et al. 2000, Statistics with Confidence, Table 6.2).

    Here ad − bc = 308 > n/2, so Newcombe's correction applies: phi = (308 − 20.5)/sqrt(...).
    """
    a, b, c, d = 14, 5, 0, 22
    n = 41
    theta = (b - c) / n  # 5/41 = 0.121951
    # Wilson of 19/41: centre 20.920729, inside 19·22/41 + 0.960365 = 11.155487, sqrt 3.339983,
    #   half 6.546246, scale 44.841459 -> 0.320562 to 0.612535.
    l1, u1 = (20.920729 - 6.546246) / 44.841459, (20.920729 + 6.546246) / 44.841459
    assert wilson_interval(19, 41) == pytest.approx((l1, u1), abs=STEP)
    # Wilson of 14/41: centre 15.920729, inside 14·27/41 + 0.960365 = 10.179877, sqrt 3.190592,
    #   half 6.253445 -> 0.215588 to 0.494502.
    l2, u2 = (15.920729 - 6.253445) / 44.841459, (15.920729 + 6.253445) / 44.841459
    assert wilson_interval(14, 41) == pytest.approx((l2, u2), abs=STEP)
    # phi: margins 19·22·14·27 = 158004, sqrt 397.497170; (308 − 20.5)/397.497170 = 0.723276.
    phi = (308 - 41 / 2) / sqrt(158004)
    assert phi == pytest.approx(0.723276, abs=STEP)
    assert paired_phi(both=a, before_only=c, after_only=b, neither=d) == pytest.approx(phi, abs=1e-12)
    p1, p2 = 19 / 41, 14 / 41
    # δ² = 0.142852² − 2·0.723276·0.142852·0.153038 + 0.153038² = 0.012203; δ = 0.110468.
    delta = sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    assert delta == pytest.approx(0.110468, abs=1e-5)
    # ε² = 0.149121² − 2·0.723276·0.149121·0.125875 + 0.125875² = 0.010929; ε = 0.104541.
    epsilon = sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    assert epsilon == pytest.approx(0.104541, abs=1e-5)
    result = newcombe_paired_difference(both=a, before_only=c, after_only=b, neither=d)
    assert result == pytest.approx((theta, theta - delta, theta + epsilon), abs=1e-5)
    assert result == pytest.approx((0.1220, 0.0115, 0.2265), abs=5e-5)


@pytest.mark.parametrize(
    ("counts", "phi"),
    [
        ((10, 0, 0, 10), (100 - 10) / 100),  # ad − bc = 100 > n/2 = 10: less n/2, then / 100
        ((5, 5, 5, 6), 0.0),  # ad − bc = 5 <= n/2 = 10.5: the correction takes it to 0
        ((1, 5, 5, 1), -24 / 36),  # negative: uncorrected
        ((0, 0, 0, 7), 0.0),  # a margin of 0: nothing to correlate
    ],
)
def test_paired_phi(counts: tuple[int, int, int, int], phi: float) -> None:
    assert paired_phi(*counts) == pytest.approx(phi, abs=1e-12)


def test_newcombe_edges() -> None:
    # No one arrested in either period: a difference of 0 with an interval around it.
    difference, low, high = newcombe_paired_difference(0, 0, 0, 30)
    assert difference == 0 and low <= 0 <= high and -1 <= low and high <= 1
    # Everyone moved from arrested to not: the interval stays within [−1, 1].
    difference, low, high = newcombe_paired_difference(0, 30, 0, 0)
    assert difference == -1 and low == -1 and high < 0
    with pytest.raises(ValueError):
        newcombe_paired_difference(0, 0, 0, 0)
    with pytest.raises(ValueError):
        newcombe_paired_difference(1, -1, 0, 0)


paired_counts = st.tuples(*[st.integers(0, 400)] * 4).filter(lambda t: sum(t) > 0)


@given(paired_counts)
def test_newcombe_contains_the_estimate(counts: tuple[int, int, int, int]) -> None:
    both, before_only, after_only, neither = counts
    difference, low, high = newcombe_paired_difference(*counts)
    assert difference == pytest.approx((after_only - before_only) / sum(counts))
    assert -1 <= low <= difference <= high <= 1


@given(paired_counts)
def test_newcombe_swapping_periods_mirrors_the_interval(counts: tuple[int, int, int, int]) -> None:
    both, before_only, after_only, neither = counts
    difference, low, high = newcombe_paired_difference(*counts)
    mirrored = newcombe_paired_difference(both, after_only, before_only, neither)
    assert mirrored == pytest.approx((-difference, -high, -low), abs=1e-12)


def test_newcombe_symmetric_table_is_centred_on_zero() -> None:
    difference, low, high = newcombe_paired_difference(20, 7, 7, 20)
    assert difference == 0
    assert low == pytest.approx(-high, abs=1e-12)


def test_newcombe_narrows_with_more_data() -> None:
    widths = []
    for k in (1, 10, 100):
        _, low, high = newcombe_paired_difference(12 * k, 9 * k, 2 * k, 1 * k)
        widths.append(high - low)
    assert widths == sorted(widths, reverse=True)


def test_newcombe_pairing_narrows_the_interval() -> None:
    # Same margins, stronger agreement between periods: a narrower interval than independence.
    _, low_paired, high_paired = newcombe_paired_difference(40, 5, 15, 40)
    _, low_loose, high_loose = newcombe_paired_difference(22, 23, 33, 22)
    assert high_paired - low_paired < high_loose - low_loose


def test_newcombe_other_confidence_levels() -> None:
    _, low90, high90 = newcombe_paired_difference(12, 2, 9, 1, confidence=0.90)
    _, low95, high95 = newcombe_paired_difference(12, 2, 9, 1)
    _, low99, high99 = newcombe_paired_difference(12, 2, 9, 1, confidence=0.99)
    assert low99 < low95 < low90 and high90 < high95 < high99


# --- rate ratio: the log (Katz) interval ----------------------------------------------------


def test_katz_ratio_by_hand() -> None:
    # 20 of 100 against 10 of 100: ratio 0.2/0.1 = 2.
    # SE = sqrt(1/20 − 1/100 + 1/10 − 1/100) = sqrt(0.05 − 0.01 + 0.1 − 0.01) = sqrt(0.13) = 0.360555.
    se = sqrt(0.13)
    assert se == pytest.approx(0.360555, abs=STEP)
    # log 2 = 0.693147; ± 1.959964 × 0.360555 = ± 0.706675 -> exp(−0.013528), exp(1.399822).
    assert Z * se == pytest.approx(0.706675, abs=STEP)
    low, high = exp(log(2) - Z * se), exp(log(2) + Z * se)
    assert (low, high) == pytest.approx((0.986563, 4.054479), abs=1e-5)
    assert katz_ratio(20, 100, 10, 100) == pytest.approx((2.0, low, high), abs=1e-5)


def test_katz_ratio_unequal_groups_by_hand() -> None:
    # 59 of 232 against 48 of 175: ratio (59/232)/(48/175) = 0.254310/0.274286 = 0.927173.
    ratio = (59 / 232) / (48 / 175)
    assert ratio == pytest.approx(0.927173, abs=STEP)
    # SE² = 1/59 − 1/232 + 1/48 − 1/175 = 0.016949 − 0.004310 + 0.020833 − 0.005714 = 0.027758.
    se = sqrt(1 / 59 - 1 / 232 + 1 / 48 - 1 / 175)
    assert se**2 == pytest.approx(0.027758, abs=STEP)
    low, high = ratio * exp(-Z * se), ratio * exp(Z * se)
    assert katz_ratio(59, 232, 48, 175) == pytest.approx((ratio, low, high), abs=1e-6)


# Fagerland, Lydersen and Laake (2017), Statistical Analysis of Contingency Tables, ch. 4: high
# against standard dose of epinephrine (Perondi et al., 2004), 7 of 34 against 1 of 34.
PERONDI = (7, 34, 1, 34)


def test_katz_and_score_against_the_published_example() -> None:
    assert katz_ratio(*PERONDI) == pytest.approx((7.0, 0.9096, 53.8695), abs=5e-5)
    # Koopman's asymptotic score interval: narrower, and away from 1, where Katz's crosses it.
    assert score_ratio(*PERONDI) == pytest.approx((7.0, 1.2209, 42.5757), abs=5e-5)
    # A reference numerator of 1 is under SCORE_BELOW: the ratio takes the score interval.
    assert rate_ratio(*PERONDI) == pytest.approx((7.0, 1.2209, 42.5757, SCORE), abs=5e-5)


@pytest.mark.parametrize("counts", [(0, 10, 5, 10), (5, 10, 0, 10), (0, 0, 5, 10), (0, 10, 0, 10)])
def test_katz_ratio_zero_counts_give_none(counts: tuple[int, int, int, int]) -> None:
    assert katz_ratio(*counts) is None


@pytest.mark.parametrize("function", [katz_ratio, score_ratio, rate_ratio])
def test_ratios_refuse_impossible_counts(function: object) -> None:
    for counts in ((11, 10, 1, 10), (1, 10, -1, 10), (1, 10, 11, 10)):
        with pytest.raises(ValueError):
            function(*counts)  # type: ignore[operator]


@given(st.integers(1, 500), st.integers(0, 500), st.integers(1, 500), st.integers(0, 500))
def test_katz_ratio_properties(a: int, extra1: int, c: int, extra2: int) -> None:
    n1, n2 = a + extra1, c + extra2
    ratio, low, high = katz_ratio(a, n1, c, n2)
    assert low <= ratio <= high
    # Swapping the groups inverts the ratio and its interval.
    inverse, inverse_low, inverse_high = katz_ratio(c, n2, a, n1)
    assert inverse == pytest.approx(1 / ratio)
    assert (inverse_low, inverse_high) == pytest.approx((1 / high, 1 / low))
    # On the log scale the interval is symmetric about the ratio.
    assert log(high) - log(ratio) == pytest.approx(log(ratio) - log(low), abs=1e-9)


def test_katz_ratio_narrows_with_more_data() -> None:
    widths = []
    for k in (1, 10, 100):
        _, low, high = katz_ratio(3 * k, 10 * k, 2 * k, 10 * k)
        widths.append(log(high) - log(low))
    assert widths == sorted(widths, reverse=True)
    ratio, low, high = katz_ratio(30, 100, 30, 100)
    assert ratio == 1 and low < 1 < high


# --- rate ratio: the score interval, and which one a ratio gets ----------------------------


def score_pvalue(counts: tuple[int, int, int, int], ratio: float) -> float:
    """statsmodels' two-sided score test that the true ratio is `ratio` (Koopman, no correction)."""
    with warnings.catch_warnings():  # a group at 100% divides by zero on the way (harmlessly)
        warnings.simplefilter("ignore", RuntimeWarning)
        result = sm_proportion.test_proportions_2indep(
            *counts, value=ratio, compare="ratio", method="score", correction=False
        )
    return float(result.pvalue)


def test_score_ratio_is_statsmodels_score_interval() -> None:
    counts = (3, 20, 8, 25)
    low, high = confint_proportions_2indep(*counts, compare="ratio", method="score", correction=False)
    assert score_ratio(*counts) == pytest.approx(((3 / 20) / (8 / 25), low, high), rel=1e-12)
    # Its limits are the ratios the score test rejects at exactly 5%.
    assert score_pvalue(counts, low) == pytest.approx(0.05, abs=1e-6)
    assert score_pvalue(counts, high) == pytest.approx(0.05, abs=1e-6)


def test_a_zero_numerator_gets_a_score_interval_from_zero() -> None:
    # 0 of 16 against 15 of 72: no log interval (log 0), but the score test rejects every ratio
    # above 0.9619, and none at or near 0.
    counts = (0, 16, 15, 72)
    assert katz_ratio(*counts) is None
    ratio, low, high = score_ratio(*counts)
    assert (ratio, low) == (0.0, 0.0)
    assert high == pytest.approx(0.961902, abs=STEP)
    assert score_pvalue(counts, high) == pytest.approx(0.05, abs=1e-6)
    assert rate_ratio(*counts) == pytest.approx((0.0, 0.0, high, SCORE))


@pytest.mark.parametrize(
    ("counts", "inside", "outside"),
    [
        ((1, 1, 1, 3), 1.0, 0.3),  # the group at 100%: statsmodels' closed form gives 2.0 to 20.2
        ((5, 5, 3, 3), 1.2, 0.4),  # both at 100%
        ((0, 1, 4, 4), 0.5, 0.9),  # the reference at 100%, the group at 0
        ((4, 9, 6, 6), 0.5, 0.15),
    ],
)
def test_score_ratio_where_a_group_is_at_100_percent(
    counts: tuple[int, int, int, int], inside: float, outside: float
) -> None:
    ratio, low, high = score_ratio(*counts)
    assert low <= ratio <= high
    assert low < inside < high and not low < outside < high
    # Each limit is where statsmodels' own score test falls to 5%; a limit of 0 is the group's 0.
    if counts[0] > 0:
        assert score_pvalue(counts, low) == pytest.approx(0.05, abs=1e-6)
    assert score_pvalue(counts, high) == pytest.approx(0.05, abs=1e-6)
    assert score_pvalue(counts, inside) > 0.05 > score_pvalue(counts, outside)


@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 40), st.integers(1, 40))
def test_score_inversion_agrees_with_statsmodels_closed_form(a: int, rest1: int, c: int, rest2: int) -> None:
    """Where neither group is at 100%, inverting the score test gives statsmodels' interval."""
    n1, n2 = a + rest1, c + rest2
    expected = confint_proportions_2indep(a, n1, c, n2, compare="ratio", method="score", correction=False)
    inverted = stats._inverted_score_interval(a, n1, c, n2, 0.05)
    assert inverted == pytest.approx(tuple(float(x) for x in expected), rel=1e-7)


@given(st.integers(0, 60), st.integers(0, 60), st.integers(1, 60), st.integers(0, 60))
def test_score_ratio_properties(a: int, extra1: int, c: int, extra2: int) -> None:
    n1, n2 = max(a + extra1, 1), c + extra2
    ratio, low, high = score_ratio(a, n1, c, n2)
    assert 0 <= low <= ratio <= high < inf
    if a > 0:
        # Swapping the groups inverts the ratio and its interval.
        inverse, inverse_low, inverse_high = score_ratio(c, n2, a, n1)
        assert inverse == pytest.approx(1 / ratio)
        assert (inverse_low, inverse_high) == pytest.approx((1 / high, 1 / low), rel=1e-6)


@pytest.mark.parametrize(
    ("counts", "method"),
    [
        ((9, 100, 50, 100), SCORE),  # the group's numerator under 10
        ((50, 100, 9, 100), SCORE),  # the reference's
        ((10, 100, 10, 100), LOG),  # both 10 or more
        ((400, 1000, 10, 40), LOG),
    ],
)
def test_rate_ratio_takes_the_score_interval_under_ten(
    counts: tuple[int, int, int, int], method: str
) -> None:
    assert SCORE_BELOW == 10
    result = rate_ratio(*counts)
    assert result is not None and result.method == method
    expected = score_ratio(*counts) if method == SCORE else katz_ratio(*counts)
    assert tuple(result[:3]) == pytest.approx(expected)
    sm = confint_proportions_2indep(
        *counts, compare="ratio", method="score" if method == SCORE else "log", correction=False
    )
    assert (result.low, result.high) == pytest.approx(tuple(float(x) for x in sm))


@pytest.mark.parametrize("counts", [(5, 10, 0, 10), (0, 10, 0, 10), (0, 0, 5, 10), (3, 10, 0, 0)])
def test_rate_ratio_none_without_a_reference_rate_or_a_group(counts: tuple[int, int, int, int]) -> None:
    assert rate_ratio(*counts) is None


# --- difference of two independent shares (Newcombe) ---------------------------------------


@pytest.mark.parametrize(
    ("counts", "interval"),
    [
        # Newcombe (1998), "Interval estimation for the difference between independent
        # proportions", Statistics in Medicine 17:873-90, Table II, method 10.
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((6, 7, 2, 7), (0.0582, 0.8062)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ],
)
def test_proportion_difference_published_examples(
    counts: tuple[int, int, int, int], interval: tuple[float, float]
) -> None:
    difference, low, high = proportion_difference(*counts)
    assert difference == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (low, high) == pytest.approx(interval, abs=5e-5)


def test_proportion_difference_by_hand() -> None:
    # Newcombe's method 10 adds the distances from each share to its own Wilson limits.
    # Wilson, 56 of 70: centre 56 + 1.920729 = 57.920729; inside 56·14/70 + 0.960365 = 12.160365,
    # half 1.959964 × 3.487171 = 6.834731; over 73.841459: 0.691834 to 0.876953.
    # Wilson, 48 of 80: centre 49.920729; inside 48·32/80 + 0.960365 = 20.160365, half
    # 1.959964 × 4.490029 = 8.800296; over 83.841459: 0.490455 to 0.700382.
    assert wilson_interval(56, 70) == pytest.approx((0.691834, 0.876953), abs=STEP)
    assert wilson_interval(48, 80) == pytest.approx((0.490455, 0.700382), abs=STEP)
    # Low: 0.2 − sqrt((0.8 − 0.691834)² + (0.700382 − 0.6)²) = 0.2 − sqrt(0.011700 + 0.010077)
    # = 0.2 − 0.147570 = 0.052430. High: 0.2 + sqrt((0.876953 − 0.8)² + (0.6 − 0.490455)²)
    # = 0.2 + sqrt(0.005922 + 0.012000) = 0.2 + 0.133873 = 0.333873.
    assert proportion_difference(56, 70, 48, 80) == pytest.approx((0.2, 0.052430, 0.333873), abs=2e-6)


def test_proportion_difference_edges() -> None:
    assert proportion_difference(10, 10, 0, 20)[2] == 1.0  # never past 100 points
    difference, low, high = proportion_difference(0, 10, 0, 10)
    assert difference == 0 and low < 0 < high and low == pytest.approx(-high)
    for bad in ((1, 0, 1, 10), (11, 10, 1, 10), (1, 10, -1, 10)):
        with pytest.raises(ValueError):
            proportion_difference(*bad)
