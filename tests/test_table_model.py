"""One table model, two renderers (issue 22.1): great-tables prints a table's model as HTML,
and the Typst renderer reads the same model - caption, row groups, spanners, footnotes with
their marks, source notes - never the HTML. Compiled with the ``typst`` package and read back
with PyMuPDF."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from great_tables import loc

from feasibility.tables.common import build_gt, cell, cells_frame, frame_gt, html_fragment
from feasibility.typeset import layout_of, model_to_typst

sys.path.insert(0, str(Path(__file__).resolve().parent / "regression"))
from gt_text import gt_text  # noqa: E402

typst = pytest.importorskip("typst")
pymupdf = pytest.importorskip("pymupdf")


def outcomes():
    """Two row groups, two columns of cells under their spanners with an n column each, a
    note on a spanner, one on a stub row, one on a body cell, one without a mark and a
    source note."""
    cells = cells_frame(
        [
            cell("t", group, label, column, statistic, decimals=1, **values)
            for group, label, column, statistic, values in [
                ("Symptoms", "Pain interference", "week6", "mean_sd", dict(estimate=24.5, sd=6.1, n=28)),
                ("Symptoms", "Pain interference", "month6", "mean_sd", dict(estimate=22.0, sd=7.3, n=25)),
                ("Work", "In work", "week6", "n_pct", dict(estimate=25.0, n=7, denominator=28)),
                ("Work", "In work", "month6", "n_pct", dict(estimate=-1.5, n=9, denominator=25)),
            ]
        ]
    )
    table = build_gt(
        cells,
        table_id="t",
        label="Table 7",
        title="Outcomes by follow-up",
        columns={"week6": "6 weeks", "month6": "6 months"},
        value_label="Value",
        n_label="n",
        stub_label="Measure",
    )
    return (
        table.tab_footnote("Some returned late.", locations=loc.spanner_labels(ids=["month6"]))
        .tab_footnote("Standard deviation in brackets.", locations=loc.stub(rows=[0]))
        .tab_footnote("Of those who answered.", locations=loc.body(columns="week6__v0", rows=[1]))
        .tab_footnote("All scores are crude.")
        .opt_footnote_marks(["*", "†", "‡"])
        .tab_source_note("Source: fixture data.")
    )


def pdf_lines(source: str) -> list[str]:
    with pymupdf.open(stream=typst.compile(source.encode())) as doc:
        return [
            " ".join(line.replace("\u200b", "").split())
            for page in doc
            for line in page.get_text().splitlines()
            if line.strip()
        ]


def test_the_typst_renderer_reads_the_model():
    table = outcomes()
    lines = pdf_lines(model_to_typst(table))
    text = " ".join(lines)
    assert lines[0] == "Table 7 Outcomes by follow-up"
    # spanners over their columns, the one with a note marked; labels under them
    assert "6 weeks" in lines and "6 months*" in lines
    assert text.count("Value") == 2 and lines.count("n") == 2
    # row groups in order, rows under them; the stub mark after the text, the body mark
    # before the number (the figures stay aligned)
    assert (
        lines.index("Symptoms")
        < lines.index("Pain interference†")
        < lines.index("Work")
        < lines.index("In work")
    )
    assert "24.5 (6.1)" in lines and "‡ 7 (25)" in lines and "9 (−1.5)" in lines
    # notes: the source note, the one without a mark, then the marked ones in reading order
    notes = lines[lines.index("Source: fixture data.") :]
    assert notes == [
        "Source: fixture data.",
        "All scores are crude.",
        "* Some returned late.",
        "† Standard deviation in brackets.",
        "‡ Of those who answered.",
    ]


def _plain(markup: str) -> str:
    """Typst markup of a table's text as the text it prints."""
    return " ".join(re.sub(r"#(?:strong|super)\[(.*?)\]", r"\1", re.sub(r"\\(.)", r"\1", markup)).split())


def test_both_renderers_print_the_same_table():
    """Every text great-tables prints - caption, stub head, spanners, column labels, row
    groups, rows, cells with their marks, source note and notes - is what the Typst renderer
    lays out, in the same order."""
    table = outcomes()
    html = [" ".join(w.split()) for _, w in gt_text(html_fragment(table))]
    layout = layout_of(table)
    typst_words = [layout.caption] + [c.body for row in layout.header for c in row]
    for row in layout.rows:
        typst_words += [row] if isinstance(row, str) else [c.body for c in row]
    typst_words += layout.notes
    assert [_plain(w) for w in typst_words] == html


def test_a_frame_keeps_its_line_breaks_and_its_text_as_written():
    table = frame_gt(
        pd.DataFrame({"Field": ["a_b", "x"], "Attributes": ["radio\nShown if [a] = '1'", "#y $z$"]}),
        label="Table C1",
        title="Codebook",
    )
    lines = pdf_lines(model_to_typst(table))
    assert lines[0] == "Table C1 Codebook"
    assert "radio" in lines and "Shown if [a] = '1'" in lines and "#y $z$" in lines
