"""The paper's analysis as its study file declares it (config/config.yaml), run on the
validated data of its REDCap downloads (one table per form), against the regression
snapshot of every table (tests/regression/), and changes to the declaration giving the
cells they should."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feasibility.analysis import Analysis, StudyData, load_spec, parse
from feasibility.tables.registry import build_table
from feasibility.tables.common import CELL_COLUMNS, html_fragment, write_table

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "regression" / "tables"
sys.path.insert(0, str(ROOT / "tests" / "regression"))
from gt_text import gt_text  # noqa: E402

TABLES = ["table2", "table3", "table4", "table5", "feasibility_metrics"]
NUMBERS = ["estimate", "sd", "lower", "upper"]
COUNTS = ["n", "denominator", "decimals"]


@pytest.fixture(scope="module")
def paper(paper_study, _paper_config_checked, paper_provenance):
    return Analysis(paper_study, load_spec(_paper_config_checked), paper_provenance)


def snapshot(table: str) -> pd.DataFrame:
    return pd.read_csv(SNAPSHOT / f"{table}.csv", dtype=str, keep_default_na=False)


def mismatches(expected: pd.DataFrame, got: pd.DataFrame) -> list[str]:
    """Every cell and column where ``got`` differs from the snapshot."""
    out = []
    if len(expected) != len(got):
        out.append(f"{len(got)} cells, snapshot {len(expected)}")
    for i in range(min(len(expected), len(got))):
        for col in CELL_COLUMNS:
            want, have = expected.at[i, col], got.at[i, col]
            if col in NUMBERS:
                w = float(want) if want != "" else math.nan
                ok = (
                    (math.isnan(w) and math.isnan(have))
                    or w == have
                    or (math.isfinite(w) and abs(w - have) <= 1e-12 * max(1.0, abs(w)))
                )
            elif col in COUNTS:
                ok = (want == "" and pd.isna(have)) or (
                    want != "" and not pd.isna(have) and int(want) == int(have)
                )
            else:
                ok = want == str(have)
            if not ok:
                out.append(
                    f"cell {i} ({expected.at[i, 'row_label']!r}, "
                    f"{expected.at[i, 'column']}): {col} {have!r}, snapshot {want!r}"
                )
    return out


@pytest.mark.parametrize("table", TABLES)
def test_every_cell_equals_the_snapshot(paper, table):
    result = build_table(paper, table)
    assert list(result.cells.columns) == CELL_COLUMNS
    assert mismatches(snapshot(table), result.cells) == []


@pytest.mark.parametrize("table", TABLES)
def test_every_printed_word_equals_the_snapshot(paper, table):
    words = gt_text(html_fragment(build_table(paper, table).gt))
    expected = json.loads((SNAPSHOT / f"{table}.text.json").read_text(encoding="utf-8"))
    assert words == expected


def _resolve(published: dict, key: str):
    node = published
    for part in key.split("."):
        name, _, index = part.partition("[")
        node = node[name]
        if index:
            node = node[int(index.rstrip("]"))]
    return node


def test_every_published_key_of_the_declaration_is_in_the_published_values(paper):
    import yaml

    published = yaml.safe_load((ROOT / "config" / "published_values.yaml").read_text())
    keys = [k for t in TABLES for k in build_table(paper, t).cells["published_key"] if k]
    assert len(keys) == len(set(keys)), "one cell per published key"
    for key in keys:
        _resolve(published, key)  # raises KeyError/IndexError when missing


def test_the_small_cell_rule_rewords_the_several_offers_note(paper):
    # 1 person had 2 offers at 14 weeks: below a threshold of 5 the numbers are withheld
    words = gt_text(html_fragment(build_table(paper, "table5", small_cell_threshold=5).gt))
    assert ["footnote", "\u00b6 i.e. some people received more than one offer at 14 weeks."] in words


def test_the_library_reads_only_the_interface():
    """No module of the analysis library or the table kinds reads the REDCap downloads or
    the generator's CRF: they read the validated data only."""
    sources = list((ROOT / "workflow/feasibility/analysis").glob("*.py")) + [
        ROOT / f"workflow/feasibility/tables/{k}.py"
        for k in ("baseline", "change", "categorical", "counts", "metrics")
    ]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for forbidden in (
            "feasibility.studies",
            "import crf",
            "data/raw",
            "derive import",
            "read_csv",
            "EXPORTS",
        ):
            assert forbidden not in text, (path.name, forbidden)


