"""Delta-adjusted tipping-point analysis of an estimand (kind ``tipping_point``, issue 23.3).

The estimand's adjusted analysis by multiple imputation (:mod:`feasibility.tables.adjusted`,
the same imputations, seed and covariates), repeated with the imputed outcomes made worse
step by step: by each ``deltas`` value (log odds for a binary outcome - the odds of the
outcome among those imputed multiplied by exp(delta) - or the outcome's units for a
continuous one) in the intervention arm only, and in both arms. Each row is a delta, each
column a scenario; a cell is the pooled adjusted difference with its interval. The note
says at which delta the conclusion (whether the interval excludes no difference) first
changes, if it does within the range declared. The figure kind ``tipping_point``
(:mod:`feasibility.figures.tipping`) draws the same numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from feasibility.tables.base import Cells, TableContext, TableResult, published_key
from feasibility.tables.adjusted import Adjusted, _by_arm, pool_imputations
from feasibility.tables.common import build_gt, cell, cells_frame

SCENARIOS = {"intervention": "Intervention arm only", "both": "Both arms"}
KIND = "tipping_point"
DEFAULTS = {
    "deltas": {"binary": [0, -0.5, -1, -1.5, -2, -3], "continuous": [0, -1, -2, -3, -4, -5]},
    "decimals": 1,
}
SCHEMA = """
description: A delta-adjusted tipping-point analysis of an estimand (multiple imputation).
properties:
  estimand: {$ref: "#/$defs/name", description: "The estimand whose imputed outcomes are shifted."}
  deltas:
    type: array
    items: {type: number}
    description: "The shifts of the imputed outcomes, in order (log odds for a binary outcome, else the outcome's units; default 0 to -3 / 0 to -5)."
  decimals: {type: integer, minimum: 0, description: "Decimals of the differences (default 1)."}
