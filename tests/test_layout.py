"""The PDF as a reviewer reads it, checked from positioned text (PyMuPDF): no two pieces of
text printed over each other, nothing off the page, no text under 7 pt (superscripts
aside), every caption there once with the paper's numbers, long tables broken across
pages with their header repeated, no page left more than half empty (except before an
appendix), and figures printed at the size they are drawn.

The checks are functions of a PDF file, so that they can be run on any report:

    .venv/bin/python tests/test_layout.py results/feasibility/report/feasibility.pdf

prints every problem found (and exits 1 when there is one).
"""

from __future__ import annotations

import math
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from captions import OWN_LABELS, PAPER_CAPTIONS
from projectcopy import results_of

pymupdf = pytest.importorskip("pymupdf")

ROOT = Path(__file__).resolve().parents[1]
MIN_TEXT_PT = 7.0
SUPERSCRIPT = 1  # PyMuPDF span flag: the span is raised (a superscript)
OVERPRINT = 0.3  # share of the smaller glyph's box that another covers
PT_PER_IN = 72

LABEL = re.compile(r"(?:Table|Figure) [A-D]?\d+")


# ----------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Glyph:
    char: str
    x: float  # centre of its box
    y: float
    size: float
    span: int  # the span it belongs to (one run of text in one font and size)
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True)
class Span:
    page: int  # 1-based
    text: str
    size: float
    flags: int
    font: str
    bbox: tuple[float, float, float, float]
    origin: tuple[float, float]
    line: int  # the line it belongs to

    @property
    def bold(self) -> bool:
        return bool(self.flags & 16) or "bold" in self.font.lower()


def read_page(page) -> tuple[list[Span], list[Glyph]]:
    spans, glyphs, line_no = [], [], 0
    for block in page.get_text("rawdict")["blocks"]:
        for line in block.get("lines", []):
            line_no += 1
            for s in line["spans"]:
                text = "".join(c["c"] for c in s["chars"])
                spans.append(
                    Span(
                        page.number + 1,
                        text,
                        s["size"],
                        s["flags"],
                        s["font"],
                        tuple(s["bbox"]),
                        tuple(s["origin"]),
                        line_no,
                    )
                )
                for c in s["chars"]:
                    if c["c"].strip() and c["c"] not in "\u200b":
                        x0, y0, x1, y1 = c["bbox"]
                        glyphs.append(
                            Glyph(
                                c["c"],
                                (x0 + x1) / 2,
                                (y0 + y1) / 2,
                                s["size"],
                                len(spans) - 1,
                                (x0, y0, x1, y1),
                            )
                        )
    return spans, glyphs


def is_superscript(span: Span, spans: list[Span]) -> bool:
    """Flagged as raised, or set on a baseline above a larger neighbour's in its line."""
    if span.flags & SUPERSCRIPT:
        return True
    return any(
        o.line == span.line
        and o is not span
        and o.size > span.size
        and o.origin[1] - span.origin[1] > 0.2 * span.size
        for o in spans
    )


