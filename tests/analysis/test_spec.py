"""The analysis sections of a study file: the schema fragment, its defaults, and the
checks load_spec makes before any data are read."""

from __future__ import annotations

import copy

import jsonschema
import pytest
import yaml

from feasibility.analysis import ExpressionError, load_spec
from feasibility.analysis.spec import check_schema, schema


def test_the_schema_fragment_is_a_valid_json_schema_with_descriptions():
    s = schema()
    jsonschema.Draft202012Validator.check_schema(s)
    for section in ("parameters", "statistics", "timepoints", "instruments", "derived", "flow", "tables"):
        assert s["properties"][section]["description"], section


def test_the_papers_declaration_matches_the_schema(paper_config):
    check_schema(paper_config)
    spec = load_spec(paper_config)
    assert list(spec.tables) == ["table2", "table3", "table4", "table5", "feasibility_metrics"]
    assert spec.timepoints.baseline == "baseline"
    assert spec.timepoints.follow_ups() == ["week6", "week14", "month6"]
    assert spec.participants == "participants"
    assert {"dropout", "follow_up_status", "follow_up_days"} <= set(spec.derived)


def test_schema_defaults_are_the_code_defaults():
    s = schema()
    assert (
        s["properties"]["statistics"]["properties"]["confidence_level"]["default"]
        == load_spec({}).confidence
        == 0.95
    )
    footnote = s["$defs"]["footnote"]["oneOf"][1]["properties"]
    assert (footnote["join"]["default"], footnote["prefix"]["default"]) == ("; ", "")
    assert s["$defs"]["columns"]["oneOf"][1]["properties"]["label"]["default"] == "{level_label} (n = {n})"
    assert s["$defs"]["counts_row"]["properties"]["decimals"]["default"] == 0


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c["tables"]["table2"].update(kind="summary"), "tables.table2.kind"),
        (lambda c: c["tables"]["table2"].update(titel="x"), "'titel' was unexpected"),
        (lambda c: c["tables"]["table5"]["rows"][0].update(total="x"), "'total' was unexpected"),
        (
            lambda c: c["tables"]["feasibility_metrics"]["rows"][0]["metrics"][0].update(statistic="ratio"),
            "'ratio' is not one of",
        ),
        (lambda c: c["derived"].update({"2fast": "1"}), "'2fast' does not match"),
        (lambda c: c["instruments"]["hads"].pop("scorer"), "'scorer' is a required property"),
        (lambda c: c["timepoints"].pop("schedule"), "'schedule' is a required property"),
        (lambda c: c["flow"]["follow_up"].pop("returned"), "'returned' is a required property"),
    ],
)
def test_schema_errors_name_the_place(paper_config, change, message):
    config = copy.deepcopy(paper_config)
    change(config)
    with pytest.raises(ValueError, match=message):
        load_spec(config)


def test_expressions_are_parsed_when_the_study_file_is_read(paper_config):
    config = copy.deepcopy(paper_config)
    config["derived"]["placed"]["expr"] = "placement.plc_placed =="
    with pytest.raises(ExpressionError, match="derived variable 'placed': is not a valid expression"):
        load_spec(config)
    config = copy.deepcopy(paper_config)
    config["flow"]["dropout"] = "anyy(status_change.sc_further_data == 0)"
    with pytest.raises(ExpressionError, match="flow.dropout: unknown function 'anyy' \\(did you mean 'any'"):
        load_spec(config)


