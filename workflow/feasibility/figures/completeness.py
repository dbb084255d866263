"""Follow-up completeness: which forms came back, by time point, of those expected, as a
heat map (one panel per arm in a study with arms).

Every cell is the number returned of the number expected, with the denominators declared
as the tables' are (``figures.<id>``, kind ``completeness``): the population (by default the
study's participants), those still in follow-up at the time point (by default
``follow_up_status`` is not "not expected", i.e. the paper's response rates "excluding
dropouts"), and a row's own condition (the work questionnaire at 6 weeks of those placed,
Table 4; at 14 weeks and 6 months only after an accepted job offer, the paper's Table 1).
A cell is *not applicable*, hatched and with its reason, rather than a darkest-colour
"0 of n not returned", where the form is not collected at that time point or where a row's
condition leaves no one expected (``none_expected``). A form returned by someone not
expected (e.g. after dropping out) is not counted.

A form is returned when it has an answer at the time point's event (any of its fields but
dates and its complete status), unless the declaration says otherwise (``returned``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from feasibility.analysis.expressions import parse
from feasibility.figures import data as fd
from feasibility.figures.common import (
    FONT_SIZE,
    TEXT_WIDTH_IN,
    figure_style,
    font,
    new_figure,
    text_width_in,
    wrap_to_width,
)
from feasibility.figures.spec import CompletenessFigure, CompletenessRow

NOT_COLLECTED = "not collected at this time point"
NOT_APPLICABLE_FILL = "0.94"
CMAP = "viridis"  # lightness rises steadily from 0 to 1, so it reads in greyscale
DATE_VALIDATIONS = ("date", "datetime")
COLUMNS = [
    "panel",
    "timepoint",
    "form",
    "label",
    "expected",
    "returned",
    "proportion",
    "why_not_applicable",
    "short",
]


# ----------------------------------------------------------------------------- counts
def _timepoints(analysis, figure: CompletenessFigure) -> list[str]:
    if figure.timepoints:
        tps = list(figure.timepoints)
    else:
        follow = (analysis.spec.raw.get("flow") or {}).get("follow_up") or {}
        tps = list(follow.get("timepoints") or [])
        if not tps:
            tps = [tp for tp in analysis.timepoints.points if tp != analysis.timepoints.baseline]
    unknown = [tp for tp in tps if tp not in analysis.timepoints.points]
    if unknown:
        raise ValueError(
            f"figures.{figure.id}.timepoints: unknown time point(s) "
            f"{', '.join(unknown)} (time points: {', '.join(analysis.timepoints.points)})"
        )
    return tps


def _events(analysis, form: str, timepoint: str) -> list[str]:
    """The events of ``timepoint`` at which ``form`` is designated."""
    return [e for e in analysis.timepoints.points[timepoint].events if e in analysis.book.events_of(form)]


def _rows(analysis, figure: CompletenessFigure, tps: list[str]) -> list[CompletenessRow]:
    if figure.rows is not None:
        for i, row in enumerate(figure.rows):
            if row.form not in analysis.book.forms:
                raise ValueError(
                    f"figures.{figure.id}.rows[{i}]: {row.form!r} is not a form of "
                    f"the project ({', '.join(analysis.book.forms)})"
                )
        return list(figure.rows)
    return [
        CompletenessRow(form)
        for form in analysis.book.forms
        if any(_events(analysis, form, tp) for tp in tps)
    ]


def answered(analysis, form: str, events: list[str]) -> np.ndarray:
    """Records whose ``form`` has an answer at ``events``: any field but dates (when it was
    sent or returned) and the complete status."""
    table = analysis.study.table(form)
    rows = table[table["redcap_event_name"].isin(events)]
    columns = []
    for info in analysis.book.fields.values():
        if info.form != form or info.name == analysis.book.record_id_field:
            continue
        if (info.validation or "").startswith(DATE_VALIDATIONS):
            continue
        columns += [c for c in info.columns if c in rows.columns]
    if not columns:
        return np.zeros(len(analysis.records), dtype=bool)
    values = rows[columns]
    checkboxes = [c for c in columns if pd.api.types.is_bool_dtype(values[c].dtype)]
    filled = values.drop(columns=checkboxes).notna().any(axis=1)
    if checkboxes:
        filled |= values[checkboxes].fillna(False).any(axis=1)
    ids = set(rows.loc[filled.to_numpy(), "record_id"].astype(str))
    return np.asarray(analysis.records.astype(str).isin(ids), dtype=bool)


def _panels(analysis, figure: CompletenessFigure) -> list[tuple[str, np.ndarray]]:
    """(title, records) per panel: one per level of ``by`` (default: the arm), else one."""
    by = figure.by
    if by is None and analysis.spec.arms is not None:
        by = parse(analysis.spec.arms.name, f"figures.{figure.id}.by")
    if by is None:
        return [("", np.ones(len(analysis.records), dtype=bool))]
    people = fd.population(analysis, figure.population, f"figures.{figure.id}.population")
    level, order = fd.levels(analysis, by, f"figures.{figure.id}.by", among=people)
    if level[people].isna().any():  # nobody silently left out of the panels
        level, order = level.fillna(fd.NOT_RECORDED), [*order, fd.NOT_RECORDED]
    return [(name, (level == name).to_numpy()) for name in order]


def completeness_data(analysis, figure: CompletenessFigure) -> pd.DataFrame:
    """Expected and returned forms per panel, time point and form, with the proportion.

    One row per panel, time point and form (time points outermost). Not-applicable cells
    have ``expected``, ``returned`` and ``proportion`` missing and ``why_not_applicable``
    set (and ``short``, the words in the cell)."""
    where = f"figures.{figure.id}"
    tps = _timepoints(analysis, figure)
    rows = _rows(analysis, figure, tps)
    people = fd.population(analysis, figure.population, f"{where}.population")
    base = figure.expected
    if base is None and "follow_up_status" in analysis.spec.derived:
        base = parse("follow_up_status != 'not expected'", f"{where}.expected")
    panels = _panels(analysis, figure)
    out = []
    for tp in tps:
        still = fd.condition(analysis, base, f"{where}.expected", tp)
        for i, row in enumerate(rows):
            label = row.label or analysis.book.forms[row.form].get("label") or row.form
            events = _events(analysis, row.form, tp)
            collected = (tp in row.timepoints) if row.timepoints else bool(events)
            cell = {"timepoint": tp, "form": row.form, "label": label}
            if not collected:
                out += [
                    {
                        **cell,
                        "panel": p,
                        "expected": pd.NA,
                        "returned": pd.NA,
                        "proportion": np.nan,
                        "why_not_applicable": NOT_COLLECTED,
                        "short": None,
                    }
                    for p, _ in panels
                ]
                continue
            at = f"{where}.rows[{i}]"
            expected = people & still & fd.condition(analysis, row.expected_at(tp), f"{at}.expected", tp)
            if row.returned is not None:
                back = fd.condition(analysis, row.returned, f"{at}.returned", tp)
            elif figure.returned is not None:
                back = fd.condition(
                    analysis,
                    parse(figure.returned.replace("{form}", row.form), f"{where}.returned"),
                    f"{where}.returned",
                    tp,
                )
            else:
                back = answered(analysis, row.form, events)
            for p, members in panels:
                mine = expected & members
                if row.none_expected is not None and not mine.any():
                    out.append(
                        {
                            **cell,
                            "panel": p,
                            "expected": pd.NA,
                            "returned": pd.NA,
                            "proportion": np.nan,
                            "why_not_applicable": row.none_expected.reason,
                            "short": row.none_expected.short or row.none_expected.reason,
                        }
                    )
                    continue
                n, k = int(mine.sum()), int((mine & back).sum())
                out.append(
                    {
                        **cell,
                        "panel": p,
                        "expected": n,
                        "returned": k,
                        "proportion": k / n if n else np.nan,
                        "why_not_applicable": "",
                        "short": None,
                    }
                )
    frame = pd.DataFrame(out, columns=COLUMNS)
    frame[["expected", "returned"]] = frame[["expected", "returned"]].astype("Int64")
    return frame


# ----------------------------------------------------------------------------- drawing
def _percent(row) -> str:
    return "" if pd.isna(row.proportion) else f" ({row.proportion:.0%})"


def cell_text(row) -> str:
    if pd.isna(row.expected):
        if row.why_not_applicable == NOT_COLLECTED:
            return "not\napplicable"
        if pd.isna(row.expected) and row.short:
            return "not applicable:\n" + row.short
        return "not\napplicable"
    if not row.expected:
        return "0/0"
    return f"{int(row.returned):,}/{int(row.expected):,}" + _percent(row).replace(" ", "\n", 1)


def _fit(fig: Figure, text: str, width_in: float) -> str:
    """Each line of ``text`` fitted to the cell's width: lines that fit as given, a count
    "23,272/27,413" broken after its slash, words wrapped."""
    prop = font(FONT_SIZE)
    out = []
    for line in text.split("\n"):
        if text_width_in(fig, line, prop) <= width_in:
            out.append(line)
        elif "/" in line:
            returned, expected = line.split("/", 1)
            out += [returned + "/", expected]
        else:
            out.append(wrap_to_width(fig, line, width_in, prop))
    return "\n".join(out)


def _text_colour(rgba) -> str:
    """Black on light cells, white on dark ones (WCAG relative luminance)."""

    def linear(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgba[:3])
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # contrast with black (L + 0.05) / 0.05 against white 1.05 / (L + 0.05)
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


def draw(data: pd.DataFrame, figure: CompletenessFigure) -> Figure:
    """Forms (rows) by time points (columns), coloured by the proportion returned; one panel
    per arm (or level of ``by``), side by side with the rows' labels on the left."""
    panels = list(dict.fromkeys(data["panel"]))
    forms = list(dict.fromkeys(data["form"]))
    labels = dict(zip(data["form"], data["label"]))
    timepoints = list(dict.fromkeys(data["timepoint"]))
    tp_labels = {tp: tp for tp in timepoints}
    if "tp_label" in data:
        tp_labels = dict(zip(data["timepoint"], data["tp_label"]))
    cmap = colormaps[CMAP].with_extremes(bad="white")
    norm = Normalize(vmin=0, vmax=1)
    titled = len(panels) > 1 or panels != [""]
    with figure_style():
        height = max(2.9, 1.0 + 0.42 * len(forms) + (0.25 if titled else 0))
        fig = new_figure(TEXT_WIDTH_IN, height, layout="constrained")
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        grids = []
        for ax, panel in zip(axes, panels):
            cells = data[data["panel"] == panel].set_index(["form", "timepoint"])
            grid = np.array(
                [[cells.loc[(f, tp), "proportion"] for tp in timepoints] for f in forms], dtype=float
            )
            image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto")
            grids.append((ax, cells, grid))
            ax.set_xticks(range(len(timepoints)), labels=[tp_labels[tp] for tp in timepoints])
            ax.set_yticks(range(len(forms)), labels=[labels[f] for f in forms])
            ax.tick_params(length=0)
            ax.xaxis.tick_top()
            ax.set_xticks(np.arange(-0.5, len(timepoints)), minor=True)
            ax.set_yticks(np.arange(-0.5, len(forms)), minor=True)
            ax.grid(which="minor", color="white", linewidth=2)
            ax.tick_params(which="minor", length=0)
            ax.spines[:].set_visible(False)
            if titled:
                ax.set_title(panel, fontsize=FONT_SIZE, fontweight="bold", pad=4)
        bar = fig.colorbar(image, ax=list(axes) if len(axes) > 1 else axes[0], fraction=0.05, pad=0.03)
        bar.set_label(figure.colour_label)
        bar.set_ticks([0, 0.25, 0.5, 0.75, 1], labels=["0%", "25%", "50%", "75%", "100%"])
        fig.draw_without_rendering()  # the layout, so that cells can be measured
        for ax, cells, grid in grids:
            cell_w = ax.get_position().width * fig.get_figwidth() / max(len(timepoints), 1)
            for i, form in enumerate(forms):
                for j, tp in enumerate(timepoints):
                    row = cells.loc[(form, tp)]
                    behind = None
                    text = _fit(fig, cell_text(row), cell_w * 0.9)
                    if pd.isna(row.expected):
                        ax.add_patch(_hatched_cell(j, i))
                        # plain ground behind the words over the hatching, inside the cell
                        widest = max(text_width_in(fig, line, font(FONT_SIZE)) for line in text.split("\n"))
                        behind = {"facecolor": NOT_APPLICABLE_FILL, "edgecolor": "none"}
                        if widest > 0.8 * cell_w:
                            behind["boxstyle"] = "square,pad=0.1"
                    colour = "black" if np.isnan(grid[i, j]) else _text_colour(cmap(norm(grid[i, j])))
                    ax.text(
                        j,
                        i,
                        text,
                        ha="center",
                        va="center",
                        color=colour,
                        fontsize=FONT_SIZE,
                        parse_math=False,
                        bbox=behind,
                    )
    return fig


