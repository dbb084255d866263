"""The quality report: its captions, its markdown includes, and every output in one call.

``report/quality.qmd`` brings in ``_generated/quality_*.md`` (:data:`INCLUDES`), written by
:func:`write_includes` from the outputs' files (tables as HTML fragments, figures as SVG
with their alt text), as ``report_content`` does for the main report. :func:`captions`
numbers the tables and figures that the project has, in the order the report shows them.
:func:`build_quality_report` makes every output and the includes (tests, benchmarks, and a
reference for the workflow's rules, which make one output each).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from feasibility import escape
from feasibility.io import write_text

from .data import QualityData, counted
from .recruitment import RecruitmentData, recruitment_by_month
from .settings import DID_NOT_PASS, QualitySettings
from .tables import Caption
from .validation import validation_notes

DOCUMENT = "quality.qmd"
# include file -> what it holds, in the order quality.qmd includes them
INCLUDES = {
    "quality_summary.md": "the project, the export and what the report covers",
    "quality_records.md": "records by arm, event and data access group",
    "quality_completion.md": "form completion: the heat map and the table",
    "quality_missingness.md": "missing data by field and the missing-data codes",
    "quality_validation.md": "the validation results and notes",
    "quality_queries.md": "the queries: by rule, site and status since the previous export",
    "quality_recruitment.md": "recruitment over time (or why it is not drawn)",
    "quality_codebook.md": "the appendix: the codebook (empty when quality.codebook is false)",
}


@dataclass(frozen=True)
class Output:
    """One table or figure of the report."""

    id: str
    kind: str  # "table" | "figure"


def outputs(data: QualityData, settings: QualitySettings) -> list[Output]:
    """The report's tables and figures, in the order it shows them. Every one is made for
    every project (so that a workflow knows its files before it reads any data), except the
    recruitment figure, made when the study file names a date field."""
    out = [
        Output("records", "table"),
        Output("completeness", "figure"),
        Output("completion", "table"),
        Output("completeness_sites", "figure"),
        Output("completion_site", "table"),
        Output("missingness", "table"),
        Output("missingness_event", "table"),
        Output("missing_codes", "table"),
        Output("validation", "table"),
        Output("queries", "table"),
    ]
    if settings.recruitment.date_field:
        out.append(Output("recruitment", "figure"))
    if settings.codebook.include:
        out.append(Output("codebook", "table"))
    return out


def _titles(data: QualityData, settings: QualitySettings) -> dict[str, str]:
    several_arms = len(data.arms) > 1
    by = [
        w
        for w, present in (
            ("arm", several_arms),
            ("event", data.longitudinal),
            ("data access group", data.has_dags),
        )
        if present
    ]
    records = "Records" + (
        " by " + (", ".join(by[:-1]) + " and " + by[-1] if len(by) > 1 else by[0]) if by else ""
    )
    recruit = "Cumulative recruitment by month"
    groups = [
        w
        for w, present in (
            ("data access group", settings.recruitment.by_dag and data.has_dags),
            ("source", bool(settings.recruitment.source_field)),
        )
        if present
    ]
    if groups:
        recruit += " by " + " and by ".join(groups)
    return {
        "records": records,
        "completeness": "Forms complete by event" + (" and arm" if several_arms else ""),
        "completion": "Form completion status by event",
        "completeness_sites": "Forms complete by "
        + ("data access group" if data.has_dags else "site")
        + " and event",
        "completion_site": "Forms complete by "
        + ("data access group" if data.has_dags else "site")
        + " and event",
        "missingness_event": "Blank fields by event",
        "missingness": "Missing data by field",
        "missing_codes": "Missing-data codes entered",
        "validation": "Validation results by rule and severity",
        "queries": "Queries by rule and by site, and their status since the previous export",
        "recruitment": recruit,
        "codebook": "Codebook: every instrument and field",
    }


def captions(
    data: QualityData,
    settings: QualitySettings,
    *,
    table_prefix: str = "Table ",
    figure_prefix: str = "Figure ",
    first_table: int = 1,
    first_figure: int = 1,
) -> dict[str, Caption]:
    """Output id -> its caption, tables and figures numbered in the report's order."""
    titles = _titles(data, settings)
    counters = {"table": first_table, "figure": first_figure}
    prefix = {"table": table_prefix, "figure": figure_prefix}
    out = {}
    for o in outputs(data, settings):
        out[o.id] = Caption(f"{prefix[o.kind]}{counters[o.kind]}", titles[o.id])
        counters[o.kind] += 1
    return out


