"""Benchmark of the whole workflow: wall time, peak memory and jobs run (issue 7).

    .venv/bin/python tests/benchmarks/benchmark.py                  # n = 31, 2,000, 10,000, 100,000
    .venv/bin/python tests/benchmarks/benchmark.py --sizes 31 2000  # a quicker look

For each cohort size it copies the project into a scratch folder (the shipped data for
n = 31, otherwise a schema-valid multi-site cohort from ``python -m feasibility.synth
--n N --sites S``) and times, ``--repeats`` times each (the table shows the median):

* cold: ``snakemake`` with no ``results/`` and no ``.snakemake/``;
* no-op: ``snakemake`` again, with nothing to do;
* incremental: ``snakemake`` after one answer in the 6-month questionnaire export changed.

Peak memory is the largest resident set of any one process of the run (Snakemake runs
the jobs in threads of its own process, so this bounds every job). Not part of the test
suite: it takes about half an hour with n = 100,000.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from projectcopy import SNAKEMAKE, copy_project  # noqa: E402  (the tests' own project copy)
import records_helpers as rh  # noqa: E402  (the tests' REDCap records helpers)


# Runs one command and prints its wall time and the peak RSS of its largest process.
MEASURE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "rss_kb": rss, "rc": p.returncode, "out": p.stdout + p.stderr}))
"""

# (size, scenario) -> (limit on the median wall time in seconds, limit on peak RSS in MB)
TARGETS = {
    (31, "cold"): (10, None),
    (31, "no-op"): (2.5, None),
    (10_000, "cold"): (30, 1024),
    (100_000, "cold"): (180, 4096),
}


def measure(cmd: list[str], cwd: Path) -> dict:
    res = subprocess.run([sys.executable, "-c", MEASURE, *cmd], cwd=cwd, capture_output=True, text=True)
    out = json.loads(res.stdout)
    if out["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{out['out'][-3000:]}")
    return out


def jobs_run(output: str) -> int:
    if "Nothing to be done" in output:
        return 0
    done = re.findall(r"(\d+) of (\d+) steps", output)
    return int(done[-1][1]) if done else 0


def rules_run(output: str) -> list[str]:
    return sorted({m for m in re.findall(r"^(?:local)?rule (\w+):$", output, re.MULTILINE)} - {"all"})


def change_one_answer(raw: Path, turn: int) -> None:
    """Set the first answered HADS item 1 at 6 months in the records export to a new value
    (turn by turn)."""
    header, body = rh.read_csv(raw / rh.RECORDS)
    event, item = header.index("redcap_event_name"), header.index("hads_1")
    row = next(r for r in body if r[event] == rh.EVENTS["month6"] and r[item] != "")
    row[item] = str((int(row[item]) + 1 + turn % 3) % 4)
    rh.write_csv(raw / rh.RECORDS, header, body)


def bench_size(n: int, sites: int, repeats: int, scratch: Path, log) -> list[dict]:
    (scratch / f"n{n}").mkdir()
    proj = copy_project(scratch / f"n{n}")
    rows = []
    if n != 31:
        shutil.rmtree(proj / "data" / "raw")
        t = time.perf_counter()
        gen = measure(
            [
                sys.executable,
                "-m",
                "feasibility.synth",
                "--n",
                str(n),
                "--sites",
                str(sites),
                "--out",
                "data/raw",
            ],
            proj,
        )
        log(f"n = {n:,}: generated in {time.perf_counter() - t:.1f} s")
        rows.append(
            {
                "n": n,
                "scenario": "generate",
                "walls": [gen["wall"]],
                "rss_mb": gen["rss_kb"] / 1024,
                "jobs": None,
                "rules": [],
            }
        )
    size_mb = sum(p.stat().st_size for p in (proj / "data" / "raw").glob("*.csv")) / 2**20
    # a generated cohort's calendar runs past the paper's export date (to 2025 at n = 100,000),
    # and its one records export past 100 MB: validated as exported later, with a higher limit
    later = [] if n == 31 else ["--config", "validation={export_date: '2026-01-01', max_file_mb: 2000}"]

    runs: dict[str, list[dict]] = {"cold": [], "no-op": [], "incremental": []}
    for r in range(repeats):
        shutil.rmtree(proj / "results", ignore_errors=True)
        shutil.rmtree(proj / ".snakemake", ignore_errors=True)
        runs["cold"].append(measure([SNAKEMAKE, *later], proj))
        runs["no-op"].append(measure([SNAKEMAKE, *later], proj))
        change_one_answer(proj / "data" / "raw", r)
        runs["incremental"].append(measure([SNAKEMAKE, *later], proj))
        log(
            f"n = {n:,}: repeat {r + 1}/{repeats}: "
            + ", ".join(f"{k} {v[-1]['wall']:.1f} s" for k, v in runs.items())
        )
    for scenario, results in runs.items():
        rows.append(
            {
                "n": n,
                "scenario": scenario,
                "walls": [x["wall"] for x in results],
                "rss_mb": max(x["rss_kb"] for x in results) / 1024,
                "jobs": jobs_run(results[-1]["out"]),
                "rules": rules_run(results[-1]["out"]),
                "raw_mb": size_mb,
            }
        )
    return rows


def verdict(row: dict, cold: dict[int, float]) -> str:
    median = statistics.median(row["walls"])
    checks = []
    limit = TARGETS.get((row["n"], row["scenario"]))
    if limit:
        wall, rss = limit
        checks.append(f"≤ {wall:g} s {'ok' if median <= wall else 'MISSED'}")
        if rss:
            checks.append(f"≤ {rss} MB {'ok' if row['rss_mb'] <= rss else 'MISSED'}")
    if row["scenario"] == "incremental" and row["n"] in cold:
        ratio = median / cold[row["n"]]
        checks.append(f"{ratio:.0%} of cold {'ok' if ratio <= 0.5 else 'MISSED'}")
    return "; ".join(checks)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[31, 2_000, 10_000, 100_000])
    ap.add_argument("--sites", type=int, default=12, help="sites of the generated cohorts")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    scratch = args.keep or Path(tempfile.mkdtemp(prefix="feasibility-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for n in args.sizes:
            rows += bench_size(n, args.sites, args.repeats, scratch, log)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    cold = {r["n"]: statistics.median(r["walls"]) for r in rows if r["scenario"] == "cold"}
    print(f"\nWorkflow benchmark: median of {args.repeats} runs; {args.sites} sites in generated cohorts\n")
    print("| n | scenario | median s | min–max s | peak RSS MB | jobs | target |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for r in rows:
        walls = r["walls"]
        print(
            f"| {r['n']:,} | {r['scenario']} | {statistics.median(walls):.2f} | "
            f"{min(walls):.2f}–{max(walls):.2f} | {r['rss_mb']:.0f} | "
            f"{'' if r['jobs'] is None else r['jobs']} | {verdict(r, cold)} |"
        )
    if 10_000 in cold and 100_000 in cold:
        ratio = cold[100_000] / cold[10_000]
        print(
            f"\nCold build 100,000 / 10,000: {ratio:.1f}× (target ≤ 12×: {'ok' if ratio <= 12 else 'MISSED'})"
        )
    for r in rows:
        if r["scenario"] == "incremental":
            print(f"Incremental rebuild at n = {r['n']:,} reran: {', '.join(r['rules'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
