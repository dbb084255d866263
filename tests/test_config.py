"""Study files (issue 12.3, issue 15.1): the schema, defaults, paths, overrides, and a
study run with --configfile instead of the default one."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from feasibility.config import ConfigError, check_inputs, load_study, path_keys, registry, schema

from projectcopy import ROOT, copy_project, results_of, run_snakemake

# The smallest complete study file: its title and its REDCap downloads.
MINIMAL = """\
study: {title: Another study}
redcap: {records: exports/records.csv, dictionary: exports/data_dictionary.csv,
         instrument_designations: exports/instrument_designations.csv}
"""
# ... and one whose main report the workflow can build today (the paper's analysis).
ANALYSED = (
    MINIMAL
    + """\
paths: {published_values: values.yaml}
parameters: {case_management_cost_per_hour_gbp: 25, rtw_without_intervention_assumed: 0.2}
"""
)


def _external(node) -> bool:
    """A section whose schema is a fragment of its own (schemas/config.<part>.schema.yaml),
    checked by that part's tests."""
    return isinstance(node, dict) and not str(node.get("$ref", "#")).startswith("#")


def _walk(node, path=()):
    """(key path, subschema) of every property of the schema (fragments left out)."""
    root = schema()
    if _external(node):
        return
    if "$ref" in node:
        node = {**root["$defs"][node["$ref"].split("/")[-1]], **node}
    yield path, node
    for key, sub in (node.get("properties") or {}).items():
        yield from _walk(sub, path + (key,))


def test_schema_is_valid_json_schema_2020_12():
    s = schema()
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(s)


def test_every_key_is_described_and_every_optional_key_has_a_default():
    for path, node in _walk(schema()):
        if not path:
            continue
        assert node.get("description"), f"{'.'.join(path)} has no description"
    for path, node in _walk(schema()):
        if node.get("type") == "object" or "properties" in node:
            required = set(node.get("required", []))
            for key, sub in node.get("properties", {}).items():
                if key not in required and not _external(sub):
                    assert "default" in sub, f"{'.'.join(path + (key,))} is optional but has no default"
            assert node.get("additionalProperties") is not None, f"{'.'.join(path)} allows unknown keys"


PARAMETERS = ("$defs", "instrument", "properties", "parameters", "properties")


def _at(path):
    node = schema()
    for key in path:
        node = node[key]
    return node


def test_every_method_name_is_an_enumeration():
    names = {("statistics", "quantile_definition"), ("statistics", "proportion_ci"), ("report", "backend")}
    found = {p for p, node in _walk(schema()) if "enum" in node}
    assert names <= found
    for key in ("method", "value_set"):
        assert "enum" in _at(PARAMETERS + (key,)), key
    assert "enum" in _at(("$defs", "instrument", "properties", "scorer"))
    rule = schema()["$defs"]["missing_rule"]["properties"]["method"]
    assert rule["enum"] == ["mean_of_answered", "none"]


def test_the_enumerations_are_what_the_code_implements():
    from feasibility.render import BACKENDS
    from feasibility.scoring.eq5d import VALUE_SETS
    from feasibility.scoring.items import MISSING_METHODS
    from feasibility.scoring.registry import SCORERS

    props = dict(_walk(schema()))
    assert set(_at(PARAMETERS + ("value_set",))["enum"]) == set(VALUE_SETS)
    assert set(props[("report", "backend")]["enum"]) == set(BACKENDS)
    assert set(schema()["$defs"]["missing_rule"]["properties"]["method"]["enum"]) == set(MISSING_METHODS)
    assert set(_at(("$defs", "instrument", "properties", "scorer"))["enum"]) == set(SCORERS)


def test_each_scorers_parameters_are_the_registrys():
    """The schema's branch of each scorer allows exactly the parameters (and, per subscale,
    the subscales) its scorer in the instrument library has."""
    from feasibility.scoring.registry import SCORERS

    branches = {}
    for branch in _at(("$defs", "instrument", "allOf")):
        scorer = branch["if"]["properties"]["scorer"]
        names = scorer.get("enum") or [scorer["const"]]
        params = branch["then"]["properties"]["parameters"]
        for name in names:
            branches[name] = params
    assert set(branches) == set(SCORERS)
    for name, spec in SCORERS.items():
        params = branches[name]
        assert params["additionalProperties"] is False
        assert set(params["properties"]) == set(spec.defaults), name
        if "missing_items" in spec.defaults:
            per_subscale = params["properties"]["missing_items"]["else"]["properties"]
            assert set(per_subscale) == set(spec.subscales), name


