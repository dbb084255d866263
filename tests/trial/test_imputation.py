"""Multiple imputation (issue 23.3): Rubin's rules by hand, the numpy analysis models
against statsmodels, chained equations against the complete-case analysis where theory
says they agree, seeds, and the delta adjustment."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from feasibility.analysis.adjusted import ancova, gcomputation, gcomputation_arrays, model_matrix, ols_arm
from feasibility.analysis.imputation import delta_outcome, impute_by_arm, pool
from feasibility.tables.adjusted import pool_imputations
from test_adjusted import fixture


def test_rubins_rules_by_hand():
    q = [1.0, 1.4, 0.8, 1.2, 1.1]
    u = [0.20, 0.25, 0.22, 0.18, 0.21]
    m = 5
    qbar, ubar = sum(q) / m, sum(u) / m
    b = sum((x - qbar) ** 2 for x in q) / (m - 1)
    t = ubar + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / t
    df_old = (m - 1) / lam**2
    r = pool(q, u)  # large-sample: Rubin (1987)
    assert r.estimate == pytest.approx(qbar) and r.se == pytest.approx(math.sqrt(t))
    assert r.df == pytest.approx(df_old)
    half = stats.t.ppf(0.975, df_old) * math.sqrt(t)
    assert (r.lower, r.upper) == pytest.approx((qbar - half, qbar + half))
    nu = 40  # Barnard and Rubin (1999)
    df_obs = (nu + 1) / (nu + 3) * nu * (1 - lam)
    assert pool(q, u, df_complete=nu).df == pytest.approx(1 / (1 / df_old + 1 / df_obs))
    ratio = pool([2.0, 2.5, 1.8], [0.04, 0.05, 0.045], log=True)  # ratios: the log scale
    logs = np.log([2.0, 2.5, 1.8])
    assert ratio.estimate == pytest.approx(math.exp(logs.mean()))


def test_numpy_models_agree_with_statsmodels():
    y, yb, treat, cov = fixture()
    x = model_matrix(treat, cov)
    est, se, df = ols_arm(y, x)
    r = ancova(y, treat, cov)
    assert (est, se, df) == pytest.approx((r.estimate, r.se, r.df), rel=1e-8)
    a, b = gcomputation_arrays(yb, x), gcomputation(yb, treat, cov)
    for name in ("risk_difference", "risk_ratio", "odds_ratio"):
        ea, eb = getattr(a, name), getattr(b, name)
        assert (ea.estimate, ea.se) == pytest.approx((eb.estimate, eb.se), rel=1e-6), name


def _monotone(seed=4, n=400):
    """Only the outcome is missing, at random given the baseline value (MAR)."""
    y, _, treat, cov = fixture(seed=seed, n=n)
    rng = np.random.default_rng(seed)
    p_missing = 1 / (1 + np.exp(-(cov["baseline"].to_numpy() - 55) / 5))
    y = np.where(rng.random(n) < 0.6 * p_missing, np.nan, y)
    return y, treat, cov


def _mi(y, treat, cov, m=30, seed=1):
    data = np.column_stack([y, cov["baseline"].to_numpy()])
    complete = model_matrix(treat, cov[["site"]])[:, 2:]
    imps = impute_by_arm(data, [False, False], complete, treat, m, seed)
    return imps, pool_imputations(imps, treat, cov, ["outcome", "baseline"], "baseline", "continuous", 0.95)[
        "difference"
    ]


def test_imputing_only_the_outcome_agrees_with_the_complete_case_ancova():
    """With the outcome the only missing value and the imputation model the analysis model
    within each arm, MI and complete-case ANCOVA estimate the same (White and Thompson);
    the MI estimate is within a quarter of a standard error of the complete-case one."""
    y, treat, cov = _monotone()
    cc = ancova(y, treat, cov)
    _, mi = _mi(y, treat, cov)
    assert np.isnan(y).sum() > 40
    assert abs(mi.estimate - cc.estimate) < 0.25 * cc.se
    assert mi.n == len(y) > cc.n
    assert 0.8 * cc.se < mi.se < 1.3 * cc.se


def test_imputations_are_seeded_and_keep_the_observed_values():
    y, treat, cov = _monotone()
    imps1, r1 = _mi(y, treat, cov, m=5, seed=7)
    imps2, r2 = _mi(y, treat, cov, m=5, seed=7)
    _, r3 = _mi(y, treat, cov, m=5, seed=8)
    assert r1 == r2 and r1.estimate != r3.estimate
    arm1 = treat == 1
    observed = ~np.isnan(y[arm1])
    assert np.array_equal(imps1[0][1.0].data[observed, 0], y[arm1][observed])
    assert not np.isnan(imps1[0][1.0].data).any()


def test_delta_adjustment_shifts_only_the_imputed_values():
    y, treat, cov = _monotone()
    imps, _ = _mi(y, treat, cov, m=2)
    imp = imps[0][0.0]
    shifted = delta_outcome(imp, -3.0)
    assert np.array_equal(delta_outcome(imp, 0.0), imp.data[:, 0])
    assert np.allclose(shifted[imp.missing], imp.data[imp.missing, 0] - 3.0)
    assert np.array_equal(shifted[~imp.missing], imp.data[~imp.missing, 0])


def test_binary_outcomes_are_imputed_as_zero_or_one_and_shift_on_the_log_odds():
    _, yb, treat, cov = fixture(seed=5, n=300)
    yb = yb.copy()
    yb[::4] = np.nan
    data = np.column_stack([yb, cov["baseline"].to_numpy()])
    complete = model_matrix(treat, cov[["site"]])[:, 2:]
    imps = impute_by_arm(data, [True, False], complete, treat, 3, 11)
    imp = imps[0][1.0]
    assert set(np.unique(imp.data[:, 0])) <= {0.0, 1.0}
    assert delta_outcome(imp, -50.0)[imp.missing].sum() == 0
    assert delta_outcome(imp, 50.0)[imp.missing].sum() == imp.missing.sum()


# ------------------------------------------------------------------ the trial's tables and figure
@pytest.fixture(scope="module")
def tipping(cohort, study):
    from feasibility.analysis import Analysis, load_spec
    from feasibility.tables.tipping_point import tipping_results

    config = {
        **study,
        "statistics": {**study["statistics"], "imputation": {"m": 8, "iterations": 3, "seed": 5}},
    }
    analysis = Analysis(cohort.analysis.study, load_spec(config))
    raw = config["tables"]["primary_tipping_point"]
    return analysis, raw, *tipping_results(analysis, "primary_tipping_point", raw)


def test_tipping_point_rows_are_the_pooled_analyses_of_shifted_imputations(tipping):
    """Each row recomputed by hand: the same imputations (seeded), the imputed outcomes of
    the arm(s) shifted on the log-odds scale, g-computation per imputation by statsmodels,
    Rubin's rules written out."""
    analysis, raw, frame, info = tipping
    from feasibility.tables.adjusted import Adjusted
    from feasibility.tables.tipping_point import context

    ctx = context(analysis, "primary_tipping_point", raw)
    rows = Adjusted(ctx)
    estimand, spec = rows.estimand({"estimand": raw["estimand"]})
    kind, y, baseline, treat, cov, keep, tp, where = rows.prepare(spec, estimand)
    data, names, complete, binary = rows.imputation_data(spec, tp, y, baseline, cov, keep, where)
    arm = treat[keep]
    imps = impute_by_arm(data, binary, complete, arm, 8, 5, 3)
    site = cov.loc[keep, "site"].reset_index(drop=True)
    for scenario, delta in (("intervention", -1.5), ("both", -3.0)):
        q, u = [], []
        for by_arm in imps:
            ys, arms, sites = [], [], []
            for level in (0.0, 1.0):
                shift = delta if (scenario == "both" or level == 1.0) else 0.0
                ys.append(delta_outcome(by_arm[level], shift))
                arms.append(np.full(len(ys[-1]), level))
                sites.append(site[np.flatnonzero(arm == level)].to_numpy())
            r = gcomputation(
                np.concatenate(ys), np.concatenate(arms), pd.DataFrame({"site": np.concatenate(sites)})
            )
            q.append(r.risk_difference.estimate)
            u.append(r.risk_difference.se**2)
        m = len(q)
        qbar, b = np.mean(q), np.var(q, ddof=1)
        t = np.mean(u) + (1 + 1 / m) * b
        row = frame[(frame["scenario"] == scenario) & (frame["delta"] == delta)].iloc[0]
        assert row["estimate"] == pytest.approx(100 * qbar, rel=1e-5)
        df = (m - 1) / ((1 + 1 / m) * b / t) ** 2
        half = stats.t.ppf(0.975, df) * math.sqrt(t)
        assert (row["lower"], row["upper"]) == pytest.approx(
            (100 * (qbar - half), 100 * (qbar + half)), rel=1e-5
        )
    # delta 0 is the same in both scenarios: the primary analysis under MAR
    zero = frame[frame["delta"] == 0]
    assert zero["estimate"].nunique() == 1


