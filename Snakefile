# Feasibility report: raw REDCap exports -> validated -> one tidy table per form -> the
# analysis dataset (scores, derived variables, flow) -> the declared tables, figures and
# named values -> the report (HTML and PDF), all as the study file declares them.
# Run `snakemake` (the default profile in profiles/default sets cores and options);
# `snakemake validate` checks the exports only.
# The study is config/config.yaml, or the file given with --configfile (which replaces
# it); workflow/rules/common.smk checks it against schemas/config.schema.yaml first.


include: "workflow/rules/common.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/reproduction.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        VALIDATION.passed,
        "results/report/feasibility.html",
        "results/report/feasibility.pdf",
    default_target: True


onsuccess:
    steps.on_success()


onerror:
    on_error()