def test_the_default_study_is_valid_and_its_paths_are_relative_to_its_folder(monkeypatch):
    monkeypatch.chdir(ROOT)
    config = load_study("config/config.yaml")
    assert config["paths"] == {"published_values": "config/published_values.yaml"}
    assert {
        k: v
        for k, v in config["redcap"].items()
        if k not in ("repeating", "missing_data_codes", "allow_paths_outside")
    } == {
        "records": "data/raw/records.csv",
        "dictionary": "data/raw/data_dictionary.csv",
        "instrument_designations": "data/raw/instrument_designations.csv",
        "events": "data/raw/events.csv",
        "project_xml": None,
        "no_identifiers": False,
        "api": None,
        "pull": None,
        "case_sensitive_ids": False,
        "data_access_groups": None,
    }
    assert config["validation"]["max_file_mb"] == 100  # the schema's default
    assert len(config["validation"]["rules"]) >= 30 and config["validation"]["derive"][0]["name"] == "age"


def test_a_minimal_study_takes_every_default(tmp_path, monkeypatch):
    (tmp_path / "study.yaml").write_text(MINIMAL)
    monkeypatch.chdir(tmp_path)
    config = load_study("study.yaml")
    assert config["statistics"] == {
        "confidence_level": 0.95,
        "quantile_definition": "stata_summarize",
        "proportion_ci": "wilson",
        "adjustment": {"covariates": [], "baseline": True},
        "imputation": {"m": 50, "iterations": 5, "seed": 20231, "other_timepoints": True},
    }
    assert config["report"] == {
        "title": None,
        "subtitle": None,
        "lang": "en-GB",
        "synthetic_subtitle": None,
        "sections": None,
        "narrative": {},
        "backend": "auto",
        "quarto_executable": None,
        "timeout_seconds": 300,
    }
    assert config["disclosure"] == {"small_cell_threshold": None}
    assert config["validation"] == {
        "max_file_mb": 100,
        "max_cell_chars": 131072,
        "export_date": None,
        "branching": "warning",
        "out_of_range": "warning",
        "rules": [],
        "derive": [],
        "severities": {},
        "labels": False,
    }
    assert config["paths"] == {"published_values": None}
    assert config["quality"]["recruitment"]["date_field"] is None
    assert config["timepoints"] is None and config["arms"] is None
    assert config["flow"] == {
        "populations": {},
        "participants": None,
        "dropout": None,
        "consort": [],
        "follow_up": None,
    }
    # nothing of the default study: its title, sites, instruments, tables and values are not there
    assert config["study"]["sites"] == []
    assert (config["instruments"], config["derived"], config["tables"], config["values"]) == ({}, {}, {}, {})
    jsonschema.Draft202012Validator(schema(), registry=registry()).validate(config)


def test_two_studies_do_not_share_defaults(tmp_path, monkeypatch):
    (tmp_path / "study.yaml").write_text(MINIMAL)
    monkeypatch.chdir(tmp_path)
    first = load_study("study.yaml")
    first["report"]["narrative"]["added"] = "text"
    first["flow"]["populations"]["everyone"] = "true"
    second = load_study("study.yaml")
    assert second["report"]["narrative"] == {} and second["flow"]["populations"] == {}


def test_paths_are_relative_to_the_study_file_not_the_working_directory(tmp_path, monkeypatch):
    study = tmp_path / "studies" / "trial"
    study.mkdir(parents=True)
    (study / "study.yaml").write_text(
        ANALYSED.replace("{records: exports/", "{records: ../../data/raw/")
        + "instruments: {eq5d: {scorer: eq5d_5l, form: hq, parameters: "
        "{method: mapping_table, mapping_table: dsu.csv}}}\n"
    )
    monkeypatch.chdir(tmp_path)
    config = load_study("studies/trial/study.yaml")
    assert config["redcap"]["records"] == os.path.join("data", "raw", "records.csv")
    assert config["redcap"]["dictionary"] == os.path.join(
        "studies", "trial", "exports", "data_dictionary.csv"
    )
    assert config["paths"]["published_values"] == os.path.join("studies", "trial", "values.yaml")
    assert config["instruments"]["eq5d"]["parameters"]["mapping_table"] == os.path.join(
        "studies", "trial", "dsu.csv"
    )
    monkeypatch.chdir(study)  # the same file from elsewhere: outside the working directory
    assert load_study("study.yaml")["redcap"]["records"] == str(tmp_path / "data" / "raw" / "records.csv")
    outside = tmp_path.parent / "elsewhere.yaml"
    try:
        outside.write_text(MINIMAL)
        assert load_study(outside)["redcap"]["records"] == str(tmp_path.parent / "exports" / "records.csv")
    finally:
        outside.unlink()