# ----------------------------------------------------------------------------- changes
def build(study: StudyData, config: dict, table: str, provenance=None) -> pd.DataFrame:
    return build_table(Analysis(study, load_spec(config), provenance), table).cells


def test_a_new_row_adds_its_cells_and_changes_nothing_else(
    paper_study, paper_config_checked, paper_interface, paper_provenance
):
    config = paper_config_checked
    rows = config["tables"]["table2"]["rows"]
    rows[0]["variables"].append(
        {"variable": "dem_prev_worked", "type": "dichotomous", "label": "Previously worked, n (%)"}
    )
    cells = build(paper_study, config, "table2", paper_provenance)
    new = cells[cells["row_label"] == "Previously worked, n (%)"]
    # by hand from the validated data: participants are the records with an enrolment row
    demo = pd.read_parquet(paper_interface / "demographics.parquet")
    worked = int((demo["dem_prev_worked"] == 1).sum())
    assert len(demo) == 31
    assert new[["row_group", "statistic", "n", "denominator", "text"]].values.tolist() == [
        ["Demographics", "n_pct", worked, 31, f"{worked} ({round(100 * worked / 31)})"]
    ]
    rest = cells.drop(new.index).reset_index(drop=True)
    assert mismatches(snapshot("table2"), rest) == []


def _with_month12(paper_interface: Path, dest: Path) -> StudyData:
    """The paper's validated data with a 12-month follow-up event whose health questionnaires
    are the 6-month ones (so its changes from baseline must equal the 6-month ones)."""
    book = json.loads((paper_interface / "codebook.json").read_text())
    book["events"].append({"unique_name": "month12_arm_1", "label": "12 months", "arm": 1})
    book["designations"]["month12_arm_1"] = ["health_questionnaire"]
    forms = {
        p.stem: pd.read_parquet(p) for p in paper_interface.glob("*.parquet") if p.stem != "missing_codes"
    }
    hq = forms["health_questionnaire"]
    later = hq[hq["redcap_event_name"] == "month6_arm_1"].assign(redcap_event_name="month12_arm_1")
    forms["health_questionnaire"] = pd.concat([hq, later], ignore_index=True)
    return StudyData.from_frames(book, forms)


def test_a_new_time_point_adds_a_column(paper_config_checked, paper_interface, tmp_path, paper_provenance):
    study = _with_month12(paper_interface, tmp_path)
    config = paper_config_checked
    config["timepoints"]["schedule"]["month12"] = {"event": "month12_arm_1", "label": "12 months"}
    config["tables"]["table3"]["columns"].append({"id": "month12", "timepoint": "month12"})
    cells = build(study, config, "table3", paper_provenance)
    old, new = cells[cells["column"] != "month12"], cells[cells["column"] == "month12"]
    assert mismatches(snapshot("table3"), old.reset_index(drop=True)) == []
    assert len(new) == 11
    six = cells[cells["column"] == "month6"].reset_index(drop=True)
    twelve = new.reset_index(drop=True)
    for col in ("row_label", "statistic", "estimate", "sd", "lower", "upper", "n", "text"):
        assert twelve[col].tolist() == six[col].tolist(), col
    assert twelve["published_key"].str.endswith("[3]").all()
    words = gt_text(
        html_fragment(build_table(Analysis(study, load_spec(config), paper_provenance), "table3").gt)
    )
    assert ["spanner", "12 months"] in words


def test_a_new_instrument_adds_its_scores(
    paper_study, paper_config_checked, paper_interface, paper_provenance
):
    config = paper_config_checked
    # the HADS scored a second time, without imputation (max_missing 0), under other names
    config["instruments"]["hads_complete"] = {
        "scorer": "hads",
        "form": "health_questionnaire",
        "parameters": {"missing_items": {"max_missing": 0, "method": "none"}},
        "rename": {"hads_anxiety": "anxiety_complete", "hads_depression": "depression_complete"},
        "labels": {"hads_anxiety": "HADS anxiety, complete answers"},
    }
    config["tables"]["table2"]["rows"][-1]["variables"].append({"variable": "anxiety_complete"})
    cells = build(paper_study, config, "table2", paper_provenance)
    row = cells[cells["row_label"] == "HADS anxiety, complete answers"]
    missing = cells[cells["row_label"] == "HADS anxiety, complete answers: missing"]
    # by hand: baseline anxiety (odd items) of participants who answered all seven
    hq = pd.read_parquet(paper_interface / "health_questionnaire.parquet")
    base = hq[hq["redcap_event_name"] == "baseline_arm_1"]
    odd = base[[f"hads_{i}" for i in range(1, 15, 2)]].astype("float64")
    sums = odd.sum(axis=1)[odd.notna().all(axis=1)]
    assert row["n"].tolist() == [len(sums)]
    assert row["estimate"].iloc[0] == pytest.approx(sums.mean())
    assert row["sd"].iloc[0] == pytest.approx(sums.std(ddof=1))
    # those with an item blank have no score: an n (%) missing row says how many
    assert missing[["n", "denominator"]].values.tolist() == [[31 - len(sums), 31]]
    # the imputed HADS anxiety row is the snapshot's
    rest = cells.drop(row.index.union(missing.index)).reset_index(drop=True)
    assert mismatches(snapshot("table2"), rest) == []


