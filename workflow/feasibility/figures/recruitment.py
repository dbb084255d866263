"""Recruitment over time: cumulative numbers by calendar month, all together and by site,
with the recruitment sources.

The declaration (``figures.<id>``, kind ``recruitment``) names the series (each a date per
record and an optional condition: recruited, attended work preparation, completed a
placement; screened, randomised), the population, what the panels split by (``by``: the
site) and the recruitment sources (a date and a coded source: the month each source first
appears, or a panel of cumulative numbers by source). The paper's Fig. 2 ("Recruitment,
work preparation, and placement completion ... by time") is such a figure: the
months in which each recruitment source started (Results, "Participant recruitment") come
from the first screening date of each source.

Up to two levels of ``by`` are drawn as the paper draws them: three panels in one column. More
levels get all of them together in a full-width panel above small multiples of the levels,
three to a row, in level order (a coded value's choices): up to ``max_panels`` levels each
get a panel; with more, the first ``max_panels - 1`` do and the rest share one last panel
("Other 5 sites"), so that every record is in a panel and the figure stays readable. A
planned number (``target``) is a horizontal line in the panel of all records. Dates are used
at month precision only (the alternative text names months, never days).
"""

from __future__ import annotations

import math
import re

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from feasibility.figures import data as fd
from feasibility.figures.common import (
    COLOURS,
    FONT_SIZE,
    MAX_FIGURE_HEIGHT_IN,
    SMALL_FONT_SIZE,
    TEXT_WIDTH_IN,
    figure_style,
    new_figure,
)
from feasibility.figures.spec import RecruitmentFigure

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # not locale-dependent
# line style and marker tell the series apart in greyscale; colour only helps
STYLES = (
    ({"linestyle": "-", "marker": "o", "color": COLOURS[0]}, "a solid line with circles"),
    ({"linestyle": "--", "marker": "s", "color": COLOURS[1]}, "a dashed line with squares"),
    ({"linestyle": ":", "marker": "^", "color": COLOURS[2]}, "a dotted line with triangles"),
    (
        {"linestyle": (0, (6, 1.5, 1, 1.5, 1, 1.5)), "marker": "D", "color": COLOURS[3]},
        "a dash-dot-dot line with diamonds",
    ),
    (
        {"linestyle": (0, (1, 1)), "marker": "v", "color": COLOURS[4]},
        "a densely dotted line with inverted triangles",
    ),
    ({"linestyle": (0, (8, 2)), "marker": "P", "color": COLOURS[5]}, "a long-dashed line with plus signs"),
)
SOURCE_LINE = {"color": "0.45", "linestyle": "-.", "linewidth": 0.9}
TARGET_LINE = {"color": "0.3", "linestyle": (0, (4, 2)), "linewidth": 1.0}
OTHER = re.compile(r"Other \d+ ")  # the title of a panel of gathered levels
GRID_COLUMNS = 3
COLUMNS = ["panel", "series", "month", "n", "cumulative"]


# ----------------------------------------------------------------------------- counts
def panels_of(order: list[str], max_panels: int, noun: str) -> dict[str, str]:
    """Level -> panel title: each level its own panel, in order, up to ``max_panels``;
    past that the last panel gathers the remaining levels."""
    if len(order) <= max_panels:
        return {level: level for level in order}
    own, rest = order[: max_panels - 1], order[max_panels - 1 :]
    return {**{lv: lv for lv in own}, **{lv: f"Other {len(rest)} {noun}" for lv in rest}}


def cumulative(
    months: pd.Series,
    panel: pd.Series,
    panels: list[str],
    span: pd.PeriodIndex,
    series: str,
    total: str | None,
) -> list[pd.DataFrame]:
    """Per panel, the number with a date in each month of ``span`` and cumulatively;
    ``total`` (a panel title) counts every record."""
    frames = []
    for name in ([total] if total else []) + panels:
        chosen = months if name == total else months[panel == name]
        counts = chosen.value_counts().reindex(span, fill_value=0)
        frames.append(
            pd.DataFrame(
                {
                    "panel": name,
                    "series": series,
                    "month": span.to_timestamp(),
                    "n": counts.to_numpy(),
                    "cumulative": counts.cumsum().to_numpy(),
                }
            )
        )
    return frames


