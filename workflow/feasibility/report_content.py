"""Markdown includes for the report (``_generated/*.md`` of a build copy of ``report/``).

Every number here comes from a pipeline output: the narrative sections are templates
of the study file (``report.narrative``) whose placeholders name values of
``values.json`` (``feasibility.narrative``); no number is typed into the text. No
participant identifier, date of birth, exact date or free text is written (dates
appear at month precision). When the data folder holds a generator's provenance file
(``feasibility.provenance``) the report says on its first page, in its figure captions
and in every table's source note that the data are synthetic and not the study's.
Configuration identifiers appear only in the settings table of Appendix D.
"""
from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd

from . import eq5d_method
from .config import small_cell_threshold
from .io import write_text
from .narrative import render_all
from .paper import location
from .provenance import Provenance, is_synthetic, read_provenance
from .reproduction import DIFFERS, INCONSISTENT, MATCH, NOT_DATA, OTHER_METHOD, SUPPRESSED
from .tables.common import frame_gt, html_fragment
from .typeset import html_table_to_typst
from .values import load_values

KEY_PACKAGES = ["snakemake", "pandas", "pandera", "great-tables", "matplotlib", "numpy", "scipy",
                "pypandoc-binary", "typst", "pyarrow", "PyYAML"]
NARRATIVE = ("recruitment", "follow_up", "delivery", "employment", "safety")
SUBSCALES = {"hads_anxiety": "HADS anxiety", "hads_depression": "HADS depression",
             "promis_fatigue": "PROMIS Fatigue 8a", "promis_pain_interference":
             "PROMIS Pain Interference 8a", "paw_job_satisfaction": "PAW job satisfaction",
             "paw_social_support": "PAW social support", "paw_mental_stress": "PAW mental stress",
             "wemwbs": "WEMWBS", "rtw_self_efficacy": "Return-to-work self-efficacy"}
ASSUMPTIONS = {"wemwbs_missing_rule": "WEMWBS missing items",
               "wrfq_scoring": "WRFQ scoring", "paw_subscales": "PAW subscales",
               "rtw_self_efficacy": "Return-to-work self-efficacy",
               "promis_pain_interference_form": "PROMIS pain interference form"}
SYNTHETIC_SUBTITLE = ("Reproduction of a single-arm feasibility study's published results "
                      "from synthetic data, not the study's data")


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
    "completeness": ("Figure 3", "Follow-up completeness by time point and form. Denominators as in the "
                     "tables: the health questionnaire and the employment form are expected from "
                     "everyone who had not dropped out (the response rates, and Table 5, count "
                     "every responder); the work questionnaire at 6 weeks from those placed "
                     "(Table 4), and at 14 weeks and 6 months only from those who had an "
                     "accepted job offer, so it is not applicable to anyone else (hatched cells, "
                     "with the reason); the employment form is not collected at 6 weeks"),
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


# ----------------------------------------------------------------------------- data statement
def data_statement(prov: Provenance | None, changed: list[str] | None = None) -> str:
    """The first-page statement (``banner.md``): empty for real exports.

    A boxed note in both formats: a styled ``div`` in HTML; in Typst the same div inside
    a ``#block`` opened and closed by raw Typst (which HTML drops).
    """
    if not is_synthetic(prov):
        return ""
    lines = ["**Synthetic data — not the study's data.** " + (prov.statement or
             "These data were made by a generator, not collected from participants.")]
    cal = prov.calibrated_to or {}
    if cal.get("publication"):
        lines.append(f"They were made to reproduce the published aggregates of the paper "
                     f"({cal['publication']}): where the report and the paper agree, that "
                     "shows the pipeline reproduces the paper's analysis, not that the data "
                     "are real.")
    if prov.invented:
        lines.append("Invented by the generator (the paper does not publish them): "
                     + "; ".join(prov.invented) + ".")
    if changed:
        lines.append(f"**{len(changed)} file(s) were changed after the generator wrote them** "
                     f"({', '.join(changed)}): the results below are of the changed data.")
    style = ("border: 2px solid #9a4a00; background: #fff4e6; padding: 0.6em 1em; "
             "margin: 1em 0; border-radius: 4px;")
    return ("```{=typst}\n#block(stroke: 1.2pt + rgb(\"#9a4a00\"), fill: rgb(\"#fff4e6\"), "
            "inset: 8pt, radius: 3pt, width: 100%)[\n```\n\n"
            f'::: {{.data-statement role="note" style="{style}"}}\n'
            + "\n\n".join(lines) + "\n:::\n\n```{=typst}\n]\n```\n")


