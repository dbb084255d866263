"""The quality report end to end on the longitudinal fixture (two arms, a repeating instrument and
a repeating event, missing-data codes, identifiers): every output, the includes, and
``report/quality.qmd`` rendered with pandoc and Typst. Checked as a reader sees it: every
caption in the PDF and the HTML, no record ID / identifier / exact date anywhere, and a PDF
layout without overlapping, clipped or tiny text; the HTML in Chromium at 1,280 pixels."""

from __future__ import annotations

import html as html_lib
import itertools
import json
import os
import re
import stat
import sys
from pathlib import Path

import pymupdf
import pytest

from feasibility.quality import build_quality_report, captions, load_settings
from feasibility.quality.report import DOCUMENT, INCLUDES, source_date_epoch
from feasibility.render import render_report

ROOT = Path(__file__).resolve().parents[2]
RECORD_IDS = re.compile(r"(?<![\w.-])10[1-4](?![\w.-])")  # TrialLong's records 101-104
IDENTIFIERS = ["1985-06-15", "1979-11-30", "1990-01-20"]  # con_dob values (an identifier)
INITIALS = re.compile(r"\b(AB|CD|EF)\b")  # con_initials values (an identifier)
EXACT_DATE = re.compile(r"\b(?:19|20)\d{2}-\d{2}-\d{2}\b")
EXPORT_DATE = "2024-09-01"
MIN_PT = 7.0


@pytest.fixture(scope="module")
def report(fixture_data, tmp_path_factory):
    data = fixture_data("long")
    settings = load_settings(
        {"study": {"title": "TrialLong fixture"}, "quality": {"recruitment": {"date_field": "con_date"}}}
    )
    out = tmp_path_factory.mktemp("quality")
    files = build_quality_report(
        data, settings, out / "report", report_src=ROOT / "report", render=True, backend="pandoc"
    )
    return dict(
        data=data, settings=settings, files=files, out=out / "report", captions=captions(data, settings)
    )


def _pdf_text(path: Path) -> str:
    with pymupdf.open(path) as doc:
        return " ".join(page.get_text() for page in doc)


def _html_text(path: Path) -> str:
    text = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", "", path.read_text(encoding="utf-8"))
    text = re.sub(r"<style.*?</style>", " ", text, flags=re.DOTALL)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", text))


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_missing_codes_table_of_a_project_without_codes(fixture_data):
    from feasibility.quality import missing_codes_table
    from feasibility.tables.common import html_fragment

    data = fixture_data("lab")
    table = missing_codes_table(data, captions(data, load_settings({}))["missing_codes"])
    assert table.frame.empty
    assert "The project defines no missing-data codes and none was entered" in html_fragment(table.gt)


def test_every_output_and_include_is_written(report):
    files = report["files"]
    for key in ("records", "completion", "missingness", "missing_codes", "validation", "codebook"):
        assert files[key].stat().st_size > 0 and files[f"{key}_csv"].stat().st_size > 0
    assert files["queries"].stat().st_size > 0
    for name in ("queries.csv", "queries.xlsx", "queries.parquet", "queries.json"):
        assert (report["out"] / "queries" / name).stat().st_size > 0, name
    for key in ("completion_site", "missingness_event"):
        assert files[key].stat().st_size > 0 and files[f"{key}_csv"].stat().st_size > 0
    for key in ("completeness", "completeness_sites", "recruitment"):
        assert files[key].suffix == ".svg" and files[key].with_suffix(".png").is_file()
        assert files[key].with_name(files[key].stem + ".alt.txt").is_file()
    for name in INCLUDES:
        assert (files["build"] / "_generated" / name).is_file(), name
    assert set(files) >= {"html", "pdf"}


