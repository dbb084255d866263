"""Study configuration (config/config.yaml)."""
from __future__ import annotations

from pathlib import Path

import yaml


def load_config(path: str | Path = "config/config.yaml") -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_published(path: str | Path = "config/published_values.yaml") -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)
