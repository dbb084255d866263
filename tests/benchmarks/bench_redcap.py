"""Benchmark of the REDCap input library: validate a large all-records export (issues 15.12, 12.6).

    .venv/bin/python tests/benchmarks/bench_redcap.py                 # both targets
    .venv/bin/python tests/benchmarks/bench_redcap.py --participants 20000 --no-50mb   # a quicker look

Two exports of a synthetic longitudinal project (3 events, a repeating adverse-event log,
56 export columns: dates, numbers with and without comma decimals, codes, a checkbox, text,
missing-data codes, branching logic, identifiers), written as REDCap's download writes them:

* 100,000 participants (about 330,000 rows): target at most 30 s and 2 GB;
* an export of about 50 MB: target under 60 s and 1.5 GB;
* the same 50 MB with every questionnaire date written DD/MM/YYYY and every site out of its
  list (about 500,000 failing cells): the same targets, and a report of bounded size (at most
  1,000 failures listed per field and rule, the rest counted).

Each run is ``feasibility.redcap.validate`` plus ``write_validated`` in a fresh process; the
table shows wall time and the peak resident memory of that process. Not part of the test
suite (generation and two runs take a few minutes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))

from feasibility.redcap.model import Field, Form, Project, Repeating  # noqa: E402
from feasibility.redcap.write import write_designations, write_dictionary  # noqa: E402

EVENTS = ("baseline_arm_1", "month_6_arm_1", "month_12_arm_1")
CODES = "UNK, Unknown | NASK, Not asked"

RUN = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
t = time.perf_counter()
from feasibility.redcap import validate, write_validated
r = validate(sys.argv[2], dictionary=sys.argv[3], instrument_designations=sys.argv[4],
             settings={"missing_data_codes": sys.argv[5], "repeating": {"instruments": [
                 {"form": "adverse_event", "event": e} for e in sys.argv[6].split(",")]},
                 "limits": {"max_file_mb": 2048},
                 "rules": [{"kind": "not_after_export"},
                           {"kind": "date_order", "earlier": {"field": "con_date", "event": "baseline_arm_1"},
                            "later": {"field": "qol_date"}}],
                 "derive": [{"name": "age", "kind": "age_years", "birth_date": "dob", "at": "con_date"}]})
t_validate = time.perf_counter() - t
if r.ok:
    write_validated(r, sys.argv[7])
else:
    from pathlib import Path
    from feasibility.redcap import write_report
    write_report(r, Path(sys.argv[7]) / "report.json", Path(sys.argv[7]) / "report.md")
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import os
size = sum(f.stat().st_size for f in __import__("pathlib").Path(sys.argv[7]).glob("report.*")) \
    if os.path.isdir(sys.argv[7]) else 0
print(json.dumps({"report_mb": size / (1 << 20), "wall": wall, "validate": t_validate, "rss_mb": rss / 1024, "ok": r.ok,
                  "errors": len(r.errors), "warnings": len(r.warnings), "first": [f.message() for f in r.failures[:3]],
                  "rows": len(r.records) if r.records else 0}))
"""


