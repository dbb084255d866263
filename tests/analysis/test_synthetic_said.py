"""Synthetic data said (issue 23.8), the paper's report: every table's source note says
that the data are synthetic and not the study's, from the data's provenance file; each of
the paper's tables declares its note (the dummy-data default of tables without one is
checked in tests/trial/test_dummy_said.py), and no table is left without one."""

from __future__ import annotations

import html as html_text
import re

SAID = "synthetic data made by this project's generator to reproduce the paper's published aggregates"


def test_every_table_of_the_paper_says_synthetic_data(paper_study, paper_config, paper_provenance):
    from feasibility.analysis import Analysis, load_spec
    from feasibility.tables.registry import build_table

    assert paper_provenance.synthetic and paper_provenance.calibrated_to.get("publication")
    analysis = Analysis(paper_study, load_spec(paper_config), paper_provenance)
    tables = [
        item["table"]
        for section in paper_config["report"]["sections"]
        for item in section.get("content") or []
        if isinstance(item, dict) and "table" in item
    ]
    assert set(tables) == set(paper_config["tables"])
    for tid in tables:
        html = build_table(analysis, tid).gt.as_raw_html()
        notes = html_text.unescape(
            re.sub(
                r"<[^>]+>",
                "",
                " ".join(re.findall(r'class="gt_sourcenote[^"]*"[^>]*>(.*?)</td>', html, re.DOTALL)),
            )
        )
        assert SAID in notes.lower(), tid
