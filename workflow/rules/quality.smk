# The data-quality report of any REDCap project (issue 16.3): records by arm, event and
# data access group; form completion; missing data and missing-data codes; the validation
# results; recruitment over time (when the study names its date field); the codebook.
# Made from the validated data (results/<id>/validated/) and validation's report.
from feasibility.quality.settings import load_settings as load_quality_settings

QUALITY = R("quality")
QUALITY_FIGURES = steps.quality_figures(config)
# the data's provenance.json (synthetic or dummy data say so in the report), or None
QUALITY_SETTINGS = {**steps.quality_settings(config), "provenance": provenance() or None}
# The query list (issue 24): its files, and the history of earlier exports' lists that each
# build compares with. The history is kept between builds: not an output (Snakemake never
# deletes it) and outside results/<id>/quality/ (withdrawing results removes that folder, never
# the history): results/<id>/query_history/, the study's own. Data that fail validation get
# their data-quality report and query list too (issue 25.2): these rules need validation's
# check record (CHECKED), not its success record.
QUERIES = f"{QUALITY}/queries"
QUERY_HISTORY = R("query_history")
QUALITY_INPUTS = {
    **{
        t: f"{QUALITY}/tables/quality_{t}.html"
        for t in steps.QUALITY_TABLES
        if t != "codebook" or load_quality_settings(config).codebook.include
    },  # quality.codebook: false
    "queries": f"{QUALITY}/tables/quality_queries.html",
    **{f: f"{QUALITY}/figures/quality_{f}.svg" for f in QUALITY_FIGURES},
}


rule quality_table:
    """One table of the data-quality report (great-tables HTML fragment and tidy CSV)."""
    input:
        forms=FORMS,
        checked=CHECKED,  # validation's report.json beside it is read too
        provenance=provenance(),
        code=code("quality_table"),
    output:
        html=f"{QUALITY}/tables/quality_{{table}}.html",
        csv=f"{QUALITY}/tables/quality_{{table}}.csv",
        typst=f"{QUALITY}/tables/quality_{{table}}.typ",
    log:
        R("logs/quality_table_{table}.log"),
    wildcard_constraints:
        table="|".join(steps.QUALITY_TABLES),
    threads: 1
    resources:
        mem_mb=2000,
    params:
        settings=QUALITY_SETTINGS,
        report=VALIDATION.json,
    run:
        require_checked()
        steps.quality_table(
            wildcards.table,
            input.forms,
            params.report,
            params.settings,
            output.html,
            output.csv,
            log_file=log[0],
        )


rule quality_figure:
    """The completeness heat map (form x event), or recruitment over time."""
    input:
        forms=FORMS,
        checked=CHECKED,
        provenance=provenance(),
        code=code("quality_figure"),
    output:
        svg=f"{QUALITY}/figures/quality_{{figure}}.svg",
        png=f"{QUALITY}/figures/quality_{{figure}}.png",
        alt=f"{QUALITY}/figures/quality_{{figure}}.alt.txt",
    log:
        R("logs/quality_figure_{figure}.log"),
    wildcard_constraints:
        figure="|".join(QUALITY_FIGURES),
    threads: 1
    resources:
        mem_mb=2000,
    params:
        settings=QUALITY_SETTINGS,
        report=VALIDATION.json,
        csv=lambda w: f"{QUALITY}/tables/quality_{w.figure}.csv" if w.figure == "recruitment" else None,
    run:
        require_checked()
        steps.quality_figure(
            wildcards.figure,
            input.forms,
            params.report,
            params.settings,
            output.svg,
            output.png,
            params.csv,
            log_file=log[0],
        )


rule quality_sources:
    """A build copy of report/ with the quality report's includes (_generated/quality_*.md)."""
    input:
        **QUALITY_INPUTS,
        forms=FORMS,
        checked=CHECKED,
        alt=expand(f"{QUALITY}/figures/quality_{{f}}.alt.txt", f=QUALITY_FIGURES),
        provenance=provenance(),
        qmd="report/quality.qmd",
        quarto="report/_quarto.yml",
        assets=sorted(str(p) for p in Path("report/assets").glob("*") if p.is_file()),
        code=code("quality_sources"),
    output:
        directory(R("report/quality_build")),
    log:
        R("logs/quality_sources.log"),
    threads: 1
    resources:
        mem_mb=1000,
    params:
        settings=QUALITY_SETTINGS,
        report=VALIDATION.json,
    run:
        require_checked()
        steps.quality_sources(
            params.settings,
            input.forms,
            params.report,
            {k: input[k] for k in QUALITY_INPUTS},
            output[0],
            log_file=log[0],
        )


rule quality_queries:
    """The query list (queries.csv, queries.xlsx with a sheet per site), each query marked
    new, pending, changed or resolved against the previous export's list in QUERY_HISTORY,
    and its table in the quality report."""
    input:
        forms=FORMS,
        checked=CHECKED,
        provenance=provenance(),
        code=code("quality_queries"),
    output:
        csv=f"{QUERIES}/queries.csv",
        xlsx=f"{QUERIES}/queries.xlsx",
        parquet=f"{QUERIES}/queries.parquet",
        meta=f"{QUERIES}/queries.json",
        html=f"{QUALITY}/tables/quality_queries.html",
        table_csv=f"{QUALITY}/tables/quality_queries.csv",
        typst=f"{QUALITY}/tables/quality_queries.typ",
    log:
        R("logs/quality_queries.log"),
    threads: 1
    resources:
        mem_mb=2000,
    params:
        settings=QUALITY_SETTINGS,
        report=VALIDATION.json,
        history=QUERY_HISTORY,
    run:
        steps.quality_queries(
            params.settings,
            input.forms,
            params.report,
            params.history,
            {k: output[k] for k in ("csv", "xlsx", "parquet", "meta", "html", "table_csv")},
            log_file=log[0],
        )


rule quality_site_queries:
    """One site's own query workbook: `snakemake results/<id>/quality/queries/queries-<site>.xlsx`
    (<site>: the data access group's name in lower case, other characters as '-')."""
    input:
        parquet=f"{QUERIES}/queries.parquet",
        meta=f"{QUERIES}/queries.json",
        code=code("quality_site_queries"),
    output:
        f"{QUERIES}/queries-{{site}}.xlsx",
    log:
        R("logs/quality_site_queries_{site}.log"),
    wildcard_constraints:
        site="[a-z0-9_][a-z0-9_-]*",
    threads: 1
    resources:
        mem_mb=1000,
    run:
        steps.quality_site_queries(input.parquet, input.meta, wildcards.site, output[0], log_file=log[0])


rule quality_render:
    """Render the data-quality report to HTML and PDF (Quarto if installed, else pandoc and Typst)."""
    input:
        build=R("report/quality_build"),
        forms=FORMS,
        checked=CHECKED,
        quarto=config["report"]["quarto_executable"] or [],
        code=code("quality_render"),
    output:
        html=R(f"report/{STUDY}-quality.html"),
        pdf=R(f"report/{STUDY}-quality.pdf"),
    log:
        R("logs/quality_render.log"),
    threads: 1
    resources:
        mem_mb=2000,
    params:
        settings=config_subset(config, ["report"]),
        report=VALIDATION.json,
    run:
        require_checked()
        steps.quality_render(
            params.settings,
            input.build,
            input.forms,
            params.report,
            output.html,
            output.pdf,
            log_file=log[0],
        )
