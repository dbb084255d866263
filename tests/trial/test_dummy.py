"""The generic dummy-data generator (feasibility.synth.dummy): valid exports for every
fixture project and the trial, byte-identical with the library's writer and from run to
run, branching respected, events and repeats as designated, dates in order, the
settings' gates, dropout, allocation and effects (and no effect unless asked)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from datetime import date

import numpy as np
import pytest
import yaml

from trial_helpers import ROOT, STUDY
from feasibility.redcap import Settings as RedcapSettings
from feasibility.redcap import load_project, validate
from feasibility.synth.dummy import DummyError, Settings, generate, main
from redcap_helpers import (
    CLASSIC,
    CLASSIC_CODES,
    CLASSIC_DD,
    LAB,
    LAB_XML,
    LONG,
    LONG_CODES,
    LONG_DES,
    LONG_EVENTS,
    LONG_META,
    XML,
    XML_FILE,
)
from trial_helpers import read_export, validate_trial

LONG_REPEATING = {
    "instruments": [
        {"form": "adverse_event", "event": "baseline_arm_1"},
        {"form": "adverse_event", "event": "month_6_arm_1"},
        {"form": "adverse_event", "event": "baseline_arm_2"},
        {"form": "adverse_event", "event": "month_6_arm_2"},
    ]
}
# every fixture project of the REDCap library: how to load it, how to validate an export of it
FIXTURES = {
    "classic": (dict(dictionary=CLASSIC / CLASSIC_DD), {"missing_data_codes": CLASSIC_CODES}),
    "longitudinal": (
        dict(dictionary=LONG / LONG_META, instrument_designations=LONG / LONG_DES, events=LONG / LONG_EVENTS),
        {"missing_data_codes": LONG_CODES, "repeating": LONG_REPEATING},
    ),
    "xml": (dict(project_xml=XML / XML_FILE), {}),
    "classic_repeating": (dict(project_xml=LAB / LAB_XML), {}),
}


def fixture_project(name):
    kw, settings = FIXTURES[name]
    project, failures = load_project(**kw, settings=RedcapSettings(**settings))
    assert project is not None, [f.message() for f in failures]
    return project


def validate_fixture(name, path, **extra):
    kw, settings = FIXTURES[name]
    return validate(path, **kw, settings={**settings, "branching": "error", **extra})


# ----------------------------------------------------------------------------- validity
@pytest.mark.parametrize("name", sorted(FIXTURES))
@pytest.mark.parametrize("seed", [1, 2024])
def test_every_fixture_project_gets_a_valid_export(tmp_path, name, seed):
    project = fixture_project(name)
    dummy = generate(project, 60, seed, {"item_missing": 0.1, "missing_codes": 0.5})
    path = dummy.write(tmp_path / "records.csv")
    # the generated export's date, as `feasibility dummy` writes it into the study file
    result = validate_fixture(name, path, export_date=dummy.export_date)
    assert result.ok and result.failures == [], [f.message() for f in result.failures[:10]]
    assert not [n for n in result.notes if "not evaluated" in n]
    # every form of the project has rows, and every designated event is used
    assert {f.name for f in project.forms} == {k for k, t in result.tables.items() if len(t)}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_the_fast_writer_writes_what_write_records_writes(tmp_path, name):
    dummy = generate(fixture_project(name), 40, 7, {"item_missing": 0.1, "missing_codes": 0.5})
    fast = dummy.write(tmp_path / "fast.csv")
    reference = dummy.write(tmp_path / "reference.csv", writer="redcap")
    assert fast.read_bytes() == reference.read_bytes()


def test_the_trial_export_is_valid_and_written_as_write_records_writes_it(tmp_path, study, project):
    settings = Settings.from_dict(
        study["dummy_data"],
        rules=study["validation"]["rules"],
        export_date=study["validation"]["export_date"],
    )
    dummy = generate(project, 150, 5, settings)
    fast = dummy.write(tmp_path / "fast.csv")
    assert fast.read_bytes() == dummy.write(tmp_path / "ref.csv", writer="redcap").read_bytes()
    result = validate_trial(fast, study, branching="error")
    assert result.ok and result.failures == [], [f.message() for f in result.failures[:10]]
    assert not [n for n in result.notes if "not evaluated" in n]
    assert len(result.missing) > 0  # the project's missing-data codes are used
    assert set(result.missing["code"]) <= {"UNK", "NASK", "DECL"}


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_bytes_and_another_seed_other_data(tmp_path):
    args = ["--study", str(STUDY), "--n", "80", "--quiet"]
    for run in ("a", "b"):
        assert main(args + ["--seed", "3", "--out", str(tmp_path / run)]) == 0
    assert main(args + ["--seed", "4", "--out", str(tmp_path / "c")]) == 0
    a, b, c = ((tmp_path / run / "records.csv").read_bytes() for run in "abc")
    assert a == b
    assert a != c


def test_the_shipped_records_are_what_the_study_file_makes(tmp_path):
    assert main(["--study", str(STUDY), "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "records.csv").read_bytes() == (ROOT / "data/full-trial/records.csv").read_bytes()


# ----------------------------------------------------------------------------- branching
def test_branching_is_respected_as_read_back_from_the_export(cohort):
    """Checked on the raw text, independently of the library's evaluator."""
    rows = cohort.rows
    arm = {r["record_id"]: r["rand_arm"] for r in cohort.at("baseline_arm_1")}
    for r in cohort.at("screening_arm_1"):
        assert (r["scr_inelig_reason"] != "") <= (r["scr_eligible"] == "0")
        assert (r["scr_consented"] != "") <= (r["scr_eligible"] == "1")
        assert (r["scr_decline_reason"] != "") <= (r["scr_consented"] == "0")
    for r in cohort.at("baseline_arm_1"):
        assert (r["dem_comorbid_other"] != "") <= (r["dem_comorbid___6"] == "1")
    in_work = {}
    for event in ("week14_arm_1", "month6_arm_1"):
        for r in cohort.at(event):
            if r["employment_complete"]:
                for f in ("emp_hours", "emp_start_date", "emp_job_title", "emp_pattern"):
                    assert (r[f] != "") <= (r["emp_paid_work"] == "1"), (r["record_id"], f)
            in_work[r["record_id"], event] = r["emp_paid_work"] == "1"
    wq = [f"wrfq_{i}" for i in range(1, 28)] + [f"paw_{i}" for i in range(1, 16)]
    answered = [r for r in cohort.at("month6_arm_1") if any(r[f] for f in wq)]
    assert answered and all(in_work[r["record_id"], "month6_arm_1"] for r in answered)
    # intervention-delivery forms only for the intervention arm
    contacts = cohort.at("intervention_arm_1", "cm_contact")
    assert contacts and {arm[r["record_id"]] for r in contacts} == {"1"}
    assert {arm[r["record_id"]] for r in cohort.at("intervention_arm_1")} == {"1"}
    for r in cohort.at("study_log_arm_1"):
        if r["study_status_complete"]:
            assert (r["ss_date"] != "") == (r["ss_status"] != "1")
            assert (r["ss_discontinued"] != "") <= (arm[r["record_id"]] == "1")
    assert rows


