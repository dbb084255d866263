rule validate_export:
    """Validate one raw export against its schema and the exports it refers to."""
    input:
        raw=lambda w: raw(w.export),
        dictionary=raw("data_dictionary"),
        context=lambda w: list(context(w.export).values()),
        code=code("validation.py", "crf.py", "schemas/raw.py"),
    output:
        "results/validated/{export}.parquet",
    params:
        # the content, not only the modification time: a file copied with `cp -p` or
        # touched back to an old date still reruns its validation
        sha256=lambda w: {"raw": DATA.get(crf.EXPORTS[w.export].file),
                          "dictionary": DATA.get(crf.DICTIONARY_FILE)},
        settings=VALIDATION_SETTINGS,
        summary=lambda w: VALIDATION.summary(w.export),
        failures=lambda w: VALIDATION.failures(w.export),
    log:
        "results/logs/validate_{export}.log",
    wildcard_constraints:
        export="|".join(EXPORTS),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        steps.validate_export(wildcards.export, RAW, input.dictionary, context(wildcards.export),
                              params.settings, output[0], params.summary, params.failures, log_file=log[0])


rule validate:
    """The success record of validation: written last, only when every export passed."""
    input:
        expand("results/validated/{export}.parquet", export=EXPORTS),
        raw=list(RAW_FILES.values()),
    output:
        VALIDATION.passed,
    params:
        sha256=DATA,
        settings=VALIDATION_SETTINGS,
    log:
        "results/logs/validate.log",
    threads: 1
    resources:
        mem_mb=500,
    run:
        steps.validate(RAW, params.settings, output[0], log_file=log[0])
