"""Text is text (issue 20.1): each escaping function of ``feasibility.escape`` against hostile
strings, read back by the program that reads that format (pandoc, Typst, a YAML reader, an
HTML parser, great-tables, matplotlib); the report's include expansion; the study author's
Markdown refused with what it must not hold, naming its key.

The end-to-end builds are in tests/quality/test_quality_hostile_labels.py (REDCap labels, the
quality report) and tests/test_hostile_study_text.py (study-file text, the main report)."""

from __future__ import annotations

import html as html_lib
import json
import re
import subprocess
from pathlib import Path

import pymupdf
import pytest
import yaml

from feasibility import escape
from feasibility.config import ConfigError, load_study
from feasibility.render import RenderError, expand_includes, render_report
from page_text import parsed

ROOT = Path(__file__).resolve().parents[1]
PASSWD = "root:x:0:0"

# Each names one way text could become something else in one of the formats.
HOSTILE = [
    "{{< include ../../../../../../../../etc/passwd >}}",
    "{{< include /etc/passwd >}}",
    "{{< env HOME >}} {{< meta title >}}",
    "<script>alert('x')</script>",
    "</style><style>body{display:none}</style>",
    "<img src=x onerror=alert(1)>",
    '#raw("x") #read("/etc/passwd") $x^2$ @ref <label>',
    "\\input{/etc/passwd} \\include{x} $\\frac{1}{2}$",
    "key: value --- ... & *alias !!python/object",
    "[x](javascript:alert(1)) ![y](/etc/passwd) <http://a.b>",
    '`code` ``{=html}`` ```{=typst}``` **bold** _em_ ~sub~ ^sup^ [span]{onclick="a()"}',
    "a\n```{=html}\n<script>x</script>\n```\nb",
    "&lt;script&gt; &amp; &#60; 100% 50 $ and 20 $ {N} {{x}} \\ | #",
]
PLAIN = ["Participants’ flow — 6 weeks (n = 31)", "Baseline sample characteristics", "EQ-5D-5L index"]