# ----------------------------------------------------------------------------- structure
def test_events_and_repeats_are_as_designated(cohort, project):
    forms_at = defaultdict(set)
    for e, f in project.designations:
        forms_at[e].add(f)
    columns = {f.name: f.form for f in project.fields[1:] if f.type not in ("descriptive", "checkbox")}
    for r in cohort.rows:
        filled = {columns[c] for c, v in r.items() if c in columns and v != ""}
        assert filled <= forms_at[r["redcap_event_name"]], r["record_id"]
        if r["redcap_repeat_instrument"]:
            assert filled <= {r["redcap_repeat_instrument"]}
    instances = defaultdict(list)
    for r in cohort.rows:
        if r["redcap_repeat_instrument"]:
            assert (r["redcap_event_name"], r["redcap_repeat_instrument"]) in project.repeating.instruments
            instances[r["record_id"], r["redcap_event_name"], r["redcap_repeat_instrument"]].append(
                int(r["redcap_repeat_instance"])
            )
        else:
            assert r["redcap_repeat_instance"] == ""
    assert instances and all(v == list(range(1, len(v) + 1)) for v in instances.values())
    # REDCap's auto-numbering with data access groups: <group id>-<n>, one DAG per record
    dags = {}
    for r in cohort.rows:
        assert re.fullmatch(r"1[1-6]-\d+", r["record_id"])
        assert dags.setdefault(r["record_id"], r["redcap_data_access_group"]) == r["redcap_data_access_group"]


