"""The report's tables typeset in Typst, from their model.

Every table of the report is one model (:class:`feasibility.tables.model.Table`: tidy
cells or a text frame, and its layout). The HTML formats show great-tables' rendering of
it; for the PDF, :func:`layout_of` reads the same model and :func:`table_to_typst` lays it
out like a journal table: the title as a caption above the table ("**Table 2** Baseline
…", never numbered again by Typst), rules above and below the column labels and at the
foot, a left-aligned stub, bold row groups with their rows indented, numbers
right-aligned in tabular figures, every spanner ruled over exactly its columns,
superscript footnote marks (the typographic symbols at full size), notes under the table,
column widths fitted to their content (the widest columns wrap first), and the header
rows repeated when a long table breaks across pages.

Both back ends compile this same code: a table rule writes it beside the table's HTML
(``<id>.typ``, ``tables.common.write_typst``) and the report's includes carry each table
twice, as raw HTML and as raw Typst (``report_content.table_block``). The HTML tells
Quarto not to convert it itself (``data-quarto-disable-processing="true"``), so in the PDF
Quarto, like the pandoc back end, drops the raw HTML and keeps the Typst.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from feasibility.escape import typst as typst_text
from feasibility.figures.common import TEXT_WIDTH_IN

# Sizes in points; the report's body text is 11 pt.
TABLE_TEXT = 8.5
NOTE_TEXT = 8
CAPTION_TEXT = 9.5
RULE_HEAVY = 0.8  # above the column labels and at the foot
RULE_LIGHT = 0.5  # under the column labels and under each spanner
INSET_Y = 2.2  # cell padding above and below
GUTTER = 8  # between columns (spanner rules stop short of it)
GROUP_SPACE = 4.5  # extra space above a row group's heading
CHAR_EM = 0.45  # mean advance of a character of the table font, in em
NARROW = 0.12  # a column narrower than this share of the text width stays auto
TEXT_WIDTH = TEXT_WIDTH_IN * 72
INDENT = "0.9em"  # a row under a row-group heading

SYMBOL_MARKS = set("*†‡§¶‖#")


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


def _mark(mark: str) -> str:
    """A footnote mark: the typographic symbols (*, †, ¶ …) are already raised, so set at
    full size, as the paper does; letters and digits as superscripts."""
    text = escape(mark)
    return text if all(ch in SYMBOL_MARKS for ch in mark.replace(",", "")) else f"#super[{text}]"


def _lines(text: str) -> str:
    """Plain text (its line breaks kept) as Typst markup."""
    return "#linebreak()".join(escape(line).strip() for line in str(text).split("\n")).strip()


def _length(text: str) -> int:
    """A cell's length in characters (the lines of a cell of several run on)."""
    return len(" ".join(str(text).replace("\n", "").split()))


_NUMBER_CHARS = re.compile(r"[,\s$%€£¥\(\)−\-+]")


def _numeric(text: str) -> bool:
    """Whether a cell reads as a number (its mark then goes before it, keeping the figures
    aligned; after it otherwise)."""
    core = _NUMBER_CHARS.sub("", text)
    return bool(core) and core != "." and bool(re.fullmatch(r"\d*\.?\d+|\d+\.?\d*", core))


# ----------------------------------------------------------------------------- the table
@dataclass
class Cell:
    body: str  # Typst markup
    colspan: int = 1
    rowspan: int = 1
    align: str = "left"
    length: int = 0  # characters of plain text
    spanner: bool = False  # a header cell ruled over the columns it spans


@dataclass
class Table:
    caption: str
    header: list[list[Cell]]
    rows: list[list[Cell] | str]  # a data row, or a row-group heading
    notes: list[str]
    columns: int
    stub: bool

    @property
    def grouped(self) -> bool:
        return any(isinstance(row, str) for row in self.rows)


def _marked(text: str, marks: list[str]) -> tuple[str, int]:
    """A cell's markup with its footnote marks, and its length in characters."""
    body = _lines(text)
    if not marks:
        return body, _length(text)
    mark = _mark(",".join(marks))
    if _numeric(text):
        return f"{mark} {body}", _length(f"{','.join(marks)} {text}")
    return f"{body}{mark}", _length(f"{text}{','.join(marks)}")


