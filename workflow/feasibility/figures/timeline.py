"""Figure 2: recruitment, work preparation and placement completion over time.

The paper's Fig. 2 ("Recruitment, work preparation, and placement completion ... by
time"): cumulative numbers by calendar month of those recruited (consent date), those
who attended work preparation (first day of their session) and those who completed a
placement (placement end date), for both sites together and for each site, with the
months in which each recruitment source started (Results, "Participant recruitment":
NHS pain clinics from September 2017, council employment services from December 2017,
posters from January 2018, a private employment service from May 2018) taken from the
first screening date of each source.

Sites are the study's own (``crf.study_sites``: the data dictionary's list, carried
with the analysis dataset). Two sites are drawn as the paper draws them: three panels
in one column. A multi-site trial gets all sites together in a full-width panel above
small multiples of the sites, three to a row, in code order: up to ``MAX_SITE_PANELS``
sites each get a panel; with more, the first ``MAX_SITE_PANELS - 1`` do and the rest
share one last panel ("Other 5 sites"), so that every participant is in a site panel
and the figure stays readable.
"""
from __future__ import annotations

import math
import os
import re

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from feasibility.crf import fields_by_name, study_sites
from feasibility.figures.common import (
    COLOURS, FONT_SIZE, SMALL_FONT_SIZE, TEXT_WIDTH_IN, figure_style, new_figure, save_figure,
)

TITLE = "Recruitment, work preparation and placement completion by calendar month"
TOTAL = "Both sites"          # the all-sites panel of a two-site study
ALL_SITES = "All sites"       # ... of any other
MAX_SITE_PANELS = 9           # site panels of a multi-site figure (3 rows of 3)
# series: (label, date column, column that must be True for the date to count)
SERIES = (
    ("Recruited", "consent_date", None),
    ("Attended work preparation", "work_preparation_date", "attended_work_preparation"),
    ("Completed a placement", "placement_end", "completed_placement"),
)
# line style and marker tell the series apart in greyscale; colour only helps
STYLES = {
    "Recruited": {"linestyle": "-", "marker": "o", "color": COLOURS[0]},
    "Attended work preparation": {"linestyle": "--", "marker": "s", "color": COLOURS[1]},
    "Completed a placement": {"linestyle": ":", "marker": "^", "color": COLOURS[2]},
}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")   # not locale-dependent


def site_panels(participants: pd.DataFrame) -> dict[str, str]:
    """Site label → panel title: each site its own panel, in code order, up to
    ``MAX_SITE_PANELS``; past that the last panel gathers the remaining sites."""
    sites = [label for _, label in study_sites(participants)]
    sites += sorted(set(participants["site"].dropna()) - set(sites))   # not in the list: keep them
    if len(sites) <= MAX_SITE_PANELS:
        return {site: site for site in sites}
    own, rest = sites[:MAX_SITE_PANELS - 1], sites[MAX_SITE_PANELS - 1:]
    return {**{site: site for site in own}, **{site: f"Other {len(rest)} sites" for site in rest}}


OTHER_SITES = re.compile(r"Other \d+ sites")      # the panel of gathered sites


def timeline_data(participants: pd.DataFrame) -> pd.DataFrame:
    """Cumulative count per calendar month, series and panel: all sites together
    (``Both sites`` in a two-site study, else ``All sites``), then each site (``site_panels``).

    Columns ``month`` (first day of the month), ``series``, ``site`` (the panel),
    ``cumulative`` (number with the event in that month or before); every month from
    the first to the last event appears for every series and panel, panels in order.
    """
    panel_of = site_panels(participants)
    total = TOTAL if len(panel_of) == 2 else ALL_SITES
    panels = (total, *dict.fromkeys(panel_of.values()))
    events = []
    for label, date_column, condition in SERIES:
        keep = participants[condition].fillna(False).astype(bool) if condition else True
        dated = participants.loc[keep & participants[date_column].notna()]
        events.append(pd.DataFrame({"series": label, "site": dated["site"].map(panel_of),
                                    "month": dated[date_column].dt.to_period("M")}))
    events = pd.concat(events, ignore_index=True)
    if events.empty:
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"), "series": [],
                             "site": [], "cumulative": pd.Series(dtype=int)})
    months = pd.period_range(events["month"].min(), events["month"].max(), freq="M")
    frames = []
    for label, _, _ in SERIES:
        for site in panels:
            chosen = events[(events["series"] == label) & ((site == total) | (events["site"] == site))]
            counts = chosen["month"].value_counts().reindex(months, fill_value=0).cumsum()
            frames.append(pd.DataFrame({"month": months.to_timestamp(), "series": label,
                                        "site": site, "cumulative": counts.to_numpy()}))
    return pd.concat(frames, ignore_index=True)


