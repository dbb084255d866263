rule validate:
    """Validate the REDCap downloads against the project's own metadata: the report always;
    one tidy table per form and, last, the success record only when the data pass."""
    input:
        **REDCAP,
        code=code("validate"),
    output:
        forms=directory(FORMS),
        passed=VALIDATION.passed,
    params:
        # the content, not only the modification time: a file copied with `cp -p` or
        # touched back to an old date still reruns its validation
        sha256=DATA,
        settings=VALIDATION_SETTINGS,
    log:
        R("logs/validate.log"),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        steps.validate(REDCAP, params.settings, params.sha256, output.forms, output.passed, VALIDATION,
                       log_file=log[0])


rule schemas:
    """The Pandera schema of every instrument (Pandera's YAML), from the project's metadata,
    for a reviewer to diff when the data dictionary changes (`snakemake schemas`)."""
    input:
        **{k: v for k, v in REDCAP.items() if k != "records"},
        code=code("schemas"),
    output:
        directory(R("schemas")),
    params:
        settings=VALIDATION_SETTINGS,
    log:
        R("logs/schemas.log"),
    threads: 1
    resources:
        mem_mb=1000,
    run:
        steps.schemas(REDCAP, params.settings, output[0], log_file=log[0])
