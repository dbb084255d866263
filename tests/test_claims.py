"""What the report claims is what the data and the paper support (issue 14; issue 13 point 5).

Read from a real build of the shipped (synthetic) data: the data statement, the reproduction
statuses and their reasons, the EQ-5D method everywhere the index appears, the paper's named
participants in the raw data, one definition per published key, the narrative's numbers, the
exact case-management sums and the appendices' wording.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from projectcopy import ROOT, results_of, run_snakemake

STATUSES = {
    "match",
    "differs",
    "published value inconsistent",
    "computed by another method",
    "not a data value",
    "suppressed (small-cell rule)",
}
# the shared reference folder beside the checkout (or beside the folder of worktrees)
SHARED_DSU = next(
    (
        d / "shared/reference/eq5d/eq5d5l_to_3l_dsu_hernandezalava_uk.csv"
        for d in ROOT.parents
        if (d / "shared/reference/eq5d").is_dir()
    ),
    ROOT.parent / "shared/reference/eq5d/eq5d5l_to_3l_dsu_hernandezalava_uk.csv",
)


def generated(project: Path, name: str) -> str:
    return (results_of(project) / "report/build/_generated" / name).read_text(encoding="utf-8")


def comparison(project: Path) -> pd.DataFrame:
    return pd.read_csv(
        results_of(project) / "reproduction/comparison.csv", dtype=str, keep_default_na=False
    ).set_index("key")


def pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]


# ----------------------------------------------------------------------- 14.1 synthetic, said plainly
def test_the_generator_leaves_a_provenance_file_beside_its_exports():
    prov = json.loads((ROOT / "data/raw/provenance.json").read_text())
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    assert prov["synthetic"] is True
    assert prov["generator"] == "feasibility.synth"
    assert prov["generator_version"]
    assert prov["seed"] == config["synthetic"]["seed"]
    assert "10.1186/s40814-020-00581-6" in prov["calibrated_to"]["publication"]
    assert prov["calibrated_to"]["eq5d_index"]
    # every file it wrote (REDCap's downloads), by hash: a later edit of the data is detectable
    downloads = {p.name for p in (ROOT / "data/raw").iterdir()} - {"provenance.json", "README.md"}
    assert (
        set(prov["files"])
        == downloads
        >= {"records.csv", "data_dictionary.csv", "instrument_designations.csv"}
    )
    for name, digest in prov["files"].items():
        assert hashlib.sha256((ROOT / "data/raw" / name).read_bytes()).hexdigest() == digest, name


def test_the_first_page_says_the_data_are_synthetic(built_project):
    html = (results_of(built_project) / "report/feasibility.html").read_text(encoding="utf-8")
    html = html.replace("’", "'").replace("&#39;", "'")  # pandoc's typographic quotes
    statement = "not the study's data"
    # the banner comes before the report's first section
    assert statement in html and html.index(statement) < html.index('id="objectives"')
    first = pdf_pages(results_of(built_project) / "report/feasibility.pdf")[0]
    assert "synthetic" in first.lower() and statement in first.replace("’", "'")


def test_every_table_source_note_says_the_data_are_synthetic(built_project):
    for table in ("table2", "table3", "table4", "table5", "feasibility_metrics"):
        fragment = (results_of(built_project) / f"tables/{table}.html").read_text(encoding="utf-8")
        note = re.search(r'class="gt_sourcenote"[^>]*>(.*?)</td>', fragment, re.S)[1]
        assert "synthetic" in note.lower() and "not the study" in note, table


def test_invented_details_are_not_told_as_facts(built_project):
    banner = generated(built_project, "banner.md")
    assert "invented" in banner.lower()
    # the CONSORT and timeline captions say which of their details the generator made up
    assert "invented" in generated(built_project, "figure_consort.md").lower()
    assert "invented" in generated(built_project, "figure_timeline.md").lower()


@pytest.mark.slow
def test_real_exports_carry_no_synthetic_statement(built_project, tmp_path):
    proj = tmp_path / "real"
    shutil.copytree(built_project, proj, symlinks=True)
    (proj / "data/raw/provenance.json").unlink()
    res = run_snakemake(proj)
    assert res.returncode == 0, res.stderr[-3000:]
    html = (results_of(proj) / "report/feasibility.html").read_text(encoding="utf-8")
    assert "not the study's data" not in html
    fragment = (results_of(proj) / "tables/table2.html").read_text(encoding="utf-8")
    assert "synthetic" not in fragment.lower()


# ----------------------------------------------------------------------- 14.2 reproduction statuses
def test_statuses_are_the_documented_set_each_with_a_reason(built_project):
    cmp = comparison(built_project)
    assert set(cmp["status"]) <= STATUSES, set(cmp["status"]) - STATUSES
    assert (cmp["reason"].str.len() > 0).all(), cmp[cmp["reason"] == ""].index.tolist()
    readme = (ROOT / "README.md").read_text()
    for status in STATUSES:
        assert f"`{status}`" in readme, status


def test_nothing_differs_from_the_paper_without_an_audit_finding(built_project):
    cmp = comparison(built_project)
    assert "differs" not in set(cmp["status"]), cmp[cmp["status"] == "differs"].to_string()
    flagged = cmp[cmp["status"] == "published value inconsistent"]
    assert len(flagged) and (flagged["audit_finding"].str.len() > 0).all()


# ----------------------------------------------------------------------- 14.3 EQ-5D
def test_the_index_computed_another_way_is_not_called_a_match(built_project):
    cmp = comparison(built_project)
    rows = cmp[cmp.index.str.contains("eq5d_5l_to_3l") & ~cmp.index.str.startswith("instruments")]
    assert len(rows) == 4
    assert set(rows["status"]) == {"computed by another method"}
    for reason in rows["reason"]:
        assert "England" in reason and "NICE DSU" in reason, reason


def test_every_place_the_index_appears_names_its_method(built_project):
    for table in ("table2", "table3"):
        cells = pd.read_csv(
            results_of(built_project) / f"tables/{table}.csv", dtype=str, keep_default_na=False
        )
        label = cells.loc[cells["published_key"].str.contains("eq5d_5l_to_3l"), "row_label"]
        assert label.str.contains("England 5L value set").all(), (table, set(label))
    table3 = (results_of(built_project) / "tables/table3.html").read_text(encoding="utf-8")
    assert "Devlin" in table3 and "NICE DSU" in table3
    methods = generated(built_project, "eq5d_method.md")
    assert "Devlin" in methods and "NICE DSU" in methods and "calibrated" in methods
    appendix = generated(built_project, "appendix_reproduction.md")
    assert "England 5L value set" in appendix
    readme = (ROOT / "data/raw/README.md").read_text()
    assert "England" in readme and "calibrated" in readme


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DSU.exists(), reason="../shared/reference/eq5d not available")
def test_the_papers_mapping_table_gives_the_papers_method(built_project, tmp_path):
    proj = tmp_path / "dsu"
    shutil.copytree(built_project, proj, symlinks=True)
    config = yaml.safe_load((proj / "config/config.yaml").read_text())
    config["instruments"]["eq5d"]["parameters"].update(
        method="mapping_table",
        mapping_table=str(SHARED_DSU),
        value_column="uk_3l_mapped_dsu",
        mapping="nice_dsu_5l_to_3l",
    )
    config["redcap"]["allow_paths_outside"] = True  # the mapping table is read in place from ../shared
    (proj / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    res = run_snakemake(proj)
    assert res.returncode == 0, res.stderr[-3000:]
    cmp = comparison(proj)
    rows = cmp[cmp.index.str.contains("eq5d_5l_to_3l") & ~cmp.index.str.startswith("instruments")]
    assert "computed by another method" not in set(rows["status"])
    # the synthetic answers are calibrated with the England value set, not the DSU table
    baseline = rows.loc["table2_baseline.eq5d_5l_to_3l.mean_sd"]
    assert baseline["status"] == "differs" and baseline["reproduced"] != baseline["published"]
    assert 0.3 <= float(baseline["reproduced"].split()[0]) <= 0.45
    cells = pd.read_csv(results_of(proj) / "tables/table2.csv", dtype=str, keep_default_na=False)
    label = cells.loc[cells["published_key"].str.contains("eq5d_5l_to_3l"), "row_label"].iloc[0]
    assert "NICE DSU" in label
    assert "NICE DSU" in generated(proj, "eq5d_method.md")


# ----------------------------------------------------------------------- 14.4 generator
def test_consistent_parts_of_flagged_cells_are_reproduced(built_project):
    values = json.loads((results_of(built_project) / "values/values.json").read_text())["values"]
    vas = values["table3_change.eq5d_vas[2]"]["parts"]
    # -6.9 (-24.8 to 11.8), n = 9: no 9 whole-number changes reach both ends (the audit);
    # the estimate, n and one end can all hold, and are met
    assert (round(vas["estimate"], 1), round(vas["lower"], 1), vas["n"]) == (-6.9, -24.8, 9)
    # -0.1 (-2.3 to 2.5), n = 10: the estimate is not the interval's centre; the interval is met
    ability = values["table3_change.work_ability[1]"]["parts"]
    assert (round(ability["lower"], 1), round(ability["upper"], 1), ability["n"]) == (-2.3, 2.5, 10)


# ----------------------------------------------------------------------- 14.5 one definition per key
def test_each_published_key_has_one_definition(built_project):
    values = json.loads((results_of(built_project) / "values/values.json").read_text())["values"]
    claimed: dict[str, list[str]] = {}
    for name, value in values.items():
        for key in value.get("published", {}):
            claimed.setdefault(key, []).append(name)
    assert {k: v for k, v in claimed.items() if len(v) > 1} == {}
    cmp = comparison(built_project)
    data_rows = cmp[cmp["status"] != "not a data value"]
    assert set(data_rows.index) <= set(claimed)


def test_metrics_table_and_appendix_agree_on_unplaced_case_management(built_project):
    cells = pd.read_csv(
        results_of(built_project) / "tables/feasibility_metrics.csv", dtype=str, keep_default_na=False
    ).set_index("published_key")
    unplaced = cells.loc["case_management.unplaced.median_iqr"]
    assert (unplaced["text"], unplaced["n"]) == ("3.0 (1.5 to 4.0)", "15")
    assert (
        comparison(built_project).loc["case_management.unplaced.median_iqr", "reproduced"]
        == "3.0 (1.5 to 4.0)"
    )


# ----------------------------------------------------------------------- 14.6 narrative
NARRATIVE_FACTS = [
    "94.8",
    "35.5",  # days from recruitment to placement, mean (SD)
    "52.5",
    "32.9",
    "5.5",
    "1.0",  # placement hours and weeks
    "9.4",
    "5.2",
    "1.3 to 16.7",  # hours per week and range
    "22 of 31 (71%)",  # pain in two or more areas
    "25 of 31",  # additional health concerns
    "42%",
    "53%",
    "47%",  # response rates excluding dropouts
    "10%",
    "58%",
    "32%",  # recruitment split by source
]


def test_the_narrative_states_the_papers_in_text_results(built_project):
    text = " ".join(
        generated(built_project, f"narrative_{f}.md")
        for f in ("recruitment", "delivery", "follow_up", "employment", "safety")
    )
    missing = [fact for fact in NARRATIVE_FACTS if fact not in text]
    assert not missing, missing
    # work-preparation sessions: five groups of 2 to 12 (median 5) and one at home
    assert re.search(r"5 group sessions.*2 to 12.*median 5.*1 one-to-one", text, re.S)
    # jobs started during the study (4) and known in all (6 of 31, 19%)
    assert "4 " in text and "6 of 31 (19%)" in text
    # where the data and the paper differ, the paper's value is beside ours
    assert "170.6" in text and "paper: 161.5" in text


def test_no_number_is_typed_into_the_narrative_templates():
    templates = yaml.safe_load((ROOT / "config/config.yaml").read_text())["report"]["narrative"]
    assert set(templates) >= {"recruitment", "delivery", "follow_up", "employment", "safety"}
    for name, template in templates.items():
        prose = re.sub(r"\{[^{}]*\}", "", template)
        assert not re.search(r"\d", prose), (name, re.findall(r".{20}\d.{20}", prose))


# ----------------------------------------------------------------------- 14.8 completeness caption
def test_completeness_caption_explains_its_denominators(built_project):
    caption = generated(built_project, "figure_completeness.md")
    assert "not applicable" in caption and "accepted job offer" in caption
    assert "Table 5" in caption


# ----------------------------------------------------------------------- 14.9 exact arithmetic
def test_case_management_minutes_are_summed_exactly(built_project):
    cells = pd.read_csv(
        results_of(built_project) / "tables/feasibility_metrics.csv", dtype=str, keep_default_na=False
    ).set_index("published_key")
    assert cells.loc["case_management.total_hours", "text"] == "170.6"  # 10,233 min = 170.55 h
    assert comparison(built_project).loc["case_management.total_hours", "reproduced"] == "170.6"


def test_no_configuration_identifier_in_prose(built_project):
    build = results_of(built_project) / "report/build/_generated"
    for path in sorted(build.glob("*.md")):
        if path.name == "appendix_provenance.md":  # the settings table names the keys
            continue
        text = path.read_text(encoding="utf-8")
        prose = re.sub(r"```\{=html\}.*?```", "", text, flags=re.S)
        found = re.findall(
            r"england_5l_2018|uk_5l_2026|scoring\.\w+|disclosure\.\w+|"
            r"instruments\.\w+|parameters\.\w+|nice_dsu_5l_to_3l|`[a-z_.]+`",
            prose,
        )
        assert not found, (path.name, found)


# ----------------------------------------------------------------------- 13.5 appendix wording
def test_the_appendices_speak_the_papers_language(built_project):
    # the table as a reader sees it: its HTML (the Typst copy for the PDF uses [..] blocks)
    appendix = re.sub(
        r"```\{=typst\}.*?```", "", generated(built_project, "appendix_reproduction.md"), flags=re.S
    )
    assert "Table 2 · Areas of pain · Chest, n (%)" in appendix
    assert "3.1 (−4.1 to 10.4), n = 8" in appendix
    assert not re.search(r"\[\s*[−\-]?\d", appendix), "a Python list literal"
    assert "table2_baseline." not in appendix
    header = re.search(r"<thead>.*?</thead>", appendix, flags=re.S)[0]
    assert ">Reason<" in header and ">Status<" in header
    audit = generated(built_project, "appendix_audit.md")
    assert "table3_change." not in audit and "Table 3 · Perceived work ability · 14-weeks" in audit


# ----------------------------------------------------------------------- 14.7 Figure 1
def shipped_flow(project: Path) -> pd.DataFrame:
    """The counts Figure 1 draws (results/figures/consort.csv, the flow's tidy frame)."""
    frame = pd.read_csv(results_of(project) / "figures/consort.csv", keep_default_na=False)
    return frame[frame["what"] == "box"]


def n(frame: pd.DataFrame, box: str, reason: str = "") -> int:
    return int(frame.loc[(frame["box"] == box) & (frame["reason"] == reason), "n"].iloc[0])


def test_figure1_shows_the_interest_stage_and_the_papers_groups(built_project):
    flow = shipped_flow(built_project)
    assert n(flow, "assessed") == 117
    assert n(flow, "interested") == 33
    assert n(flow, "recruited") == 31
    assert n(flow, "placed") == 15
    assert n(flow, "completed") == 11
    # the paper's paragraph: 2 ineligible, 2 unable to be placed, 3 withdrew (all three together)
    assert set(flow.loc[flow["part_of"] == "after_baseline", "box"]) == {
        "ineligible_after_recruitment",
        "could_not_be_placed",
        "withdrew",
    }
    assert n(flow, "ineligible_after_recruitment") == 2
    assert n(flow, "could_not_be_placed") == 2
    assert n(flow, "withdrew") == 3 and n(flow, "after_baseline") == 7
    withdrew = flow[(flow["box"] == "withdrew") & (flow["reason"] != "")]
    assert len(withdrew) == 3
    assert any("first day of work preparation" in r for r in withdrew["reason"])
    # work preparation: 27 attended, shown in the flow (a line of the recruitment box)
    assert n(flow, "work_preparation") == 27
    assert (
        "Attended work preparation, n = 27"
        in (results_of(built_project) / "figures/consort.alt.txt").read_text()
    )


def test_every_figure1_box_equals_the_sum_of_what_flows_out_of_it(built_project):
    flow = shipped_flow(built_project)
    own = flow[flow["reason"] == ""]
    parents = set(own["part_of"]) - {""}
    assert parents, "no box with outflows"
    for parent in parents:
        assert n(flow, parent) == own.loc[own["part_of"] == parent, "n"].sum(), parent
    for box, rows in flow[flow["reason"] != ""].groupby("box"):
        assert rows["n"].sum() == n(flow, box), box
    # every box of the main column but the last has somewhere to go
    assert parents >= {"assessed", "interested", "recruited", "continued", "placed"}


# ----------------------------------------------------------------------- 14.8 completeness figure
def test_completeness_tells_not_applicable_from_not_returned(built_project):
    data = pd.read_csv(
        results_of(built_project) / "figures/completeness.csv", keep_default_na=False
    ).set_index(["timepoint", "form"])
    got = {k: (None if r.expected == "" else (int(r.returned), int(r.expected))) for k, r in data.iterrows()}
    assert got[("week6", "health_questionnaire")] == (8, 19)  # 42% excluding dropouts
    assert got[("week14", "health_questionnaire")] == (10, 19)
    assert got[("month6", "health_questionnaire")] == (9, 19)
    assert got[("week6", "work_questionnaire")] == (8, 15)  # Table 4: the placed
    assert got[("week14", "work_questionnaire")] is None  # no accepted offer yet
    assert got[("month6", "work_questionnaire")][1] == 2  # two had accepted an offer
    assert got[("week14", "employment")] == (8, 19)  # Table 5: every responder
    assert got[("month6", "employment")] == (9, 19)
    assert got[("week6", "employment")] is None
    why = data["why_not_applicable"]
    assert "accepted job offer" in why[("week14", "work_questionnaire")]
