"""The paper's synthetic REDCap downloads: the cohort calibrated to the published values
(``calibrated``, ``cohort``, ``roster``, ``search``), a larger uncalibrated cohort of the same
project (``scaled``) and the writer of the project's files (``writer``).

``python -m feasibility.synth --out data/raw`` regenerates the shipped, calibrated
cohort byte for byte; ``--n 10000 --sites 8`` makes a larger, schema-valid cohort
for benchmarks (not calibrated).
"""
