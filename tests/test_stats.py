"""Statistics helpers: hand-worked examples and independent implementations."""

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from feasibility.stats import (
    format_number,
    mean_sd,
    median_iqr,
    n_pct,
    paired_change,
    proportion,
    response_rate,
    round_half_up,
    stata_centile,
    wilson_ci,
)


# ----------------------------------------------------------------------------- rounding
@pytest.mark.parametrize(
    "x, digits, expected",
    [
        (12.5, 0, 13.0),  # Python's round() gives 12 (half to even)
        (0.125, 2, 0.13),  # binary 0.125 is exact; half to even would give 0.12
        (-2.45, 1, -2.5),  # half away from zero for negatives
        (2.675, 2, 2.68),  # binary value is 2.67499999..., printed value 2.675
        (0.5, 0, 1.0),
        (-0.5, 0, -1.0),
        (1.005, 2, 1.01),
        (62.5, 0, 63.0),
        (0.75, 1, 0.8),
    ],
)
def test_round_half_up(x, digits, expected):
    assert round_half_up(x, digits) == expected


def test_round_half_up_gives_no_negative_zero_and_keeps_nan():
    r = round_half_up(-0.04, 1)
    assert r == 0.0 and math.copysign(1, r) == 1.0
    assert math.isnan(round_half_up(float("nan"), 1))


@pytest.mark.parametrize(
    "x, digits, drop, expected",
    [
        (-0.4, 1, False, "\u22120.4"),
        (-2.95, 1, False, "\u22123.0"),
        (-0.04, 1, False, "0.0"),  # rounds to zero: no sign, as Table 3's "0.0 (− 6.1 to 6.1)"
        (12.5, 1, True, "12.5"),
        (50.0, 1, True, "50"),
        (0.0, 1, True, "0"),
        (37.5, 0, True, "38"),
        (float("inf"), 0, False, "\u221e"),
        (float("nan"), 1, False, ""),
    ],
)
def test_format_number(x, digits, drop, expected):
    assert format_number(x, digits, drop_trailing_zeros=drop) == expected


# ----------------------------------------------------------------------------- summaries
def test_n_pct():
    assert n_pct(5, 8) == (5, 8, 62.5)
    assert math.isnan(n_pct(0, 0).percent)


def test_mean_sd_sample_sd_and_nan_dropped():
    # 2 4 4 4 5 5 7 9: mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, SD = sqrt(32/7)
    m = mean_sd([2, 4, 4, 4, np.nan, 5, 5, 7, 9])
    assert m.mean == 5.0 and m.n == 8
    assert m.sd == pytest.approx(math.sqrt(32 / 7))
    assert math.isnan(mean_sd([3.0]).sd) and mean_sd([3.0]).n == 1


def test_stata_centiles_n31_are_the_8th_16th_and_24th_values():
    # n = 31: 31*50/100 = 15.5 -> x(16); 31*25/100 = 7.75 -> x(8); 31*75/100 = 23.25 -> x(24)
    values = [1.5 * k for k in range(1, 32)]
    shuffled = list(np.random.default_rng(1).permutation(values))
    m = median_iqr(shuffled)
    assert (m.median, m.q1, m.q3, m.n) == (1.5 * 16, 1.5 * 8, 1.5 * 24, 31)


def test_stata_centiles_even_n_average_two_values():
    # n = 8: 8*50/100 = 4 (f = 0) -> (x4 + x5)/2 = 4.5; 8*25/100 = 2 -> (x2 + x3)/2 = 2.5;
    # 8*75/100 = 6 -> (x6 + x7)/2 = 6.5
    assert median_iqr([8, 1, 3, 2, 7, 5, 4, 6])[:3] == (4.5, 2.5, 6.5)


def test_stata_centiles_f_zero_and_f_positive():
    x = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert stata_centile(x, 25) == 30  # 10*25/100 = 2.5 -> x(3)
    assert stata_centile(x, 20) == 25  # 10*20/100 = 2 exactly -> (x2 + x3)/2
    assert stata_centile(x, 10) == 15  # 10*10/100 = 1 -> (x1 + x2)/2
    assert stata_centile([4, 1, 3, 2], 25) == 1.5  # 4*25/100 = 1 -> (x1 + x2)/2
    assert stata_centile([np.nan, 3, 1, 2], 50) == 2  # NaN dropped: n = 3, 1.5 -> x(2)
    assert math.isnan(stata_centile([], 50))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=40), st.sampled_from([10, 25, 50, 75, 90]))
