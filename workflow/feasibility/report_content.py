"""Markdown includes for the report (``_generated/*.md`` of a build copy of ``report/``).

Every number here comes from a pipeline output; no participant identifier, date of
birth, exact date or free text is written (dates appear at month precision).
"""
from __future__ import annotations

import json
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd

from .config import small_cell_threshold
from .io import read_parquet, write_text
from .reproduction import SUPPRESSED
from .tables.common import frame_gt, html_fragment
from .typeset import html_table_to_typst

KEY_PACKAGES = ["snakemake", "pandas", "pandera", "great-tables", "matplotlib", "numpy", "scipy",
                "pypandoc-binary", "typst", "pyarrow", "PyYAML"]


def table_block(html: str) -> str:
    """A great-tables table for the report: its HTML for the HTML formats, and the same
    table typeset in Typst for the PDF (``feasibility.typeset``), so that both back ends
    print the same PDF table. Quarto is told, in the HTML, not to convert it itself."""
    html = html.strip()
    return ("```{=html}\n" + html + "\n```\n\n"
            "```{=typst}\n" + html_table_to_typst(html) + "\n```\n")


def html_block(path: str | Path) -> str:
    """The table written by a table rule (``results/tables/<id>.html``) for the report."""
    return table_block(Path(path).read_text(encoding="utf-8"))


def md_table(df: pd.DataFrame, *, label: str | None = None, title: str = "",
             table_id: str | None = None) -> str:
    """A data frame as a table of the report, typeset like the others (great-tables HTML and
    its Typst): long tables break across pages with their header repeated, and columns
    take the width their content needs. ``label`` ("Table A1") and ``title`` make its caption."""
    return table_block(html_fragment(frame_gt(df, title=title, label=label, table_id=table_id)))


# Figure captions: the paper's for its Figures 1 and 2; figures it lacks take the next numbers.
FIGURE_CAPTIONS = {
    "consort": ("Figure 1", "Consort diagram. The diagram shows the flow of participants through the study"),
    "timeline": ("Figure 2", "Recruitment, work preparation, and placement completion. The figure shows "
                             "recruitment, rates of work preparation, and work placement completion by time"),
    "completeness": ("Figure 3", "Follow-up completeness by time point and form"),
}


def figure(build: Path, svg: str, caption: str | tuple[str, str]) -> str:
    """A figure of the report: the SVG copied into the build, its caption ("**Figure 1** …",
    or a caption given whole) and its alternative text. The SVG is drawn at the size it
    is printed (``figures.common.TEXT_WIDTH_IN``), so it is placed at its own size."""
    if isinstance(caption, tuple):
        caption = f"**{caption[0]}** {caption[1]}"
    dest = build / "figures" / Path(svg).name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, dest)
    alt = Path(svg).with_suffix("").with_suffix(".alt.txt")
    alt_text = alt.read_text(encoding="utf-8").strip().replace('"', "'") if alt.exists() else caption
    return f'![{caption}](figures/{dest.name}){{fig-alt="{alt_text}"}}\n'


