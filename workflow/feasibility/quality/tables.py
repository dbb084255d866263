"""The quality report's tables: one table model each (``tables.model``: its HTML is
great-tables', its Typst the PDF's), and its tidy CSV.

Counts of records and cells come as tidy cells (``tables.common.CELL_COLUMNS``) built into a
table by ``tables.common.build_gt``, then given their spanners, footnotes and source note;
the validation results, missing-data codes and codebook are text tables, one each from a
tidy frame. Every table is captioned by a :class:`Caption` ("Table 3" + title) that
the caller passes, so that the report numbers its tables in one place
(:func:`feasibility.quality.report.captions`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pandas as pd
from great_tables import loc, style

from feasibility import escape as text_escape
from feasibility.io import write_csv, write_text
from feasibility.tables.common import build_gt, html_fragment, write_table, write_typst
from feasibility.tables.model import Table, from_frame

from .codebook import CODEBOOK_TABLE, codebook_frame
from .counts import (
    COMPLETION_TABLE,
    RECORDS_TABLE,
    STATUS_COLUMNS,
    TOTAL,
    completion_cells,
    completion_status,
    records_cells,
)
from .data import QualityData, counted
from .missingness import (
    CODES_TABLE,
    MISSINGNESS_TABLE,
    FieldMissingness,
    field_missingness,
    missing_codes_used,
    missingness_cells,
    missingness_frame,
)
from .settings import QualitySettings
from .validation import SEVERITY_LABELS, VALIDATION_TABLE, validation_summary

from feasibility.tables.common import report_style as _report_style


@dataclass(frozen=True)
class Caption:
    """A table's or figure's number and title: ``Table 3`` + ``Missing data by field``."""

    label: str
    title: str

    @property
    def text(self) -> str:
        return f"{self.label} {self.title}"

    def markdown(self) -> str:
        return f"**{text_escape.markdown(self.label)}** {text_escape.markdown(self.title)}"


@dataclass
class QualityTable:
    """One table: its id, tidy frame (written as CSV) and model; ``cells`` tells whether the
    frame is tidy cells (``CELL_COLUMNS``, small-cell rule applies) or a text table."""

    table_id: str
    caption: Caption
    frame: pd.DataFrame
    gt: Table
    cells: bool = True

    def write(
        self,
        html_path: str | os.PathLike,
        csv_path: str | os.PathLike,
        *,
        small_cell_threshold: int | None = None,
    ) -> None:
        """The HTML fragment and the tidy CSV (atomic writes)."""
        if self.cells:
            write_table(self.frame, self.gt, html_path, csv_path, small_cell_threshold=small_cell_threshold)
        else:
            write_text(html_path, html_fragment(self.gt))
            write_typst(self.gt, html_path)
            write_csv(csv_path, self.frame)


def _source_note(data: QualityData) -> str:
    export = data.export
    parts = ["Source: the validated REDCap export"]
    if export.get("export"):
        parts[0] += f" {export['export']}"
    if export.get("export_date"):
        parts[0] += f" (exported {export['export_date']})"
    elif export.get("export"):
        parts[0] += " (export date unknown)"
    note = parts[0] + ". Counts only: no record ID or identifier is shown."
    return f"{synthetic_note(data)} Made from the{note[len('Source: the') :]}" if data.synthetic else note


def synthetic_note(data: QualityData) -> str:
    """The provenance's statement that the data are synthetic or dummy, not the study's."""
    from feasibility.provenance import source_note

    return source_note(data.provenance, "").strip()


def _html_id(table_id: str) -> str:
    return table_id.replace("_", "-")


def _aligned(gt: Table, left: list[str], right: list[str] = ()) -> Table:
    """Text columns left, numbers right, in the HTML and in the PDF (pandoc's HTML reader
    follows the cells' style, not great-tables' classes); title and notes left."""
    gt = gt.cols_align("left", left)
    if right:
        gt = gt.cols_align("right", list(right))
    for cols, side in ((left, "left"), (list(right), "right")):
        if cols:
            gt = gt.tab_style(
                style.text(align=side), [loc.body(columns=cols), loc.column_labels(columns=cols)]
            )
    gt = gt.tab_options(heading_align="left")
    return gt.tab_style(style.text(align="left"), [loc.title(), loc.source_notes(), loc.footnotes()])


def _thousands(gt: Table, cells: pd.DataFrame) -> Table:
    """Counts with thousands separators (build_gt prints numbers as the paper does, without)."""
    return gt.fmt_integer([f"{k}__v0" for k in dict.fromkeys(cells["column"])])


MIN_TABLE_WIDTH = "32em"  # in the HTML: a table of two or three columns keeps its notes readable


def _left_stub(gt: Table, table_id: str) -> Table:
    """Stub and row groups left-aligned; footnote marks as symbols (*, †, ‡), never digits
    that could be read as part of a count; in the HTML, no table narrower than
    :data:`MIN_TABLE_WIDTH` (its caption and notes would wrap a word a line)."""
    gt = gt.opt_css(f"#{table_id} .gt_table {{ min-width: {MIN_TABLE_WIDTH}; }}")
    gt = gt.tab_style(style.text(align="left"), loc.stub()).tab_style(
        style.text(align="left"), loc.row_groups()
    )
    gt = gt.tab_options(heading_align="left").tab_style(style.text(align="left"), loc.title())
    return gt.opt_footnote_marks("standard")


# ------------------------------------------------------------------------------ records
def records_table(data: QualityData, caption: Caption) -> QualityTable:
    """Records with data, by arm and event (rows) and data access group (columns)."""
    cells = records_cells(data)
    columns = {g: g for g in data.dags} | {TOTAL: TOTAL if data.has_dags else ""}
    gt = build_gt(
        cells,
        table_id=_html_id(RECORDS_TABLE),
        title=caption.title,
        label=caption.label,
        columns=columns,
        value_label="n",
        stub_label="Event" if data.longitudinal else "",
    )
    gt = _thousands(gt, cells)
    if data.has_dags:
        gt = gt.tab_spanner(label="Data access group", spanners=list(data.dags), id="dags")
    gt = gt.tab_source_note(
        "A record has data at an event when any of its forms there has a value or a status of Unverified or "
        "Complete"
        + (". Any event: records with data at one event of the arm or more." if data.longitudinal else ".")
    )
    gt = gt.tab_source_note(_source_note(data))
    return QualityTable(RECORDS_TABLE, caption, cells, _left_stub(gt, _html_id(RECORDS_TABLE)))


# ------------------------------------------------------------------------------ completion
def completion_table(
    data: QualityData, caption: Caption, status: pd.DataFrame | None = None, figure_label: str | None = None
) -> QualityTable:
    """Form completion status by event: records with each status among the records with
    data at the event; a repeating form's record counted by its least complete instance."""
    status = completion_status(data) if status is None else status
    cells = completion_cells(data, status)
    keys = list(dict.fromkeys(cells["column"]))
    columns = {k: STATUS_COLUMNS.get(k, {"not_expected": "Not expected"}.get(k, "Instances")) for k in keys}
    gt = build_gt(
        cells,
        table_id=_html_id(COMPLETION_TABLE),
        title=caption.title,
        label=caption.label,
        columns=columns,
        value_label="n (%)",
        stub_label="Form",
    )
    gt = _thousands(gt, cells)
    if "instances" in keys:
        gt = gt.cols_label(instances__v0="n")
    if "not_expected" in keys:
        gt = gt.cols_label(not_expected__v0="n")
    if data.longitudinal:
        notes = [
            "Percentages of the records expected to complete the form at the event: the records with data "
            "at the event (in brackets: a value or a status of Unverified or Complete in any form there)"
            + (", less those not expected." if "not_expected" in keys else ".")
        ]
    else:
        n = int(status["with_data"].max()) if len(status) else 0
        notes = [
            f"Percentages of the {counted(n, 'record')}"
            + (" expected to complete the form." if "not_expected" in keys else ".")
        ]
    notes.append(_expected_note(data, status))
    notes.append(
        "No data: no row of the form for a record that is expected to complete it (a form saved as "
        "Incomplete with every field blank is no data, as in REDCap's record status dashboard)."
    )
    if status["repeating"].any():
        notes.append(
            "A repeating form counts each record once, by its least complete instance; Instances "
            "counts its rows."
        )
    notes.append(
        "Forms not designated for an event are not listed"
        + (f" ({figure_label} shows them hatched)." if figure_label else ".")
    )
    for note in notes:
        gt = gt.tab_source_note(note)
    gt = gt.tab_source_note(_source_note(data))
    return QualityTable(COMPLETION_TABLE, caption, cells, _left_stub(gt, _html_id(COMPLETION_TABLE)))


