"""Covariate-adjusted between-arm comparisons (kind ``adjusted``, issue 23.2).

One row per outcome (a variable at a time point), columns by arm (``columns: {by: arm}``,
the default), then the estimates (:mod:`feasibility.analysis.adjusted`):

* ``adjusted`` - the primary, covariate-adjusted difference: for a continuous outcome the
  ANCOVA difference in means (follow-up value on arm, the baseline value of the same
  measure and the adjustment covariates); for a binary outcome the standardised risk
  difference (percentage points) by g-computation from a logistic regression on arm and
  the covariates, delta-method interval (Ge et al. 2011);
* ``risk_ratio`` and ``odds_ratio`` (tables with a binary row) - the standardised risk
  ratio (delta method on the log scale) and the conditional odds ratio (exp of the arm's
  coefficient, Wald interval);
* ``unadjusted`` - the supportive unadjusted difference of the same records' outcomes
  (Newcombe's hybrid score interval; Welch's t interval), as the other tables print it.

The arms' cells are n (%) or mean (SD) of the participants with the outcome; each
estimate's ``n`` is the number of participants it analysed (the outcome, the baseline
value and every covariate recorded). Adjustment covariates: the row's ``covariates``, else
the table's, else ``statistics.adjustment.covariates``; the baseline value: the row's
``baseline`` (an expression, or false for none), else - with
``statistics.adjustment.baseline`` (default true) - the variable's value at the baseline
time point when it has one (a score or a per-time-point variable).

Cells: ``n_pct`` / ``mean_sd`` (arms), ``risk_difference_ci`` / ``mean_difference_ci``
(differences), ``ratio_ci`` (ratios).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from great_tables import loc

from feasibility.analysis.adjusted import ancova, gcomputation
from feasibility.analysis.compare import mean_difference, risk_difference
from feasibility.analysis.estimands import apply_strategies
from feasibility.analysis.expressions import _code_key
from feasibility.tables.base import Cells, TableContext, TableResult, finish_gt, published_key
from feasibility.stats import mean_sd, n_pct
from feasibility.tables.common import build_gt, cell, cells_frame

KIND = "adjusted"
DEFAULTS = {"missing_data": "complete_case", "decimals": 1, "stub_label": "Outcome", "n_label": "n"}
SCHEMA = """
description: Covariate-adjusted comparisons of the arms, one estimand a row.
properties:
  rows: {$ref: "#/$defs/adjusted_rows", description: "The estimands compared (rows)."}
  covariates: {type: array, items: {type: string}, description: "The adjustment covariates of its rows (default statistics.adjustment.covariates)."}
  missing_data:
    enum: [complete_case, multiple_imputation]
    description: >-
      How missing values are handled - complete_case (set aside; the default) or
      multiple_imputation (the primary estimate by chained equations under missing at
      random, statistics.imputation; complete cases as a sensitivity column).
  decimals: {type: integer, minimum: 0, description: "Decimals of the estimates (default 1)."}
