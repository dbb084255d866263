"""Records by arm, event and data access group, and form completion status, counted by hand
from the fixture exports (tests/fixtures/redcap/*/..._DATA_...csv)."""

from __future__ import annotations

import pandas as pd

from feasibility.quality import completion_status, records_by_event
from feasibility.quality.counts import completion_cells, records_cells
from feasibility.tables.common import CELL_COLUMNS


def _records(data) -> dict:
    r = records_by_event(data)
    return {(row.arm, row.event, row.dag): row.records for row in r.itertuples()}


def test_classic_records_by_data_access_group(classic):
    # Classic_DATA: records 1 and 4 in birmingham, 2 and 5 in coventry, 3 in leeds
    assert classic.dags == ["birmingham", "coventry", "leeds"]
    assert _records(classic) == {
        (1, "", None): 5,
        (1, "", "birmingham"): 2,
        (1, "", "coventry"): 2,
        (1, "", "leeds"): 1,
    }


def test_longitudinal_records_by_arm_and_event(long):
    # TrialLong_DATA: arm 1 holds 101, 102, 104; arm 2 holds 103. 104 was screened only;
    # 101 and 102 reached month 6 (101 its follow-up, 102 an adverse event there).
    assert not long.has_dags
    assert _records(long) == {
        (1, None, None): 3,
        (1, "screening_arm_1", None): 3,
        (1, "baseline_arm_1", None): 2,
        (1, "visit_arm_1", None): 1,
        (1, "month_6_arm_1", None): 2,
        (2, None, None): 1,
        (2, "screening_arm_2", None): 1,
        (2, "baseline_arm_2", None): 1,
        (2, "month_6_arm_2", None): 1,
    }


def test_records_cells_are_tidy_cells(long, classic):
    cells = records_cells(long)
    assert list(cells.columns) == CELL_COLUMNS
    arm1 = cells[cells["row_group"] == "Arm 1"]
    assert arm1["row_label"].tolist() == ["Any event", "Screening", "Baseline", "Visit", "Month 6"]
    assert arm1["text"].tolist() == ["3", "3", "2", "1", "2"]
    c = records_cells(classic)
    assert c["column"].tolist() == ["All records", "birmingham", "coventry", "leeds"]
    assert c["row_group"].eq("").all() and c["row_label"].eq("Records").all()


def _status(data, event, form) -> dict:
    s = completion_status(data).set_index(["event", "form"]).loc[(event, form)]
    return {
        k: (None if pd.isna(s[k]) else int(s[k]))
        for k in ("records", "complete", "unverified", "incomplete", "no_data", "instances")
    }


def test_classic_completion_status(classic):
    # enrolment_complete: 2, 2, 2, 1, 0; baseline_questionnaire_complete: 2, 1, 2, 0 (no data), blank
    assert _status(classic, "", "enrolment") == dict(
        records=5, complete=3, unverified=1, incomplete=1, no_data=0, instances=5
    )
    assert _status(classic, "", "baseline_questionnaire") == dict(
        records=5, complete=2, unverified=1, incomplete=0, no_data=2, instances=3
    )


def test_longitudinal_completion_status_counts_records_with_data_at_the_event(long):
    assert _status(long, "screening_arm_1", "screening") == dict(
        records=3, complete=3, unverified=0, incomplete=0, no_data=0, instances=3
    )
    # the repeating adverse-event form: 101 has two complete instances, 102 none
    assert _status(long, "baseline_arm_1", "adverse_event") == dict(
        records=2, complete=1, unverified=0, incomplete=0, no_data=1, instances=2
    )
    # month 6: 101 returned its follow-up; 102 has only an adverse event there
    assert _status(long, "month_6_arm_1", "followup") == dict(
        records=2, complete=1, unverified=0, incomplete=0, no_data=1, instances=1
    )
    # the repeating event visit_arm_1: one record, two instances
    assert _status(long, "visit_arm_1", "visit") == dict(
        records=1, complete=1, unverified=0, incomplete=0, no_data=0, instances=2
    )