def _hatched_cell(x: float, y: float) -> Rectangle:
    return Rectangle(
        (x - 0.5, y - 0.5), 1, 1, facecolor=NOT_APPLICABLE_FILL, edgecolor="0.7", hatch="///", linewidth=0
    )


def alt_text(data: pd.DataFrame) -> str:
    """Every cell of the heat map in words."""
    panels = list(dict.fromkeys(data["panel"]))
    parts = []
    for panel in panels:
        cells = []
        for row in data[data["panel"] == panel].itertuples():
            where = f"{row.label} at {row.tp_label}"
            if pd.isna(row.expected):
                cells.append(f"{where}: not applicable ({row.why_not_applicable})")
            else:
                cells.append(f"{where}: {row.returned} of {row.expected} expected returned{_percent(row)}")
        parts.append((f"{panel}: " if panel else "") + "; ".join(cells))
    per = " One panel per arm." if len(panels) > 1 else ""
    return (
        "Heat map of follow-up completeness, forms by time point, shaded by the "
        "proportion of expected forms returned (darker is fewer); hatched cells are not "
        f"applicable.{per} " + ". ".join(parts) + "."
    )


# ----------------------------------------------------------------------------- output
def make(analysis, figure: CompletenessFigure) -> tuple[Figure, str, pd.DataFrame]:
    """The figure, its alternative text and the counts it shows, from the analysis."""
    data = completeness_data(analysis, figure)
    data["tp_label"] = data["timepoint"].map(analysis.timepoints.label)
    return draw(data, figure), alt_text(data), data


__all__ = ["completeness_data", "answered", "draw", "alt_text", "make", "cell_text", "NOT_COLLECTED"]
