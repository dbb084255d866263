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


def small_cell_threshold(config: dict) -> int | None:
    """``disclosure.small_cell_threshold``: counts below it are withheld; None (the
    default) withholds nothing."""
    return (config.get("disclosure") or {}).get("small_cell_threshold") or None