def test_the_tipping_point_is_where_the_conclusion_first_changes():
    from feasibility.tables.tipping_point import tipping_points

    frame = pd.DataFrame(
        {
            "scenario": ["a"] * 4 + ["b"] * 2,
            "delta": [0, -1, -2, -3, 0, -1],
            "lower": [1.0, 0.5, -0.2, -1.0, -2.0, -3.0],
            "upper": [9.0, 8.0, 7.0, 6.0, 5.0, 4.0],
        }
    )
    assert tipping_points(frame) == {"a": -2.0, "b": None}


def test_two_builds_of_the_multiply_imputed_tables_are_identical(cohort, study):
    from feasibility.analysis import Analysis, load_spec
    from feasibility.tables.registry import build_table

    config = {
        **study,
        "statistics": {**study["statistics"], "imputation": {"m": 4, "iterations": 2, "seed": 9}},
    }
    runs = [
        build_table(Analysis(cohort.analysis.study, load_spec(config)), "primary_adjusted") for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0].cells, runs[1].cells)
    cells = runs[0].cells
    cells = cells[cells["row_label"] == "In paid work at 6 months (E1)"].set_index("column")
    assert int(cells.loc["adjusted", "n"]) > int(cells.loc["complete_case", "n"])
    note = runs[0].gt.as_raw_html()
    assert "Values imputed: E1 " in note and "m = 4 imputations" in note


def test_the_tipping_point_figure_draws_the_tables_numbers(cohort, study, tmp_path):
    from feasibility.figures.build import make_figure

    config = {
        **study,
        "statistics": {**study["statistics"], "imputation": {"m": 4, "iterations": 2, "seed": 3}},
    }
    meta = make_figure(
        config, "tipping_point", cohort.folder / "validated", None, tmp_path / "tipping_point.svg"
    )
    drawn = pd.read_csv(tmp_path / "tipping_point.csv")
    from feasibility.analysis import Analysis, load_spec
    from feasibility.tables.tipping_point import tipping_results

    frame, _ = tipping_results(
        Analysis(cohort.analysis.study, load_spec(config)),
        "primary_tipping_point",
        config["tables"]["primary_tipping_point"],
    )
    assert drawn["estimate"].to_numpy() == pytest.approx(frame["estimate"].to_numpy())
    assert meta["label"] == "Figure 4" and "Tipping-point" in meta["caption"]
    assert "Intervention arm only" in (tmp_path / "tipping_point.alt.txt").read_text()
