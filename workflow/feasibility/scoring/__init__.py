"""The instrument library: questionnaire items -> scores, one module per instrument.

Each module (``eq5d``, ``hads``, ``wemwbs``, ``promis``, ``paw``, ``wrfq``,
``rtw_self_efficacy``) is a pure function from item columns to scores that cites its
manual; single-item measures (numeric and verbal rating scales, counts) are passed through
as the study file names their items (``items.pass_through``, the registry's ``nrs``,
``verbal_5``, ...); ``items`` holds the rules they share (codings, the
paper's missing-item rule, the scoring log); ``registry`` names every scorer for a study
file's ``instruments`` section (which fields hold its items, its parameters). The analysis
(``feasibility.analysis``) scores each declared instrument at each of its time points.
"""
