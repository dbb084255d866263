"""Property-based tests (Hypothesis) of validation and the scorers.

* Any form of the paper's REDCap project whose values the data dictionary allows (types,
  codes, ranges, decimals, required fields of complete forms, branching logic), written
  into the shipped records export, validates without a failure or a warning.
* One cell of such a form broken (an unknown code, out of range, not a number, too many
  decimals, an impossible date, a required field blank on a complete form) is reported at
  exactly that record and field, and no error anywhere else.
* Every scorer returns NaN or a value inside the range its instrument documents,
  whatever mix of valid and missing answers it gets; an answer outside the
  coding stops scoring instead of being scored.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from feasibility.studies.pilot2020 import crf
from feasibility.redcap import load_project
from feasibility.scoring import eq5d, hads, paw, promis, rtw_self_efficacy, wemwbs, wrfq
from feasibility.scoring.registry import missing_item_rules

import records_helpers as rh
from projectcopy import ROOT
from test_corpus import validate_folder

RAW = ROOT / "data" / "raw"
# the paper's missing-item rules as its study file declares them, in the shape the
# instrument modules take them
SCORING = {
    "missing_items": missing_item_rules(
        yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["instruments"]
    ),
    "wrfq_max_not_applicable_fraction": 0.2,
}
FAST = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
# each example validates the whole project (~0.5 s): few examples per form, each form its own test
VALIDATING = settings(FAST, max_examples=8)

# Forms generated: demographics (checkbox groups, numbers with a decimal), the baseline
# health questionnaire (codes, a slider), work preparation (branching logic), the repeating
# status changes (free text) and the 6-week work questionnaire. Fields the study's rules
# read to decide what else must be there stay as shipped (and every date: the rules order them).
GENERATED = {
    "demographics": ("baseline", ""),
    "health_questionnaire": ("baseline", ""),
    "work_preparation": ("intervention", ""),
    "status_change": ("intervention", "status_change"),
    "work_questionnaire": ("week6", ""),
}
FIXED = {"wp_attended", "sc_type", "sc_reason", "sc_further_data"}
CONTROL = {chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127]}


@cache
def project():
    proj, failures = load_project(
        dictionary=RAW / "data_dictionary.csv", instrument_designations=RAW / "instrument_designations.csv"
    )
    assert proj is not None, failures
    return proj


@cache
def shipped() -> tuple[list[str], list[list[str]]]:
    return rh.read_csv(RAW / "records.csv")


Changes = dict[tuple[int, str], str]  # (row of the shipped export, column) -> new value


def validate_rows(changes: Changes):
    """The shipped downloads with ``changes`` made to the records export, validated as the
    workflow validates them (the study's settings and rules)."""
    header, body = shipped()
    body = [list(r) for r in body]
    for (i, column), value in changes.items():
        body[i][header.index(column)] = value
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        shutil.copytree(RAW, raw)
        rh.write_csv(raw / "records.csv", header, body)
        return validate_folder(raw)


# --------------------------------------------------------------------------- generators
def _decimals(f) -> int:
    return f.spec.decimals if f.spec is not None and f.spec.decimals is not None else 0


def _number(f) -> st.SearchStrategy[str]:
    places = _decimals(f)
    scale = 10**places
    lo, hi = (f.minimum if f.minimum is not None else 0), (f.maximum if f.maximum is not None else 1000)
    return st.integers(int(lo * scale), int(hi * scale)).map(lambda v: f"{v / scale:.{places}f}")


def _free_text() -> st.SearchStrategy[str]:
    # any printable text, commas, quotes, line breaks and non-ASCII included
    return st.text(
        st.characters(blacklist_characters=CONTROL, blacklist_categories=("Cs",)), max_size=60
    ).filter(lambda t: t == t.strip())


def field_value(f, required: bool) -> st.SearchStrategy[str]:
    """A value the dictionary allows for field ``f`` (blank too when it is not required)."""
    if f.codes:
        value = st.sampled_from([code for code, _ in f.codes])
    elif f.kind in ("integer", "number"):
        value = _number(f)
    else:
        value = _free_text().filter(bool)
    return value if not required else value


def shown(f, cells: dict[str, str]) -> bool:
    """Branching logic of the form "[a] = '1' and [b] = '0'" on the cells so far."""
    conjuncts = re.findall(r"\[(\w+)\] = '(\w+)'", f.branching)
    assert f.branching.count("[") == len(conjuncts), f"{f.name}: branching not a conjunction: {f.branching}"
    return all(cells.get(name) == value for name, value in conjuncts)


@st.composite
def form_cells(draw, form: str, row: dict[str, str]) -> dict[str, str]:
    """Every column of one form: blank when branching hides it, dates and the fields the
    rules read as shipped, the rest values the dictionary allows."""
    cells = {}
    complete = row[f"{form}_complete"] == "2"
    for f in project().form_fields(form):
        fixed = f.name in FIXED or f.kind in ("date", "datetime")
        if f.type == "checkbox":
            if not shown(f, {**row, **cells}):
                cells.update({c: "0" for c in f.export_columns})
                continue
            ticks = draw(
                st.lists(
                    st.sampled_from("01"), min_size=len(f.export_columns), max_size=len(f.export_columns)
                )
            )
            if f.required and complete and "1" not in ticks:
                ticks[0] = "1"
            cells.update(zip(f.export_columns, ticks))
        elif fixed:
            cells[f.name] = row[f.name]
        elif not shown(f, {**row, **cells}):
            cells[f.name] = ""
        else:
            value = draw(field_value(f, f.required and complete))
            cells[f.name] = value if (f.required and complete) or draw(st.booleans()) else ""
    return cells


@st.composite
def valid_rows(draw, form: str) -> tuple[Changes, list[int]]:
    """New values for some rows of ``form`` in the shipped export: (changes, the rows chosen).
    Only the changes are drawn, so that a failing example prints (and shrinks) as a few cells."""
    header, body = shipped()
    event, instrument = GENERATED[form]
    ev, ins = header.index("redcap_event_name"), header.index("redcap_repeat_instrument")
    status = header.index(f"{form}_complete")
    candidates = [
        i
        for i, r in enumerate(body)
        if r[ev] == rh.EVENTS[event] and r[ins] == instrument and r[status] != ""
    ]
    chosen = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=6, unique=True))
    changes: Changes = {}
    for i in chosen:
        row = dict(zip(header, body[i]))
        changes.update(
            {
                (i, column): value
                for column, value in draw(form_cells(form, row)).items()
                if value != row[column]
            }
        )
    return changes, chosen