def project() -> Project:
    f = []

    def add(name, form, ftype, **kw):
        f.append(Field(name, form, ftype, label=name.replace("_", " "), **kw))

    add("participant_id", "consent", "text")
    add("con_date", "consent", "text", validation="date_dmy", required=True)
    add("dob", "consent", "text", validation="date_ymd", identifier=True, min_text="1920-01-01")
    add("initials", "consent", "text", identifier=True)
    add(
        "site",
        "consent",
        "dropdown",
        choices=tuple((str(i), f"Site {i}") for i in range(1, 21)),
        required=True,
    )
    add("sex", "consent", "radio", choices=(("1", "Female"), ("2", "Male")))
    add("height", "consent", "text", validation="number_1dp", min_text="100", max_text="220")
    add("weight", "consent", "text", validation="number", min_text="30", max_text="250")
    add("smoker", "consent", "yesno")
    add("cigs", "consent", "text", validation="integer", branching="[smoker] = '1'")
    add(
        "conditions",
        "consent",
        "checkbox",
        choices=(("1", "Back"), ("2", "Neck"), ("3", "Knee"), ("-99", "None")),
    )
    add("con_notes", "consent", "notes")
    add("qol_date", "quality_of_life", "text", validation="date_ymd", required=True)
    for i in range(1, 15):
        add(
            f"qol_{i}",
            "quality_of_life",
            "radio",
            choices=(("0", "Never"), ("1", "Sometimes"), ("2", "Often"), ("3", "Always")),
            required=True,
        )
    add("qol_pain", "quality_of_life", "slider")
    add("qol_hours", "quality_of_life", "text", validation="number_1dp_comma_decimal")
    add("qol_score", "quality_of_life", "calc", calculation="sum([qol_1],[qol_2])")
    add("qol_work", "quality_of_life", "truefalse")
    add(
        "qol_job",
        "quality_of_life",
        "dropdown",
        choices=(("emp", "Employed"), ("unemp", "Unemployed")),
        branching="[qol_work] = '1'",
    )
    add("qol_time", "quality_of_life", "text", validation="time")
    add("ae_date", "adverse_event", "text", validation="date_ymd", required=True)
    add("ae_desc", "adverse_event", "notes")
    add("ae_serious", "adverse_event", "yesno")
    add("ae_grade", "adverse_event", "radio", choices=tuple((str(i), f"Grade {i}") for i in range(1, 6)))
    # parse the limits the way the dictionary does
    from feasibility.redcap.dictionary import parse_limit

    fields = []
    for x in f:
        lo = parse_limit(x.min_text, x.kind, x.validation) if x.min_text else None
        hi = parse_limit(x.max_text, x.kind, x.validation) if x.max_text else None
        fields.append(Field(**{**x.__dict__, "minimum": lo, "maximum": hi}))
    forms = tuple(
        Form(n, n.replace("_", " ").capitalize(), tuple(x.name for x in fields[1:] if x.form == n))
        for n in ("consent", "quality_of_life", "adverse_event")
    )
    designations = (
        ("baseline_arm_1", "consent"),
        ("baseline_arm_1", "quality_of_life"),
        ("month_6_arm_1", "quality_of_life"),
        ("month_6_arm_1", "adverse_event"),
        ("month_12_arm_1", "quality_of_life"),
        ("month_12_arm_1", "adverse_event"),
    )
    from feasibility.redcap.model import Arm, Event

    return Project(
        fields=tuple(fields),
        forms=forms,
        record_id_field="participant_id",
        events=tuple(Event(e, e.split("_arm")[0], 1) for e in EVENTS),
        arms=(Arm(1, "Arm 1"),),
        designations=designations,
        repeating=Repeating(
            frozenset({("month_6_arm_1", "adverse_event"), ("month_12_arm_1", "adverse_event")})
        ),
        missing_data_codes=(("UNK", "Unknown"), ("NASK", "Not asked")),
    )


def _dates(rng, n, start, days) -> np.ndarray:
    base = np.datetime64(start) + rng.integers(0, days, n).astype("timedelta64[D]")
    return np.datetime_as_string(base, unit="D").astype(object)