def test_time_points_are_checked(paper_config):
    config = copy.deepcopy(paper_config)
    config["timepoints"]["baseline"] = "week0"
    with pytest.raises(ValueError, match="timepoints.baseline 'week0' is not a time point"):
        load_spec(config)
    config = copy.deepcopy(paper_config)
    config["timepoints"]["schedule"]["again"] = "week6_arm_1"
    with pytest.raises(ValueError, match="event 'week6_arm_1' is in both 'week6' and 'again'"):
        load_spec(config)
    config = copy.deepcopy(paper_config)
    config["instruments"]["hads"]["timepoints"] = ["baseline", "week7"]
    with pytest.raises(ValueError, match="instruments.hads.timepoints: unknown time point 'week7'"):
        load_spec(config)
    config = copy.deepcopy(paper_config)
    config["flow"]["follow_up"]["timepoints"] = ["week6", "year1"]
    with pytest.raises(ValueError, match="flow.follow_up.timepoints: unknown time point"):
        load_spec(config)


def test_flow_names_are_checked(paper_config):
    config = copy.deepcopy(paper_config)
    config["flow"]["participants"] = "recruited"
    with pytest.raises(
        ValueError, match="flow.participants 'recruited' is not a population \\(screened, participants\\)"
    ):
        load_spec(config)
    config = copy.deepcopy(paper_config)
    config["derived"]["dropout"] = "false"
    with pytest.raises(ValueError, match="derived.dropout: the flow section makes this variable"):
        load_spec(config)


def test_a_time_point_of_several_arms(paper_config):
    config = {
        "timepoints": {
            "schedule": {
                "baseline": {"event": ["baseline_arm_1", "baseline_arm_2"], "label": "Baseline"},
                "month6": "month6_arm_1",
            }
        }
    }
    spec = load_spec(config)
    assert spec.timepoints.points["baseline"].events == ("baseline_arm_1", "baseline_arm_2")
    assert spec.timepoints.baseline == "baseline"
    assert spec.timepoints.label("month6") == "month6"


def test_the_schema_declares_every_table_key_the_kinds_read():
    """Each key the table kinds read is declared in the schema, among the properties every
    kind shares or in the kind's own (additionalProperties is false, so an undeclared key
    would be refused)."""
    from feasibility.config import schema as study_schema, table_kinds

    defs = study_schema()["$defs"]
    shared = defs["table"]["properties"]
    for key in (
        "title",
        "population",
        "columns",
        "stub_label",
        "value_label",
        "n_label",
        "denominator_label",
        "footnotes",
        "source_note",
        "timepoint",
        "cell_table",
        "footnote_marks",
        "difference",
        "label",
    ):
        assert key in shared and (
            shared[key].get("description") or shared[key].get("$ref") or shared[key].get("type")
        ), key
    own = {
        "baseline": ("decimals", "percent_decimals", "denominator", "levels", "missing", "rows"),
        "categorical": ("decimals", "percent_decimals", "denominator", "levels", "missing", "rows"),
        "change": ("baseline", "measures", "decimals"),
        "counts": ("rows", "decimals"),
        "metrics": ("rows",),
        "adjusted": ("rows", "covariates", "missing_data", "decimals"),
        "tipping_point": ("estimand", "deltas", "decimals"),
        "subgroups": ("estimand", "subgroups", "min_per_arm", "decimals"),
    }
    for name in table_kinds():
        properties = defs[f"table_{name}"]["properties"]
        for key in own.get(name, ()):
            assert properties[key].get("description"), (name, key)
        assert set(properties) - set(shared) - {"kind"} == set(own.get(name, ())), name


def test_yaml_round_trip_of_the_declaration(paper_config):
    text = yaml.safe_dump(paper_config, allow_unicode=True, sort_keys=False)
    assert load_spec(yaml.safe_load(text)).tables.keys() == load_spec(paper_config).tables.keys()


def test_the_reference_page_lists_every_function_and_scorer():
    from pathlib import Path

    from feasibility.analysis.expressions import FUNCTIONS
    from feasibility.scoring.registry import SCORERS

    page = (Path(__file__).resolve().parents[2] / "docs" / "analysis.md").read_text()
    for name in FUNCTIONS:
        assert f"`{name}(" in page or f"`{name}`" in page or f", `{name}`" in page, name
    for name in SCORERS:
        assert f"`{name}`" in page, name
