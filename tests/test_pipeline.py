"""The whole workflow on a copy of the project: outputs, reproduction, lint."""

from __future__ import annotations

import pandas as pd

from projectcopy import ROOT, results_of, run_snakemake


def test_lint_is_clean():
    res = run_snakemake(ROOT, "--lint")
    assert res.returncode == 0 and "good condition" in res.stdout + res.stderr


def test_build_makes_report_tables_and_figures(built_project):
    r = results_of(built_project)
    for f in (
        "report/feasibility.html",
        "report/feasibility.pdf",
        "figures/consort.svg",
        "figures/timeline.png",
        "tables/table2.html",
        "tables/table5.csv",
        "validation/report.md",
        "analysis/records.parquet",
        "analysis/timepoints.parquet",
        "values/values.json",
    ):
        assert (r / f).stat().st_size > 0, f
    html = (r / "report" / "feasibility.html").read_text()
    for table in ("table2", "table3", "table4", "table5"):
        assert f'id="{table}"' in html
    import re

    # attributes and CSS that would fetch something (XML namespace URIs fetch nothing)
    assert not re.findall(r'(?:src|href)\s*=\s*["\']?(?:https?:)?//|url\(\s*["\']?(?:https?:)?//', html)
    assert "@import" not in html


def test_flow_and_table2_categories_reproduce_the_paper(built_project):
    cmp = pd.read_csv(results_of(built_project) / "reproduction" / "comparison.csv")
    flow = cmp[cmp["key"].str.startswith("flow.") | cmp["key"].str.contains(r"n_pct")]
    assert len(flow) > 30
    assert (flow["status"] == "match").all(), flow[flow["status"] != "match"].to_string()


def test_every_published_value_matches_or_is_explained(built_project):
    cmp = pd.read_csv(results_of(built_project) / "reproduction" / "comparison.csv", keep_default_na=False)
    assert "mismatch" not in set(cmp["status"]), cmp[cmp["status"] == "mismatch"].to_string()
    flagged = cmp[cmp["status"] == "published value inconsistent"]
    assert (flagged["audit_finding"].str.len() > 0).all()
    assert (cmp["status"] == "match").sum() > 150


def test_every_table_and_figure_is_in_the_pdf(built_project):
    import html
    import re

    from pypdf import PdfReader

    r = results_of(built_project)
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(r / "report" / "feasibility.pdf").pages
    )
    for table in ("table2", "table3", "table4", "table5", "feasibility_metrics"):
        fragment = (r / "tables" / f"{table}.html").read_text()
        title = re.search(r'class="gt_heading gt_title[^"]*"[^>]*>(.*?)</td>', fragment, re.S)[1]
        assert html.unescape(" ".join(re.sub("<[^>]+>", "", title).split())) in text, table
        cells = pd.read_csv(r / "tables" / f"{table}.csv", dtype=str, keep_default_na=False)
        assert [c for c in cells["text"] if c and c not in text] == [], table
    # each figure: its caption, and the drawing itself (its SVG text stays text in the PDF)
    import xml.etree.ElementTree as ET

    build = r / "report" / "build" / "_generated"
    for include, figure in (
        ("figure_consort.md", "consort"),
        ("figure_timeline.md", "timeline"),
        ("figure_completeness.md", "completeness"),
    ):
        caption = re.search(r"!\[(.*?)\]\(", (build / include).read_text())[1].replace("**", "")
        caption = re.sub(r"\\(.)", r"\1", caption)  # Markdown's backslash escapes (feasibility.escape)
        # Typst hyphenates long captions ("repro- duced"): join the halves before comparing
        assert caption in re.sub(r"(\w)- (\w)", r"\1\2", text), include
        svg = ET.parse(r / "figures" / f"{figure}.svg").getroot()
        drawn = {"".join(t.itertext()).strip() for t in svg.iter("{http://www.w3.org/2000/svg}text")} - {""}
        assert len(drawn) > 10 and {t for t in drawn if t not in text} == set(), figure
