"""Tidy table cells, their printed text, and one great-tables builder for every table.

Every table module computes a tidy frame of cells (one row per printed number
group) and builds one ``great_tables.GT`` from it with :func:`build_gt`.

Tidy-cell scheme (columns :data:`CELL_COLUMNS`, the same for every table):

============== ============================================================
statistic      meaning of ``estimate`` / ``sd`` / ``lower`` / ``upper`` / ``n`` / ``denominator``
============== ============================================================
n_pct          percent (0-100) / - / - / - / count / denominator
mean_sd        mean / sample SD / - / - / non-missing n / -
median_iqr     median / - / Q1 / Q3 (Stata centiles) / non-missing n / -
change_ci      mean change / SD of changes / CI low / CI high / complete pairs / -
count          total / - / - / - / people it is counted over / -
rate           recruits per month / - / - / - / recruits / months
proportion_ci  percent / - / Wilson CI low % / high % / count / denominator
nnt_ci         NNT / - / NNT at upper p / NNT at lower p (inf: unbounded) / employed / recruited
risk_difference_ci  percentage points / - / CI low / CI high / records in both arms / -
mean_difference_ci  difference of means / - / CI low / CI high / records in both arms / -
ratio_ci       risk or odds ratio / - / CI low / CI high / records analysed / -
============== ============================================================

``estimate`` … ``upper`` keep full precision; ``text`` is the cell as printed
(rounded half away from zero at ``decimals``; true minus sign). ``published_key``
is the key path into ``config/published_values.yaml`` that the cell reproduces
(``a.b.c`` or ``a.b[i]``), empty when none.

Small-cell rule (``disclosure.small_cell_threshold`` = k, off when null): a cell whose
count is 1 to k−1 (:data:`COUNT_FIELD`) is suppressed by :func:`write_table`: its
``text`` is ``<k`` and the count and every number derived from it (``estimate``,
``sd``, ``lower``, ``upper``, ``n``) are left empty; ``denominator`` is kept.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
from great_tables import GT

from feasibility import escape
from feasibility.io import write_csv, write_text
from feasibility.stats import format_number, round_half_up
from feasibility.tables.model import ModelColumn, Row, Spanner, Table, caption_title, from_frame, label_text

CELL_COLUMNS = [
    "table",
    "row_group",
    "row_label",
    "column",
    "statistic",
    "estimate",
    "sd",
    "lower",
    "upper",
    "n",
    "denominator",
    "decimals",
    "text",
    "published_key",
]

# Which cell fields give the printed numbers {0}, {1}, {2} of each statistic.
_PARTS = {
    "n_pct": ("n", "estimate"),
    "mean_sd": ("estimate", "sd"),
    "median_iqr": ("estimate", "lower", "upper"),
    "change_ci": ("estimate", "lower", "upper"),
    "count": ("estimate",),
    "rate": ("estimate",),
    "proportion_ci": ("estimate", "lower", "upper"),
    "nnt_ci": ("estimate", "lower", "upper"),
    "risk_difference_ci": ("estimate", "lower", "upper"),
    "mean_difference_ci": ("estimate", "lower", "upper"),
    "ratio_ci": ("estimate", "lower", "upper"),
}
# The count a cell discloses. A ``count`` printed with decimals is a total of a measure
# (case-management hours), not a count of people or events: it is never suppressed.
COUNT_FIELD = {"n_pct": "n", "proportion_ci": "n", "rate": "n", "nnt_ci": "n", "count": "estimate"}
_WITHHELD = ["estimate", "sd", "lower", "upper", "n"]
# great-tables drops a << >> section when a value in it is missing (e.g. no SD for n = 1)
_PATTERNS = {1: "{0}", 2: "{0}<< ({1})>>", 3: "{0}<< ({1} to {2})>>"}
_TEXT_PATTERNS = {1: "{0}", 2: "{0} ({1})", 3: "{0} ({1} to {2})"}


def _part_text(statistic: str, position: int, value: float, decimals: int) -> str:
    if statistic == "n_pct" and position == 0:
        return format_number(value, 0)
    # percentages of n (%) cells drop a trailing ".0" as Table 4 prints them: 4 (50), 1 (12.5)
    return format_number(value, decimals, drop_trailing_zeros=statistic == "n_pct")


def cell_text(statistic: str, decimals: int, **values: float) -> str:
    """The cell as printed, e.g. ``18 (58)``, ``0.53 (0.22)``, ``−0.4 (−2.9 to 2.0)``.

    Empty when the estimate is missing; the bracket is left out when any of its
    numbers is missing (an SD or interval from one value).
    """
    parts = [
        _part_text(statistic, i, values.get(name, math.nan), decimals)
        for i, name in enumerate(_PARTS[statistic])
    ]
    if not all(parts[1:]):
        parts = parts[:1]
    return _TEXT_PATTERNS[len(parts)].format(*parts)


def cell(
    table: str,
    row_group: str,
    row_label: str,
    column: str,
    statistic: str,
    *,
    decimals: int,
    estimate: float = math.nan,
    sd: float = math.nan,
    lower: float = math.nan,
    upper: float = math.nan,
    n: int | None = None,
    denominator: int | None = None,
    published_key: str = "",
) -> dict:
    """One tidy cell with its printed ``text``."""
    values = dict(estimate=estimate, sd=sd, lower=lower, upper=upper)
    text = cell_text(statistic, decimals, **values, n=math.nan if n is None else n)
    return dict(
        table=table,
        row_group=row_group,
        row_label=row_label,
        column=column,
        statistic=statistic,
        **values,
        n=n,
        denominator=denominator,
        decimals=decimals,
        text=text,
        published_key=published_key,
    )


def cells_frame(records: Iterable[dict]) -> pd.DataFrame:
    """Tidy cells in :data:`CELL_COLUMNS` order with stable dtypes."""
    df = pd.DataFrame(list(records), columns=CELL_COLUMNS)
    for col in ("estimate", "sd", "lower", "upper"):
        df[col] = df[col].astype("float64")
    for col in ("n", "denominator", "decimals"):
        df[col] = df[col].astype("Int64")
    for col in ("table", "row_group", "row_label", "column", "statistic", "text", "published_key"):
        df[col] = df[col].fillna("").astype(str)
    return df


# --------------------------------------------------------------------------- small cells
def small_cells(cells: pd.DataFrame, threshold: int | None) -> pd.Series:
    """Cells whose count (:data:`COUNT_FIELD`) is at least 1 and below ``threshold``.

    Zero counts are shown (a zero discloses no one); no cell is small when ``threshold``
    is null.
    """
    mask = pd.Series(False, index=cells.index)
    if not threshold:
        return mask
    for statistic, field in COUNT_FIELD.items():
        here = cells["statistic"] == statistic
        if statistic == "count":
            here &= cells["decimals"] == 0
        count = pd.to_numeric(cells[field], errors="coerce").astype("float64")
        mask |= here & (count > 0) & (count < threshold)
    return mask


def suppress_small_cells(cells: pd.DataFrame, threshold: int | None) -> pd.DataFrame:
    """The tidy cells with every small cell (:func:`small_cells`) printed ``<k`` and its numbers withheld."""
    small = small_cells(cells, threshold)
    if not small.any():
        return cells
    out = cells.copy()
    for name in _WITHHELD:
        out.loc[small, name] = pd.NA if name == "n" else np.nan
    out.loc[small, "text"] = f"<{threshold}"
    return out


def suppression_note(threshold: int) -> str:
    """The footnote of a table with suppressed cells."""
    return (
        f"<{threshold}: a count of 1 to {threshold - 1} people or events; the count and every "
        "number derived from it (percentage, interval, rate) are withheld (small-cell rule)."
    )


def _suppress_in_gt(gt: Table, cells: pd.DataFrame, threshold: int | None) -> Table:
    """The table (built from ``cells`` by :func:`build_gt`) with its small cells shown as ``<k``."""
    small = cells[small_cells(cells, threshold)]
    if small.empty:
        return gt
    gt = copy.deepcopy(gt)
    row_of = _row_index(cells)
    for column, block in small.groupby("column", sort=True):
        rows = sorted(row_of[(g, r)] for g, r in zip(block["row_group"], block["row_label"]))
        gt = gt.sub_body(f"{column}__v0", rows, f"<{threshold}", lambda _: f"&lt;{threshold}")
    return gt.tab_footnote(suppression_note(threshold))


# ----------------------------------------------------------------------------- great-tables
def _row_index(cells: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Table row of each (row_group, row_label), in the order the cells first give them."""
    keys = cells[["row_group", "row_label"]].drop_duplicates()
    return {key: i for i, key in enumerate(zip(keys["row_group"], keys["row_label"]))}


