"""Rendering the report: include expansion, the pandoc + Typst back end on a real
great-tables table and matplotlib SVG, and the Quarto back end against a stand-in
`quarto` executable (tests/fixtures/render/quarto_standin.py)."""

from __future__ import annotations

import base64
import json
import logging
import re
import shutil
import stat
import sys
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from great_tables import GT, loc
from pypdf import PdfReader

from feasibility.render import (
    BACKEND_ENV,
    RenderError,
    expand_includes,
    find_quarto,
    quarto_warnings,
    render_options,
    render_report,
)
from feasibility.report_content import md_table, table_block
from feasibility.tables.common import build_gt, cell, cells_frame, frame_gt, html_fragment
from feasibility.tables.model import Table
from feasibility.typeset import model_to_typst

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "render"
EPOCH = 1_700_000_000  # 2023-11-14 22:13:20 UTC


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


# ----------------------------------------------------------------------------- fixture project
def outcome_table() -> GT:
    """A small table shaped like the paper's outcome tables: stub, row groups, a spanner,
    a footnote on a column label and a source note."""
    df = pd.DataFrame(
        {
            "group": ["Symptoms", "Symptoms", "Work"],
            "measure": ["Pain interference", "Fatigue", "Work self-efficacy"],
            "n": [28, 28, 27],
            "mean": [24.5, 22.0, 6.2],
            "sd": [6.1, 7.3, 1.9],
        }
    )
    return (
        GT(df, id="t1", rowname_col="measure", groupname_col="group")
        .tab_header(title="Table 3. Outcome measures at baseline")
        .tab_spanner(label="Summary statistics", columns=["mean", "sd"])
        .fmt_number(columns=["mean", "sd"], decimals=1)
        .cols_label(mean="Mean", sd="SD")
        .tab_footnote("SD, standard deviation.", locations=loc.column_labels(columns="sd"))
        .tab_source_note("Source: fixture data, not study results.")
    )


def write_flow_figure(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "fixture"}):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.bar(["Screened", "Placed"], [60, 18])
        ax.set_title("Screened to placed")
        fig.savefig(path, format="svg", metadata={"Date": None})
        plt.close(fig)


def report_table() -> Table:
    """A table as the report builds them (tables/common.build_gt): numbered caption, row
    groups, spanners over two columns each, a footnote mark, a source note."""
    cells = cells_frame(
        [
            cell("t2", group, label, column, "mean_sd", decimals=1, estimate=mean, sd=sd, n=n)
            for group, label, column, mean, sd, n in [
                ("Symptoms", "Pain interference", "week6", 24.5, 6.1, 28),
                ("Symptoms", "Pain interference", "month6", 22.0, 7.3, 25),
                ("Work", "Work self-efficacy", "week6", 6.2, 1.9, 27),
                ("Work", "Work self-efficacy", "month6", 6.6, 2.0, 26),
            ]
        ]
    )
    gt = build_gt(
        cells,
        table_id="t2",
        label="Table 7",
        title="Outcomes by follow-up",
        columns={"week6": "6 weeks", "month6": "6 months"},
        value_label="Mean (SD)",
        n_label="n",
        stub_label="Measure",
    )
    return gt.tab_footnote("Standard deviation of the scores.", locations=loc.stub(rows=[0])).tab_source_note(
        "Source: fixture data, not study results."
    )


LONG_ROWS = 120


def long_table() -> pd.DataFrame:
    """Longer than an A5 page: it must break across pages."""
    return pd.DataFrame(
        {
            "key": [f"fixture.section_{i % 7}.a_long_configuration_key_{i:03d}" for i in range(LONG_ROWS)],
            "value": [f"{i / 7:.2f}" for i in range(LONG_ROWS)],
            "status": ["match" if i % 5 else "published value inconsistent" for i in range(LONG_ROWS)],
        }
    )


def make_project(root: Path) -> Path:
    project = root / "project"
    shutil.copytree(FIXTURES / "project", project)
    html = outcome_table().as_raw_html()
    (project / "_generated").mkdir()
    (project / "_generated" / "t1.md").write_text(f"```{{=html}}\n{html}\n```\n", encoding="utf-8")
    (project / "_generated" / "t2.md").write_text(
        table_block(html_fragment(report_table()), model_to_typst(report_table())), encoding="utf-8"
    )
    (project / "_generated" / "long.md").write_text(
        md_table(long_table(), label="Table A1", title="A long table"), encoding="utf-8"
    )
    write_flow_figure(project / "figures" / "flow.svg")
    return project


