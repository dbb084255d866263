"""The study file's JSON Schema (config.schema.yaml) and its fragments.

Installed as ``feasibility.schemas`` (see ``pyproject.toml``); the Pandera schemas of the
data are built from each project's own data dictionary (``feasibility.redcap.schemas``;
``snakemake schemas`` writes them out).
"""