def _display_frame(cells: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Wide frame: one row per (row_group, row_label), printed numbers pre-rounded half up.

    great-tables rounds half to even on binary values (0.125 -> 0.12); rounding
    here first makes its ``fmt_number`` print what the paper prints.
    """
    index = _row_index(cells)
    wide = pd.DataFrame(list(index), columns=["row_group", "row_label"])
    for c in columns:
        for k in range(3):
            wide[f"{c}__v{k}"] = np.nan
        wide[f"{c}__n"] = pd.array([pd.NA] * len(wide), dtype="Int64")
        wide[f"{c}__N"] = pd.array([pd.NA] * len(wide), dtype="Int64")
    for rec in cells.to_dict("records"):
        i, c = index[(rec["row_group"], rec["row_label"])], rec["column"]
        for k, name in enumerate(_PARTS[rec["statistic"]]):
            value = float(rec[name]) if not pd.isna(rec[name]) else math.nan
            digits = 0 if (rec["statistic"] == "n_pct" and k == 0) else int(rec["decimals"])
            # an unbounded interval end stays missing here; build_gt shows it as "∞"
            shown = round_half_up(value, digits) if math.isfinite(value) else np.nan
            wide.loc[i, f"{c}__v{k}"] = shown
        # the "n" shown: people answering (denominator of an n (%) cell), else the cell's n
        wide.loc[i, f"{c}__n"] = rec["denominator"] if rec["statistic"] == "n_pct" else rec["n"]
        wide.loc[i, f"{c}__N"] = rec["denominator"]
    return wide


# ----------------------------------------------------------------------------- report style
# great-tables' defaults leave font weights at CSS ``initial`` and name a font stack
# ending in ``sans-serif``; the report names every weight and lets each table take the
# page's font (see :func:`html_fragment`). Quarto is told not to convert the tables
# itself: the PDF gets them from ``feasibility.typeset`` in both back ends.
REPORT_OPTIONS = dict(
    heading_align="left",
    heading_title_font_size="100%",
    heading_title_font_weight="normal",
    heading_subtitle_font_weight="normal",
    column_labels_font_weight="normal",
    row_group_font_weight="bold",
    stub_font_weight="normal",
    stub_row_group_font_weight="bold",
    table_font_weight="normal",
    table_font_size="14px",
    quarto_disable_processing=True,
)


def report_style(gt: GT, table_id: str, *, indent_stub: bool = False) -> GT:
    """The report's look for a great-tables table (HTML; the PDF follows it in ``typeset``):
    weights named, numbers never wrapped, the table as wide as its columns need (caption
    and notes wrap to it), rows under a row-group heading indented."""
    css = [
        f"#{table_id} .gt_row.gt_right {{ white-space: nowrap; }}",
        f"#{table_id} tbody .gt_row {{ vertical-align: top; }}",
        # the caption and the notes wrap to the table's width instead of widening it
        # (a long note would otherwise squeeze the columns and wrap the stub); see
        # html_fragment
        f"#{table_id} .{WRAP_CLASS} {{ contain: inline-size; }}",
    ]
    if indent_stub:
        css.append(f"#{table_id} tbody th.gt_stub {{ padding-left: 1.25em; }}")
    gt = gt.tab_options(**REPORT_OPTIONS)
    for rule in css:
        gt = gt.opt_css(rule)
    return gt


def build_gt(
    cells: pd.DataFrame,
    *,
    table_id: str,
    title: str,
    columns: dict[str, str],
    value_label: str,
    stub_label: str = "",
    n_label: str | None = None,
    denominator_label: str | None = None,
    label: str | None = None,
    value_labels: dict[str, str] | None = None,
) -> Table:
    """The model of one table from tidy cells (:mod:`feasibility.tables.model`): its HTML is
    :func:`_gt_of_cells`, its rows the cells' printed ``text`` (and the ``n`` and ``N``
    columns when labelled), one spanner per column of cells."""
    arguments = dict(
        table_id=table_id,
        title=title,
        columns=columns,
        value_label=value_label,
        stub_label=stub_label,
        n_label=n_label,
        denominator_label=denominator_label,
        label=label,
        value_labels=value_labels,
    )
    table = Table(table_id, lambda: _gt_of_cells(cells, **arguments))
    keys = list(columns)
    grouped = bool((cells["row_group"] != "").any())
    table.label, table.title = label, label_text(title)
    table.stub, table.stub_label, table.grouped = True, label_text(stub_label), grouped
    for c in keys:
        shown = [ModelColumn(f"{c}__v0", label_text((value_labels or {}).get(c, value_label)), "right")]
        for name, text in ((f"{c}__n", n_label), (f"{c}__N", denominator_label)):
            if text is not None:
                shown.append(ModelColumn(name, label_text(text), "right"))
        table.columns += shown
        if columns[c] or len(keys) > 1:
            table.spanners.append(Spanner(c, label_text(columns[c]), [m.key for m in shown]))
    rows = {key: Row(key[0], key[1], {m.key: "" for m in table.columns}) for key in _row_index(cells)}
    first = cells.drop_duplicates(["row_group", "row_label", "column"])
    for rec in first.to_dict("records"):
        values = rows[(rec["row_group"], rec["row_label"])].values
        c = rec["column"]
        if f"{c}__v0" not in values:
            continue
        values[f"{c}__v0"] = rec["text"]
        shown_n = rec["denominator"] if rec["statistic"] == "n_pct" else rec["n"]
        for name, value in ((f"{c}__n", shown_n), (f"{c}__N", rec["denominator"])):
            if name in values and not pd.isna(value):
                values[name] = str(int(value))
    table.rows = list(rows.values())
    return table


def _gt_of_cells(
    cells: pd.DataFrame,
    *,
    table_id: str,
    title: str,
    columns: dict[str, str],
    value_label: str,
    stub_label: str = "",
    n_label: str | None = None,
    denominator_label: str | None = None,
    label: str | None = None,
    value_labels: dict[str, str] | None = None,
) -> GT:
    """One great-tables table from tidy cells.

    ``columns`` maps each cell ``column`` to its spanner label (no spanner when
    there is one column and its label is empty). Numbers are formatted with
    ``fmt_integer`` / ``fmt_number`` and joined with ``cols_merge``; negatives get
    great-tables' HTML minus sign (U+2212). ``label`` ("Table 2") leads the title
    in bold: the table's caption in both formats. ``value_labels`` (column -> label) heads
    a column's values with its own label instead of ``value_label``.
    """
    keys = list(columns)
    wide = _display_frame(cells, keys)
    grouped = (wide["row_group"] != "").any()
    gt = GT(wide, rowname_col="row_label", groupname_col="row_group" if grouped else None, id=table_id)
    if not grouped:
        gt = gt.cols_hide("row_group")
    gt = gt.tab_header(title=caption_title(title, label)).tab_stubhead(label=stub_label)
    gt = report_style(gt, table_id, indent_stub=bool(grouped))

    first = cells.drop_duplicates(["row_group", "row_label", "column"]).copy()
    row_of = _row_index(cells)
    first["row"] = [row_of[(g, r)] for g, r in zip(first["row_group"], first["row_label"])]
    labels: dict[str, str] = {}
    for c in keys:
        v = [f"{c}__v{k}" for k in range(3)]
        here = first[first["column"] == c]
        unbounded: list[int] = []
        for (statistic, decimals), block in here.groupby(["statistic", "decimals"], sort=True):
            rows = sorted(block["row"].tolist())
            n_parts = len(_PARTS[statistic])
            if statistic == "n_pct":
                gt = gt.fmt_integer(v[0], rows=rows, use_seps=False)
                gt = gt.fmt_number(
                    v[1], rows=rows, decimals=int(decimals), drop_trailing_zeros=True, use_seps=False
                )
            else:
                gt = gt.fmt_number(v[:n_parts], rows=rows, decimals=int(decimals), use_seps=False)
            for k, name in enumerate(_PARTS[statistic]):
                infinite = block.loc[np.isinf(block[name].astype(float)), "row"].tolist()
                if infinite:  # e.g. an NNT interval reaching no benefit
                    gt = gt.sub_missing(v[k], rows=sorted(infinite), missing_text="\u221e")
                    if k == 0:
                        unbounded += infinite
            if n_parts > 1:
                gt = gt.cols_merge(v[:n_parts], rows=rows, pattern=_PATTERNS[n_parts])
        gt = gt.cols_hide(v[1:])
        shown = [v[0]]
        labels[v[0]] = escape.gt((value_labels or {}).get(c, value_label))
        for name, label in ((f"{c}__n", n_label), (f"{c}__N", denominator_label)):
            if label is None:
                gt = gt.cols_hide(name)
            else:
                gt = gt.fmt_integer(name, use_seps=False)
                shown.append(name)
                labels[name] = escape.gt(label)
        bounded = [r for r in range(len(wide)) if r not in unbounded]
        gt = gt.sub_missing(v[0], rows=bounded, missing_text="")
        gt = gt.sub_missing([f"{c}__n", f"{c}__N"], missing_text="")
        if columns[c] or len(keys) > 1:
            gt = gt.tab_spanner(label=escape.gt(columns[c]), columns=shown, id=c)
    return gt.cols_label(**labels)


def frame_gt(
    df: pd.DataFrame, *, title: str = "", label: str | None = None, table_id: str | None = None
) -> Table:
    """A data frame shown as it is (columns as labelled, text as given), in the report's style.

    The id is ``table_id``, else made from ``label`` ("Table A1" -> ``table-a1``), else
    from the content, so that two builds give the same HTML.
    """
    if table_id is None:
        table_id = (
            re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
            if label
            else "table-" + hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()[:10]
        )
    gt = from_frame(df, table_id=table_id)
    if title or label:
        gt = gt.tab_header(title, label=label or "")
    return report_style(gt, table_id).sub_missing(missing_text="")


# the font stack great-tables names for a table (``#id table { font-family: … }``)
_TABLE_FONT = re.compile(r"(#[\w-]+ table \{\s*)font-family:[^;]*;\s*")
# the cells that span the table: its title and subtitle, source notes and footnotes
_SPANNING_CELL = re.compile(
    r'(<td\b[^>]*\bclass="[^"]*\b(?:gt_title|gt_subtitle|gt_sourcenote|gt_footnote)\b[^"]*"[^>]*>)'
    r"(.*?)(</td>)",
    re.DOTALL,
)
WRAP_CLASS = "report-wraps"


def html_fragment(gt: Table | GT) -> str:
    """The table as a self-contained HTML fragment (inline CSS, no external resources),
    in the page's font (great-tables' web font stack is left out). The content of the
    cells that span the table sits in a box of no width of its own (``WRAP_CLASS``),
    so that a long caption or note wraps instead of widening the table."""
    if isinstance(gt, Table):
        gt = gt.to_gt()
    html = _TABLE_FONT.sub(r"\1", gt.as_raw_html(inline_css=False, make_page=False), count=1)
    return _SPANNING_CELL.sub(rf'\1<div class="{WRAP_CLASS}">\2</div>\3', html)


def write_table(
    cells: pd.DataFrame,
    gt: Table,
    html_path: str | os.PathLike,
    csv_path: str | os.PathLike,
    *,
    small_cell_threshold: int | None = None,
) -> None:
    """Write the table as an HTML fragment, its Typst (beside it, ``.typ``: the PDF's,
    :func:`write_typst`) and its tidy cells as CSV.

    With ``small_cell_threshold`` k, counts of 1 to k−1 are suppressed in all three
    (:func:`suppress_small_cells`) and the table gets a footnote saying so.
    """
    shown = _suppress_in_gt(gt, cells, small_cell_threshold)
    write_text(html_path, html_fragment(shown))
    write_typst(shown, html_path)
    write_csv(csv_path, suppress_small_cells(cells, small_cell_threshold)[CELL_COLUMNS])


def typst_path(html_path: str | os.PathLike) -> Path:
    """Where a table's Typst is written: beside its HTML, ``<id>.typ``."""
    return Path(html_path).with_suffix(".typ")


def write_typst(table: Table, html_path: str | os.PathLike) -> None:
    """The table typeset in Typst for the PDF (``feasibility.typeset``), beside its HTML."""
    from feasibility.typeset import table_to_typst

    write_text(typst_path(html_path), table_to_typst(table.layout()) + "\n")
