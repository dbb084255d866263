"""The shipped synthetic exports agree with what the paper says of the participants it names
(issue 14, point 4). The report never prints record IDs; this test reads the raw data."""
from __future__ import annotations

import pandas as pd
import pytest

from projectcopy import ROOT

RAW = ROOT / "data" / "raw"


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(RAW / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def raw():
    return {name: read(f"{name}.csv") for name in (
        "enrolment", "work_preparation", "placements", "status_changes", "case_management",
        "followup_admin", "questionnaires_month6", "questionnaires_week14")}


def row(df: pd.DataFrame, pid: str) -> pd.Series:
    found = df[df["record_id"] == pid]
    assert len(found) == 1, (pid, len(found))
    return found.iloc[0]


def status_reasons(raw, pid: str) -> list[str]:
    sc = raw["status_changes"]
    return sc.loc[sc["record_id"] == pid, "sc_reason"].tolist()


def test_pp01_attended_work_preparation_but_was_not_placed(raw):
    # quote 15: "I enjoyed all the groups (work preparation) ... I didn't even get a placement"
    assert row(raw["work_preparation"], "PP01")["wp_attended"] == "1"
    assert row(raw["placements"], "PP01")["plc_placed"] == "0"


def test_pp20_was_placed_and_stayed_at_least_three_weeks(raw):
    # quote 14: absorbed into the IT audits department, "almost three weeks now"
    plc = row(raw["placements"], "PP20")
    assert plc["plc_placed"] == "1" and float(plc["plc_weeks"]) >= 3


def test_pp13_was_offered_a_placement_too_far_away_and_not_placed(raw):
    # quote 16: the placement offered was in Birmingham, 1 h 30 min away; a single mother
    plc = row(raw["placements"], "PP13")
    assert (plc["plc_offered"], plc["plc_placed"], plc["plc_not_placed_reason"]) == ("1", "0", "2")
    assert row(raw["enrolment"], "PP13")["enr_site"] == "2"         # lives in Coventry


@pytest.mark.parametrize("pid, reason", [("PP02", "1"), ("PP19", "2"), ("PP22", "3"), ("PP30", "4")])
def test_the_four_who_left_placements_early(raw, pid, reason):
    plc = row(raw["placements"], pid)
    assert (plc["plc_placed"], plc["plc_completed"], plc["plc_noncompletion_reason"]) == ("1", "0", reason)


def test_pp02_left_for_paid_employment_after_two_and_a_half_weeks(raw):
    assert float(row(raw["placements"], "PP02")["plc_weeks"]) == 2.5


def test_pp12_found_full_time_work_after_work_preparation_before_a_placement(raw):
    wp = row(raw["work_preparation"], "PP12")
    assert wp["wp_attended"] == "1" and row(raw["placements"], "PP12")["plc_placed"] == "0"
    sc = raw["status_changes"]
    job = sc[(sc["record_id"] == "PP12") & (sc["sc_reason"] == "7")]
    assert len(job) == 1 and job["sc_date"].iloc[0] > wp["wp_date"]
    # "one obtained employment before case management started"
    assert "PP12" not in set(raw["case_management"]["record_id"])


def test_pp09_employment_was_learned_from_a_case_manager_without_a_follow_up(raw):
    assert "7" in status_reasons(raw, "PP09")
    fu = raw["followup_admin"]
    assert (fu.loc[fu["record_id"] == "PP09", "fu_returned"] != "1").all()


def test_pp03_left_on_the_first_half_day_and_later_found_work(raw):
    assert float(row(raw["work_preparation"], "PP03")["wp_days"]) == 0.5
    assert status_reasons(raw, "PP03") == ["4", "7"]


def test_pp02_and_pp12_did_not_return_the_final_follow_up(raw):
    fu = raw["followup_admin"]
    final = fu[fu["redcap_event_name"] == "month6_arm_1"].set_index("record_id")["fu_returned"]
    for pid in ("PP02", "PP12"):
        assert final.get(pid, "0") != "1", pid


def test_pp11_reported_accepting_an_offer_at_follow_up(raw):
    assert int(row(raw["questionnaires_month6"], "PP11")["emp_accepted"]) >= 1


def test_pp21_reported_an_offer_at_six_months_not_yet_started_and_started_later(raw):
    q = row(raw["questionnaires_month6"], "PP21")
    assert int(q["emp_offers"]) >= 1 and int(q["emp_accepted"]) >= 1 and q["emp_started"] in ("", "0")
    assert "7" in status_reasons(raw, "PP21")
