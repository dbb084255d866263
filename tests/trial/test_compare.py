"""Between-arm differences (feasibility.analysis.compare) against published worked
examples and an independent implementation (scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from feasibility.analysis.compare import mean_difference, risk_difference


# Newcombe (1998), Stat Med 17:873, Table II, method 10 (hybrid score, no continuity
# correction): the paper's worked examples, to 4 decimals.
@pytest.mark.parametrize(
    "k1, n1, k2, n2, lower, upper",
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
    ],
)
def test_newcombe_hybrid_score_interval_reproduces_the_published_examples(k1, n1, k2, n2, lower, upper):
    d = risk_difference(k1, n1, k2, n2)
    assert d.estimate == pytest.approx(k1 / n1 - k2 / n2)
    assert round(d.lower, 4) == pytest.approx(lower, abs=1e-4)
    assert round(d.upper, 4) == pytest.approx(upper, abs=1e-4)


def test_newcombe_interval_is_built_from_the_arms_wilson_intervals():
    """The formula written out independently: Wilson limits, then Newcombe's square roots."""
    k1, n1, k2, n2, conf = 23, 61, 11, 58, 0.90
    z = stats.norm.ppf(1 - (1 - conf) / 2)

    def wilson(k, n):
        p = k / n
        centre = (2 * k + z * z) / (2 * (n + z * z))
        half = z * math.sqrt(z * z + 4 * k * (1 - p)) / (2 * (n + z * z))
        return centre - half, centre + half

    (l1, u1), (l2, u2) = wilson(k1, n1), wilson(k2, n2)
    p1, p2 = k1 / n1, k2 / n2
    d = risk_difference(k1, n1, k2, n2, conf)
    assert d.lower == pytest.approx(p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), rel=1e-12)
    assert d.upper == pytest.approx(p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), rel=1e-12)


def test_risk_difference_of_an_empty_arm_is_missing():
    d = risk_difference(3, 10, 0, 0)
    assert math.isnan(d.estimate) and math.isnan(d.lower) and (d.n1, d.n2) == (10, 0)
    with pytest.raises(ValueError, match="not one of newcombe"):
        risk_difference(1, 2, 1, 2, method="wald")


@pytest.mark.parametrize("method, equal_var", [("welch", False), ("pooled", True)])
def test_mean_difference_t_intervals_agree_with_scipy(method, equal_var):
    rng = np.random.default_rng(5)
    a = rng.normal(10, 3, 37)
    b = rng.normal(8, 6, 52)
    a[[3, 9]] = np.nan  # missing values are left out
    d = mean_difference(a, b, 0.95, method)
    ref = stats.ttest_ind(a[~np.isnan(a)], b, equal_var=equal_var).confidence_interval(0.95)
    assert d.estimate == pytest.approx(np.nanmean(a) - b.mean(), rel=1e-12)
    assert (d.lower, d.upper) == pytest.approx((ref.low, ref.high), rel=1e-10)
    assert (d.n1, d.n2) == (35, 52)


def test_mean_difference_needs_two_values_per_arm_for_an_interval():
    d = mean_difference([4.0], [1.0, 2.0, 3.0])
    assert d.estimate == pytest.approx(2.0) and math.isnan(d.lower) and math.isnan(d.upper)
    assert math.isnan(mean_difference([], [1.0, 2.0]).estimate)
    same = mean_difference([2.0, 2.0], [1.0, 1.0])  # no spread: a zero-width interval
    assert (same.lower, same.upper) == (1.0, 1.0)
