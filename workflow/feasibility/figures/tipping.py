"""The tipping-point figure (kind ``tipping_point``, issue 23.3): the pooled adjusted
difference of an estimand, with its confidence interval, as the imputed outcomes are made
worse step by step (delta), in the intervention arm only and in both arms; the line of no
difference, and where the conclusion changes. The numbers are those of the tipping-point
table the figure names (``table``: :func:`feasibility.tables.tipping_point.tipping_results`, the
same imputations and seed)."""

from __future__ import annotations

import pandas as pd

from feasibility.figures.common import COLOURS, FONT_SIZE, TEXT_WIDTH_IN, figure_style, new_figure
from feasibility.tables.tipping_point import SCENARIOS, delta_text, tipping_points, tipping_results


def make(analysis, figure):
    """The figure, its alternative text and the numbers it shows."""
    tables = analysis.spec.tables
    if figure.table not in tables or tables[figure.table].get("kind") != "tipping_point":
        raise ValueError(
            f"figures.{figure.id}.table: {figure.table!r} is not a tipping_point table of the study file"
        )
    frame, info = tipping_results(analysis, figure.table, tables[figure.table])
    kind = info["kind"]
    what = "Risk difference (percentage points)" if kind == "binary" else "Difference in means"
    colours = list(COLOURS[1:])
    with figure_style():
        fig = new_figure(TEXT_WIDTH_IN, 3.6)
        ax = fig.add_subplot(1, 1, 1)
        for i, (scenario, label) in enumerate(SCENARIOS.items()):
            block = frame[frame["scenario"] == scenario]
            offset = (i - 0.5) * 0.06
            colour = colours[i % len(colours)]
            ax.errorbar(
                block["delta"] + offset,
                block["estimate"],
                yerr=[block["estimate"] - block["lower"], block["upper"] - block["estimate"]],
                fmt="o-",
                color=colour,
                capsize=2,
                linewidth=1,
                markersize=3,
                label=label,
            )
        ax.axhline(0, color="black", linewidth=0.8, linestyle="--")
        ax.set_xlabel(
            "Delta: shift of the imputed outcomes" + (" (log odds)" if kind == "binary" else ""),
            fontsize=FONT_SIZE,
        )
        ax.set_ylabel(what, fontsize=FONT_SIZE)
        ax.invert_xaxis()
        # below the axes: no error bar runs through its text
        ax.legend(frameon=False, fontsize=FONT_SIZE, loc="upper center", ncol=2, bbox_to_anchor=(0.5, -0.22))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
    points = tipping_points(frame)
    lines = [
        f"{info['estimand'].code}, {info['estimand'].label}: the adjusted difference by "
        f"multiple imputation as the imputed outcomes are made worse."
    ]
    for scenario, label in SCENARIOS.items():
        block = frame[frame["scenario"] == scenario]
        lines.append(
            label
            + ": "
            + "; ".join(
                f"delta {delta_text(r.delta, kind)} {r.estimate:.1f} ({r.lower:.1f} to {r.upper:.1f})"
                for r in block.itertuples()
            )
            + "."
        )
        delta = points[scenario]
        lines.append(
            f"{label}: "
            + (
                f"the conclusion changes at delta {delta_text(delta, kind)}."
                if delta is not None
                else "the conclusion does not change within the deltas shown."
            )
        )
    table = frame.assign(estimand=info["estimand"].code)[
        ["estimand", "scenario", "delta", "estimate", "lower", "upper", "n"]
    ]
    return fig, "\n".join(lines) + "\n", pd.DataFrame(table)


__all__ = ["make"]
