"""Prespecified subgroup analyses (kind ``subgroups``, issue 23.4): the treatment effect of
an estimand within each level of each declared subgroup variable, from one model per
subgroup variable with a treatment-by-subgroup interaction (``statsmodels``), and the test
of that interaction.

* **Binary outcome**: a logistic regression of the outcome on arm, the subgroup's levels,
  arm × level and the adjustment covariates; the effect within a level is the conditional
  odds ratio exp(b_arm + b_arm×level) with its Wald interval.
* **Continuous outcome**: the same as an ANCOVA (ordinary least squares, with the baseline
  value where the estimand has one); the effect within a level is the adjusted difference
  in means, with its t interval.

The interaction is tested with a Wald test of every arm × level coefficient together
(chi-squared for the logistic model, F for the ANCOVA). The first row is every participant
analysed, from the model without interaction. Subgroup analyses use the participants
with the outcome and every covariate (complete cases); a level with fewer than
``min_per_arm`` such participants in an arm (default 5), or, for a binary outcome, with no
participant with (or without) the outcome in an arm, is left out of its subgroup's model
and named in the note. Subgroup results are exploratory: the trial is not powered for
them, and the note says so.

Cells: ``n_pct`` / ``mean_sd`` (arms), ``ratio_ci`` (odds ratios) or
``mean_difference_ci`` (differences).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from feasibility.analysis.adjusted import _full_rank, design, logistic_fit
from feasibility.analysis.expressions import _code_key
from feasibility.tables.base import Cells, TableContext, TableResult, finish_gt
from feasibility.stats import mean_sd, n_pct
from feasibility.tables.adjusted import Adjusted, _by_arm, _joined
from feasibility.tables.common import build_gt, cell, cells_frame

OVERALL = "All participants analysed"
KIND = "subgroups"
DEFAULTS = {"subgroups": [], "min_per_arm": 5, "stub_label": "Subgroup", "n_label": "n"}
SCHEMA = """
description: Prespecified subgroup analyses of an estimand (treatment-by-subgroup interactions).
properties:
  estimand: {$ref: "#/$defs/name", description: "The estimand analysed by subgroup."}
  subgroups:
    type: array
    items: {$ref: "#/$defs/expression"}
    description: "The prespecified subgroup variables (coded), each with a treatment-by-subgroup interaction model."
  min_per_arm: {type: integer, minimum: 1, description: "A level with fewer participants analysed in an arm is left out of its model (and named in the note; default 5)."}
  decimals: {type: integer, minimum: 0, description: "Decimals of the effects (default 2 for odds ratios, 1 for differences)."}
required: [estimand, subgroups]
"""
READS = {"adjustment": True}


def _labels(analysis, name: str) -> dict:
    """A coded subgroup variable's level labels (code key as text -> label)."""
    if analysis.has_variable(name):
        choices = analysis.variable(name).meta.get("choices") or ()
    else:
        info = analysis.book.fields.get(name)
        choices = info.choices if info is not None else ()
    return {str(_code_key(c)): str(t) for c, t in choices}


def fit_interaction(
    y: np.ndarray,
    treat: np.ndarray,
    covariates: pd.DataFrame,
    levels: np.ndarray,
    kind: str,
    confidence: float = 0.95,
) -> dict:
    """The arm's effect within each level of ``levels`` (text codes) from one model with
    a treatment-by-level interaction, and the Wald test of the interaction.

    Returns ``{"levels": {level: (estimate, lower, upper, n)}, "statistic", "df", "p"}``:
    odds ratios for a binary outcome, differences in means for a continuous one."""
    from statsmodels.regression.linear_model import OLS

    order = sorted(set(levels.tolist()))
    ind = (
        np.column_stack([(levels == lv).astype(float) for lv in order[1:]])
        if len(order) > 1
        else np.empty((len(y), 0))
    )
    cov = design(covariates) if covariates.shape[1] else np.empty((len(y), 0))
    x = np.column_stack([np.ones(len(y)), treat, ind, treat[:, None] * ind, cov])
    # covariates collinear with the subgroup (the subgroup is itself a covariate) go
    x = _full_rank(x)
    k = len(order) - 1
    if kind == "binary":
        fit = logistic_fit(y, x)
        q = stats.norm.ppf(1 - (1 - confidence) / 2)
    else:
        fit = OLS(y, x).fit()
        q = stats.t.ppf(1 - (1 - confidence) / 2, fit.df_resid)
    params, vcov = np.asarray(fit.params), np.asarray(fit.cov_params())
    out = {}
    for j, lv in enumerate(order):
        c = np.zeros(len(params))
        c[1] = 1.0
        if j > 0:
            c[2 + k + j - 1] = 1.0
        est = float(c @ params)
        se = math.sqrt(max(float(c @ vcov @ c), 0.0))
        n = int((levels == lv).sum())
        if kind == "binary":
            out[lv] = (math.exp(est), math.exp(est - q * se), math.exp(est + q * se), n)
        else:
            out[lv] = (est, est - q * se, est + q * se, n)
    result = {"levels": out, "statistic": math.nan, "df": k, "p": math.nan}
    if k:
        r = np.zeros((k, len(params)))
        for j in range(k):
            r[j, 2 + k + j] = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = fit.wald_test(r, scalar=True)
        result["statistic"] = float(test.statistic)
        result["p"] = float(test.pvalue)
    return result


