"""Benchmark of the declarative analysis library at n = 100,000 (issue 16).

    .venv/bin/python tests/benchmarks/bench_analysis.py                 # n = 31 and 100,000
    .venv/bin/python tests/benchmarks/bench_analysis.py --sizes 31 10000 --repeats 3

For each size it makes the validated data (n = 31: the shipped REDCap downloads; larger:
``python -m feasibility.synth --n N --sites S``), validated as rule validate does, untimed
(``tests/paperdata.py``), then times, in a fresh Python process each repeat, what the
library does with the paper's study file (``config/config.yaml``):

* read: the tidy tables and codebook;
* derive + score: every derived variable and every instrument at every time point;
* tables: Tables 2-5 and the feasibility metrics (tidy cells and great-tables table).

It prints the median of each phase and the peak resident memory, and exits non-zero when
the median total misses the target (60 s at n = 100,000). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
STUDY = ROOT / "config" / "config.yaml"
TARGET_SECONDS = {100_000: 60.0}


def measure(folder: Path) -> dict:
    """One run in this process: seconds per phase and peak memory."""
    t0 = time.perf_counter()
    from feasibility.analysis import Analysis, StudyData, load_spec
    from feasibility.tables.registry import build_table
    from feasibility.config import load_study

    imported = time.perf_counter()
    study = StudyData.read(folder)
    spec = load_spec(load_study(STUDY))
    analysis = Analysis(study, spec)
    read = time.perf_counter()
    analysis.score_all()
    for name in spec.derived:
        analysis.variable(name)
    derived = time.perf_counter()
    cells = 0
    for table in spec.tables:
        cells += len(build_table(analysis, table).cells)
    done = time.perf_counter()
    return {
        "records": len(analysis.records),
        "cells": cells,
        "import": imported - t0,
        "read": read - imported,
        "derive_score": derived - read,
        "tables": done - derived,
        "total": done - imported,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def validated(size: int, sites: int, work: Path) -> Path:
    import paperdata

    if size == 31:
        return paperdata.write_validated(work / "validated")
    raw = work / "raw"
    t = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "feasibility.synth",
            "--n",
            str(size),
            "--sites",
            str(sites),
            "--out",
            str(raw),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    print(
        f"  n = {size:,}: cohort generated in {time.perf_counter() - t:.0f} s; validating ...",
        file=sys.stderr,
        flush=True,
    )
    t = time.perf_counter()
    # the scaled cohort's dates run past the paper's export date (validation.export_date)
    out = paperdata.write_validated(work / "validated", raw, export_date=None)
    print(f"  n = {size:,}: validated in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[31, 100_000])
    ap.add_argument("--sites", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--validated", type=Path, help="a folder of validated data already made (one size)")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    rows, failed = [], False
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-analysis-") as tmp:
            folder = args.validated or validated(size, args.sites, Path(tmp))
            runs = []
            for _ in range(args.repeats):
                res = subprocess.run(
                    [sys.executable, __file__, "--measure", str(folder)],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                if res.returncode != 0:
                    raise SystemExit(res.stderr[-3000:])
                runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            target = TARGET_SECONDS.get(size)
            ok = target is None or med["total"] <= target
            failed |= not ok
            rows.append((size, med, target, ok))
        if args.validated:
            break
    print(
        f"{'n':>9} {'records':>9} {'cells':>6} {'read':>7} {'derive+score':>13} "
        f"{'tables':>7} {'total':>7} {'peak MB':>8}  target"
    )
    for size, m, target, ok in rows:
        print(
            f"{size:>9,} {int(m['records']):>9,} {int(m['cells']):>6} {m['read']:>6.1f}s "
            f"{m['derive_score']:>12.1f}s {m['tables']:>6.1f}s {m['total']:>6.1f}s "
            f"{m['peak_mb']:>8.0f}  "
            + ("-" if target is None else f"{'ok' if ok else 'MISSED'} (<= {target:.0f} s)")
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