def test_forms_not_designated_are_told_apart_from_no_data(long):
    s = completion_status(long).set_index(["arm", "event", "form"])
    not_designated = s.loc[(1, "visit_arm_1", "followup")]
    assert not not_designated["designated"] and pd.isna(not_designated["no_data"])
    assert s.loc[(2, "baseline_arm_2", "adverse_event")]["no_data"] == 1  # designated, nothing entered
    # arm 2 has no visit event at all: no row for it
    assert (2, "visit_arm_1", "visit") not in s.index
    assert len(s) == (4 + 3) * 6  # every event x form pair


def test_a_repeating_form_counts_a_record_by_its_least_complete_instance(lab):
    # LabAudit: A-001's lab results are Complete, Complete, Unverified; B-002's one is Complete
    assert _status(lab, "", "lab_result") == dict(
        records=2, complete=1, unverified=1, incomplete=0, no_data=0, instances=4
    )


def test_repeating_instrument_in_a_project_xml(pilot):
    assert _status(pilot, "baseline_arm_1", "demographics") == dict(
        records=3, complete=2, unverified=1, incomplete=0, no_data=0, instances=3
    )
    assert _status(pilot, "baseline_arm_1", "medication") == dict(
        records=3, complete=1, unverified=0, incomplete=0, no_data=2, instances=2
    )
    assert _status(pilot, "call_arm_1", "phone_call") == dict(
        records=1, complete=1, unverified=0, incomplete=0, no_data=0, instances=2
    )


def test_completion_cells_print_percentages_of_the_records_at_the_event(long):
    cells = completion_cells(long)
    ae = cells[
        (cells["row_group"] == "Arm 1 · Baseline (2 records)") & (cells["row_label"] == "Adverse event")
    ]
    assert dict(zip(ae["column"], ae["text"])) == {
        "complete": "1 (50)",
        "unverified": "0 (0)",
        "incomplete": "0 (0)",
        "no_data": "1 (50)",
        "instances": "2",
    }
    assert set(cells["denominator"].dropna()) <= {1, 2, 3}
    # a form that is not repeating has no instances cell
    assert cells[(cells["row_label"] == "Consent") & (cells["column"] == "instances")].empty


def test_the_same_counts_from_memory_and_from_the_written_files(classic):
    from quality_helpers import VALIDATORS

    from feasibility.quality import QualityData

    direct = QualityData.from_result(VALIDATORS["classic"]())
    pd.testing.assert_frame_equal(completion_status(direct), completion_status(classic))
    pd.testing.assert_frame_equal(records_by_event(direct), records_by_event(classic))


def test_longitudinal_records_by_data_access_group(long):
    """TrialLong with a data access group column added: 101 and 103 in site_a, 102 in site_b,
    104 in none (REDCap leaves the column blank for a record outside every group)."""
    from dataclasses import replace

    groups = {"101": "site_a", "103": "site_a", "102": "site_b", "104": pd.NA}
    tables = {
        form: t.assign(redcap_data_access_group=t["record_id"].map(groups).astype("string"))
        for form, t in long.tables.items()
    }
    data = replace(long, tables=tables)
    assert data.dags == ["site_a", "site_b", "No group"]
    counts = _records(data)
    assert {k: v for k, v in counts.items() if k[0] == 1 and k[1] is None} == {
        (1, None, None): 3,
        (1, None, "site_a"): 1,
        (1, None, "site_b"): 1,
        (1, None, "No group"): 1,
    }
    assert counts[(1, "month_6_arm_1", "site_a")] == 1 and counts[(1, "month_6_arm_1", "site_b")] == 1
    assert counts[(1, "screening_arm_1", "No group")] == 1 and counts[(1, "baseline_arm_1", "No group")] == 0
    assert counts[(2, "baseline_arm_2", "site_a")] == 1 and counts[(2, "baseline_arm_2", "site_b")] == 0
    cells = records_cells(data)
    assert cells["column"].unique().tolist() == ["All records", "site_a", "site_b", "No group"]