def _expected_note(data: QualityData, status: pd.DataFrame) -> str:
    """What "expected" means for the completion tables and figures (issue 24.4)."""
    from .counts import conditional_forms

    forms = conditional_forms(data)
    if not forms:
        return (
            "Expected: every record with data at an event for which the form is designated (no form is "
            "conditional: none has branching logic on every field)."
        )
    shown = status[status["designated"].astype(bool)]
    left = shown.groupby("form")["not_expected"].sum()
    names = [f"{data.form_label(f)} ({int(left.get(f, 0)):,} not expected)" for f in forms]
    return (
        "Expected: a record with data at an event for which the form is designated. A conditional form "
        "(every field with branching logic) is expected only where at least one of its fields is shown on "
        "the record's data at the event, or where the record has a row of it: " + "; ".join(names) + "."
    )


def completion_site_table(
    data: QualityData, caption: Caption, by_site: pd.DataFrame | None = None, figure_label: str | None = None
) -> QualityTable:
    """Forms Complete by site and event: n (%) of each site's records with data at the event."""
    from .counts import COMPLETION_SITE_TABLE, completion_by_site, completion_site_cells

    by_site = completion_by_site(data) if by_site is None else by_site
    cells = completion_site_cells(data, by_site)
    sites = list(dict.fromkeys(by_site["site"]))
    gt = build_gt(
        cells,
        table_id=_html_id(COMPLETION_SITE_TABLE),
        title=caption.title,
        label=caption.label,
        columns={s: s for s in sites},
        value_label="n (%)",
        stub_label="Form",
    )
    gt = _thousands(gt, cells)
    if data.has_dags:
        gt = gt.tab_spanner(label="Data access group", spanners=sites, id="sites")
    gt = gt.tab_source_note(
        "Records whose form is Complete, n (%) of the site's records expected to complete it at the event (records "
        "with a value or a status of Unverified or Complete in any form there, less those for whom a conditional "
        "form is not expected); forms not designated for an event are not listed"
        + (f"; {figure_label} draws the same shares." if figure_label else ".")
    )
    gt = gt.tab_source_note(_expected_note(data, by_site))
    if not data.has_dags:
        gt = gt.tab_source_note("The project has no data access groups: one column, every record.")
    gt = gt.tab_source_note(_source_note(data))
    return QualityTable(
        COMPLETION_SITE_TABLE, caption, cells, _left_stub(gt, _html_id(COMPLETION_SITE_TABLE))
    )


