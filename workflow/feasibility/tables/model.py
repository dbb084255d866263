"""The one model of a table, read by both renderers.

A table is its content - tidy cells (``tables.common.CELL_COLUMNS``) or a text frame -
and a small layout: its caption (number and title), its columns (label, alignment) and
the spanners over them, its rows (stub label and row group) with each column's printed
text, its notes (footnotes with the places their marks go, and source notes) and the
marks they use. :class:`Table` holds both and is written as the code states it, in
great-tables' words (``tab_spanner``, ``tab_footnote``, ``tab_source_note``,
``cols_label``, ...): each statement changes the model and is kept, so that

* the HTML renderer (:meth:`Table.to_gt`) is great-tables, given the same statements in
  the same order (the HTML is great-tables' own, with the report's style: ``report_style``
  in ``tables.common``), and
* the Typst renderer (:func:`feasibility.typeset.table_to_typst` of :meth:`Table.layout`)
  reads the model: the structure (row groups, spanners, notes and where their marks go) is
  never guessed back from the HTML.

Statements that only style the HTML (``tab_style``, ``tab_options``, ``opt_css``,
``cols_width``) are kept for it; the PDF's style is the report's Typst style
(``feasibility.typeset``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

STANDARD_MARKS = {"standard": ["*", "†", "‡", "§"], "extended": ["*", "†", "‡", "§", "‖", "¶"]}


@dataclass
class ModelColumn:
    key: str
    label: str = ""
    align: str = "left"  # left, right, center


@dataclass
class Spanner:
    id: str
    label: str
    columns: list[str]  # the columns it spans (their keys)
    level: int = 1


@dataclass
class Row:
    group: str
    label: str  # the stub's text ("" when the table has no stub)
    values: dict[str, str]  # column key -> printed text (lines split by "\n")


@dataclass
class Place:
    """Where a footnote's mark goes: ``part`` is title, spanner, column, stub, body or
    group; ``key`` the spanner id, column key or group name; ``row`` the data row."""

    part: str
    key: str | None = None
    row: int | None = None


@dataclass
class Note:
    text: str
    places: list[Place] = field(default_factory=list)  # none: a note without a mark


def _lines(text: Any) -> str:
    return "" if text is None else str(text)


def label_text(label: Any) -> str:
    """A label as plain text: great-tables' ``html`` / ``md`` objects give their text."""
    text = getattr(label, "text", label)
    return _lines(text)


def caption_title(title: str, label: str | None = None) -> str | object:
    """A table's title, led by its number in bold ("**Table 2** Baseline …") when it has one."""
    from great_tables import html

    from feasibility import escape

    if not label:
        return escape.gt(title)
    return html(f"<strong>{escape.html(label)}</strong> {escape.html(title)}")


