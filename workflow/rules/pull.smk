rule pull:
    """Pull the study's REDCap downloads over the project's API (redcap.api) into a new
    snapshot data/<study id>/pulls/<time>/ (feasibility.pull). Runs only when asked,
    `snakemake pull`: no other rule needs it, and nothing else makes a network request.
    A project unchanged since the latest pull adds no snapshot."""
    log:
        R("logs/pull.log"),
    localrule: True
    threads: 1
    resources:
        mem_mb=1000,
    run:
        from feasibility.pull import run

        run(config, STUDY_FILES[-1])
