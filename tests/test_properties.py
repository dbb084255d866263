"""Property-based tests (Hypothesis) of the export reader, the validation and the scorers.

* Any export generated from the CRF definitions (crf.py: types, code lists,
  ranges, required fields), consistent with the shipped exports it depends on,
  validates without a failure.
* One cell of such an export broken (unknown code, out of range, not a number,
  impossible date, required field blank on a complete form) is reported at
  exactly that record and field, and nowhere else.
* Every scorer returns NaN or a value inside the range its instrument documents,
  whatever mix of valid and missing answers it gets; an answer outside the
  coding stops scoring instead of being scored.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from feasibility import crf
from feasibility.scoring import (employment, eq5d, hads, nrs, paw, promis, rtw_self_efficacy,
                                 verbal, wemwbs, wrfq)
from feasibility.scoring.registry import missing_item_rules
from feasibility.validation import read_dictionary, validate_export

from projectcopy import ROOT

RAW = ROOT / "data" / "raw"
# the paper's missing-item rules as its study file declares them, in the shape the
# instrument modules take them
SCORING = {"missing_items": missing_item_rules(
               yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["instruments"]),
           "wrfq_max_not_applicable_fraction": 0.2}
FAST = settings(max_examples=20, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Exports generated: enrolment (dates tied to screening and age), a questionnaire
# without and one with the work questionnaire, a form with branching logic and a
# repeating log with free text.
GENERATED = ("enrolment", "questionnaires_baseline", "questionnaires_week6", "work_preparation",
             "status_changes")
CONTROL = {chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127]}


@cache
def shipped() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The validated shipped exports (context for cross-export rules) and the dictionary."""
    dictionary = read_dictionary(RAW / crf.DICTIONARY_FILE)
    context = {}
    for name, export in crf.EXPORTS.items():
        typed, failures = validate_export(RAW, export, context, dictionary)
        assert not failures
        context[name] = typed
    return context, dictionary


def validate_text(export: crf.Export, header: list[str], rows: list[list[str]]):
    """Write the rows as the export's CSV in a scratch folder and validate it."""
    context, dictionary = shipped()
    out = io.StringIO()
    # with \r\n as line end the writer quotes every cell holding \r or \n, as REDCap does
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / export.file).write_text(out.getvalue(), encoding="utf-8", newline="")
        return validate_export(Path(tmp), export,
                               {d: context[d] for d in export.depends_on}, dictionary)[1]


# --------------------------------------------------------------------------- generators
def _number(fld: crf.Field) -> st.SearchStrategy[str]:
    places = {"number_1dp": 1, "number_2dp": 2}.get(fld.validation, 0)
    scale = 10 ** places
    return st.integers(int(fld.vmin * scale), int(fld.vmax * scale)).map(
        lambda v: f"{v / scale:.{places}f}")


def _free_text() -> st.SearchStrategy[str]:
    # any printable text, commas, quotes, line breaks and non-ASCII included
    return st.text(st.characters(blacklist_characters=CONTROL, blacklist_categories=("Cs",)),
                   max_size=60)


def field_value(fld: crf.Field) -> st.SearchStrategy[str]:
    """A value the dictionary allows for ``fld`` (blank too when it is not required)."""
    if fld.choices:
        value = st.sampled_from([str(code) for code, _ in fld.choices])
    elif fld.validation in ("integer", "number", "number_1dp", "number_2dp"):
        value = _number(fld)
    elif fld.is_date:
        value = st.dates(dt.date(2017, 1, 1), dt.date(2019, 12, 31)).map(dt.date.isoformat)
    else:
        value = _free_text()
    return value if fld.required else st.one_of(st.just(""), value)


def checkbox_values(fld: crf.Field) -> st.SearchStrategy[list[str]]:
    """One 0/1 per box; a required group has at least one box ticked."""
    ticks = st.lists(st.sampled_from("01"), min_size=len(fld.choices), max_size=len(fld.choices))
    return ticks.filter(lambda t: "1" in t) if fld.required else ticks


def shown(fld: crf.Field, cells: dict[str, str]) -> bool:
    """REDCap branching logic of the form "[a] = '1' and [b] = '0'" on the cells so far."""
    return all(cells.get(name) == value
               for name, value in re.findall(r"\[(\w+)\] = '(\w+)'", fld.branching))