def test_command_line_overrides_go_on_top_with_their_types(tmp_path, monkeypatch):
    (tmp_path / "study.yaml").write_text(ANALYSED)
    monkeypatch.chdir(tmp_path)
    # Snakemake hands the values inside a mapping over as text
    config = load_study(
        "study.yaml",
        {
            "report": {"timeout_seconds": "60", "backend": "pandoc"},
            "disclosure": {"small_cell_threshold": "null"},
            "study": {"title": "2024"},
        },
    )
    assert config["report"]["timeout_seconds"] == 60 and config["report"]["backend"] == "pandoc"
    assert config["disclosure"]["small_cell_threshold"] is None
    assert config["study"]["title"] == "2024"  # text stays text where text belongs
    assert config["parameters"]["case_management_cost_per_hour_gbp"] == 25
    with pytest.raises(ConfigError, match=r"the command line \(--config\): report.backend is 'latex'"):
        load_study("study.yaml", {"report": {"backend": "latex"}})


def test_every_problem_is_listed_with_file_line_key_value_and_what_is_allowed(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(
        MINIMAL + "statistics:\n  confidence_level: 1.5\n  proportion_ci: Wilson\n"
        "report: {timeout_seconds: 0, backend: [pandoc]}\nextra: 1\n"
    )
    with pytest.raises(ConfigError) as err:
        load_study(path)
    text = str(err.value)
    assert "is not valid (5 problems); nothing was run" in text
    assert (
        f"{path} line 5: statistics.confidence_level is 1.5; allowed: a number greater than 0 and less than 1"
        in text
    )
    assert (
        f"{path} line 6: statistics.proportion_ci is 'Wilson'; allowed: one of 'wilson' (did you mean wilson?)"
        in text
    )
    assert "report.timeout_seconds is 0; allowed: a number greater than 0" in text
    assert "report.backend is ['pandoc']; allowed: one of 'auto', 'quarto', 'pandoc' - " in text
    assert (
        f"{path} line 8: unknown key extra; the top level allows: arms, derived, disclosure, dummy_data, "
        "estimands, figures, flow, instruments, parameters, paths, quality, redcap, "
    ) in text
    assert text.rstrip().endswith("config.schema.yaml")


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "study is required but missing"),
        ("study: {title: x}\n", "redcap is required but missing (The study's REDCap downloads"),
        ("study: {title: x}\nredcap: {dictionary: d.csv}\n", "redcap.records is required but missing"),
        (
            "study: {title: x}\nredcap: {records: r.csv}\n",
            "line 2: redcap names no metadata for the records: give redcap.dictionary",
        ),
        (
            "study: {title: x}\nredcap: {records: r.csv, events: e.csv}\n",
            "redcap names no metadata for the records (events alone is not the metadata)",
        ),
        (
            "study: {title: x}\nredcap:\n  records: r.csv\n  dictionary: d.csv\n  project_xml: p.xml\n",
            "line 5: redcap names both project_xml and dictionary; the project XML holds the metadata",
        ),
        (
            MINIMAL + "validation: {rules: [{kind: date_order, earlier: {field: a}}]}\n",
            "validation.rules.0.later is required but missing",
        ),
        (
            MINIMAL + "validation: {rules: [{kind: not_after_export, field: a}]}\n",
            "unknown key validation.rules.0.field (did you mean fields?)",
        ),
        (
            MINIMAL + "validation: {branching: warn}\n",
            "validation.branching is 'warn'; allowed: one of 'warning', 'error', 'ignore' (did you mean warning?)",
        ),
        ("- a\n- b\n", "a study file is a mapping of sections"),
        ("study: {title: [unclosed\n", "not valid YAML"),
        (
            MINIMAL
            + "instruments: {eq5d: {scorer: eq5d_5l, form: hq, parameters: {method: mapping_table}}}\n",
            "instruments.eq5d.parameters.mapping_table is required but missing",
        ),
        (
            MINIMAL + "instruments: {w: {scorer: wemwbs, form: hq, parameters: {missing_items: "
            "{max_missing: 1, method: none}}}}\n",
            "instruments.w.parameters.missing_items.max_missing is 1; allowed: only 0",
        ),
        (
            MINIMAL + "instruments: {h: {scorer: hads, form: hq, parameters: {missing_items: "
            "{hads: {max_missing: 1, method: mean_of_answered}}}}}\n",
            "unknown key instruments.h.parameters.missing_items.hads; instruments.h.parameters.missing_items "
            "allows: hads_anxiety, hads_depression",
        ),
        (
            MINIMAL + "instruments: {h: {scorer: hads, form: hq, parameters: {max_missing: 1}}}\n",
            "unknown key instruments.h.parameters.max_missing; instruments.h.parameters allows: missing_items",
        ),
        (
            MINIMAL
            + "instruments: {e: {scorer: eq5d_5l, form: hq, parameters: {value_set: england_2018}}}\n",
            "instruments.e.parameters.value_set is 'england_2018'; allowed: one of 'england_5l_2018', ",
        ),
        (MINIMAL + "values: {x.y: {kind: count}}\n", "values.x.y"),
        (MINIMAL + "report: {sections: [{title: A, content: [{tabel: t2}]}]}\n", "report.sections"),
        (MINIMAL + "study: {title: x}\n", "key 'study' appears twice"),
    ],
)
def test_unusable_study_files(tmp_path, text, message):
    path = tmp_path / "study.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_study(path)