def overall_effect(y, treat, covariates: pd.DataFrame, kind: str, confidence: float = 0.95):
    """The arm's effect over every participant analysed (no interaction): the conditional
    odds ratio or the adjusted difference in means, with its interval."""
    from feasibility.analysis.adjusted import ancova

    if kind == "binary":
        x = _full_rank(
            np.column_stack([np.ones(len(y)), treat, design(covariates)])
            if covariates.shape[1]
            else np.column_stack([np.ones(len(y)), treat])
        )
        fit = logistic_fit(y, x)
        b, se = float(fit.params[1]), float(np.sqrt(fit.cov_params()[1, 1]))
        q = stats.norm.ppf(1 - (1 - confidence) / 2)
        return math.exp(b), math.exp(b - q * se), math.exp(b + q * se), len(y)
    r = ancova(y, treat, covariates, confidence)
    return r.estimate, r.lower, r.upper, r.n


def subgroup_results(analysis, table_id: str, raw: dict, small_cell_threshold=None):
    """The subgroup analyses of a ``subgroups`` table: a frame (subgroup, level, label,
    estimate, lower, upper, n, p_interaction) and what the table prints besides."""
    ctx = TableContext(
        analysis, table_id, raw, default_columns=None, small_cell_threshold=small_cell_threshold
    )
    if raw.get("columns") is None:
        raw = {**raw, "columns": _by_arm(ctx)}
        ctx = TableContext(analysis, table_id, raw, small_cell_threshold=small_cell_threshold)
    adj = Adjusted(ctx)
    estimand, spec = adj.estimand({"estimand": raw["estimand"]})
    kind, y, baseline, treat, frame, keep, tp, where = adj.prepare(spec, estimand)
    if kind == "binary" and y.dtype.name == "boolean":
        y = y.astype("float64")
    yv = pd.to_numeric(y, errors="coerce").to_numpy(dtype="float64")
    confidence = analysis.spec.confidence
    minimum = int(raw.get("min_per_arm", 5))
    rows, info = (
        [],
        {
            "estimand": estimand,
            "kind": kind,
            "ctx": ctx,
            "adj": adj,
            "left_out": [],
            "tests": [],
            "y": yv,
            "treat": treat,
        },
    )
    complete = keep & ~np.isnan(yv) & ~np.isnan(treat) & frame.notna().all(axis=1).to_numpy()
    cov_all = frame.loc[complete].reset_index(drop=True)
    est = overall_effect(yv[complete], treat[complete], cov_all, kind, confidence)
    rows.append(
        dict(
            subgroup="",
            level="",
            label=OVERALL,
            estimate=est[0],
            lower=est[1],
            upper=est[2],
            n=est[3],
            p_interaction=math.nan,
            mask=complete,
        )
    )
    for name in raw["subgroups"]:
        label = analysis.variable_label(name)
        values = adj.covariate_frame([name], tp, f"{where}, subgroup {name!r}")[name]
        levels = values.to_numpy(dtype=object)
        names = _labels(analysis, name)
        here = complete & values.notna().to_numpy()
        kept = []
        for lv in sorted({str(v) for v in levels[here]}):
            at = here & (levels == lv)
            small = any(int((at & (treat == a)).sum()) < minimum for a in (0.0, 1.0))
            if not small and kind == "binary":
                small = any(len(set(yv[at & (treat == a)].tolist())) < 2 for a in (0.0, 1.0))
            if small:
                info["left_out"].append(
                    f"{label}: {names.get(lv, lv)} "
                    f"({int(at.sum())} participant"
                    f"{'s' if int(at.sum()) != 1 else ''})"
                )
                here = here & ~(levels == lv)
            else:
                kept.append(lv)
        if len(kept) < 2:
            info["left_out"].append(f"{label}: fewer than two levels to compare")
            continue
        cov_names = [c for c in frame.columns if c != name]
        fit = fit_interaction(
            yv[here],
            treat[here],
            frame.loc[here, cov_names].reset_index(drop=True),
            np.array([str(v) for v in levels[here]], dtype=object),
            kind,
            confidence,
        )
        test = "chi-squared" if kind == "binary" else "F"
        info["tests"].append(f"{label}: p = {fit['p']:.2f} (Wald {test}, {fit['df']} df)")
        for lv in kept:
            e = fit["levels"][lv]
            rows.append(
                dict(
                    subgroup=label,
                    level=lv,
                    label=names.get(lv, lv),
                    estimate=e[0],
                    lower=e[1],
                    upper=e[2],
                    n=e[3],
                    p_interaction=fit["p"],
                    mask=here & (levels == lv),
                )
            )
    frame_out = pd.DataFrame(rows)
    return frame_out, info


