"""Counts that cannot be silently wrong (issue 20.7): record IDs differing only in case,
data access groups outside the declared sites, and missing-data codes that are choice codes."""

from __future__ import annotations

import csv
import io

from redcap_helpers import CLASSIC_CODES, CLASSIC_DATA, CLASSIC_DD, edit, only, validate_classic

DAGS = ["birmingham", "coventry", "leeds"]


def test_record_ids_differing_only_in_case_are_a_failure_unless_the_study_says_so(classic):
    edit(classic / CLASSIC_DATA, "\n1,birmingham,", "\nP1,birmingham,")
    edit(classic / CLASSIC_DATA, "\n2,coventry,", "\np1,coventry,")
    r = validate_classic(classic)
    f = only(r.failures, field="study_id", rule="letter case")
    assert (f.file, f.line, f.record, f.value, f.severity) == (CLASSIC_DATA, 4, "p1", "p1", "error")
    assert f.rule.startswith("record ID differs only in letter case from record P1 (line 2)")
    assert "redcap.case_sensitive_ids: true" in f.rule
    assert not r.ok
    r = validate_classic(classic, case_sensitive_ids=True)
    assert not [f for f in r.failures if "letter case" in f.rule] and r.ok


def test_a_record_id_with_a_space_around_it_is_refused_already(classic):
    edit(classic / CLASSIC_DATA, "\n2,coventry,", "\n2 ,coventry,")
    r = validate_classic(classic, case_sensitive_ids=True)
    assert only(r.failures, field="study_id", rule="spaces").line == 4 and not r.ok


def test_the_declared_sites_pass(classic):
    r = validate_classic(classic, data_access_groups=DAGS)
    assert r.ok and not [f for f in r.failures if f.field == "redcap_data_access_group"]


def test_a_data_access_group_outside_the_declared_sites_names_it(classic):
    r = validate_classic(classic, data_access_groups=["birmingham", "coventry"])
    f = only(r.failures, field="redcap_data_access_group")
    assert (f.line, f.record, f.value, f.severity) == (5, "3", "leeds", "error")
    assert f.rule == (
        "data access group leeds is not one of the study's sites (redcap.data_access_groups: "
        "birmingham, coventry)"
    )
    assert not r.ok


def test_declared_sites_with_an_export_lacking_the_group_column_are_refused(classic):
    text = (classic / CLASSIC_DATA).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    j = rows[0].index("redcap_data_access_group")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:j] + r[j + 1 :] for r in rows])
    (classic / CLASSIC_DATA).write_text(out.getvalue(), encoding="utf-8")
    assert validate_classic(classic).ok  # no sites declared: nothing to check
    r = validate_classic(classic, data_access_groups=DAGS)
    f = only(r.failures, field="redcap_data_access_group")
    assert f.line == 1 and "the export has no redcap_data_access_group column" in f.rule and not r.ok


def test_a_missing_data_code_that_is_a_choice_code_is_refused_naming_both(classic):
    r = validate_classic(classic, missing_data_codes="UNK, Unknown | 2, Refused")
    hits = [f for f in r.failures if "missing-data code 2" in f.rule]
    fields = {f.field for f in hits}
    assert "enr_sex" in fields and all(f.file == CLASSIC_DD and f.value == "2" for f in hits)
    f = only(hits, field="enr_sex")
    assert "is also the choice 2" in f.rule and "every answer 2 would be read as missing" in f.rule
    assert "the study file's redcap.missing_data_codes" in f.rule
    assert not r.ok and r.records is None  # nothing is counted with such codes
    # a letter code is no choice code of this project: accepted as before
    assert validate_classic(classic, missing_data_codes=CLASSIC_CODES + " | REF, Refused").ok
