"""Figure 2: recruitment, work preparation and placement completion over time.

The paper's Fig. 2 ("Recruitment, work preparation, and placement completion ... by
time"): cumulative numbers by calendar month of those recruited (consent date), those
who attended work preparation (first day of their session) and those who completed a
placement (placement end date), for both sites together and for each site, with the
months in which each recruitment source started (Results, "Participant recruitment":
NHS pain clinics from September 2017, council employment services from December 2017,
posters from January 2018, a private employment service from May 2018) taken from the
first screening date of each source.
"""
from __future__ import annotations

import math
import os

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from feasibility.crf import SITES, fields_by_name
from feasibility.figures.common import COLOURS, FONT_SIZE, figure_style, new_figure, save_figure

TITLE = "Recruitment, work preparation and placement completion by calendar month"
TOTAL = "Both sites"
PANELS = (TOTAL, *(label for _, label in SITES))
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


def timeline_data(participants: pd.DataFrame) -> pd.DataFrame:
    """Cumulative count per calendar month, series and site (``Both sites`` plus each site).

    Columns ``month`` (first day of the month), ``series``, ``site``, ``cumulative``
    (number with the event in that month or before); every month from the first to
    the last event appears for every series and site.
    """
    events = []
    for label, date_column, condition in SERIES:
        keep = participants[condition].fillna(False).astype(bool) if condition else True
        dated = participants.loc[keep & participants[date_column].notna()]
        events.append(pd.DataFrame({"series": label, "site": dated["site"],
                                    "month": dated[date_column].dt.to_period("M")}))
    events = pd.concat(events, ignore_index=True)
    if events.empty:
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"), "series": [],
                             "site": [], "cumulative": pd.Series(dtype=int)})
    months = pd.period_range(events["month"].min(), events["month"].max(), freq="M")
    frames = []
    for label, _, _ in SERIES:
        for site in PANELS:
            chosen = events[(events["series"] == label) & ((site == TOTAL) | (events["site"] == site))]
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

    Each step rises at the end of the month in which the events happened.
    """
    with figure_style():
        fig = new_figure(6.3, 6.8, layout="constrained")
        axes = fig.subplots(len(PANELS), 1, sharex=True, sharey=True)
        months = pd.Series(sorted(data["month"].unique()))
        first, last = months.iloc[0], _month_ends(months).iloc[-1]
        for ax, site in zip(axes, PANELS):
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
        _month_ticks(axes[-1], months)
        _label_source_starts(axes[0], source_starts)
        handles, labels = axes[0].get_legend_handles_labels()
        handles.append(Line2D([], [], color="0.45", linestyle="-.", linewidth=0.9))
        labels.append("Recruitment source started")
        fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
        fig.supylabel("Cumulative number of participants", fontsize=FONT_SIZE)
    return fig


def _month_ticks(ax, months: pd.Series) -> None:
    step = max(1, math.ceil(len(months) / 12))
    ticks = months.iloc[::step]
    labels = [_month_name(m, short=True) + (f"\n{m.year}" if i == 0 or m.month <= step else "")
              for i, m in enumerate(ticks)]
    ax.set_xticks(mdates.date2num(list(ticks)), labels=labels)
    ax.set_xticks(mdates.date2num(list(months)), minor=True)
    ax.set_xlabel("Calendar month")


def _label_source_starts(ax, source_starts: pd.DataFrame) -> None:
    """Name each source above the top panel, at its line."""
    top = ax.secondary_xaxis("top")
    top.set_xticks(mdates.date2num(list(source_starts["first_screened"])),
                   labels=list(source_starts["source"]))
    top.tick_params(axis="x", labelsize=FONT_SIZE - 1.5, length=3, labelrotation=40)
    for label in top.get_xticklabels():
        label.set_horizontalalignment("left")
        label.set_rotation_mode("anchor")


def timeline_alt_text(data: pd.DataFrame, source_starts: pd.DataFrame) -> str:
    """The figure in words: its span, the final counts by site and when each source began."""
    if data.empty:
        return "Timeline of recruitment and delivery: no events recorded."
    first, last = data["month"].min(), data["month"].max()
    finals = data[data["month"] == last].set_index(["series", "site"])["cumulative"]
    parts = []
    for label, _, _ in SERIES:
        by_site = ", ".join(f"{site} {finals[(label, site)]}" for site in PANELS[1:])
        parts.append(f"{label.lower()} {finals[(label, TOTAL)]} ({by_site})")
    starts = "; ".join(f"{row.source} on {row.first_screened.day} "
                       f"{_month_name(row.first_screened)} {row.first_screened.year}"
                       for row in source_starts.itertuples())
    return (f"Step chart of cumulative numbers of participants by calendar month from "
            f"{_month_name(first)} {first.year} to {_month_name(last)} {last.year}, in panels "
            f"for {TOTAL.lower()} and for {' and '.join(PANELS[1:])}; recruited is a solid line "
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