class Data:
    """The counts a recruitment figure draws (``frame``: COLUMNS), its panels and sources."""

    def __init__(
        self,
        frame: pd.DataFrame,
        total: str,
        panels: list[str],
        starts: pd.DataFrame,
        sources: pd.DataFrame | None,
        figure: RecruitmentFigure,
    ):
        self.frame, self.total, self.panels = frame, total, panels
        self.starts, self.sources, self.figure = starts, sources, figure

    def final(self, series: str, panel: str) -> int:
        part = self.frame[(self.frame["series"] == series) & (self.frame["panel"] == panel)]
        return int(part["cumulative"].iloc[-1]) if len(part) else 0

    def table(self) -> pd.DataFrame:
        """Everything drawn as one tidy table (the CSV beside the figure)."""
        parts = [self.frame.assign(what="series")]
        if self.sources is not None:
            parts.append(self.sources.assign(what="source"))
        if len(self.starts):
            parts.append(
                pd.DataFrame(
                    {
                        "what": "source_start",
                        "panel": "",
                        "series": self.starts["source"],
                        "month": self.starts["first"].dt.to_period("M").dt.to_timestamp(),
                        "n": pd.NA,
                        "cumulative": pd.NA,
                    }
                )
            )
        out = pd.concat(parts, ignore_index=True)[["what", *COLUMNS]]
        out["month"] = out["month"].dt.strftime("%Y-%m")
        return out


def recruitment_data(analysis, figure: RecruitmentFigure) -> Data:
    """Cumulative numbers per calendar month, series and panel: all records together, then
    each panel of ``by``; every month from the first to the last date appears for every
    series and panel."""
    where = f"figures.{figure.id}"
    keep = fd.population(analysis, figure.population, f"{where}.population")
    if figure.by is not None:
        level, order = fd.levels(analysis, figure.by, f"{where}.by", among=keep)
        if level[keep].isna().any():  # nobody silently left out of the panels
            level, order = level.fillna(fd.NOT_RECORDED), [*order, fd.NOT_RECORDED]
        panel_of = panels_of(order, figure.max_panels, figure.panel_noun)
        panel = level.map(panel_of)
        panels = list(dict.fromkeys(panel_of.values()))
    else:
        panel, panels = pd.Series(None, index=analysis.records, dtype=object), []
    total = figure.all_label or (
        "All"
        if not panels
        else f"Both {figure.panel_noun}"
        if len(panels) == 2
        else f"All {figure.panel_noun}"
    )
    months = []
    for i, s in enumerate(figure.series):
        at = f"{where}.series[{i}]"
        d = fd.dates(analysis, s.date, f"{at}.date")
        chosen = keep & fd.condition(analysis, s.where, f"{at}.where") & d.notna().to_numpy()
        months.append((s.label, d[chosen].dt.to_period("M"), panel[chosen]))
    starts = _source_starts(analysis, figure, where)
    present = [m for _, m, _ in months if len(m)]
    if not present:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
        return Data(frame, total, panels, starts, None, figure)
    first = min(m.min() for m in present)
    last = max(m.max() for m in present)
    span = pd.period_range(first, last, freq="M")
    frames = []
    for label, m, p in months:
        frames += cumulative(m, p, panels, span, label, total)
    sources = None
    if figure.sources is not None and figure.sources.show == "lines":
        sources = _source_lines(analysis, figure, where)
    return Data(pd.concat(frames, ignore_index=True)[COLUMNS], total, panels, starts, sources, figure)


def _source_records(analysis, figure: RecruitmentFigure, where: str):
    src = figure.sources
    keep = fd.condition(analysis, src.population, f"{where}.sources.population")
    d = fd.dates(analysis, src.date, f"{where}.sources.date")
    chosen = keep & d.notna().to_numpy()
    level, order = fd.levels(analysis, src.by, f"{where}.sources.by", among=chosen)
    if src.show == "lines" and level[chosen].isna().any():
        level, order = level.fillna(fd.NOT_RECORDED), [*order, fd.NOT_RECORDED]
    chosen &= level.notna().to_numpy()
    return d[chosen], level[chosen], order