# ------------------------------------------------------------------------------ includes
def _table_block(html_path: str | os.PathLike) -> str:
    from feasibility.report_content import html_block

    return html_block(html_path)


def _figure_block(
    build: Path, svg: str | os.PathLike, caption: Caption, data: QualityData | None = None
) -> str:
    from feasibility.report_content import figure

    title = caption.title + (f". {data.data_statement}" if data is not None and data.synthetic else "")
    return figure(build, str(svg), (caption.label, title))


def _long_date(iso: str | None) -> str:
    if not iso:  # never the day of the run (issue 25.7)
        return (
            "an unknown date (neither REDCap's file name, nor the project XML's creation time, nor the study "
            "file's validation.export_date gives it)"
        )
    d = date.fromisoformat(iso)
    return f"{d.day} {d.strftime('%B')} {d.year}"


def summary_markdown(data: QualityData, settings: QualitySettings) -> str:
    """The opening paragraph: study, project, export, counts, validation, privacy."""
    export = data.export
    title = settings.title or data.title or "a REDCap project"
    rows = data.rows
    v = data.validation or {}
    # every record of the export, those with no data beyond their record ID too (issue 25.6)
    n_records = max(int(rows["record_id"].nunique()), int(v.get("records") or 0))
    n_empty = int(v.get("records_without_data") or 0)
    if data.longitudinal:
        n_events, n_arms = len(data.events), len(data.arms)
        design = f"It is longitudinal, with {n_events} event{'s' * (n_events != 1)} in {n_arms} arm{'s' * (n_arms != 1)}"
    else:
        design = "It is a classic project (no events)"
    extras = []
    if data.repeating:
        extras.append("repeating instruments or events")
    if data.has_dags:
        extras.append(f"{len(data.dags)} data access group{'s' * (len(data.dags) != 1)}")
    if extras:
        design += (" and " if data.longitudinal else ", with ") + " and ".join(extras)
    n_fields = sum(1 for f in data.codebook.get("fields") or [] if f.get("type") != "descriptive")
    text = []
    if data.synthetic:
        text.append(f"**{escape.markdown(data.data_statement)}**")
    text += [
        f"This report describes the data of **{escape.markdown(title)}**"
        + (f" (REDCap project *{escape.markdown(data.title)}*)" if data.title and data.title != title else "")
        + f" as exported on {_long_date(export.get('export_date'))}"
        + (f" ({escape.code(export['export'])})" if export.get("export") else "")
        + ".",
        f"The project has {len(data.forms)} instrument{'s' * (len(data.forms) != 1)} and {n_fields} "
        f"field{'s' * (n_fields != 1)}. {design}. The export holds {n_records:,} "
        f"record{'s' * (n_records != 1)} in {len(rows):,} form rows"
        + (
            f" ({v['rows']:,} rows of the export"
            + (f", at {v['events']:,} event{'s' * (v['events'] != 1)}" if v.get("events") else "")
            + ")"
            if v.get("rows")
            else ""
        )
        + ".",
    ]
    if data.longitudinal and (v.get("designations_inferred") or data.codebook.get("designations_inferred")):
        text.append(
            "The instrument designations were not given: they are inferred from the records (a form is "
            "designated at an event where any record has data for it). Give the study file's "
            "`redcap.instrument_designations` to override them."
        )
    absent = v.get("absent") or data.codebook.get("absent") or {}
    if absent:  # a restricted export (issue 25.3)
        forms = sorted(
            {
                c[: -len("_complete")]
                for c, why in absent.items()
                if c.endswith("_complete") and why.startswith("form not in the export")
            }
        )
        n_cols = sum(1 for c in absent if not c.endswith("_complete"))
        text.append(
            "**The export is restricted**: it holds a subset of the data dictionary's columns, as REDCap's "
            "export rights make it"
            + (
                f" ({len(forms)} form{'s' * (len(forms) != 1)} without export rights: "
                + ", ".join(escape.code(f) for f in forms)
                + ")"
                if forms
                else ""
            )
            + f"; {n_cols:,} column{'s are' if n_cols != 1 else ' is'} absent, each listed with why in "
            "the validation notes. What the export holds is checked; what it lacks is not counted as "
            "missing."
        )
    if n_empty:
        text.append(
            f"{n_empty:,} of the records {'have' if n_empty != 1 else 'has'} no data beyond the record ID; "
            "they are counted as records but appear in no form's counts."
        )
    if n_records == 0:  # a project with no records yet still gets its structure and codebook (issue 25.9)
        text.append(
            "**The export holds no records**: this report shows the project's structure (instruments"
            + (", events" if data.longitudinal else "")
            + " and codebook) only."
        )
    if v and (v.get("pull") or {}).get("described"):  # pulled from REDCap's API (feasibility.pull)
        text.append(f"The data were {escape.markdown(v['pull']['described'])}.")
    if v:
        text.append(
            f"Validation against the project's own data dictionary {'passed' if v.get('ok') else 'failed'}"
            f" with {counted(v.get('errors'), 'error')} and {counted(v.get('warnings'), 'warning')}."
        )
    if v and not v.get("ok"):
        text.append(f"**{DID_NOT_PASS}**")
    if data.identifiers_dropped:
        n = len(data.identifiers_dropped)
        text.append(f"{n} identifier field{'s were' if n != 1 else ' was'} dropped right after validation.")
    text.append(
        "The report shows counts only: no record ID, identifier value or date of birth appears in it, "
        "and dates are shown by month. The list of queries (`quality/queries/queries.csv` and "
        "`queries.xlsx` in the study's results folder, `results/<study id>/`) names records by their "
        "record ID, for the study team only; identifier fields "
        "never appear in it."
    )
    return " ".join(text) + "\n"


