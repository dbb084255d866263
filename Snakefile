# Study report: REDCap downloads -> validated, one tidy table per instrument -> the
# analysis dataset (scores, derived variables, flow) -> the declared tables, figures and
# named values -> the report (HTML and PDF), all as the study file declares them; and a
# data-quality report of the project. Run `snakemake` (the default profile in
# profiles/default sets cores and options); `snakemake validate` checks the downloads
# only; `snakemake schemas` writes each instrument's Pandera schema.
# The study is config/config.yaml, or the file given with --configfile (which replaces
# it); workflow/rules/common.smk checks it against schemas/config.schema.yaml first.
# Every output of the study is under results/<id>/ (its id: study.id, by default the study
# file's name), so that studies side by side never touch each other's files;
# `feasibility build --all` builds every study file, one after another.


include: "workflow/rules/common.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/quality.smk"
include: "workflow/rules/pull.smk"


# The main report needs the study's analysis declarations (common.smk: declares_analysis);
# a study file that names only its downloads gets validation and the data-quality report.
if MAIN_REPORT:

    include: "workflow/rules/analysis.smk"
    include: "workflow/rules/figures.smk"
    include: "workflow/rules/reproduction.smk"
    include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        VALIDATION.passed,
        R(f"report/{STUDY}-quality.html"),
        R(f"report/{STUDY}-quality.pdf"),
        *([R(f"report/{STUDY}.html"), R(f"report/{STUDY}.pdf")] if MAIN_REPORT else []),


onsuccess:
    on_success()


onerror:
    on_error()