def _source_starts(analysis, figure: RecruitmentFigure, where: str) -> pd.DataFrame:
    """The first date of each source (show starts), earliest first, ties in level order."""
    empty = pd.DataFrame({"source": pd.Series(dtype=object), "first": pd.Series(dtype="datetime64[ns]")})
    if figure.sources is None or figure.sources.show != "starts":
        return empty
    d, level, order = _source_records(analysis, figure, where)
    if not len(d):
        return empty
    first = d.groupby(level).min()
    out = pd.DataFrame(
        {"source": first.index, "first": first.to_numpy(), "_order": [order.index(s) for s in first.index]}
    )
    return out.sort_values(["first", "_order"], ignore_index=True)[["source", "first"]]


def _source_lines(analysis, figure: RecruitmentFigure, where: str) -> pd.DataFrame:
    d, level, order = _source_records(analysis, figure, where)
    if not len(d):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    m = d.dt.to_period("M")
    span = pd.period_range(m.min(), m.max(), freq="M")
    present = [s for s in order if (level == s).any()]
    frames = cumulative(m, level, present, span, figure.sources.label, None)
    out = pd.concat(frames, ignore_index=True)
    out["series"], out["panel"] = out["panel"], figure.sources.label
    return out[COLUMNS]


# ----------------------------------------------------------------------------- drawing
def _month_name(timestamp: pd.Timestamp, short: bool = False) -> str:
    name = MONTHS[timestamp.month - 1]
    return name[:3] if short else name


def _month_ends(months: pd.Series) -> pd.Series:
    return months + pd.offsets.MonthEnd(0)


def _step(ax, months: pd.Series, first: pd.Timestamp, values, label: str, style: dict) -> None:
    x = mdates.date2num([first, *_month_ends(months)])
    ax.plot(
        x,
        [0, *values],
        drawstyle="steps-post",
        markevery=slice(1, None),
        markersize=4,
        linewidth=1.4,
        label=label,
        **style,
    )


def draw(data: Data) -> Figure:
    """Cumulative step lines in one panel per level (shared axes); sources as vertical lines
    or as a panel of their own. Each step rises at the end of the month in which the events
    happened. Up to two levels: one column of panels; more: all levels full width above a
    grid of the levels."""
    figure = data.figure
    frame = data.frame
    panels = [data.total, *data.panels]
    months = pd.Series(sorted(frame["month"].unique()))
    source_panel = data.sources is not None and len(data.sources)
    with figure_style():
        if len(panels) <= 3:
            fig = new_figure(TEXT_WIDTH_IN, 6.8 + (1.9 if source_panel else 0), layout="constrained")
            axes = list(
                fig.subplots(
                    len(panels) + bool(source_panel), 1, sharex=True, sharey=False if source_panel else True
                )
            )
            if source_panel:
                for ax in axes[1 : len(panels)]:
                    ax.sharey(axes[0])
        else:
            fig, axes = _small_multiples(panels[1:], bool(source_panel))
        source_ax = axes.pop() if source_panel else None
        first, last = months.iloc[0], _month_ends(months).iloc[-1]
        for ax, panel in zip(axes, panels):
            for k, s in enumerate(figure.series):
                line = frame[(frame["series"] == s.label) & (frame["panel"] == panel)].sort_values("month")
                _step(ax, line["month"], first, line["cumulative"], s.label, STYLES[k % len(STYLES)][0])
            for start in data.starts["first"]:
                ax.axvline(mdates.date2num(start), **SOURCE_LINE)
            ax.set_title(panel, loc="left", fontsize=FONT_SIZE, fontweight="bold")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))  # 100,000
            ax.set_ylim(bottom=0)
            ax.grid(axis="y", color="0.88", linewidth=0.6)
            ax.spines[["top", "right"]].set_visible(False)
        if figure.target:
            axes[0].axhline(figure.target, label=f"Planned ({figure.target:,})", **TARGET_LINE)
        if source_ax is not None:
            _draw_source_panel(source_ax, data, first)
        ax = axes[-1]
        # room for markers at the edges and for sources that began before the first event
        left = min([first, *data.starts["first"]]) - pd.Timedelta(days=12)
        ax.set_xlim(mdates.date2num(left), mdates.date2num(last + pd.Timedelta(days=12)))
        if len(panels) <= 3:
            _month_ticks(source_ax if source_ax is not None else axes[-1], months, figure.x_label)
            if figure.target:
                axes[0].set_ylim(top=max(axes[0].get_ylim()[1], figure.target * 1.08))
        else:
            axes[0].set_xlim(ax.get_xlim())
            _month_ticks(axes[0], months, figure.x_label)
            if figure.target:
                axes[0].set_ylim(top=max(axes[0].get_ylim()[1], figure.target * 1.08))
            for ax in axes[1:]:
                ax.autoscale(axis="y")  # from every panel sharing the scale, all drawn now
                ax.set_ylim(bottom=0)
                _year_ticks(ax, months)
            if source_ax is not None:
                source_ax.set_xlim(axes[0].get_xlim())
                _month_ticks(source_ax, months, "")
        if len(data.starts):
            _label_source_starts(axes[0], data.starts)
        handles, labels = axes[0].get_legend_handles_labels()
        if len(data.starts):
            handles.append(Line2D([], [], **SOURCE_LINE))
            labels.append(figure.sources.label)
        fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
        fig.supylabel(figure.y_label, fontsize=FONT_SIZE)
    return fig