def write_includes(
    build: str | os.PathLike,
    data: QualityData,
    settings: QualitySettings,
    files: dict[str, str | os.PathLike],
    caps: dict[str, Caption] | None = None,
    recruitment: RecruitmentData | None = None,
) -> list[Path]:
    """Write ``_generated/quality_*.md`` into the report's build folder (figures are copied
    into ``figures/``). ``files``: output id -> its HTML fragment (tables) or SVG (figures)."""
    build = Path(build)
    g = build / "_generated"
    caps = caps or captions(data, settings)
    written = {}

    def put(name: str, text: str) -> None:
        write_text(g / name, text)
        written[name] = g / name

    put("quality_summary.md", summary_markdown(data, settings))
    put("quality_records.md", _table_block(files["records"]))
    put(
        "quality_completion.md",
        "Each form's completion status, as REDCap records it (Incomplete, Unverified, "
        "Complete), for the records expected to complete each form at each event: those with data at "
        "the event, and for a conditional form (one whose every field has branching logic) only "
        "those for whom its logic shows a field.\n\n"
        + _figure_block(build, files["completeness"], caps["completeness"], data)
        + "\n"
        + _table_block(files["completion"])
        + "\nThe same shares for each data access group, over the group's own records.\n\n"
        + _figure_block(build, files["completeness_sites"], caps["completeness_sites"], data)
        + "\n"
        + _table_block(files["completion_site"]),
    )
    miss = (
        "Each field's cells, counted over its form's rows: answered, a missing-data code, hidden by the "
        "field's branching logic (a question not asked is not missing), or blank.\n\n"
        + _table_block(files["missingness"])
        + "\nThe same blanks by event: a field blank at one follow-up only is seen here.\n\n"
        + _table_block(files["missingness_event"])
    )
    miss += "\n" + _table_block(files["missing_codes"])
    put("quality_missingness.md", miss)
    notes = validation_notes(data.validation)
    val = _table_block(files["validation"])
    if notes:
        val += "\nNotes from validation:\n\n" + "".join(f"- {escape.markdown(n)}\n" for n in notes)
    put("quality_validation.md", val)
    if "queries" in files:
        put("quality_queries.md", queries_markdown(data) + _table_block(files["queries"]))
    if "recruitment" in caps:
        rec = recruitment or recruitment_by_month(data, settings.recruitment)
        text = _figure_block(build, files["recruitment"], caps["recruitment"], data)
        if rec.without_date:
            text += (
                f"\n{rec.without_date:,} record{'s have' if rec.without_date != 1 else ' has'} no "
                f"{escape.markdown(rec.date_label)} and {'are' if rec.without_date != 1 else 'is'} not counted.\n"
            )
    else:
        text = (
            "No recruitment date is named, so recruitment over time is not drawn (set "
            "`quality.recruitment.date_field` in the study file to the field that dates each record's "
            "recruitment, such as the date of consent).\n"
        )
    put("quality_recruitment.md", text)
    put(
        "quality_codebook.md",
        (
            "```{=typst}\n#pagebreak(weak: true)\n```\n\n# Appendix: Codebook\n\n"
            + _table_block(files["codebook"])
        )
        if "codebook" in caps
        else "",
    )
    return [written[name] for name in INCLUDES]


