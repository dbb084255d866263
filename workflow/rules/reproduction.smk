rule audit:
    """Audit of the paper's own numbers (GRIM, GRIMMER, ranges, CIs, percentages, totals)."""
    input:
        published=config["paths"]["published_values"],
        passed=VALIDATED,
        code=code("audit.py"),
    output:
        "results/reproduction/audit.csv",
    params:
        settings=config_subset(config, ["statistics", "scoring.missing_items"]),
    log:
        "results/logs/audit.log",
    threads: 1
    resources:
        mem_mb=500,
    run:
        steps.audit(input.published, params.settings, output[0], log_file=log[0])


rule reproduction:
    """Compare every published value with the value computed from the data."""
    input:
        published=config["paths"]["published_values"],
        tables=expand("results/tables/{table}.csv", table=TABLES),
        audit="results/reproduction/audit.csv",
        participants="results/derived/participants.parquet",
        screening=validated("screening"),
        status_changes=validated("status_changes"),
        work_preparation=validated("work_preparation"),
        case_management=validated("case_management"),
        passed=VALIDATED,
        code=code("reproduction.py"),
    output:
        "results/reproduction/comparison.csv",
    log:
        "results/logs/reproduction.log",
    threads: 1
    resources:
        mem_mb=1000,
    run:
        steps.reproduction(input.published, input.tables,
                           {k: input[k] for k in ("participants", "screening", "status_changes",
                                                  "work_preparation", "case_management")},
                           input.audit, output[0], log_file=log[0])
