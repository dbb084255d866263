TABLE_INPUTS = {
    "table2": {"participants": "results/derived/participants_core.parquet",
               "scores": "results/derived/scores_baseline.parquet"},
    "table3": {"participants": "results/derived/participants_core.parquet",
               "scores": "results/derived/scores.parquet"},
    "table4": {"week6": "results/derived/scores_week6.parquet"},
    "table5": {"week14": "results/derived/scores_week14.parquet",
               "month6": "results/derived/scores_month6.parquet"},
    "feasibility_metrics": {"participants": "results/derived/participants_core.parquet",
                            "screening": validated("screening"),
                            "status_changes": validated("status_changes"),
                            "week14": "results/derived/scores_week14.parquet",
                            "month6": "results/derived/scores_month6.parquet"},
}

# The parts of the study configuration each table reads: a change to one of them reruns
# that table (a Snakemake params trigger), and only that table.
TABLE_CONFIG = {
    "table2": ["scoring.eq5d_index", "disclosure"],
    "table3": ["scoring.eq5d_index", "study.start_date_definition", "disclosure"],
    "table4": ["disclosure"],
    "table5": ["disclosure"],
    "feasibility_metrics": ["feasibility", "disclosure"],
}


rule table:
    """One of the paper's tables (great-tables HTML fragment and tidy CSV of its cells)."""
    input:
        unpack(lambda w: TABLE_INPUTS[w.table]),
        passed=VALIDATED,
        provenance=lambda w: provenance(),
        code=lambda w: code(f"tables/{w.table}.py", "tables/common.py", "stats.py",
                            "provenance.py", "eq5d_method.py", "derive.py"),
    output:
        html="results/tables/{table}.html",
        csv="results/tables/{table}.csv",
    params:
        settings=lambda w: config_subset(config, TABLE_CONFIG[w.table]),
    wildcard_constraints:
        table="|".join(TABLES),
    log:
        "results/logs/table_{table}.log",
    threads: 1
    resources:
        mem_mb=2000,
    run:
        steps.table(wildcards.table, {k: input[k] for k in TABLE_INPUTS[wildcards.table]},
                    params.settings, output.html, output.csv,
                    provenance=input.provenance or None, log_file=log[0])