def queries_markdown(data: QualityData) -> str:
    """What the query list is, where it is, and whom it is for."""
    from .queries import OUTLIER_RULE

    return (
        "Every validation failure and warning and every data-quality finding is one query, listed with its "
        "site, record ID, event, repeat instance, instrument, field, value, rule, message, severity, status "
        "and the export it was first seen in, in `queries.csv` and in the workbook `queries.xlsx` (a summary "
        "sheet and one sheet per site; one site's own workbook is the target "
        "`results/<study id>/quality/queries/queries-<site>.xlsx`). Those files are for the study team: they name "
        "records by their record ID, never by an identifier field. The rules are REDCap's data-quality rules "
        "A to I (A blank values, B blank required values, C validation errors, D values out of range, "
        f"E outliers: {escape.markdown(OUTLIER_RULE)}; F hidden fields with values, G invalid multiple-choice "
        "values, H incorrect calculated values, I missing-data codes), the study's validation rules, its "
        "own checks (`quality.checks`) and forms overdue by their visit windows (rule overdue: a designated "
        "form not Complete when the window of its event, counted from each record's anchor date with the "
        "events' day offsets, has closed by the export date; `quality.schedule`). C and H come from validation, which checks every raw value of the "
        "export (the validated data hold typed values only). This report shows their counts only.\n\n"
    )


def source_date_epoch(data: QualityData) -> int:
    """The build date of the report: the first day of the export's month (never a person's
    date), so that two builds of the same export are byte-identical."""
    iso = data.export.get("export_date")
    if not iso:
        return 0
    return int(pd.Timestamp(iso).to_period("M").start_time.timestamp())


