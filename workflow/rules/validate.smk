rule check_data:
    """Validate the REDCap downloads against the project's own metadata: the report always;
    one tidy table per form and the record of the check (passed or failed) whenever the data
    can be read, for the data-quality report and the query list (issue 25.2)."""
    input:
        **REDCAP,
        code=code("validate"),
    output:
        forms=directory(FORMS),
        checked=VALIDATION.checked,
    log:
        R("logs/validate.log"),
    threads: 1
    resources:
        mem_mb=2000,
    params:
        # the content, not only the modification time: a file copied with `cp -p` or
        # touched back to an old date still reruns its validation
        sha256=DATA,
        settings=VALIDATION_SETTINGS,
    run:
        steps.validate(
            REDCAP,
            params.settings,
            params.sha256,
            output.forms,
            output.checked,
            VALIDATION,
            log_file=log[0],
        )


rule validate:
    """The success record, last, only when the data pass: what the analysis and the main
    report need. Data with errors fail the run here (`snakemake validate` too), after their
    data-quality report and query list are built (the profile's keep-going)."""
    input:
        forms=FORMS,
        checked=VALIDATION.checked,
    output:
        passed=VALIDATION.passed,
    log:
        R("logs/validate_verdict.log"),
    # the verdict first, before the data-quality jobs that also wait on the check: the
    # analysis starts as soon as it can, and failing data say so at once
    priority: 100
    threads: 1
    resources:
        mem_mb=500,
    params:
        settings=VALIDATION_SETTINGS,
    run:
        steps.verdict(
            REDCAP,
            params.settings,
            input.forms,
            input.checked,
            output.passed,
            VALIDATION,
            log_file=log[0],
        )


rule schemas:
    """The Pandera schema of every instrument (Pandera's YAML), from the project's metadata,
    for a reviewer to diff when the data dictionary changes (`snakemake schemas`)."""
    input:
        **{k: v for k, v in REDCAP.items() if k != "records"},
        code=code("schemas"),
    output:
        directory(R("schemas")),
    log:
        R("logs/schemas.log"),
    threads: 1
    resources:
        mem_mb=1000,
    params:
        settings=VALIDATION_SETTINGS,
    run:
        steps.schemas(REDCAP, params.settings, output[0], log_file=log[0])
