"""Text is text (issue 20.1) in the data-quality report: a REDCap project whose labels hold
Quarto include shortcodes leading out of the project, script, raw HTML, Typst and LaTeX code,
math and Markdown links, built once (the project XML fixture with every kind of label
changed: events, arm, form, field, choice, section header, field note, missing-data code)
and rendered to HTML and PDF with pandoc and Typst.

No file of the build (tables, figures, alternative texts, the includes, the HTML, the PDF's
text) holds a line of /etc/passwd; the HTML has no element that the labels spell; and the
labels are shown as the text they are, in the HTML, the PDF, the figure and its alternative
text (the one arm's name is not shown: a report names arms when there are several).
Event, arm and form names are plain text in REDCap; field, choice and section labels
and field notes are REDCap's rich text (HTML), shown as their text: their tags are dropped
and their character references decoded, so ``&lt;script&gt;`` in a field label is the text
``<script>``, shown as such."""

from __future__ import annotations

import html as html_lib
import re
import shutil
import sys
from pathlib import Path
from xml.sax.saxutils import escape as xml_text, quoteattr

import pymupdf
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "redcap"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from page_text import Page, unspaced  # noqa: E402
from redcap_helpers import XML, XML_DATA, XML_FILE  # noqa: E402

from feasibility.quality import QualityData, build_quality_report, captions, load_settings  # noqa: E402
from feasibility.config import ValidationPaths  # noqa: E402
from feasibility.redcap import validate, validation_report, write_report, write_validated  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PASSWD = "root:x:0:0"
INCLUDE = "{{< include ../../../../../../../../../../../etc/passwd >}}"

# plain text in REDCap: shown exactly
EVENT = f"Baseline {INCLUDE} <script>alert('event')</script>"
ARM = f"Arm {INCLUDE} </style><img src=x onerror=alert(1)>"
FORM = f'Demographics {INCLUDE} #read("/etc/passwd") $x^2$ \\input{{/etc/passwd}} [x](javascript:alert(2))'
CODE_LABEL = f"Not applicable {INCLUDE} ```{{=html}} *em* @cite"
# REDCap's rich text: written with character references, shown as the text they decode to
FIELD = "Gender {{&lt; include /etc/passwd &gt;}} &lt;script&gt;alert(3)&lt;/script&gt; : --- $y$"
CHOICE = "Female {{&lt; include ../../../../../../../../etc/passwd &gt;}} &lt;img src=x onerror=alert(4)&gt;"
SECTION = "About you {{&lt; include /etc/passwd &gt;}} &lt;/style&gt;"
NOTE = "cm {{&lt; include /etc/passwd &gt;}} \\input{/etc/passwd} #set"

SHOWN = {
    "event": EVENT,
    "form": FORM,
    "field": html_lib.unescape(FIELD),
    "choice": html_lib.unescape(CHOICE),
    "code": CODE_LABEL,
}


def _hostile_project(folder: Path) -> Path:
    src = folder / "xml"
    shutil.copytree(XML, src)
    xml = (src / XML_FILE).read_text(encoding="utf-8")

    def sub(old: str, new: str, count: int = 1) -> None:
        nonlocal xml
        assert xml.count(old) >= count, old
        xml = xml.replace(old, new, count)

    sub(
        'Name="Baseline" Type="Common" Repeating="No" redcap:EventName="Baseline"',
        f'Name={quoteattr(EVENT)} Type="Common" Repeating="No" redcap:EventName={quoteattr(EVENT)}',
    )
    sub('redcap:ArmName="Arm 1"', f"redcap:ArmName={quoteattr(ARM)}", 3)
    sub(
        '<FormDef OID="Form.demographics" Name="Demographics"',
        f'<FormDef OID="Form.demographics" Name={quoteattr(FORM)}',
    )
    sub("<TranslatedText>Gender</TranslatedText>", f"<TranslatedText>{xml_text(FIELD)}</TranslatedText>")
    sub("<TranslatedText>Female</TranslatedText>", f"<TranslatedText>{xml_text(CHOICE)}</TranslatedText>")
    sub('redcap:SectionHeader="About you"', f"redcap:SectionHeader={quoteattr(SECTION)}")
    sub('redcap:FieldNote="cm"', f"redcap:FieldNote={quoteattr(NOTE)}")
    sub("NA, Not applicable", f"NA, {xml_text(CODE_LABEL)}")
    (src / XML_FILE).write_text(xml, encoding="utf-8")
    return src


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_labels")
    src = _hostile_project(folder)
    result = validate(src / XML_DATA, project_xml=src / XML_FILE)
    assert result.ok, [f.message() for f in result.failures]
    write_validated(result, folder / "validated")
    write_report(validation_report(result, {}, {}, {}), result.failures, ValidationPaths(str(folder)))
    data = QualityData.read(folder / "validated", folder / "report.json")
    settings = load_settings(
        {"study": {"title": "Hostile labels"}, "quality": {"recruitment": {"date_field": "call_date"}}}
    )
    files = build_quality_report(
        data, settings, folder / "report", report_src=ROOT / "report", render=True, backend="pandoc"
    )
    return folder / "report", {**files, "captions": captions(data, settings)}


def _pdf_text(path: Path) -> str:
    with pymupdf.open(path) as doc:
        return " ".join(page.get_text() for page in doc)


def test_no_file_of_the_build_holds_a_line_of_etc_passwd(built):
    out, files = built
    checked = 0
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        text = _pdf_text(path) if path.suffix == ".pdf" else path.read_bytes().decode("utf-8", "replace")
        assert PASSWD not in text, path
        checked += 1
    assert checked > 20 and files["html"].is_file() and files["pdf"].is_file()


def test_the_html_holds_no_element_the_labels_spell(built):
    out, files = built
    page = Page()
    page.feed(files["html"].read_text(encoding="utf-8"))
    tags = [tag for tag, _ in page.elements]
    assert "script" not in tags
    assert not [a for _, a in page.elements if any(k.startswith("on") for k in a)]
    assert not [a for t, a in page.elements if t == "a" and a.get("href", "").startswith("javascript:")]
    # the one image of each figure (completeness, completeness by site, recruitment), and no other
    assert [a["src"][:26] for t, a in page.elements if t == "img"] == ["data:image/svg+xml;base64,"] * 3


def test_the_labels_are_shown_as_the_text_they_are(built):
    out, files = built
    page = Page()
    page.feed(files["html"].read_text(encoding="utf-8"))
    html_text = unspaced("".join(page.text))
    pdf_text = unspaced(_pdf_text(files["pdf"]))
    for where, label in SHOWN.items():
        assert unspaced(label) in html_text, where
        assert unspaced(label) in pdf_text, where
    for caption in files["captions"].values():  # the report's own words are still there
        assert unspaced(caption.text) in html_text and unspaced(caption.text) in pdf_text
    # the figure: its alternative text (the img's alt in the HTML) and its drawn labels
    alts = [a.get("alt", "") for t, a in page.elements if t == "img"]
    assert any(EVENT in alt and FORM in alt for alt in alts)
    svg = files["completeness"].read_text(encoding="utf-8")
    drawn = unspaced(html_lib.unescape("".join(re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S))))
    assert unspaced(EVENT) in drawn and unspaced(FORM) in drawn
