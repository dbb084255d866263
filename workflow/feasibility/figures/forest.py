"""The forest plot of a subgroup table (kind ``forest``, issue 23.4): the treatment effect
of an estimand within each level of each prespecified subgroup, with its confidence
interval, beside the effect over every participant analysed, and the interaction test of
each subgroup. The numbers are those of the ``subgroups`` table the figure names
(``table``: :func:`feasibility.tables.subgroups.subgroup_results`, the same models)."""

from __future__ import annotations

import math

import pandas as pd

from feasibility.figures.common import COLOURS, FONT_SIZE, TEXT_WIDTH_IN, figure_style, new_figure
from feasibility.tables.subgroups import subgroup_results


def _number(x: float, kind: str) -> str:
    return f"{x:.2f}" if kind == "binary" else f"{x:.1f}"


def make(analysis, figure):
    """The figure, its alternative text and the numbers it shows."""
    tables = analysis.spec.tables
    if figure.table not in tables or tables[figure.table].get("kind") != "subgroups":
        raise ValueError(
            f"figures.{figure.id}.table: {figure.table!r} is not a subgroups table of the study file"
        )
    frame, info = subgroup_results(analysis, figure.table, tables[figure.table])
    kind, e = info["kind"], info["estimand"]
    frame = frame.drop(columns=["mask"])
    labels, ys = [], []
    row = 0
    positions = []
    last = None
    for r in frame.itertuples():
        if r.subgroup != last and r.subgroup:
            p = r.p_interaction
            labels.append(f"{r.subgroup} (interaction p = {p:.2f})" if not math.isnan(p) else r.subgroup)
            ys.append(row)
            positions.append(None)
            row += 1
            last = r.subgroup
        labels.append(("    " if r.subgroup else "") + f"{r.label} (n = {int(r.n)})")
        ys.append(row)
        positions.append(row)
        row += 1
    with figure_style():
        fig = new_figure(TEXT_WIDTH_IN, 0.9 + 0.22 * row)
        ax = fig.add_subplot(1, 1, 1)
        points = [(y, r) for y, r in zip([p for p in positions if p is not None], frame.itertuples())]
        for y, r in points:
            colour = COLOURS[0] if not r.subgroup else COLOURS[1]
            ax.errorbar(
                [r.estimate],
                [y],
                xerr=[[r.estimate - r.lower], [r.upper - r.estimate]],
                fmt="D" if not r.subgroup else "s",
                color=colour,
                capsize=2,
                linewidth=1,
                markersize=4,
            )
        null = 1.0 if kind == "binary" else 0.0
        ax.axvline(null, color="black", linewidth=0.8, linestyle="--")
        if kind == "binary":
            # plain tick labels (the report's figures draw no mathtext)
            from matplotlib.ticker import FixedLocator, NullLocator

            ax.set_xscale("log")
            low = min(frame["lower"].min(), 1.0)
            high = max(frame["upper"].max(), 1.0)
            ticks = [
                t
                for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)
                if low / 2 <= t <= high * 2
            ]
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticklabels([f"{t:g}" for t in ticks], fontsize=FONT_SIZE)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels, fontsize=FONT_SIZE)
        ax.set_ylim(row - 0.5, -0.5)
        what = "Odds ratio (log scale)" if kind == "binary" else "Adjusted difference in means"
        first, second = info["adj"].first.level_label, info["adj"].second.level_label
        ax.set_xlabel(f"{what}: {first} versus {second}", fontsize=FONT_SIZE)
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
    lines = [
        f"{e.code}, {e.label}: the treatment effect "
        f"({'odds ratio' if kind == 'binary' else 'adjusted difference in means'}) "
        "within each level of each prespecified subgroup, with its confidence interval. "
        "Exploratory: the trial is not powered for subgroups."
    ]
    for r in frame.itertuples():
        where = f"{r.subgroup}, {r.label}" if r.subgroup else r.label
        lines.append(
            f"{where}: {_number(r.estimate, kind)} ({_number(r.lower, kind)} to "
            f"{_number(r.upper, kind)}), n = {int(r.n)}."
        )
    for test in info["tests"]:
        lines.append(f"Interaction test, {test}.")
    table = frame.assign(estimand=e.code)[
        ["estimand", "subgroup", "level", "label", "estimate", "lower", "upper", "n", "p_interaction"]
    ]
    return fig, "\n".join(lines) + "\n", pd.DataFrame(table)


__all__ = ["make"]