def test_captions_are_numbered_in_the_reports_order(report):
    caps = report["captions"]
    assert [c.label for c in caps.values()] == [
        "Table 1",
        "Figure 1",
        "Table 2",
        "Figure 2",
        "Table 3",
        "Table 4",
        "Table 5",
        "Table 6",
        "Table 7",
        "Table 8",
        "Figure 3",
        "Table 9",
    ]
    assert list(caps)[3:5] == ["completeness_sites", "completion_site"]
    assert list(caps)[8:10] == ["validation", "queries"]
    assert caps["records"].title == "Records by arm and event"
    assert caps["completeness"].title == "Forms complete by event and arm"


def test_every_caption_is_in_the_pdf_and_the_html(report):
    pdf, page = _words(_pdf_text(report["files"]["pdf"])), _words(_html_text(report["files"]["html"]))
    for cap in report["captions"].values():
        assert cap.text in pdf, cap.text
        assert cap.text in page, cap.text
    assert "Data quality report" in pdf and "TrialLong fixture" in pdf


def test_no_record_id_identifier_or_exact_date_in_any_output(report):
    files = report["files"]
    texts = {"pdf": _pdf_text(files["pdf"]), "html": _html_text(files["html"])}
    for path in sorted(report["out"].rglob("*")):
        if {"queries", "history"} & set(path.relative_to(report["out"]).parts):
            continue  # the query list is for the study team: record IDs (test_quality_queries)
        if path.suffix in (".csv", ".md", ".txt") or (
            path.suffix == ".html" and path.parent.name == "tables"
        ):
            texts[str(path.relative_to(report["out"]))] = path.read_text(encoding="utf-8")
        elif path.suffix == ".svg":  # its words, not its coordinates
            svg = path.read_text(encoding="utf-8")
            texts[str(path.relative_to(report["out"]))] = " ".join(
                m[1]
                for m in re.finditer(r"<(?:text|title|desc)\b[^>]*>(.*?)</(?:text|title|desc)>", svg, re.S)
            )
    assert len(texts) > 20
    for name, text in texts.items():
        assert not RECORD_IDS.search(text), (name, RECORD_IDS.search(text))
        assert not INITIALS.search(text), name
        for value in IDENTIFIERS:
            assert value not in text, name
        # the export date (of the download, in its file name) is the only full date
        assert set(EXACT_DATE.findall(text)) <= {EXPORT_DATE}, (name, set(EXACT_DATE.findall(text)))


def overprinted(page) -> list[tuple]:
    """Pairs of glyphs printed over each other on one line (text running into the next column)."""
    chars = []
    for block in page.get_text("rawdict")["blocks"]:
        for line in block.get("lines", []):
            for span in line["spans"]:
                for c in span["chars"]:
                    x0, _, x1, _ = c["bbox"]
                    if c["c"].strip() and x1 - x0 > 0.5:
                        chars.append((c["origin"][1], x0, x1, c["c"]))
    found, row = [], []
    for ch in sorted(chars) + [(float("inf"), 0, 0, "")]:
        if row and ch[0] - row[-1][0] > 1.0:  # a new baseline
            row.sort(key=lambda c: c[1])
            found += [
                (a[3] + b[3], round(a[0]), round(a[1]))
                for a, b in zip(row, row[1:])
                if b[1] < a[2] - max(0.8, 0.3 * min(a[2] - a[1], b[2] - b[1]))
            ]
            row = []
        row.append(ch)
    return found


def test_the_pdf_layout(report):
    """No text under 7 pt (superscript marks aside), none off the page, no two lines overprinted,
    no text running into the next column."""
    with pymupdf.open(report["files"]["pdf"]) as doc:
        assert doc.page_count >= 4
        for page in doc:
            lines = []
            for block in page.get_text("dict")["blocks"]:
                for line in block.get("lines", []):
                    spans = [s for s in line["spans"] if s["text"].strip()]
                    for s in spans:
                        if not s["flags"] & 1:  # superscript
                            assert s["size"] >= MIN_PT - 0.05, (page.number + 1, s["text"], s["size"])
                    if spans:
                        box = pymupdf.Rect(line["bbox"])
                        assert page.rect.contains(box), (page.number + 1, spans[0]["text"], box)
                        lines.append((box, "".join(s["text"] for s in spans)))
            for (a, ta), (b, tb) in itertools.combinations(lines, 2):
                overlap = a & b
                if overlap.is_empty:
                    continue
                smaller = min(a.get_area(), b.get_area()) or 1
                assert overlap.get_area() / smaller < 0.2, (page.number + 1, ta, tb)
            assert not overprinted(page), (page.number + 1, overprinted(page)[:5])


