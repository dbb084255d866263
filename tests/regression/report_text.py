"""The text a reader sees in the report's HTML, block by block, normalised.

Used by the regression test to compare the report's words (not its markup, CSS or
embedded images, which the typesetting owns) with the snapshot in ``report.text``: every
heading, paragraph, list item, table cell, caption and note, in document order, one block
a line, whitespace collapsed. What changes with every commit or installation is masked:
the git commit and whether the tree was clean (Appendix D), and the versions of the
software (Table D3).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# elements whose text is one block of the page
BLOCKS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "li",
    "td",
    "th",
    "caption",
    "figcaption",
    "dt",
    "dd",
    "pre",
    "blockquote",
    "div",
    "title",
    "header",
    "section",
    "tr",
    "table",
    "figure",
    "nav",
    "ul",
    "ol",
    "body",
    "main",
    "article",
    "aside",
    "footer",
}
SKIP = {"style", "script", "svg", "math", "template", "noscript"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.skip = 0

    def flush(self):
        text = re.sub(r"\s+", " ", "".join(self.current)).strip()
        if text:
            self.blocks.append(text)
        self.current = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIP:
            self.skip += 1
        elif tag in BLOCKS or tag == "br":
            self.flush()

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in BLOCKS:
            self.flush()

    def handle_data(self, data):
        if not self.skip:
            self.current.append(data)


def visible_text(html: str) -> list[str]:
    """The report's blocks of text, in order, with the volatile parts masked."""
    parser = _Text()
    parser.feed(html)
    parser.flush()
    out, versions = [], False
    for block in parser.blocks:
        block = re.sub(r"\b[0-9a-f]{40}\b", "<commit>", block)
        block = block.replace(" (working tree had uncommitted changes)", "")
        block = re.sub(r"^Python \d+\.\d+\.\d+\.$", "Python <version>.", block)
        if block.startswith("Table D3"):
            versions = True  # the software versions: names and versions
        elif versions and block.startswith(("Table ", "Appendix ")):
            versions = False
        elif versions and block not in ("package", "version"):
            block = "<x>"
        out.append(block)
    return out