def methods(config: dict) -> str:
    sc = config["scoring"]
    rules = md_table(pd.DataFrame(
        [(k.replace('_', ' '), v['max_missing'],
          'mean of the answered items of the subscale' if v['method'] == 'mean_of_answered' else 'none')
         for k, v in sc["missing_items"].items()],
        columns=["subscale", "missing items imputed", "imputation"]),
        label="Table 9", title="Missing items imputed, by subscale")
    eq = sc["eq5d_index"]
    assumptions = "\n".join(f"- **{k.replace('_', ' ')}**: {v}" for k, v in sc["assumptions"].items())
    return f"""Time points: baseline, 6 weeks, 14 weeks and 6 months after the start date.
{config['study']['start_date_definition']}

Instruments were scored from item-level answers: EQ-5D-5L (profile, visual analogue
scale, index), HADS anxiety and depression (0–21 each), WEMWBS (14–70), PROMIS
Fatigue 8a and Pain Interference 8a (raw sums, 8–40), four 0–10 numerical rating
scales, PAW job satisfaction, social support and mental stress, the WRFQ (0–100),
return-to-work self-efficacy (2–10) and three five-point verbal items.

**Missing items.** Up to the number of missing items shown, the subscale's missing
items are imputed by the mean of its answered items; with more missing, the score
is missing. The WRFQ is not scored when "does not apply to my job" is ticked for
more than {sc['wrfq_max_not_applicable_fraction']:.0%} of its items.

{rules}

**EQ-5D index.** Method used: {eq['method'].replace('_', ' ')} ({eq.get('value_set') or eq.get('mapping_table')}).
The paper: {eq['paper_method']}. That mapping is published only as lookup tables,
which this project does not ship; a user who holds them can name one in
`scoring.eq5d_index.mapping_table`. Index values here are therefore not
comparable one-to-one with the paper's.

**Assumptions** (facts that public instrument documentation does not confirm):

{assumptions}

**Statistics.** Categorical data as n (%), of all participants unless stated;
continuous data as mean (SD) or median (IQR) with Stata's centile definition
(`summarize, detail`). Change from baseline is the mean of paired differences on
complete pairs, with a 95% confidence interval from the t distribution.
Proportions in the feasibility metrics carry Wilson 95% intervals. Follow-up
response rates exclude participants who dropped out (excluded, withdrew,
disengaged, died, or could not be placed for language or learning reasons).

{small_cell_rule(config)}
"""


def small_cell_rule(config: dict) -> str:
    """The methods line for the small-cell rule (``disclosure.small_cell_threshold``)."""
    k = small_cell_threshold(config)
    if not k:
        return ("**Small cells.** No small-cell rule was applied (`disclosure.small_cell_threshold` "
                "is not set): counts of 1 and more are printed, as in the paper.")
    return (f"**Small cells.** In Tables 2–5 and the feasibility metrics, counts of 1 to {k - 1} "
            f"people or events are shown as <{k}, and the percentages, intervals and rates derived "
            f"from them are withheld (`disclosure.small_cell_threshold` = {k}). Zero counts, "
            "denominators and summaries of continuous measures are shown, and no complementary "
            "suppression is applied. The participant-flow diagram (Figure 1), the other figures "
            "and the text print exact counts.")


def _counts(p: pd.DataFrame) -> dict:
    return {"n": len(p), "wp": int(p["attended_work_preparation"].sum()),
            "placed": int(p["placed"].sum()),
            "completed": int(p["completed_placement"].fillna(False).sum())}


