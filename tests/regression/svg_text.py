"""The words of a figure: the text of every ``<text>`` element of its SVG, in document
order (matplotlib writes text as text, ``svg.fonttype = "none"``), whitespace collapsed.

Used by the regression test to compare what a figure says (labels, counts, legends, axis
ticks) with the snapshot in ``figures/<id>.text.json``, not its geometry or styles."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def svg_text(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    out = []
    for element in root.iter(f"{SVG}text"):
        text = re.sub(r"\s+", " ", "".join(element.itertext())).strip()
        if text:
            out.append(text)
    return out