def _changed_files(prov: Provenance | None, validation: dict) -> list[str]:
    if not is_synthetic(prov):
        return []
    current = {e["file"]: e.get("sha256") for e in validation.get("exports", [])}
    return prov.changed_files(current)


def _set_subtitle(build: Path, subtitle: str) -> None:
    """Put the synthetic-data subtitle in the build copy's front matter (the title page)."""
    qmd = build / "feasibility.qmd"
    text = qmd.read_text(encoding="utf-8")
    new, count = re.subn(r'(?m)^subtitle:.*$', f'subtitle: "{subtitle}"', text, count=1)
    if not count:
        new = re.sub(r'(?m)^(title:.*)$', lambda m: m.group(1) + f'\nsubtitle: "{subtitle}"',
                     text, count=1)
    write_text(qmd, new)


# ----------------------------------------------------------------------------- methods
def methods(config: dict, prov: Provenance | None = None) -> str:
    sc = config["scoring"]
    rules = md_table(pd.DataFrame(
        [(SUBSCALES.get(k, k.replace('_', ' ')), v['max_missing'],
          'mean of the answered items of the subscale' if v['method'] == 'mean_of_answered' else 'none')
         for k, v in sc["missing_items"].items()],
        columns=["subscale", "missing items imputed", "imputation"]),
        label="Table 9", title="Missing items imputed, by subscale")
    eq = sc["eq5d_index"]
    used, paper = eq5d_method.used(eq), eq5d_method.paper(eq)
    calibrated = (prov.calibrated_to.get("eq5d_index") if is_synthetic(prov) else None)
    assumptions = "\n".join(f"- **{ASSUMPTIONS.get(k, k.replace('_', ' ').capitalize())}**: {v}"
                            for k, v in sc["assumptions"].items())
    def cited(m) -> str:
        return f"{m.short} ({m.citation})" if m.citation else m.name

    if used.id == paper.id:
        eq_text = f"Index values come from {cited(used)}, the paper's method."
    else:
        eq_text = (f"Index values come from {cited(used)}. "
                   f"The paper used {cited(paper)}, as Stata's eq5dmap implements it. "
                   "That mapping is published "
                   "only as lookup tables, which this project does not ship; a user who holds "
                   "the table can supply it (docs/eq5d_mapping_tables.md) and then gets the "
                   "paper's method. The two methods give different values for the same "
                   "answers, so the report labels every index value with its method and "
                   "never counts an index value computed another way as a match.")
    if calibrated:
        cal = eq5d_method.VALUE_SETS.get(calibrated)
        eq_text += (f" The synthetic answers were calibrated so that "
                    f"{cal.short if cal else 'a built-in value set'} reproduces the paper's "
                    "published index values: the paper's mapping may not be copied into the "
                    "project, nor anything derived from it, so the shipped data could not be "
                    "calibrated to it.")
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

**EQ-5D index.** {eq_text}

**Assumptions** (facts that public instrument documentation does not confirm):

{assumptions}

**Statistics.** Categorical data as n (%), of all participants unless stated;
continuous data as mean (SD) or median (IQR) with Stata's centile definition
(`summarize, detail`). Change from baseline is the mean of paired differences on
complete pairs, with a 95% confidence interval from the t distribution.
Proportions in the feasibility metrics carry Wilson 95% intervals. Follow-up
response rates exclude participants who dropped out (excluded, withdrew,
disengaged, died, or could not be placed for language or learning reasons).
Sums of minutes and of recorded decimals are exact; each number is rounded half
away from zero once, when printed.