# ------------------------------------------------------------------------------ missingness
def missingness_event_table(
    data: QualityData, caption: Caption, settings: QualitySettings | None = None
) -> QualityTable:
    """Blank cells per field (grouped by instrument) and event, n (%) of the form's rows there."""
    from .missingness import MISSINGNESS_EVENT_TABLE, missingness_by_event, missingness_event_cells

    settings = settings or QualitySettings()
    by_event = missingness_by_event(data, branching=settings.missingness.branching)
    cells = missingness_event_cells(data, by_event)
    table_id = _html_id(MISSINGNESS_EVENT_TABLE)
    if not len(cells):
        frame = pd.DataFrame({"": ["No field is blank at any event."]})
        gt = (
            from_frame(frame, table_id=table_id)
            .tab_header(caption.title, label=caption.label)
            .tab_source_note(_source_note(data))
        )
        return QualityTable(MISSINGNESS_EVENT_TABLE, caption, cells, _report_style(gt, table_id))
    labels = [data.event_label(e["unique_name"]) for e in data.events] if data.longitudinal else ["Blank"]
    present = set(cells["column"])
    columns = {lab: lab for lab in dict.fromkeys(labels) if lab in present}
    gt = build_gt(
        cells,
        table_id=table_id,
        title=caption.title,
        label=caption.label,
        columns=columns,
        value_label="n (%)",
        stub_label="Field",
    )
    gt = _thousands(gt, cells)
    if data.longitudinal:
        gt = gt.tab_spanner(
            label="Blank at the event, n (%) of the form's rows there", spanners=list(columns), id="events"
        )
    n_fields = by_event["field"].nunique()
    shown = cells["row_label"].nunique()
    gt = gt.tab_source_note(
        "Blank: no value, no missing-data code, and not hidden by the field's branching logic, counted over the "
        "form's rows at each event (an empty cell: the form has no row there). "
        f"{counted(shown, 'field')} blank somewhere of {counted(n_fields, 'field')} counted; the others are not "
        "listed."
    )
    gt = gt.tab_source_note(_source_note(data))
    return QualityTable(MISSINGNESS_EVENT_TABLE, caption, cells, _left_stub(gt, table_id))