def test_stata_centile_matches_hyndman_fan_type_2(x, p):
    # Stata's summarize definition is Hyndman & Fan's type 2, numpy's "averaged_inverted_cdf"
    expected = np.quantile(np.array(x, dtype=float), p / 100, method="averaged_inverted_cdf")
    assert stata_centile(x, p) == pytest.approx(float(expected))


# ----------------------------------------------------------------------------- change
def test_paired_change_worked_example():
    # changes -1, 0, -2 (the NaN pair is dropped): mean -1, SD 1,
    # half-width t(0.975, 2) * 1 / sqrt(3) = 4.302653 / 1.732051 = 2.484138
    ch = paired_change([5, 6, 7, np.nan, 3], [4, 6, 5, 2, np.nan])
    assert ch.n == 3 and ch.estimate == -1.0 and ch.sd == pytest.approx(1.0)
    assert ch.lower == pytest.approx(-3.484138, abs=1e-6)
    assert ch.upper == pytest.approx(1.484138, abs=1e-6)


@pytest.mark.parametrize(
    "baseline, follow_up",
    [
        ([5, 6, 7, 4], [7, 6, 4, 4]),
        ([0.5, 0.6, 0.7, 0.8, 0.3], [0.45, 0.55, 0.72, 0.6, 0.41]),
        ([20, 25, 30, 35, 40, 45, 50, 22, 19], [24, 20, 33, 30, 41, 50, 41, 22, 18]),
    ],
)
def test_paired_change_matches_scipy_ttest_rel(baseline, follow_up):
    ch = paired_change(baseline, follow_up)
    res = scipy.stats.ttest_rel(follow_up, baseline)
    ci = res.confidence_interval(0.95)
    assert ch.estimate == pytest.approx(np.mean(np.subtract(follow_up, baseline)))
    assert (ch.lower, ch.upper) == pytest.approx((ci.low, ci.high))
    ch90 = paired_change(baseline, follow_up, confidence=0.90)
    ci90 = res.confidence_interval(0.90)
    assert (ch90.lower, ch90.upper) == pytest.approx((ci90.low, ci90.high))


def test_paired_change_single_pair_has_no_interval():
    ch = paired_change([3.0], [5.0])
    assert ch.estimate == 2.0 and ch.n == 1 and math.isnan(ch.lower)
    assert paired_change([np.nan], [1.0]).n == 0


# ----------------------------------------------------------------------------- proportions
@pytest.mark.parametrize(
    "k, n, low, high",
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe (1998) Stat Med 17:857, example (a), method 3
        (15, 148, 0.0624, 0.1605),  # Newcombe (1998), example (b)
        # 10/12 by hand: z = 1.959964, z^2 = 3.841459, p = 0.833333; centre =
        # (p + z^2/24) / (1 + z^2/12) = 0.993394 / 1.320122 = 0.752501; half-width =
        # z / 1.320122 * sqrt(p(1-p)/12 + z^2/576) = 1.484685 * 0.135068 = 0.200534
        (10, 12, 0.5520, 0.9530),
    ],
)
def test_wilson_ci_worked_examples(k, n, low, high):
    lower, upper = wilson_ci(k, n)
    assert lower == pytest.approx(low, abs=1e-4) and upper == pytest.approx(high, abs=1e-4)


def test_wilson_ci_zero_events_closed_form():
    # k = 0: lower 0, upper = z^2 / (n + z^2) = 3.841459 / 13.841459 = 0.277533 (n = 10)
    lower, upper = wilson_ci(0, 10)
    assert lower == 0.0 and upper == pytest.approx(0.277533, abs=1e-6)
    assert all(math.isnan(v) for v in wilson_ci(0, 0))


def test_proportion_and_response_rate():
    # the paper's 6-week response: 8 of the 19 not counted as dropouts = 42%
    r = response_rate(8, 19)
    assert (r.count, r.denominator) == (8, 19)
    assert round_half_up(100 * r.proportion, 0) == 42
    assert r.lower < r.proportion < r.upper
    assert proportion(4, 8)[:3] == (4, 8, 0.5)
