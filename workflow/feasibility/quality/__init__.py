"""A data-quality report for any REDCap project, from its validated data (issue 16.3).

Public API (one function per output; pure functions from the validated data, I/O at the edges)::

    from feasibility.quality import QualityData, load_settings, captions
    data = QualityData.read("results/<id>/validated", "results/<id>/validation/report.json")
    settings = load_settings(config)                 # the study file's `quality` section
    caps = captions(data, settings)                  # {"records": Caption("Table 1", ...), ...}

    records_table(data, caps["records"]).write(html, csv)          # records by arm x event (x DAG)
    make_completeness(data, svg, png, title=caps["completeness"].text)   # heat map, form x event
    completion_table(data, caps["completion"]).write(html, csv)    # completion status by event
    missingness_table(data, caps["missingness"], settings).write(html, csv)
    missing_codes_table(data, caps["missing_codes"]).write(html, csv)
    validation_table(data, caps["validation"], settings).write(html, csv)
    make_recruitment(recruitment_by_month(data, settings.recruitment), svg, png,   # only when the study
                     title=caps["recruitment"].text)                            # names a date field
    codebook_table(data, caps["codebook"], settings).write(html, csv)
    write_includes(build, data, settings, files, caps)   # _generated/quality_*.md of a copy of report/
    render_report(build, "results/<id>/report", document="quality.qmd", name="<id>-quality",
                  source_date_epoch=source_date_epoch(data))

    build_quality_report(data, settings, out_dir, render=True)     # all of the above at once

The numbers behind each output are plain data frames: :func:`records_by_event`,
:func:`completion_status`, :func:`field_missingness` / :func:`missingness_frame`,
:func:`missing_codes_used`, :func:`validation_summary`, :func:`recruitment_by_month`,
:func:`codebook_frame`.

Modules follow the data flow: ``data`` (the validated data and metadata) -> ``counts``
(records, completion), ``missingness`` (with branching logic), ``validation`` (the
report's failures), ``recruitment``, ``codebook`` -> ``tables`` (great-tables) and
``figures`` (matplotlib) -> ``report`` (captions, includes). Privacy: counts only; no
record ID, identifier value or date of birth in the report; dates by month.

The data manager's query list (issue 24): ``queries`` (REDCap's data-quality rules A to I,
validation's findings, the study's checks, overdue forms) -> ``tracking`` (new, pending,
changed, resolved against the previous export) -> ``workbook`` (Excel, a sheet per site) and
``query_outputs`` (the files and the report's table of counts)::

    from feasibility.quality.query_outputs import write_queries
    write_queries(data, settings, caps["queries"], history_dir, csv, xlsx, html, table_csv, parquet, meta)

The query list names records by their record ID, for the study team; identifier fields never
appear in it.
"""

# The public names, each from its module, imported when first used (PEP 562): importing
# ``feasibility.quality.settings`` (every Snakemake start-up does, rules/quality.smk) must
# not import matplotlib, great-tables and the REDCap library with it. The modules are named
# in full, so that the package's import graph (feasibility.imports) sees them.
_FROM = {
    "feasibility.quality.codebook": ("codebook_frame",),
    "feasibility.quality.counts": ("completion_status", "records_by_event"),
    "feasibility.quality.data": ("QualityData",),
    "feasibility.quality.figures": (
        "draw_completeness",
        "draw_recruitment",
        "make_completeness",
        "make_recruitment",
    ),
    "feasibility.quality.missingness": ("field_missingness", "missing_codes_used", "missingness_frame"),
    "feasibility.quality.recruitment": ("RecruitmentError", "recruitment_by_month"),
    "feasibility.quality.report": (
        "build_quality_report",
        "captions",
        "outputs",
        "source_date_epoch",
        "summary_markdown",
        "write_includes",
    ),
    "feasibility.quality.settings": ("QualitySettings", "load_settings"),
    "feasibility.quality.tables": (
        "Caption",
        "QualityTable",
        "codebook_table",
        "completion_table",
        "missing_codes_table",
        "missingness_table",
        "records_table",
        "validation_table",
    ),
    "feasibility.quality.validation": ("validation_notes", "validation_summary"),
}
_MODULE = {name: module for module, names in _FROM.items() for name in names}


def __getattr__(name: str):
    if name not in _MODULE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_MODULE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE))


__all__ = [
    "QualityData",
    "QualitySettings",
    "load_settings",
    "captions",
    "outputs",
    "Caption",
    "QualityTable",
    "records_table",
    "completion_table",
    "missingness_table",
    "missing_codes_table",
    "validation_table",
    "codebook_table",
    "make_completeness",
    "make_recruitment",
    "draw_completeness",
    "draw_recruitment",
    "write_includes",
    "summary_markdown",
    "source_date_epoch",
    "build_quality_report",
    "records_by_event",
    "completion_status",
    "field_missingness",
    "missingness_frame",
    "missing_codes_used",
    "validation_summary",
    "validation_notes",
    "recruitment_by_month",
    "RecruitmentError",
    "codebook_frame",
]