@pytest.fixture(scope="module")
def pandoc_renders(tmp_path_factory):
    """The fixture project rendered twice with the pandoc back end, and once without an epoch."""
    root = tmp_path_factory.mktemp("render")
    project = make_project(root)
    first = render_report(project, root / "first", backend="pandoc", source_date_epoch=EPOCH)
    second = render_report(project, root / "second", backend="pandoc", source_date_epoch=EPOCH)
    undated = render_report(project, root / "undated", formats=("pdf",), backend="pandoc")
    return first, second, undated


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


# ----------------------------------------------------------------------------- pandoc back end
def test_pandoc_backend_writes_both_formats_where_asked(pandoc_renders, tmp_path):
    first, _, _ = pandoc_renders
    assert set(first) == {"html", "pdf"}
    assert first["html"].name == "feasibility.html" and first["pdf"].name == "feasibility.pdf"
    assert first["pdf"].read_bytes().startswith(b"%PDF-")
    assert not [
        p for p in first["html"].parent.iterdir() if p.name.startswith(".")
    ]  # no temporary files left


def test_html_keeps_the_great_tables_table_and_inlines_the_figure(pandoc_renders):
    html = pandoc_renders[0]["html"].read_text(encoding="utf-8")
    assert 'id="t1"' in html
    assert "Summary statistics" in html and "Source: fixture data, not study results." in html
    assert "<title>Fixture feasibility report</title>" in html
    assert "max-width: 41.5em" in html  # the project's CSS is embedded
    # the figure is inside the page: an inline <svg> or a data: URI holding the SVG
    svgs = [
        base64.b64decode(m).decode() for m in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    ]
    svgs += re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL)
    assert any("Screened to placed" in svg for svg in svgs)
    assert "Figure 1. Flow of participants through the study" in html


def test_html_table_of_contents_follows_project_and_front_matter(pandoc_renders):
    html = pandoc_renders[0]["html"].read_text(encoding="utf-8")
    toc = re.search(r'<nav id="TOC".*?</nav>', html, flags=re.DOTALL)
    assert toc, "_quarto.yml asks for a table of contents"
    assert "Results" in toc[0]
    assert "Outcome measures" not in toc[0]  # front matter's toc-depth: 1 overrides the default depth 3


def test_html_loads_nothing_from_the_network(pandoc_renders):
    html = pandoc_renders[0]["html"].read_text(encoding="utf-8")
    references = re.findall(r'\b(?:src|href)\s*=\s*["\']([^"\']*)', html, flags=re.IGNORECASE)
    references += re.findall(r"url\(\s*['\"]?([^'\")]*)", html)
    references += re.findall(r"@import\s+(?:url\()?\s*['\"]?([^'\"\s;)]*)", html)
    assert references, "the check must see the page's references"
    external = [r for r in references if re.match(r"\s*(https?:)?//", r, flags=re.IGNORECASE)]
    assert external == []


def test_pdf_holds_the_table_as_a_real_table_and_the_figure(pandoc_renders):
    text = pdf_text(pandoc_renders[0]["pdf"])
    for expected in [
        "Fixture feasibility report",
        "Table 3. Outcome measures at baseline",
        "Summary statistics",
        "Symptoms",
        "Work",
        "Pain interference",
        "Work self-efficacy",
        "24.5",
        "6.1",
        "7.3",
        "1.9",
        "SD, standard deviation.",
        "Source: fixture data, not study results.",
        "Figure 1. Flow of participants through the study",
        "Screened to placed",
    ]:  # the SVG's text, drawn as text
        assert expected in text, expected
    assert "Figure 1: Figure 1" not in text  # the header switches Typst's own numbering off
    assert "Figure 1:" not in text


def pdf_spans(path: Path) -> list[list[dict]]:
    """Each page's text spans with their positions (PyMuPDF); the zero-width spaces that let
    a long key break are left out of the text."""
    import pymupdf

    with pymupdf.open(path) as doc:
        return [
            [
                dict(span, page=page.number, text=span["text"].replace("\u200b", ""))
                for block in page.get_text("dict")["blocks"]
                for line in block.get("lines", [])
                for span in line["spans"]
                if span["text"].strip()
            ]
            for page in doc
        ]