# ----------------------------------------------------------------------------- checks
def _covered(a, b) -> float:
    """How much of the smaller of two boxes the other covers (0 to 1)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / smaller if smaller > 0 else 0.0


def overprinted(page) -> list[str]:
    """Glyphs of different spans printed over each other (boxes overlapping by more than
    :data:`OVERPRINT` of the smaller): text run into other text."""
    spans, glyphs = read_page(page)
    grid: dict[tuple[int, int], list[Glyph]] = defaultdict(list)
    for g in glyphs:
        grid[(int(g.x // 4), int(g.y // 4))].append(g)
    found: dict[tuple[int, int], str] = {}
    for g in glyphs:
        gx, gy = int(g.x // 4), int(g.y // 4)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for h in grid[(gx + dx, gy + dy)]:
                    if h.span <= g.span:
                        continue
                    if _covered(g.bbox, h.bbox) > OVERPRINT:
                        key = (g.span, h.span)
                        if key not in found:
                            found[key] = (
                                f"page {page.number + 1}: {spans[g.span].text.strip()[:40]!r} "
                                f"over {spans[h.span].text.strip()[:40]!r} at "
                                f"({g.x:.0f}, {g.y:.0f}) pt"
                            )
    return list(found.values())


def _segments(page) -> list[tuple[float, float, float, float]]:
    """The straight horizontal and vertical lines stroked on the page (rules, box edges)."""
    segments = []
    for path in page.get_drawings():
        if "s" not in (path.get("type") or ""):
            continue
        for item in path["items"]:
            if item[0] == "l":
                (x0, y0), (x1, y1) = (item[1].x, item[1].y), (item[2].x, item[2].y)
                segments.append((x0, y0, x1, y1))
            elif item[0] == "re":
                r = item[1]
                segments += [
                    (r.x0, r.y0, r.x1, r.y0),
                    (r.x0, r.y1, r.x1, r.y1),
                    (r.x0, r.y0, r.x0, r.y1),
                    (r.x1, r.y0, r.x1, r.y1),
                ]
    return [s for s in segments if abs(s[0] - s[2]) < 0.01 or abs(s[1] - s[3]) < 0.01]


def struck_through(page) -> list[str]:
    """Text that a rule or a box edge runs through (text overrunning its box or cell)."""
    spans, glyphs = read_page(page)
    problems = {}
    for x0, y0, x1, y1 in _segments(page):
        for g in glyphs:
            gx0, gy0, gx1, gy1 = g.bbox
            # the glyph's core: a quarter in from each side of its box
            cx0, cx1 = gx0 + (gx1 - gx0) / 4, gx1 - (gx1 - gx0) / 4
            cy0, cy1 = gy0 + (gy1 - gy0) / 4, gy1 - (gy1 - gy0) / 4
            if abs(x0 - x1) < 0.01:  # vertical
                hit = cx0 < x0 < cx1 and min(y0, y1) < cy1 and max(y0, y1) > cy0
            else:  # horizontal
                hit = cy0 < y0 < cy1 and min(x0, x1) < cx1 and max(x0, x1) > cx0
            if hit and g.span not in problems:
                problems[g.span] = (
                    f"page {page.number + 1}: a line through {g.char!r} of "
                    f"{spans[g.span].text.strip()[:50]!r}"
                )
    return list(problems.values())


def off_page(page) -> list[str]:
    """Glyphs and drawings not wholly on the page."""
    width, height = page.rect.width, page.rect.height
    problems = []
    _, glyphs = read_page(page)
    for g in glyphs:
        x0, y0, x1, y1 = g.bbox
        if x0 < -0.5 or y0 < -0.5 or x1 > width + 0.5 or y1 > height + 0.5:
            problems.append(
                f"page {page.number + 1}: {g.char!r} at ({x0:.0f}, {y0:.0f}) pt "
                f"is off the {width:.0f} x {height:.0f} pt page"
            )
    for kind, rect in page.get_bboxlog():
        x0, y0, x1, y1 = rect
        if x0 < -0.5 or y0 < -0.5 or x1 > width + 0.5 or y1 > height + 0.5:
            problems.append(
                f"page {page.number + 1}: a {kind} at ({x0:.0f}, {y0:.0f}, {x1:.0f}, "
                f"{y1:.0f}) pt reaches off the page"
            )
    return problems


def small_text(page, minimum: float = MIN_TEXT_PT) -> list[str]:
    """Text under ``minimum`` points that is not a superscript."""
    spans, _ = read_page(page)
    return [
        f"page {page.number + 1}: {s.size:.2f} pt {s.text.strip()[:50]!r}"
        for s in spans
        if s.text.strip() and s.size < minimum - 0.01 and not is_superscript(s, spans)
    ]


def page_lines(doc) -> list[list[str]]:
    """Each page's text lines, in reading order, with whitespace collapsed."""
    pages = []
    for page in doc:
        text = page.get_text("text").replace("\u200b", "")
        pages.append([" ".join(line.split()) for line in text.splitlines() if line.strip()])
    return pages


