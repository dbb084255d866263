"""The shipped cohort: calibrated to the paper's published values."""
from __future__ import annotations

from pathlib import Path

from ..scoring.eq5d import index_from_config
from . import cohort
from .writer import write_exports


def generate(config: dict, published: dict, seed: int, out: Path) -> list[Path]:
    value_set = index_from_config(config["scoring"]["eq5d_index"])
    if not hasattr(value_set, "index"):
        raise ValueError("the shipped cohort is calibrated with a built-in value set, "
                         "not a mapping table; set scoring.eq5d_index.method: value_set")
    tables = cohort.build(published, seed, cohort.eq5d_index_function(value_set))
    return write_exports(tables, out)