def recruitment_source_starts(screening: pd.DataFrame) -> pd.DataFrame:
    """First screening date of each recruitment source (``scr_source``), earliest first."""
    labels = dict(fields_by_name()["scr_source"].choices)
    dates = pd.to_datetime(screening["scr_date"])
    first = dates.groupby(screening["scr_source"].astype(int)).min()
    out = pd.DataFrame({"source_code": first.index.astype(int),
                        "source": [labels[code] for code in first.index],
                        "first_screened": first.to_numpy()})
    return out.sort_values(["first_screened", "source_code"], ignore_index=True)


def _month_name(timestamp: pd.Timestamp, short: bool = False) -> str:
    name = MONTHS[timestamp.month - 1]
    return name[:3] if short else name


def _month_ends(months: pd.Series) -> pd.Series:
    return months + pd.offsets.MonthEnd(0)


def draw_timeline(data: pd.DataFrame, source_starts: pd.DataFrame) -> Figure:
    """Cumulative step lines in one panel per site (shared axes); sources as vertical lines.

    Each step rises at the end of the month in which the events happened. Up to two
    sites: one column of panels; more: all sites full width above a grid of sites.
    """
    panels = list(dict.fromkeys(data["site"]))
    months = pd.Series(sorted(data["month"].unique()))
    with figure_style():
        if len(panels) <= 3:
            fig = new_figure(TEXT_WIDTH_IN, 6.8, layout="constrained")
            axes = fig.subplots(len(panels), 1, sharex=True, sharey=True)
        else:
            fig, axes = _small_multiples(panels[1:])
        first, last = months.iloc[0], _month_ends(months).iloc[-1]
        for ax, site in zip(axes, panels):
            for label, _, _ in SERIES:
                line = data[(data["series"] == label) & (data["site"] == site)].sort_values("month")
                x = mdates.date2num([first, *_month_ends(line["month"])])
                y = [0, *line["cumulative"]]
                ax.plot(x, y, drawstyle="steps-post", markevery=slice(1, None), markersize=4,
                        linewidth=1.4, label=label, **STYLES[label])
            for start in source_starts["first_screened"]:
                ax.axvline(mdates.date2num(start), color="0.45", linestyle="-.", linewidth=0.9)
            ax.set_title(site, loc="left", fontsize=FONT_SIZE, fontweight="bold")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(bottom=0)
            ax.grid(axis="y", color="0.88", linewidth=0.6)
            ax.spines[["top", "right"]].set_visible(False)
        # room for markers at the edges and for sources that began before the first event
        left = min([first, *source_starts["first_screened"]]) - pd.Timedelta(days=12)
        ax.set_xlim(mdates.date2num(left), mdates.date2num(last + pd.Timedelta(days=12)))
        if len(panels) <= 3:
            _month_ticks(axes[-1], months)
        else:
            axes[0].set_xlim(ax.get_xlim())
            _month_ticks(axes[0], months)
            for ax in axes:
                ax.autoscale(axis="y")     # from every panel sharing the scale, all drawn now
                ax.set_ylim(bottom=0)
                if ax is not axes[0]:
                    _year_ticks(ax, months)
        _label_source_starts(axes[0], source_starts)
        handles, labels = axes[0].get_legend_handles_labels()
        handles.append(Line2D([], [], color="0.45", linestyle="-.", linewidth=0.9))
        labels.append("Recruitment source started")
        fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
        fig.supylabel("Cumulative number of participants", fontsize=FONT_SIZE)
    return fig


GRID_COLUMNS = 3