# The quick subset generates the repeating status changes (free text with commas, quotes and
# line breaks, which must be quoted as REDCap quotes them); the other forms run with the slow tests.
# each example validates the whole project (about 0.45 s): the forms run with the slow tests
FORMS = [pytest.param(form, marks=pytest.mark.slow) for form in GENERATED]


# --------------------------------------------------------------------------- (a) valid forms
@pytest.mark.parametrize("form", FORMS)
def test_a_form_that_obeys_the_dictionary_validates(form):
    @VALIDATING
    @given(valid_rows(form))
    def check(generated):
        changes, _ = generated
        result = validate_rows(changes)
        assert result.ok and result.failures == [], "\n".join(f.message() for f in result.failures[:10])

    check()


# --------------------------------------------------------------------------- (b) one broken cell
def _impossible_date() -> st.SearchStrategy[str]:
    bad_day = st.builds(
        lambda y, m, extra: f"{y}-{m:02d}-{_last_day(y, m) + extra:02d}",
        st.integers(2000, 2030),
        st.integers(1, 12),
        st.integers(1, 3),
    )
    bad_month = st.builds(
        lambda y, m, d: f"{y}-{m:02d}-{d:02d}",
        st.integers(2000, 2030),
        st.integers(13, 99),
        st.integers(1, 28),
    )
    other = st.sampled_from(
        ["31/01/2018", "2018.01.31", "yesterday", "2018-01-01T09:00", "20180131", "0000-00-00"]
    )
    return st.one_of(bad_day, bad_month, other)


def _last_day(year: int, month: int) -> int:
    return ((dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)).day


def _not_a_number() -> st.SearchStrategy[str]:
    return st.text(st.sampled_from("abcxyzNAQ?!/ "), min_size=1, max_size=8).filter(
        lambda s: s.strip() != "" and s.strip().lower() not in ("nan", "inf", "infinity")
    )


def breakages(f, column: str, complete: bool) -> list[st.SearchStrategy[str]]:
    """Strategies of values that break the dictionary's rule for ``column`` of field ``f``."""
    out = []
    if f.type == "checkbox":
        out.append(st.integers(2, 30).map(str))
    elif f.codes:
        codes = {c for c, _ in f.codes}
        out.append(st.integers(-3, 30).map(str).filter(lambda v: v not in codes))
    elif f.minimum is not None and f.kind in ("integer", "number"):
        places = _decimals(f)
        out.append(
            st.one_of(
                st.integers(1, 10_000).map(lambda d: f"{f.maximum + d:.{places}f}"),
                st.integers(1, 10_000).map(lambda d: f"{f.minimum - d:.{places}f}"),
            )
        )
    if f.kind in ("integer", "number") or f.codes:
        out.append(_not_a_number())
    if f.kind == "number" and _decimals(f):
        out.append(st.integers(0, 20).map(lambda v: f"{v}.{'5' * (_decimals(f) + 1)}"))
    if f.kind == "date":
        out.append(_impossible_date())
    if f.required and complete and f.type != "checkbox":
        out.append(st.just(""))
    return out


