"""Pandera schemas of the derived analysis datasets, and the study file's JSON Schema.

Installed as ``feasibility.schemas`` (see ``pyproject.toml``).
"""
