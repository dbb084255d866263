"""The shipped synthetic REDCap downloads agree with what the paper says of the participants
it names (issue 14, point 4). The report never prints record IDs or participant IDs; this
test reads the raw all-records export (data/raw/records.csv), where the participant ID
(PP01 ...) is still present: the identifier field ``scr_participant_id`` of each enrolled
record's screening form. The export is split into one typed table per form with the REDCap
library (``feasibility.redcap``), as validation reads it, before any identifier is dropped."""

from __future__ import annotations

import pandas as pd
import pytest

from feasibility.redcap import load_project, read_records, tidy_tables

from projectcopy import ROOT

RAW = ROOT / "data" / "raw"
EVENT = {"intervention": "intervention_arm_1", "week14": "week14_arm_1", "month6": "month6_arm_1"}


@pytest.fixture(scope="module")
def raw() -> dict[str, pd.DataFrame]:
    """Form -> its rows in the raw export, with a ``pid`` column: the participant ID."""
    project, failures = load_project(
        dictionary=RAW / "data_dictionary.csv",
        instrument_designations=RAW / "instrument_designations.csv",
        events=RAW / "events.csv",
    )
    assert project is not None and not failures, failures
    records, failures = read_records(RAW / "records.csv", project)
    assert records is not None and not failures, failures
    tables, failures = tidy_tables(records)
    assert not failures, failures
    screening = tables["screening"].data
    pid = screening.dropna(subset=["scr_participant_id"]).set_index("record_id")["scr_participant_id"]
    assert pid.is_unique and len(pid) == 31
    return {form: t.data.assign(pid=t.data["record_id"].map(pid)) for form, t in tables.items()}


def row(df: pd.DataFrame, pid: str, event: str | None = None) -> pd.Series:
    found = df[(df["pid"] == pid) & ((df["redcap_event_name"] == EVENT[event]) if event else True)]
    assert len(found) == 1, (pid, event, len(found))
    return found.iloc[0]


def status_reasons(raw, pid: str) -> list[int]:
    sc = raw["status_change"].sort_values(["record_id", "redcap_repeat_instance"])
    return sc.loc[sc["pid"] == pid, "sc_reason"].tolist()


def test_the_participant_ids_are_in_the_raw_export_only_for_those_enrolled(raw):
    enrolled = raw["enrolment"]
    assert sorted(enrolled["pid"]) == [f"PP{i:02d}" for i in range(1, 32)]
    assert raw["screening"]["pid"].notna().sum() == 31 and len(raw["screening"]) == 117


def test_pp01_attended_work_preparation_but_was_not_placed(raw):
    # quote 15: "I enjoyed all the groups (work preparation) ... I didn't even get a placement"
    assert row(raw["work_preparation"], "PP01")["wp_attended"] == 1
    assert row(raw["placement"], "PP01")["plc_placed"] == 0


def test_pp20_was_placed_and_stayed_at_least_three_weeks(raw):
    # quote 14: absorbed into the IT audits department, "almost three weeks now"
    plc = row(raw["placement"], "PP20")
    assert plc["plc_placed"] == 1 and plc["plc_weeks"] >= 3


def test_pp13_was_offered_a_placement_too_far_away_and_not_placed(raw):
    # quote 16: the placement offered was in Birmingham, 1 h 30 min away; a single mother
    plc = row(raw["placement"], "PP13")
    assert (plc["plc_offered"], plc["plc_placed"], plc["plc_not_placed_reason"]) == (1, 0, 2)
    assert row(raw["enrolment"], "PP13")["enr_site"] == 2  # lives in Coventry


@pytest.mark.parametrize("pid, reason", [("PP02", 1), ("PP19", 2), ("PP22", 3), ("PP30", 4)])
def test_the_four_who_left_placements_early(raw, pid, reason):
    plc = row(raw["placement"], pid)
    assert (plc["plc_placed"], plc["plc_completed"], plc["plc_noncompletion_reason"]) == (1, 0, reason)


def test_pp02_left_for_paid_employment_after_two_and_a_half_weeks(raw):
    assert row(raw["placement"], "PP02")["plc_weeks"] == 2.5


def test_pp12_found_full_time_work_after_work_preparation_before_a_placement(raw):
    wp = row(raw["work_preparation"], "PP12")
    assert wp["wp_attended"] == 1 and row(raw["placement"], "PP12")["plc_placed"] == 0
    sc = raw["status_change"]
    job = sc[(sc["pid"] == "PP12") & (sc["sc_reason"] == 7)]
    assert len(job) == 1 and job["sc_date"].iloc[0] > wp["wp_date"]
    # "one obtained employment before case management started"
    assert "PP12" not in set(raw["cm_contact"]["pid"])


def test_pp09_employment_was_learned_from_a_case_manager_without_a_follow_up(raw):
    assert 7 in status_reasons(raw, "PP09")
    fu = raw["followup_admin"]
    assert (fu.loc[fu["pid"] == "PP09", "fu_returned"].fillna(0) != 1).all()


def test_pp03_left_on_the_first_half_day_and_later_found_work(raw):
    assert row(raw["work_preparation"], "PP03")["wp_days"] == 0.5
    assert status_reasons(raw, "PP03") == [4, 7]


def test_pp02_and_pp12_did_not_return_the_final_follow_up(raw):
    fu = raw["followup_admin"]
    final = fu[fu["redcap_event_name"] == EVENT["month6"]].set_index("pid")["fu_returned"].fillna(0)
    for pid in ("PP02", "PP12"):
        assert final.get(pid, 0) != 1, pid


def test_pp11_reported_accepting_an_offer_at_follow_up(raw):
    assert row(raw["employment"], "PP11", "month6")["emp_accepted"] >= 1


def test_pp21_reported_an_offer_at_six_months_not_yet_started_and_started_later(raw):
    q = row(raw["employment"], "PP21", "month6")
    assert (
        q["emp_offers"] >= 1
        and q["emp_accepted"] >= 1
        and (pd.isna(q["emp_started"]) or q["emp_started"] == 0)
    )
    assert 7 in status_reasons(raw, "PP21")