def find(spans: list[dict], text: str) -> list[dict]:
    return [s for s in spans if s["text"].strip() == text]


def test_report_tables_are_typeset_in_the_pdf_from_their_own_typst(pandoc_renders):
    pdf, html = pandoc_renders[0]["pdf"], pandoc_renders[0]["html"].read_text(encoding="utf-8")
    text = " ".join(pdf_text(pdf).split())
    assert text.count("Table 7 Outcomes by follow-up") == 1  # the caption, numbered once
    assert "Table 7:" not in text and "Table 1:" not in text
    assert "Source: fixture data, not study results." in text and "Standard deviation of the scores." in text
    # the HTML has the great-tables table and none of the Typst
    assert 'id="t2"' in html and "#table(" not in html and "table.header" not in html
    spans = [s for page in pdf_spans(pdf) for s in page]
    label = find(spans, "Table 7")
    assert len(label) == 1 and "Bold" in label[0]["font"]


def test_pdf_tables_look_like_the_papers(pandoc_renders):
    """Stub left-aligned with rows indented under bold row groups, numbers right-aligned,
    each spanner centred over exactly its own two columns."""
    spans = [s for page in pdf_spans(pandoc_renders[0]["pdf"]) for s in page]
    # the last of each: the fixture's plain great-tables table t1 comes first
    symptoms, work = find(spans, "Symptoms")[-1], find(spans, "Work")[-1]
    pain, efficacy = find(spans, "Pain interference")[-1], find(spans, "Work self-efficacy")[-1]
    assert "Bold" in symptoms["font"] and "Bold" in work["font"]
    assert symptoms["bbox"][0] == pytest.approx(work["bbox"][0], abs=0.5)
    assert pain["bbox"][0] == pytest.approx(efficacy["bbox"][0], abs=0.5)  # left-aligned stub
    assert pain["bbox"][0] > symptoms["bbox"][0] + 5  # indented
    a, b = find(spans, "24.5 (6.1)")[0], find(spans, "6.2 (1.9)")[0]
    assert a["bbox"][2] == pytest.approx(b["bbox"][2], abs=0.5)  # right-aligned
    labels = sorted(find(spans, "Mean (SD)") + find(spans, "n"), key=lambda s: s["bbox"][0])
    labels = [s for s in labels if abs(s["bbox"][1] - labels[0]["bbox"][1]) < 2]
    assert len(labels) == 4  # Mean (SD), n, Mean (SD), n
    for spanner, (first, last) in (("6 weeks", labels[0:2]), ("6 months", labels[2:4])):
        box = find(spans, spanner)[0]["bbox"]
        centre = (box[0] + box[2]) / 2
        assert first["bbox"][0] < centre < last["bbox"][2], spanner
        assert box[0] >= first["bbox"][0] - 12 and box[2] <= last["bbox"][2] + 12, spanner


def test_long_tables_break_across_pages_with_their_header_repeated(pandoc_renders):
    pages = pdf_spans(pandoc_renders[0]["pdf"])
    with_rows = [page for page in pages if any(s["text"].startswith("fixture.section") for s in page)]
    assert len(with_rows) >= 3
    for page in with_rows:  # the header row opens every page of the table
        first_row = min(s["bbox"][1] for s in page if s["text"].startswith("fixture.section"))
        header = {s["text"].strip() for s in page if s["bbox"][1] < first_row}
        assert {"key", "value", "status"} <= header
    shown = sum(1 for page in with_rows for s in page if s["text"].startswith("fixture.section"))
    assert shown >= LONG_ROWS  # every row (a long key may wrap onto a second line)


def test_pdf_page_margins_follow_the_project(pandoc_renders):
    # _quarto.yml: margin x 1.5 cm = 42.5 pt; the text starts there
    spans = [s for page in pdf_spans(pandoc_renders[0]["pdf"]) for s in page]
    assert min(s["bbox"][0] for s in spans) == pytest.approx(1.5 / 2.54 * 72, abs=1)


def test_typst_warnings_are_logged(project, tmp_path, caplog):
    header = project / "assets" / "header.typ"
    header.write_text(header.read_text() + '\n#set text(font: "No Such Font Family")\n')
    with caplog.at_level(logging.WARNING, logger="feasibility"):
        render_report(project, tmp_path / "out", formats=("pdf",), backend="pandoc")
    assert any(
        r.getMessage().startswith("typst: unknown font family: no such font family") for r in caplog.records
    )