def test_a_study_file_that_is_not_a_regular_file_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "study.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="is a FIFO"):
        load_study(fifo)
    with pytest.raises(ConfigError, match="does not exist"):
        load_study(tmp_path / "none.yaml")


def test_path_keys_are_found_in_the_schema():
    assert set(path_keys()) == {
        ("redcap", "records"),
        ("redcap", "dictionary"),
        ("redcap", "instrument_designations"),
        ("redcap", "events"),
        ("redcap", "project_xml"),
        ("paths", "published_values"),
        ("instruments", "*", "parameters", "mapping_table"),
        ("report", "quarto_executable"),
        ("redcap", "api", "token_file"),
    }


def test_the_full_trial_study_file_is_valid():
    config = load_study(ROOT / "config" / "studies" / "full-trial.yaml")
    assert config["redcap"]["records"].endswith(os.path.join("data", "full-trial", "records.csv"))
    assert {"timepoints", "arms", "instruments", "tables", "dummy_data", "figures"} <= set(config)
    assert len(config["validation"]["rules"]) == 17


def test_check_inputs_never_opens_what_it_checks(tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "big.csv").write_bytes(b"x" * 2000)
    (tmp_path / "ok.csv").write_text("a\n")
    found = check_inputs(
        {
            "pipe": (str(tmp_path / "pipe.csv"), "file"),
            "big": (str(tmp_path / "big.csv"), "file"),
            "ok": (str(tmp_path / "ok.csv"), "file"),
            "folder": (str(tmp_path / "ok.csv"), "dir"),
        },
        max_bytes=1000,
    )
    assert found == [
        f"{tmp_path}/pipe.csv: pipe is a FIFO (named pipe), not a regular file",
        f"{tmp_path}/big.csv: big is 0.002 MB (2,000 bytes), larger than "
        "validation.max_file_mb (0.001 MB); raise the limit in the study file if the "
        "file is what you meant to give",
        f"{tmp_path}/ok.csv: folder is a regular file, not a folder",
    ]


# ------------------------------------------------------------------------- real runs
@pytest.fixture
def other_study(tmp_path) -> Path:
    """A study in a folder of its own: a copy of the shipped exports, paths relative to it."""
    folder = tmp_path / "other"
    shutil.copytree(ROOT / "data" / "raw", folder / "exports")
    shutil.copy(ROOT / "config" / "published_values.yaml", folder / "values.yaml")
    (folder / "study.yaml").write_text(ANALYSED)
    return folder / "study.yaml"


def test_configfile_runs_that_study_instead_of_the_default_one(tmp_path, other_study):
    (tmp_path / "proj").mkdir()
    proj = copy_project(tmp_path / "proj")
    shutil.rmtree(proj / "data")  # the default study's data are not needed
    res = run_snakemake(proj, "validate", "--configfile", str(other_study))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert f"Study: {other_study} (id study: its results in results/study/)" in out
    passed = yaml.safe_load((results_of(proj, "study") / "validation" / "passed.json").read_text())
    assert passed["outcome"] == "passed" and [e["file"] for e in passed["exports"]] == [
        "records.csv",
        "data_dictionary.csv",
        "instrument_designations.csv",
    ]
    assert str(other_study.parent / "exports" / "records.csv") in passed["inputs"]
    assert passed["settings"]["rules"] == []  # none of the default study's rules
    # plain `snakemake` is the default study again, whose data are gone
    res = run_snakemake(proj, "validate")
    assert res.returncode != 0 and (
        "data/raw: folder of the REDCap downloads does not exist" in res.stdout + res.stderr
    )


