REPORT_INPUTS = {
    "participants": "results/derived/participants_core.parquet",
    **{t: f"results/tables/{t}.html" for t in TABLES},
    **{f: f"results/figures/{f}.svg" for f in FIGURES},
    "comparison": "results/reproduction/comparison.csv",
    "values": "results/values/values.json",
    "audit": "results/reproduction/audit.csv",
    "validation": VALIDATION.passed,   # the success record: files, SHA-256s, records
    "imputation": "results/derived/imputation_counts.csv",
}


rule report_sources:
    """A build copy of report/ with the generated includes (_generated/*.md, figures/)."""
    input:
        **REPORT_INPUTS,
        provenance=lambda w: provenance(),
        alt=expand("results/figures/{f}.alt.txt", f=FIGURES),
        qmd="report/feasibility.qmd",
        quarto="report/_quarto.yml",
        assets=sorted(str(p) for p in Path("report/assets").glob("*") if p.is_file()),
        code=code("report_content.py", "typeset.py", "tables/common.py", "narrative.py",
                  "provenance.py", "eq5d_method.py", "paper.py"),
    output:
        directory("results/report/build"),
    params:
        settings=config,  # the methods section is written from the whole study configuration
    log:
        "results/logs/report_sources.log",
    threads: 1
    resources:
        mem_mb=1000,
    run:
        steps.report_sources(params.settings,
                             {**{k: input[k] for k in REPORT_INPUTS},
                              "provenance": input.provenance or None},
                             output[0], log_file=log[0])


rule render:
    """Render the report to HTML and PDF (Quarto if installed, else pandoc and Typst)."""
    input:
        build="results/report/build",
        followup=validated("followup_admin"),
        passed=VALIDATED,
        quarto=config["report"]["quarto_executable"] or [],
        code=code("render.py"),
    output:
        html="results/report/feasibility.html",
        pdf="results/report/feasibility.pdf",
    params:
        settings=config_subset(config, ["report"]),
    log:
        "results/logs/render.log",
    threads: 1
    resources:
        mem_mb=2000,
    run:
        steps.render(params.settings, input.build, output.html, output.pdf, input.followup,
                     log_file=log[0])
