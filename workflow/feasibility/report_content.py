"""The report's sources: the build copy's ``feasibility.qmd`` and ``_generated/*.md``.

The report is declared in the study file (``report``): its title, and its sections in
order, each a heading and blocks of content - text, narrative templates
(``report.narrative``, whose numbers are placeholders naming values of ``values.json``:
``feasibility.narrative``; no number is typed into the text), tables (the table rules'
HTML), figures (SVG with caption and alternative text) and blocks this module writes
(methods, appendices). :func:`write_generated` writes the build copy's ``feasibility.qmd``
from ``report/feasibility.qmd`` (its front matter filled in, the body made of headings
and ``{{< include >}}`` lines only, no code cells) and every file it includes.

No participant identifier, date of birth, exact date or free text is written (dates
appear at month precision). When the data folder holds a generator's provenance file
(``feasibility.provenance``) the report says on its first page, in its figure captions
and in every table's source note that the data are synthetic and not the study's.
Configuration identifiers appear only in the settings table of the provenance appendix.
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
from . import escape
from .config import small_cell_threshold
from .io import write_text
from .narrative import render_all
from . import publication
from .provenance import Provenance, is_synthetic, read_provenance
from .report_sections import APPENDICES, check_sections, sections
from .reproduction import DIFFERS, INCONSISTENT, MATCH, NOT_DATA, OTHER_METHOD, SUPPRESSED
from .tables.common import frame_gt, html_fragment, typst_path
from .typeset import model_to_typst
from .values import load_values

KEY_PACKAGES = [
    "snakemake",
    "pandas",
    "pandera",
    "great-tables",
    "matplotlib",
    "numpy",
    "scipy",
    "pypandoc-binary",
    "typst",
    "pyarrow",
    "PyYAML",
]
DEFAULT_SYNTHETIC_SUBTITLE = "Built from synthetic data, not the study's data"
BODY = "{{< include _generated/body.md >}}"
PAGE_BREAK = "```{=typst}\n#pagebreak(weak: true)\n```\n"


def _raw_block(fmt: str, content: str) -> str:
    """A raw block of ``content``, fenced by more backticks than any line of it starts with
    (a label holding a line of backticks cannot end the block early)."""
    runs = [len(m[1]) for m in re.finditer(r"(?m)^[ \t]*(`{3,})", content)]
    fence = "`" * max([3] + [n + 1 for n in runs])
    return f"{fence}{{={fmt}}}\n{content}\n{fence}\n"


def table_block(html: str, typst: str) -> str:
    """A table for the report: its HTML (great-tables') for the HTML formats, and the same
    table's model typeset in Typst for the PDF (``feasibility.typeset``), so that both back
    ends print the same PDF table. Quarto is told, in the HTML, not to convert it itself."""
    return _raw_block("html", html.strip()) + "\n" + _raw_block("typst", typst.strip())


def html_block(path: str | Path) -> str:
    """The table written by a table rule (``results/tables/<id>.html``, and its Typst beside
    it, ``<id>.typ``) for the report."""
    return table_block(Path(path).read_text(encoding="utf-8"), typst_path(path).read_text(encoding="utf-8"))


def md_table(
    df: pd.DataFrame, *, label: str | None = None, title: str = "", table_id: str | None = None
) -> str:
    """A data frame as a table of the report, typeset like the others (great-tables HTML and
    its Typst): long tables break across pages with their header repeated, and columns
    take the width their content needs. ``label`` ("Table A1") and ``title`` make its caption."""
    table = frame_gt(df, title=title, label=label, table_id=table_id)
    return table_block(html_fragment(table), model_to_typst(table))


def figure(build: Path, svg: str, caption: tuple[str, str]) -> str:
    """A figure of the report: the SVG copied into the build, its caption ("**Figure 1** …"
    from its label and text, both plain text) and its alternative text (the figure's
    ``.alt.txt``, else the caption). The SVG is drawn at the size it is printed
    (``figures.common.TEXT_WIDTH_IN``), so it is placed at its own size."""
    label, text = caption
    shown = f"**{escape.markdown(label)}** {escape.markdown(text)}" if label else escape.markdown(text)
    dest = build / "figures" / Path(svg).name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, dest)
    alt = Path(svg).with_suffix("").with_suffix(".alt.txt")
    alt_text = alt.read_text(encoding="utf-8").strip() if alt.exists() else f"{label} {text}".strip()
    return f'![{shown}](figures/{dest.name}){{fig-alt="{escape.alt(alt_text)}"}}\n'


# ----------------------------------------------------------------------------- data statement
def data_statement(prov: Provenance | None, changed: list[str] | None = None) -> str:
    """The first-page statement (``banner.md``): empty for real exports.

    A boxed note in both formats: a styled ``div`` in HTML; in Typst the same div inside
    a ``#block`` opened and closed by raw Typst (which HTML drops).
    """
    if not is_synthetic(prov):
        return ""
    lines = [
        "**Synthetic data — not the study's data.** "
        + escape.markdown(
            prov.statement or "These data were made by a generator, not collected from participants."
        )
    ]
    cal = prov.calibrated_to or {}
    if cal.get("publication"):
        lines.append(
            f"They were made to reproduce the published aggregates of the paper "
            f"({escape.markdown(cal['publication'])}): where the report and the paper agree, that "
            "shows the pipeline reproduces the paper's analysis, not that the data "
            "are real."
        )
    if prov.invented:
        lines.append(
            "Invented by the generator"
            + (" (the paper does not publish them)" if cal.get("publication") else "")
            + ": "
            + "; ".join(escape.markdown(i) for i in prov.invented)
            + "."
        )
    if changed:
        lines.append(
            f"**{len(changed)} file(s) were changed after the generator wrote them** "
            f"({', '.join(escape.markdown(c) for c in changed)}): the results below are of the "
            "changed data."
        )
    style = (
        "border: 2px solid #9a4a00; background: #fff4e6; padding: 0.6em 1em; "
        "margin: 1em 0; border-radius: 4px;"
    )
    return (
        '```{=typst}\n#block(stroke: 1.2pt + rgb("#9a4a00"), fill: rgb("#fff4e6"), '
        "inset: 8pt, radius: 3pt, width: 100%)[\n```\n\n"
        f'::: {{.data-statement role="note" style="{style}"}}\n'
        + "\n\n".join(lines)
        + "\n:::\n\n```{=typst}\n]\n```\n"
    )


def _changed_files(prov: Provenance | None, validation: dict) -> list[str]:
    if not is_synthetic(prov):
        return []
    current = {e["file"]: e.get("sha256") for e in validation.get("exports", [])}
    return prov.changed_files(current)


# ----------------------------------------------------------------------------- methods
def _lower_first(label: str) -> str:
    """A time point's label inside a sentence: "Baseline" -> "baseline" (not "EQ-5D")."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _has_publication(config: dict) -> bool:
    """Whether the study reproduces a publication (``paths.published_values``): only then
    do the methods compare with "the paper"."""
    return bool((config.get("paths") or {}).get("published_values"))


def timepoints_text(config: dict) -> str:
    """The study's time points and the definition of the start date they count from."""
    schedule = (config.get("timepoints") or {}).get("schedule") or {}
    labels = [
        escape.markdown(_lower_first(v.get("label", k) if isinstance(v, dict) else k))
        for k, v in schedule.items()
    ]
    text = f"Time points: {_joined(labels)} after the start date.\n" if labels else ""
    return text + escape.markdown(config["study"]["start_date_definition"]) + "\n"


def missing_items_text(config: dict, label: str | None = "Table 9") -> str:
    """The instruments' missing-item rules: the rule in words and a table of its
    parameters by subscale; the WRFQ's not-applicable rule when the study scores it."""
    from .scoring.registry import missing_item_rules, subscale_title

    instruments = config.get("instruments") or {}
    rules = missing_item_rules(instruments)
    text = (
        "**Missing items.** Up to the number of missing items shown, the subscale's missing\n"
        "items are imputed by the mean of its answered items; with more missing, the score\n"
        "is missing."
    )
    for name, raw in instruments.items():
        if raw["scorer"] == "wrfq":
            from .scoring.registry import scorer

            fraction = scorer("wrfq").parameters(raw.get("parameters"))["max_not_applicable_fraction"]
            title = subscale_title((raw.get("rename") or {}).get("wrfq", "wrfq"), instruments)
            text += (
                f' The {escape.markdown(title)} is not scored when "does not apply to my job" is ticked for\n'
                f"more than {fraction:.0%} of its items."
            )
    if not rules:
        return text + "\n"
    table = md_table(
        pd.DataFrame(
            [
                (
                    subscale_title(k, instruments),
                    v["max_missing"],
                    "mean of the answered items of the subscale"
                    if v["method"] == "mean_of_answered"
                    else "none",
                )
                for k, v in rules.items()
            ],
            columns=["subscale", "missing items imputed", "imputation"],
        ),
        label=label,
        title="Missing items imputed, by subscale",
    )
    return text + "\n\n" + table


def eq5d_text(config: dict, prov: Provenance | None = None) -> str:
    """How the EQ-5D index was valued (for each instrument scored with eq5d_5l)."""
    from .scoring.registry import eq5d_index_config, scorer

    out = []
    for raw in (config.get("instruments") or {}).values():
        if raw["scorer"] != "eq5d_5l":
            continue
        eq = eq5d_index_config(scorer("eq5d_5l").parameters(raw.get("parameters")))
        used, paper = eq5d_method.used(eq), eq5d_method.paper(eq)
        calibrated = prov.calibrated_to.get("eq5d_index") if is_synthetic(prov) else None

        def cited(m) -> str:
            return f"{m.short} ({m.citation})" if m.citation else m.name

        if not _has_publication(config):  # no paper to compare the method with
            text = f"Index values come from {cited(used)}."
        elif used.id == paper.id:
            text = f"Index values come from {cited(used)}, the paper's method."
        else:
            text = (
                f"Index values come from {cited(used)}. "
                f"The paper used {cited(paper)}, as Stata's eq5dmap implements it. "
                "That mapping is published "
                "only as lookup tables, which this project does not ship; a user who holds "
                "the table can supply it (docs/eq5d_mapping_tables.md) and then gets the "
                "paper's method. The two methods give different values for the same "
                "answers, so the report labels every index value with its method and "
                "never counts an index value computed another way as a match."
            )
        if calibrated:
            cal = eq5d_method.VALUE_SETS.get(calibrated)
            text += (
                f" The synthetic answers were calibrated so that "
                f"{cal.short if cal else 'a built-in value set'} reproduces the paper's "
                "published index values: the paper's mapping may not be copied into the "
                "project, nor anything derived from it, so the shipped data could not be "
                "calibrated to it."
            )
        out.append(f"**EQ-5D index.** {text}\n")
    return "\n".join(out)


def assumptions_text(config: dict) -> str:
    """The instruments' declared assumptions, each with its heading."""
    items = [
        (k, v)
        for raw in (config.get("instruments") or {}).values()
        for k, v in (raw.get("assumptions") or {}).items()
    ]
    if not items:
        return ""
    return (
        "**Assumptions** (facts that public instrument documentation does not confirm):\n\n"
        + "\n".join(f"- **{escape.markdown(k)}**: {escape.markdown(' '.join(v.split()))}" for k, v in items)
        + "\n"
    )


def estimands_text(config: dict, label: str | None = None) -> str:
    """The estimands table (issue 23.1): each estimand's five ICH E9(R1) attributes."""
    from .analysis.estimands import estimands_frame

    frame = estimands_frame(config)
    if frame.empty:
        return ""
    return md_table(
        frame, label=label, table_id="estimands", title="Estimands (ICH E9(R1)): what each analysis estimates"
    )


def small_cell_rule(config: dict) -> str:
    """The methods line for the small-cell rule (``disclosure.small_cell_threshold``)."""
    k = small_cell_threshold(config)
    if not k:
        return "**Small cells.** No small-cell rule was applied: counts of 1 and more are printed" + (
            ", as in the paper." if _has_publication(config) else "."
        )
    labels = [
        escape.markdown(t.get("label") or t.get("title") or tid)
        for tid, t in (config.get("tables") or {}).items()
    ]
    where = f"In the tables ({_joined(labels)})" if labels else "In the tables"
    return (
        f"**Small cells.** {where}, counts of 1 to {k - 1} "
        f"people or events are shown as <{k}, and the percentages, intervals and rates derived "
        f"from them are withheld (small-cell threshold {k}). Zero counts, "
        "denominators and summaries of continuous measures are shown, and no complementary "
        "suppression is applied. The figures and the text print exact counts."
    )


def caption(item: dict, config: dict, prov: Provenance | None) -> tuple[str, str]:
    """A figure's number and caption: the report item's, else its declaration's (``figures``
    section, with its defaults: "Figure N" by position), joined with its synthetic-data note
    as the figure's own files join them (``figures.spec.caption``)."""
    from .figures.spec import caption as figure_caption, load_figures

    fig = load_figures(config).get(item["figure"])
    note = item.get("synthetic", fig.synthetic_note if fig else None)
    if note is None:  # none declared: dummy data still say so (issue 23.8)
        from .provenance import default_figure_note

        note = default_figure_note(prov)
    meta = {
        "label": item.get("label", fig.label if fig else ""),
        "caption": " ".join(str(item.get("caption", fig.caption if fig else item["figure"])).split()),
        "synthetic_note": " ".join(note.split()) if note else None,
    }
    return figure_caption(meta, is_synthetic(prov))


# ----------------------------------------------------------------------------- appendices
def appendix_reproduction(comp: pd.DataFrame, letter: str = "A") -> str:
    counts = comp["status"].value_counts()
    parts = [f"{counts.get(MATCH, 0)} match at the paper's printed precision (same definition and method)"]
    for status, words in (
        (OTHER_METHOD, "are computed by another method"),
        (
            INCONSISTENT,
            "are published values the audit shows to be inconsistent "
            "(their consistent numbers are still compared)",
        ),
        (DIFFERS, "differ"),
        (NOT_DATA, "are context the data do not hold"),
    ):
        parts.append(f"{counts.get(status, 0)} {words}")
    first = f"Of {len(comp)} published values, " + ", ".join(parts[:-1]) + f", and {parts[-1]}."
    if counts.get(SUPPRESSED, 0):
        first += f" {counts[SUPPRESSED]} are withheld by the small-cell rule and not compared."
    shown = comp.rename(
        columns={
            "location": "Where in the paper",
            "published": "Paper",
            "reproduced": "Reproduced",
            "status": "Status",
            "reason": "Reason",
        }
    )
    shown["Status"] = shown["Status"].str.capitalize()
    return (
        first
        + "\n\n"
        + md_table(
            shown[["Where in the paper", "Paper", "Reproduced", "Status", "Reason"]],
            label=f"Table {letter}1",
            title="Each published value and its reproduction",
        )
    )


def appendix_audit(audit: pd.DataFrame, letter: str = "B", lang=publication) -> str:
    audit = audit.assign(where=audit["key"].map(lang.location))
    inc = audit[audit["verdict"] == "inconsistent"]
    return (
        f"{len(audit)} checks of the published numbers; {len(inc)} find an inconsistency.\n\n"
        + md_table(
            inc.rename(columns={"where": "Where in the paper", "check": "Check", "arithmetic": "Arithmetic"})[
                ["Where in the paper", "Check", "Arithmetic"]
            ],
            label=f"Table {letter}1",
            title="Published values the audit finds inconsistent",
        )
        + "\n\nAll checks:\n\n"
        + md_table(
            audit.rename(columns={"where": "Where in the paper", "check": "Check", "verdict": "Verdict"})[
                ["Where in the paper", "Check", "Verdict"]
            ],
            label=f"Table {letter}2",
            title="All checks",
        )
    )


# ----------------------------------------------------------------------------- the build
def _include(name: str) -> str:
    return f"{{{{< include _generated/{name}.md >}}}}\n"


def write_generated(config: dict, inputs: dict, build: Path, lang=publication) -> None:
    """The build copy's ``feasibility.qmd`` (front matter and the declared sections) and
    every ``_generated/*.md`` it includes.

    ``inputs``: ``values`` (values.json), ``validation`` (the success record),
    ``scoring_log`` (the analysis dataset's), ``provenance`` (or None), ``comparison`` and
    ``audit`` (with a published-values file), ``tables`` (id -> HTML) and ``figures`` (id
    -> SVG)."""
    problems = check_sections(config)
    if problems:
        raise ValueError("the report's sections cannot be built:\n" + "\n".join(problems))
    g = build / "_generated"
    g.mkdir(parents=True, exist_ok=True)
    prov = read_provenance(inputs.get("provenance"))
    val = json.loads(Path(inputs["validation"]).read_text())
    report = config.get("report") or {}
    values = load_values(inputs["values"]) if inputs.get("values") else {}
    templates = report.get("narrative") or {}
    narratives = render_all(templates, values, lang=lang)
    write_text(g / "banner.md", data_statement(prov, _changed_files(prov, val)))
    body = [_include("banner")]
    for i, section in enumerate(sections(config)):
        if section.get("new_page"):
            body.append(PAGE_BREAK)
        if section.get("title"):
            body.append("#" * int(section.get("level", 1)) + f" {escape.markdown(section['title'])}\n")
        for j, item in enumerate(section.get("content") or []):
            if "text" in item:
                body.append(item["text"].strip() + "\n")
                continue
            if "narrative" in item:
                name, text = f"narrative_{item['narrative']}", narratives[item["narrative"]]
            elif "table" in item:
                name, text = f"table_{item['table']}", html_block(inputs["tables"][item["table"]])
            elif "figure" in item:
                name = f"figure_{item['figure']}"
                text = figure(build, inputs["figures"][item["figure"]], caption(item, config, prov))
            else:
                name = item["generated"]
                text = generated_block(name, item, config, inputs, prov, val, lang)
            write_text(g / f"{name}.md", text)
            body.append(_include(name))
    write_qmd(build / "feasibility.qmd", config, prov, "\n".join(body))


def generated_block(
    name: str, item: dict, config: dict, inputs: dict, prov, val: dict, lang=publication
) -> str:
    """One block this module writes (``report.sections[].content[].generated``)."""
    if name == "timepoints":
        return timepoints_text(config)
    if name == "missing_items":
        return missing_items_text(config, item.get("label", "Table 9"))
    if name == "eq5d_method":
        return eq5d_text(config, prov)
    if name == "assumptions":
        return assumptions_text(config)
    if name == "small_cell_rule":
        return small_cell_rule(config) + "\n"
    if name == "estimands":
        return estimands_text(config, item.get("label"))
    if name in ("multiplicity", "missing_codes", "consort_2025"):  # issue 23.4, 23.6, 23.9
        from . import report_trial

        if name == "multiplicity":
            return report_trial.multiplicity_text(config)
        if name == "missing_codes":
            return report_trial.missing_codes_text(config, inputs.get("analysis_variables"))
        return report_trial.consort_2025_text(config, item, item.get("label", "C"), md_table)
    letter = item.get("label", APPENDICES[name])
    if name == "appendix_reproduction":
        comp = pd.read_csv(inputs["comparison"], dtype=str, keep_default_na=False)
        return appendix_reproduction(comp, letter)
    if name == "appendix_audit":
        audit = pd.read_csv(inputs["audit"], dtype=str, keep_default_na=False)
        return appendix_audit(audit, letter, lang)
    if name == "appendix_validation":
        return appendix_validation(val, inputs.get("scoring_log"), letter)
    return provenance(config, inputs, prov, letter)


def write_qmd(path: Path, config: dict, prov: Provenance | None, body: str) -> None:
    """``report/feasibility.qmd``'s copy with the study's title, subtitle and language in
    its front matter and the declared body in place of its body include."""
    report = config.get("report") or {}
    subtitle = (
        (report.get("synthetic_subtitle") or DEFAULT_SYNTHETIC_SUBTITLE)
        if is_synthetic(prov)
        else report.get("subtitle")
    )
    # pandoc and Quarto read the title and subtitle as Markdown: plain text, escaped as such
    meta = {
        "title": escape.front_matter_text(report.get("title") or config["study"]["title"]),
        "subtitle": escape.front_matter_text(subtitle) if subtitle else None,
        "lang": escape.yaml_scalar(report.get("lang") or "en-GB"),
    }
    text = path.read_text(encoding="utf-8")
    for key, value in meta.items():
        line = f"{key}: {value}" if value else ""
        text, count = re.subn(rf"(?m)^{key}:.*\n", lambda _: line + "\n" if line else "", text, count=1)
        if not count and line:
            text = text.replace("---\n", f"---\n{line}\n", 1)
    if BODY not in text:
        raise ValueError(
            f"{path}: the report's template needs the line {BODY}, where the declared sections go"
        )
    write_text(path, text.replace(BODY, body.rstrip("\n")))


def appendix_validation(val: dict, scoring_log: str | None, letter: str = "C") -> str:
    """The files validated (the success record names the records export and the project's
    metadata) and the scores the missing-item rules imputed or dropped."""
    ex = pd.DataFrame(val["exports"]).reindex(columns=["file", "what", "records", "status"])
    ex["records"] = ex["records"].map(lambda n: "" if pd.isna(n) else f"{int(n):,}")
    ex = ex.rename(columns={"what": "content", "records": "rows"})
    log = pd.read_parquet(scoring_log) if scoring_log else pd.DataFrame()
    if len(log):
        imp = log.groupby(["instrument", "timepoint", "action"]).size().rename("n").reset_index()
    else:
        imp = pd.DataFrame(columns=["instrument", "timepoint", "action", "n"])
    return (
        f"{len(ex)} files validated (the records export and the project's metadata); "
        f"{val['n_failures']} failures, {val.get('n_warnings', 0)} warnings.\n\n"
        + md_table(ex, label=f"Table {letter}1", title="Files validated")
        + "\n\nImputed and dropped scores (missing-data rules):\n\n"
        + (
            md_table(imp, label=f"Table {letter}2", title="Imputed and dropped scores")
            if len(imp)
            else "None.\n"
        )
    )


def _settings(config: dict) -> pd.DataFrame:
    """The configuration that shaped the numbers, key by key (the one place keys are shown):
    the instruments' parameters (their missing-item rules are in the methods), the named
    parameters, the statistics and the small-cell rule."""
    rows = []
    for name, raw in (config.get("instruments") or {}).items():
        for key, value in (raw.get("parameters") or {}).items():
            if key == "missing_items":
                continue
            if key == "mapping_table" and value:
                value = Path(value).name
            rows.append((f"instruments.{name}.parameters.{key}", value))
    from .analysis.spec import parameter_values

    for key, value in parameter_values(config).items():
        rows.append((f"parameters.{key}", value))
    stats = config.get("statistics") or {}
    for key in ("confidence_level", "quantile_definition", "proportion_ci"):
        rows.append((f"statistics.{key}", stats.get(key)))
    rows.append(("disclosure.small_cell_threshold", small_cell_threshold(config)))
    return pd.DataFrame([(k, "" if v is None else str(v)) for k, v in rows], columns=["setting", "value"])


def provenance(config: dict, inputs: dict, prov: Provenance | None = None, letter: str = "D") -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
            ).stdout.strip()
        )
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
        data = (
            f"Data: synthetic, made by the generator {escape.markdown(prov.generator)} "
            f"{escape.markdown(prov.generator_version)} "
            f"({escape.markdown(prov.cohort)} cohort), seed {escape.markdown(prov.seed)}"
            + (f", calibrated to {escape.markdown(cal['publication'])}" if cal.get("publication") else "")
            + f". Regenerate them with "
            f"{escape.code(prov.command or 'python -m feasibility.synth --out data/raw')}.\n\n"
        )
    elif prov is not None and prov.pull:
        data = f"Data: {escape.markdown(prov.pull)}.\n\n"
    else:
        data = "Data: exports with no generator's provenance file (real data).\n\n"
    return (
        f"Code version: git commit `{commit}`{' (working tree had uncommitted changes)' if dirty else ''}.\n\n"
        f"Python {platform.python_version()}.\n\n"
        + data
        + md_table(
            pd.DataFrame(rows, columns=["input file", "SHA-256"]),
            label=f"Table {letter}1",
            title="Input files",
        )
        + "\n"
        + md_table(_settings(config), label=f"Table {letter}2", title="Settings that shaped the numbers")
        + "\n"
        + md_table(
            pd.DataFrame(versions, columns=["package", "version"]),
            label=f"Table {letter}3",
            title="Software versions",
        )
    )
