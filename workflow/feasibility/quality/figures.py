"""Figures of the quality report: the completeness heat map and recruitment over time.

Drawn as the project's other figures are (``figures.common``): a bare matplotlib Figure in
DejaVu Sans, at the printed size (the A4 text width) with every text at 7 pt or more, saved
as byte-stable SVG and PNG with an alternative text that says every number drawn.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from feasibility.figures import common
from feasibility.figures.common import (
    COLOURS,
    figure_style,
    font,
    new_figure,
    save_figure,
    text_width_in,
    wrap_to_width,
)

from .counts import completion_by_site, completion_status, site_of_rows
from .data import QualityData
from .recruitment import ALL, RecruitmentData

WIDTH_IN = getattr(common, "TEXT_WIDTH_IN", (210 - 2 * 25) / 25.4)  # A4 less 2.5 cm margins
# Sizes at the drawn width; a back end that prints the text narrower than WIDTH_IN (pandoc's
# default Typst margins leave 14.6 cm) scales them by up to 0.92, still above 7 pt.
TEXT_PT = 8.5  # labels, titles
SMALL_PT = 8.0  # cell text, ticks, legends
CMAP = "viridis"  # lightness rises steadily: reads in greyscale
NOT_DESIGNATED = "0.93"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LINE_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "P")


def _text_colour(rgba) -> str:
    """Black on light cells, white on dark ones (WCAG contrast). The same rule as the main
    report's completeness figure (``figures.completeness``); kept here so that this package
    does not depend on that module's private helpers."""

    def linear(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * linear(rgba[0]) + 0.7152 * linear(rgba[1]) + 0.0722 * linear(rgba[2])
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


# ---------------------------------------------------------------------- completeness
def _cell_text(fig: Figure, row, width_in: float) -> str:
    """``n/N`` when it fits the cell, else the percentage, else nothing."""
    if not row.designated:
        return ""
    if not row.records:
        return "–"
    prop = font(SMALL_PT)
    for text in (f"{int(row.complete):,}/{int(row.records):,}", f"{row.proportion_complete:.0%}"):
        if text_width_in(fig, text, prop) <= width_in * 0.9:
            return text
    return ""


def draw_completeness(
    data: QualityData, status: pd.DataFrame | None = None, *, by_site: pd.DataFrame | None = None
) -> Figure:
    """Forms (rows) by events (columns), one panel per arm, shaded by the share of the records
    expected to complete the form at the event (:func:`feasibility.quality.counts.
    completion_status`) whose form is Complete; forms not designated for an event hatched.
    With ``by_site`` (:func:`feasibility.quality.counts.completion_by_site`): the small
    multiples of :func:`draw_completeness_by_site`."""
    if by_site is not None:
        return draw_completeness_by_site(data, by_site)
    if True:
        status = completion_status(data) if status is None else status
        status = status.assign(panel=status["arm"])
        several = len(data.arms) > 1
        panels = []
        for arm in data.arms:
            events = [e["unique_name"] for e in data.events_of_arm(arm)]
            forms = [f["name"] for f in data.forms if any(data.designated(e, f["name"]) for e in events)]
            n = int(data.rows.loc[data.rows["redcap_arm"] == arm, "record_id"].nunique())
            panels.append((arm, f"{data.arm_label(arm)} ({n:,} record{'s' * (n != 1)})", events, forms))
    cmap = colormaps[CMAP]
    norm = Normalize(vmin=0, vmax=1)
    title_h, gap, cell_h, legend_h = (0.28 if several else 0.0), 0.22, 0.3, 0.75
    with figure_style():
        probe = new_figure(WIDTH_IN, 1)
        names = [data.form_label(f) for _, _, _, forms in panels for f in forms] or [""]
        label_w = min(2.0, max(text_width_in(probe, n, font(SMALL_PT)) for n in names) + 0.12)
        cell_w = min(1.4, (WIDTH_IN - label_w - 0.1) / max(max(len(ev) for _, _, ev, _ in panels), 1))
        heads = [
            _event_ticks(probe, [data.event_label(e) for e in events], cell_w)[2]
            for _, _, events, _ in panels
        ]
        height = (
            sum(title_h + head + cell_h * max(len(forms), 1) for head, (_, _, _, forms) in zip(heads, panels))
            + gap * (len(panels) - 1)
            + legend_h
        )
        fig = new_figure(WIDTH_IN, height)
        y = 0.0  # inches from the top
        for (key, title, events, forms), head in zip(panels, heads):
            if several:
                fig.text(
                    0.0,
                    1 - (y + 0.04) / height,
                    title,
                    ha="left",
                    va="top",
                    fontsize=TEXT_PT,
                    fontweight="bold",
                    parse_math=False,
                )
            y += title_h + head
            grid_h = cell_h * max(len(forms), 1)
            ax = fig.add_axes(
                (
                    label_w / WIDTH_IN,
                    1 - (y + grid_h) / height,
                    cell_w * max(len(events), 1) / WIDTH_IN,
                    grid_h / height,
                )
            )
            _draw_panel(fig, ax, data, status[status["panel"] == key], events, forms, cmap, norm, cell_w)
            ax.set_yticks(
                range(len(forms)),
                labels=[
                    wrap_to_width(fig, data.form_label(f), label_w - 0.12, font(SMALL_PT)) for f in forms
                ],
                fontsize=SMALL_PT,
            )
            labels, rotation, _ = _event_ticks(fig, [data.event_label(e) for e in events], cell_w)
            ax.set_xticks(range(len(events)), labels=labels, fontsize=SMALL_PT)
            if rotation:  # names too long for a column: upright, whole
                ax.tick_params(axis="x", labelrotation=rotation)
            ax.xaxis.tick_top()
            y += grid_h + gap
        kinds = {
            "not designated": not status["designated"].all(),
            "no records": bool((status["designated"] & (status["records"].fillna(0) == 0)).any()),
        }
        _legend(fig, cmap, norm, height, kinds)
    return fig


SITE_COLUMNS = 3  # small multiples: panels a row
SITE_CELL_H = 0.15  # inches a form's row in a small panel


def draw_completeness_by_site(data: QualityData, by_site: pd.DataFrame) -> Figure:
    """Small multiples: one heat map per data access group (forms by events, shaded by the share
    of the site's records expected at the event whose form is Complete), in rows of
    :data:`SITE_COLUMNS`; form labels on the left of each row, event labels below each column.
    No numbers in the cells: the table beside the figure gives them."""
    sites = list(dict.fromkeys(by_site["site"]))
    events = [e["unique_name"] for e in data.events]
    forms = [f["name"] for f in data.forms if any(data.designated(e, f["name"]) for e in events)]
    site = site_of_rows(data)
    ncols = max(1, min(SITE_COLUMNS, len(sites)))
    nrows = math.ceil(len(sites) / ncols)
    cmap = colormaps[CMAP]
    norm = Normalize(vmin=0, vmax=1)
    with figure_style():
        probe = new_figure(WIDTH_IN, 1)
        label_w = min(
            1.7,
            max((text_width_in(probe, data.form_label(f), font(SMALL_PT)) for f in forms), default=0.5) + 0.1,
        )
        gap_x = 0.12
        panel_w = (WIDTH_IN - label_w - 0.2 - gap_x * (ncols - 1)) / ncols
        event_names = [data.event_label(e) for e in events]
        head = min(
            1.4, max((text_width_in(probe, n, font(SMALL_PT)) for n in event_names), default=0.3) + 0.08
        )
        titles = []
        for key in sites:
            n = int(data.rows.loc[(site == key).to_numpy(), "record_id"].nunique())
            titles.append(
                wrap_to_width(
                    probe,
                    f"{key} ({n:,} record{'s' * (n != 1)})",
                    panel_w - 0.08,
                    font(SMALL_PT, weight="bold"),
                )
            )
        lines = max(t.count("\n") + 1 for t in titles)
        title_h, grid_h, gap_y, legend_h = (
            0.08 + lines * SMALL_PT * 1.25 / 72,
            SITE_CELL_H * max(len(forms), 1),
            0.12,
            0.75,
        )
        height = nrows * (title_h + grid_h) + gap_y * (nrows - 1) + head + legend_h
        fig = new_figure(WIDTH_IN, height)
        for k, key in enumerate(sites):
            row, col = divmod(k, ncols)
            top = row * (title_h + grid_h + gap_y)
            x0 = label_w + col * (panel_w + gap_x)
            fig.text(
                x0 / WIDTH_IN,
                1 - (top + 0.02) / height,
                titles[k],
                ha="left",
                va="top",
                fontsize=SMALL_PT,
                fontweight="bold",
                parse_math=False,
            )
            ax = fig.add_axes(
                (x0 / WIDTH_IN, 1 - (top + title_h + grid_h) / height, panel_w / WIDTH_IN, grid_h / height)
            )
            cells = by_site[by_site["site"] == key].set_index(["event", "form"])
            grid = np.full((len(forms), len(events)), np.nan)
            for i, form in enumerate(forms):
                for j, event in enumerate(events):
                    r = cells.loc[(event, form)]
                    if r.designated and r.records:
                        grid[i, j] = r.proportion_complete
                    elif not r.designated:
                        ax.add_patch(
                            Rectangle(
                                (j - 0.5, i - 0.5),
                                1,
                                1,
                                facecolor=NOT_DESIGNATED,
                                edgecolor="0.65",
                                hatch="////",
                                linewidth=0,
                                zorder=2,
                            )
                        )
            ax.imshow(
                np.ma.masked_invalid(grid),
                cmap=cmap.with_extremes(bad="white"),
                norm=norm,
                aspect="auto",
                extent=(-0.5, len(events) - 0.5, len(forms) - 0.5, -0.5),
            )
            ax.set_xlim(-0.5, len(events) - 0.5)
            ax.set_ylim(len(forms) - 0.5, -0.5)
            ax.set_xticks(np.arange(-0.5, len(events)), minor=True)
            ax.set_yticks(np.arange(-0.5, len(forms)), minor=True)
            ax.grid(which="minor", color="white", linewidth=0.8)
            ax.tick_params(which="both", length=0, pad=1.5)
            ax.spines[:].set_visible(False)
            ax.set_yticks(
                range(len(forms)),
                labels=[data.form_label(f) for f in forms] if col == 0 else [],
                fontsize=SMALL_PT,
            )
            if k + ncols >= len(sites):  # the lowest panel of its column: event labels below
                ax.set_xticks(range(len(events)), labels=event_names, fontsize=SMALL_PT, rotation=90)
            else:
                ax.set_xticks([])
        kinds = {
            "not designated": not by_site["designated"].all(),
            "no records": bool((by_site["designated"] & (by_site["records"].fillna(0) == 0)).any()),
        }
        _legend(fig, cmap, norm, height, kinds)
    return fig


def _event_ticks(fig: Figure, labels: list[str], cell_w: float) -> tuple[list[str], int, float]:
    """The events' column heads: (texts, rotation, height in inches). Wrapped at spaces to
    the column's width; when a word is wider than the column (an event without a label
    shows its unique name, e.g. ``baseline_visit_arm_1``), every head is set upright
    (rotated 90 degrees) on one line instead: an event's name is never broken mid-word."""
    width, prop = cell_w * 0.95, font(SMALL_PT)
    if all(text_width_in(fig, word, prop) <= width for label in labels for word in label.split()):
        texts = [wrap_to_width(fig, label, width, prop) for label in labels]
        lines = max((t.count("\n") + 1 for t in texts), default=1)
        return texts, 0, 0.1 + lines * SMALL_PT * 1.3 / 72
    texts = [" ".join(label.split()) for label in labels]
    return texts, 90, 0.15 + max((text_width_in(fig, t, prop) for t in texts), default=0)


def _draw_panel(fig, ax, data, status, events, forms, cmap, norm, cell_w) -> None:
    cells = status.set_index(["event", "form"])
    grid = np.full((len(forms), len(events)), np.nan)
    for i, form in enumerate(forms):
        for j, event in enumerate(events):
            row = cells.loc[(event, form)]
            if row.designated and row.records:
                grid[i, j] = row.proportion_complete
    ax.imshow(
        np.ma.masked_invalid(grid),
        cmap=cmap.with_extremes(bad="white"),
        norm=norm,
        aspect="auto",
        extent=(-0.5, len(events) - 0.5, len(forms) - 0.5, -0.5),
    )
    for i, form in enumerate(forms):
        for j, event in enumerate(events):
            row = cells.loc[(event, form)]
            if not row.designated:
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5),
                        1,
                        1,
                        facecolor=NOT_DESIGNATED,
                        edgecolor="0.65",
                        hatch="////",
                        linewidth=0,
                    )
                )
                continue
            text = _cell_text(fig, row, cell_w)
            colour = "black" if np.isnan(grid[i, j]) else _text_colour(cmap(norm(grid[i, j])))
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=SMALL_PT, parse_math=False)
    ax.set_xlim(-0.5, len(events) - 0.5)
    ax.set_ylim(len(forms) - 0.5, -0.5)
    ax.set_xticks(np.arange(-0.5, len(events)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(forms)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="both", length=0)
    ax.spines[:].set_visible(False)


def _legend(fig: Figure, cmap, norm, height: float, kinds: dict[str, bool]) -> None:
    """The colour scale and, for the cells that occur, what hatched and empty cells mean."""
    bar = fig.add_axes((0.02, 0.22 / height, 0.4, 0.12 / height))
    gradient = np.linspace(0, 1, 256)[None, :]
    bar.imshow(gradient, aspect="auto", cmap=cmap, norm=norm, extent=(0, 1, 0, 1))
    bar.set_yticks([])
    bar.set_xticks([0, 0.25, 0.5, 0.75, 1], labels=["0%", "25%", "50%", "75%", "100%"], fontsize=SMALL_PT)
    bar.tick_params(length=2, pad=1.5)
    bar.set_title(
        "Complete, share of the records expected at the event", fontsize=SMALL_PT, loc="left", pad=3
    )
    handles = []
    if kinds.get("not designated"):
        handles.append(
            Patch(facecolor=NOT_DESIGNATED, edgecolor="0.65", hatch="////", label="Form not designated")
        )
    if kinds.get("no records"):
        handles.append(Patch(facecolor="white", edgecolor="0.65", label="– no records expected at the event"))
    if handles:
        fig.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.5, 0.12 / height),
            frameon=False,
            fontsize=SMALL_PT,
            handlelength=1.6,
            ncols=1,
        )