def _draw_source_panel(ax, data: Data, first: pd.Timestamp) -> None:
    """One cumulative step line per source, named (with its total) in the panel's legend."""
    frame = data.sources
    for k, source in enumerate(dict.fromkeys(frame["series"])):
        line = frame[frame["series"] == source].sort_values("month")
        ax.plot(
            mdates.date2num([first, *_month_ends(line["month"])]),
            [0, *line["cumulative"]],
            drawstyle="steps-post",
            markevery=slice(1, None),
            markersize=3.5,
            linewidth=1.2,
            label=f"{source} ({int(line['cumulative'].iloc[-1]):,})",
            **STYLES[k % len(STYLES)][0],
        )
    ax.set_title(data.figure.sources.label, loc="left", fontsize=FONT_SIZE, fontweight="bold")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))  # 100,000
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="0.88", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    # under the panel: inside it, the names would cross the lines of the early months
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(0, -0.24),
        frameon=False,
        fontsize=SMALL_FONT_SIZE,
        ncols=1,
        handlelength=3.2,
    )


def _small_multiples(level_panels: list[str], source_panel: bool) -> tuple[Figure, list]:
    """Axes: one full-width panel for all levels above the level panels, three to a row
    (and a full-width panel of sources). Level panels share their scales; a panel of gathered
    levels has its own y scale."""
    n = len(level_panels)
    rows = math.ceil(n / GRID_COLUMNS)
    extra = 1 if source_panel else 0
    # at most the text block less a caption: rows of panels get lower as they get more
    height = 3.4 + 1.45 * rows + 2.0 * extra
    if height > MAX_FIGURE_HEIGHT_IN:
        height = MAX_FIGURE_HEIGHT_IN
    fig = new_figure(TEXT_WIDTH_IN, height, layout="constrained")
    spec = fig.add_gridspec(1 + rows + extra, GRID_COLUMNS, height_ratios=[1.5] + [1] * rows + [1.4] * extra)
    axes = [fig.add_subplot(spec[0, :])]
    for i, panel in enumerate(level_panels):
        gathered = OTHER.match(panel) is not None
        ax = fig.add_subplot(
            spec[1 + i // GRID_COLUMNS, i % GRID_COLUMNS],
            sharex=axes[1] if i else None,
            sharey=None if gathered or not i else axes[1],
        )
        # years under the lowest panel of each column; counts at the left and on a gathered panel
        ax.tick_params(labelbottom=i + GRID_COLUMNS >= n, labelleft=i % GRID_COLUMNS == 0 or gathered)
        axes.append(ax)
    if source_panel:
        axes.append(fig.add_subplot(spec[1 + rows, :]))
    return fig, axes


def _month_ticks(ax, months: pd.Series, x_label: str) -> None:
    step = max(1, math.ceil(len(months) / 12))
    ticks = months.iloc[::step]
    labels = [
        _month_name(m, short=True) + (f"\n{m.year}" if i == 0 or m.month <= step else "")
        for i, m in enumerate(ticks)
    ]
    ax.set_xticks(mdates.date2num(list(ticks)), labels=labels)
    ax.set_xticks(mdates.date2num(list(months)), minor=True)
    ax.set_xlabel(x_label)


def _year_ticks(ax, months: pd.Series) -> None:
    """Years only, for the narrow panels (the top panel names the months)."""
    januaries = [m for m in months if m.month == 1] or [months.iloc[0]]
    ax.set_xticks(mdates.date2num(januaries), labels=[str(m.year) for m in januaries])
    ax.set_xticks([], minor=True)


def _label_source_starts(ax, starts: pd.DataFrame) -> None:
    """Name each source above the top panel, at its line; sources that started in the same
    month share one label (at the first of their lines), so that no two labels overprint."""
    month = starts["first"].dt.to_period("M")
    groups = [
        (part["first"].iloc[0], _listing(list(part["source"])))
        for _, part in starts.groupby(month, sort=False)
    ]
    top = ax.secondary_xaxis("top")
    top.set_xticks(mdates.date2num([d for d, _ in groups]), labels=[n for _, n in groups])
    top.tick_params(axis="x", labelsize=SMALL_FONT_SIZE, length=3, labelrotation=40)
    for label in top.get_xticklabels():
        label.set_horizontalalignment("left")
        label.set_rotation_mode("anchor")


# ----------------------------------------------------------------------------- words
def _listing(names: list[str]) -> str:
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def alt_text(data: Data) -> str:
    """The figure in words: its span, the final counts by panel and when each source began."""
    figure = data.figure
    frame = data.frame
    if frame.empty:
        return f"Cumulative numbers of {figure.counted} by calendar month: no dates recorded."
    first, last = frame["month"].min(), frame["month"].max()
    styles = ", ".join(
        f"{_lower_first(s.label)} {'is ' if k == 0 else ''}{STYLES[k % len(STYLES)][1]}"
        for k, s in enumerate(figure.series)
    )
    parts = []
    for s in figure.series:
        by = ", ".join(f"{p} {data.final(s.label, p):,}" for p in data.panels)
        parts.append(
            f"{_lower_first(s.label)} {data.final(s.label, data.total):,}" + (f" ({by})" if by else "")
        )
    where = (
        f"in panels for {_lower_first(data.total)} and for {_listing(data.panels)}"
        if data.panels
        else "in one panel"
    )
    text = (
        f"Step chart of cumulative numbers of {figure.counted} by calendar month from "
        f"{_month_name(first)} {first.year} to {_month_name(last)} {last.year}, {where}; "
        f"{styles}. By the end of {_month_name(last)} {last.year}: {'; '.join(parts)}."
    )
    if figure.target:
        text += f" A dashed horizontal line marks the planned number, {figure.target:,}."
    if figure.sources is not None and figure.sources.show == "starts":
        # the month only: a day would be some person's screening date
        starts = "; ".join(
            f"{row.source} in {_month_name(row.first)} {row.first.year}" for row in data.starts.itertuples()
        )
        text += (
            " Vertical dash-dot lines mark when each recruitment source started: "
            f"{starts or 'none recorded'}."
        )
    elif data.sources is not None and len(data.sources):
        end = data.sources["month"].max()
        finals = data.sources[data.sources["month"] == end]
        text += (
            f" {figure.sources.label}, by the end of {_month_name(end)} {end.year}: "
            + "; ".join(f"{r.series} {int(r.cumulative):,}" for r in finals.itertuples())
            + "."
        )
    return text


# ----------------------------------------------------------------------------- output
def make(analysis, figure: RecruitmentFigure) -> tuple[Figure, str, pd.DataFrame]:
    """The figure, its alternative text and the counts it shows, from the analysis."""
    data = recruitment_data(analysis, figure)
    if data.frame.empty:
        raise ValueError(
            f"figures.{figure.id}: no record of the population has a date of any series; nothing to draw"
        )
    return draw(data), alt_text(data), data.table()


__all__ = ["recruitment_data", "draw", "alt_text", "make", "panels_of", "Data"]