def records(p: Project, n: int, seed: int = 7) -> pd.DataFrame:
    """A valid export of ``n`` participants (about 3.3 rows each), as text, REDCap's column order."""
    rng = np.random.default_rng(seed)
    from feasibility.redcap.write import expected_header

    header = expected_header(p, extra={"conditions___unk"})
    ids = np.array([f"P{i:06d}" for i in range(1, n + 1)], dtype=object)
    frames = []
    con = _dates(rng, n, "2023-01-01", 300)
    # baseline: consent + quality of life
    b = pd.DataFrame({"participant_id": ids, "redcap_event_name": "baseline_arm_1"})
    b["con_date"] = con
    b["dob"] = _dates(rng, n, "1950-01-01", 15000)
    b["initials"] = np.array(["AB", "CD", "EF", "GH"], dtype=object)[rng.integers(0, 4, n)]
    b["site"] = rng.integers(1, 21, n).astype(str)
    b["sex"] = rng.integers(1, 3, n).astype(str)
    b["height"] = np.char.mod("%.1f", rng.uniform(150, 200, n)).astype(object)
    w = np.char.mod("%.2f", rng.uniform(50, 120, n)).astype(object)
    w[rng.random(n) < 0.01] = "UNK"
    b["weight"] = w
    smoke = rng.integers(0, 2, n)
    b["smoker"] = smoke.astype(str)
    b["cigs"] = np.where(smoke == 1, rng.integers(1, 40, n).astype(str), "")
    ticks = rng.integers(0, 2, (n, 3))
    for j, code in enumerate(("1", "2", "3")):
        b[f"conditions___{code}"] = ticks[:, j].astype(str)
    none = ticks.sum(axis=1) == 0
    b["conditions____99"] = none.astype(int).astype(str)
    b["conditions___unk"] = "0"
    b["con_notes"] = np.where(rng.random(n) < 0.1, "Prefers calls after 5pm, not weekends", "")
    b["consent_complete"] = "2"
    frames.append(("baseline_arm_1", b))
    for event, offset in zip(EVENTS, (0, 182, 365)):
        q = (
            pd.DataFrame({"participant_id": ids, "redcap_event_name": event})
            if event != "baseline_arm_1"
            else b
        )
        keep = np.ones(n, dtype=bool) if event == "baseline_arm_1" else rng.random(n) < 0.85
        qd = (pd.to_datetime(con) + pd.to_timedelta(offset + rng.integers(0, 20, n), unit="D")).strftime(
            "%Y-%m-%d"
        )
        q["qol_date"] = np.where(keep, qd.to_numpy(dtype=object), "")
        items = rng.integers(0, 4, (n, 14))
        for i in range(14):
            col = items[:, i].astype(str).astype(object)
            q[f"qol_{i + 1}"] = np.where(keep, col, "")
        q["qol_pain"] = np.where(keep, rng.integers(0, 101, n).astype(str), "")
        q["qol_hours"] = np.where(
            keep, np.char.replace(np.char.mod("%.1f", rng.uniform(0, 40, n)), ".", ","), ""
        )
        q["qol_score"] = np.where(keep, (items[:, 0] + items[:, 1]).astype(str), "")
        work = rng.integers(0, 2, n)
        q["qol_work"] = np.where(keep, work.astype(str), "")
        q["qol_job"] = np.where(keep & (work == 1), np.where(rng.random(n) < 0.7, "emp", "unemp"), "")
        q["qol_time"] = np.where(
            keep, np.char.add(np.char.zfill(rng.integers(8, 18, n).astype(str), 2), ":30"), ""
        )
        q["quality_of_life_complete"] = np.where(keep, "2", "0")
        if event != "baseline_arm_1":
            frames.append((event, q))
    for event in EVENTS[1:]:
        has = rng.random(n) < 0.15
        m = int(has.sum())
        for inst in (1, 2):
            sub = ids[has][: m if inst == 1 else m // 3]
            k = len(sub)
            a = pd.DataFrame(
                {
                    "participant_id": sub,
                    "redcap_event_name": event,
                    "redcap_repeat_instrument": "adverse_event",
                    "redcap_repeat_instance": str(inst),
                }
            )
            a["ae_date"] = _dates(rng, k, "2023-08-01", 300)
            a["ae_desc"] = np.array(["Headache", "Back pain flare", "Fall, bruised knee"], dtype=object)[
                rng.integers(0, 3, k)
            ]
            a["ae_serious"] = rng.integers(0, 2, k).astype(str)
            a["ae_grade"] = rng.integers(1, 6, k).astype(str)
            a["adverse_event_complete"] = "2"
            frames.append((event, a))
    out = pd.concat([f for _, f in frames], ignore_index=True)
    order = {e: i for i, e in enumerate(EVENTS)}
    out["_e"] = out["redcap_event_name"].map(order)
    out["_i"] = pd.to_numeric(out.get("redcap_repeat_instance"), errors="coerce").fillna(0)
    out = out.sort_values(["participant_id", "_e", "_i"], kind="stable").drop(columns=["_e", "_i"])
    return out.reindex(columns=header).fillna("")


def spoil(df: pd.DataFrame) -> pd.DataFrame:
    """Every questionnaire date re-saved as DD/MM/YYYY and every site out of its list: a flood of failures."""
    df = df.copy()
    dates = df["qol_date"] != ""
    df.loc[dates, "qol_date"] = pd.to_datetime(df.loc[dates, "qol_date"]).dt.strftime("%d/%m/%Y")
    df.loc[df["site"] != "", "site"] = "99"
    return df


def write(p: Project, n: int, folder: Path, bad: bool = False) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "dictionary": folder / "Bench_DataDictionary_2025-01-15.csv",
        "designations": folder / "Bench_InstrumentDesignations_2025-01-15.csv",
        "records": folder / "Bench_DATA_2025-01-15_0900.csv",
    }
    write_dictionary(p, paths["dictionary"])
    write_designations(p, paths["designations"])
    df = records(p, n)
    if bad:
        df = spoil(df)
    with open(paths["records"], "w", encoding="utf-8-sig", newline="") as fh:
        df.to_csv(fh, index=False, lineterminator="\r\n")
    return paths


