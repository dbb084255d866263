"""Descriptive statistics used by every table of the report.

Pure functions on numbers and vectors. The definitions follow the paper's
analysis (Methods: descriptive statistics, change scores "within a 95%
confidence interval", centiles as printed by Stata) and the study configuration
(``statistics`` in ``config/config.yaml``: Stata centiles, Wilson intervals).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import pandas as pd

MINUS = "\u2212"  # the typographic minus sign the paper prints in negatives


class NPct(NamedTuple):
    count: int
    denominator: int
    percent: float


class MeanSD(NamedTuple):
    mean: float
    sd: float
    n: int


class MedianIQR(NamedTuple):
    median: float
    q1: float
    q3: float
    n: int


class PairedChange(NamedTuple):
    """Mean within-person change (follow-up minus baseline) with its t interval."""

    estimate: float
    sd: float
    lower: float
    upper: float
    n: int


class Proportion(NamedTuple):
    count: int
    denominator: int
    proportion: float
    lower: float
    upper: float


# ----------------------------------------------------------------------------- rounding
def round_half_up(x: float, digits: int = 0) -> float:
    """Round half away from zero at ``digits`` decimals, as the paper prints numbers.

    The float's shortest decimal representation is rounded (``Decimal(repr(x))``),
    so 0.125 -> 0.13 and 2.675 -> 2.68 although their binary values lie just
    below the half. NaN stays NaN; a result of minus zero is returned as 0.0.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return math.nan
    if math.isinf(x):
        return float(x)
    quantum = Decimal(1).scaleb(-digits)
    value = float(Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP))
    return value + 0.0  # -0.0 + 0.0 == 0.0


