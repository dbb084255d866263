# The analysis, as the study file declares it: the validated forms -> the analysis
# dataset (one job) -> one job per declared table -> the named values.
#
#   analysis          results/<id>/analysis/: every instrument scored, every derived variable
#                     (a checkpoint: afterwards only the tables whose part of it changed run)
#   table             results/<id>/tables/<id>.{html,csv}: one declared table (its kind's module)
#   values            results/<id>/values/values.json: every number the report states, by name
from feasibility.analysis.spec import analysis_settings, dependencies, load_spec, table_dependencies

SPEC = load_spec(config, checked=True)
TABLES = list(SPEC.tables)
# The study file's analysis sections (and the parameters they use): a change to one of
# them reruns the analysis job; a change to a table, a value or the report does not.
ANALYSIS_SETTINGS = analysis_settings(config)


# A checkpoint, so that once it has run Snakemake decides again which tables need it: a
# table reruns when what it reads of the analysis changed (its params), not whenever the
# analysis job ran (for an instrument, time point or variable another table shows).
checkpoint analysis:
    """The analysis dataset, once: every instrument scored at each of its time points, every
    derived variable and the participant flow (records, time points, scoring log)."""
    input:
        interface(),
        passed=VALIDATED,
        provenance=lambda w: provenance(),
        mapping_tables=mapping_tables(),
        code=code("analysis"),
    output:
        ANALYSIS_FILES,
    log:
        R("logs/analysis.log"),
    threads: 1
    resources:
        mem_mb=4000,
    params:
        settings=ANALYSIS_SETTINGS,
    run:
        require_passed()
        steps.analysis(FORMS, config, ANALYSIS, provenance=input.provenance or None, log_file=log[0])


rule table:
    """One declared table (tables.<id> of the study file): the great-tables HTML fragment
    and the tidy CSV of its cells, made by its kind's generic module from the analysis
    dataset. It reruns when its own declaration or a part of the analysis it reads changes
    (params), when the data change (the interface), or when its code changes; a change to
    another table, or a variable, time point or instrument it does not read, leaves it."""
    input:
        # every input of the analysis job (the data, their provenance, lookup tables, its
        # code) reruns the table when it changes; the analysis dataset itself is read after
        # the checkpoint, as ancient: what the table reads of it is in its params
        interface(),
        analysis=analysis_dataset,
        passed=VALIDATED,
        provenance=lambda w: provenance(),
        mapping_tables=mapping_tables(),
        code=lambda w: code("table", f"feasibility.tables.{SPEC.tables[w.table]['kind']}"),
    output:
        html=R("tables/{table}.html"),
        csv=R("tables/{table}.csv"),
        typst=R("tables/{table}.typ"),
    log:
        R("logs/table_{table}.log"),
    wildcard_constraints:
        table="|".join(TABLES) or "no_table",
    threads: 1
    resources:
        mem_mb=2000,
    params:
        settings=lambda w: {**table_dependencies(SPEC, w.table), **config_subset(config, ["disclosure"])},
    run:
        require_passed()
        steps.table(
            wildcards.table,
            FORMS,
            ANALYSIS,
            config,
            output.html,
            output.csv,
            provenance=input.provenance or None,
            log_file=log[0],
        )


rule values:
    """Every number the report states, by name, once: the study file's values over the
    analysis dataset, and each table cell that carries a published key."""
    input:
        interface(),
        ANALYSIS_FILES,
        tables=expand(R("tables/{table}.csv"), table=TABLES),
        published=PUBLISHED or [],
        passed=VALIDATED,
        code=code("values") + study_code(),
    output:
        R("values/values.json"),
    log:
        R("logs/values.log"),
    threads: 1
    resources:
        mem_mb=2000,
    params:
        settings=config_subset(config, ["values"]),
    run:
        require_passed()
        steps.values(
            FORMS, ANALYSIS, config, list(input.tables), PUBLISHED or None, output[0], log_file=log[0]
        )