def test_a_changed_parameter_changes_only_the_cells_that_use_it(
    paper_study, paper_config_checked, paper_provenance
):
    config = paper_config_checked
    config["parameters"]["case_management_cost_per_hour_gbp"] = 60
    cells = build(paper_study, config, "feasibility_metrics", paper_provenance)
    before = snapshot("feasibility_metrics")
    changed = [i for i in range(len(before)) if before.at[i, "text"] != cells.at[i, "text"]]
    assert [cells.at[i, "row_label"] for i in changed] == ["Cost per participant (£), all recruited"]
    # twice the hourly cost: twice the median and quartiles
    i = changed[0]
    assert cells.at[i, "estimate"] == pytest.approx(2 * float(before.at[i, "estimate"]))
    assert np.isclose(cells.at[i, "upper"], 2 * float(before.at[i, "upper"]))


def test_a_saved_analysis_dataset_gives_the_same_tables(
    paper_study, paper_config_checked, paper_provenance, tmp_path
):
    """Table jobs read the analysis dataset that one job derived and scored."""
    spec = load_spec(paper_config_checked)
    first = Analysis(paper_study, spec, paper_provenance)
    first.save(tmp_path / "analysis")
    assert {p.name for p in (tmp_path / "analysis").iterdir()} == {
        "records.parquet",
        "timepoints.parquet",
        "scoring_log.parquet",
        "variables.json",
    }
    records = pd.read_parquet(tmp_path / "analysis" / "records.parquet")
    assert len(records) == 117 and {"placed", "dropout", "participants"} <= set(records)
    loaded = Analysis.load(paper_study, spec, tmp_path / "analysis", paper_provenance)
    assert "placed" in loaded._variables and "hads_anxiety" in loaded._variables
    for table in TABLES:
        assert mismatches(snapshot(table), build_table(loaded, table).cells) == [], table
        assert gt_text(html_fragment(build_table(loaded, table).gt)) == json.loads(
            (SNAPSHOT / f"{table}.text.json").read_text(encoding="utf-8")
        )


# ------------------------------------------------------------- the participants table
SAME_NAME = [
    "site",
    "source",
    "source_group",
    "consent_date",
    "age",
    "sex",
    "marital_status",
    "ethnicity",
    "education",
    "pain_area_lower_back",
    "pain_area_back_or_neck",
    "pain_area_head",
    "pain_area_chest",
    "pain_area_abdominal",
    "pain_area_peripheral",
    "n_pain_areas",
    "years_in_pain",
    "years_out_of_work",
    "years_looking_for_work",
    "previously_worked",
    "additional_health_concerns",
    "excluded_after_recruitment",
    "attended_work_preparation",
    "work_preparation_session",
    "work_preparation_date",
    "offered_placement",
    "not_placed_reason",
    "placed",
    "placement_provider",
    "placement_site",
    "decision_date",
    "placement_start",
    "placement_end",
    "placement_hours",
    "placement_weeks",
    "hours_per_week",
    "completed_placement",
    "not_completed_reason",
    "start_date",
    "days_recruitment_to_placement",
    "dropout",
    "dropout_reason",
    "case_manager",
    "cm_contacts",
    "cm_hours",
    "healthcare_referrals",
    "adverse_events",
    "serious_adverse_events",
]