def caption_problems(doc, paper_captions=PAPER_CAPTIONS, own_labels=OWN_LABELS) -> list[str]:
    """Every caption there, its label in bold exactly once, none numbered twice."""
    spans = [s for page in doc for s in read_page(page)[0]]
    bold_labels = [s.text.strip() for s in spans if s.bold and LABEL.fullmatch(s.text.strip())]
    text = " ".join(" ".join(lines) for lines in page_lines(doc))
    problems = []
    for caption in paper_captions:
        if caption not in text:
            problems.append(f"caption missing: {caption!r}")
    for label in [c.split(" ")[0] + " " + c.split(" ")[1] for c in paper_captions] + own_labels:
        count = bold_labels.count(label)
        if count != 1:
            problems.append(f"{label}: {count} captions carry this label (one expected)")
    for doubled in re.findall(r"(?:Table|Figure) \d+[:.]\s*(?:Table|Figure) \d+", text):
        problems.append(f"numbered twice: {doubled!r}")
    for automatic in re.findall(r"(?:Table|Figure) \d+:", text):
        problems.append(f"Typst's own numbering: {automatic!r}")
    return problems


def content_bottom(page) -> float:
    """Lowest point of anything printed on the page, the page number aside."""
    height = page.rect.height
    bottoms = [0.0]
    for kind, rect in page.get_bboxlog():
        if not kind.endswith("text") and rect[3] <= height:
            bottoms.append(rect[3])
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            text = "".join(s["text"] for s in line["spans"]).strip()
            folio = text.isdigit() and line["bbox"][1] > 0.85 * height
            if text and not folio:
                bottoms.append(line["bbox"][3])
    return max(bottoms)


def half_empty_pages(doc, text_top: float, text_height: float) -> list[str]:
    """Pages filled less than half way down, except the last and those before an appendix."""
    lines = page_lines(doc)
    problems = []
    for i, page in enumerate(doc):
        if i == len(doc) - 1 or any(line.startswith("Appendix ") for line in lines[i + 1][:2]):
            continue
        filled = (content_bottom(page) - text_top) / text_height
        if filled < 0.5:
            problems.append(f"page {i + 1} is filled only {filled:.0%} of the way down")
    return problems


def page_geometry(project: Path = ROOT / "report") -> tuple[float, float, float, float]:
    """Text width, text height, top margin and left margin (points) of the report's
    typst format (A4 in _quarto.yml)."""
    options = yaml.safe_load((project / "_quarto.yml").read_text())["format"]["typst"]
    assert options["papersize"] == "a4"
    width, height = 210 / 25.4 * PT_PER_IN, 297 / 25.4 * PT_PER_IN
    margin = {k: float(v.removesuffix("cm")) / 2.54 * PT_PER_IN for k, v in options["margin"].items()}
    return width - 2 * margin["x"], height - 2 * margin["y"], margin["y"], margin["x"]


def layout_problems(pdf: Path) -> dict[str, list[str]]:
    """Every check on one PDF: {check: [problem, ...]}."""
    text_width, text_height, top, _ = page_geometry()
    with pymupdf.open(pdf) as doc:
        return {
            "overprinted text": [p for page in doc for p in overprinted(page)],
            "text struck through by a line": [p for page in doc for p in struck_through(page)],
            "off the page": [p for page in doc for p in off_page(page)],
            f"text under {MIN_TEXT_PT:g} pt": [p for page in doc for p in small_text(page)],
            "captions": caption_problems(doc),
            "half-empty pages": half_empty_pages(doc, top, text_height),
        }


# ----------------------------------------------------------------------------- the checks work
def typst_pdf(tmp_path: Path, body: str) -> Path:
    import typst

    path = tmp_path / "probe.pdf"
    path.write_bytes(
        typst.compile(("#set page(width: 300pt, height: 200pt, margin: 20pt)\n" + body).encode())
    )
    return path


def test_the_checks_see_overprinted_text(tmp_path):
    pdf = typst_pdf(
        tmp_path,
        "#place(top + left)[Overprinted text here]"
        "#place(top + left, dx: 2pt)[Another line on it]\nClean line below.",
    )
    with pymupdf.open(pdf) as doc:
        assert overprinted(doc[0])
    clean = typst_pdf(
        tmp_path,
        "A paragraph of ordinary text that wraps onto a second line "
        "and then a third line, as body text does.\n\n#table(columns: 2, "
        "[a], [b], [c], [d])",
    )
    with pymupdf.open(clean) as doc:
        assert overprinted(doc[0]) == []


def test_the_checks_see_small_text_but_not_superscripts(tmp_path):
    pdf = typst_pdf(
        tmp_path, "#text(size: 6pt)[tiny words] and n (%)#super(typographic: false)[1] and n (%)#super[2]"
    )
    with pymupdf.open(pdf) as doc:
        problems = small_text(doc[0])
    assert len(problems) == 1 and "tiny words" in problems[0]