def run(paths: dict[str, Path], out: Path) -> dict:
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN,
            str(ROOT / "workflow"),
            str(paths["records"]),
            str(paths["dictionary"]),
            str(paths["designations"]),
            CODES,
            ",".join(EVENTS[1:]),
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=100_000)
    ap.add_argument("--no-50mb", action="store_true", help="skip the 50 MB exports")
    args = ap.parse_args()
    p = project()
    cases = [(f"{args.participants:,} participants", args.participants, 30, 2048, False)]
    if not args.no_50mb:
        cases.append(("50 MB export", None, 60, 1536, False))
        cases.append(("50 MB, all dates bad", None, 60, 1536, True))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, n, t_max, mb_max, bad in cases:
            folder = Path(tmp) / label.replace(" ", "_").replace(",", "")
            if n is None:  # size the 50 MB export from a small one
                probe = write(p, 2000, Path(tmp) / "probe")["records"].stat().st_size
                n = int(2000 * 50 * (1 << 20) / probe)
            t = time.perf_counter()
            paths = write(p, n, folder, bad)
            made = time.perf_counter() - t
            size = paths["records"].stat().st_size / (1 << 20)
            res = run(paths, folder / "validated")
            ok = res["ok"] != bad and res["wall"] <= t_max and res["rss_mb"] <= mb_max
            rows.append(
                (
                    label,
                    n,
                    res["rows"],
                    size,
                    res["validate"],
                    res["wall"],
                    res["rss_mb"],
                    t_max,
                    mb_max,
                    ok,
                    res["errors"],
                    res["warnings"],
                    made,
                    res["report_mb"],
                )
            )
            if not res["ok"] and not bad:
                print("validation failed:", *res["first"], sep="\n  ")
    print(
        f"{'case':<24}{'participants':>13}{'rows':>10}{'MB':>8}{'validate s':>12}{'+write s':>10}"
        f"{'peak MB':>9}  target"
    )
    for label, n, r, size, tv, tw, mb, t_max, mb_max, ok, err, warn, made, report in rows:
        print(
            f"{label:<24}{n:>13,}{r:>10,}{size:>8.1f}{tv:>12.1f}{tw:>10.1f}{mb:>9.0f}  "
            f"<= {t_max} s, <= {mb_max} MB: {'met' if ok else 'NOT MET'} ({err} errors, {warn} warnings"
            + (f", report {report:.1f} MB" if report else "")
            + f"; export made in {made:.0f} s)"
        )
    if not all(r[9] for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