class Table:
    """A table's model (see the module's docstring), built by great-tables' statements."""

    def __init__(self, table_id: str, start: Callable[[], Any]):
        self.id = table_id
        self.label: str | None = None
        self.title = ""
        self.stub_label = ""
        self.stub = False
        self.columns: list[ModelColumn] = []
        self.spanners: list[Spanner] = []
        self.rows: list[Row] = []
        self.grouped = False
        self.notes: list[Note] = []
        self.source_notes: list[str] = []
        self.marks: str | list[str] = "numbers"
        self._html: list[Callable[[Any], Any]] = []
        self._start = start

    # -- the HTML renderer ---------------------------------------------------------
    def to_gt(self):
        """The great-tables table: every statement, in order."""
        gt = self._start()
        for statement in self._html:
            gt = statement(gt)
        return gt

    def as_raw_html(self, *args, **kwargs) -> str:
        return self.to_gt().as_raw_html(*args, **kwargs)

    def _keep(self, name: str, *args, **kwargs) -> "Table":
        self._html.append(lambda gt: getattr(gt, name)(*args, **kwargs))
        return self

    def html_only(self, name: str, *args, **kwargs) -> "Table":
        """A statement that styles the HTML only (``tab_style``, ``opt_css`` ...)."""
        return self._keep(name, *args, **kwargs)

    tab_style = lambda self, *a, **k: self.html_only("tab_style", *a, **k)  # noqa: E731
    tab_options = lambda self, *a, **k: self.html_only("tab_options", *a, **k)  # noqa: E731
    opt_css = lambda self, *a, **k: self.html_only("opt_css", *a, **k)  # noqa: E731
    cols_width = lambda self, *a, **k: self.html_only("cols_width", *a, **k)  # noqa: E731
    # the model's missing values are empty already
    sub_missing = lambda self, *a, **k: self.html_only("sub_missing", *a, **k)  # noqa: E731

    # -- the model's statements ----------------------------------------------------
    def column(self, key: str) -> ModelColumn:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def _keys(self, columns) -> list[str]:
        if columns is None:
            return [c.key for c in self.columns]
        return [columns] if isinstance(columns, str) else list(columns)

    def tab_header(self, title, label: str | None = None) -> "Table":
        """The caption: ``title`` as great-tables shows it (``caption_title``); the model
        keeps ``label`` and the title's text."""
        self.label = label
        self.title = label_text(title) if label is None else _lines(title)
        return self._keep(
            "tab_header", title=caption_title(self.title, label) if label is not None else title
        )

    def tab_stubhead(self, label) -> "Table":
        self.stub_label = label_text(label)
        return self._keep("tab_stubhead", label=label)

    def cols_label(self, **labels) -> "Table":
        for key, label in labels.items():
            self.column(key).label = label_text(label)
        return self._keep("cols_label", **labels)

    def cols_align(self, align: str, columns=None) -> "Table":
        for key in self._keys(columns):
            self.column(key).align = align
        return self._keep("cols_align", align, columns)

    def cols_hide(self, columns) -> "Table":
        hidden = set(self._keys(columns))
        self.columns = [c for c in self.columns if c.key not in hidden]
        return self._keep("cols_hide", columns)

    def tab_spanner(
        self, label, columns=None, spanners=None, id: str | None = None, level: int | None = None
    ) -> "Table":
        keys: list[str] = []
        if columns is not None:
            keys += self._keys(columns)
        below = [s for s in self.spanners if s.id in (spanners or [])]
        for s in below:
            keys += [k for k in s.columns if k not in keys]
        depth = level or (max([s.level for s in below], default=0) + 1)
        self.spanners.append(Spanner(id or label_text(label), label_text(label), keys, depth))
        return self._keep(
            "tab_spanner",
            label=label,
            columns=columns,
            spanners=spanners,
            id=id,
            **({"level": level} if level is not None else {}),
        )

    def tab_source_note(self, text) -> "Table":
        self.source_notes.append(label_text(text))
        return self._keep("tab_source_note", text)

    def tab_footnote(self, text, locations=None) -> "Table":
        self.notes.append(Note(label_text(text), self._places(locations)))
        return (
            self._keep("tab_footnote", text, locations=locations)
            if locations is not None
            else self._keep("tab_footnote", text)
        )

    def opt_footnote_marks(self, marks="numbers") -> "Table":
        self.marks = marks
        return self._keep("opt_footnote_marks", marks=marks)

    def fmt_integer(self, columns, rows: list[int] | None = None) -> "Table":
        """Counts with thousands separators (the count of an ``n (%)`` cell too)."""
        for key in self._keys(columns):
            for i, row in enumerate(self.rows):
                if (rows is None or i in rows) and row.values.get(key):
                    row.values[key] = _integer(row.values[key])
        return self._keep("fmt_integer", columns, **({"rows": rows} if rows is not None else {}))

    def fmt_lines(self, columns, fns) -> "Table":
        """Text whose line breaks are kept (``fns`` makes each value's HTML)."""
        return self._keep("fmt", columns=columns, fns=fns)

    def sub_body(self, key: str, rows: list[int], text: str, html: Callable) -> "Table":
        """The body cells of ``key`` in ``rows`` shown as ``text`` (HTML: ``html``)."""
        for i in rows:
            self.rows[i].values[key] = text
        return self._keep("text_transform", _body(key, rows), html)

    def _places(self, locations) -> list[Place]:
        from great_tables import loc

        spanner_labels, column_labels, stub, body, row_groups, title = (
            loc.spanner_labels,
            loc.column_labels,
            loc.stub,
            loc.body,
            loc.row_groups,
            loc.title,
        )
        if locations is None:
            return []
        out = []
        for where in locations if isinstance(locations, list) else [locations]:
            if isinstance(where, spanner_labels):
                out += [Place("spanner", i) for i in self._keys(where.ids)]
            elif isinstance(where, column_labels):
                out += [Place("column", k) for k in self._keys(where.columns)]
            elif isinstance(where, stub):
                out += [Place("stub", row=r) for r in self._rows(where.rows)]
            elif isinstance(where, body):
                out += [
                    Place("body", k, r) for k in self._keys(where.columns) for r in self._rows(where.rows)
                ]
            elif isinstance(where, row_groups):
                out += [Place("group", g) for g in self._keys(where.rows)]
            elif isinstance(where, title):
                out.append(Place("title"))
            else:
                raise TypeError(
                    f"table {self.id}: a footnote at {type(where).__name__} is not in the table model"
                )
        return out

    def _rows(self, rows) -> list[int]:
        if rows is None:
            return list(range(len(self.rows)))
        return [rows] if isinstance(rows, int) else list(rows)

    # -- marks -----------------------------------------------------------------------
    def _mark(self, index: int) -> str:
        symbols = STANDARD_MARKS.get(self.marks) if isinstance(self.marks, str) else self.marks
        if not symbols:
            return str(index)
        return symbols[(index - 1) % len(symbols)] * ((index - 1) // len(symbols) + 1)

    def _order(self, place: Place) -> tuple:
        """Where a mark is read (great-tables' reading order: title, spanners, column
        labels, then the body row by row, row groups and stub first)."""
        keys = [c.key for c in self.columns]
        position = {k: i for i, k in enumerate(keys)}
        if place.part == "title":
            return (1, 0, 0)
        if place.part == "spanner":
            spanner = next((s for s in self.spanners if s.id == place.key), None)
            first = min((position.get(k, 0) for k in (spanner.columns if spanner else [])), default=0)
            return (4, 0, first)
        if place.part == "column":
            return (5, 0, position.get(place.key, 0))
        if place.part == "group":
            first = next((i for i, r in enumerate(self.rows) if r.group == place.key), 0)
            return (6, first, -2)
        if place.part == "stub":
            return (6, place.row or 0, -1)
        return (6, place.row or 0, position.get(place.key, 0))

    def marked(self) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Each marked note's mark (by its text), and the notes in the order they are printed
        under the table: those without a mark, then the marked ones in reading order."""
        placed = sorted((self._order(p), n.text) for n in self.notes for p in n.places if self._shown(p))
        order: list[str] = []
        for _, text in placed:
            if text not in order:
                order.append(text)
        marks = {text: self._mark(i + 1) for i, text in enumerate(order)}
        plain = [("", n.text) for n in self.notes if not n.places]
        return marks, plain + [(marks[t], t) for t in order]

    def _shown(self, place: Place) -> bool:
        return place.part not in ("column", "body") or place.key in {c.key for c in self.columns}

    def marks_at(self) -> dict[tuple, list[str]]:
        """The marks at each place: (part, key, row) -> marks in order."""
        marks, _ = self.marked()
        out: dict[tuple, list[str]] = {}
        for note in self.notes:
            for p in note.places:
                if not self._shown(p):
                    continue
                key = (p.part, p.key, p.row)
                mark = marks[note.text]
                if mark not in out.setdefault(key, []):
                    out[key].append(mark)
        if not isinstance(self.marks, (list, tuple)) and self.marks == "numbers":
            for v in out.values():
                v.sort(key=int)
        return out

    # -- the layout the Typst renderer reads -------------------------------------------
    def display_rows(self) -> list[tuple[int, Row]]:
        """The rows in the order printed: by row group (in order of first appearance)."""
        if not self.grouped:
            return list(enumerate(self.rows))
        groups = list(dict.fromkeys(r.group for r in self.rows))
        return [(i, r) for g in groups for i, r in enumerate(self.rows) if r.group == g]

    def layout(self):
        """The table as :mod:`feasibility.typeset` lays it out."""
        from feasibility.typeset import layout_of

        return layout_of(self)


def _body(key: str, rows: list[int]):
    from great_tables import loc

    return loc.body(columns=key, rows=rows)


# ----------------------------------------------------------------------------- makers
def from_frame(
    frame: pd.DataFrame,
    *,
    table_id: str,
    rowname_col: str | None = None,
    groupname_col: str | None = None,
    texts: pd.DataFrame | None = None,
) -> Table:
    """A table of a data frame (great-tables' ``GT(frame, ...)``): each value as text
    (``texts``: the printed text of each value, default ``str``; missing: empty)."""
    from great_tables import GT

    table = Table(
        table_id, lambda: GT(frame, rowname_col=rowname_col, groupname_col=groupname_col, id=table_id)
    )
    shown = texts if texts is not None else frame
    numeric = {
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c].dtype) and not pd.api.types.is_bool_dtype(frame[c].dtype)
    }
    table.columns = [
        ModelColumn(str(c), str(c), "right" if c in numeric else "left")
        for c in frame.columns
        if c not in (rowname_col, groupname_col)
    ]
    table.stub = rowname_col is not None
    table.grouped = groupname_col is not None
    for _, r in shown.iterrows():
        table.rows.append(
            Row(
                _text(r[groupname_col]) if groupname_col else "",
                _text(r[rowname_col]) if rowname_col else "",
                {c.key: _text(r[c.key]) for c in table.columns},
            )
        )
    return table


def _integer(text: str) -> str:
    """A count with thousands separators: the whole text when it is a number, else the
    number it starts with (the count of "18 (58)")."""
    try:
        return f"{round(float(text)):,}"
    except ValueError:
        return re.sub(r"^\d+", lambda m: f"{int(m[0]):,}", text)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)
