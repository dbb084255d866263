"""Benchmark of the REDCap API pull (issue 27.7): 100,000 records from the stand-in of REDCap's API.

    .venv/bin/python tests/benchmarks/bench_pull.py                    # 100,000 records
    .venv/bin/python tests/benchmarks/bench_pull.py --records 10000 --batch-size 500

The stand-in (tests/redcap_server.py) runs in a process of its own, serving the trial's
project (config/studies/full-trial.yaml: 212 export columns, about six rows a record)
scaled to N records (the shipped records cycled under new IDs). The pull
(``feasibility.pull``, over real HTTP with PyCap) runs in a fresh process; the table shows
its wall time and the peak resident memory of the pulling process, with the size of the
records export written. Target: 100,000 records within 2 minutes on 2 cores, memory
bounded by a batch (batches are written as they arrive), not by the project.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from redcap_server import TOKEN  # noqa: E402

RUN = """
import json, resource, sys, time
from feasibility.config import load_study
from feasibility.pull import pull
t = time.perf_counter()
config = load_study(sys.argv[1], pulling=True)
result = pull(config, sys.argv[1])
wall = time.perf_counter() - t
info = json.loads((result.folder / "provenance.json").read_text())
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "records": info["records"], "rows": info["rows"], "columns": info["columns"],
                  "bytes": (result.folder / "records.csv").stat().st_size,
                  "requests": sum(c["requests"] for c in info["api_calls"])}))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--batch-size", type=int, default=1000)
    args = ap.parse_args(argv)
    import yaml

    source = ROOT / "config" / "studies" / "full-trial.yaml"
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "redcap_server.py"),
            "--study",
            str(source),
            "--scale",
            str(args.records),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        port = int(server.stdout.readline().split()[1])
        with tempfile.TemporaryDirectory(prefix="bench-pull-") as tmp:
            data = yaml.safe_load(source.read_text(encoding="utf-8"))
            data["redcap"] = {
                "api": {
                    "url": f"http://127.0.0.1:{port}/api/",
                    "token_env": "BENCH_REDCAP_TOKEN",
                    "batch_size": args.batch_size,
                }
            }
            data.pop("paths", None)
            study = Path(tmp) / "bench.yaml"
            study.write_text(yaml.safe_dump(data), encoding="utf-8")
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", RUN, str(study)],
                cwd=tmp,
                capture_output=True,
                text=True,
                env={**os.environ, "BENCH_REDCAP_TOKEN": TOKEN},
            )
            if out.returncode:
                print(out.stderr[-3000:], file=sys.stderr)
                return 1
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result["process_wall_s"] = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait()
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["server_cpu_s"] = children.ru_utime + children.ru_stime - result["cpu_s"]
    print(
        f"{'records':>9} {'rows':>9} {'columns':>7} {'MB':>7} {'requests':>8} {'pull s':>7} {'process s':>9} "
        f"{'peak RSS MB':>11} {'pull CPU s':>10} {'server CPU s':>12}"
    )
    print(
        f"{result['records']:>9,} {result['rows']:>9,} {result['columns']:>7} {result['bytes'] / 1e6:>7.1f} "
        f"{result['requests']:>8} {result['wall_s']:>7.1f} {result['process_wall_s']:>9.1f} "
        f"{result['peak_rss_mb']:>11.0f} {result['cpu_s']:>10.1f} {result['server_cpu_s']:>12.1f}"
    )
    print(f"load average while it ran: {os.getloadavg()[0]:.1f} (2 cores; wall times grow with other work)")
    ok = result["process_wall_s"] <= 120
    print("target (100,000 records within 2 minutes):", "met" if ok or args.records != 100_000 else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
