"""Deterministic synthetic CRF exports for the study (the real data are not public).

``python -m feasibility.synth --out data/raw`` regenerates the shipped, calibrated
cohort byte for byte; ``--n 10000 --sites 8`` makes a larger, schema-valid cohort
for benchmarks (not calibrated).
"""
