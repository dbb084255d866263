"""Reproducible feasibility-study report generator (REDCap CRF exports to a Quarto report)."""

__version__ = "0.1.0"
