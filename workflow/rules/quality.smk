# The data-quality report of any REDCap project (issue 16.3): records by arm, event and
# data access group; form completion; missing data and missing-data codes; the validation
# results; recruitment over time (when the study names its date field); the codebook.
# Made from the validated data (results/validated/) and validation's report.
QUALITY = "results/quality"
QUALITY_FIGURES = steps.quality_figures(config)
QUALITY_SETTINGS = steps.quality_settings(config)
QUALITY_INPUTS = {
    **{t: f"{QUALITY}/tables/quality_{t}.html" for t in steps.QUALITY_TABLES},
    **{f: f"{QUALITY}/figures/quality_{f}.svg" for f in QUALITY_FIGURES},
}


rule quality_table:
    """One table of the data-quality report (great-tables HTML fragment and tidy CSV)."""
    input:
        forms=FORMS,
        passed=VALIDATED,        # validation's report.json beside it is read too
        code=lambda w: code("quality", "tables/common.py", "escape.py"),
    output:
        html=f"{QUALITY}/tables/quality_{{table}}.html",
        csv=f"{QUALITY}/tables/quality_{{table}}.csv",
    params:
        settings=QUALITY_SETTINGS,
        report=VALIDATION.json,
    wildcard_constraints:
        table="|".join(steps.QUALITY_TABLES),
    log:
        "results/logs/quality_table_{table}.log",
    threads: 1
    resources:
        mem_mb=2000,
    run:
        require_passed()
        steps.quality_table(wildcards.table, input.forms, params.report, params.settings, output.html,
                            output.csv, log_file=log[0])


rule quality_figure:
    """The completeness heat map (form x event), or recruitment over time."""
    input:
        forms=FORMS,
        passed=VALIDATED,
        code=code("quality", "figures/common.py", "escape.py"),
    output:
        svg=f"{QUALITY}/figures/quality_{{figure}}.svg",
        png=f"{QUALITY}/figures/quality_{{figure}}.png",
        alt=f"{QUALITY}/figures/quality_{{figure}}.alt.txt",
    params:
        settings=QUALITY_SETTINGS,
        report=VALIDATION.json,
        csv=lambda w: f"{QUALITY}/tables/quality_{w.figure}.csv" if w.figure == "recruitment" else None,
    wildcard_constraints:
        figure="|".join(QUALITY_FIGURES),
    log:
        "results/logs/quality_figure_{figure}.log",
    threads: 1
    resources:
        mem_mb=2000,
    run:
        require_passed()
        steps.quality_figure(wildcards.figure, input.forms, params.report, params.settings, output.svg,
                             output.png, params.csv, log_file=log[0])


rule quality_sources:
    """A build copy of report/ with the quality report's includes (_generated/quality_*.md)."""
    input:
        **QUALITY_INPUTS,
        forms=FORMS,
        passed=VALIDATED,
        alt=expand(f"{QUALITY}/figures/quality_{{f}}.alt.txt", f=QUALITY_FIGURES),
        qmd="report/quality.qmd",
        quarto="report/_quarto.yml",
        assets=sorted(str(p) for p in Path("report/assets").glob("*") if p.is_file()),
        code=code("quality", "report_content.py", "typeset.py", "escape.py"),
    output:
        directory("results/report/quality_build"),
    params:
        settings=QUALITY_SETTINGS,
        report=VALIDATION.json,
    log:
        "results/logs/quality_sources.log",
    threads: 1
    resources:
        mem_mb=1000,
    run:
        require_passed()
        steps.quality_sources(params.settings, input.forms, params.report,
                              {k: input[k] for k in QUALITY_INPUTS}, output[0], log_file=log[0])


rule quality_render:
    """Render the data-quality report to HTML and PDF (Quarto if installed, else pandoc and Typst)."""
    input:
        build="results/report/quality_build",
        forms=FORMS,
        passed=VALIDATED,
        quarto=config["report"]["quarto_executable"] or [],
        code=code("render.py"),
    output:
        html="results/report/quality.html",
        pdf="results/report/quality.pdf",
    params:
        settings=config_subset(config, ["report"]),
        report=VALIDATION.json,
    log:
        "results/logs/quality_render.log",
    threads: 1
    resources:
        mem_mb=2000,
    run:
        require_passed()
        steps.quality_render(params.settings, input.build, input.forms, params.report, output.html, output.pdf,
                             log_file=log[0])
