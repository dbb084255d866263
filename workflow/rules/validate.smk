rule validate_export:
    """Validate one raw export against its schema and the exports it refers to."""
    input:
        raw=lambda w: raw(w.export),
        dictionary=f"{RAW}/{crf.DICTIONARY_FILE}",
        context=lambda w: [validated(d) for d in crf.EXPORTS[w.export].depends_on],
        code=code("validation.py", "crf.py", "schemas/raw.py"),
    output:
        "results/validated/{export}.parquet",
    log:
        "results/validation/exports/{export}.json",
    wildcard_constraints:
        export="|".join(EXPORTS),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        steps.validate_export(wildcards.export, RAW, input.dictionary,
                              {d: validated(d) for d in crf.EXPORTS[wildcards.export].depends_on},
                              output[0], log[0])


rule validate:
    """Validate every export and write the combined validation report."""
    input:
        expand("results/validated/{export}.parquet", export=EXPORTS),
    output:
        md="results/validation/report.md",
        json="results/validation/report.json",
    params:
        reports="results/validation/exports",
    log:
        "results/logs/validate.log",
    threads: 1
    resources:
        mem_mb=500,
    run:
        steps.validation_report(params.reports, output.md, output.json, RAW, log_file=log[0])
