"""The report's tables typeset in Typst, from their great-tables HTML.

Every table of the report is one great-tables HTML fragment (``tables/common.py``).
The HTML formats show it as it is; for the PDF, :func:`html_table_to_typst` turns it
into Typst code laid out like a journal table: the title as a caption above the
table ("**Table 2** Baseline …", never numbered again by Typst), rules above and
below the column labels and at the foot, a left-aligned stub, bold row groups with
their rows indented, numbers right-aligned in tabular figures, every spanner ruled
over exactly its columns, superscript footnote marks, notes under the table, column
widths fitted to their content (the widest columns wrap first), and the header rows
repeated when a long table breaks across pages.

Both back ends compile this same code: the report's includes carry each table twice,
as raw HTML and as raw Typst (``report_content.table_block``). The HTML tells Quarto
not to convert it itself (``data-quarto-disable-processing="true"``), so in the PDF
Quarto, like the pandoc back end, drops the raw HTML and keeps the Typst.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Iterator

from feasibility.escape import typst as typst_text
from feasibility.figures.common import TEXT_WIDTH_IN

# Sizes in points; the report's body text is 11 pt.
TABLE_TEXT = 8.5
NOTE_TEXT = 8
CAPTION_TEXT = 9.5
RULE_HEAVY = 0.8            # above the column labels and at the foot
RULE_LIGHT = 0.5            # under the column labels and under each spanner
INSET_Y = 2.2               # cell padding above and below
GUTTER = 8                  # between columns (spanner rules stop short of it)
GROUP_SPACE = 4.5           # extra space above a row group's heading
CHAR_EM = 0.45              # mean advance of a character of the table font, in em
NARROW = 0.12               # a column narrower than this share of the text width stays auto
TEXT_WIDTH = TEXT_WIDTH_IN * 72
INDENT = "0.9em"            # a row under a row-group heading

SYMBOL_MARKS = set("*†‡§¶‖#")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
         "source", "track", "wbr"}
_ALIGN = {"gt_left": "left", "gt_right": "right", "gt_center": "center"}


# ----------------------------------------------------------------------------- HTML tree
@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)     # Element | str

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def elements(self) -> Iterator[Element]:
        return (c for c in self.children if isinstance(c, Element))

    def iter(self) -> Iterator[Element]:
        """This element and every element below it, in document order."""
        yield self
        for child in self.elements():
            yield from child.iter()

    def first(self, tag: str, cls: str | None = None) -> Element | None:
        return next((e for e in self.iter() if e.tag == tag and (cls is None or cls in e.classes)),
                    None)

    def span(self, name: str) -> int:
        try:
            return max(1, int(self.attrs.get(name, "1")))
        except ValueError:
            return 1


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self._open = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs})
        self._open[-1].children.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self._open[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data):
        self._open[-1].children.append(data)


def parse_html(text: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


# ----------------------------------------------------------------------------- Typst markup


# A word this long (a configuration key, a file path) may break after its separators:
# a zero-width space after each, or it would run into the next column.
LONG_WORD = 20
_SEPARATOR = re.compile(r"(?<=[._/:;,=|\\-])(?=\w)")


def _breakable(word: str) -> str:
    return _SEPARATOR.sub("\u200b", word) if len(word) >= LONG_WORD else word


def escape(text: str) -> str:
    """Plain text as Typst markup: every ASCII punctuation mark escaped, whitespace
    collapsed, long words given break opportunities."""
    return typst_text(re.sub(r"\S+", lambda m: _breakable(m[0]), re.sub(r"\s+", " ", text)))


def markup(node: Element | str) -> str:
    """The inline content of an HTML node as Typst markup (footnote marks as superscripts)."""
    if isinstance(node, str):
        return escape(node)
    if node.tag in ("style", "script"):
        return ""
    if node.tag == "br":
        return "#linebreak()"
    inner = "".join(markup(child) for child in node.children)
    if "gt_footnote_marks" in node.classes or node.tag == "sup":
        mark = inner.strip()
        # the typographic symbols (*, †, ¶ …) are already raised: set at full size, as the
        # paper does; letters and digits as superscripts
        return mark if all(ch in SYMBOL_MARKS for ch in mark.replace("\\", "")) else f"#super[{mark}]"
    if node.tag == "sub":
        return f"#sub[{inner.strip()}]"
    if node.tag in ("strong", "b"):
        return f"#strong[{inner}]"
    if node.tag in ("em", "i"):
        return f"#emph[{inner}]"
    return inner


def content(node: Element) -> str:
    return markup(node).strip()


def plain_text(node: Element | str) -> str:
    if isinstance(node, str):
        return node
    return "" if node.tag in ("style", "script") else "".join(plain_text(c) for c in node.children)


def _length(node: Element) -> int:
    return len(" ".join(plain_text(node).split()))


# ----------------------------------------------------------------------------- the table
@dataclass
class Cell:
    body: str                 # Typst markup
    colspan: int = 1
    rowspan: int = 1
    align: str = "left"
    length: int = 0           # characters of plain text
    spanner: bool = False     # a header cell ruled over the columns it spans


@dataclass
class Table:
    caption: str
    header: list[list[Cell]]
    rows: list[list[Cell] | str]            # a data row, or a row-group heading
    notes: list[str]
    columns: int
    stub: bool

    @property
    def grouped(self) -> bool:
        return any(isinstance(row, str) for row in self.rows)


def _alignment(element: Element, default: str = "left") -> str:
    return next((_ALIGN[c] for c in element.classes if c in _ALIGN), default)


def read_gt_table(fragment: str) -> Table:
    """The parts of a great-tables HTML table that the PDF shows."""
    root = parse_html(fragment)
    table = root.first("table")
    if table is None:
        raise ValueError("no <table> in the HTML fragment")
    title = table.first("td", "gt_title") or table.first("th", "gt_title")
    subtitle = table.first("td", "gt_subtitle") or table.first("th", "gt_subtitle")
    caption = " ".join(content(e) for e in (title, subtitle) if e is not None and content(e))

    header: list[list[Cell]] = []
    thead = table.first("thead")
    for tr in (thead.elements() if thead else ()):
        if tr.tag != "tr" or "gt_heading" in tr.classes:
            continue
        row = []
        for th in tr.elements():
            if th.tag not in ("th", "td"):
                continue
            inner = th.first("span", "gt_column_spanner")
            row.append(Cell(content(inner or th), th.span("colspan"), th.span("rowspan"),
                            _alignment(th, "center"), _length(inner or th),
                            spanner="gt_column_spanner_outer" in th.classes))
        header.append(row)

    rows: list[list[Cell] | str] = []
    stub = False
    for tbody in (e for e in table.iter() if e.tag == "tbody"):
        for tr in tbody.elements():
            if tr.tag != "tr":
                continue
            cells = [e for e in tr.elements() if e.tag in ("th", "td")]
            if any("gt_empty_group_heading" in c.classes for c in cells):
                continue
            group = next((c for c in cells if "gt_group_heading" in c.classes), None)
            if group is not None:
                rows.append(content(group))
                continue
            stub = stub or any("gt_stub" in c.classes for c in cells)
            rows.append([Cell(content(c), c.span("colspan"), c.span("rowspan"), _alignment(c),
                              _length(c)) for c in cells])

    notes = []
    tfoot = table.first("tfoot")
    for td in (tfoot.iter() if tfoot else ()):
        if td.tag == "td" and td.classes & {"gt_sourcenote", "gt_footnote"} and content(td):
            notes.append(content(td))

    widths = [sum(c.colspan for c in row) for row in rows if not isinstance(row, str)]
    columns = max(widths + [_header_width(header)] + [1])
    return Table(caption, header, rows, notes, columns, stub)


def _place(header: list[list[Cell]]) -> list[list[tuple[Cell, int]]]:
    """Each header cell with the column it starts in, skipping columns that cells of the
    rows above still span down into."""
    taken: set[tuple[int, int]] = set()
    placed = []
    for r, row in enumerate(header):
        column, here = 0, []
        for cell in row:
            while (r, column) in taken:
                column += 1
            here.append((cell, column))
            taken |= {(r + dr, column + dc) for dr in range(cell.rowspan) for dc in range(cell.colspan)}
            column += cell.colspan
        placed.append(here)
    return placed


def _header_width(header: list[list[Cell]]) -> int:
    return max((column + cell.colspan for row in _place(header) for cell, column in row), default=0)


def _column_alignments(table: Table) -> list[str]:
    """Each column's alignment, from the first data row that fills every column singly."""
    for row in table.rows:
        if not isinstance(row, str) and len(row) == table.columns:
            return [cell.align for cell in row]
    return ["left"] + ["right"] * (table.columns - 1)