@st.composite
def form_cells(draw, form: str, fixed: dict[str, str]) -> dict[str, str]:
    """Every column of one form: blank when branching hides it, else fixed values or
    values the dictionary allows."""
    cells = dict(fixed)
    for fld in crf.form_fields(form):
        if not shown(fld, cells):
            cells[fld.name] = ""
        elif fld.is_checkbox:
            cells.update(zip(fld.columns(), draw(checkbox_values(fld))))
        else:
            cells[fld.name] = fixed[fld.name] if fld.name in fixed else draw(field_value(fld))
    cells[f"{form}_complete"] = draw(st.sampled_from("012"))
    return cells


def _day(d) -> dt.date:
    return pd.Timestamp(d).date()


@st.composite
def valid_export(draw, name: str) -> tuple[crf.Export, list[str], list[list[str]]]:
    """A valid export ``name`` for records the shipped exports it depends on know."""
    export = crf.EXPORTS[name]
    context, _ = shipped()
    consent = context["enrolment"].set_index("record_id")["enr_consent_date"]
    keys: list[dict[str, str]] = []
    if name == "enrolment":
        scr = context["screening"]
        enrolled = scr[scr["scr_enrolled"] == 1]
        pairs = draw(st.lists(st.sampled_from(list(zip(enrolled["scr_participant_id"],
                                                        enrolled["record_id"]))),
                              min_size=1, max_size=8, unique=True))
        for pid, sid in pairs:
            agreed = draw(st.dates(dt.date(2017, 1, 1), dt.date(2019, 12, 31)))
            # age at consent strictly inside the plausible 16-100 years
            born = agreed - dt.timedelta(days=draw(st.integers(5850, 36500)))
            keys.append({"record_id": pid, "enr_consent_date": agreed.isoformat(),
                         "dem_dob": born.isoformat(), "enr_screening_id": sid})
    elif name == "work_preparation":
        people = draw(st.lists(st.sampled_from(sorted(consent.index)), min_size=1, max_size=8,
                               unique=True))
        for pid in people:
            when = _day(consent[pid]) + dt.timedelta(days=draw(st.integers(0, 300)))
            # attended: the session date is needed (cross-export rule) and on or after consent
            keys.append({"record_id": pid, "wp_attended": draw(st.sampled_from("01")),
                         "wp_date": when.isoformat()})
    elif name == "status_changes":
        people = draw(st.lists(st.sampled_from(sorted(consent.index)), min_size=1, max_size=6))
        seen: dict[str, int] = {}
        for pid in people:
            seen[pid] = seen.get(pid, 0) + 1
            when = _day(consent[pid]) + dt.timedelta(days=draw(st.integers(0, 500)))
            keys.append({"record_id": pid, "redcap_repeat_instrument": "status_change",
                         "redcap_repeat_instance": str(seen[pid]), "sc_date": when.isoformat()})
    else:
        event = export.events[0]
        if name == "questionnaires_baseline":
            people = draw(st.lists(st.sampled_from(sorted(consent.index)), min_size=1,
                                   max_size=8, unique=True))
        else:   # a follow-up export holds exactly the questionnaires logged as returned
            adm = context["followup_admin"]
            people = sorted(adm.loc[(adm["redcap_event_name"] == event)
                                    & (adm["fu_returned"] == 1), "record_id"])
        sc = context["status_changes"]
        stop = sc[sc["sc_further_data"] == 0].groupby("record_id")["sc_date"].min()
        for pid in people:
            first = _day(consent[pid])
            last = _day(stop[pid]) if pid in stop.index else first + dt.timedelta(days=400)
            keys.append({"record_id": pid, "hq_date": draw(st.dates(first, last)).isoformat()})
    header = crf.export_columns(export)
    rows = []
    for key in keys:
        cells = {"record_id": key["record_id"], "redcap_event_name": export.events[0], **key}
        for form in export.forms:
            cells.update(draw(form_cells(form, key)))
        rows.append([cells[c] for c in header])
    return export, header, rows


# --------------------------------------------------------------------------- (a) valid exports
@pytest.mark.slow      # hypothesis over every export: with the slow tests
@pytest.mark.parametrize("name", GENERATED)
def test_generated_export_that_obeys_the_dictionary_validates(name):
    @FAST
    @given(valid_export(name))
    def check(generated):
        failures = validate_text(*generated)
        assert failures == [], "\n".join(f.message() for f in failures[:10])
    check()


