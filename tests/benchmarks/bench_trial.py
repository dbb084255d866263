"""Benchmark of the full trial at library level (issue 17): generate, validate, analyse.

    .venv/bin/python tests/benchmarks/bench_trial.py                      # n = 400 and 100,000, 50 sites
    .venv/bin/python tests/benchmarks/bench_trial.py --sizes 10000 --sites 20 --repeats 3

For each size it writes a copy of ``config/studies/full-trial.yaml`` whose dummy data are
recruited at ``--sites`` sites (data access groups ``site_01`` ...) over the same calendar,
then times four phases, each in a fresh Python process:

* generate: ``python -m feasibility.synth.dummy --study COPY --n N`` (the CLI, as a user
  runs it: the all-records export of the trial's REDCap project);
* validate: ``feasibility.redcap.validate`` of that export against the trial's dictionary,
  designations and rules, and ``write_validated`` (the tidy tables and codebook);
* analyse: ``feasibility.analysis`` on the validated data with the study file's analysis
  sections: every derived variable and score, every declared table (tidy cells and
  great-tables table) and the CONSORT counts;
* figures: the analysis dataset saved once (``Analysis.save``, as the analysis rule does),
  then every declared figure made as the figure rule makes it
  (``feasibility.figures.build.make_figure`` from the validated forms and the saved
  dataset: SVG, PNG, alternative text, caption and counts), each timed.

``--phases`` runs some phases only (generate and validate are needed by the others). The
figures phase computes the analysis once more to save it, so the total of all four phases
counts the analysis twice (conservative).

It prints the median seconds and the peak resident memory of each phase and of the
whole, and exits non-zero when the whole misses the target the issue sets for the full
build later (180 s and 4 GB at n = 100,000; the Snakemake wiring of phase B adds its
rules and rendering on top). Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "config" / "studies" / "full-trial.yaml"
TARGET = {"seconds": 180.0, "peak_mb": 4096.0}

PHASE = {
    "generate": textwrap.dedent("""
        import json, resource, sys, time
        from feasibility.synth.dummy import from_study
        t = time.perf_counter()
        path = from_study(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        print(json.dumps({"seconds": time.perf_counter() - t, "bytes": path.stat().st_size,
                          "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """),
    "validate": textwrap.dedent("""
        import json, resource, sys, time, yaml
        from pathlib import Path
        from feasibility.redcap import validate, write_validated
        study_path, folder = Path(sys.argv[1]), Path(sys.argv[4])
        study = yaml.safe_load(study_path.read_text())
        rc, base = study["redcap"], study_path.parent
        settings = dict(study["validation"], missing_data_codes=rc["missing_data_codes"],
                        repeating=rc["repeating"])
        t = time.perf_counter()
        result = validate(folder / "records.csv", dictionary=base / rc["dictionary"],
                          instrument_designations=base / rc["instrument_designations"],
                          events=base / rc["events"], settings=settings)
        assert result.ok, [f.message() for f in result.errors[:5]]
        write_validated(result, folder / "validated")
        print(json.dumps({"seconds": time.perf_counter() - t, "rows": len(result.records),
                          "failures": len(result.failures),
                          "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """),
    "analyse": textwrap.dedent("""
        import json, resource, sys, time, yaml
        from pathlib import Path
        from feasibility.analysis import Analysis, StudyData, build_table, load_spec
        from feasibility.analysis.flow import consort_flow
        study = yaml.safe_load(Path(sys.argv[1]).read_text())
        t = time.perf_counter()
        analysis = Analysis(StudyData.read(Path(sys.argv[4]) / "validated"), load_spec(study))
        analysis.compute_all()
        cells = sum(len(build_table(analysis, table).cells) for table in analysis.spec.tables)
        flow = consort_flow(analysis)
        print(json.dumps({"seconds": time.perf_counter() - t, "records": len(analysis.records),
                          "cells": cells, "randomised": flow.n("randomised"),
                          "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """),
    "figures": textwrap.dedent("""
        import json, resource, sys, time, yaml
        from pathlib import Path
        from feasibility.analysis import Analysis, StudyData, load_spec
        from feasibility.figures.build import make_figure
        study = yaml.safe_load(Path(sys.argv[1]).read_text())
        folder = Path(sys.argv[4])
        t = time.perf_counter()
        Analysis(StudyData.read(folder / "validated"), load_spec(study)).save(folder / "analysis")
        saved = time.perf_counter() - t
        each = {}
        for fid in study["figures"]:
            s = time.perf_counter()
            make_figure(study, fid, folder / "validated", folder / "analysis",
                        folder / "figures" / f"{fid}.svg")
            each[fid] = round(time.perf_counter() - s, 1)
        print(json.dumps({"seconds": time.perf_counter() - t, "analysis_saved": round(saved, 1),
                          "per_figure": each,
                          "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """),
}


def study_copy(sites: int, work: Path) -> Path:
    """The trial's study file with its paths made absolute and its dummy data recruited at
    ``sites`` sites (the same total rate as the shipped settings, spread evenly)."""
    study = yaml.safe_load(STUDY.read_text(encoding="utf-8"))
    for key in ("dictionary", "instrument_designations", "events"):
        study["redcap"][key] = str((STUDY.parent / study["redcap"][key]).resolve())
    study["redcap"]["records"] = str(work / "records.csv")
    dummy = study["dummy_data"]
    total = sum(s["rate"] for s in dummy["recruitment"]["sites"])
    dummy["recruitment"]["sites"] = [
        {"name": f"site_{i:02d}", "group_id": 100 + i, "rate": total / sites, "opens": (i % 4) * 0.5}
        for i in range(1, sites + 1)]
    # the sites' labels (the figures' panels, the baseline table's rows)
    study["derived"]["site"]["choices"] = [[f"site_{i:02d}", f"Site {i:02d}"]
                                           for i in range(1, sites + 1)]
    study["figures"]["recruitment"]["target"] = None        # the shipped trial's 240
    path = work / "full-trial.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False), encoding="utf-8")
    return path


def run(phase: str, study: Path, n: int, seed: int, folder: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", PHASE[phase], str(study), str(n), str(seed), str(folder)],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{phase} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[400, 100_000])
    ap.add_argument("--sites", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--phases", nargs="+", choices=list(PHASE), default=list(PHASE))
    args = ap.parse_args(argv)
    phases = [p for p in PHASE if p in args.phases or p in ("generate", "validate")]
    ok = True
    print(f"{'n':>9} {'phase':<9} {'seconds':>8} {'peak MB':>8}  detail")
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench_trial_") as tmp:
            work = Path(tmp)
            study = study_copy(args.sites, work)
            times: dict[str, list[float]] = {p: [] for p in phases}
            peaks: dict[str, float] = {p: 0.0 for p in phases}
            details: dict[str, dict] = {}
            for _ in range(args.repeats):
                for phase in phases:
                    t = time.perf_counter()
                    got = run(phase, study, n, args.seed, work)
                    times[phase].append(time.perf_counter() - t)      # with interpreter start
                    peaks[phase] = max(peaks[phase], got["peak_mb"])
                    details[phase] = got
            for phase in phases:
                detail = {k: v for k, v in details[phase].items() if k not in ("seconds", "peak_mb")}
                print(f"{n:>9,} {phase:<9} {statistics.median(times[phase]):>8.1f} "
                      f"{peaks[phase]:>8.0f}  {detail}")
            total = sum(statistics.median(v) for v in times.values())
            peak = max(peaks.values())
            print(f"{n:>9,} {'total':<9} {total:>8.1f} {peak:>8.0f}")
            if n >= 100_000 and (total > TARGET["seconds"] or peak > TARGET["peak_mb"]):
                print(f"  misses the target ({TARGET['seconds']:.0f} s, {TARGET['peak_mb']:.0f} MB)")
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
