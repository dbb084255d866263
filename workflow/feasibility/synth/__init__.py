"""Synthetic REDCap downloads: dummy data for any study file (``dummy``, ``dummy_write``).

``python -m feasibility.synth`` is the command of the paper's calibrated cohort, which
its study package makes (``feasibility.studies.pilot2020.synth``).
"""
