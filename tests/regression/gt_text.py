"""The words of a great-tables HTML fragment, by part: title, column labels, spanners,
row groups, row labels, body cells, footnotes and source notes, in document order.

Used by the regression test to compare the printed text of a table (not its CSS or
markup, which the typesetting owns) with the snapshot in ``tables/*.text.json``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# great-tables' class of each part -> the part's name in the snapshot
PARTS = {
    "gt_title": "title",
    "gt_subtitle": "subtitle",
    "gt_column_spanner": "spanner",
    "gt_col_heading": "column",
    "gt_group_heading": "row_group",
    "gt_row": "cell",
    "gt_footnote": "footnote",
    "gt_sourcenote": "source_note",
}
_BLOCKS = {"td", "th", "div", "span"}


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []  # (tag, part opened here)
        self.parts: list[list[str]] = []
        self._current: list[str] | None = None
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        if tag == "style":
            self._in_style = True
            return
        classes = (dict(attrs).get("class") or "").split()
        part = next((PARTS[c] for c in classes if c in PARTS), None)
        if tag not in _BLOCKS:
            return
        if part and self._current is None:
            kind = "row_label" if part == "cell" and "gt_stub" in classes else part
            self._current = [kind, ""]
            self.stack.append((tag, "open"))
        else:
            self.stack.append((tag, None))

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
            return
        if tag not in _BLOCKS or not self.stack:
            return
        _, opened = self.stack.pop()
        if opened and self._current is not None:
            self._current[1] = re.sub(r"\s+", " ", self._current[1]).strip()
            self.parts.append(self._current)
            self._current = None

    def handle_data(self, data):
        if self._current is not None and not self._in_style:
            self._current[1] += data


def gt_text(html: str) -> list[list[str]]:
    """``[[part, text], ...]`` of a great-tables HTML fragment."""
    parser = _Parser()
    parser.feed(html)
    return parser.parts
