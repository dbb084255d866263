FIGURE_INPUTS = {
    "consort": {"screening": validated("screening"),
                "participants": "results/derived/participants_core.parquet"},
    "timeline": {"screening": validated("screening"),
                 "participants": "results/derived/participants_core.parquet"},
    "completeness": {"participants": "results/derived/participants_core.parquet",
                     **{f"q_{tp}": validated(f"questionnaires_{tp}") for tp in TIMEPOINTS[1:]}},
}


rule figure:
    """Figure 1 (CONSORT flow), Figure 2 (timeline) or the follow-up completeness heat map."""
    input:
        unpack(lambda w: FIGURE_INPUTS[w.figure]),
        passed=VALIDATED,
        code=lambda w: code(f"figures/{w.figure}.py", "figures/common.py"),
    output:
        svg="results/figures/{figure}.svg",
        png="results/figures/{figure}.png",
        alt="results/figures/{figure}.alt.txt",
    wildcard_constraints:
        figure="|".join(FIGURES),
    log:
        "results/logs/figure_{figure}.log",
    threads: 1
    resources:
        mem_mb=2000,
    run:
        steps.figure(wildcards.figure, {k: input[k] for k in FIGURE_INPUTS[wildcards.figure]},
                     output.svg, output.png, log_file=log[0])