# --------------------------------------------------------------------------- (b) one broken cell
def _impossible_date() -> st.SearchStrategy[str]:
    bad_day = st.builds(lambda y, m, extra: f"{y}-{m:02d}-{_last_day(y, m) + extra:02d}",
                        st.integers(2000, 2030), st.integers(1, 12), st.integers(1, 3))
    bad_month = st.builds(lambda y, m, d: f"{y}-{m:02d}-{d:02d}",
                          st.integers(2000, 2030), st.integers(13, 99), st.integers(1, 28))
    other = st.sampled_from(["31/01/2018", "2018.01.31", "yesterday", "2018-01-01T09:00",
                             "20180131", "0000-00-00"])
    return st.one_of(bad_day, bad_month, other)


def _last_day(year: int, month: int) -> int:
    return ((dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)).day


def _not_a_number() -> st.SearchStrategy[str]:
    return st.text(st.sampled_from("abcxyzNAQ?!/ "), min_size=1, max_size=8).filter(
        lambda s: s.strip() != "" and s.strip().lower() not in ("nan", "inf", "infinity"))


def breakages(fld: crf.Field, complete: bool) -> list[st.SearchStrategy[str]]:
    """Strategies of values that break the dictionary's rule for ``fld``."""
    out = []
    if fld.choices:
        codes = {0, 1} if fld.is_checkbox else {c for c, _ in fld.choices}
        out.append(st.integers(-3, 30).filter(lambda v: v not in codes).map(str))
    elif fld.vmin is not None:
        out.append(st.one_of(
            st.integers(1, 10_000).map(lambda d: f"{fld.vmax + d:g}"),
            st.integers(1, 10_000).map(lambda d: f"{fld.vmin - d:g}")))
    if fld.is_numeric:
        out.append(_not_a_number())
    if fld.is_date:
        out.append(_impossible_date())
    if fld.required and complete and not fld.is_checkbox:
        out.append(st.just(""))
    return out


@st.composite
def broken_export(draw, name: str):
    """A valid export with exactly one cell broken: (export, header, rows, record, column)."""
    export, header, rows = draw(valid_export(name))
    i = draw(st.integers(0, len(rows) - 1))
    fields = crf.fields_by_name()
    candidates = []
    for form in export.forms:
        complete = rows[i][header.index(f"{form}_complete")] == "2"
        for fld in crf.form_fields(form):
            for column in fld.columns():
                if breakages(fld, complete):
                    candidates.append((column, fld.name, complete))
    column, field, complete = draw(st.sampled_from(candidates))
    value = draw(st.one_of(breakages(fields[field], complete)))
    assume(value != rows[i][header.index(column)])
    rows[i][header.index(column)] = value
    return export, header, rows, rows[i][0], {column, field}


@pytest.mark.slow      # hypothesis over every export: with the slow tests
@pytest.mark.parametrize("name", GENERATED)
def test_one_broken_cell_is_reported_at_that_cell(name):
    @FAST
    @given(broken_export(name))
    def check(broken):
        export, header, rows, record, fields = broken
        failures = validate_text(export, header, rows)
        assert failures, f"no failure for {record} {fields}"
        elsewhere = [f for f in failures if f.record_id != record or f.field not in fields]
        assert not elsewhere, "\n".join(f.message() for f in elsewhere[:10])
        assert all(f.file == export.file for f in failures)
    check()


# --------------------------------------------------------------------------- (c) scorers
def _items(columns: list[str], extra: dict[str, tuple] | None = None):
    """Frames of answers to ``columns``: each a code of the CRF item or blank (NaN)."""
    fields = crf.fields_by_name()

    def answers(col):
        fld = fields[col]
        if fld.choices:
            values = st.sampled_from([float(c) for c, _ in fld.choices])
        else:
            values = st.integers(int(fld.vmin), int(fld.vmax)).map(float)
        return st.one_of(st.just(math.nan), values)

    row = st.fixed_dictionaries({c: answers(c) for c in columns})
    return st.lists(row, min_size=1, max_size=12).map(
        lambda rows: pd.DataFrame(rows, columns=columns).assign(
            record_id=[f"PP{i:02d}" for i in range(len(rows))]))