def missingness_table(
    data: QualityData,
    caption: Caption,
    settings: QualitySettings | None = None,
    items: list[FieldMissingness] | None = None,
) -> QualityTable:
    """Per field (grouped by form): its form's rows, and the cells answered, with each
    missing-data code, hidden by branching logic and blank, as n (%) of the rows."""
    settings = settings or QualitySettings()
    m = settings.missingness
    items = field_missingness(data, branching=m.branching) if items is None else items
    only = m.fields == "incomplete"
    cells = missingness_cells(data, items, only_incomplete=only)
    codes = [c for c in (items[0].codes if items else {})]
    columns = {
        "rows": "Rows",
        "answered": "Answered",
        **{f"code:{c}": c for c in codes},
        "hidden": "Hidden",
        "blank": "Blank",
    }
    if not len(cells):
        frame = pd.DataFrame({"": ["No field has a blank or a missing-data code."]})
        gt = from_frame(frame, table_id=_html_id(MISSINGNESS_TABLE)).tab_header(
            caption.title, label=caption.label
        )
        gt = gt.tab_source_note(_source_note(data))
        return QualityTable(MISSINGNESS_TABLE, caption, cells, _report_style(gt, _html_id(MISSINGNESS_TABLE)))
    gt = build_gt(
        cells,
        table_id=_html_id(MISSINGNESS_TABLE),
        title=caption.title,
        label=caption.label,
        columns=columns,
        value_label="n (%)",
        stub_label="Field",
    )
    gt = _thousands(gt, cells).cols_label(rows__v0="n")
    if codes:
        gt = gt.tab_spanner(label="Missing-data code", spanners=[f"code:{c}" for c in codes], id="codes")
    shown = [i for i in items if not only or i.blank or any(i.codes.values())]
    flagged = [k for k, i in enumerate(shown) if i.rows and 100.0 * i.blank / i.rows >= m.flag_percent]
    if flagged:
        gt = gt.tab_footnote(
            f"Blank in {m.flag_percent:g}% of the form's rows or more (quality.missingness.flag_percent).",
            locations=loc.body(columns="blank__v0", rows=flagged),
        )
    not_evaluated = [k for k, i in enumerate(shown) if i.logic.startswith("not evaluated")]
    if not_evaluated:
        gt = gt.tab_footnote(
            "Branching logic not evaluated (see the validation notes): its blanks count as blank.",
            locations=loc.stub(rows=not_evaluated),
        )
    labels = {c: lab for c, lab in data.missing_data_codes}
    notes = [
        "Rows: the form's rows (one per record, event and repeat instance with data). Answered: a value "
        "(a checkbox: a box ticked). Hidden: blank where the field's branching logic hides it. "
        "Blank: no value, no code, not hidden (a checkbox with no box ticked is blank)."
    ]
    if codes:
        notes.append(
            "Missing-data codes: "
            + "; ".join(f"{c} {labels.get(c, '(not defined by the project)')}" for c in codes)
            + "."
        )
    if data.identifiers_dropped:
        n = len(data.identifiers_dropped)
        notes.append(
            f"{n} identifier field{'s are' if n != 1 else ' is'} not counted: identifiers are dropped "
            "right after validation."
        )
    if only and len(shown) < len(items):
        notes.append(
            f"{len(items) - len(shown)} fields with neither a blank nor a code are not listed "
            "(quality.missingness.fields: incomplete)."
        )
    for note in notes:
        gt = gt.tab_source_note(note)
    gt = gt.tab_source_note(_source_note(data))
    return QualityTable(MISSINGNESS_TABLE, caption, cells, _left_stub(gt, _html_id(MISSINGNESS_TABLE)))