def _estimated_widths(table: Table) -> list[tuple[list[int], float]]:
    """Each column's cell lengths (characters) and an upper estimate of its natural width
    (points, from :data:`CHAR_EM`)."""
    lengths: list[list[int]] = [[] for _ in range(table.columns)]
    for row in table.rows:
        if not isinstance(row, str) and len(row) == table.columns:
            for i, cell in enumerate(row):
                lengths[i].append(cell.length)
    for row in _place(table.header):
        for cell, column in row:
            if cell.colspan == 1 and column < table.columns:
                lengths[column].append(cell.length)
    return [(col, max(col, default=0) * CHAR_EM * TABLE_TEXT) for col in lengths]


def _shared_widths(table: Table, available: float) -> str:
    """Typst ``columns`` for a table wider than the text: the columns of short content keep
    their width and the others share the rest of the width in proportion to the square root
    of their usual (80th centile) length, so that columns of long text wrap rather than
    short ones, and a very long column does not squeeze the others into a word a line."""
    widths = []
    for col, natural in _estimated_widths(table):
        if natural <= NARROW * available:
            # its estimated width (which errs wide), not ``auto``: Typst widens an auto
            # column to fit a spanner over it and an fr column, squeezing the fr columns
            widths.append(f"{natural:.1f}pt")
        else:
            usual = sorted(col)[int(0.8 * (len(col) - 1))] if col else 1
            widths.append(f"{math.sqrt(max(usual, 1)):.2f}fr")
    return "(" + ", ".join(widths) + ",)"