def test_configfile_does_not_merge_with_the_default_study(tmp_path, other_study):
    """A study that leaves out a section gets the schema's default, not config/config.yaml's."""
    (tmp_path / "proj").mkdir()
    proj = copy_project(tmp_path / "proj")
    text = (proj / "config" / "config.yaml").read_text()
    (proj / "config" / "config.yaml").write_text(
        text.replace("  timeout_seconds: 300", "  timeout_seconds: 0")
    )
    res = run_snakemake(proj, "--configfile", str(other_study), "--dry-run")  # default study invalid: unused
    assert res.returncode == 0, res.stderr[-3000:]
    res = run_snakemake(proj, "--dry-run")
    assert res.returncode != 0 and "report.timeout_seconds is 0" in res.stdout + res.stderr


def test_null_on_the_command_line_is_null_where_text_is_also_allowed(tmp_path, monkeypatch):
    (tmp_path / "study.yaml").write_text(ANALYSED)
    monkeypatch.chdir(tmp_path)
    config = load_study("study.yaml", {"validation": {"export_date": "null"}, "report": {"title": "null"}})
    assert config["validation"]["export_date"] is None and config["report"]["title"] is None


@pytest.mark.slow  # a whole build of another study
def test_a_study_that_names_only_its_downloads_gets_the_data_quality_report(tmp_path):
    """Issue 16.3: `snakemake --configfile STUDY.yaml` with only `study` and `redcap`."""
    folder = tmp_path / "other"
    shutil.copytree(ROOT / "data" / "raw", folder / "exports")
    (folder / "exports" / "provenance.json").unlink()  # a real project's downloads
    (folder / "study.yaml").write_text(MINIMAL)
    (tmp_path / "proj").mkdir()
    proj = copy_project(tmp_path / "proj")
    res = run_snakemake(proj, "--configfile", str(folder / "study.yaml"))
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    report = results_of(proj, "study") / "report"  # the study file's name: its id
    assert sorted(p.name for p in report.glob("*.*")) == ["study-quality.html", "study-quality.pdf"]
    html = (report / "study-quality.html").read_text(encoding="utf-8")
    for heading in (
        "Records",
        "Form completion",
        "Missing data",
        "Validation results",
        "Queries",
        "Appendix: Codebook",
    ):
        assert f">{heading}<" in html, heading
    assert "Another study" in html
    # counts, never a record: no screening number of the export appears
    assert not re.search(r"\bS0\d\d\b", html)
    # Issue 24: the query list, tracked from this export to the next; one site's own workbook
    import csv
    import json

    import openpyxl

    import records_helpers as rh

    assert ">Queries<" in html and "for the study team only" in html
    queries = results_of(proj, "study") / "quality" / "queries"
    first = json.loads((queries / "queries.json").read_text(encoding="utf-8"))
    assert first["previous"] is None and first["by_status"]["new"] == first["open"] > 0
    with open(queries / "queries.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    blank = next(r for r in rows if r["rule"] == "A" and r["field"] == "sc_details")
    rh.set_value(
        folder / "exports",
        blank["record_id"],
        blank["event"],
        "sc_details",
        "moved away",
        blank["form"],
        blank["instance"],
    )
    res = run_snakemake(
        proj,
        "results/study/quality/queries/queries-no-group.xlsx",
        "--configfile",
        str(folder / "study.yaml"),
    )
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    second = json.loads((queries / "queries.json").read_text(encoding="utf-8"))
    assert second["previous"]["export_hash"] == first["workbook"]["export_hash"]
    assert second["by_status"] == {"new": 0, "pending": first["open"] - 1, "changed": 0, "resolved": 1}
    with open(queries / "queries.csv", encoding="utf-8", newline="") as handle:
        now = {r["query_id"]: r["status"] for r in csv.DictReader(handle)}
    assert now[blank["query_id"]] == "resolved"
    book = openpyxl.load_workbook(queries / "queries-no-group.xlsx")
    assert book.sheetnames == ["Summary", "No group"] and book["No group"].max_row == len(now) + 1