def test_dates_are_in_order(cohort, study):
    def d(text):
        return date.fromisoformat(text) if text and re.fullmatch(r"\d{4}-\d\d-\d\d", text) else None

    export = date.fromisoformat(study["validation"]["export_date"])
    screening = {r["record_id"]: d(r["scr_date"]) for r in cohort.at("screening_arm_1")}
    checked = 0
    for r in cohort.at("baseline_arm_1"):
        rid = r["record_id"]
        assert screening[rid] <= d(r["con_date"]) <= d(r["rand_date"])
        dob = d(r["con_dob"])
        if dob:
            assert 18 <= (d(r["con_date"]) - dob).days / 365.25 <= 66
        sent = [
            d(cohort.by_record(e).get(rid, {}).get("fu_sent_date", ""))
            for e in ("week6_arm_1", "week14_arm_1", "month6_arm_1")
        ]
        sent = [s for s in sent if s]
        assert sent == sorted(sent) and all(s >= d(r["rand_date"]) for s in sent)
        checked += 1
    for r in cohort.rows:
        for a, b in (
            ("fu_sent_date", "fu_return_date"),
            ("plc_decision_date", "plc_start"),
            ("plc_start", "plc_end"),
            ("ae_onset", "ae_report_date"),
        ):
            if d(r.get(a, "")) and d(r.get(b, "")):
                assert d(r[a]) <= d(r[b]), (r["record_id"], a, b)
        for c, v in r.items():
            if d(v):
                assert d(v) <= export, (r["record_id"], c)
    assert checked > 50


# ----------------------------------------------------------------------------- settings
def test_gates_dropout_and_the_end_of_study_form_agree(cohort):
    baseline = cohort.by_record("baseline_arm_1")
    for r in cohort.at("screening_arm_1"):
        passed = r["scr_eligible"] == "1" and r["scr_consented"] == "1"
        assert (r["record_id"] in baseline) == passed
        if not passed:
            assert {x["redcap_event_name"] for x in cohort.rows if x["record_id"] == r["record_id"]} == {
                "screening_arm_1"
            }
    status = cohort.by_record("study_log_arm_1")
    visits = ("week6_arm_1", "week14_arm_1", "month6_arm_1")
    left = 0
    for rid, b in baseline.items():
        events = {x["redcap_event_name"] for x in cohort.rows if x["record_id"] == rid}
        present = [v in events for v in visits]
        if status[rid]["ss_status"] in ("2", "3"):
            # those who left have no visit from the one they left before: the visits they
            # had are the first ones, and the date they left is after randomisation
            left += 1
            assert present == sorted(present, reverse=True) and not present[-1], rid
            assert date.fromisoformat(status[rid]["ss_date"]) >= date.fromisoformat(b["rand_date"])
        else:
            assert all(present), rid
    assert left > 0


def test_allocation_is_balanced_in_permuted_blocks_by_site(project, study):
    settings = Settings.from_dict(
        study["dummy_data"],
        rules=study["validation"]["rules"],
        export_date=study["validation"]["export_date"],
    )
    dummy = generate(project, 600, 9, settings)
    st = dummy.stores["randomisation"]
    site = dummy.site_of[st.rec]
    for s in np.unique(site):
        arms = st.cols["rand_arm"][site == s][np.argsort(st.rec[site == s])]
        running = np.cumsum(np.where(arms == 0, 1, -1))
        assert np.abs(running).max() <= 2  # blocks of 2 and 4: never more than 2 apart


def outcome_by_record(dummy, field, event):
    st = dummy.stores[dummy.project.field[field].form]
    e = dummy.events.index(event)
    rows = st.ev == e
    return dict(zip(dummy.record_ids[st.rec[rows]], st.cols[field][rows]))


def test_no_effect_unless_asked_and_an_effect_when_asked(project, study):
    raw = yaml.safe_load(yaml.safe_dump(study["dummy_data"]))
    kw = dict(rules=study["validation"]["rules"], export_date=study["validation"]["export_date"])
    plain = generate(project, 2000, 21, Settings.from_dict(raw, **kw))
    other = dict(raw, allocation={"field": "rand_arm", "ratio": {1: 2, 2: 1}, "blocks": [3, 6]})
    reallocated = generate(project, 2000, 21, Settings.from_dict(other, **kw))
    a = outcome_by_record(plain, "emp_paid_work", "month6_arm_1")
    b = outcome_by_record(reallocated, "emp_paid_work", "month6_arm_1")
    # the allocation changed, the outcomes did not: no difference between arms by design
    assert outcome_by_record(plain, "rand_arm", "baseline_arm_1") != outcome_by_record(
        reallocated, "rand_arm", "baseline_arm_1"
    )
    assert a == b
    effect = dict(
        raw,
        effects=[
            {
                "field": "emp_paid_work",
                "events": ["month6_arm_1"],
                "when": "[baseline_arm_1][rand_arm] = '1'",
                "weights": {1: 60, 0: 40},
            }
        ],
    )
    treated = generate(project, 2000, 21, Settings.from_dict(effect, **kw))
    arm = outcome_by_record(treated, "rand_arm", "baseline_arm_1")
    work = outcome_by_record(treated, "emp_paid_work", "month6_arm_1")
    codes = [c for c, _ in project.field["emp_paid_work"].codes]  # yesno: ("1", "0")
    share = {
        g: np.mean([codes[work[r]] == "1" for r in work if arm.get(r) == g and work[r] >= 0]) for g in (0, 1)
    }
    assert share[0] == pytest.approx(0.60, abs=0.06) and share[1] == pytest.approx(0.15, abs=0.05)


