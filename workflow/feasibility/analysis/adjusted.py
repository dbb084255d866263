"""Covariate-adjusted between-arm estimates (issue 23.2), with ``statsmodels``.

* **Continuous outcomes: ANCOVA.** Ordinary least squares of the follow-up value on the
  arm (1: intervention, 0: control), the baseline value of the same measure and the
  stratification factors (and any declared covariates); the adjusted difference in means
  is the arm's coefficient, with its t interval on the residual degrees of freedom.
* **Binary outcomes: logistic regression and g-computation.** A logistic regression of the
  outcome on the arm and the covariates; the *marginal* (standardised) risks are the
  averages, over every analysed participant, of the predicted probabilities with the arm
  set to intervention and to control (FDA 2023 guidance on covariate adjustment; R's
  ``beeca``). The risk difference and the risk ratio are made from them, their standard
  errors by the delta method (Ge et al. 2011, Ther Innov Regul Sci 45:481: the gradient of
  the averaged predictions times the model's covariance of the coefficients; the risk
  ratio on the log scale). The conditional odds ratio is exp(arm coefficient) with its
  Wald interval.

Covariates are columns of a data frame: a numeric column enters as it is, any other (a
coded variable such as the site) as indicator columns of its levels after the first (in
sorted order), so that a design matrix depends only on the data. Records with a missing
outcome or covariate are set aside (complete cases; :mod:`feasibility.analysis.imputation`
handles missing values by multiple imputation).
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats


class Estimate(NamedTuple):
    """An estimate with its standard error and interval (ratios: on the ratio scale, ``se``
    of the log), and the number of records analysed."""

    estimate: float
    se: float
    lower: float
    upper: float
    n: int
    df: float = math.inf  # the complete-data degrees of freedom (t intervals)


NAN_ESTIMATE = Estimate(math.nan, math.nan, math.nan, math.nan, 0)


def design(covariates: pd.DataFrame) -> np.ndarray:
    """The covariates' columns of a design matrix: numbers as they are, any other column
    as indicators of its levels after the first (sorted), levels with no record left out."""
    parts = []
    for name in covariates.columns:
        col = covariates[name]
        if pd.api.types.is_bool_dtype(col.dtype) or col.dtype.name == "boolean":
            parts.append(col.astype("float64").to_numpy()[:, None])
        elif pd.api.types.is_numeric_dtype(col.dtype):
            parts.append(col.astype("float64").to_numpy()[:, None])
        else:
            levels = sorted({str(v) for v in col.dropna()})
            text = col.astype(object).map(lambda v: None if pd.isna(v) else str(v))
            for level in levels[1:]:
                parts.append((text == level).astype("float64").to_numpy()[:, None])
    if not parts:
        return np.empty((len(covariates), 0))
    return np.hstack(parts)


def model_matrix(treat: np.ndarray, covariates: pd.DataFrame) -> np.ndarray:
    """Intercept, arm (1/0), covariates (:func:`design`)."""
    treat = np.asarray(treat, dtype=float)
    return np.column_stack([np.ones(len(treat)), treat, design(covariates)])


def _complete(y, treat, covariates: pd.DataFrame | None):
    y = pd.Series(np.asarray(y, dtype=float))
    treat = pd.Series(np.asarray(treat, dtype=float))
    cov = covariates.reset_index(drop=True) if covariates is not None else pd.DataFrame(index=range(len(y)))
    keep = y.notna() & treat.notna() & cov.notna().all(axis=1)
    keep = keep.to_numpy()
    return y.to_numpy()[keep], treat.to_numpy()[keep], cov.loc[keep].reset_index(drop=True)


def _full_rank(x: np.ndarray) -> np.ndarray:
    """The columns of ``x`` that keep it of full rank (a covariate level that is constant
    among the records analysed is dropped), intercept and arm always kept."""
    keep: list[int] = []
    for j in range(x.shape[1]):
        trial = keep + [j]
        if np.linalg.matrix_rank(x[:, trial]) == len(trial):
            keep.append(j)
    return x[:, keep]


def ancova(y, treat, covariates: pd.DataFrame | None, confidence: float = 0.95) -> Estimate:
    """The adjusted difference in means (the arm's OLS coefficient) with its t interval."""
    from statsmodels.regression.linear_model import OLS  # not statsmodels.api: a fast import

    y, treat, cov = _complete(y, treat, covariates)
    n = len(y)
    if n == 0 or len(set(treat)) < 2:
        return Estimate(math.nan, math.nan, math.nan, math.nan, n)
    x = _full_rank(model_matrix(treat, cov))
    if n <= x.shape[1]:
        return Estimate(math.nan, math.nan, math.nan, math.nan, n)
    fit = OLS(y, x).fit()
    est, se = float(fit.params[1]), float(fit.bse[1])
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, fit.df_resid)) * se
    return Estimate(est, se, est - half, est + half, n, float(fit.df_resid))


class BinaryEffects(NamedTuple):
    """A binary outcome's adjusted effects: the standardised risks in each arm (as
    proportions), the risk difference (proportions), the risk ratio and the conditional
    odds ratio."""

    risk1: float
    risk0: float
    risk_difference: Estimate
    risk_ratio: Estimate
    odds_ratio: Estimate


@lru_cache(maxsize=None)
def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def logistic_fit(y: np.ndarray, x: np.ndarray):
    """A logistic regression (statsmodels GLM, binomial family) of ``y`` on ``x``."""
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return GLM(y, x, family=Binomial()).fit()


