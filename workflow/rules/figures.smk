# Figures: one job per figure the study file declares (its `figures` section; kinds flow,
# recruitment, completeness; docs/figures.md). Each reads the validated forms (FORMS) and the
# saved analysis dataset (ANALYSIS), both defined in common.smk, and writes
# results/figures/<id>.{svg,png,alt.txt,json,csv}; the report places figures by id.
from feasibility.analysis.spec import SECTIONS as ANALYSIS_SECTIONS

# ---------------------------------------------------------------------- TRANSITIONAL
# Until the input library's and the analysis library's rules are merged (issues 15 and 16,
# phase B: common.smk then defines FORMS and ANALYSIS, and the study file has its analysis
# and figures sections), the paper's figures are drawn from the same declarations on the
# validated-data interface built from today's validated exports (tests/analysis/legacy.py).
# Delete this block when common.smk defines ANALYSIS.
if "ANALYSIS" not in globals():
    import yaml as _yaml

    FORMS = "results/forms"
    ANALYSIS = "results/analysis"
    if "figures" not in config:
        _paper = _yaml.safe_load((BASE / "config" / "analysis.paper.yaml").read_text())
        _fragment = _yaml.safe_load((BASE / "config" / "figures.paper.yaml").read_text())
        _paper["flow"] = {**_paper.get("flow", {}), **_fragment.get("flow", {})}
        _paper["figures"] = _fragment["figures"]
        STUDY_FIGURES = {**_paper, **{k: v for k, v in config.items() if k not in _paper}}
    else:
        STUDY_FIGURES = config

    rule forms_interim:
        """TRANSITIONAL: the validated-data interface (one table per instrument, codebook.json)."""
        input:
            exports=[validated(e) for e in EXPORTS],
            dictionary=raw("data_dictionary"),
            passed=VALIDATED,
        output:
            directory(FORMS),
        log:
            "results/logs/forms_interim.log",
        run:
            from feasibility.figures.build import interim_forms
            steps.step(interim_forms)("results/validated", input.dictionary, output[0], log_file=log[0])

    rule analysis_interim:
        """TRANSITIONAL: the analysis dataset (derived variables and scores), saved once."""
        input:
            forms=FORMS,
            code=code("analysis", "scoring"),
        output:
            directory(ANALYSIS),
        params:
            settings={k: STUDY_FIGURES[k] for k in ANALYSIS_SECTIONS if k in STUDY_FIGURES},
        log:
            "results/logs/analysis_interim.log",
        run:
            from feasibility.figures.build import interim_analysis
            steps.step(interim_analysis)(input.forms, params.settings, output[0], log_file=log[0])
else:
    STUDY_FIGURES = config
# ------------------------------------------------------------------ END TRANSITIONAL

FIGURE_IDS = list(STUDY_FIGURES.get("figures") or {})
# What a figure job reads of the study file: the analysis sections (the dataset's
# declaration) and its own declaration (params: a change to either reruns it).
ANALYSIS_SETTINGS = {k: STUDY_FIGURES[k] for k in ANALYSIS_SECTIONS if k in STUDY_FIGURES}


rule figure:
    """A declared figure: CONSORT flow, recruitment over time or completeness (by kind)."""
    input:
        forms=FORMS,
        analysis=ANALYSIS,
        passed=VALIDATED,
        code=code("figures", "analysis"),
    output:
        svg="results/figures/{figure}.svg",
        png="results/figures/{figure}.png",
        alt="results/figures/{figure}.alt.txt",
        meta="results/figures/{figure}.json",
        data="results/figures/{figure}.csv",
    wildcard_constraints:
        figure="|".join(FIGURE_IDS) or "(?!)",
    params:
        settings=lambda w: {**ANALYSIS_SETTINGS,
                            "figures": {w.figure: STUDY_FIGURES["figures"][w.figure]}},
    log:
        "results/logs/figure_{figure}.log",
    threads: 1
    resources:
        mem_mb=2000,
    run:
        from feasibility.figures.build import make_figure
        steps.step(make_figure)(params.settings, wildcards.figure, input.forms, input.analysis,
                                output.svg, log_file=log[0])
