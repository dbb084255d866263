"""What every figure of the report shares: style, text measurement and byte-stable saving.

Figures are drawn on a bare :class:`matplotlib.figure.Figure` with an Agg canvas
(no pyplot, so no global figure state) in matplotlib's bundled DejaVu Sans, so that
text measures and renders the same on every machine. SVG keeps text as text
(``svg.fonttype = "none"``: searchable, and Typst draws it with the same font when
pointed at matplotlib's fonts, see rendering-notes.md); SVG and PNG carry no dates
and no random ids, so two saves of the same figure are byte-identical.
"""

from __future__ import annotations

import io
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from feasibility import escape
from feasibility.io import write_bytes, write_text

# Figures are drawn at the size they are printed, so that their type prints at the sizes
# below. The printed page is the report's (report/_quarto.yml, format typst: A4, margins
# x 2.5 cm and y 2.2 cm; tests/test_layout.py checks the two agree): a figure is as wide
# as the text and leaves room on its page for a caption.
MM = 1 / 25.4
TEXT_WIDTH_IN = (210 - 2 * 25) * MM  # 6.30 in
TEXT_HEIGHT_IN = (297 - 2 * 22) * MM  # 9.96 in
MAX_FIGURE_HEIGHT_IN = TEXT_HEIGHT_IN - 0.7  # a three-line caption below it

FONT = "DejaVu Sans"  # bundled with matplotlib: identical metrics everywhere
FONT_SIZE = 8.0  # points at printed size: box text, titles, axis labels
SMALL_FONT_SIZE = 7.5  # points: tick labels, legends, annotations
MIN_FONT_SIZE = 7.0  # nothing in a figure prints smaller
PNG_DPI = 300
SCREEN_DPI = 100  # the drawing dpi; layout is computed in inches, not pixels

STYLE: dict[str, object] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": FONT_SIZE,
    "svg.fonttype": "none",
    "svg.hashsalt": "feasibility-report",
    "figure.dpi": SCREEN_DPI,
    "savefig.dpi": PNG_DPI,
    "axes.titlesize": FONT_SIZE,
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": SMALL_FONT_SIZE,
    "ytick.labelsize": SMALL_FONT_SIZE,
    "legend.fontsize": SMALL_FONT_SIZE,
    "figure.labelsize": FONT_SIZE,
    "path.simplify": False,
    # text measured without hinting: hinted widths at small sizes are up to 5 % off the
    # outlines that the SVG (and so the PDF) prints, and text would overrun its box
    "text.hinting": "no_hinting",
    # text is text: a "$" in a label is a dollar sign, never the start of mathtext
    # (feasibility.escape); no figure draws mathematics
    "text.parse_math": False,
}

# Okabe-Ito colours (safe for colour-blind readers); every figure also separates
# series by line style or marker so that it reads in greyscale.
COLOURS = ("#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")


# matplotlib's rcParams are global to the process and the workflow runs its jobs in
# threads: without the lock, one figure leaving rc_context would restore the defaults
# under another still drawing (its SVG text turned into paths).
_STYLE_LOCK = threading.RLock()


@contextmanager
def figure_style() -> Iterator[None]:
    """Apply the report's matplotlib settings while drawing or saving a figure
    (one figure at a time per process)."""
    with _STYLE_LOCK, mpl.rc_context(STYLE):
        yield


def new_figure(width_in: float, height_in: float, **kwargs) -> Figure:
    """A pyplot-free figure with an Agg canvas (so text can be measured)."""
    fig = Figure(figsize=(width_in, height_in), dpi=SCREEN_DPI, **kwargs)
    FigureCanvasAgg(fig)
    return fig


# a word for wrapping: a whole count such as "(n = 1,234)", or a run of non-spaces
WORD = re.compile(r"\(?n = [\d,]+\)?[.,;:]?|\S+")


def format_n(n: int) -> str:
    """A count as printed in the figures: ``n = 117``, ``n = 100,000``."""
    return f"n = {n:,}"


def font(size: float = FONT_SIZE, weight: str = "normal") -> FontProperties:
    return FontProperties(family=FONT, size=size, weight=weight)


def text_width_in(fig: Figure, text: str, prop: FontProperties) -> float:
    """Rendered width of one line of ``text`` in inches (measured, not estimated)."""
    renderer = fig.canvas.get_renderer()
    width, _, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
    return width / fig.dpi


def wrap_to_width(fig: Figure, text: str, width_in: float, prop: FontProperties) -> str:
    """Greedy word wrap of ``text`` so that no rendered line is wider than ``width_in``.

    A count (``(n = 117)``) is kept on one line; a word wider than the whole line is
    broken between characters.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in WORD.findall(paragraph):
            candidate = f"{line} {word}" if line else word
            if text_width_in(fig, candidate, prop) <= width_in:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            while text_width_in(fig, word, prop) > width_in:
                cut = _longest_fitting_prefix(fig, word, width_in, prop)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return "\n".join(lines)


def _longest_fitting_prefix(fig: Figure, word: str, width_in: float, prop: FontProperties) -> int:
    lo, hi = 1, len(word)  # a single character always goes on the line
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width_in(fig, word[:mid], prop) <= width_in:
            lo = mid
        else:
            hi = mid - 1
    return lo


def alt_text_path(svg_path: str | os.PathLike) -> Path:
    """The side file ``<stem>.alt.txt`` beside the SVG; the report uses it as fig-alt."""
    svg_path = Path(svg_path)
    return svg_path.with_name(f"{svg_path.stem}.alt.txt")


def svg_bytes(fig: Figure, alt_text: str, title: str) -> bytes:
    """The figure as SVG with text kept as text and ``<title>``/``<desc>`` for screen readers."""
    buffer = io.BytesIO()
    with figure_style():
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return _with_accessible_name(buffer.getvalue().decode("utf-8"), alt_text, title).encode("utf-8")


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    with figure_style():
        fig.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _with_accessible_name(svg: str, alt_text: str, title: str) -> str:
    # WAI-ARIA SVG: role="img" plus <title> (name) and <desc> (description) as the
    # first children of the root element.
    start = svg.index("<svg ")
    end = svg.index(">", start)
    root = svg[start:end].replace("<svg ", '<svg role="img" aria-labelledby="fig-title fig-desc" ', 1)
    accessible = (
        f'\n <title id="fig-title">{escape.svg(title)}</title>'
        f'\n <desc id="fig-desc">{escape.svg(alt_text)}</desc>'
    )
    return svg[:start] + root + ">" + accessible + svg[end + 1 :]


def save_figure(
    fig: Figure, svg_path: str | os.PathLike, png_path: str | os.PathLike, alt_text: str, title: str
) -> None:
    """Write the figure as SVG and PNG, and its alt text to ``<stem>.alt.txt``; all atomic."""
    write_bytes(svg_path, svg_bytes(fig, alt_text, title))
    write_bytes(png_path, png_bytes(fig))
    write_text(alt_text_path(svg_path), alt_text.strip() + "\n")
