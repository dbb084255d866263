"""Follow-up completeness: which forms came back, by time point, as a heat map.

Denominators (who was expected to return each form), the tables' own:

* health questionnaire: everyone recruited except those who had dropped out by that
  time point (``fu_status_<tp> != "not expected"``), the paper's response rates
  "excluding dropouts";
* employment form (14 weeks and 6 months): the same people; Table 5 counts every
  responder, placed or not. It is not collected at 6 weeks (not applicable);
* work questionnaire: at 6 weeks those of the above who were placed (Table 4); at 14
  weeks and 6 months it is collected only after an accepted job offer (paper, Table 1),
  so only from those whose employment form at that time point reports one. Where no one
  had accepted an offer the cell is not applicable, with that reason, rather than a
  darkest-colour 0 of n "not returned".

A form returned by someone not expected (e.g. after dropping out) is not counted.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from feasibility.figures.common import (
    FOLLOW_UP_TIMEPOINTS, FONT_SIZE, TEXT_WIDTH_IN, TIMEPOINT_LABELS, figure_style, new_figure,
    save_figure,
)

TITLE = "Completeness of follow-up by form and time point"
FORMS = {"health_questionnaire": "Health questionnaire",
         "work_questionnaire": "Work questionnaire",
         "employment": "Employment"}
# form -> time points at which it is collected (CRF exports questionnaires_<tp>)
COLLECTED = {"health_questionnaire": FOLLOW_UP_TIMEPOINTS,
             "work_questionnaire": FOLLOW_UP_TIMEPOINTS,
             "employment": ("week14", "month6")}
NOT_COLLECTED = "not collected at this time point"
NO_ACCEPTED_OFFER = "collected only after an accepted job offer; none reported"
NOT_APPLICABLE_FILL = "0.94"
CMAP = "viridis"       # lightness rises steadily from 0 to 1, so it reads in greyscale


def accepted_offer(questionnaires: dict[str, pd.DataFrame] | None, timepoint: str) -> set[str]:
    """Who reported an accepted job offer in the employment form at ``timepoint``."""
    df = (questionnaires or {}).get(timepoint)
    if df is None or "emp_accepted" not in df:
        return set()
    return set(df.loc[pd.to_numeric(df["emp_accepted"], errors="coerce").fillna(0) > 0,
                      "record_id"].astype(str))


def completeness_data(participants: pd.DataFrame, forms_returned: pd.DataFrame,
                      questionnaires: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Expected and returned forms per time point and form, with the proportion returned.

    One row per time point and form. Not-applicable cells (a form not collected at that
    time point, or the work questionnaire when no one had accepted a job offer) have
    ``expected``, ``returned`` and ``proportion`` missing and ``why_not_applicable`` set.
    ``questionnaires`` (time point -> validated export) gives the accepted offers.
    """
    returned_ids = forms_returned.loc[forms_returned["returned"].astype(bool)]
    rows = []
    for tp in FOLLOW_UP_TIMEPOINTS:
        for form in FORMS:
            if tp not in COLLECTED[form]:
                rows.append({"timepoint": tp, "form": form, "expected": pd.NA,
                             "returned": pd.NA, "proportion": np.nan,
                             "why_not_applicable": NOT_COLLECTED})
                continue
            expected = participants["fu_status_" + tp] != "not expected"
            if form == "work_questionnaire":
                if tp == FOLLOW_UP_TIMEPOINTS[0]:
                    expected &= participants["placed"].astype(bool)
                else:
                    expected &= participants["record_id"].astype(str).isin(
                        accepted_offer(questionnaires, tp))
                    if not expected.any():
                        rows.append({"timepoint": tp, "form": form, "expected": pd.NA,
                                     "returned": pd.NA, "proportion": np.nan,
                                     "why_not_applicable": NO_ACCEPTED_OFFER})
                        continue
            expected_ids = set(participants.loc[expected, "record_id"])
            got = returned_ids[(returned_ids["timepoint"] == tp) & (returned_ids["form"] == form)]
            n_returned = len(expected_ids & set(got["record_id"]))
            n_expected = len(expected_ids)
            rows.append({"timepoint": tp, "form": form, "expected": n_expected,
                         "returned": n_returned,
                         "proportion": n_returned / n_expected if n_expected else np.nan,
                         "why_not_applicable": ""})
    out = pd.DataFrame(rows)
    out[["expected", "returned"]] = out[["expected", "returned"]].astype("Int64")
    return out