def pandoc(text: str, *args: str, to: str = "json") -> str:
    import pypandoc

    return subprocess.run(
        [pypandoc.get_pandoc_path(), "--from", "markdown", "--to", to, *args],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def inline_text(inlines: list) -> str:
    """The text of pandoc inlines, failing on anything but text (a quote is typography)."""
    out = []
    for node in inlines:
        kind = node["t"]
        if kind == "Str":
            out.append(node["c"])
        elif kind in ("Space", "SoftBreak"):
            out.append(" ")
        elif kind == "Quoted":
            quote = "'" if node["c"][0]["t"] == "SingleQuote" else '"'
            out.append(quote + inline_text(node["c"][1]) + quote)
        else:
            raise AssertionError(f"not text: {kind} {node}")
    return "".join(out)


def collapsed(text: str) -> str:
    return " ".join(text.split())


def straight(text: str) -> str:
    """Text with pandoc's typographic quotes back as typed (smart quotes are typography)."""
    return text.translate(str.maketrans("‘’“”", "''\"\""))


def unspaced(text: str) -> str:
    """Text without any space (a PDF's lines break inside long words)."""
    return re.sub(r"[\s\u200b]+", "", text)


# ----------------------------------------------------------------------------- Markdown
@pytest.mark.parametrize("text", HOSTILE + PLAIN)
def test_markdown_is_read_back_as_the_same_text_and_nothing_else(text):
    shapes = ("{}", "# {}", "- {}", "**Figure 1** {}")  # a paragraph, a heading, a list item, a caption
    blocks = json.loads(pandoc("\n\n".join(s.format(escape.markdown(text)) for s in shapes)))["blocks"]
    assert [b["t"] for b in blocks] == ["Para", "Header", "BulletList", "Para"]
    para, header, items, caption = blocks
    assert caption["c"][0]["t"] == "Strong"
    for inlines in (para["c"], header["c"][2], items["c"][0][0]["c"], caption["c"][2:]):
        assert inline_text(inlines) == collapsed(text)


def test_markdown_leaves_no_shortcode_for_quarto_or_the_pandoc_back_end():
    for text in HOSTILE:
        assert "{{<" not in escape.markdown(text)
        assert "{{<" not in escape.alt(text) and "{{<" not in escape.html(text)


@pytest.mark.parametrize("text", HOSTILE + PLAIN)
def test_alt_is_read_back_as_the_same_attribute_value(text):
    ast = json.loads(pandoc(f'![cap](x.svg){{fig-alt="{escape.alt(text)}"}}'))
    image = ast["blocks"][0]["c"][2][0]["c"][0]
    assert image["t"] == "Image"
    assert dict(image["c"][0][2]) == {"fig-alt": collapsed(text)}


@pytest.mark.parametrize(
    "text", ["python -m feasibility.synth --out data/raw", "a ` b `` c", "`x`", "<script>"]
)
def test_code_is_one_code_span_of_the_text(text):
    (para,) = json.loads(pandoc("Run " + escape.code(text) + "."))["blocks"]
    code = [n for n in para["c"] if n["t"] == "Code"]
    assert len(code) == 1 and code[0]["c"][1] == text


# ----------------------------------------------------------------------------- YAML front matter
@pytest.mark.parametrize("text", HOSTILE + PLAIN + ["line\u2028separator \x85 \ufeff é 😀 \t tab"])
def test_yaml_scalar_reads_back_as_the_same_string(text):
    assert yaml.safe_load(f"title: {escape.yaml_scalar(text)}\n") == {"title": text}
    assert json.loads(escape.yaml_scalar(text)) == text  # and a YAML 1.2 (JSON) reader too


# ----------------------------------------------------------------------------- HTML and great-tables


@pytest.mark.parametrize("text", HOSTILE)
def test_html_is_text_and_no_element(text):
    page = parsed(f'<p title="{escape.html(text)}">{escape.html(text)}</p>')
    assert page.elements == [("p", {"title": text})]
    assert "".join(page.text) == text


def test_great_tables_labels_are_shown_as_they_are():
    """great-tables reads ``{{...}}`` in a column or spanner label as units and then leaves the
    rest of the label unescaped: every label goes through escape.gt."""
    from feasibility.tables.common import build_gt, cell, cells_frame, html_fragment

    text = "{{< include /etc/passwd >}} <script>alert(1)</script> {{m^2}}"
    cells = cells_frame(
        [
            cell("t", text, text, "a", "count", decimals=0, estimate=3, n=3),
            cell("t", text, text, "b", "count", decimals=0, estimate=4, n=4),
        ]
    )
    gt = build_gt(
        cells,
        table_id="t",
        title=text,
        columns={"a": text, "b": "B"},
        value_label=text,
        stub_label=text,
        label="Table 1",
    )
    fragment = html_fragment(gt)
    page = parsed(fragment)
    assert not [t for t, _ in page.elements if t in ("script", "blockquote", "sup")]
    words = "".join(page.text)
    assert words.count(text) >= 5  # title, spanner, column label, row group, row label


# ----------------------------------------------------------------------------- Typst
def test_typst_is_set_as_the_same_text():
    from feasibility.render import compile_typst

    body = "\n\n".join(escape.typst(collapsed(t)) for t in HOSTILE + PLAIN)
    pdf = compile_typst("#set page(width: 20cm, height: auto)\n" + body, ROOT, None)
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        shown = collapsed(" ".join(page.get_text() for page in doc))
    for text in HOSTILE + PLAIN:
        assert collapsed(text) in shown
    assert PASSWD not in shown


def test_typeset_tables_take_labels_as_text():
    import pandas as pd

    from feasibility.tables.common import frame_gt
    from feasibility.typeset import model_to_typst

    text = '#read("/etc/passwd") $x$ <script>'
    typ = model_to_typst(frame_gt(pd.DataFrame({text: [text]}), title=text))
    assert not re.search(r"(?<!\\)#read", typ) and typ.count("\\#read") == 3


# ----------------------------------------------------------------------------- figures
def test_figures_draw_a_dollar_as_a_dollar():
    """matplotlib reads $...$ as mathtext (and fails on bad TeX): the report's style turns it off."""
    from feasibility.figures.common import new_figure, figure_style, svg_bytes

    text = "Cost $5 to $\\frac{1}{ \\input{/etc/passwd}$ <script>"
    with figure_style():
        fig = new_figure(4, 1)
        fig.text(0.1, 0.5, text)
    svg = svg_bytes(fig, alt_text=text, title=text).decode()
    shown = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text\b.*?</text>", svg, re.S)]
    assert html_lib.unescape("".join(shown)) == text
    assert "<script>" not in svg


# ----------------------------------------------------------------------------- includes
def _project(tmp_path: Path, body: str, extra: dict[str, str] | None = None) -> Path:
    project = tmp_path / "report"
    (project / "_generated").mkdir(parents=True)
    (project / "feasibility.qmd").write_text('---\ntitle: "T"\n---\n\n' + body, encoding="utf-8")
    for name, text in (extra or {}).items():
        (project / name).write_text(text, encoding="utf-8")
    return project


def test_includes_of_the_reports_own_files_are_expanded(tmp_path):
    project = _project(
        tmp_path,
        "{{< include _generated/a.md >}}\n",
        {"_generated/a.md": "A\n\n{{< include /_generated/b.md >}}\n", "_generated/b.md": "B\n"},
    )
    assert "\nA\n\nB\n" in expand_includes(project / "feasibility.qmd", project)


@pytest.mark.parametrize(
    "include",
    [
        "../../../../../../../../etc/passwd",
        "/../../../../../../etc/passwd",
        "_generated/../../outside.md",
        "_generated/link.md",
    ],
)
def test_an_include_leading_out_of_the_report_is_refused(tmp_path, include):
    project = _project(tmp_path, f"{{{{< include {include} >}}}}\n")
    (tmp_path / "outside.md").write_text(PASSWD)
    (project / "_generated" / "link.md").symlink_to(tmp_path / "outside.md")
    with pytest.raises(RenderError, match="outside the report's folder"):
        expand_includes(project / "feasibility.qmd", project)


def test_an_include_inside_a_line_of_text_is_not_expanded_and_the_render_refuses_it(tmp_path):
    project = _project(tmp_path, "Label {{< include /etc/passwd >}} here\n")
    assert "{{< include /etc/passwd >}}" in expand_includes(project / "feasibility.qmd", project)
    with pytest.raises(RenderError, match="stand alone on their line"):
        render_report(project, tmp_path / "out", formats=("html",), backend="pandoc")


def test_a_raw_block_cannot_be_closed_by_a_label(tmp_path):
    from feasibility.report_content import table_block

    fragment = "<table><tbody><tr><td>a\n```\n![x](/etc/passwd)\n```{=html}\nb</td></tr></tbody></table>"
    typst = 'a\n```\n#read("/etc/passwd")\n```{=typst}\nb'
    blocks = json.loads(pandoc(table_block(fragment, typst)))["blocks"]
    assert [b["t"] for b in blocks] == ["RawBlock", "RawBlock"]


# ----------------------------------------------------------------------------- the front matter
def test_a_hostile_title_renders_as_its_text(tmp_path):
    """The title goes through the YAML front matter (pandoc and Quarto read it as Markdown),
    into the HTML's <title> and heading and the PDF's title, as the text it is."""
    from feasibility.report_content import write_qmd

    title = (
        "Trial <script>alert('title')</script> #set text(red) $x$ \\input{/etc/passwd} "
        '{{< include /etc/passwd >}}: --- key: [a, b] & *x \\1 \\g<0> "quoted"'
    )
    project = tmp_path / "report"
    project.mkdir()
    (project / "feasibility.qmd").write_text((ROOT / "report" / "feasibility.qmd").read_text())
    write_qmd(project / "feasibility.qmd", {"study": {"title": title}, "report": {}}, None, "Body text.\n")
    out = render_report(project, tmp_path / "out", backend="pandoc")
    page = out["html"].read_text(encoding="utf-8")
    assert "script" not in [t for t, _ in parsed(page).elements]
    heading = re.search(r'<h1 class="title">(.*?)</h1>', page, re.S)[1]
    assert straight(html_lib.unescape(re.sub(r"<[^>]+>", "", heading))) == title
    assert straight(html_lib.unescape(re.search(r"<title>(.*?)</title>", page, re.S)[1])) == title
    with pymupdf.open(out["pdf"]) as doc:
        text = straight(doc[0].get_text())
    assert unspaced(title) in unspaced(text) and PASSWD not in text


# ----------------------------------------------------------------------------- the author's Markdown
REFUSED = {
    "{{< include ../../etc/passwd >}}": "a shortcode",
    "Text {{< env HOME >}} here.": "a shortcode",
    "<script>alert(1)</script>": "raw HTML",
    "Text <img src=x onerror=alert(1)> here.": "raw HTML",
    "```{=html}\n<b>x</b>\n```": "raw HTML",
    '```{=typst}\n#read("/etc/passwd")\n```': "a raw block for typst",
    "Text `#pagebreak()`{=typst} here.": "raw inline content for typst",
    "Text \\input{/etc/passwd} here.": "raw inline content for tex",
    "![x](/etc/passwd)": "an image",
    "[x](javascript:alert(1))": "a link to 'javascript:alert(1)'",
    "[x](file:///etc/passwd)": "a link to",
    '[x]{onclick="alert(1)"}': "an attribute (onclick)",
}


@pytest.mark.parametrize("text", list(REFUSED))
def test_the_authors_markdown_is_refused_naming_the_key(tmp_path, text):
    study = tmp_path / "study.yaml"
    config = {
        "study": {"title": "T"},
        "redcap": {
            "records": str(ROOT / "data/raw/records.csv"),
            "dictionary": str(ROOT / "data/raw/data_dictionary.csv"),
            "instrument_designations": str(ROOT / "data/raw/instrument_designations.csv"),
            "events": str(ROOT / "data/raw/events.csv"),
        },
        "report": {
            "sections": [{"title": "Intro", "content": [{"text": "Fine *text*."}, {"text": text}]}],
            "narrative": {"story": "Also.\n\n" + text},
        },
    }
    study.write_text(yaml.safe_dump(config, sort_keys=False))
    with pytest.raises(ConfigError) as error:
        load_study(study)
    message = str(error.value)
    assert f"report.sections[0].content[1].text holds {REFUSED[text]}" in message
    assert f"report.narrative.story holds {REFUSED[text]}" in message
    assert "report.sections[0].content[0]" not in message
    assert str(study) in message


def test_the_shipped_studies_markdown_is_allowed():
    for name in ("config/config.yaml", "config/studies/full-trial.yaml"):
        config = load_study(ROOT / name)
        assert escape.markdown_problems(config) == []
        assert list(escape.markdown_texts(config))


def test_plain_links_emphasis_and_lists_are_allowed():
    text = (
        "See [the paper](https://doi.org/10.1186/s40814-020-00581-6), [Methods](#methods) and "
        "<https://example.org>; *emphasis*, **strong**, `code`,\n\n1. a list\n2. of items\n"
    )
    escape.check_markdown(text, "report.narrative.x")
