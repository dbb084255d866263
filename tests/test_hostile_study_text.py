"""Text is text (issue 20.1) in the main report: a study file whose report title, section title,
figure caption, flow-diagram box label, table title and table footnote hold Quarto include
shortcodes leading out of the project, script, raw HTML, Typst and LaTeX code, YAML's
punctuation and Markdown links, built once with ``snakemake`` (pandoc and Typst).

No file of the results (tables, figures, alternative texts, the report's build copy, the HTML,
the PDF's text) holds a line of /etc/passwd; the HTML has no element the study file spells;
every string is shown as the text it is. Then the same study with Markdown that holds a
shortcode in a text block is refused before any job, naming the key."""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import pymupdf
import pytest

from page_text import Page, unspaced
from projectcopy import copy_project, results_of, run_snakemake

PASSWD = "root:x:0:0"
INCLUDE = "{{< include ../../../../../../../../../../etc/passwd >}}"

TITLE = (
    f"Trial <script>alert('title')</script> {INCLUDE} #set text(red) $x$ \\input{{/etc/passwd}}: --- report"
)
SECTION = f"Objectives {INCLUDE} <img src=x onerror=alert(1)>"
CAPTION = f"Consort diagram {INCLUDE} </style><script>alert(2)</script> [x](javascript:alert(3)) $y$"
BOX = f'Assessed {INCLUDE} #read("/etc/passwd") $z$'
TABLE_TITLE = f"Baseline <script>alert(4)</script> {INCLUDE} \\input{{/etc/passwd}} #pagebreak()"
FOOTNOTE = f"Areas {INCLUDE} <b onmouseover=alert(5)>x</b> `code`"


def _template(text: str) -> str:
    """Table titles and notes are templates: {{ and }} print a brace."""
    return text.replace("{", "{{").replace("}", "}}")


def _edit(config: Path) -> None:
    text = config.read_text(encoding="utf-8")

    def sub(old: str, new: str) -> None:
        nonlocal text
        assert text.count(old) == 1, old
        text = text.replace(old, new)

    sub("\nreport:\n  title: ", f"\nreport:\n  title: {json.dumps(TITLE)}\n  former_title: ")
    sub("    - title: Objectives\n", f"    - title: {json.dumps(SECTION)}\n")
    sub(
        "    caption: Consort diagram. The diagram shows the flow of participants through the study\n",
        f"    caption: {json.dumps(CAPTION)}\n",
    )
    sub("label: Assessed for eligibility, count: screened}", f"label: {json.dumps(BOX)}, count: screened}}")
    sub(
        '    title: "Baseline sample characteristics (n={N})"',
        f"    title: {json.dumps(_template(TABLE_TITLE))}",
    )
    sub(
        "      - text: Participants could report more than one area; percentages are of all participants.",
        f"      - text: {json.dumps(_template(FOOTNOTE))}",
    )
    config.write_text(text.replace("  former_title: ", "  # former title: "), encoding="utf-8")


def _pdf_text(path: Path) -> str:
    with pymupdf.open(path) as doc:
        return " ".join(page.get_text() for page in doc)


@pytest.mark.slow
def test_study_file_text_is_shown_as_text_in_the_main_report(tmp_path):
    (tmp_path / "proj").mkdir()
    proj = copy_project(tmp_path / "proj")
    _edit(proj / "config" / "config.yaml")
    res = run_snakemake(proj, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]

    results = results_of(proj)
    files = [p for p in results.rglob("*") if p.is_file()]
    assert len(files) > 50
    for path in files:
        text = _pdf_text(path) if path.suffix == ".pdf" else path.read_bytes().decode("utf-8", "replace")
        assert PASSWD not in text, path

    report = results / "report"
    page = Page()
    page.feed((report / "feasibility.html").read_text(encoding="utf-8"))
    assert "script" not in [tag for tag, _ in page.elements]
    assert not [a for _, a in page.elements if any(k.startswith("on") for k in a)]
    assert not [a for t, a in page.elements if t == "a" and a.get("href", "").startswith("javascript:")]

    html_text = unspaced("".join(page.text))
    pdf_text = unspaced(_pdf_text(report / "feasibility.pdf"))
    for text in (TITLE, SECTION, CAPTION, TABLE_TITLE, FOOTNOTE):
        assert unspaced(text) in html_text, text
        assert unspaced(text) in pdf_text, text
    # the flow diagram draws the box label, and its alternative text says it
    svg = next(results.rglob("consort.svg")).read_text(encoding="utf-8")
    drawn = unspaced(html_lib.unescape("".join(re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S))))
    assert unspaced(BOX) in drawn
    assert any(BOX in a.get("alt", "") for t, a in page.elements if t == "img")

    # Markdown the study author writes may not include files: refused before any job, by key
    config = proj / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            "        - text: |\n            This report re-derives",
            f"        - text: |\n            {INCLUDE}\n\n            This report re-derives",
            1,
        ),
        encoding="utf-8",
    )
    res = run_snakemake(proj)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "report.sections[0].content[0].text holds a shortcode" in out, out[-3000:]
    assert PASSWD not in out
