PARTICIPANT_EXPORTS = ["enrolment", "work_preparation", "placements", "status_changes",
                       "case_management", "adverse_events", "followup_admin"]


rule participants:
    """One row per participant: baseline, flow, delivery and follow-up status."""
    input:
        **{e: validated(e) for e in PARTICIPANT_EXPORTS},
        passed=VALIDATED,
        code=code("derive.py", "schemas/derived.py"),
    output:
        "results/derived/participants_core.parquet",
    log:
        "results/logs/participants.log",
    threads: 1
    resources:
        mem_mb=2000,
    run:
        steps.participants({e: input[e] for e in PARTICIPANT_EXPORTS}, output[0], log_file=log[0])


rule score:
    """Score every instrument at one time point (the paper's missing-data rules)."""
    input:
        questionnaire=validated("questionnaires_{timepoint}"),
        participants="results/derived/participants_core.parquet",
        passed=VALIDATED,
        mapping_table=mapping_table(),
        code=code("scoring"),
    output:
        scores="results/derived/scores_{timepoint}.parquet",
        log="results/derived/scoring_log_{timepoint}.csv",
    params:
        settings=config_subset(config, ["scoring"]),
    wildcard_constraints:
        timepoint="|".join(TIMEPOINTS),
    log:
        "results/logs/score_{timepoint}.log",
    threads: 1
    resources:
        mem_mb=2000,
    run:
        steps.score(wildcards.timepoint, input.questionnaire, input.participants, params.settings,
                    output.scores, output.log, log_file=log[0])


rule analysis_dataset:
    """The analysis dataset: scores by participant and time point, participants with job outcomes."""
    input:
        scores=expand("results/derived/scores_{tp}.parquet", tp=TIMEPOINTS),
        logs=expand("results/derived/scoring_log_{tp}.csv", tp=TIMEPOINTS),
        participants="results/derived/participants_core.parquet",
        passed=VALIDATED,
    output:
        scores="results/derived/scores.parquet",
        participants="results/derived/participants.parquet",
        log="results/derived/imputation_counts.csv",
    log:
        "results/logs/analysis_dataset.log",
    threads: 1
    resources:
        mem_mb=2000,
    run:
        steps.analysis_dataset(input.scores, input.logs, input.participants,
                               output.scores, output.participants, output.log, log_file=log[0])
