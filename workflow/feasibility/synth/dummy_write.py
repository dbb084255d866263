"""The dummy data as REDCap's all-records export.

:func:`typed_tables` gives the per-form tables that ``feasibility.redcap.write_records``
takes; :func:`write_export` writes the same bytes directly, column-wise and in chunks
of lines, because the library's writer builds a Python dict per row and cell (minutes at
n = 100,000). ``tests/trial/test_dummy.py`` checks that both writers give byte-identical
files for every fixture project and the trial.

Cells are written as REDCap's raw export writes them (and as ``write_records`` does):
codes as codes, dates ``YYYY-MM-DD``, datetimes ``YYYY-MM-DD HH:MM[:SS]``, whole numbers
without decimals, a number validated to d decimals with d decimals (a comma when the
validation says so), checkboxes 0/1, a missing-data code in place of a value.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from feasibility import io as fio
from feasibility.redcap.model import Field, checkbox_column
from feasibility.redcap.records import DAG, EVENT, REPEAT_INSTANCE, REPEAT_INSTRUMENT
from feasibility.redcap.write import BOM, expected_header

EPOCH_S = np.datetime64("1970-01-01T00:00:00", "s")
CHUNK = 20_000


def _numbers(values: np.ndarray, f: Field) -> np.ndarray:
    """Numbers as the raw export writes them (``write_records``' rules)."""
    out = np.full(len(values), "", dtype=object)
    ok = ~np.isnan(values)
    if not ok.any():
        return out
    v = values[ok]
    spec = f.spec if f.kind != "code" else None
    if spec is not None and spec.decimals is not None:
        text = np.array([f"{x:.{spec.decimals}f}" for x in v], dtype=object)
    else:
        whole = v == np.floor(v)
        text = np.empty(len(v), dtype=object)
        text[whole] = v[whole].astype(np.int64).astype(str)
        text[~whole] = [repr(float(x)) for x in v[~whole]]
    if spec is not None and spec.comma:
        text = np.array([t.replace(".", ",") for t in text], dtype=object)
    out[ok] = text
    return out


def _datetimes(values: np.ndarray, f: Field) -> np.ndarray:
    out = np.full(len(values), "", dtype=object)
    ok = ~np.isnan(values)
    if not ok.any():
        return out
    if f.kind == "date":
        stamps = np.datetime64("1970-01-01", "D") + np.floor(values[ok]).astype(np.int64)
        out[ok] = np.datetime_as_string(stamps, unit="D").astype(object)
        return out
    seconds = np.round(values[ok] * 86400).astype(np.int64)
    unit = "s" if "seconds" in f.validation else "m"
    text = np.datetime_as_string(EPOCH_S + seconds.astype("timedelta64[s]"), unit=unit)
    out[ok] = np.char.replace(text, "T", " ").astype(object)
    return out


def _times(values: np.ndarray, f: Field) -> np.ndarray:
    out = np.full(len(values), "", dtype=object)
    ok = ~np.isnan(values)
    v = values[ok].astype(np.int64)
    if f.validation == "time_mm_ss":
        out[ok] = [f"{x // 60:02d}:{x % 60:02d}" for x in v]
    elif f.validation == "time_hh_mm_ss":
        out[ok] = [f"{x // 3600:02d}:{x // 60 % 60:02d}:{x % 60:02d}" for x in v]
    else:
        out[ok] = [f"{x // 60:02d}:{x % 60:02d}" for x in v]
    return out


def column_text(gen, f: Field, st) -> dict[str, np.ndarray]:
    """The export text of a field's column(s) over a store's rows ("" blank)."""
    col = st.cols[f.name]
    kind = f.kind
    if kind == "checkbox":
        out = {}
        for j, (code, _) in enumerate(f.choices):
            c = col[:, j]
            out[checkbox_column(f.name, code)] = np.where(c < 0, "", np.where(c > 0, "1", "0")).astype(object)
        return out
    if kind == "code":
        codes = np.array([c for c, _ in f.codes] + [""], dtype=object)
        text = codes[np.where(col < 0, len(codes) - 1, col)]
    elif kind in ("integer", "number"):
        text = _numbers(col, f)
    elif kind in ("date", "datetime"):
        text = _datetimes(col, f)
    elif kind == "time":
        text = _times(col, f)
    else:
        text = np.where(pd.isna(col), "", col).astype(object)
    if f.name in st.codes:
        coded = st.codes[f.name]
        has = coded != None  # noqa: E711
        text = np.where(has, coded, text).astype(object)
    return {f.name: text}


# ----------------------------------------------------------------------------- typed tables
def _typed(gen_like, f: Field, st) -> dict[str, pd.Series]:
    col = st.cols[f.name]
    kind = f.kind
    if kind == "checkbox":
        return {
            checkbox_column(f.name, code): pd.Series(np.where(col[:, j] < 0, np.nan, col[:, j]).astype(float))
            for j, (code, _) in enumerate(f.choices)
        }
    if kind == "code":
        codes = np.array([c for c, _ in f.codes] + [None], dtype=object)
        values = pd.Series(codes[np.where(col < 0, len(codes) - 1, col)], dtype=object)
    elif kind in ("integer", "number"):
        values = pd.Series(col.astype(float))
    elif kind in ("date", "datetime"):
        seconds = np.where(np.isnan(col), np.nan, np.round(col * 86400))
        values = pd.Series(pd.to_datetime(seconds, unit="s"))
        if kind == "date":
            values = values.dt.floor("D")
    elif kind == "time":
        values = pd.Series(np.where(np.isnan(col), None, _times(col, f)), dtype=object)
    else:
        values = pd.Series(col, dtype=object)
    if f.name in st.codes:
        coded = st.codes[f.name]
        has = coded != None  # noqa: E711
        values = values.astype(object).where(~has, pd.Series(coded, dtype=object))
    return {f.name: values}


def typed_tables(dummy) -> dict[str, pd.DataFrame]:
    """Per-form tables for ``feasibility.redcap.write_records``."""
    p = dummy.project
    events = np.array(dummy.events, dtype=object)
    out = {}
    for form in p.forms:
        st = dummy.stores[form.name]
        cols: dict[str, pd.Series] = {"record_id": pd.Series(dummy.record_ids[st.rec], dtype=object)}
        if p.longitudinal:
            cols[EVENT] = pd.Series(events[st.ev], dtype=object)
        if p.repeating_form(form.name):
            cols[REPEAT_INSTANCE] = pd.Series(
                pd.array(np.where(st.inst > 0, st.inst, 0), dtype="Int64")
            ).mask(pd.Series(st.inst == 0))
        if dummy.sites:
            names = np.array([s.name for s in dummy.sites], dtype=object)
            cols[DAG] = pd.Series(names[dummy.site_of[st.rec]], dtype=object)
        for f in p.form_fields(form.name):
            if f.kind != "none":
                cols.update(_typed(dummy, f, st))
        cols[f"{form.name}_complete"] = pd.Series(st.status.astype(np.int64))
        out[form.name] = pd.DataFrame(cols)
    return out


# ----------------------------------------------------------------------------- fast writer
def _natural_rank(ids: np.ndarray) -> np.ndarray:
    """Each record's rank in REDCap's (and write_records') record order."""
    if all(str(v).isdigit() for v in ids):
        order = np.argsort(np.array([int(v) for v in ids], dtype=np.int64), kind="stable")
    else:
        order = np.argsort(np.array([str(v) for v in ids], dtype=object).astype(str), kind="stable")
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank


def write_export(dummy, path, progress=None) -> Path:
    """The all-records export as ``write_records`` writes it (BOM, CRLF), column-wise."""
    p = dummy.project
    forms = [f.name for f in p.forms]
    stores = dummy.stores
    rank = _natural_rank(dummy.record_ids)
    # every row's line key: record, event, repeat instrument, instance
    parts = []
    for k, form in enumerate(forms):
        st = stores[form]
        if not len(st):
            continue
        instrument = np.array(
            [(p.repeats(form, dummy.events[e]) == "instrument") for e in range(len(dummy.events))]
        )
        is_instr = instrument[st.ev] & (st.inst > 0)
        parts.append(
            pd.DataFrame(
                {
                    "rank": rank[st.rec],
                    "ev": st.ev,
                    "instr": np.where(is_instr, form, ""),
                    "inst": st.inst,
                    "form": k,
                    "row": np.arange(len(st)),
                }
            )
        )
    keys = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({"rank": [], "ev": [], "instr": [], "inst": [], "form": [], "row": []})
    )
    keys = keys.sort_values(["rank", "ev", "instr", "inst"], kind="stable")
    new_line = (keys[["rank", "ev", "instr", "inst"]].ne(keys[["rank", "ev", "instr", "inst"]].shift())).any(
        axis=1
    )
    keys["line"] = np.cumsum(new_line.to_numpy()) - 1
    lines = keys[new_line.to_numpy()]
    n_lines = len(lines)
    header = expected_header(p, dag=bool(dummy.sites))
    position = {c: i for i, c in enumerate(header)}
    order_rec = np.argsort(rank)  # record index by rank
    line_rec = order_rec[lines["rank"].to_numpy(dtype=np.int64)]
    line_ev = lines["ev"].to_numpy(dtype=np.int64)
    line_instr = lines["instr"].to_numpy(dtype=object)
    line_inst = lines["inst"].to_numpy(dtype=np.int64)
    fixed: dict[str, np.ndarray] = {p.record_id_field: dummy.record_ids[line_rec].astype(object)}
    if p.longitudinal:
        fixed[EVENT] = np.array(dummy.events, dtype=object)[line_ev]
    if REPEAT_INSTRUMENT in position:
        fixed[REPEAT_INSTRUMENT] = line_instr
        fixed[REPEAT_INSTANCE] = np.where(line_inst > 0, line_inst.astype(str), "").astype(object)
    if dummy.sites:
        names = np.array([s.name for s in dummy.sites], dtype=object)
        fixed[DAG] = names[dummy.site_of[line_rec]]
    # each form's rows: their lines, and their columns' text
    form_lines: dict[str, np.ndarray] = {}
    form_text: dict[str, dict[str, np.ndarray]] = {}
    for k, form in enumerate(forms):
        st = stores[form]
        if not len(st):
            continue
        mine = keys[keys["form"].to_numpy() == k]
        where = np.empty(len(st), dtype=np.int64)
        where[mine["row"].to_numpy(dtype=np.int64)] = mine["line"].to_numpy(dtype=np.int64)
        form_lines[form] = where
        text: dict[str, np.ndarray] = {}
        for f in p.form_fields(form):
            if f.kind != "none":
                text.update(column_text(None, f, st))
        text[f"{form}_complete"] = st.status.astype(np.int64).astype(str).astype(object)
        if dummy.sites:
            text[DAG] = names[dummy.site_of[st.rec]]
        form_text[form] = text
    # checkboxes REDCap writes as 0 on a line whose event has the form but no row of it
    fill: list[tuple[str, list[str], np.ndarray]] = []
    for f in p.fields[1:]:
        if f.type != "checkbox":
            continue
        ok_ev = np.array([(f.form in p.forms_of(e)) if p.longitudinal else True for e in dummy.events])
        repeats_instr = np.array([p.repeats(f.form, e) == "instrument" for e in dummy.events])
        cond = (
            ok_ev[line_ev]
            & ((line_instr == "") | (line_instr == f.form))
            & ~(repeats_instr[line_ev] & (line_instr == ""))
        )
        fill.append((f.form, list(f.export_columns), cond))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with fio.atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(BOM)
            w = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
            w.writerow(header)
            for a in range(0, n_lines, CHUNK):
                b = min(a + CHUNK, n_lines)
                if progress and a and a % (10 * CHUNK) == 0:
                    progress(f"dummy: writing line {a:,} of {n_lines:,}")
                block = np.full((b - a, len(header)), "", dtype=object)
                for c, values in fixed.items():
                    block[:, position[c]] = values[a:b]
                has_row: dict[str, np.ndarray] = {}
                for form, where in form_lines.items():
                    sel = np.flatnonzero((where >= a) & (where < b))
                    mask = np.zeros(b - a, dtype=bool)
                    mask[where[sel] - a] = True
                    has_row[form] = mask
                    for c, values in form_text[form].items():
                        block[where[sel] - a, position[c]] = values[sel]
                for form, columns, cond in fill:
                    todo = cond[a:b] & ~has_row.get(form, np.zeros(b - a, dtype=bool))
                    if todo.any():
                        for c in columns:
                            block[todo, position[c]] = "0"
                w.writerows(block.tolist())
    return path


__all__ = ["typed_tables", "write_export", "column_text"]