{small_cell_rule(config)}
"""


def small_cell_rule(config: dict) -> str:
    """The methods line for the small-cell rule (``disclosure.small_cell_threshold``)."""
    k = small_cell_threshold(config)
    if not k:
        return ("**Small cells.** No small-cell rule was applied: counts of 1 and more are "
                "printed, as in the paper.")
    return (f"**Small cells.** In Tables 2–5 and the feasibility metrics, counts of 1 to {k - 1} "
            f"people or events are shown as <{k}, and the percentages, intervals and rates derived "
            f"from them are withheld (small-cell threshold {k}). Zero counts, "
            "denominators and summaries of continuous measures are shown, and no complementary "
            "suppression is applied. The participant-flow diagram (Figure 1), the other figures "
            "and the text print exact counts.")


# ----------------------------------------------------------------------------- captions
def captions(prov: Provenance | None) -> dict[str, tuple[str, str]]:
    """Figure captions: the paper's for its Figures 1 and 2; figures it lacks take the next
    numbers. With synthetic data, each says what is reproduced and what is invented."""
    consort, timeline, completeness = (FIGURE_CAPTIONS[k][1] for k in ("consort", "timeline", "completeness"))
    if is_synthetic(prov):
        consort += (". Synthetic data: the counts the paper reports are reproduced; the "
                    "breakdown of the people screened out by reason is invented")
        timeline += (". Synthetic data: the months of recruitment and the first month of each "
                     "source are those the paper gives; every other date is invented")
    return {"consort": (FIGURE_CAPTIONS["consort"][0], consort),
            "timeline": (FIGURE_CAPTIONS["timeline"][0], timeline),
            "completeness": (FIGURE_CAPTIONS["completeness"][0], completeness)}


# ----------------------------------------------------------------------------- appendices
def appendix_reproduction(comp: pd.DataFrame) -> str:
    counts = comp["status"].value_counts()
    parts = [f"{counts.get(MATCH, 0)} match at the paper's printed precision (same definition "
             "and method)"]
    for status, words in ((OTHER_METHOD, "are computed by another method"),
                          (INCONSISTENT, "are published values the audit shows to be inconsistent "
                                         "(their consistent numbers are still compared)"),
                          (DIFFERS, "differ"),
                          (NOT_DATA, "are context the data do not hold")):
        parts.append(f"{counts.get(status, 0)} {words}")
    first = f"Of {len(comp)} published values, " + ", ".join(parts[:-1]) + f", and {parts[-1]}."
    if counts.get(SUPPRESSED, 0):
        first += f" {counts[SUPPRESSED]} are withheld by the small-cell rule and not compared."
    shown = comp.rename(columns={"location": "Where in the paper", "published": "Paper",
                                 "reproduced": "Reproduced", "status": "Status",
                                 "reason": "Reason"})
    shown["Status"] = shown["Status"].str.capitalize()
    return (first + "\n\n" + md_table(shown[["Where in the paper", "Paper", "Reproduced",
                                             "Status", "Reason"]], label="Table A1",
                                       title="Each published value and its reproduction"))



def appendix_audit(audit: pd.DataFrame) -> str:
    audit = audit.assign(where=audit["key"].map(location))
    inc = audit[audit["verdict"] == "inconsistent"]
    return (f"{len(audit)} checks of the published numbers; {len(inc)} find an inconsistency.\n\n"
            + md_table(inc.rename(columns={"where": "Where in the paper", "check": "Check",
                                           "arithmetic": "Arithmetic"})
                       [["Where in the paper", "Check", "Arithmetic"]], label="Table B1",
                       title="Published values the audit finds inconsistent")
            + "\n\nAll checks:\n\n"
            + md_table(audit.rename(columns={"where": "Where in the paper", "check": "Check",
                                             "verdict": "Verdict"})
                       [["Where in the paper", "Check", "Verdict"]], label="Table B2",
                       title="All checks"))


# ----------------------------------------------------------------------------- the build
def write_generated(config: dict, inputs: dict, build: Path) -> None:
    g = build / "_generated"
    g.mkdir(parents=True, exist_ok=True)
    prov = read_provenance(inputs.get("provenance"))
    val = json.loads(Path(inputs["validation"]).read_text())
    if is_synthetic(prov):
        _set_subtitle(build, SYNTHETIC_SUBTITLE)
    write_text(g / "banner.md", data_statement(prov, _changed_files(prov, val)))
    write_text(g / "methods.md", methods(config, prov))
    values = load_values(inputs["values"])
    templates = (config.get("report") or {}).get("narrative") or {}
    missing = [name for name in NARRATIVE if name not in templates]
    if missing:
        raise ValueError(f"report.narrative has no template for {', '.join(missing)}")
    for name, text in render_all(templates, values).items():
        write_text(g / f"{name}.md", text)
    cap = captions(prov)
    write_text(g / "figure1.md", figure(build, inputs["consort"], cap["consort"]))
    write_text(g / "figure2.md", figure(build, inputs["timeline"], cap["timeline"]))
    write_text(g / "completeness.md", figure(build, inputs["completeness"], cap["completeness"]))
    for t in ("table2", "table3", "table4", "table5", "feasibility_metrics"):
        write_text(g / f"{t}.md", html_block(inputs[t]))
    comp = pd.read_csv(inputs["comparison"], dtype=str, keep_default_na=False)
    write_text(g / "appendix_reproduction.md", appendix_reproduction(comp))
    audit = pd.read_csv(inputs["audit"], dtype=str, keep_default_na=False)
    write_text(g / "appendix_audit.md", appendix_audit(audit))
    # the success record names each input file validated: the records export and the metadata
    ex = pd.DataFrame(val["exports"]).reindex(columns=["file", "what", "records", "status"])
    ex["records"] = ex["records"].map(lambda n: "" if pd.isna(n) else f"{int(n):,}")
    ex = ex.rename(columns={"what": "content", "records": "rows"})
    imp = pd.read_csv(inputs["imputation"])
    write_text(g / "appendix_validation.md",
               f"{len(ex)} files validated (the records export and the project's metadata); "
               f"{val['n_failures']} failures, {val.get('n_warnings', 0)} warnings.\n\n"
               + md_table(ex, label="Table C1", title="Files validated")
               + "\n\nImputed and dropped scores (missing-data rules):\n\n"
               + (md_table(imp, label="Table C2", title="Imputed and dropped scores") if len(imp) else "None.\n"))
    write_text(g / "appendix_provenance.md", provenance(config, inputs, prov))


def _settings(config: dict) -> pd.DataFrame:
    """The configuration that shaped the numbers, key by key (the one place keys are shown)."""
    eq = config["scoring"]["eq5d_index"]
    rows = [("scoring.eq5d_index.method", eq.get("method")),
            ("scoring.eq5d_index.value_set", eq.get("value_set")),
            ("scoring.eq5d_index.mapping_table", eq.get("mapping_table") and Path(eq["mapping_table"]).name),
            ("scoring.eq5d_index.mapping", eq.get("mapping")),
            ("scoring.eq5d_index.paper_method", eq.get("paper_method")),
            ("scoring.wrfq_max_not_applicable_fraction",
             config["scoring"].get("wrfq_max_not_applicable_fraction")),
            ("statistics.confidence_level", config.get("statistics", {}).get("confidence_level")),
            ("statistics.quantile_definition", config.get("statistics", {}).get("quantile_definition")),
            ("statistics.proportion_ci", config.get("statistics", {}).get("proportion_ci")),
            ("disclosure.small_cell_threshold", small_cell_threshold(config))]
    return pd.DataFrame([(k, "" if v is None else str(v)) for k, v in rows],
                        columns=["setting", "value"])


def provenance(config: dict, inputs: dict, prov: Provenance | None = None) -> str:
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
    if is_synthetic(prov):
        cal = prov.calibrated_to or {}
        data = (f"Data: synthetic, made by the generator {prov.generator} {prov.generator_version} "
                f"({prov.cohort} cohort), seed {prov.seed}"
                + (f", calibrated to {cal['publication']}" if cal.get("publication") else "")
                + ". Regenerate them with `python -m feasibility.synth --out data/raw`.\n\n")
    else:
        data = "Data: exports with no generator's provenance file (real data).\n\n"
    return (f"Code version: git commit `{commit}`{' (working tree had uncommitted changes)' if dirty else ''}.\n\n"
            f"Python {platform.python_version()}.\n\n" + data
            + md_table(pd.DataFrame(rows, columns=["input file", "SHA-256"]), label="Table D1",
                       title="Input files") + "\n"
            + md_table(_settings(config), label="Table D2", title="Settings that shaped the numbers") + "\n"
            + md_table(pd.DataFrame(versions, columns=["package", "version"]), label="Table D3",
                       title="Software versions"))