def missing_codes_table(data: QualityData, caption: Caption) -> QualityTable:
    """Each missing-data code: its label, and the cells, fields and forms it was entered in."""
    frame = missing_codes_used(data)
    shown = (
        frame
        if len(frame)
        else pd.DataFrame(
            [
                {
                    "code": "",
                    "label": "The project defines no missing-data codes and none was entered",
                    "cells": pd.NA,
                    "fields": pd.NA,
                    "forms": "",
                }
            ]
        )
    )
    gt = from_frame(shown, table_id=_html_id(CODES_TABLE)).tab_header(caption.title, label=caption.label)
    gt = gt.cols_label(code="Code", label="Label", cells="Cells", fields="Fields", forms="Forms")
    gt = _aligned(gt.fmt_integer(["cells", "fields"]), ["code", "label", "forms"], ["cells", "fields"])
    gt = gt.sub_missing(missing_text="")
    gt = gt.tab_source_note(
        "A cell with a missing-data code is counted here, never as a value or as bad data."
    )
    gt = _report_style(
        _left_stub(gt.tab_source_note(_source_note(data)), _html_id(CODES_TABLE)), _html_id(CODES_TABLE)
    )
    return QualityTable(CODES_TABLE, caption, frame, gt, cells=False)


# ------------------------------------------------------------------------------ validation
def validation_table(
    data: QualityData,
    caption: Caption,
    settings: QualitySettings | None = None,
    summary: pd.DataFrame | None = None,
) -> QualityTable:
    """The validation failures grouped by severity, field and rule, with counts and examples."""
    settings = settings or QualitySettings()
    if summary is None:
        summary = validation_summary(data.validation, data, examples=settings.validation.examples)
    shown = summary.copy()
    counts = shown.groupby("severity")["cells"].sum()
    shown["group"] = shown["severity"].map(
        lambda s: f"{SEVERITY_LABELS.get(s, s.title())} ({counted(counts[s], 'cell')})"
    )
    if not len(shown):
        empty = (
            "No errors and no warnings" if data.validation is not None else "No validation report was given"
        )
        shown = pd.DataFrame([{"group": "", "field": "", "rule": empty, "cells": pd.NA, "examples": ""}])
    display = shown[["group", "field", "rule", "cells", "examples"]].reset_index(drop=True)
    grouped = bool(len(summary))
    if grouped:
        display["field"] = display["field"].replace("", "(file)")
    table_id = _html_id(VALIDATION_TABLE)
    gt = from_frame(
        display, rowname_col="field", groupname_col="group" if grouped else None, table_id=table_id
    )
    if not grouped:
        gt = gt.cols_hide("group")
    gt = gt.tab_header(caption.title, label=caption.label).tab_stubhead("Field")
    gt = gt.cols_label(
        rule="Rule", cells="Cells", examples="First examples (export line, event, instance: value)"
    )
    gt = gt.fmt_lines("examples", _lines_html)
    gt = _aligned(
        gt.fmt_integer("cells").sub_missing("cells", missing_text=""), ["rule", "examples"], ["cells"]
    )
    gt = gt.cols_width(
        fit_widths(
            display,
            {
                "field": "Field",
                "rule": "Rule",
                "cells": "Cells",
                "examples": "First examples (export line, event, instance: value)",
            },
        )
    )
    v = data.validation or {}
    if v:
        gt = gt.tab_source_note(
            f"Validation {'passed' if v.get('ok') else 'failed'}: {counted(v.get('errors'), 'error')} and "
            f"{counted(v.get('warnings'), 'warning')} in {counted(v.get('rows'), 'row')} of the export. Cells: failing "
            "cells, including those counted but not listed in the validation report."
        )
    gt = gt.tab_source_note(
        "Examples never show the record; values of identifier fields, free text and the "
        "record ID are withheld, and dates are shown by their shape (9999-99-99)."
    )
    if data.synthetic:
        gt = gt.tab_source_note(synthetic_note(data))
    gt = _report_style(_left_stub(gt, table_id), table_id)
    return QualityTable(VALIDATION_TABLE, caption, summary, gt, cells=False)


# ------------------------------------------------------------------------------ codebook
def _attributes(row) -> str:
    """A field's attributes as REDCap's codebook lists them, one per line: type and
    validation, values (choices, range, calculation), branching logic, required, identifier."""
    lines = [row.type + (f", {row.validation}" if row.validation else "")]
    if row.values:
        lines.append(row.values)
    if row.branching:
        lines.append(f"Shown if {row.branching}")
    if row.flags:
        lines.append(row.flags[0].upper() + row.flags[1:])
    return "\n".join(lines)