def _percent(row) -> str:
    return "" if pd.isna(row.proportion) else f" ({row.proportion:.0%})"


def _cell_text(row) -> str:
    if pd.isna(row.expected):
        if row.why_not_applicable == NO_ACCEPTED_OFFER:
            return "not applicable:\nno accepted\njob offer"
        return "not\napplicable"
    return f"{int(row.returned)}/{int(row.expected)}" + _percent(row).replace(" ", "\n", 1)


def _text_colour(rgba) -> str:
    """Black on light cells, white on dark ones (WCAG relative luminance)."""
    def linear(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgba[:3])
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # contrast with black (L + 0.05) / 0.05 against white 1.05 / (L + 0.05)
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


def draw_completeness(data: pd.DataFrame) -> Figure:
    """Forms (rows) by time points (columns), coloured by the proportion returned."""
    forms, timepoints = list(FORMS), list(FOLLOW_UP_TIMEPOINTS)
    cells = data.set_index(["form", "timepoint"])
    grid = np.array([[cells.loc[(f, tp), "proportion"] for tp in timepoints] for f in forms],
                    dtype=float)
    cmap = colormaps[CMAP].with_extremes(bad="white")
    norm = Normalize(vmin=0, vmax=1)
    with figure_style():
        fig = new_figure(TEXT_WIDTH_IN, 2.9, layout="constrained")
        ax = fig.add_subplot()
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto")
        for i, form in enumerate(forms):
            for j, tp in enumerate(timepoints):
                row = cells.loc[(form, tp)]
                behind = None
                if pd.isna(row.expected):
                    ax.add_patch(_hatched_cell(j, i))
                    behind = {"facecolor": NOT_APPLICABLE_FILL, "edgecolor": "none"}
                colour = "black" if np.isnan(grid[i, j]) else _text_colour(cmap(norm(grid[i, j])))
                ax.text(j, i, _cell_text(row), ha="center", va="center", color=colour,
                        fontsize=FONT_SIZE, parse_math=False, bbox=behind)
        ax.set_xticks(range(len(timepoints)), labels=[TIMEPOINT_LABELS[tp] for tp in timepoints])
        ax.set_yticks(range(len(forms)), labels=[FORMS[f] for f in forms])
        ax.tick_params(length=0)
        ax.xaxis.tick_top()
        ax.set_xticks(np.arange(-0.5, len(timepoints)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(forms)), minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="minor", length=0)
        ax.spines[:].set_visible(False)
        bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
        bar.set_label("Proportion of expected forms returned")
        bar.set_ticks([0, 0.25, 0.5, 0.75, 1], labels=["0%", "25%", "50%", "75%", "100%"])
    return fig


def _hatched_cell(x: float, y: float) -> Rectangle:
    return Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=NOT_APPLICABLE_FILL, edgecolor="0.7",
                     hatch="///", linewidth=0)


def completeness_alt_text(data: pd.DataFrame) -> str:
    """Every cell of the heat map in words."""
    parts = []
    for row in data.itertuples():
        where = f"{FORMS[row.form]} at {TIMEPOINT_LABELS[row.timepoint]}"
        if pd.isna(row.expected):
            parts.append(f"{where}: not applicable ({row.why_not_applicable})")
        else:
            parts.append(f"{where}: {row.returned} of {row.expected} expected returned{_percent(row)}")
    return ("Heat map of follow-up completeness, forms by time point, shaded by the "
            "proportion of expected forms returned (darker is fewer); hatched cells are not "
            "applicable. " + "; ".join(parts) + ".")


def make_completeness(participants: pd.DataFrame, forms_returned: pd.DataFrame,
                      svg_path: str | os.PathLike, png_path: str | os.PathLike,
                      questionnaires: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Compute, draw and save the completeness heat map (SVG, PNG, ``<stem>.alt.txt``)."""
    data = completeness_data(participants, forms_returned, questionnaires)
    save_figure(draw_completeness(data), svg_path, png_path, completeness_alt_text(data), TITLE)
    return data
