"""Benchmark of pathological input shapes: each validated, or refused, within a minute and 2 GB (issue 20.5).

    .venv/bin/python tests/benchmarks/bench_shapes.py               # 50 MB each
    .venv/bin/python tests/benchmarks/bench_shapes.py --mb 10       # a quicker look

Three files of about ``--mb`` MB (the default 50, within the default ``validation.max_file_mb``
of 100), each beside the paper's shipped REDCap downloads (data/raw):

* entity-heavy XML: the shipped project XML with one field label of entity references
  (``&amp;&lt;…``, about 10 million for 50 MB); expat hands each one over as its own
  chunk of text. Validated against the shipped records export; target: read in linear
  time, under 60 s and 2 GB (it was quadratic: 15 MB took 185 s);
* a million columns: a records export whose header has a million cells (50-byte names)
  and one row; target: refused at once, naming the count (it took 254 s and 11.6 GB for
  10 MB);
* a million short lines: a records export of the shipped header and a million rows of a
  few cells each (every one ragged); target: under 60 s and 2 GB, the first 1,000 ragged
  rows listed and the rest counted.

Each run is ``feasibility.redcap.validate`` (and the validation report) in a fresh process;
the table shows wall time, peak resident memory, the outcome and the first failure. Not
part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "raw"
TARGET_SECONDS, TARGET_MB = 60, 2048

RUN = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
t = time.perf_counter()
from feasibility.redcap import validate, write_report
from pathlib import Path
kind, folder = sys.argv[2], Path(sys.argv[3])
meta = ({"project_xml": folder / "project.xml"} if kind == "xml" else
        {"dictionary": folder / "data_dictionary.csv", "instrument_designations": folder / "instrument_designations.csv",
         "events": folder / "events.csv"})
r = validate(folder / "records.csv", settings={"repeating": {"instruments": [
    {"form": "cm_contact", "event": "intervention_arm_1"}, {"form": "status_change", "event": "intervention_arm_1"},
    {"form": "adverse_event", "event": "intervention_arm_1"}]}}, **meta)
write_report(r, folder / "report.json", folder / "report.md")
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall, "rss_mb": rss, "ok": r.ok, "errors": len(r.errors),
                  "fields": len(r.project.fields) if r.project else 0,
                  "first": r.errors[0].message()[:160] if r.errors else "",
                  "report_kb": (folder / "report.json").stat().st_size / 1024}))
"""


def entity_xml(folder: Path, size: int) -> str:
    text = (RAW / "project.xml").read_text(encoding="utf-8")
    anchor = "<TranslatedText>"
    assert anchor in text
    n = max(0, size - len(text)) // len("&amp;&lt;")
    (folder / "project.xml").write_text(text.replace(anchor, anchor + "&amp;&lt;" * n, 1), encoding="utf-8")
    return f"project XML, one label of {2 * n:,} entity references"


def million_columns(folder: Path, size: int) -> str:
    n = 1_000_000
    width = max(8, size // n - 1)
    header = ["record_id"] + [f"c{i:0{width - 1}d}" for i in range(n)]
    with open(folder / "records.csv", "w", encoding="utf-8") as fh:
        fh.write(",".join(header) + "\n")
        fh.write("S001" + "," * n + "\n")
    return f"records export, a header of {n + 1:,} columns"


def short_lines(folder: Path, size: int) -> str:
    header = (RAW / "records.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    line = "S001,screening_arm_1,,,2017-09-04,1\n"
    n = max(1, (size - len(header)) // len(line))
    with open(folder / "records.csv", "w", encoding="utf-8") as fh:
        fh.write(header + "\n")
        fh.write(line * n)
    return f"records export, {n:,} short lines"


SHAPES = {
    "entity-heavy XML": ("xml", entity_xml),
    "a million columns": ("csv", million_columns),
    "a million short lines": ("csv", short_lines),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=50, help="size of each file in MB (default 50)")
    args = parser.parse_args(argv)
    size = int(args.mb * 1e6)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (kind, make) in SHAPES.items():
            folder = Path(tmp) / name.replace(" ", "_")
            shutil.copytree(RAW, folder)
            what = make(folder, size)
            mb = max(p.stat().st_size for p in folder.iterdir()) / 1e6
            res = subprocess.run(
                [sys.executable, "-c", RUN, str(ROOT / "workflow"), kind, str(folder)],
                capture_output=True,
                text=True,
            )
            if res.returncode != 0:
                raise SystemExit(f"{name}: the run crashed:\n{res.stderr[-3000:]}")
            out = json.loads(res.stdout.strip().splitlines()[-1])
            within = out["wall"] <= TARGET_SECONDS and out["rss_mb"] <= TARGET_MB
            rows.append((name, what, mb, out, within))
            print(
                f"{name:22} {mb:6.1f} MB  {out['wall']:6.1f} s  {out['rss_mb']:7.0f} MB  "
                f"{'passed' if out['ok'] else str(out['errors']) + ' error(s)':>12}  "
                f"report {out['report_kb']:.0f} kB  {'within' if within else 'OVER'} the target",
                flush=True,
            )
            print(f"{'':22} {what}; first: {out['first']}", flush=True)
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
