"""The words of a figure's SVG, as a reader (or a screen reader) gets them: the accessible
title and description, then every ``<text>`` element in document order. The regression
snapshot of the paper's figures (``*.text.json`` beside this file) is this, for each figure."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"


def svg_text(path: str | Path) -> dict:
    root = ET.parse(path).getroot()
    return {
        "title": root.findtext(f"{SVG}title"),
        "desc": root.findtext(f"{SVG}desc"),
        "texts": ["".join(t.itertext()) for t in root.iter(f"{SVG}text")],
    }


if __name__ == "__main__":  # python svg_text.py results/figures/consort.svg > consort.text.json
    json.dump(svg_text(sys.argv[1]), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
