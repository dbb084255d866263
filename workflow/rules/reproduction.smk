# The publication's numbers: audited against each other, and each compared with its named
# value. Only for a study that names a published-values file (paths.published_values);
# without one these rules are not part of the workflow and the report has no appendices
# A and B.
from feasibility.publication import named as study_package
from feasibility.scoring.registry import missing_item_rules

# the subscales whose missing-item rules the study's own audit reads (none: the generic audit)
AUDITED = getattr(study_package(STUDY_PACKAGE), "audited_subscales", set)()

if PUBLISHED:

    rule audit:
        """Audit of the publication's own numbers (GRIM, GRIMMER, ranges, CIs, percentages,
        totals)."""
        input:
            published=PUBLISHED,
            passed=VALIDATED,
            code=code("audit") + study_code(),
        output:
            R("reproduction/audit.csv"),
        log:
            R("logs/audit.log"),
        threads: 1
        resources:
            mem_mb=500,
        params:
            # the confidence level, and which of the scores it checks may have been imputed
            settings={
                **config_subset(config, ["statistics", "study.package"]),
                "missing_items": {
                    k: v for k, v in missing_item_rules(config["instruments"]).items() if k in AUDITED
                },
            },
        run:
            steps.audit(input.published, params.settings, output[0], log_file=log[0])

    rule reproduction:
        """Compare every published value with the value computed from the data."""
        input:
            published=PUBLISHED,
            values=R("values/values.json"),
            passed=VALIDATED,
            audit=R("reproduction/audit.csv"),
            code=code("reproduction") + study_code(),
        output:
            R("reproduction/comparison.csv"),
        log:
            R("logs/reproduction.log"),
        threads: 1
        resources:
            mem_mb=1000,
        run:
            require_passed()
            steps.reproduction(
                input.published,
                input.values,
                input.audit,
                output[0],
                package=STUDY_PACKAGE,
                log_file=log[0],
            )