def test_the_checks_see_text_overrunning_its_box(tmp_path):
    pdf = typst_pdf(
        tmp_path, "#box(width: 40pt, stroke: 0.5pt, inset: 2pt)[#box(width: 90pt)[overrunning words]]"
    )
    with pymupdf.open(pdf) as doc:
        assert struck_through(doc[0])
    fits = typst_pdf(
        tmp_path,
        "#box(stroke: 0.5pt, inset: 2pt)[words inside]\n\n"
        "#table(columns: 2, stroke: 0.5pt, [a cell], [another])",
    )
    with pymupdf.open(fits) as doc:
        assert struck_through(doc[0]) == []


def test_the_checks_see_text_off_the_page(tmp_path):
    pdf = typst_pdf(tmp_path, "#place(top + left, dx: 270pt)[running off the edge]")
    with pymupdf.open(pdf) as doc:
        assert off_page(doc[0])


def test_the_checks_see_a_doubled_caption_number(tmp_path):
    pdf = typst_pdf(tmp_path, "#figure(rect(), caption: [*Figure 1* Consort diagram.])")
    with pymupdf.open(pdf) as doc:
        problems = caption_problems(doc, ["Figure 1 Consort diagram."], [])
    assert any("Typst's own numbering" in p or "numbered twice" in p for p in problems)


# ----------------------------------------------------------------------------- the report
# The report checked: the one this build makes, or the one $LAYOUT_TEST_PDF names (with
# its figures' SVGs in ../../figures/, as under results/), e.g. an earlier build's.
CHECKED = os.environ.get("LAYOUT_TEST_PDF")


@pytest.fixture(scope="module")
def results(request) -> Path:
    if CHECKED:
        return Path(CHECKED).resolve().parents[1]
    return results_of(request.getfixturevalue("built_project"))


@pytest.fixture(scope="module")
def report_pdf(results) -> Path:
    return Path(CHECKED) if CHECKED else results / "report" / "feasibility.pdf"


@pytest.fixture(scope="module")
def problems(report_pdf) -> dict[str, list[str]]:
    return layout_problems(report_pdf)


def test_no_text_is_printed_over_other_text(problems):
    assert problems["overprinted text"] == []


def test_no_line_runs_through_text(problems):
    assert problems["text struck through by a line"] == []


def test_nothing_lies_off_the_page(problems):
    assert problems["off the page"] == []


def test_no_text_under_7_pt_except_superscripts(problems):
    assert problems[f"text under {MIN_TEXT_PT:g} pt"] == []


def test_every_caption_is_there_once_with_the_papers_numbers(problems):
    assert problems["captions"] == []


def test_no_page_is_more_than_half_empty(problems):
    assert problems["half-empty pages"] == []


def _pages_with(doc, needle: str) -> list[int]:
    return [i for i, lines in enumerate(page_lines(doc)) if any(needle in line for line in lines)]


@pytest.mark.parametrize(
    "caption, header",
    [
        ("Table A1", ["Where in the paper", "Paper", "Reproduced", "Status", "Reason"]),
        ("Table B2", ["Where in the paper", "Check", "Verdict"]),
    ],
)
def test_long_tables_break_across_pages_with_their_header_repeated(report_pdf, caption, header):
    with pymupdf.open(report_pdf) as doc:
        pages = page_lines(doc)
        start = _pages_with(doc, caption)[0]
        # the table runs on while its header row opens the following pages
        follow = start + 1
        while follow < len(pages) and pages[follow][: len(header)] == header:
            follow += 1
        assert follow - start >= 2, f"{caption} does not continue on a second page"
        header_row = [i for i in range(start, follow) if all(label in pages[i] for label in header)]
        assert header_row == list(range(start, follow))


def _table_spans(doc, title: str) -> tuple[Span, list[Span]]:
    """The span holding a table's title and the spans below it on its page."""
    for page in doc:
        spans = read_page(page)[0]
        heading = next((s for s in spans if title in s.text), None)
        if heading:
            return heading, [s for s in spans if s.bbox[1] > heading.bbox[3] - 1]
    raise AssertionError(f"no page has {title!r}")