required: [rows]
"""
# the adjustment settings, the estimands and, through covariates and baseline values, every
# time point
READS = {"adjustment": True}

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ESTIMATES = ("adjusted", "risk_ratio", "odds_ratio", "unadjusted", "complete_case")


def _by_arm(ctx: TableContext) -> dict:
    return {"by": ctx.analysis.spec.arms.name if ctx.analysis.spec.arms else "arm"}


def imputation_settings(config: dict) -> dict:
    """``statistics.imputation`` with its defaults (m = 50 imputations, 5 iterations)."""
    raw = ((config or {}).get("statistics") or {}).get("imputation") or {}
    return {
        "m": int(raw.get("m", 50)),
        "iterations": int(raw.get("iterations", 5)),
        "seed": int(raw.get("seed", 20231)),
        "other_timepoints": raw.get("other_timepoints", True),
    }


def adjustment_settings(config: dict) -> dict:
    """``statistics.adjustment`` with its defaults (no covariates; the baseline value)."""
    raw = ((config or {}).get("statistics") or {}).get("adjustment") or {}
    return {"covariates": list(raw.get("covariates") or []), "baseline": raw.get("baseline", True)}


class Adjusted:
    """The rows of an ``adjusted`` table."""

    def __init__(self, ctx: TableContext):
        self.ctx = ctx
        self.analysis = ctx.analysis
        self.raw = ctx.raw
        self.settings = adjustment_settings(self.analysis.spec.raw)
        self.cells = Cells(ctx)
        arms = [c for c in ctx.columns if c.level is not None]
        if len(arms) < 2:
            raise ValueError(f"{ctx.where}: an adjusted table compares the arms; its columns are {{by: arm}}")
        first, second = self.analysis.compared_arms()
        self.first = next((c for c in arms if _code_key(c.level) == _code_key(first)), None)
        self.second = next((c for c in arms if _code_key(c.level) == _code_key(second)), None)
        if self.first is None or self.second is None:
            raise ValueError(f"{ctx.where}: no column for the arms compared ({first!r}, {second!r})")
        self.kinds: set[str] = set()
        self.notes: dict[str, list[str]] = {}
        self.estimands: list = []
        self.changed: dict[str, dict[str, int]] = {}
        self.multiple = self.raw.get("missing_data", DEFAULTS["missing_data"]) == "multiple_imputation"
        self.imputation = imputation_settings(self.analysis.spec.raw)
        self.imputed: list[str] = []
        self.set_aside: list[str] = []

    # -- the declaration -----------------------------------------------------------
    def run(self) -> None:
        for entry in self.raw.get("rows") or []:
            if "variables" in entry:
                shared = {k: entry[k] for k in ("type", "decimals", "timepoint", "covariates") if k in entry}
                for spec in entry["variables"]:
                    self.row({**shared, **spec}, entry["group"])
            else:
                self.row(entry, "")

    def covariates(self, spec: dict) -> list[str]:
        if "covariates" in spec:
            return list(spec["covariates"] or [])
        if "covariates" in self.raw:
            return list(self.raw["covariates"] or [])
        return self.settings["covariates"]

    def baseline_of(self, spec: dict, timepoint: str | None) -> str | None:
        """The baseline value's expression, or None."""
        if "baseline" in spec:
            value = spec["baseline"]
            return None if value is False or value is None else str(value)
        if not self.settings["baseline"]:
            return None
        base = self.analysis.timepoints.baseline
        name = str(spec["variable"]).strip()
        if base is None or timepoint == base or not NAME.fullmatch(name):
            return None
        if not self.analysis.has_variable(name):
            return None
        var = self.analysis.variable(name)
        if not var.per_timepoint or base not in var.by_timepoint:
            return None
        return f"{name}[{base}]"

    def covariate_frame(
        self, names: list[str], timepoint: str | None, where: str, numeric: tuple[str, ...] = ()
    ) -> pd.DataFrame:
        """The covariates over the table's records: coded variables as text levels, except
        those named in ``numeric`` (the baseline value of the outcome's measure, which
        enters the ANCOVA and the imputation model as a number even when its field is a
        coded 0-10 scale)."""
        out = {}
        for name in names:
            expr = self.ctx.parse(name, f"{where}, covariate {name!r}")
            v = self.analysis.evaluate(expr, timepoint, index=self.ctx.index)
            values = self.ctx.values(
                name, f"{where}, covariate {name!r}", timepoint=timepoint, index=self.ctx.index
            )
            if name in numeric:
                values = pd.to_numeric(values.astype(object), errors="coerce").astype("float64")
            elif v.meta.get("choices") or not pd.api.types.is_numeric_dtype(values.dtype):
                values = values.astype(object).map(lambda x: None if pd.isna(x) else str(_code_key(x)))
            elif values.dtype.name == "boolean":
                values = values.astype("float64")
            out[name] = values.reset_index(drop=True)
        return pd.DataFrame(out, index=range(len(self.ctx.index)))

    def estimand(self, spec: dict):
        """The estimand a row names (``estimand``), and the row with its attributes."""
        if "estimand" not in spec:
            return None, spec
        from feasibility.analysis.estimands import load_estimands

        known = load_estimands(self.analysis.spec.raw)
        eid = spec["estimand"]
        if eid not in known:
            raise ValueError(
                f"{self.ctx.where}: no estimand {eid!r} (estimands: {', '.join(known) or 'none declared'})"
            )
        e = known[eid]
        inherited = {"id": eid, "variable": e.variable, "label": e.label}
        for name in ("timepoint", "type"):
            if getattr(e, name) is not None:
                inherited[name] = getattr(e, name)
        for name in ("covariates", "baseline"):
            if name in e.raw:
                inherited[name] = e.raw[name]
        return e, {**inherited, **spec}

    def row(self, spec: dict, group: str) -> None:
        ctx, a = self.ctx, self.analysis
        estimand, spec = self.estimand(spec)
        rid = spec.get("id") or str(spec["variable"])
        where = f"row {rid!r}"
        tp = spec.get("timepoint", ctx.timepoint)
        if tp is not None and tp not in a.timepoints.points:
            raise ValueError(f"{ctx.where}, {where}: unknown time point {tp!r}")
        y = ctx.values(spec["variable"], where, timepoint=tp, index=ctx.index)
        inside = np.ones(len(ctx.index), dtype=bool)
        if estimand is not None:
            from feasibility.analysis.estimands import apply_strategies

            y, changed = apply_strategies(ctx, estimand, y, where)
            self.changed[estimand.code] = changed
            self.estimands.append(estimand)
            if estimand.population is not None:
                inside = ctx.values(
                    estimand.population, f"{where}, estimand population", timepoint=tp, index=ctx.index
                )
                inside = inside.astype("boolean").fillna(False).astype(bool).to_numpy()
        kind = spec.get("type") or (
            "binary" if y.dtype.name == "boolean" or pd.api.types.is_bool_dtype(y.dtype) else "continuous"
        )
        self.kinds.add(kind)
        if y.dtype.name == "boolean" or pd.api.types.is_bool_dtype(y.dtype):
            y = y.astype("float64")
        y = pd.to_numeric(y, errors="coerce").astype("float64")
        if kind == "binary" and not y.dropna().isin([0.0, 1.0]).all():
            raise ValueError(f"{ctx.where}, {where}: a binary outcome is true/false or 0/1")
        label = ctx.render(spec["label"]) if "label" in spec else ctx.label_of(spec["variable"])
        if estimand is not None:
            label = f"{label} ({estimand.code})"
        covariates = self.covariates(spec)
        baseline = self.baseline_of(spec, tp)
        frame = self.covariate_frame(
            ([baseline] if baseline else []) + covariates, tp, where, numeric=(baseline,) if baseline else ()
        )
        in_first = ctx.index.isin(self.first.index)
        in_second = ctx.index.isin(self.second.index)
        compared = in_first | in_second
        treat = np.where(in_first, 1.0, np.where(in_second, 0.0, np.nan))
        if not inside.all():  # the estimand's population
            y = y.astype("float64").where(inside)
            treat = np.where(inside, treat, np.nan)
            compared = compared & inside
        yv = y.to_numpy()
        confidence = a.spec.confidence
        decimals = spec.get("decimals", self.raw.get("decimals", DEFAULTS["decimals"]))

        def key(column_id: str, index: int) -> str:
            return published_key(
                spec.get("published_key"),
                f"{ctx.where}, {where}",
                column=column_id,
                column_index=index,
                timepoint=tp or "",
            )

        def add(column_id, index, statistic, decimals, **values):
            self.cells.add(
                rid,
                cell(
                    ctx.cell_table,
                    group,
                    label,
                    column_id,
                    statistic,
                    decimals=decimals,
                    published_key=key(column_id, index),
                    **values,
                ),
            )

        arm_values = {}
        for i, column in enumerate(ctx.columns):
            values = y[ctx.index.isin(column.index)]
            arm_values[column.id] = values
            if kind == "binary":
                k, n = int((values == 1).sum()), int(values.notna().sum())
                add(
                    column.id,
                    i,
                    "n_pct",
                    spec.get("percent_decimals", 1),
                    estimate=n_pct(k, n).percent,
                    n=k,
                    denominator=n,
                )
            else:
                m = mean_sd(values)
                add(column.id, i, "mean_sd", decimals, estimate=m.mean, sd=m.sd, n=m.n)
        j = len(ctx.columns)
        keep = compared
        code = estimand.code if estimand is not None else label
        if kind == "binary":
            fx = gcomputation(yv[keep], treat[keep], frame.loc[keep].reset_index(drop=True), confidence)
            rd = fx.risk_difference
            ratios = (("risk_ratio", fx.risk_ratio), ("odds_ratio", fx.odds_ratio))
            self.set_aside.append(f"{code} {int(keep.sum()) - rd.n}")
            if self.multiple:
                add(
                    "complete_case",
                    j + 4,
                    "risk_difference_ci",
                    1,
                    estimate=100 * rd.estimate,
                    lower=100 * rd.lower,
                    upper=100 * rd.upper,
                    n=rd.n,
                )
                pooled, counts = self.multiply_imputed(spec, tp, kind, y, baseline, treat, frame, keep, where)
                rd = pooled["rd"]
                ratios = (("risk_ratio", pooled["rr"]), ("odds_ratio", pooled["or"]))
                self.imputed.append(f"{code} {counts}")
            add(
                "adjusted",
                j,
                "risk_difference_ci",
                1,
                estimate=100 * rd.estimate,
                lower=100 * rd.lower,
                upper=100 * rd.upper,
                n=rd.n,
            )
            for jj, (cid, r) in enumerate(ratios, start=j + 1):
                add(cid, jj, "ratio_ci", 2, estimate=r.estimate, lower=r.lower, upper=r.upper, n=r.n)
            a1, a2 = arm_values[self.first.id], arm_values[self.second.id]
            u = risk_difference(
                int((a1 == 1).sum()),
                int(a1.notna().sum()),
                int((a2 == 1).sum()),
                int(a2.notna().sum()),
                confidence,
            )
            add(
                "unadjusted",
                j + 3,
                "risk_difference_ci",
                1,
                estimate=100 * u.estimate,
                lower=100 * u.lower,
                upper=100 * u.upper,
                n=u.n1 + u.n2,
            )
        else:
            r = ancova(yv[keep], treat[keep], frame.loc[keep].reset_index(drop=True), confidence)
            self.set_aside.append(f"{code} {int(keep.sum()) - r.n}")
            if self.multiple:
                add(
                    "complete_case",
                    j + 4,
                    "mean_difference_ci",
                    decimals,
                    estimate=r.estimate,
                    lower=r.lower,
                    upper=r.upper,
                    n=r.n,
                )
                pooled, counts = self.multiply_imputed(spec, tp, kind, y, baseline, treat, frame, keep, where)
                r = pooled["difference"]
                self.imputed.append(f"{code} {counts}")
            add(
                "adjusted",
                j,
                "mean_difference_ci",
                decimals,
                estimate=r.estimate,
                lower=r.lower,
                upper=r.upper,
                n=r.n,
            )
            u = mean_difference(arm_values[self.first.id], arm_values[self.second.id], confidence)
            add(
                "unadjusted",
                j + 3,
                "mean_difference_ci",
                decimals,
                estimate=u.estimate,
                lower=u.lower,
                upper=u.upper,
                n=u.n1 + u.n2,
            )
        labels = [a.variable_label(c) if NAME.fullmatch(c) else c for c in covariates]
        adjusted_for = (["the baseline value"] if baseline else []) + [
            f"{lab[0].lower()}{lab[1:]}" if lab[:1].isupper() and not lab[1:2].isupper() else lab
            for lab in labels
        ]
        self.notes.setdefault(_joined(adjusted_for) or "nothing", []).append(
            estimand.code if estimand is not None else label
        )

    def prepare(self, spec: dict, estimand):
        """What an estimand's analysis reads (the tipping-point analysis): kind, outcome,
        baseline expression, arm (1/0), covariates, records compared, time point."""
        ctx = self.ctx
        where = f"estimand {spec.get('id')!r}"
        tp = spec.get("timepoint", ctx.timepoint)
        y = ctx.values(spec["variable"], where, timepoint=tp, index=ctx.index)
        y, _ = apply_strategies(ctx, estimand, y, where)
        kind = spec.get("type") or ("binary" if y.dtype.name == "boolean" else "continuous")
        y = pd.to_numeric(y.astype("float64"), errors="coerce").astype("float64")
        baseline = self.baseline_of(spec, tp)
        frame = self.covariate_frame(
            ([baseline] if baseline else []) + self.covariates(spec),
            tp,
            where,
            numeric=(baseline,) if baseline else (),
        )
        in_first = ctx.index.isin(self.first.index)
        in_second = ctx.index.isin(self.second.index)
        treat = np.where(in_first, 1.0, np.where(in_second, 0.0, np.nan))
        keep = in_first | in_second
        if estimand.population is not None:
            inside = ctx.values(estimand.population, f"{where}, population", timepoint=tp, index=ctx.index)
            keep = keep & inside.astype("boolean").fillna(False).astype(bool).to_numpy()
        return kind, y, baseline, treat, frame, keep, tp, where

    # -- multiple imputation ---------------------------------------------------------
    def other_followups(self, spec: dict, timepoint: str | None, baseline: str | None) -> list[str]:
        """The same measure at the other follow-up time points (predictors of the
        imputation model)."""
        name = str(spec["variable"]).strip()
        if (
            not self.imputation["other_timepoints"]
            or not NAME.fullmatch(name)
            or not self.analysis.has_variable(name)
        ):
            return []
        var = self.analysis.variable(name)
        if not var.per_timepoint:
            return []
        base = self.analysis.timepoints.baseline
        return [f"{name}[{tp}]" for tp in var.by_timepoint if tp not in (timepoint, base)]

    def imputation_data(self, spec, tp, y, baseline, frame, keep, where):
        """The imputation model's variables (outcome first, baseline, other follow-ups,
        numeric covariates) and its always-recorded predictors (coded covariates'
        indicators), over the records ``keep``."""
        from feasibility.analysis.adjusted import design

        columns = [y.to_numpy(dtype="float64", na_value=np.nan)[keep]]
        names = ["outcome"]
        if baseline:
            columns.append(frame[baseline].to_numpy(dtype="float64")[keep])
            names.append("baseline")
        for other in self.other_followups(spec, tp, baseline):
            values = self.ctx.values(
                other, f"{where}, imputation predictor {other!r}", timepoint=tp, index=self.ctx.index
            )
            columns.append(
                pd.to_numeric(values.astype("float64"), errors="coerce").to_numpy(dtype="float64")[keep]
            )
            names.append(other)
        rest = [c for c in frame.columns if c != baseline]
        coded = [c for c in rest if not pd.api.types.is_numeric_dtype(frame[c].dtype)]
        for c in rest:
            if c not in coded:
                columns.append(frame[c].to_numpy(dtype="float64")[keep])
                names.append(c)
        data = np.column_stack(columns)
        complete = (
            design(frame.loc[keep, coded].reset_index(drop=True)) if coded else np.empty((int(keep.sum()), 0))
        )
        binary = [
            bool(np.isin(data[~np.isnan(data[:, i]), i], [0.0, 1.0]).all()) for i in range(data.shape[1])
        ]
        return data, names, complete, binary

    def multiply_imputed(self, spec, tp, kind, y, baseline, treat, frame, keep, where):
        """The row's adjusted estimates by multiple imputation, pooled by Rubin's rules,
        and what was imputed (in words)."""
        from feasibility.analysis.imputation import impute_by_arm

        data, names, complete, binary = self.imputation_data(spec, tp, y, baseline, frame, keep, where)
        settings = self.imputation
        arm = treat[keep]
        imputations = impute_by_arm(
            data, binary, complete, arm, settings["m"], settings["seed"], settings["iterations"]
        )
        pooled = pool_imputations(
            imputations,
            arm,
            frame.loc[keep].reset_index(drop=True),
            names,
            baseline,
            kind,
            self.analysis.spec.confidence,
        )
        missing_y = int(np.isnan(data[:, 0]).sum())
        text = f"{missing_y} outcome{'s' if missing_y != 1 else ''}"
        if baseline:
            missing_b = int(np.isnan(data[:, 1]).sum())
            text += f", {missing_b} baseline value{'s' if missing_b != 1 else ''}"
        return pooled, text

    # -- the table -----------------------------------------------------------------
    def result(self) -> TableResult:
        ctx = self.ctx
        percent = f"{100 * self.analysis.spec.confidence:g}"
        binary = "binary" in self.kinds
        estimates = {"adjusted": "Adjusted (primary analysis)"}
        labels = {"adjusted": f"Adjusted difference ({percent}% CI)"}
        if binary:
            # one column each (their n is the adjusted difference's): the value label says it
            estimates.update(risk_ratio="", odds_ratio="")
            labels.update(
                risk_ratio=f"Adjusted risk ratio ({percent}% CI)",
                odds_ratio=f"Conditional odds ratio ({percent}% CI)",
            )
        if self.multiple:
            estimates["adjusted"] = "Adjusted, multiple imputation (primary analysis)"
            estimates["complete_case"] = "Adjusted, complete cases (sensitivity)"
            labels["complete_case"] = f"Adjusted difference ({percent}% CI)"
        estimates["unadjusted"] = "Unadjusted, complete cases (supportive)"
        labels["unadjusted"] = f"Difference ({percent}% CI)"
        frame = cells_frame(self.cells.records)
        frame = frame[frame["column"].isin([c.id for c in ctx.columns] + list(estimates))]
        columns = {c.id: c.label for c in ctx.columns}
        columns.update(estimates)
        value_labels = {
            c.id: ctx.render(self.raw.get("value_label", "n (%) or mean (SD)")) for c in ctx.columns
        }
        value_labels.update(labels)
        gt = build_gt(
            frame,
            table_id=ctx.id,
            title=ctx.render(self.raw.get("title", ctx.id)),
            label=self.raw.get("label"),
            columns=columns,
            value_label="",
            value_labels=value_labels,
            stub_label=self.raw.get("stub_label", DEFAULTS["stub_label"]),
            n_label=self.raw.get("n_label", DEFAULTS["n_label"]),
            denominator_label=self.raw.get("denominator_label"),
        )
        # the estimates' n are in the note (imputed, set aside): one column each, so that
        # the table fits the page
        gt = gt.cols_hide([f"{c}__n" for c in estimates])
        result = TableResult(ctx.id, frame.reset_index(drop=True), None, self.cells.row_ids)
        gt = gt.tab_footnote(self.method_note(binary), locations=loc.spanner_labels(ids=["adjusted"]))
        result.gt = finish_gt(ctx, gt, result)
        return result

    def method_note(self, binary: bool) -> str:
        first, second = self.first.level_label, self.second.level_label
        percent = f"{100 * self.analysis.spec.confidence:g}"
        parts = [f"{first} minus (or relative to) {second}; {percent}% confidence intervals."]
        if "continuous" in self.kinds:
            parts.append(
                "Continuous outcomes: ANCOVA (ordinary least squares) of the "
                "follow-up value on arm and the covariates; the adjusted difference "
                "in means with its t interval."
            )
        if binary:
            parts.append(
                "Binary outcomes: logistic regression on arm and the covariates; "
                "the standardised (marginal) risk difference, in percentage points, "
                "and risk ratio by g-computation (the predicted probabilities "
                "averaged over every participant analysed, with each arm assigned), "
                "delta-method intervals (Ge et al. 2011); the conditional odds ratio "
                "is the arm's coefficient."
            )
        for covariates, rows in self.notes.items():
            who = "every outcome" if len(self.notes) == 1 else _joined(rows)
            parts.append(f"Adjusted for {covariates}: {who}.")
        if self.estimands:
            codes = _joined([e.code for e in self.estimands])
            parts.append(f"{codes}: the estimands analysed (methods, estimands table).")
            for e in self.estimands:
                for ev, k in self.changed[e.code].items():
                    parts.append(
                        f"{e.code}, {ev[0].lower()}{ev[1:]}: {k} participant"
                        f"{'s' if k != 1 else ''} whose outcome the strategy set."
                    )
        if self.multiple:
            st = self.imputation
            parts.append(
                f"Multiple imputation under missing at random: chained equations, by arm, "
                f"from site, the baseline value and the other follow-up values of the same "
                f"measure; m = {st['m']} imputations of {st['iterations']} iterations each, "
                "seeded; estimates pooled by Rubin's rules (Barnard-Rubin degrees of "
                "freedom), over every participant with an arm in the estimand's "
                "population. Values imputed: " + "; ".join(self.imputed) + ". "
                "Complete cases (sensitivity): participants with the outcome and every "
                "covariate."
            )
        parts.append(
            "Participants set aside for a missing outcome or covariate (complete "
            "cases): " + "; ".join(self.set_aside) + "."
        )
        parts.append(
            "Arms: n (%) or mean (SD) of the participants with the outcome "
            "(n). Unadjusted (supportive): every participant with the outcome, "
            "Newcombe's hybrid score interval for a risk difference, Welch's t "
            "interval for a difference in means."
        )
        return " ".join(parts)


