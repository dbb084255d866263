"""Multiple imputation by chained equations, Rubin's rules and delta-adjusted tipping
points (issue 23.3).

* **Chained equations, by arm.** Within each arm separately, every incomplete variable
  (the outcome, its baseline value, the same measure's other follow-up values) is imputed
  in turn from all the others and the always-recorded covariates (the stratification
  factors' indicators), as R's ``mice``: a continuous variable by Bayesian linear
  regression (``norm``: sigma^2 drawn from its scaled inverse chi-square, the
  coefficients from their normal posterior, then a value with its residual noise), a
  binary one by Bayesian logistic regression (``logreg``: coefficients drawn from the
  normal approximation of the fit, then a Bernoulli draw). A small ridge (1e-5, as
  ``mice``) keeps a constant column (a site with no one in an arm) harmless. Each of the
  ``m`` imputations is its own chain of ``iterations`` cycles, started from random draws of
  the observed values, with its own seed from ``numpy.random.SeedSequence(seed)``: two
  builds give the same numbers.
* **Rubin's rules** (:func:`pool`): the mean of the m estimates, the total variance
  T = U + (1 + 1/m) B, and the Barnard-Rubin (1999) degrees of freedom (Rubin's 1987 ones
  when the complete-data analysis is a large-sample one).
* **Delta adjustment** (:func:`delta_outcome`): the outcome's last imputation draw is kept
  (the linear predictor and the uniform of a binary draw, the mean and the noise of a
  continuous one), so that a shift delta of the imputed outcomes (on the log-odds scale, or
  in the outcome's units) in one arm or both makes the tipping-point analysis with the
  same random numbers at every delta.
"""

from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import stats

RIDGE = 1e-5


def _expit(x):
    return 1 / (1 + np.exp(-np.clip(x, -35, 35)))


def _lstsq(x: np.ndarray, y: np.ndarray):
    xtx = x.T @ x
    xtx = xtx + RIDGE * np.diag(np.diag(xtx) + 1.0)
    inv = np.linalg.inv(xtx)
    beta = inv @ (x.T @ y)
    return beta, inv


def identifiable(x_obs: np.ndarray) -> np.ndarray:
    """The columns of a predictor matrix that the observed rows identify (mice's
    ``remove.lindep``): the intercept (column 0), then each column that is not constant
    among those rows and not a linear combination of the columns kept before it. A site's
    indicator with no observed record in the arm, or indicators that add up to the
    intercept there, would otherwise get a coefficient that only the ridge bounds (a
    variance of about 1e5 times the residual one), and the values imputed for that site's
    records would be drawn far outside the measure's range. A full-rank matrix keeps every
    column (the draws are those of the full model)."""
    p = x_obs.shape[1]
    if p <= 1:
        return np.arange(p)
    xtx = x_obs.T @ x_obs
    if np.linalg.matrix_rank(xtx) == p and np.ptp(x_obs[:, 1:], axis=0).min() > 0:
        return np.arange(p)
    scale = np.sqrt(np.diag(xtx))
    keep = [0]
    for j in range(1, p):
        if scale[j] == 0 or np.ptp(x_obs[:, j]) == 0:
            continue
        trial = keep + [j]
        corr = xtx[np.ix_(trial, trial)] / np.outer(scale[trial], scale[trial])
        if np.linalg.matrix_rank(corr, tol=1e-10) == len(trial):
            keep.append(j)
    return np.asarray(keep)


def draw_norm(x_obs, y_obs, x_mis, rng):
    """mice's ``norm``: a Bayesian linear-regression draw (over the :func:`identifiable`
    columns); returns (mean, noise) of the imputed values."""
    cols = identifiable(x_obs)
    if len(cols) < x_obs.shape[1]:
        x_obs, x_mis = x_obs[:, cols], x_mis[:, cols]
    beta, inv = _lstsq(x_obs, y_obs)
    resid = y_obs - x_obs @ beta
    df = max(len(y_obs) - x_obs.shape[1], 1)
    sigma = math.sqrt(float(resid @ resid) / rng.chisquare(df))
    chol = np.linalg.cholesky(inv + 1e-12 * np.eye(len(inv)))
    beta_star = beta + sigma * chol @ rng.standard_normal(len(beta))
    return x_mis @ beta_star, sigma * rng.standard_normal(len(x_mis))


def logistic_irls(x, y, iterations: int = 12):
    """A logistic regression by iteratively reweighted least squares (with mice's ridge):
    coefficients and their covariance."""
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = _expit(x @ beta)
        w = np.clip(p * (1 - p), 1e-6, None)
        xtwx = (x * w[:, None]).T @ x
        xtwx = xtwx + RIDGE * np.diag(np.diag(xtwx) + 1.0)
        step = np.linalg.solve(xtwx, x.T @ (y - p))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-6:
            break
    p = _expit(x @ beta)
    xtwx = (x * np.clip(p * (1 - p), 1e-6, None)[:, None]).T @ x
    return beta, np.linalg.inv(xtwx + RIDGE * np.diag(np.diag(xtwx) + 1.0))