def test_pdf_pages_fonts_and_date_are_fixed(pandoc_renders):
    reader = PdfReader(pandoc_renders[0]["pdf"])
    # papersize a5 from _quarto.yml: 148 mm = 148 / 25.4 * 72 = 419.5 pt wide
    assert float(reader.pages[0].mediabox.width) == pytest.approx(419.5, abs=0.5)
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("DejaVuSans" in name for name in fonts)  # matplotlib's font, not the system's
    assert reader.metadata["/CreationDate"] == "D:20231114221320Z"  # EPOCH in UTC


def test_two_renders_are_byte_identical(pandoc_renders):
    first, second, _ = pandoc_renders
    assert first["html"].read_bytes() == second["html"].read_bytes()
    assert first["pdf"].read_bytes() == second["pdf"].read_bytes()


def test_pdf_without_source_date_epoch_carries_no_date(pandoc_renders, tmp_path):
    undated = pandoc_renders[2]["pdf"]
    assert "/CreationDate" not in PdfReader(undated).metadata
    again = render_report(undated.parents[1] / "project", tmp_path, formats=("pdf",), backend="pandoc")
    assert again["pdf"].read_bytes() == undated.read_bytes()


def test_missing_figure_is_a_clear_error(tmp_path):
    project = make_project(tmp_path)
    (project / "figures" / "flow.svg").unlink()
    with pytest.raises(RenderError, match=r"figure image not found: figures/flow\.svg"):
        render_report(project, tmp_path / "out", backend="pandoc")


def test_unsupported_shortcode_is_a_clear_error(tmp_path):
    project = make_project(tmp_path)
    with (project / "sections" / "results.md").open("a") as f:
        f.write("\n{{< pagebreak >}}\n")
    with pytest.raises(RenderError, match=r"only include shortcodes.*pagebreak"):
        render_report(project, tmp_path / "out", backend="pandoc", formats=("html",))


# ----------------------------------------------------------------------------- include expansion
def test_includes_expand_recursively_relative_to_the_including_file(tmp_path):
    (tmp_path / "parts" / "deeper").mkdir(parents=True)
    (tmp_path / "main.qmd").write_text("Start\n{{< include parts/a.md >}}\nEnd\n")
    (tmp_path / "parts" / "a.md").write_text("A1\n{{< include deeper/b.md >}}\n{{<include /top.md>}}\nA2\n")
    (tmp_path / "parts" / "deeper" / "b.md").write_text("B")
    (tmp_path / "top.md").write_text("T")
    # b.md is found beside a.md (parts/deeper/b.md); /top.md from the project root
    assert expand_includes(tmp_path / "main.qmd", tmp_path) == "Start\nA1\nB\nT\nA2\n\nEnd\n"


def test_missing_include_names_the_file(tmp_path):
    (tmp_path / "main.qmd").write_text("{{< include _generated/table2.md >}}\n")
    with pytest.raises(RenderError, match=r"main\.qmd: included file not found: _generated/table2\.md"):
        expand_includes(tmp_path / "main.qmd")


def test_missing_include_stops_the_render(tmp_path):
    project = make_project(tmp_path)
    (project / "_generated" / "t1.md").unlink()
    with pytest.raises(RenderError, match=r"results\.md: included file not found: \.\./_generated/t1\.md"):
        render_report(project, tmp_path / "out", backend="pandoc")
    assert not (tmp_path / "out" / "feasibility.html").exists()


def test_include_cycle_is_an_error(tmp_path):
    (tmp_path / "a.md").write_text("{{< include b.md >}}")
    (tmp_path / "b.md").write_text("{{< include a.md >}}")
    with pytest.raises(RenderError, match=r"include cycle .*a\.md -> b\.md -> a\.md"):
        expand_includes(tmp_path / "a.md")