def pool_imputations(
    imputations, arm, covariates: pd.DataFrame, names, baseline, kind, confidence: float, outcome=None
):
    """Each imputation analysed as the complete-case analysis is (the same models, fitted
    in numpy: :func:`feasibility.analysis.adjusted.ols_arm`, ``gcomputation_arrays``),
    pooled by Rubin's rules.

    ``imputations``: per imputation, arm level -> :class:`~feasibility.analysis.imputation.
    Imputed` (the records of that arm, in order); ``outcome(imputed, level) -> values``: the
    outcome column to analyse (default the imputed one; the tipping point shifts it)."""
    from feasibility.analysis.adjusted import Estimate, design, gcomputation_arrays, ols_arm
    from feasibility.analysis.imputation import pool

    levels = sorted(set(arm.tolist()))
    position = np.concatenate([np.flatnonzero(arm == level) for level in levels])
    cov = covariates.iloc[position].reset_index(drop=True)
    treat = arm[position]
    coded = [c for c in cov.columns if not pd.api.types.is_numeric_dtype(cov[c].dtype)]
    fixed = design(cov[coded]) if coded else np.empty((len(cov), 0))
    numeric = [c for c in cov.columns if c not in coded]
    column_of = {name: i for i, name in enumerate(names)}
    results = []
    for by_arm in imputations:
        y = np.concatenate(
            [(outcome(by_arm[level], level) if outcome else by_arm[level].data[:, 0]) for level in levels]
        )
        parts = [np.ones(len(y)), treat]
        for c in numeric:
            i = column_of["baseline"] if c == baseline else column_of[c]
            parts.append(np.concatenate([by_arm[level].data[:, i] for level in levels]))
        x = np.column_stack(parts + [fixed])
        if kind == "binary":
            results.append(gcomputation_arrays(y, x, confidence))
        else:
            results.append(ols_arm(y, x))
    n = len(treat)

    def as_estimate(p):
        return Estimate(p.estimate, p.se, p.lower, p.upper, n, p.df)

    if kind == "binary":
        return {
            "rd": as_estimate(
                pool(
                    [r.risk_difference.estimate for r in results],
                    [r.risk_difference.se**2 for r in results],
                    confidence,
                )
            ),
            "rr": as_estimate(
                pool(
                    [r.risk_ratio.estimate for r in results],
                    [r.risk_ratio.se**2 for r in results],
                    confidence,
                    log=True,
                )
            ),
            "or": as_estimate(
                pool(
                    [r.odds_ratio.estimate for r in results],
                    [r.odds_ratio.se**2 for r in results],
                    confidence,
                    log=True,
                )
            ),
        }
    return {
        "difference": as_estimate(
            pool([r[0] for r in results], [r[1] ** 2 for r in results], confidence, df_complete=results[0][2])
        )
    }


def _joined(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def build(analysis, table_id: str, raw: dict, small_cell_threshold=None) -> TableResult:
    """A covariate-adjusted comparison table (kind ``adjusted``)."""
    ctx = TableContext(
        analysis, table_id, raw, default_columns=None, small_cell_threshold=small_cell_threshold
    )
    if raw.get("columns") is None:
        raw = {**raw, "columns": _by_arm(ctx)}
        ctx = TableContext(analysis, table_id, raw, small_cell_threshold=small_cell_threshold)
    rows = Adjusted(ctx)
    rows.run()
    return rows.result()


__all__ = ["build", "adjustment_settings", "ESTIMATES"]