def test_long_tables_break_across_pages(report):
    with pymupdf.open(report["files"]["pdf"]) as doc:
        pages = [i for i, page in enumerate(doc) if "Codebook: every instrument and field" in page.get_text()]
    assert pages, "the codebook's caption is not in the PDF"


def test_the_pdf_and_html_are_byte_identical_when_rendered_again(report, tmp_path):
    again = render_report(
        report["files"]["build"],
        tmp_path,
        backend="pandoc",
        document=DOCUMENT,
        source_date_epoch=source_date_epoch(report["data"]),
    )
    assert again["pdf"].read_bytes() == report["files"]["pdf"].read_bytes()
    assert again["html"].read_bytes() == report["files"]["html"].read_bytes()


def test_the_html_is_self_contained(report):
    page = report["files"]["html"].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", page)
    assert page.count("data:image/svg+xml") >= 2 or page.count("<svg") >= 2


def test_a_project_without_a_date_field_says_how_to_get_recruitment(fixture_data, tmp_path):
    data = fixture_data("classic")
    settings = load_settings({"study": {"title": "Classic"}})
    files = build_quality_report(data, settings, tmp_path, report_src=ROOT / "report")
    text = (files["build"] / "_generated" / "quality_recruitment.md").read_text()
    assert "quality.recruitment.date_field" in text
    assert "recruitment" not in files
    caps = captions(data, settings)
    assert list(caps) == [
        "records",
        "completeness",
        "completion",
        "completeness_sites",
        "completion_site",
        "missingness",
        "missingness_event",
        "missing_codes",
        "validation",
        "queries",
        "codebook",
    ]
    records = files["records"].read_text()
    assert "Data access group" in records and ">birmingham<" in records and "Table 1" in records
    summary = (files["build"] / "_generated" / "quality_summary.md").read_text()
    assert "It is a classic project (no events), with 3 data access groups" in summary
    assert "5 records in 8 form rows" in summary


def test_synthetic_or_dummy_data_are_said_on_the_first_page_in_every_table_and_figure(fixture_data, tmp_path):
    """Issue 24.8: from the data's provenance, the first paragraph, every table's source note and
    every figure's caption say the data are synthetic (calibrated to a publication) or dummy."""
    import dataclasses

    from feasibility.provenance import Provenance
    from feasibility.quality import summary_markdown

    data = dataclasses.replace(fixture_data("long"), provenance=Provenance(synthetic=True))
    word = "Dummy data"
    settings = load_settings(
        {"study": {"title": "T"}, "quality": {"recruitment": {"date_field": "con_date"}}}
    )
    files = build_quality_report(data, settings, tmp_path, report_src=ROOT / "report")
    generated = files["build"] / "_generated"
    assert (generated / "quality_summary.md").read_text().startswith(f"**{word} made by this project")
    tables = sorted((tmp_path / "tables").glob("quality_*.html"))
    assert len(tables) == 9
    for table in tables:
        notes = re.findall(
            r'class="gt_sourcenote[^"]*"[^>]*>(.*?)</td>', table.read_text(encoding="utf-8"), re.S
        )
        assert any("not the study" in html_lib.unescape(n) for n in notes), table.name
    captions_md = re.findall(
        r"!\[(.*?)\]\(",
        (generated / "quality_completion.md").read_text()
        + (generated / "quality_recruitment.md").read_text(),
        re.S,
    )
    assert len(captions_md) == 3 and all(f"{word} made by" in c for c in captions_md), captions_md
    calibrated = dataclasses.replace(
        data, provenance=Provenance(synthetic=True, calibrated_to={"publication": "x"})
    )
    assert summary_markdown(calibrated, settings).startswith("**Synthetic data made by this project")
    assert "not the study" not in summary_markdown(fixture_data("long"), settings)