# (scorer, its item columns, documented range of each score) from each module's docstring
SCORERS = {
    "hads": (hads.score_hads, [c for cols in hads.SUBSCALES.values() for c in cols],
             {"hads_anxiety": (0, 21), "hads_depression": (0, 21)}),
    "nrs": (nrs.score_nrs, list(nrs.SOURCES.values()),
            {k: (0, 10) for k in nrs.SOURCES}),
    "wemwbs": (wemwbs.score_wemwbs, wemwbs.SUBSCALES["wemwbs"], {"wemwbs": (14, 70)}),
    "promis": (promis.score_promis, [c for cols in promis.SUBSCALES.values() for c in cols],
               {"promis_fatigue": (8, 40), "promis_pain_interference": (8, 40)}),
    "verbal": (verbal.score_verbal, list(verbal.SOURCES.values()),
               {k: (1, 5) for k in verbal.SOURCES}),
    "wrfq": (wrfq.score_wrfq, wrfq.ITEMS, {"wrfq": (0, 100)}),
    "paw": (paw.score_paw, [c for cols in paw.SUBSCALES.values() for c in cols],
            {"paw_job_satisfaction": (7, 35), "paw_social_support": (4, 20),
             "paw_mental_stress": (4, 20)}),
    "rtw_self_efficacy": (rtw_self_efficacy.score_rtw_self_efficacy,
                          rtw_self_efficacy.SUBSCALES["rtw_self_efficacy"],
                          {"rtw_self_efficacy": (2, 10)}),
    "employment": (employment.score_employment, list(employment.SOURCES.values()),
                   {k: (0, 20) for k in employment.SOURCES}),
}


def _within(scores: pd.DataFrame, ranges: dict[str, tuple[float, float]]) -> None:
    for col, (lo, hi) in ranges.items():
        s = scores[col]
        bad = s.notna() & ~s.between(lo - 1e-9, hi + 1e-9)
        assert not bad.any(), f"{col} outside {lo}-{hi}: {s[bad].tolist()}"


@pytest.mark.parametrize("name", SCORERS)
def test_scorer_stays_in_its_documented_range(name):
    scorer, columns, ranges = SCORERS[name]

    @FAST
    @given(_items(columns))
    def check(items):
        scored = scorer(items, scoring=SCORING)
        assert list(scored.scores.index) == list(items.index)
        _within(scored.scores, ranges)
        # a score is missing only when an item it needs is missing
        complete = items[columns].notna().all(axis=1)
        if name != "wrfq":       # all 27 WRFQ items may be 'does not apply': no score
            assert scored.scores[complete].notna().all().all()
    check()


# EQ-5D index: 1 minus the largest decrements (each value set's worst state), e.g.
# England 5L 55555: 1 - (0.274 + 0.203 + 0.184 + 0.335 + 0.289) = -0.285;
# UK 5L 2026 55555: 1 - (0.279 + 0.206 + 0.212 + 0.479 + 0.391) = -0.567;
# Dolan 3L 33333: 1 - 0.081 - (0.314 + 0.214 + 0.094 + 0.386 + 0.236) - 0.269 = -0.594.
EQ5D_FLOOR = {"england_5l_2018": -0.285, "uk_5l_2026": -0.567, "uk_3l_dolan_1997": -0.594}


@pytest.mark.parametrize("value_set", EQ5D_FLOOR)
def test_eq5d_index_stays_in_the_value_set_range(value_set):
    method = eq5d.VALUE_SETS[value_set]

    @FAST
    @given(_items([*eq5d.LEVEL_COLUMNS, eq5d.VAS]))
    def check(items):
        items[eq5d.LEVEL_COLUMNS] = items[eq5d.LEVEL_COLUMNS].clip(upper=method.levels)
        scores = eq5d.score_eq5d(items, method).scores
        _within(scores, {"eq5d_index": (EQ5D_FLOOR[value_set], 1), "eq5d_vas": (0, 100),
                         **{c: (1, method.levels) for c in eq5d.LEVEL_COLUMNS}})
        complete = items[eq5d.LEVEL_COLUMNS].notna().all(axis=1)
        assert scores["eq5d_index"].notna().eq(complete).all()
        assert scores["eq5d_state"].notna().eq(complete).all()
    check()


@pytest.mark.parametrize("name", SCORERS)
def test_scorer_refuses_an_answer_outside_the_coding(name):
    scorer, columns, _ = SCORERS[name]
    fields = crf.fields_by_name()

    @FAST
    @given(_items(columns), st.data())
    def check(items, data):
        col = data.draw(st.sampled_from(columns))
        fld = fields[col]
        allowed = ({float(c) for c, _ in fld.choices} if fld.choices
                   else set(np.arange(fld.vmin, fld.vmax + 1, dtype=float)))
        bad = data.draw(st.sampled_from([-1.0, 0.5, 6.0, 10.5, 11.0, 21.0, 99.0]).filter(
            lambda v: v not in allowed))
        row = data.draw(st.integers(0, len(items) - 1))
        items.loc[row, col] = bad
        with pytest.raises(ValueError, match=re.escape(f"{col} = ")):
            scorer(items, scoring=SCORING)
    check()