# ----------------------------------------------------------------------------- Quarto back end
@pytest.fixture
def standin(tmp_path, monkeypatch):
    """A stand-in `quarto` in its own folder; returns (executable, log of its calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    quarto = bin_dir / "quarto"
    quarto.write_text(f"#!{sys.executable}\n" + (FIXTURES / "quarto_standin.py").read_text())
    quarto.chmod(quarto.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "quarto-calls.jsonl"
    monkeypatch.setenv("STANDIN_QUARTO_LOG", str(log))
    return quarto, log


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path)


def test_quarto_is_called_once_per_format_with_an_output_dir(standin, project, tmp_path):
    quarto, log = standin
    out = tmp_path / "out"
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    result = render_report(project, out, backend="quarto", quarto_executable=quarto, source_date_epoch=EPOCH)

    assert result == {"html": out / "feasibility.html", "pdf": out / "feasibility.pdf"}
    assert result["html"].read_text() == "stand-in quarto output: html\n"
    assert result["pdf"].read_text() == "stand-in quarto output: typst\n"
    recorded = calls(log)
    assert [c["argv"][0] for c in recorded] == ["render", "render"]
    assert [c["argv"][2:4] for c in recorded] == [["--to", "html"], ["--to", "typst"]]
    copies = {c["argv"][1] for c in recorded}
    assert len(copies) == 1  # both formats from one copy of the project ...
    copy = Path(copies.pop())
    assert copy != project.resolve() and copy.is_relative_to(out.resolve())
    for call in recorded:
        assert len(call["argv"]) == 6 and call["argv"][4] == "--output-dir"
        staging = Path(call["argv"][5])
        assert staging.is_absolute() and staging.is_relative_to(out.resolve()) and not staging.exists()
        assert call["cwd"] == str(copy)
        assert call["SOURCE_DATE_EPOCH"] == str(EPOCH)
    assert not copy.exists()  # ... removed with Quarto's .quarto/ in it
    # the build folder is left as it was: no .quarto/, nothing added or removed
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    assert sorted(p.name for p in out.iterdir()) == ["feasibility.html", "feasibility.pdf"]


def test_quarto_warnings_are_logged_even_when_the_render_succeeds(standin, project, tmp_path, caplog):
    quarto, _ = standin
    with caplog.at_level(logging.DEBUG, logger="feasibility"):
        render_report(project, tmp_path / "out", backend="quarto", quarto_executable=quarto)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # Quarto's own warning in each render, and Typst's (with where it arose) in the PDF's
    assert sum("Unable to resolve crossref @fig-standin" in w for w in warnings) == 2
    typst = [w for w in warnings if "unknown font family: standin serif" in w]
    assert len(typst) == 1 and typst[0].startswith("quarto render --to typst: ")
    assert "feasibility.typ:12:17" in typst[0]
    # everything Quarto printed is in the log, at debug level
    printed = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    assert "output-file: feasibility.pdf" in printed and "Output created: feasibility.html" in printed


def test_the_render_rule_shows_quarto_warnings_and_keeps_them_in_its_log(
    standin, project, tmp_path, monkeypatch, capsys
):
    from feasibility import pipeline

    quarto, _ = standin
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    out, log_file = tmp_path / "out", tmp_path / "logs" / "render.log"
    pipeline.render(
        {"report": {"backend": "quarto", "quarto_executable": str(quarto)}},
        str(project),
        str(out / "feasibility.html"),
        str(out / "feasibility.pdf"),
        "unused.parquet",
        log_file=str(log_file),
    )
    console = capsys.readouterr().err
    assert "[render] warning: quarto render --to typst: [typst]: Compiling" in console
    assert console.count("Unable to resolve crossref @fig-standin") == 2
    assert "output-file" not in console  # progress goes to the log only
    logged = log_file.read_text()
    assert logged.startswith("render: done in ")
    assert "WARNING: quarto render --to typst:" in logged and "unknown font family: standin serif" in logged
    assert "output-file: feasibility.pdf" in logged


def test_report_tables_give_quarto_nothing_to_warn_about(standin, project, tmp_path, caplog):
    """great-tables' default CSS makes Quarto warn ("invalid font weight initial", "unknown
    font family: sans-serif") when it converts a table to Typst; the report's tables carry
    their own Typst and tell Quarto not to convert them."""
    quarto, _ = standin
    with caplog.at_level(logging.WARNING, logger="feasibility"):
        render_report(project, tmp_path / "out", backend="quarto", quarto_executable=quarto)
    styles = [
        r.getMessage()
        for r in caplog.records
        if "font weight" in r.getMessage() or "sans-serif" in r.getMessage()
    ]
    # the fixture's plain great-tables table t1 (the control) draws them; t2 and the long table not
    assert len(styles) == 2 and all("--to typst" in w for w in styles)
    (project / "_generated" / "t1.md").unlink()
    (project / "sections" / "results.md").write_text("# Results\n")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="feasibility"):
        render_report(project, tmp_path / "again", backend="quarto", quarto_executable=quarto)
    assert not [
        r for r in caplog.records if "font weight" in r.getMessage() or "sans-serif" in r.getMessage()
    ]


def test_quarto_warnings_are_read_from_its_console_output():
    output = "\n".join(
        [
            "pandoc",
            "  to: typst",
            "Warnings: none in the title",
            "WARNING (/opt/quarto/share/filters/main.lua:31024) (  12 times) invalid font weight initial",
            "WARN: Should not have arrived here",
            "[WARNING] Duplicate identifier 'x'",
            "[typst]: Compiling a.typ to a.pdf...warning: unknown font family: sans-serif",
            "   ┌─ a.typ:3:17",
            "   │",
            '3 │ #set text(font: ("sans-serif",))',
            "   │                 ^^^^",
            "",
            "Output created: a.pdf",
        ]
    )
    found = quarto_warnings(output)
    assert len(found) == 4
    assert found[0].endswith("invalid font weight initial") and found[1].startswith("WARN:")
    assert found[3].splitlines()[1:] == [
        "   ┌─ a.typ:3:17",
        "   │",
        '3 │ #set text(font: ("sans-serif",))',
        "   │                 ^^^^",
    ]


def test_quarto_failure_shows_command_and_stderr_tail(standin, project, tmp_path, monkeypatch):
    quarto, _ = standin
    out = tmp_path / "out"
    out.mkdir()
    (out / "feasibility.html").write_text("previous report")
    monkeypatch.setenv("STANDIN_QUARTO_MODE", "fail")
    with pytest.raises(RenderError) as error:
        render_report(project, out, backend="quarto", quarto_executable=quarto)
    message = str(error.value)
    assert "exit status 1" in message
    assert re.search(
        rf"{re.escape(str(quarto.resolve()))} render \S+/project --to html --output-dir", message
    )
    lines = message.splitlines()
    # 60 noise lines (0..59) + 1 error line; the last 40 are noise 21..59 and the error
    assert "ERROR: YAMLException: bad indentation (feasibility.qmd, 3:5)" in lines
    assert "noise line 21" in lines and "noise line 20" not in lines
    assert (out / "feasibility.html").read_text() == "previous report"  # never half-replaced
    assert [p.name for p in out.iterdir()] == ["feasibility.html"]  # staging folder removed


def test_quarto_writing_nothing_is_an_error(standin, project, tmp_path, monkeypatch):
    quarto, _ = standin
    monkeypatch.setenv("STANDIN_QUARTO_MODE", "silent")
    with pytest.raises(RenderError, match=r"wrote no feasibility\.html \(found: nothing\)"):
        render_report(project, tmp_path / "out", backend="quarto", quarto_executable=quarto)


def test_quarto_timeout_is_a_clear_error(standin, project, tmp_path, monkeypatch):
    quarto, _ = standin
    monkeypatch.setenv("STANDIN_QUARTO_MODE", "sleep")
    with pytest.raises(RenderError, match=r"timed out after 0\.5 s: .*quarto render"):
        render_report(project, tmp_path / "out", backend="quarto", quarto_executable=quarto, timeout=0.5)


def test_auto_backend_uses_quarto_when_on_path(standin, project, tmp_path, monkeypatch):
    quarto, log = standin
    monkeypatch.setenv("PATH", str(quarto.parent))
    assert find_quarto() == quarto
    result = render_report(project, tmp_path / "out", formats=("html",))
    assert result["html"].read_text() == "stand-in quarto output: html\n"
    assert len(calls(log)) == 1


def test_auto_backend_falls_back_to_pandoc_without_quarto(standin, project, tmp_path, monkeypatch):
    _, log = standin
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert find_quarto() is None
    result = render_report(project, tmp_path / "out", formats=("html",))
    assert result["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert calls(log) == []


def test_forced_pandoc_ignores_a_present_quarto(standin, project, tmp_path, monkeypatch):
    quarto, log = standin
    monkeypatch.setenv("PATH", str(quarto.parent))
    result = render_report(
        project, tmp_path / "out", formats=("html",), backend="pandoc", quarto_executable=quarto
    )
    assert 'id="t1"' in result["html"].read_text(encoding="utf-8")
    assert calls(log) == []


@pytest.mark.parametrize(
    ("argument", "environment", "quarto_called"), [("quarto", "pandoc", False), ("pandoc", "quarto", True)]
)
def test_environment_variable_overrides_the_backend_argument(
    standin, project, tmp_path, monkeypatch, argument, environment, quarto_called
):
    quarto, log = standin
    monkeypatch.setenv(BACKEND_ENV, environment)
    render_report(project, tmp_path / "out", formats=("html",), backend=argument, quarto_executable=quarto)
    assert bool(calls(log)) is quarto_called


def test_forced_quarto_without_quarto_is_an_error(project, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="Quarto executable not found"):
        render_report(project, tmp_path / "out", backend="quarto")
    with pytest.raises(RenderError, match=r"Quarto executable not found \(/no/such/quarto\)"):
        render_report(project, tmp_path / "out", quarto_executable="/no/such/quarto")


def test_unknown_backend_and_format_are_rejected(project, tmp_path, monkeypatch):
    with pytest.raises(RenderError, match="unknown report format"):
        render_report(project, tmp_path / "out", formats=("docx",))
    monkeypatch.setenv(BACKEND_ENV, "latex")
    with pytest.raises(RenderError, match=r"unknown report backend 'latex'"):
        render_report(project, tmp_path / "out")


def test_render_options_come_from_the_config_report_block():
    config = {
        "report": {"backend": "pandoc", "quarto_executable": "/opt/quarto/bin/quarto", "timeout_seconds": 120}
    }
    assert render_options(config) == {
        "backend": "pandoc",
        "quarto_executable": "/opt/quarto/bin/quarto",
        "timeout": 120,
    }
    assert render_options({}) == {"backend": "auto", "quarto_executable": None, "timeout": 300}


# ----------------------------------------------------------------------------- Typst tables
def test_table_text_reaches_the_pdf_as_written(tmp_path):
    """Every character Typst markup gives a meaning to is escaped: the text prints as
    written (long words only gain invisible break opportunities)."""
    import typst
    import pymupdf

    tricky = "a#b*c_d$e[f]g<h>i@j`k~l=m-n+o/p\\q'r\"s.t:u;v,w!x?y%z&|^{}() -- --- ... // = head"
    rows = [tricky, "- not a list", "+ not an enumeration", "= not a heading", "/ term: not a term"]
    table = frame_gt(pd.DataFrame({"text": rows}), label="Table X1", title="Escapes <here> & #there")
    with pymupdf.open(stream=typst.compile(model_to_typst(table).encode())) as doc:
        lines = [line.replace("\u200b", "") for line in doc[0].get_text().splitlines()]
    assert lines[0] == "Table X1 Escapes <here> & #there"
    for row in rows:
        assert row in lines, row


def test_columns_fit_their_content_or_share_the_width_by_it():
    """A table that fits takes its columns' natural widths; one that may not is measured by
    Typst, and if wider than the text its long columns share the width (short ones keep theirs)."""
    import typst
    import pymupdf

    from feasibility.typeset import layout_of, table_to_typst

    narrow = layout_of(frame_gt(pd.DataFrame({"a": ["x"], "b": ["1"]})))
    assert "table(columns: 2," in table_to_typst(narrow, available=400)
    frame = pd.DataFrame(
        {
            "key": ["a.long.configuration.key.name"] * 5,
            "n": ["1"] * 5,
            "why": ["a long explanation of the arithmetic, longer than a line " * 3] * 5,
        }
    )
    source = table_to_typst(layout_of(frame_gt(frame)), available=400)
    shared = re.search(r"else \{ \((.*?),\) \}", source)[1].split(", ")
    assert shared[1].endswith("pt")  # short content keeps its width
    key, why = (float(c.removesuffix("fr")) for c in (shared[0], shared[2]))
    assert why > key > 0  # the longest text gets the most room
    page = "#set page(width: 440pt, height: 400pt, margin: 20pt)\n"
    with pymupdf.open(stream=typst.compile((page + source).encode())) as doc:
        right = max(b[2] for b in doc[0].get_text("blocks"))
    assert right <= 421  # within the 400 pt of text width