def draw_logreg(x_obs, y_obs, x_mis, rng):
    """mice's ``logreg``: coefficients drawn from the fit's normal approximation; returns
    (linear predictor, uniform) of the imputed values (imputed: uniform < expit(eta));
    over the :func:`identifiable` columns."""
    cols = identifiable(x_obs)
    if len(cols) < x_obs.shape[1]:
        x_obs, x_mis = x_obs[:, cols], x_mis[:, cols]
    beta, cov = logistic_irls(x_obs, y_obs)
    chol = np.linalg.cholesky(cov + 1e-12 * np.eye(len(cov)))
    beta_star = beta + chol @ rng.standard_normal(len(beta))
    return x_mis @ beta_star, rng.random(len(x_mis))


@dataclass
class Imputed:
    """One completed data set of one arm, and the outcome's last draw (column 0)."""

    data: np.ndarray
    missing: np.ndarray  # where column 0 (the outcome) was missing
    centre: np.ndarray  # eta (binary) or mean (continuous) of those values
    noise: np.ndarray  # uniform (binary) or residual noise (continuous)
    binary: bool = False


def chained(data: np.ndarray, binary: list[bool], complete: np.ndarray, rng, iterations: int = 5) -> Imputed:
    """One chain of chained equations over ``data`` (records x variables, NaN missing;
    column 0 the outcome), with the always-recorded ``complete`` columns as predictors."""
    data = np.array(data, dtype=float)
    miss = np.isnan(data)
    n, k = data.shape
    for j in range(k):  # start from random draws of the observed values
        obs = data[~miss[:, j], j]
        if miss[:, j].any():
            data[miss[:, j], j] = rng.choice(obs, miss[:, j].sum()) if len(obs) else 0.0
    centre = noise = np.empty(0)
    incomplete = [j for j in range(k) if miss[:, j].any() and (~miss[:, j]).sum() > 1]
    if incomplete == [0]:  # only the outcome: one draw from its model is exact
        iterations = 1
    for _ in range(iterations):
        for j in incomplete:
            others = [i for i in range(k) if i != j]
            x = np.column_stack([np.ones(n), data[:, others], complete])
            o, mm = ~miss[:, j], miss[:, j]
            if binary[j]:
                eta, u = draw_logreg(x[o], data[o, j], x[mm], rng)
                data[mm, j] = (u < _expit(eta)).astype(float)
                if j == 0:
                    centre, noise = eta, u
            else:
                mean, e = draw_norm(x[o], data[o, j], x[mm], rng)
                data[mm, j] = mean + e
                if j == 0:
                    centre, noise = mean, e
    return Imputed(data, miss[:, 0], centre, noise, binary[0])


def delta_outcome(imp: Imputed, delta: float) -> np.ndarray:
    """The outcome column with its imputed values shifted by ``delta`` (log odds, or the
    outcome's units), from the same draw."""
    y = imp.data[:, 0].copy()
    if not imp.missing.any() or not len(imp.centre):
        return y
    if imp.binary:
        y[imp.missing] = (imp.noise < _expit(imp.centre + delta)).astype(float)
    else:
        y[imp.missing] = imp.centre + imp.noise + delta
    return y


def impute_by_arm(
    data: np.ndarray,
    binary: list[bool],
    complete: np.ndarray,
    arm: np.ndarray,
    m: int,
    seed: int,
    iterations: int = 5,
) -> list[dict[float, Imputed]]:
    """``m`` imputations, each arm (its value in ``arm``) imputed separately; seeded."""
    seeds = np.random.SeedSequence(seed).spawn(m)
    levels = sorted(set(arm[~np.isnan(arm)].tolist()))
    out = []
    for s in seeds:
        rng = np.random.default_rng(s)
        out.append(
            {
                level: chained(data[arm == level], binary, complete[arm == level], rng, iterations)
                for level in levels
            }
        )
    return out


@lru_cache(maxsize=4096)
def _critical(confidence: float, df: float) -> float:
    q = 1 - (1 - confidence) / 2
    return float(stats.t.ppf(q, df)) if math.isfinite(df) else float(stats.norm.ppf(q))


class Pooled(NamedTuple):
    estimate: float
    se: float
    lower: float
    upper: float
    df: float
    m: int


def pool(
    estimates, variances, confidence: float = 0.95, df_complete: float = math.inf, log: bool = False
) -> Pooled:
    """Rubin's rules: the mean estimate, T = U + (1 + 1/m) B, Barnard-Rubin degrees of
    freedom; ``log``: pooled on the log scale, the interval back-transformed."""
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    ok = np.isfinite(q) & np.isfinite(u)
    q, u = q[ok], u[ok]
    m = len(q)
    if m == 0:
        return Pooled(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    if log:
        q = np.log(q)
    qbar, ubar = float(q.mean()), float(u.mean())
    b = float(q.var(ddof=1)) if m > 1 else 0.0
    t = ubar + (1 + 1 / m) * b
    if b <= 0 or t <= 0:
        df = df_complete
    else:
        lam = (1 + 1 / m) * b / t
        df_old = (m - 1) / lam**2
        if math.isinf(df_complete):
            df = df_old
        else:
            df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
            df = 1 / (1 / df_old + 1 / df_obs)
    crit = _critical(confidence, df)
    se = math.sqrt(t)
    lo, hi = qbar - crit * se, qbar + crit * se
    if log:
        return Pooled(math.exp(qbar), se, math.exp(lo), math.exp(hi), df, m)
    return Pooled(qbar, se, lo, hi, df, m)


__all__ = [
    "Imputed",
    "chained",
    "impute_by_arm",
    "delta_outcome",
    "pool",
    "Pooled",
    "draw_norm",
    "draw_logreg",
    "logistic_irls",
    "identifiable",
]
