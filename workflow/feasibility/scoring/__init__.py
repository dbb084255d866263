"""The instrument library: questionnaire items -> scores, one module per instrument.

Each module (``eq5d``, ``hads``, ``wemwbs``, ``promis``, ``paw``, ``wrfq``,
``rtw_self_efficacy``, ``nrs``, ``verbal``, ``employment``) is a pure function from item
columns to scores that cites its manual; ``items`` holds the rules they share (codings, the
paper's missing-item rule, the scoring log); ``registry`` names every scorer for a study
file's ``instruments`` section (which fields hold its items, its parameters). The analysis
(``feasibility.analysis``) scores each declared instrument at each of its time points.
"""