def _same(a, b) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    if isinstance(a, (float, int, np.floating, np.integer)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return a == b


def _participant_ids() -> dict[str, str]:
    """The participant ID of main's exports (PP01...) -> the record (screening number), from
    the identifier field ``scr_participant_id`` of the all-records download (validation
    drops it)."""
    import paperdata

    raw = pd.read_csv(paperdata.redcap_files()["records"], dtype=str, keep_default_na=False)
    screening = raw[(raw["redcap_event_name"] == "screening_arm_1") & (raw["scr_participant_id"] != "")]
    return dict(zip(screening["scr_participant_id"], screening["record_id"]))


@pytest.fixture(scope="module", params=["derived", "saved"])
def participants_analysis(request, paper, paper_interface, _paper_config_checked, tmp_path_factory):
    """The paper's analysis as the table and value jobs derive it, and as the figure jobs
    read it: the saved analysis dataset over the validated forms
    (``feasibility.figures.build.load_analysis``, rule analysis's output)."""
    if request.param == "derived":
        return paper
    from feasibility.figures.build import load_analysis

    saved = tmp_path_factory.mktemp("analysis")
    paper.save(saved)
    loaded = load_analysis(_paper_config_checked, paper_interface, saved)
    assert "placed" in loaded._variables and "dropout" in loaded._variables  # read, not derived
    return loaded


def test_the_declaration_derives_the_participants_table(participants_analysis):
    """Every column of the participants table that derive.py made (the snapshot of main at
    c515aea, tests/regression/participants.csv; the figures read it then), recomputed from
    the validated data by the declared expressions, participant by participant; the same
    from the saved analysis dataset the figures read now."""
    paper = participants_analysis
    want = pd.read_csv(
        ROOT / "tests" / "regression" / "participants.csv", keep_default_na=False, na_values=[""]
    )
    bools = {"True": True, "False": False}
    want = want.apply(lambda c: c.map(lambda x: bools.get(x, x)) if c.dtype == object else c)
    want = want.set_index(want["record_id"].map(_participant_ids())).sort_index()
    assert want.index.notna().all() and want.index.is_unique
    participants = paper.population(paper.spec.participants_expr())
    assert sorted(participants) == list(want.index)
    for tp in ("week6", "week14", "month6"):
        want[f"follow_up_status[{tp}]"] = want[f"fu_status_{tp}"]
        want[f"follow_up_days[{tp}]"] = want[f"fu_days_{tp}"]
    columns = SAME_NAME + [
        f"follow_up_{k}[{tp}]" for k in ("status", "days") for tp in ("week6", "week14", "month6")
    ]
    assert set(want.columns) - set(columns) == {
        "record_id",
        *(f"fu_{k}_{tp}" for k in ("status", "days") for tp in ("week6", "week14", "month6")),
    }
    for column in columns:
        mine = paper.evaluate_rows(parse(column, "test"), index=participants).reindex(want.index)
        expected = want[column]
        if column.endswith("date") or column in ("placement_start", "placement_end", "start_date"):
            expected = pd.to_datetime(expected)
        bad = [rid for rid in want.index if not _same(expected[rid], mine[rid])]
        assert not bad, (column, bad[:3], [(expected[r], mine[r]) for r in bad[:3]])


# ----------------------------------------------------------------------------- every table
@pytest.mark.parametrize("table", TABLES)
def test_printed_text_is_what_the_html_shows(paper, table):
    result = build_table(paper, table)
    shown = [w for kind, w in gt_text(html_fragment(result.gt)) if kind == "cell"]
    for text in result.cells.loc[result.cells["text"] != "", "text"]:
        assert text in shown, (table, text)
    keys = result.cells.loc[result.cells["published_key"] != "", "published_key"]
    assert keys.is_unique, table


@pytest.mark.parametrize("table", TABLES)
def test_html_is_offline_and_has_its_parts(paper, table):
    html = html_fragment(build_table(paper, table).gt)
    assert f'id="{table}"' in html
    assert 'class="gt_sourcenote"' in html and "Source:" in html
    for forbidden in ("http", "@import", "googleapis"):
        assert forbidden not in html


def test_write_table_is_byte_identical_across_builds(paper, tmp_path):
    outputs = []
    for run in ("a", "b"):
        result = build_table(paper, "table3")
        html, csv = tmp_path / run / "table3.html", tmp_path / run / "table3.csv"
        write_table(result.cells, result.gt, html, csv)
        outputs.append((html.read_bytes(), csv.read_bytes()))
    assert outputs[0] == outputs[1]
    back = pd.read_csv(tmp_path / "a" / "table3.csv", keep_default_na=False)
    assert list(back.columns) == CELL_COLUMNS
    row = back[(back["row_label"] == "Perceived work confidence") & (back["column"] == "week6")]
    assert row["text"].item().startswith("\u2212")  # U+2212 needs no quoting
    assert row["published_key"].item() == "table3_change.work_confidence[0]"
    assert outputs[0][0].decode("utf-8").lstrip().startswith('<div id="table3"')