@st.composite
def broken_rows(draw, form: str):
    """Valid rows of ``form`` with exactly one cell broken: (changes, its record, its field and column)."""
    changes, chosen = draw(valid_rows(form))
    header, body = shipped()
    i = draw(st.sampled_from(chosen))
    complete = body[i][header.index(f"{form}_complete")] == "2"
    candidates = [
        (f, column)
        for f in project().form_fields(form)
        if f.name not in FIXED
        for column in f.export_columns
        if breakages(f, column, complete)
    ]
    f, column = draw(st.sampled_from(candidates))
    value = draw(st.one_of(breakages(f, column, complete)))
    assume(value != changes.get((i, column), body[i][header.index(column)]))
    return {**changes, (i, column): value}, body[i][0], {column, f.name}


@pytest.mark.parametrize("form", FORMS)
def test_one_broken_cell_is_reported_at_that_cell(form):
    @VALIDATING
    @given(broken_rows(form))
    def check(broken):
        changes, record, fields = broken
        result = validate_rows(changes)
        errors = [f for f in result.failures if f.severity == "error"]
        assert errors, f"no failure for {record} {fields}"
        elsewhere = [f for f in errors if f.record != record or f.field not in fields]
        assert not elsewhere, "\n".join(f.message() for f in elsewhere[:10])
        assert all(f.file == "records.csv" for f in errors)

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
            record_id=[f"PP{i:02d}" for i in range(len(rows))]
        )
    )


# (scorer, its item columns, documented range of each score) from each module's docstring
SCORERS = {
    "hads": (
        hads.score_hads,
        [c for cols in hads.SUBSCALES.values() for c in cols],
        {"hads_anxiety": (0, 21), "hads_depression": (0, 21)},
    ),
    "wemwbs": (wemwbs.score_wemwbs, wemwbs.SUBSCALES["wemwbs"], {"wemwbs": (14, 70)}),
    "promis": (
        promis.score_promis,
        [c for cols in promis.SUBSCALES.values() for c in cols],
        {"promis_fatigue": (8, 40), "promis_pain_interference": (8, 40)},
    ),
    "wrfq": (wrfq.score_wrfq, wrfq.ITEMS, {"wrfq": (0, 100)}),
    "paw": (
        paw.score_paw,
        [c for cols in paw.SUBSCALES.values() for c in cols],
        {"paw_job_satisfaction": (7, 35), "paw_social_support": (4, 20), "paw_mental_stress": (4, 20)},
    ),
    "rtw_self_efficacy": (
        rtw_self_efficacy.score_rtw_self_efficacy,
        rtw_self_efficacy.SUBSCALES["rtw_self_efficacy"],
        {"rtw_self_efficacy": (2, 10)},
    ),
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
        scored = scorer(items, scoring=SCORING, coding=crf.fields_by_name())
        assert list(scored.scores.index) == list(items.index)
        _within(scored.scores, ranges)
        # a score is missing only when an item it needs is missing
        complete = items[columns].notna().all(axis=1)
        if name != "wrfq":  # all 27 WRFQ items may be 'does not apply': no score
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
        scores = eq5d.score_eq5d(items, method, coding=crf.fields_by_name()).scores
        _within(
            scores,
            {
                "eq5d_index": (EQ5D_FLOOR[value_set], 1),
                "eq5d_vas": (0, 100),
                **{c: (1, method.levels) for c in eq5d.LEVEL_COLUMNS},
            },
        )
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
        allowed = (
            {float(c) for c, _ in fld.choices}
            if fld.choices
            else set(np.arange(fld.vmin, fld.vmax + 1, dtype=float))
        )
        bad = data.draw(
            st.sampled_from([-1.0, 0.5, 6.0, 10.5, 11.0, 21.0, 99.0]).filter(lambda v: v not in allowed)
        )
        row = data.draw(st.integers(0, len(items) - 1))
        items.loc[row, col] = bad
        with pytest.raises(ValueError, match=re.escape(f"{col} = ")):
            scorer(items, scoring=SCORING, coding=fields)

    check()
