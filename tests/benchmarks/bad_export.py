"""Benchmark: validating a large export full of bad cells (issue 12.6).

Generates a cohort with the scaled generator, breaks two cells of every row of
questionnaires_baseline.csv (one not a number, one an unknown code), and runs
`snakemake validate` on a copy of the project. Prints the wall time and peak memory of
the run, the bytes printed on the console, the bytes of the validation report files,
and the time of the large export's own validation job. Not part of the tests.

    .venv/bin/python tests/benchmarks/bad_export.py [--n 340000] [--keep DIR]

With --n 340000 the export is about 50 MB (680,000 failing cells).
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=340_000, help="participants (340000: a 50 MB export)")
    ap.add_argument("--keep", type=Path, help="build here and keep it (default: a temporary folder)")
    ap.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="passed to snakemake --config, e.g. 'validation={max_file_mb: 40}'",
    )
    args = ap.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="bad_export_"))
    proj = base / "proj"
    if proj.exists():
        shutil.rmtree(proj)
    proj.mkdir(parents=True)
    for name in ("Snakefile", "config", "profiles", "workflow", "schemas", "report"):
        src = ROOT / name
        (shutil.copytree(src, proj / name) if src.is_dir() else shutil.copy2(src, proj / name))
    raw = proj / "data" / "raw"
    subprocess.run(
        [sys.executable, "-m", "feasibility.synth", "--n", str(args.n), "--sites", "12", "--out", str(raw)],
        check=True,
        cwd=proj,
    )
    path = raw / "questionnaires_baseline.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["hads_1"], df["hads_2"] = "x", "9"
    df.to_csv(path, index=False, lineterminator="\n")
    print(
        f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, {len(df):,} rows, {2 * len(df):,} bad cells",
        file=sys.stderr,
    )
    cmd = [SNAKEMAKE, "validate"] + (["--config", *args.config] if args.config else [])
    start = time.perf_counter()
    res = subprocess.run(cmd, cwd=proj, capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = res.stdout + res.stderr
    reports = sum(
        p.stat().st_size for p in (proj / "results" / "feasibility" / "validation").rglob("*") if p.is_file()
    )
    job = re.search(r"\[validate questionnaires_baseline\.csv\][^\n]* in ([0-9.]+) s", out)
    print(
        f"exit {res.returncode}; wall {wall:.1f} s; peak memory {peak:,.0f} MB; console "
        f"{len(out.encode()):,} bytes; validation reports {reports / 1e6:,.1f} MB; "
        f"questionnaires_baseline job {job[1] if job else '-'} s"
    )
    if not args.keep:
        shutil.rmtree(base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
