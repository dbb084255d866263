# The report, as the study file declares it (report: title, sections, narrative): a build
# copy of report/ with the generated includes, then HTML and PDF. What it shows (SHOWN) and
# reads (REPORT_INPUTS, report_files) is in common.smk.
rule report_sources:
    """A build copy of report/: feasibility.qmd with the declared sections (headings and
    includes only) and the generated includes (_generated/*.md, figures/)."""
    input:
        **REPORT_INPUTS,
        tables=expand(R("tables/{table}.html"), table=SHOWN["table"]),
        figures=expand(R("figures/{figure}.svg"), figure=SHOWN["figure"]),
        alt=expand(R("figures/{figure}.alt.txt"), figure=SHOWN["figure"]),
        provenance=lambda w: provenance(),
        qmd="report/feasibility.qmd",
        quarto="report/_quarto.yml",
        assets=sorted(str(p) for p in Path("report/assets").glob("*") if p.is_file()),
        code=code("report_sources") + study_code(),
    output:
        directory(R("report/build")),
    log:
        R("logs/report_sources.log"),
    threads: 1
    resources:
        mem_mb=1000,
    params:
        # what the report says of the study: its sections, methods and settings
        settings=config_subset(
            config,
            [
                "study",
                "report",
                "timepoints",
                "instruments",
                "parameters",
                "statistics",
                "disclosure",
                "paths",
                "figures",
                "estimands",
                "arms",
                "flow",
                "redcap",
            ],
        ),
        tables={
            t: (config["tables"][t].get("label"), config["tables"][t].get("title"))
            for t in config.get("tables") or {}
        },
    run:
        require_passed()
        steps.report_sources(config, report_files(input), output[0], log_file=log[0])


rule render:
    """Render the report to HTML and PDF (Quarto if installed, else pandoc and Typst)."""
    input:
        build=R("report/build"),
        analysis=f"{ANALYSIS}/variables.json",  # the build date: the last follow-up's month
        passed=VALIDATED,
        quarto=config["report"]["quarto_executable"] or [],
        code=code("render"),
    output:
        html=R(f"report/{STUDY}.html"),
        pdf=R(f"report/{STUDY}.pdf"),
    log:
        R("logs/render.log"),
    threads: 1
    resources:
        mem_mb=2000,
    params:
        settings=config_subset(config, ["report"]),
    run:
        require_passed()
        steps.render(
            params.settings, input.build, output.html, output.pdf, input.analysis, log_file=log[0]
        )