def _longest_rows(table: Table, per_column: int = 3) -> list[int]:
    """The data rows that hold the longest cells of each column (a few per column)."""
    chosen: set[int] = set()
    data = [(i, row) for i, row in enumerate(table.rows)
            if not isinstance(row, str) and len(row) == table.columns]
    for column in range(table.columns):
        ranked = sorted(data, key=lambda item: -item[1][column].length)
        chosen |= {i for i, _ in ranked[:per_column]}
    return sorted(chosen)


def _fits(table: Table, available: float) -> bool:
    """Whether the table surely fits the text width as its content sets it (an estimate
    that errs wide; when it is not sure, Typst measures, see :func:`table_to_typst`)."""
    return sum(w for _, w in _estimated_widths(table)) + GUTTER * (table.columns - 1) <= available


def _cell(cell: Cell, column_align: str | None, *, valign: str, body: str | None = None,
          extra: str = "") -> str:
    args = []
    if cell.colspan > 1:
        args.append(f"colspan: {cell.colspan}")
    if cell.rowspan > 1:
        args.append(f"rowspan: {cell.rowspan}")
    if cell.align != column_align or valign != "top":
        args.append(f"align: {cell.align} + {valign}")
    if extra:
        args.append(extra)
    text = cell.body if body is None else body
    return f"table.cell({', '.join(args)})[{text}]" if args else f"[{text}]"


