"""Between-arm differences with their confidence intervals (a table's ``difference``).

Two methods, chosen per kind of outcome and documented in every table that prints them:

* **Binary outcomes: the risk difference** p1 - p2 with **Newcombe's hybrid score
  interval** (Newcombe 1998, Stat Med 17:873, method 10), built from each arm's Wilson
  score interval (l_i, u_i) without continuity correction::

      lower = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)
      upper = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)

  It keeps its coverage near the nominal level for small arms and proportions near 0 or 1,
  where the Wald interval does not, and it is never degenerate (0/n vs 0/m gives an
  interval around 0). Newcombe's worked example 56/70 - 48/80 gives 0.2000
  (0.0524 to 0.3339); tests/trial/test_compare.py checks it.
* **Continuous outcomes: the mean difference** x1 - x2 with a **t interval**: Welch's
  (unequal variances, Welch-Satterthwaite degrees of freedom; the default, as R's
  ``t.test`` and gtsummary's ``add_difference``) or the pooled-variance interval
  (``continuous: pooled``).

Differences are of the first arm named (the intervention, ``arms.intervention``) minus
the second (``arms.control``); the estimates are unadjusted (no covariates).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import special as _special

from feasibility.stats import wilson_ci

BINARY_METHODS = ("newcombe",)
CONTINUOUS_METHODS = ("welch", "pooled")
METHOD_TEXT = {
    "newcombe": "risk difference in percentage points with Newcombe's hybrid score interval "
    "(method 10, from the arms' Wilson intervals)",
    "welch": "mean difference with Welch's t interval (unequal variances)",
    "pooled": "mean difference with the pooled-variance t interval",
}


class Difference(NamedTuple):
    """A between-arm difference: estimate and interval, the numbers in each arm, the method."""

    estimate: float
    lower: float
    upper: float
    n1: int
    n2: int
    method: str


def risk_difference(
    k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95, method: str = "newcombe"
) -> Difference:
    """p1 - p2 = k1/n1 - k2/n2 (as proportions) with Newcombe's hybrid score interval."""
    if method not in BINARY_METHODS:
        raise ValueError(f"binary difference method {method!r} is not one of {', '.join(BINARY_METHODS)}")
    if n1 <= 0 or n2 <= 0:
        return Difference(math.nan, math.nan, math.nan, int(n1), int(n2), method)
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_ci(k1, n1, confidence)
    l2, u2 = wilson_ci(k2, n2, confidence)
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(d, lower, upper, int(n1), int(n2), method)


def _values(x) -> np.ndarray:
    v = np.asarray(x, dtype=float)
    return v[~np.isnan(v)]


def mean_difference(x1, x2, confidence: float = 0.95, method: str = "welch") -> Difference:
    """mean(x1) - mean(x2) over the non-missing values, with a Welch or pooled t interval."""
    if method not in CONTINUOUS_METHODS:
        raise ValueError(
            f"continuous difference method {method!r} is not one of {', '.join(CONTINUOUS_METHODS)}"
        )
    a, b = _values(x1), _values(x2)
    n1, n2 = a.size, b.size
    if n1 == 0 or n2 == 0:
        return Difference(math.nan, math.nan, math.nan, n1, n2, method)
    d = float(a.mean() - b.mean())
    if n1 < 2 or n2 < 2:
        return Difference(d, math.nan, math.nan, n1, n2, method)
    v1, v2 = float(a.var(ddof=1)), float(b.var(ddof=1))
    if method == "welch":
        se2 = v1 / n1 + v2 / n2
        if se2 == 0:
            return Difference(d, d, d, n1, n2, method)
        df = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
        se = math.sqrt(se2)
    else:
        df = n1 + n2 - 2
        pooled = ((n1 - 1) * v1 + (n2 - 1) * v2) / df
        se = math.sqrt(pooled * (1 / n1 + 1 / n2))
    half = float(_special.stdtrit(df, 1 - (1 - confidence) / 2)) * se
    return Difference(d, d - half, d + half, n1, n2, method)


__all__ = [
    "Difference",
    "risk_difference",
    "mean_difference",
    "METHOD_TEXT",
    "BINARY_METHODS",
    "CONTINUOUS_METHODS",
]
