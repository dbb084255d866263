"""What a reader of a generated page gets: its elements and its text (for the tests that
put hostile labels and study-file text through every output format)."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class Page(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML page or fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parsed(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def unspaced(text: str) -> str:
    """Without spaces and the zero-width spaces a line break adds, and with pandoc's
    typographic quotes as typed."""
    return re.sub(r"[\s\u200b]+", "", text).translate(str.maketrans("‘’“”", "''\"\""))