def test_small_cells_can_be_withheld(fixture_data, tmp_path):
    import pandas as pd

    from feasibility.quality import records_table

    data = fixture_data("classic")
    table = records_table(data, captions(data, load_settings({}))["records"])
    table.write(tmp_path / "records.html", tmp_path / "records.csv", small_cell_threshold=3)
    assert "&lt;3" in (tmp_path / "records.html").read_text()
    cells = pd.read_csv(tmp_path / "records.csv", dtype=str, keep_default_na=False)
    assert dict(zip(cells["column"], cells["text"])) == {
        "All records": "5",
        "birmingham": "<3",
        "coventry": "<3",
        "leeds": "<3",
    }


# ------------------------------------------------------------------------------ back ends
def test_quarto_renders_the_quality_document(report, tmp_path):
    standin = tmp_path / "bin" / "quarto"
    standin.parent.mkdir()
    standin.write_text(
        f"#!{sys.executable}\n"
        + (Path(__file__).with_name("quarto_standin_document.py")).read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    standin.chmod(standin.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "log.jsonl"
    os.environ["STANDIN_QUARTO_LOG"] = str(log)
    try:
        out = render_report(
            report["files"]["build"],
            tmp_path / "out",
            backend="quarto",
            quarto_executable=standin,
            document=DOCUMENT,
        )
    finally:
        del os.environ["STANDIN_QUARTO_LOG"]
    assert out["html"].name == "quality.html" and out["pdf"].name == "quality.pdf"
    assert "stand-in quarto output of quality.qmd" in out["html"].read_text()
    calls = [json.loads(line)["argv"] for line in log.read_text().splitlines()]
    assert [c[1].endswith("/quality.qmd") for c in calls] == [True, True]
    assert sorted(c[c.index("--to") + 1] for c in calls) == ["html", "typst"]


def test_the_html_in_a_browser_at_1280_pixels(report, tmp_path):
    sys.path.insert(0, str(ROOT / "tests"))
    browser_test = pytest.importorskip("test_report_browser")
    if browser_test.CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    with browser_test.Chromium(tmp_path / "profile") as browser:
        browser.page(
            "Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False
        )
        browser.load(report["files"]["html"].as_uri())
        page = browser.evaluate("""({scroll: document.scrollingElement.scrollWidth, width: innerWidth,
            images: [...document.images].map(i => ({ok: i.complete && i.naturalWidth > 0, alt: i.alt})),
            tables: [...document.querySelectorAll('table')].map(t => {
                const r = t.getBoundingClientRect(), c = t.parentElement.getBoundingClientRect();
                return {right: r.right, container: c.right, id: t.closest('[id]')?.id};})})""")
        requested = browser_test.remote(browser.requested())
    assert page["scroll"] <= page["width"], "the page scrolls sideways"
    assert len(page["images"]) == 3 and all(i["ok"] and i["alt"] for i in page["images"])
    for t in page["tables"]:
        assert t["right"] <= t["container"] + 1, t
    assert requested == []


def test_the_summary_reads_to_its_end_in_every_format(fixture_data):
    """Seen on page 1 of the quality PDF: the path `results/<study id>/` was read as an HTML tag,
    and the summary stopped there. Written as code, it is shown whole, in HTML as in Typst."""
    import pypandoc

    from feasibility.quality import summary_markdown

    text = summary_markdown(fixture_data("long"), load_settings({"study": {"title": "T"}}))
    for fmt in ("html", "typst", "plain"):
        out = pypandoc.convert_text(text, fmt, format="markdown")
        plain = html_lib.unescape(re.sub(r"<[^>]+>", "", out)) if fmt == "html" else out
        flat = " ".join(plain.split())
        assert "results/<study id>/" in flat.replace("\\", ""), (fmt, flat[-300:])
        assert flat.rstrip().endswith("never appear in it."), (fmt, flat[-300:])