def completeness_alt_text(data: QualityData, status: pd.DataFrame) -> str:
    parts = []
    for arm in data.arms:
        head = f"{data.arm_label(arm)}: " if len(data.arms) > 1 else ""
        cells = []
        for r in status[status["arm"] == arm].itertuples(index=False):
            where = f"{data.form_label(r.form)} at {data.event_label(r.event)}"
            if not r.designated:
                continue
            if not r.records:
                cells.append(f"{where}: no records expected at the event")
            else:
                cells.append(
                    f"{where}: {int(r.complete)} of {int(r.records)} complete ({r.proportion_complete:.0%})"
                )
        parts.append(head + "; ".join(cells))
    return (
        "Heat map of form completion, forms by event, shaded by the share of the records expected to "
        "complete the form at the event (with data there; a conditional form only where its branching logic "
        "shows a field) whose form is Complete (darker is fewer); forms not designated for an event are "
        "hatched. " + ". ".join(parts) + "."
    )


def make_completeness(
    data: QualityData,
    svg_path: str | os.PathLike,
    png_path: str | os.PathLike,
    title: str = "Forms complete by event",
    status: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Draw and save the completeness heat map (SVG, PNG, ``<stem>.alt.txt``); return its data."""
    status = completion_status(data) if status is None else status
    save_figure(
        draw_completeness(data, status), svg_path, png_path, completeness_alt_text(data, status), title
    )
    return status


def completeness_sites_alt_text(data: QualityData, by_site: pd.DataFrame) -> str:
    parts = []
    for site in dict.fromkeys(by_site["site"]):
        cells = [
            f"{data.form_label(r.form)} at {data.event_label(r.event)}: "
            + (
                f"{int(r.complete)} of {int(r.records)} complete"
                if r.records
                else "no records expected at the event"
            )
            for r in by_site[by_site["site"] == site].itertuples(index=False)
            if r.designated
        ]
        parts.append(f"{site}: " + "; ".join(cells))
    return (
        "Small multiples, one heat map per data access group: forms by event, shaded by the share of the "
        "site's records expected to complete the form at the event (with data there; a conditional form only "
        "where its branching logic shows a field) whose form is Complete (darker is fewer); forms not "
        "designated for an event are hatched. " + ". ".join(parts) + "."
    )


def make_completeness_by_site(
    data: QualityData,
    svg_path: str | os.PathLike,
    png_path: str | os.PathLike,
    title: str = "Forms complete by site and event",
) -> pd.DataFrame:
    """Draw and save the small multiples of form completion by site (SVG, PNG, alt text)."""
    by_site = completion_by_site(data)
    save_figure(
        draw_completeness(data, by_site=by_site),
        svg_path,
        png_path,
        completeness_sites_alt_text(data, by_site),
        title,
    )
    return by_site


# ---------------------------------------------------------------------- recruitment
def _month_label(period: str, show_year: bool) -> str:
    year, month = period.split("-")
    return f"{MONTHS[int(month) - 1]}\n{year}" if show_year else MONTHS[int(month) - 1]


def _lines(frame: pd.DataFrame, panel: str, max_lines: int) -> list[tuple[str, np.ndarray]]:
    """The panel's groups (largest first beyond ``max_lines``, the rest together)."""
    part = frame[frame["panel"] == panel]
    groups = list(dict.fromkeys(part["group"]))
    series = {g: part.loc[part["group"] == g, "cumulative"].to_numpy() for g in groups}
    if len(groups) <= max_lines:
        return [(g, series[g]) for g in groups]
    keep = sorted(groups, key=lambda g: (-series[g][-1], groups.index(g)))[: max_lines - 1]
    rest = [g for g in groups if g not in keep]
    other = np.sum([series[g] for g in rest], axis=0)
    return [(g, series[g]) for g in groups if g in keep] + [(f"{len(rest)} other groups", other)]


def draw_recruitment(rec: RecruitmentData, max_lines: int = 5) -> Figure:
    """Cumulative records recruited by month: one panel by data access group and one by
    source when there are such groups, else all records; the total in black."""
    frame = rec.frame
    panels = [p for p in ("dag", "source") if p in set(frame["panel"])] or ["all"]
    titles = {"dag": "By data access group", "source": f"By {rec.source_label or 'source'}", "all": ALL}
    months = list(dict.fromkeys(frame["month"]))
    total = frame.loc[frame["panel"] == "all", "cumulative"].to_numpy()
    # the count at the end of each month, from zero at the start of the first
    x = np.arange(len(months) + 1)
    step = max(1, math.ceil(len(months) / 8))
    ticks = list(range(0, len(months), step))
    labels = [
        _month_label(months[i], show_year=(k == 0 or months[i].endswith("-01") or step >= 12))
        for k, i in enumerate(ticks)
    ]
    with figure_style():
        fig = new_figure(WIDTH_IN, 0.4 + 2.4 * len(panels), layout="constrained")
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        for ax, panel in zip(axes, panels):
            if panel != "all":
                ax.plot(x, np.r_[0, total], color="black", linewidth=2.0, label=f"{ALL} ({int(total[-1]):,})")
            for k, (group, values) in enumerate(_lines(frame, panel, max_lines)):
                style = {
                    "color": COLOURS[(k + 1) % len(COLOURS)] if panel != "all" else "black",
                    "linestyle": LINE_STYLES[k % len(LINE_STYLES)],
                    "marker": MARKERS[k % len(MARKERS)],
                    "markersize": 3.5,
                    "linewidth": 1.3,
                    "markevery": slice(1, None),
                }
                ax.plot(x, np.r_[0, values], label=f"{group} ({int(values[-1]):,})", **style)
            ax.set_title(titles[panel], loc="left", fontsize=TEXT_PT, fontweight="bold")
            ax.set_ylabel("Records (cumulative)", fontsize=TEXT_PT)
            ax.set_ylim(bottom=0, top=max(1, int(total[-1])) * 1.05)
            ax.yaxis.get_major_locator().set_params(integer=True)
            ax.set_xticks([i + 0.5 for i in ticks], labels=labels, fontsize=SMALL_PT)
            ax.set_xticks(x, minor=True)
            ax.tick_params(axis="x", which="major", length=0)
            ax.tick_params(axis="x", which="minor", length=3)
            ax.set_xlim(0, len(months))
            ax.tick_params(axis="y", labelsize=SMALL_PT)
            ax.spines[["top", "right"]].set_visible(False)
            ax.legend(
                loc="upper left", frameon=False, fontsize=SMALL_PT, ncols=1 if len(ax.lines) <= 4 else 2
            )
    return fig


def recruitment_alt_text(rec: RecruitmentData, max_lines: int = 5) -> str:
    frame = rec.frame
    months = list(dict.fromkeys(frame["month"]))
    if not months:
        return f"No record has a value of {rec.date_label}."
    parts = [
        f"Cumulative records recruited by month of {rec.date_label}, {_long_month(months[0])} to "
        f"{_long_month(months[-1])}: {rec.recruited:,} in all"
    ]
    for panel, name in (("dag", "by data access group"), ("source", f"by {rec.source_label}")):
        if panel in set(frame["panel"]):
            groups = _lines(frame, panel, max_lines)
            parts.append(name + ": " + ", ".join(f"{g} {int(v[-1]):,}" for g, v in groups))
    if rec.without_date:
        parts.append(f"{rec.without_date:,} records have no {rec.date_label} and are not drawn")
    return "; ".join(parts) + "."


def _long_month(period: str) -> str:
    year, month = period.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def make_recruitment(
    rec: RecruitmentData,
    svg_path: str | os.PathLike,
    png_path: str | os.PathLike,
    title: str = "Recruitment over time",
    max_lines: int = 5,
) -> None:
    """Draw and save the recruitment figure (SVG, PNG, ``<stem>.alt.txt``)."""
    save_figure(
        draw_recruitment(rec, max_lines), svg_path, png_path, recruitment_alt_text(rec, max_lines), title
    )


__all__ = [
    "draw_completeness",
    "make_completeness",
    "completeness_alt_text",
    "draw_recruitment",
    "make_recruitment",
    "recruitment_alt_text",
    "WIDTH_IN",
]