def write_generated(config: dict, inputs: dict, build: Path) -> None:
    g = build / "_generated"
    g.mkdir(parents=True, exist_ok=True)
    p = read_parquet(inputs["participants"])
    c = _counts(p)
    write_text(g / "methods.md", methods(config))
    months = p["consent_date"].dt.to_period("M")
    write_text(g / "recruitment.md",
               f"{c['n']} participants were recruited between {months.min().strftime('%B %Y')} and "
               f"{months.max().strftime('%B %Y')}; {c['wp']} attended work preparation, {c['placed']} were "
               f"matched to and attended a placement, and {c['completed']} completed all six weeks.\n")
    write_text(g / "figure1.md", figure(build, inputs["consort"], FIGURE_CAPTIONS["consort"]))
    write_text(g / "figure2.md", figure(build, inputs["timeline"], FIGURE_CAPTIONS["timeline"]))
    write_text(g / "completeness.md", figure(build, inputs["completeness"],
                                             FIGURE_CAPTIONS["completeness"]))
    for t in ("table2", "table3", "table4", "table5", "feasibility_metrics"):
        write_text(g / f"{t}.md", html_block(inputs[t]))
    pl = p[p["placed"]]
    write_text(g / "delivery.md",
               f"Placements: {len(pl)} participants; mean total hours {pl['placement_hours'].mean():.1f} "
               f"(SD {pl['placement_hours'].std():.1f}) over {pl['placement_weeks'].mean():.1f} weeks "
               f"(SD {pl['placement_weeks'].std():.1f}); hours per week from {pl['hours_per_week'].min():.1f} "
               f"to {pl['hours_per_week'].max():.1f}. Case management took {p['cm_hours'].sum():.1f} hours "
               f"in all ({p.loc[p['placed'], 'cm_hours'].sum():.2f} hours for those placed).\n")
    write_text(g / "safety.md",
               f"Adverse events: {int(p['adverse_events'].sum())}; serious adverse events: "
               f"{int(p['serious_adverse_events'].sum())}; referrals to existing healthcare: "
               f"{int(p['healthcare_referrals'].sum())}.\n")
    comp = pd.read_csv(inputs["comparison"], dtype=str, keep_default_na=False)
    counts = comp["status"].value_counts()
    first = ("Of {} published values, {} match at the paper's printed precision, {} are published values "
             "the audit shows to be inconsistent, {} do not match, and {} are context the data do not "
             "hold.").format(len(comp), counts.get("match", 0), counts.get("published value inconsistent", 0),
                             counts.get("mismatch", 0), counts.get("not a data value", 0))
    if counts.get(SUPPRESSED, 0):
        first += f" {counts[SUPPRESSED]} are withheld by the small-cell rule and not compared."
    shown = comp[["key", "published", "reproduced", "status"]]
    write_text(g / "appendix_reproduction.md", first + "\n\n" + md_table(
        shown, label="Table A1", title="Each published value and its reproduction"))
    audit = pd.read_csv(inputs["audit"], dtype=str, keep_default_na=False)
    inc = audit[audit["verdict"] == "inconsistent"]
    write_text(g / "appendix_audit.md",
               f"{len(audit)} checks of the published numbers; {len(inc)} find an inconsistency.\n\n"
               + md_table(inc[["key", "check", "arithmetic"]], label="Table B1",
                          title="Published values the audit finds inconsistent")
               + "\n\nAll checks:\n\n"
               + md_table(audit[["key", "check", "verdict"]], label="Table B2", title="All checks"))
    val = json.loads(Path(inputs["validation"]).read_text())
    ex = pd.DataFrame(val["exports"])[["file", "records", "status"]]
    imp = pd.read_csv(inputs["imputation"])
    write_text(g / "appendix_validation.md",
               f"{len(ex)} exports validated; {val['n_failures']} failures.\n\n"
               + md_table(ex, label="Table C1", title="Exports validated")
               + "\n\nImputed and dropped scores (missing-data rules):\n\n"
               + (md_table(imp, label="Table C2", title="Imputed and dropped scores") if len(imp) else "None.\n"))
    write_text(g / "appendix_provenance.md", provenance(config, inputs))


def provenance(config: dict, inputs: dict) -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown (not a git checkout)", False
    val = json.loads(Path(inputs["validation"]).read_text())
    rows = [(e["file"], e.get("sha256", "")) for e in val["exports"]]
    versions = []
    for pkg in KEY_PACKAGES:
        try:
            versions.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            pass
    import pypandoc
    versions.append(("pandoc", pypandoc.get_pandoc_version()))
    return (f"Code version: git commit `{commit}`{' (working tree had uncommitted changes)' if dirty else ''}.\n\n"
            f"Python {platform.python_version()}. Synthetic-data seed: {config['synthetic']['seed']}.\n\n"
            + md_table(pd.DataFrame(rows, columns=["raw export", "SHA-256"]), label="Table D1",
                       title="Raw exports") + "\n"
            + md_table(pd.DataFrame(versions, columns=["package", "version"]), label="Table D2",
                       title="Software versions"))