def layout_of(model) -> Table:
    """What the PDF shows of a table's model (:class:`feasibility.tables.model.Table`):
    its caption, header rows (stub head, spanners over their columns, column labels), rows
    (row-group headings and data rows) and notes, each with its footnote marks."""
    at = model.marks_at()
    _, notes = model.marked()
    caption = _lines(model.title)
    if model.label:
        caption = f"#strong[{_lines(model.label)}] {caption}".strip()
    caption = (caption + "".join(_mark(m) for m in at.get(("title", None, None), []))).strip()
    keys = [c.key for c in model.columns]
    align = {c.key: c.align for c in model.columns}
    levels = max((s.level for s in model.spanners), default=0)

    def spanner_at(key: str, level: int):
        return next((s for s in model.spanners if s.level == level and key in s.columns), None)

    def label_cell(column, rowspan: int) -> Cell:
        body, length = _marked(column.label, at.get(("column", column.key, None), []))
        return Cell(body, 1, rowspan, column.align, length)

    header: list[list[Cell]] = []
    for level in range(levels, 0, -1):
        row: list[Cell] = []
        if model.stub:
            if level == 1:
                row.append(Cell(_lines(model.stub_label), 1, 2, "left", _length(model.stub_label)))
            else:
                row.append(Cell("", 1, 1, "left", 0))
        i = 0
        while i < len(keys):
            spanner = spanner_at(keys[i], level)
            if spanner is None:
                if level == 1:
                    row.append(label_cell(model.columns[i], 2))
                    i += 1
                    continue
                # the columns with no spanner at this level, side by side: one empty spanner
                width = 1
                while i + width < len(keys) and spanner_at(keys[i + width], level) is None:
                    width += 1
                row.append(Cell("", width, 1, "center", 0, spanner=True))
                i += width
                continue
            # side by side, spanners of the same label are one (as great-tables prints them)
            width = 1
            while i + width < len(keys) and (
                spanner_at(keys[i + width], level) is spanner
                or (
                    spanner_at(keys[i + width], level) is not None
                    and spanner_at(keys[i + width], level).label == spanner.label
                )
            ):
                width += 1
            body, length = _marked(spanner.label, at.get(("spanner", spanner.id, None), []))
            row.append(Cell(body, width, 1, "center", length, spanner=True))
            i += width
        header.append(row)
    labels = [label_cell(c, 1) for c in model.columns if levels == 0 or spanner_at(c.key, 1) is not None]
    if levels == 0:
        labels = (
            [Cell(_lines(model.stub_label), 1, 1, "left", _length(model.stub_label))] if model.stub else []
        ) + labels
    header.append(labels)

    rows: list[list[Cell] | str] = []
    group = None
    for i, row in model.display_rows():
        if model.grouped and row.group != group:
            group = row.group
            body, _ = _marked(group, at.get(("group", group, None), []))
            rows.append(body)
        cells = []
        if model.stub:
            body, length = _marked(row.label, at.get(("stub", None, i), []))
            cells.append(Cell(body, 1, 1, "left", length))
        for key in keys:
            body, length = _marked(row.values.get(key, ""), at.get(("body", key, i), []))
            cells.append(Cell(body, 1, 1, align[key], length))
        rows.append(cells)

    texts = [_lines(n) for n in model.source_notes if _lines(n)]
    texts += [(f"{_mark(mark)} " if mark else "") + _lines(text) for mark, text in notes if _lines(text)]
    columns = len(keys) + (1 if model.stub else 0)
    return Table(caption, header, rows, texts, max(columns, 1), model.stub)


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
    data = [
        (i, row) for i, row in enumerate(table.rows) if not isinstance(row, str) and len(row) == table.columns
    ]
    for column in range(table.columns):
        ranked = sorted(data, key=lambda item: -item[1][column].length)
        chosen |= {i for i, _ in ranked[:per_column]}
    return sorted(chosen)


def _fits(table: Table, available: float) -> bool:
    """Whether the table surely fits the text width as its content sets it (an estimate
    that errs wide; when it is not sure, Typst measures, see :func:`table_to_typst`)."""
    return sum(w for _, w in _estimated_widths(table)) + GUTTER * (table.columns - 1) <= available


def _cell(
    cell: Cell, column_align: str | None, *, valign: str, body: str | None = None, extra: str = ""
) -> str:
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
    settings = (
        f"align: ({', '.join(f'{a} + top' for a in aligns)},), stroke: none, "
        f"inset: (x: 0pt, y: {INSET_Y}pt), column-gutter: {GUTTER}pt"
    )
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
            rows.append(
                [
                    f"table.header(level: 2, table.cell(colspan: {table.columns}, "
                    f"align: left + top, {inset})[#strong[{row}]]),"
                ]
            )
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
        lines = [
            "context {",
            f"let settings = ({settings})",
            f"let natural = measure(table(columns: {table.columns}, ..settings,",
            *sample,
            ")).width",
            f"let columns = if natural <= {available:.2f}pt {{ {table.columns} }} "
            f"else {{ {_shared_widths(table, available)} }}",
            "table(columns: columns, ..settings,",
            *cells,
            ")",
            "}",
        ]
    body = [
        f'#set text(size: {TABLE_TEXT}pt, number-width: "tabular")',
        "#set par(justify: false)",
        "#" + "\n".join(lines),
    ]
    if table.notes:
        notes = "\n\n".join(table.notes)
        body.append(
            f"#block(width: 100%, above: 0.6em)[#set text(size: {NOTE_TEXT}pt)\n"
            f"#set par(leading: 0.45em, spacing: 0.45em)\n{notes}\n]"
        )
    table_block = "#block(width: 100%, breakable: true)[\n" + "\n".join(body) + "\n]"
    if not table.caption:
        return table_block
    # The caption is a block of its own that sticks to the table: it goes to the next page
    # with it rather than stay alone at the foot of a page (a breakable figure's caption
    # would). No figure, so nothing for Typst to number.
    caption = (
        f"#block(sticky: true, width: 100%, above: 1.4em, below: 0.6em)[\n"
        f"#set text(size: {CAPTION_TEXT}pt)\n#set par(justify: false)\n{table.caption}\n]"
    )
    return caption + "\n" + table_block


def model_to_typst(model) -> str:
    """Typst code for a table's model (see the module docstring)."""
    return table_to_typst(layout_of(model))