def table_to_typst(table: Table, available: float = TEXT_WIDTH) -> str:
    """Typst code for one table: its caption, then the table and its notes in a block that
    may break across pages (the header rows repeat on each)."""
    aligns = _column_alignments(table)
    settings = (f"align: ({', '.join(f'{a} + top' for a in aligns)},), stroke: none, "
                f"inset: (x: 0pt, y: {INSET_Y}pt), column-gutter: {GUTTER}pt")
    header = []
    if table.header:
        header.append("table.header(")
        header.append(f"  table.hline(stroke: {RULE_HEAVY}pt),")
        for row in _place(table.header):
            for cell, column in row:
                if cell.spanner:
                    rule = f"stroke: (bottom: {RULE_LIGHT}pt), inset: (y: {INSET_Y}pt, bottom: 3pt)"
                    header.append(f"  {_cell(cell, None, valign='bottom', extra=rule)},")
                else:
                    own = aligns[column] if column < len(aligns) and cell.colspan == 1 else None
                    header.append(f"  {_cell(cell, own, valign='bottom')},")
        header.append(f"  table.hline(stroke: {RULE_LIGHT}pt),")
        header.append("),")
    indent = table.grouped and table.stub
    rows: list[list[str]] = []
    for row in table.rows:
        if isinstance(row, str):
            inset = f"inset: (x: 0pt, top: {INSET_Y + GROUP_SPACE}pt, bottom: {INSET_Y}pt)"
            # a subheader: never left alone at the foot of a page, repeated over its rows'
            # continuation on the next page
            rows.append([f"table.header(level: 2, table.cell(colspan: {table.columns}, "
                         f"align: left + top, {inset})[#strong[{row}]]),"])
            continue
        code = []
        for i, cell in enumerate(row):
            own = aligns[i] if i < len(aligns) else None
            body = f"#pad(left: {INDENT})[{cell.body}]" if indent and i == 0 and cell.body else None
            code.append(f"{_cell(cell, own, valign='top', body=body)},")
        rows.append(code)
    cells = header + [line for code in rows for line in code] + [f"table.hline(stroke: {RULE_HEAVY}pt),"]
    if _fits(table, available):
        lines = [f"table(columns: {table.columns}, {settings},", *cells, ")"]
    else:
        # Typst measures the table as its content sets it (its header and the rows that
        # hold each column's longest cells: the widest); only when that is wider than
        # the text do the columns share the width (_shared_widths)
        sample = header + [line for i in _longest_rows(table) for line in rows[i]]
        lines = ["context {",
                 f"let settings = ({settings})",
                 f"let natural = measure(table(columns: {table.columns}, ..settings,", *sample, ")).width",
                 f"let columns = if natural <= {available:.2f}pt {{ {table.columns} }} "
                 f"else {{ {_shared_widths(table, available)} }}",
                 "table(columns: columns, ..settings,", *cells, ")",
                 "}"]
    body = [f"#set text(size: {TABLE_TEXT}pt, number-width: \"tabular\")",
            "#set par(justify: false)",
            "#" + "\n".join(lines)]
    if table.notes:
        notes = "\n\n".join(table.notes)
        body.append(f"#block(width: 100%, above: 0.6em)[#set text(size: {NOTE_TEXT}pt)\n"
                    f"#set par(leading: 0.45em, spacing: 0.45em)\n{notes}\n]")
    table_block = "#block(width: 100%, breakable: true)[\n" + "\n".join(body) + "\n]"
    if not table.caption:
        return table_block
    # The caption is a block of its own that sticks to the table: it goes to the next page
    # with it rather than stay alone at the foot of a page (a breakable figure's caption
    # would). No figure, so nothing for Typst to number.
    caption = (f"#block(sticky: true, width: 100%, above: 1.4em, below: 0.6em)[\n"
               f"#set text(size: {CAPTION_TEXT}pt)\n#set par(justify: false)\n{table.caption}\n]")
    return caption + "\n" + table_block


def html_table_to_typst(fragment: str) -> str:
    """Typst code for a great-tables HTML fragment (see the module docstring)."""
    return table_to_typst(read_gt_table(fragment))
