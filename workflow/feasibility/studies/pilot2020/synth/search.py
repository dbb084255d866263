"""Integer searches that make synthetic data reproduce printed summary statistics.

The method is SPRITE's (Heathers et al. 2018, "Recovering data from summary
statistics: Sample Parameter Reconstruction via Iterative TEchniques"): start
from a seeded random integer sample and move single units between values until
every printed statistic is matched at its printed precision. Here the moves are
guided by a loss that counts how far each statistic is outside its rounding
interval, which lets one search satisfy several coupled targets at once (a
baseline mean and SD, and the t-based confidence intervals of changes from it).

A target is a :class:`Printed` value: it is met when the computed statistic prints
as the value when rounded half away from zero, as the pipeline prints
(``feasibility.stats.round_half_up``); an exact tie such as 38/8 = 4.75 printed 4.8
counts, as it does in the paper's own rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import stats as st

from feasibility.stats import round_half_up

EPS = 1e-9


@dataclass(frozen=True)
class Printed:
    """A statistic as printed: its value and number of decimals."""

    value: float
    decimals: int

    @property
    def half_unit(self) -> float:
        return 0.5 * 10.0 ** (-self.decimals)

    def miss(self, x: float) -> float:
        """0 when ``x`` prints as the value (rounded half away from zero, as the pipeline
        prints), else the distance in printed units."""
        if not math.isfinite(x):
            return 1e6
        if round_half_up(x, self.decimals) == round_half_up(self.value, self.decimals):
            return 0.0
        gap = abs(x - self.value) - (self.half_unit - EPS)
        return max(gap, 0.0) / (2 * self.half_unit)


def decimals_of(text: float | str) -> int:
    s = repr(float(text)) if not isinstance(text, str) else text
    return len(s.split(".")[1]) if "." in s else 0


def t_quantile(n: int, confidence: float = 0.95) -> float:
    return float(st.t.ppf(0.5 + confidence / 2, n - 1))


def mean_sd_loss(x: np.ndarray, mean: Printed | None, sd: Printed | None) -> float:
    loss = 0.0
    if mean is not None:
        loss += mean.miss(float(np.mean(x)))
    if sd is not None:
        loss += sd.miss(float(np.std(x, ddof=1)) if len(x) > 1 else float("nan"))
    return loss


def change_ci_loss(
    d: np.ndarray, est: Printed | None, lo: Printed | None, hi: Printed | None, confidence: float = 0.95
) -> float:
    """Loss for a paired change "estimate (lo to hi)" computed from changes ``d``
    (``est`` None: the estimate is not a target, only the interval)."""
    n = len(d)
    m = float(np.mean(d))
    loss = est.miss(m) if est is not None else 0.0
    if n > 1 and (lo is not None or hi is not None):
        half = t_quantile(n, confidence) * float(np.std(d, ddof=1)) / math.sqrt(n)
        if lo is not None:
            loss += lo.miss(m - half)
        if hi is not None:
            loss += hi.miss(m + half)
    return loss


def anneal(
    x0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    loss: Callable[[np.ndarray], float],
    rng: np.random.Generator,
    *,
    steps: int = 60_000,
    step_sizes: Sequence[int] = (1,),
    frozen: np.ndarray | None = None,
    temperature: float = 0.05,
    patience: int = 15_000,
) -> tuple[np.ndarray, float]:
    """Minimise ``loss`` over integer vectors within [lower, upper] by unit moves.

    Each step changes one free position by ±step (or moves a unit between two
    positions, which keeps the sum), and is kept if the loss does not rise (or, rarely,
    by a Metropolis rule). Returns the best vector found and its loss; stops at loss 0,
    or after ``patience`` steps without improvement.
    """
    x = x0.astype(np.int64).copy()
    free = np.flatnonzero(~frozen) if frozen is not None else np.arange(len(x))
    cur = loss(x)
    best, best_loss = x.copy(), cur
    if cur == 0:
        return best, 0.0
    sizes = np.asarray(step_sizes)
    last_gain = 0
    for step_no in range(steps):
        if step_no - last_gain > patience:
            break  # targets the printed values make unreachable: keep the closest
        i = free[rng.integers(len(free))]
        step = int(sizes[rng.integers(len(sizes))]) * (1 if rng.random() < 0.5 else -1)
        j = None
        if rng.random() < 0.5 and len(free) > 1:
            j = free[rng.integers(len(free))]
            if j == i:
                j = None
        xi = x[i] + step
        if xi < lower[i] or xi > upper[i]:
            continue
        if j is not None:
            xj = x[j] - step
            if xj < lower[j] or xj > upper[j]:
                continue
        old_i = x[i]
        x[i] = xi
        if j is not None:
            old_j = x[j]
            x[j] = xj
        new = loss(x)
        if new <= cur or rng.random() < math.exp(-(new - cur) / temperature):
            cur = new
            if cur < best_loss:
                best, best_loss, last_gain = x.copy(), cur, step_no
                if cur == 0:
                    break
        else:
            x[i] = old_i
            if j is not None:
                x[j] = old_j
    return best, best_loss


def sample_with_mean_sd(
    n: int,
    lo: int,
    hi: int,
    mean: Printed,
    sd: Printed,
    rng: np.random.Generator,
    steps: int = 40_000,
    required: tuple[str, ...] = ("mean", "sd"),
) -> np.ndarray:
    """SPRITE: an integer sample of size n in [lo, hi] with the printed mean and SD.

    Both are searched for; those named in ``required`` must be met, else ``RuntimeError``
    (leave out one that the audit shows no sample can print, e.g. a mean failing GRIM).
    """
    centre = min(max(mean.value, lo), hi)
    x0 = np.clip(np.round(rng.normal(centre, max(sd.value, 0.5), n)), lo, hi)
    x, l = anneal(x0, np.full(n, lo), np.full(n, hi), lambda v: mean_sd_loss(v, mean, sd), rng, steps=steps)
    missed = mean_sd_loss(x, mean if "mean" in required else None, sd if "sd" in required else None)
    if missed > 0:
        raise RuntimeError(
            f"mean {mean.value} SD {sd.value} over n = {n} in [{lo}, {hi}] not reached (loss {missed:.3f})"
        )
    return x


def spread_sum(total: int, k: int, lo: int, hi: int, rng: np.random.Generator, jitter: int = 2) -> np.ndarray:
    """Split an integer ``total`` into ``k`` items in [lo, hi] that look like real answers.

    Items of one scale are answered alike by one respondent: start level (the
    rounded mean), then move units between random items a few times so neighbouring
    levels appear without becoming uniform noise.
    """
    if not (k * lo <= total <= k * hi):
        raise ValueError(f"cannot split {total} into {k} items in [{lo}, {hi}]")
    base, rem = divmod(total - k * lo, k)
    items = np.full(k, lo + base, dtype=np.int64)
    items[rng.permutation(k)[:rem]] += 1
    for _ in range(jitter * k):
        i, j = rng.integers(k, size=2)
        if i != j and items[i] < hi and items[j] > lo and abs(items[i] + 1 - items[j] + 1) <= 2:
            items[i] += 1
            items[j] -= 1
    return items