required: [estimand]
"""
READS = {"adjustment": True}
DEFAULT_DELTAS = DEFAULTS["deltas"]


def context(analysis, table_id: str, raw: dict, small_cell_threshold=None) -> TableContext:
    raw = {**raw, "columns": raw.get("columns")}
    ctx = TableContext(
        analysis,
        table_id,
        {**raw, "columns": None},
        default_columns=None,
        small_cell_threshold=small_cell_threshold,
    )
    return TableContext(
        analysis, table_id, {**raw, "columns": _by_arm(ctx)}, small_cell_threshold=small_cell_threshold
    )


def tipping_results(analysis, table_id: str, raw: dict) -> tuple[pd.DataFrame, dict]:
    """The pooled difference at each delta in each scenario (columns delta, scenario,
    estimate, lower, upper, n), and what it was made of (estimand, kind, counts)."""
    ctx = context(analysis, table_id, raw)
    rows = Adjusted(ctx)
    spec = {"estimand": raw["estimand"]}
    estimand, spec = rows.estimand(spec)
    prepared = rows.prepare(spec, estimand)
    kind, y, baseline, treat, frame, keep, tp, where = prepared
    data, names, complete, binary = rows.imputation_data(spec, tp, y, baseline, frame, keep, where)
    from feasibility.analysis.imputation import delta_outcome, impute_by_arm

    settings = rows.imputation
    arm = treat[keep]
    imputations = impute_by_arm(
        data, binary, complete, arm, settings["m"], settings["seed"], settings["iterations"]
    )
    deltas = [float(d) for d in raw.get("deltas") or DEFAULT_DELTAS[kind]]
    out = []
    covariates = frame.loc[keep].reset_index(drop=True)
    for scenario in SCENARIOS:
        for delta in deltas:

            def outcome(imp, level, delta=delta, scenario=scenario):
                shifted = scenario == "both" or level == 1.0
                return delta_outcome(imp, delta if shifted else 0.0)

            pooled = pool_imputations(
                imputations, arm, covariates, names, baseline, kind, analysis.spec.confidence, outcome=outcome
            )
            r = pooled["rd"] if kind == "binary" else pooled["difference"]
            scale = 100 if kind == "binary" else 1
            out.append(
                {
                    "delta": delta,
                    "scenario": scenario,
                    "estimate": scale * r.estimate,
                    "lower": scale * r.lower,
                    "upper": scale * r.upper,
                    "n": r.n,
                }
            )
    info = {
        "estimand": estimand,
        "kind": kind,
        "imputed": int(np.isnan(data[:, 0]).sum()),
        "m": settings["m"],
        "label": spec.get("label", ""),
    }
    return pd.DataFrame(out), info


def tipping_points(frame: pd.DataFrame) -> dict[str, float | None]:
    """Per scenario, the first delta (in the declared order) at which the conclusion
    differs from that at the first delta (interval excluding 0 or not), else None."""
    out = {}
    for scenario, block in frame.groupby("scenario", sort=False):
        excludes = [(lo > 0 or hi < 0) for lo, hi in zip(block["lower"], block["upper"])]
        out[scenario] = next((float(d) for d, e in zip(block["delta"], excludes) if e != excludes[0]), None)
    return out


def delta_text(delta: float, kind: str) -> str:
    text = f"{delta:g}".replace("-", "\u2212")
    if kind == "binary":
        return f"{text} (odds \u00d7 {math.exp(delta):.2f})"
    return text


def build(analysis, table_id: str, raw: dict, small_cell_threshold=None) -> TableResult:
    """A tipping-point table (kind ``tipping_point``)."""
    frame, info = tipping_results(analysis, table_id, raw)
    ctx = context(analysis, table_id, raw, small_cell_threshold)
    kind = info["kind"]
    cells = Cells(ctx)
    statistic = "risk_difference_ci" if kind == "binary" else "mean_difference_ci"
    decimals = raw.get("decimals", DEFAULTS["decimals"])
    stub = "Delta, log odds" if kind == "binary" else "Delta"
    for i, (scenario, label) in enumerate(SCENARIOS.items()):
        for _, r in frame[frame["scenario"] == scenario].iterrows():
            row = delta_text(r["delta"], kind)
            key = published_key(
                raw.get("published_key"), f"{ctx.where}", column=scenario, column_index=i, timepoint=""
            )
            cells.add(
                row,
                cell(
                    ctx.cell_table,
                    "",
                    row,
                    scenario,
                    statistic,
                    decimals=decimals,
                    estimate=r["estimate"],
                    lower=r["lower"],
                    upper=r["upper"],
                    n=int(r["n"]),
                    published_key=key,
                ),
            )
    table = cells_frame(cells.records)
    percent = f"{100 * analysis.spec.confidence:g}"
    what = "Risk difference, percentage points" if kind == "binary" else "Difference in means"
    gt = build_gt(
        table,
        table_id=ctx.id,
        title=ctx.render(raw.get("title", ctx.id)),
        label=raw.get("label"),
        columns=dict(SCENARIOS),
        value_label=f"{what} ({percent}% CI)",
        stub_label=stub,
        n_label=None,
    )
    e = info["estimand"]
    points = tipping_points(frame)
    said = []
    for scenario, delta in points.items():
        where = SCENARIOS[scenario].lower()
        said.append(
            f"{where}: the conclusion changes at delta {delta_text(delta, kind)}"
            if delta is not None
            else f"{where}: the conclusion does not change within the deltas shown"
        )
    unit = (
        "on the log-odds scale: the odds of the outcome among the participants whose "
        "outcome was imputed multiplied by exp(delta)"
        if kind == "binary"
        else "in the outcome's units"
    )
    gt = gt.tab_footnote(
        f"{e.code} ({e.label}): the adjusted analysis by multiple imputation (m = {info['m']}; "
        f"{info['imputed']} outcomes imputed), with the imputed outcomes shifted by delta "
        f"{unit}, in the intervention arm only or in both arms; the same imputations at "
        f"every delta. Delta 0 is the primary analysis (missing at random). Conclusion: "
        f"whether the {percent}% interval excludes no difference; " + "; ".join(said) + "."
    )
    from feasibility.tables.base import finish_gt

    result = TableResult(ctx.id, table, None, cells.row_ids)
    result.gt = finish_gt(ctx, gt, result)
    return result


__all__ = ["build", "tipping_results", "tipping_points", "SCENARIOS"]
