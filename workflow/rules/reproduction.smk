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


rule values:
    """Every number the report states, by name, once (results/values/values.json)."""
    input:
        published=config["paths"]["published_values"],
        tables=expand("results/tables/{table}.csv", table=TABLES),
        participants="results/derived/participants.parquet",
        screening=validated("screening"),
        status_changes=validated("status_changes"),
        work_preparation=validated("work_preparation"),
        case_management=validated("case_management"),
        passed=VALIDATED,
        code=code("values.py", "paper.py", "eq5d_method.py", "derive.py", "audit.py",
                  "stats.py"),
    output:
        "results/values/values.json",
    params:
        settings=config_subset(config, ["scoring.eq5d_index"]),
    log:
        "results/logs/values.log",
    threads: 1
    resources:
        mem_mb=1000,
    run:
        steps.values(input.published, input.tables,
                     {k: input[k] for k in ("participants", "screening", "status_changes",
                                            "work_preparation", "case_management")},
                     params.settings, output[0], log_file=log[0])


rule reproduction:
    """Compare every published value with the value computed from the data."""
    input:
        published=config["paths"]["published_values"],
        values="results/values/values.json",
        passed=VALIDATED,
        audit="results/reproduction/audit.csv",
        code=code("reproduction.py", "paper.py", "audit.py", "stats.py"),
    output:
        "results/reproduction/comparison.csv",
    log:
        "results/logs/reproduction.log",
    threads: 1
    resources:
        mem_mb=1000,
    run:
        steps.reproduction(input.published, input.values, input.audit, output[0], log_file=log[0])