def _lines_html(text: str) -> str:
    """Plain text with its line breaks kept (HTML escaped: a label may hold < or &)."""
    return "<br>".join(text_escape.html(line) for line in str(text).split("\n"))


def codebook_table(
    data: QualityData, caption: Caption, settings: QualitySettings | None = None
) -> QualityTable:
    """Every instrument and field, laid out as REDCap's own codebook: the field, its label,
    and its attributes (type and validation; choices, range or calculation; branching logic;
    required, identifier). The CSV keeps each attribute in its own column."""
    settings = settings or QualitySettings()
    frame = codebook_frame(
        data, descriptive=settings.codebook.descriptive, max_choices=settings.codebook.max_choices
    )
    display = pd.DataFrame(
        {
            "group": [f"{label} ({name})" for label, name in zip(frame["form_label"], frame["form"])],
            "field": frame["field"],
            "label": frame["label"],
            "attributes": [_attributes(r) for r in frame.itertuples(index=False)],
        }
    )
    table_id = _html_id(CODEBOOK_TABLE)
    gt = from_frame(display, rowname_col="field", groupname_col="group", table_id=table_id)
    gt = gt.tab_header(caption.title, label=caption.label).tab_stubhead("Field")
    gt = gt.cols_label(label="Label", attributes="Attributes")
    gt = gt.fmt_lines("attributes", _lines_html)
    gt = _aligned(gt, ["label", "attributes"])
    gt = gt.cols_width(fit_widths(display, {"field": "Field", "label": "Label", "attributes": "Attributes"}))
    n_forms, n_fields = frame["form"].nunique(), len(frame)
    gt = gt.tab_source_note(
        f"{counted(n_forms, 'instrument')} and {counted(n_fields, 'field')}, from the project's data dictionary "
        "(or project XML). Attributes: the field type and validation; its choices (code and label), validation "
        "range or calculation; its branching logic; whether it is required or an identifier (identifiers are "
        "dropped from the validated data right after validation)."
    )
    if data.synthetic:
        gt = gt.tab_source_note(synthetic_note(data))
    gt = _report_style(_left_stub(gt, table_id), table_id)
    return QualityTable(CODEBOOK_TABLE, caption, frame, gt, cells=False)


TEXT_WIDTH_CHARS = 104  # characters of 8.5 pt table text across the printed text width (14.6-16 cm)
CELL_PADDING_CHARS = 3
# where a line of text may break: spaces, and after a slash or a hyphen (Unicode line breaking)
_BREAKS = re.compile(r"\s+|(?<=[/\-–])")


def _longest_word(text: str) -> int:
    return max((len(w) for line in text.split("\n") for w in _BREAKS.split(line)), default=0)


def fit_widths(frame: pd.DataFrame, labels: dict[str, str]) -> dict[str, str]:
    """Column widths (percentages of the text width) fitted to the content, as a browser's
    automatic table layout does: every column at least as wide as its longest word (REDCap
    names such as ``number_2dp_comma_decimal`` cannot wrap), the rest of the width shared in
    proportion to how much more each column's longest line would take."""
    least, most = {}, {}
    for column, label in labels.items():
        cells = [str(v) for v in frame[column].fillna("")] + [label]
        least[column] = max(_longest_word(c) for c in cells) + CELL_PADDING_CHARS
        most[column] = max(len(line) for c in cells for line in c.split("\n")) + CELL_PADDING_CHARS
    width = max(TEXT_WIDTH_CHARS, sum(least.values()))
    if sum(most.values()) <= width:
        share = {c: most[c] * width / sum(most.values()) for c in labels}
    else:
        spare, want = width - sum(least.values()), sum(most[c] - least[c] for c in labels) or 1
        share = {c: least[c] + spare * (most[c] - least[c]) / want for c in labels}
    return {c: f"{100 * share[c] / width:.1f}%" for c in labels}


__all__ = [
    "Caption",
    "QualityTable",
    "records_table",
    "completion_table",
    "missingness_table",
    "completion_site_table",
    "missingness_event_table",
    "missing_codes_table",
    "validation_table",
    "codebook_table",
    "missingness_frame",
]