def _small_multiples(site_panels: list[str]) -> tuple[Figure, list]:
    """Axes: one full-width panel for all sites above the site panels, three to a row.
    Site panels share their scales; a panel of gathered sites has its own y scale."""
    n = len(site_panels)
    rows = math.ceil(n / GRID_COLUMNS)
    fig = new_figure(TEXT_WIDTH_IN, 3.4 + 1.45 * rows, layout="constrained")
    spec = fig.add_gridspec(1 + rows, GRID_COLUMNS, height_ratios=[1.5] + [1] * rows)
    axes = [fig.add_subplot(spec[0, :])]
    for i, panel in enumerate(site_panels):
        gathered = OTHER_SITES.fullmatch(panel) is not None
        ax = fig.add_subplot(spec[1 + i // GRID_COLUMNS, i % GRID_COLUMNS],
                             sharex=axes[1] if i else None,
                             sharey=None if gathered or not i else axes[1])
        # years under the lowest panel of each column; counts at the left and on a gathered panel
        ax.tick_params(labelbottom=i + GRID_COLUMNS >= n,
                       labelleft=i % GRID_COLUMNS == 0 or gathered)
        axes.append(ax)
    return fig, axes


def _month_ticks(ax, months: pd.Series) -> None:
    step = max(1, math.ceil(len(months) / 12))
    ticks = months.iloc[::step]
    labels = [_month_name(m, short=True) + (f"\n{m.year}" if i == 0 or m.month <= step else "")
              for i, m in enumerate(ticks)]
    ax.set_xticks(mdates.date2num(list(ticks)), labels=labels)
    ax.set_xticks(mdates.date2num(list(months)), minor=True)
    ax.set_xlabel("Calendar month")


def _year_ticks(ax, months: pd.Series) -> None:
    """Years only, for the narrow site panels (the top panel names the months)."""
    januaries = [m for m in months if m.month == 1] or [months.iloc[0]]
    ax.set_xticks(mdates.date2num(januaries), labels=[str(m.year) for m in januaries])
    ax.set_xticks([], minor=True)


def _label_source_starts(ax, source_starts: pd.DataFrame) -> None:
    """Name each source above the top panel, at its line."""
    top = ax.secondary_xaxis("top")
    top.set_xticks(mdates.date2num(list(source_starts["first_screened"])),
                   labels=list(source_starts["source"]))
    top.tick_params(axis="x", labelsize=SMALL_FONT_SIZE, length=3, labelrotation=40)
    for label in top.get_xticklabels():
        label.set_horizontalalignment("left")
        label.set_rotation_mode("anchor")


def _listing(names: list[str]) -> str:
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


def timeline_alt_text(data: pd.DataFrame, source_starts: pd.DataFrame) -> str:
    """The figure in words: its span, the final counts by site and when each source began."""
    if data.empty:
        return "Timeline of recruitment and delivery: no events recorded."
    total, *sites = dict.fromkeys(data["site"])
    first, last = data["month"].min(), data["month"].max()
    finals = data[data["month"] == last].set_index(["series", "site"])["cumulative"]
    parts = []
    for label, _, _ in SERIES:
        by_site = ", ".join(f"{site} {finals[(label, site)]}" for site in sites)
        parts.append(f"{label.lower()} {finals[(label, total)]} ({by_site})")
    # the month only: a day would be some person's screening date
    starts = "; ".join(f"{row.source} in {_month_name(row.first_screened)} {row.first_screened.year}"
                       for row in source_starts.itertuples())
    return (f"Step chart of cumulative numbers of participants by calendar month from "
            f"{_month_name(first)} {first.year} to {_month_name(last)} {last.year}, in panels "
            f"for {total.lower()} and for {_listing(sites)}; recruited is a solid line "
            f"with circles, attended work preparation a dashed line with squares, completed a "
            f"placement a dotted line with triangles. By the end of {_month_name(last)} "
            f"{last.year}: {'; '.join(parts)}. Vertical dash-dot lines mark when each "
            f"recruitment source started: {starts or 'none recorded'}.")


def make_timeline(participants: pd.DataFrame, screening: pd.DataFrame,
                  svg_path: str | os.PathLike, png_path: str | os.PathLike) -> pd.DataFrame:
    """Compute, draw and save Figure 2 (SVG, PNG and ``<stem>.alt.txt``); returns the data."""
    data = timeline_data(participants)
    starts = recruitment_source_starts(screening)
    save_figure(draw_timeline(data, starts), svg_path, png_path,
                timeline_alt_text(data, starts), TITLE)
    return data