def test_table5_spanners_stand_over_exactly_their_columns(report_pdf):
    """The paper's Table 5: "14 weeks" over its Number and n, "6 months" over its own."""
    with pymupdf.open(report_pdf) as doc:
        _, below = _table_spans(doc, "Job offers, jobs accepted, and jobs")
    labels = sorted((s for s in below if s.text.strip() in ("Number", "n")), key=lambda s: s.bbox[1])
    row = sorted((s for s in labels if abs(s.bbox[1] - labels[0].bbox[1]) < 2), key=lambda s: s.bbox[0])
    assert [s.text.strip() for s in row] == ["Number", "n", "Number", "n"]
    for name, (first, last) in (("14 weeks", row[0:2]), ("6 months", row[2:4])):
        spanner = next(s for s in below if s.text.strip() == name)
        middle, width = (first.bbox[0] + last.bbox[2]) / 2, last.bbox[2] - first.bbox[0]
        assert abs((spanner.bbox[0] + spanner.bbox[2]) / 2 - middle) < 0.2 * width, name


def test_table4_stub_is_left_aligned_under_bold_row_groups(report_pdf):
    with pymupdf.open(report_pdf) as doc:
        _, spans = _table_spans(doc, "Work-related outcomes relating to the placement")
    group = next(s for s in spans if s.text.strip() == "Satisfaction with placement, n (%)")
    rows = [
        next(s for s in spans if s.text.strip() == label)
        for label in ("Very satisfied", "Satisfied", "Neither satisfied nor dissatisfied")
    ]
    assert group.bold and not any(r.bold for r in rows)
    assert max(r.bbox[0] for r in rows) - min(r.bbox[0] for r in rows) < 0.5  # one left edge
    assert rows[0].bbox[0] > group.bbox[0] + 4  # indented


def test_figures_print_at_the_size_they_are_drawn(report_pdf, results):
    """Every text of each figure's SVG prints at the SVG's own font size: no figure is
    scaled to fit, so the sizes set in figures/common.py are the printed sizes."""
    sizes = defaultdict(set)
    with pymupdf.open(report_pdf) as doc:
        for page in doc:
            for span in read_page(page)[0]:
                if "DejaVuSans" in span.font.replace(" ", "") and "Mono" not in span.font:
                    sizes[span.text.strip()].add(round(span.size, 1))
    for name in ("consort", "timeline", "completeness"):
        svg = ET.parse(results / "figures" / f"{name}.svg").getroot()
        checked = 0
        for text in svg.iter("{http://www.w3.org/2000/svg}text"):
            words = "".join(text.itertext()).strip()
            drawn = re.search(r"font-size: *([\d.]+)px", text.get("style", ""))
            if not words or not drawn or words not in sizes:
                continue
            # matplotlib writes SVG user units of 1/72 in (pt) but labels them px
            assert sizes[words] == {round(float(drawn[1]), 1)}, (name, words, sizes[words])
            checked += 1
        assert checked > 5, name


def test_figures_are_drawn_to_fit_the_printed_page(results):
    from feasibility.figures.common import MAX_FIGURE_HEIGHT_IN, TEXT_WIDTH_IN

    for name in ("consort", "timeline", "completeness"):
        svg = ET.parse(results / "figures" / f"{name}.svg").getroot()
        width, height = (float(svg.get(k).removesuffix("pt")) for k in ("width", "height"))
        assert width <= TEXT_WIDTH_IN * PT_PER_IN + 0.5, name
        assert height <= MAX_FIGURE_HEIGHT_IN * PT_PER_IN + 0.5, name


def test_figure_width_is_the_printed_text_width():
    """figures/common.py draws at the text width of the page _quarto.yml sets."""
    from feasibility.figures.common import TEXT_HEIGHT_IN, TEXT_WIDTH_IN

    width, height, _, _ = page_geometry()
    assert math.isclose(TEXT_WIDTH_IN * PT_PER_IN, width, abs_tol=0.1)
    assert math.isclose(TEXT_HEIGHT_IN * PT_PER_IN, height, abs_tol=0.1)


if __name__ == "__main__":
    found = layout_problems(Path(sys.argv[1]))
    for check, items in found.items():
        print(f"{check}: {len(items)}")
        for item in items[:15]:
            print(f"  {item}")
        if len(items) > 15:
            print(f"  ... and {len(items) - 15} more")
    sys.exit(1 if any(found.values()) else 0)
