# Figures: one job per figure the study file declares (its `figures` section; kinds flow,
# recruitment, completeness; docs/figures.md). Each reads the validated forms (FORMS) and the
# saved analysis dataset (ANALYSIS), both defined in common.smk, and writes
# results/<study>/figures/<id>.{svg,png,alt.txt,json,csv}; the report places figures by id.
FIGURE_IDS = list(config.get("figures") or {})


rule figure:
    """A declared figure: CONSORT flow, recruitment over time or completeness (by kind). It
    reruns when its declaration or the analysis declarations change (params), when the data
    change, or when its code changes."""
    input:
        interface(),
        analysis=analysis_dataset,
        passed=VALIDATED,
        code=code("figure"),
    output:
        svg=R("figures/{figure}.svg"),
        png=R("figures/{figure}.png"),
        alt=R("figures/{figure}.alt.txt"),
        meta=R("figures/{figure}.json"),
        data=R("figures/{figure}.csv"),
    log:
        R("logs/figure_{figure}.log"),
    wildcard_constraints:
        figure="|".join(FIGURE_IDS) or "(?!)",
    threads: 1
    resources:
        mem_mb=2000,
    params:
        settings=lambda w: {
            **ANALYSIS_SETTINGS,
            "figures": {w.figure: config["figures"][w.figure]},
            # a tipping-point figure redoes its table's imputations
            **(
                config_subset(config, ["statistics", "estimands", "tables"])
                if config["figures"][w.figure].get("kind") in ("tipping_point", "forest")
                else {}
            ),
        },
    run:
        require_passed()
        steps.figure(config, wildcards.figure, FORMS, ANALYSIS, output.svg, log_file=log[0])
