"""Pandera schemas for the raw CRF exports and the derived analysis datasets.

Installed as ``feasibility.schemas`` (see ``pyproject.toml``).
"""