def build(analysis, table_id: str, raw: dict, small_cell_threshold=None) -> TableResult:
    """A subgroup table (kind ``subgroups``)."""
    results, info = subgroup_results(analysis, table_id, raw, small_cell_threshold)
    ctx, adj, kind = info["ctx"], info["adj"], info["kind"]
    cells = Cells(ctx)
    y, treat = info["y"], info["treat"]
    decimals = int(raw.get("decimals", 1 if kind == "continuous" else 2))
    percent = f"{100 * analysis.spec.confidence:g}"
    for r in results.itertuples():
        rid = f"{r.subgroup}:{r.level}" if r.subgroup else "overall"
        for column, arm in ((adj.first, 1.0), (adj.second, 0.0)):
            values = pd.Series(y[r.mask & (treat == arm)])
            if kind == "binary":
                k, n = int((values == 1).sum()), int(values.notna().sum())
                cells.add(
                    rid,
                    cell(
                        ctx.cell_table,
                        r.subgroup,
                        r.label,
                        column.id,
                        "n_pct",
                        decimals=1,
                        estimate=n_pct(k, n).percent,
                        n=k,
                        denominator=n,
                    ),
                )
            else:
                m = mean_sd(values)
                cells.add(
                    rid,
                    cell(
                        ctx.cell_table,
                        r.subgroup,
                        r.label,
                        column.id,
                        "mean_sd",
                        decimals=decimals,
                        estimate=m.mean,
                        sd=m.sd,
                        n=m.n,
                    ),
                )
        cells.add(
            rid,
            cell(
                ctx.cell_table,
                r.subgroup,
                r.label,
                "effect",
                "ratio_ci" if kind == "binary" else "mean_difference_ci",
                decimals=decimals,
                estimate=r.estimate,
                lower=r.lower,
                upper=r.upper,
                n=int(r.n),
            ),
        )
    frame = cells_frame(cells.records)
    effect = f"Odds ratio ({percent}% CI)" if kind == "binary" else f"Adjusted difference ({percent}% CI)"
    columns = {
        adj.first.id: adj.first.label,
        adj.second.id: adj.second.label,
        "effect": f"{adj.first.level_label} versus {adj.second.level_label}",
    }
    value = "n (%)" if kind == "binary" else "mean (SD)"
    gt = build_gt(
        frame,
        table_id=ctx.id,
        title=ctx.render(raw.get("title", ctx.id)),
        label=raw.get("label"),
        columns=columns,
        value_label="",
        value_labels={adj.first.id: value, adj.second.id: value, "effect": effect},
        stub_label=raw.get("stub_label", "Subgroup"),
        n_label=raw.get("n_label", "n"),
    )
    result = TableResult(ctx.id, frame.reset_index(drop=True), None, cells.row_ids)
    gt = gt.tab_footnote(method_note(info, analysis))
    result.gt = finish_gt(ctx, gt, result)
    return result


def method_note(info: dict, analysis) -> str:
    e, kind, adj = info["estimand"], info["kind"], info["adj"]
    covariates = [analysis.variable_label(c) if analysis.has_variable(c) else c for c in adj.covariates({})]
    model = (
        "logistic regression; odds ratios within each level (exp of the arm's "
        "coefficient plus its interaction), Wald intervals"
        if kind == "binary"
        else "ANCOVA; adjusted differences in means within each level, t intervals"
    )
    parts = [
        f"{e.code} ({e.label}), participants with the outcome and every covariate "
        f"(complete cases). One model per subgroup variable with a treatment-by-subgroup "
        f"interaction ({model}), adjusted for "
        + _joined(
            (
                ["the baseline value"]
                if kind == "continuous" and adj.baseline_of({"variable": e.variable}, e.timepoint)
                else []
            )
            + [c[0].lower() + c[1:] for c in covariates]
            or ["nothing"]
        )
        + " (a subgroup variable that is also a covariate enters once). "
        + "Interaction tests: "
        + ("; ".join(info["tests"]) or "none")
        + "."
    ]
    if info["left_out"]:
        parts.append(
            "Left out of their subgroup's model (too few participants, or no "
            "outcome in an arm): " + "; ".join(info["left_out"]) + "."
        )
    parts.append(
        "Prespecified subgroups, reported as exploratory: the trial is not "
        "powered to detect differences between subgroups, the intervals are wide "
        "and not adjusted for multiplicity, and an effect in one subgroup but not "
        "another is weak evidence of a difference; read the interaction test, not "
        "the subgroups' intervals one by one."
    )
    return " ".join(parts)


__all__ = ["build", "subgroup_results", "fit_interaction", "overall_effect", "OVERALL"]