def test_settings_that_do_not_fit_the_project_are_errors_that_name_them(project):
    with pytest.raises(
        DummyError, match=r"'emp_paid_wrok' matches no field of the project \(did you mean 'emp_paid_work'"
    ):
        generate(project, 5, 1, {"fields": {"emp_paid_wrok": {"weights": {1: 1}}}})
    with pytest.raises(DummyError, match="'7' is not a code of rand_arm"):
        generate(project, 5, 1, {"allocation": {"field": "rand_arm", "ratio": {1: 1, 7: 1}}})
    with pytest.raises(DummyError, match="3 is not a multiple of the ratio's sum 2"):
        generate(project, 5, 1, {"allocation": {"field": "rand_arm", "blocks": [3]}})
    with pytest.raises(DummyError, match="'week7_arm_1' is not an event"):
        generate(project, 5, 1, {"visits": {"week7_arm_1": {"dropout": 0.1}}})
    with pytest.raises(DummyError, match="dummy_data.item_missing"):
        generate(project, 5, 1, {"item_missing": 2})
    with pytest.raises(DummyError, match="cannot be evaluated"):
        generate(project, 5, 1, {"forms": {"placement": {"when": "datediff([a], [b]) > 3"}}})


def test_sites_and_dag_record_ids_on_a_classic_project(tmp_path):
    project = fixture_project("classic")
    dummy = generate(
        project,
        30,
        2,
        {
            "recruitment": {"sites": [{"name": "north", "group_id": 7}, {"name": "south", "group_id": 9}]},
            "record_ids": "dag",
        },
    )
    path = dummy.write(tmp_path / "r.csv")
    rows = read_export(path)
    assert {r["redcap_data_access_group"] for r in rows} == {"north", "south"}
    assert all(
        r["study_id"].startswith({"north": "7-", "south": "9-"}[r["redcap_data_access_group"]]) for r in rows
    )
    assert validate_fixture("classic", path).ok


def test_a_single_record(tmp_path):
    dummy = generate(fixture_project("xml"), 1, 1)
    assert validate_fixture("xml", dummy.write(tmp_path / "one.csv")).ok


def test_progress_is_shown_on_stderr(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "feasibility.synth.dummy",
            "--study",
            str(STUDY),
            "--n",
            "50",
            "--out",
            str(tmp_path),
            "--progress",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "dummy: 50 records scheduled" in out.stderr and "form rows" in out.stderr
    assert out.stdout.strip().endswith("records.csv")
    quiet = subprocess.run(
        [
            sys.executable,
            "-m",
            "feasibility.synth.dummy",
            "--study",
            str(STUDY),
            "--n",
            "50",
            "--out",
            str(tmp_path / "quiet"),
        ],
        capture_output=True,
        text=True,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert "scheduled" not in quiet.stderr  # small n: quiet unless asked


def test_a_broken_study_file_is_one_message_and_exit_1(tmp_path, capsys):
    bad = tmp_path / "study.yaml"
    bad.write_text(yaml.safe_dump({"redcap": {"dictionary": "nowhere.csv"}}))
    assert main(["--study", str(bad), "--out", str(tmp_path)]) == 1
    assert "nowhere.csv" in capsys.readouterr().err


def test_the_project_xml_route_makes_the_same_export(tmp_path, study):
    """A study file that names the project XML instead of the dictionary, designations and
    events (and declares neither repeating nor missing-data codes: the XML holds them)."""
    xml_study = yaml.safe_load(yaml.safe_dump(study))
    xml_study["redcap"] = {"records": "records.csv", "project_xml": str(ROOT / "data/full-trial/project.xml")}
    path = tmp_path / "xml-study.yaml"
    path.write_text(yaml.safe_dump(xml_study))
    assert (
        main(["--study", str(path), "--n", "60", "--seed", "8", "--force", "--quiet"]) == 0
    )  # its own folder
    assert (
        main(["--study", str(STUDY), "--n", "60", "--seed", "8", "--out", str(tmp_path / "dd"), "--quiet"])
        == 0
    )
    assert (tmp_path / "records.csv").read_bytes() == (tmp_path / "dd" / "records.csv").read_bytes()