def format_number(x: float, digits: int, drop_trailing_zeros: bool = False) -> str:
    """``x`` rounded half up to ``digits`` decimals, with the true minus sign U+2212.

    A value that rounds to zero prints without a sign ("0.0"), as in the paper's
    Table 3. ``drop_trailing_zeros`` gives Table 4's percentages ("50", "12.5").
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if math.isinf(x):
        return "\u221e" if x > 0 else MINUS + "\u221e"
    text = f"{round_half_up(x, digits):.{digits}f}"
    if drop_trailing_zeros and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", MINUS)


# ----------------------------------------------------------------------------- summaries
def _values(x) -> np.ndarray:
    arr = pd.to_numeric(pd.Series(x, dtype="float64"), errors="coerce").to_numpy(dtype=float)
    return arr[~np.isnan(arr)]


def n_pct(count: int, denominator: int) -> NPct:
    """Count and percentage of ``denominator`` (NaN percent when the denominator is 0)."""
    percent = 100.0 * count / denominator if denominator else math.nan
    return NPct(int(count), int(denominator), percent)


def mean_sd(x) -> MeanSD:
    """Mean and sample SD (ddof = 1) of the non-missing values, with their number."""
    v = _values(x)
    mean = float(v.mean()) if v.size else math.nan
    sd = float(v.std(ddof=1)) if v.size > 1 else math.nan
    return MeanSD(mean, sd, int(v.size))


def stata_centile(x, p: float) -> float:
    """The ``p``-th centile as Stata's ``summarize, detail`` computes it.

    With the non-missing values sorted, x(1) <= ... <= x(n), and n p / 100 = i + f
    (i integer, 0 <= f < 1): x(i+1) if f > 0, else (x(i) + x(i+1)) / 2. Computed
    in exact arithmetic so that n p / 100 = 7.0 is not taken for 6.999...
    """
    v = np.sort(_values(x))
    n = v.size
    if n == 0:
        return math.nan
    position = Fraction(n) * Fraction(str(p)) / 100
    i = math.floor(position)
    if position > i:  # f > 0
        return float(v[min(i, n - 1)])  # x(i+1), 1-based
    if i <= 0:
        return float(v[0])
    if i >= n:
        return float(v[n - 1])
    return float((v[i - 1] + v[i]) / 2)


def median_iqr(x) -> MedianIQR:
    """Median and quartiles (Stata ``summarize, detail`` centiles 50, 25 and 75)."""
    v = _values(x)
    return MedianIQR(stata_centile(v, 50), stata_centile(v, 25), stata_centile(v, 75), int(v.size))


def paired_change(baseline, follow_up, confidence: float = 0.95) -> PairedChange:
    """Crude within-person change from baseline over complete pairs (paper, Table 3).

    Estimate = mean of (follow-up - baseline); interval = estimate
    +/- t(1 - alpha/2, n - 1) SD / sqrt(n). Pairs with either value missing are dropped.
    """
    b = pd.to_numeric(pd.Series(baseline, dtype="float64"), errors="coerce").to_numpy()
    f = pd.to_numeric(pd.Series(follow_up, dtype="float64"), errors="coerce").to_numpy()
    if b.shape != f.shape:
        raise ValueError("baseline and follow-up must be paired (same length)")
    d = (f - b)[~(np.isnan(b) | np.isnan(f))]
    n = int(d.size)
    if n == 0:
        return PairedChange(math.nan, math.nan, math.nan, math.nan, 0)
    estimate = float(d.mean())
    if n == 1:
        return PairedChange(estimate, math.nan, math.nan, math.nan, 1)
    sd = float(d.std(ddof=1))
    half = t_quantile(n, confidence) * sd / math.sqrt(n)
    return PairedChange(estimate, sd, estimate - half, estimate + half, n)


def t_quantile(n: int, confidence: float = 0.95) -> float:
    """t(1 - alpha/2, n - 1), the multiplier of a two-sided t interval for a mean of n values."""
    from scipy import special  # imported when first needed (0.15 s; scipy.stats 0.6 s more)

    return float(special.stdtrit(n - 1, 1 - (1 - confidence) / 2))


def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k / n (Wilson 1927; Newcombe 1998).

    centre = (p + z^2 / 2n) / (1 + z^2 / n),
    half-width = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2).
    """
    if n <= 0:
        return (math.nan, math.nan)
    from scipy import special

    z = float(special.ndtri(1 - (1 - confidence) / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def proportion(k: int, n: int, confidence: float = 0.95) -> Proportion:
    """k / n with its Wilson interval (config ``statistics.proportion_ci: wilson``)."""
    lower, upper = wilson_ci(k, n, confidence)
    return Proportion(int(k), int(n), k / n if n else math.nan, lower, upper)


def response_rate(returned: int, expected: int, confidence: float = 0.95) -> Proportion:
    """Follow-up response: questionnaires returned over those expected (dropouts excluded)."""
    return proportion(returned, expected, confidence)


# ----------------------------------------------------------------------------- exact sums
def exact(value: float) -> Fraction:
    """A recorded decimal as the exact fraction it stands for (0.1 is 1/10, not the binary
    0.1000…01): the float's shortest decimal representation."""
    return Fraction(Decimal(repr(float(value))))


def exact_sum(values) -> float:
    """The sum of recorded decimals in exact arithmetic, as the nearest float (10,233 whole
    minutes over 60 sum to 170.55 and print 170.6 rounded half up, where a floating-point
    sum gives 170.54999…). Missing values are skipped; the sum of none is 0."""
    v = pd.Series(values, dtype="float64").dropna().to_numpy()
    if not len(v):
        return 0.0
    if np.all(v == np.rint(v)) and np.abs(v).max() < 2**52:
        return float(v.sum())  # whole numbers: a float sum is exact
    return float(sum((exact(x) for x in v), Fraction(0)))


def exact_mean_sd(values) -> MeanSD:
    """Mean and sample SD of recorded decimals, the sums of squares in exact arithmetic (a
    mean of exactly 52.45 prints 52.5 rounded half up)."""
    arr = pd.Series(values, dtype="float64").dropna().to_numpy()
    n = len(arr)
    if not n:
        return MeanSD(math.nan, math.nan, 0)
    if np.all(arr == np.rint(arr)) and np.abs(arr).max() < 2**31:
        whole = arr.astype(np.int64)  # whole numbers: integer sums are exact
        total, squares = int(whole.sum()), int((whole * whole).sum())
        mean = Fraction(total, n)
        var = (Fraction(squares) - total * mean) / (n - 1) if n > 1 else None
        return MeanSD(float(mean), math.sqrt(var) if var is not None else math.nan, n)
    v = [exact(x) for x in arr]
    mean = sum(v, Fraction(0)) / n
    sd = math.sqrt(sum(((x - mean) ** 2 for x in v), Fraction(0)) / (n - 1)) if n > 1 else math.nan
    return MeanSD(float(mean), sd, n)