# ------------------------------------------------------------------------------ everything
def build_quality_report(
    data: QualityData,
    settings: QualitySettings,
    out_dir: str | os.PathLike,
    build_dir: str | os.PathLike | None = None,
    report_src: str | os.PathLike = "report",
    *,
    render: bool = False,
    formats=("html", "pdf"),
    backend: str = "auto",
    small_cell_threshold: int | None = None,
    history: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Every output of the quality report: tables (``<out>/tables/quality_*.html|csv``),
    figures (``<out>/figures/quality_*.svg|png``), the includes in a build copy of ``report/``
    and, with ``render``, ``quality.html`` / ``quality.pdf`` in ``out_dir``; the query list in
    ``<out>/queries/``, tracked against the earlier exports' lists in ``history`` (default
    ``<out>/history``)."""
    import shutil

    from . import figures, tables
    from .counts import completion_status
    from .missingness import field_missingness

    out = Path(out_dir)
    build = Path(build_dir) if build_dir else out / "quality_build"
    caps = captions(data, settings)
    status = completion_status(data)
    items = field_missingness(data, branching=settings.missingness.branching)
    made = {
        "records": tables.records_table(data, caps["records"]),
        "completion": tables.completion_table(
            data, caps["completion"], status, figure_label=caps["completeness"].label
        ),
        "missingness": tables.missingness_table(data, caps["missingness"], settings, items),
        "validation": tables.validation_table(data, caps["validation"], settings),
        "missing_codes": tables.missing_codes_table(data, caps["missing_codes"]),
        "completion_site": tables.completion_site_table(
            data, caps["completion_site"], figure_label=caps["completeness_sites"].label
        ),
        "missingness_event": tables.missingness_event_table(data, caps["missingness_event"], settings),
    }
    if "codebook" in caps:
        made["codebook"] = tables.codebook_table(data, caps["codebook"], settings)
    files: dict[str, Path] = {}
    for key, table in made.items():
        html_path, csv_path = (
            out / "tables" / f"{table.table_id}.html",
            out / "tables" / f"{table.table_id}.csv",
        )
        table.write(html_path, csv_path, small_cell_threshold=small_cell_threshold)
        files[key], files[f"{key}_csv"] = html_path, csv_path
    from .query_outputs import write_queries

    q = out / "queries"
    write_queries(
        data,
        settings,
        caps["queries"],
        history or out / "history",
        q / "queries.csv",
        q / "queries.xlsx",
        out / "tables" / "quality_queries.html",
        out / "tables" / "quality_queries.csv",
        q / "queries.parquet",
        q / "queries.json",
    )
    files["queries"] = out / "tables" / "quality_queries.html"
    svg, png = out / "figures" / "quality_completeness.svg", out / "figures" / "quality_completeness.png"
    figures.make_completeness(data, svg, png, title=caps["completeness"].text, status=status)
    files["completeness"] = svg
    svg, png = (
        out / "figures" / "quality_completeness_sites.svg",
        out / "figures" / "quality_completeness_sites.png",
    )
    figures.make_completeness_by_site(data, svg, png, title=caps["completeness_sites"].text)
    files["completeness_sites"] = svg
    rec = None
    if "recruitment" in caps:
        rec = recruitment_by_month(data, settings.recruitment)
        svg, png = out / "figures" / "quality_recruitment.svg", out / "figures" / "quality_recruitment.png"
        figures.make_recruitment(
            rec, svg, png, title=caps["recruitment"].text, max_lines=settings.recruitment.max_lines
        )
        from feasibility.io import write_csv

        write_csv(out / "tables" / "quality_recruitment.csv", rec.frame)
        files["recruitment"], files["recruitment_csv"] = svg, out / "tables" / "quality_recruitment.csv"
    if build.exists():
        shutil.rmtree(build)
    shutil.copytree(report_src, build)
    write_includes(build, data, settings, files, caps, rec)
    files["build"] = build
    if render:
        from feasibility.render import render_report

        rendered = render_report(
            build,
            out,
            formats=formats,
            backend=backend,
            document=DOCUMENT,
            source_date_epoch=source_date_epoch(data),
        )
        files.update(rendered)
    return files


__all__ = [
    "captions",
    "outputs",
    "write_includes",
    "summary_markdown",
    "source_date_epoch",
    "build_quality_report",
    "INCLUDES",
    "DOCUMENT",
    "Output",
]
