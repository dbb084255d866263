"""Package discovery only; everything else is in pyproject.toml.

Every package under workflow/feasibility is found automatically; schemas/ is installed as
feasibility.schemas (pyproject.toml's package-dir), which a find in pyproject.toml cannot
reach because it lies outside the package's folder.
"""

from setuptools import find_packages, setup

setup(packages=find_packages("workflow", include=["feasibility", "feasibility.*"]) + ["feasibility.schemas"])
