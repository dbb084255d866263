"""Benchmark of the data-quality report (issue 16.3) on a large REDCap project.

    .venv/bin/python tests/benchmarks/bench_quality.py                     # 100,000 participants
    .venv/bin/python tests/benchmarks/bench_quality.py --participants 20000

The export is the REDCap library's benchmark project (``bench_redcap.py``: 3 events, a
repeating adverse-event log, dates, codes, a checkbox, missing-data codes, branching logic,
identifiers; about 3.3 rows per participant), with a data access group column added (five
groups of four sites). Steps, each timed, in a fresh process with its peak memory:

1. validate + ``write_validated`` + ``write_report`` (the REDCap library; for reference);
2. the quality report's outputs from ``results/<id>/validated``: every table (HTML + CSV), the
   figures, the query list (CSV and workbook, issue 24), the includes (``build_quality_report``
   without rendering);
3. rendering ``quality.qmd`` with pandoc and Typst (HTML and PDF).

Target (issue 24.9, with the query list and its workbook): steps 2 + 3 within 2 minutes and 4 GB
at n = 100,000 (issue 16.3's first target, without them, was 60 s and 2 GB). Measured on 2 shared
cores: 61 s and 634 MB, 90,820 queries. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "workflow"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_redcap import CODES, EVENTS, project, write  # noqa: E402

# The peak resident memory of this process since it started (VmHWM: getrusage's maxrss would
# count the benchmark's own memory, which a child inherits across fork and exec).
PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

VALIDATE = (
    PEAK
    + """
import json, sys, time
sys.path.insert(0, sys.argv[1])
t = time.perf_counter()
from feasibility.redcap import validate, write_validated, write_report
r = validate(sys.argv[2], dictionary=sys.argv[3], instrument_designations=sys.argv[4],
             settings={"missing_data_codes": sys.argv[5], "limits": {"max_file_mb": 2048},
                       "repeating": {"instruments": [{"form": "adverse_event", "event": e}
                                                     for e in sys.argv[6].split(",")]}})
write_validated(r, sys.argv[7] + "/validated")
write_report(r, sys.argv[7] + "/report.json")
print(json.dumps({"wall": time.perf_counter() - t, "ok": r.ok, "errors": len(r.errors), "warnings": len(r.warnings),
                  "rss_mb": peak_mb()}))
"""
)

QUALITY = (
    PEAK
    + """
import json, sys, time
sys.path.insert(0, sys.argv[1])
t = time.perf_counter()
from feasibility.quality import QualityData, build_quality_report, load_settings
from feasibility.render import render_report
from feasibility.quality.report import DOCUMENT, source_date_epoch
t_import = time.perf_counter() - t
out = sys.argv[2]
data = QualityData.read(out + "/validated", out + "/report.json")
settings = load_settings({"study": {"title": "Benchmark"},
                          "quality": {"recruitment": {"date_field": "con_date", "source_field": "site"}}})
t_read = time.perf_counter() - t - t_import
files = build_quality_report(data, settings, out + "/report", report_src=sys.argv[3])
t_outputs = time.perf_counter() - t - t_import - t_read
queries = json.load(open(out + "/report/queries/queries.json"))["open"]      # the query list's rows (issue 24)
t1 = time.perf_counter()
render_report(files["build"], out + "/report", backend="pandoc", document=DOCUMENT,
              source_date_epoch=source_date_epoch(data))
t_render = time.perf_counter() - t1
from pathlib import Path
pdf = Path(out + "/report/quality.pdf")
print(json.dumps({"import": t_import, "read": t_read, "outputs": t_outputs, "render": t_render, "wall": time.perf_counter() - t,
                  "rss_mb": peak_mb(),
                  "pdf_mb": pdf.stat().st_size / (1 << 20), "rows": len(data.rows), "queries": queries}))
"""
)


def write_export(n: int, folder: Path) -> dict[str, Path]:
    """The REDCap benchmark project's export of ``n`` participants, with a data access group
    column (REDCap writes it after the repeat columns): five groups of four sites."""
    import pandas as pd

    paths = write(project(), n, folder)
    df = pd.read_csv(paths["records"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    site = df.loc[df["site"] != "", ["participant_id", "site"]].drop_duplicates("participant_id")
    dag = site.set_index("participant_id")["site"].astype(int).map(lambda s: f"group_{(s - 1) // 4 + 1}")
    at = list(df.columns).index("redcap_repeat_instance") + 1
    df.insert(at, "redcap_data_access_group", df["participant_id"].map(dag).fillna(""))
    with open(paths["records"], "w", encoding="utf-8-sig", newline="") as fh:
        df.to_csv(fh, index=False, lineterminator="\r\n")
    return paths


def run(code: str, *args: str) -> dict:
    res = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "workflow"), *args], capture_output=True, text=True
    )
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="keep the export and the report in this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        t = time.perf_counter()
        paths = write_export(args.participants, folder / "export")
        made = time.perf_counter() - t
        size_mb = paths["records"].stat().st_size / (1 << 20)
        v = run(
            VALIDATE,
            str(paths["records"]),
            str(paths["dictionary"]),
            str(paths["designations"]),
            CODES,
            ",".join(EVENTS[1:]),
            str(folder),
        )
        if not v["ok"]:
            raise SystemExit(f"the benchmark export did not validate: {v}")
        q = run(QUALITY, str(folder), str(ROOT / "report"))
    quality = q["wall"]
    print(f"participants            {args.participants:>10,}   form rows {q['rows']:,}")
    print(f"export written          {made:10.1f} s   {size_mb:.0f} MB")
    print(f"validate (REDCap lib)   {v['wall']:10.1f} s   {v['rss_mb']:8.0f} MB peak")
    print(f"quality: imports        {q['import']:10.1f} s   (pandas, pyarrow, matplotlib, great-tables)")
    print(f"quality: read           {q['read']:10.1f} s   (results/<id>/validated and report.json)")
    print(
        f"quality: outputs        {q['outputs']:10.1f} s   (tables, figures, {q['queries']:,} queries: CSV and "
        "workbook, includes)"
    )
    print(
        f"quality: render         {q['render']:10.1f} s   (pandoc + Typst, HTML and PDF; PDF {q['pdf_mb']:.1f} MB)"
    )
    print(
        f"quality: total          {quality:10.1f} s   {q['rss_mb']:8.0f} MB peak   target 120 s, 4096 MB: "
        f"{'met' if quality <= 120 and q['rss_mb'] <= 4096 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