def standardised_risks(params: np.ndarray, x: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """The averaged predicted probabilities with the arm (column 1) set to 1 and to 0, and
    their gradients with respect to the coefficients."""
    x1, x0 = x.copy(), x.copy()
    x1[:, 1], x0[:, 1] = 1.0, 0.0
    p1 = 1 / (1 + np.exp(-(x1 @ params)))
    p0 = 1 / (1 + np.exp(-(x0 @ params)))
    g1 = (p1 * (1 - p1)) @ x1 / len(x)
    g0 = (p0 * (1 - p0)) @ x0 / len(x)
    return float(p1.mean()), float(p0.mean()), g1, g0


def gcomputation(y, treat, covariates: pd.DataFrame | None, confidence: float = 0.95) -> BinaryEffects:
    """Logistic regression, then the standardised risk difference and risk ratio (delta
    method, Ge et al. 2011) and the conditional odds ratio."""
    y, treat, cov = _complete(y, treat, covariates)
    n = len(y)
    nan = Estimate(math.nan, math.nan, math.nan, math.nan, n)
    if n == 0 or len(set(treat)) < 2:
        return BinaryEffects(math.nan, math.nan, nan, nan, nan)
    x = _full_rank(model_matrix(treat, cov))
    fit = logistic_fit(y, x)
    params, vcov = np.asarray(fit.params), np.asarray(fit.cov_params())
    z = _z(confidence)
    r1, r0, g1, g0 = standardised_risks(params, x)
    grad = g1 - g0
    rd = r1 - r0
    se = math.sqrt(max(float(grad @ vcov @ grad), 0.0))
    risk_difference = Estimate(rd, se, rd - z * se, rd + z * se, n)
    if r1 > 0 and r0 > 0:
        glog = g1 / r1 - g0 / r0
        se_log = math.sqrt(max(float(glog @ vcov @ glog), 0.0))
        log_rr = math.log(r1 / r0)
        risk_ratio = Estimate(
            r1 / r0, se_log, math.exp(log_rr - z * se_log), math.exp(log_rr + z * se_log), n
        )
    else:
        risk_ratio = nan
    b, se_b = float(params[1]), float(math.sqrt(vcov[1, 1]))
    odds_ratio = Estimate(math.exp(b), se_b, math.exp(b - z * se_b), math.exp(b + z * se_b), n)
    return BinaryEffects(r1, r0, risk_difference, risk_ratio, odds_ratio)


# ------------------------------------------------------------------ the same, in numpy
# Multiple imputation fits the analysis model once per imputation (50 or more times per
# outcome): these are the same models without statsmodels' per-fit overhead, with the same
# estimates and standard errors (tests/trial/test_imputation.py checks them against the
# statsmodels fits above).
def ols_arm(y: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    """The arm's (column 1) OLS coefficient, its standard error and the residual degrees
    of freedom (a rank-deficient design is solved by least squares)."""
    beta, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    df = len(y) - rank
    sigma2 = float(resid @ resid) / df
    cov = np.linalg.pinv(x.T @ x) * sigma2
    return float(beta[1]), math.sqrt(float(cov[1, 1])), float(df)


def logit_fit(y: np.ndarray, x: np.ndarray, iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Maximum likelihood logistic regression by Newton-Raphson: coefficients and their
    covariance (the inverse information; a pseudo-inverse when a column is constant)."""
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        eta = np.clip(x @ beta, -30, 30)
        p = 1 / (1 + np.exp(-eta))
        info = (x * (p * (1 - p))[:, None]).T @ x
        try:
            step = np.linalg.solve(info, x.T @ (y - p))
        except np.linalg.LinAlgError:  # a constant column: least squares
            step = np.linalg.pinv(info) @ (x.T @ (y - p))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-9:
            break
    p = 1 / (1 + np.exp(-np.clip(x @ beta, -30, 30)))
    info = (x * (p * (1 - p))[:, None]).T @ x
    try:
        return beta, np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return beta, np.linalg.pinv(info)


def gcomputation_arrays(y: np.ndarray, x: np.ndarray, confidence: float = 0.95) -> BinaryEffects:
    """:func:`gcomputation` over a ready design matrix (intercept, arm, covariates)."""
    n = len(y)
    params, vcov = logit_fit(y, x)
    z = _z(confidence)
    r1, r0, g1, g0 = standardised_risks(params, x)
    grad = g1 - g0
    se = math.sqrt(max(float(grad @ vcov @ grad), 0.0))
    rd = Estimate(r1 - r0, se, r1 - r0 - z * se, r1 - r0 + z * se, n)
    nan = Estimate(math.nan, math.nan, math.nan, math.nan, n)
    if r1 > 0 and r0 > 0:
        glog = g1 / r1 - g0 / r0
        se_log = math.sqrt(max(float(glog @ vcov @ glog), 0.0))
        lrr = math.log(r1 / r0)
        rr = Estimate(r1 / r0, se_log, math.exp(lrr - z * se_log), math.exp(lrr + z * se_log), n)
    else:
        rr = nan
    b, se_b = float(params[1]), math.sqrt(float(vcov[1, 1]))
    odds = Estimate(math.exp(b), se_b, math.exp(b - z * se_b), math.exp(b + z * se_b), n)
    return BinaryEffects(r1, r0, rd, rr, odds)


__all__ = [
    "Estimate",
    "BinaryEffects",
    "ancova",
    "gcomputation",
    "design",
    "model_matrix",
    "logistic_fit",
    "standardised_risks",
    "ols_arm",
    "logit_fit",
    "gcomputation_arrays",
]
