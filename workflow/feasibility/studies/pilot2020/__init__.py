"""The published feasibility study (Pilot and Feasibility Studies 2020;
doi:10.1186/s40814-020-00581-6): its CRF draft (``crf``), the paper's own language
(``paper``), its audit's per-table checks (``audit``) and the generator of its calibrated
synthetic cohort (``synth``).

The paper's study file names this package (``study.package``); what the generic code
asks of it (``feasibility.publication``) is below.
"""

from __future__ import annotations

from pathlib import Path

from .audit import audit_published, audited_subscales
from .paper import NOT_DATA_PREFIXES, decimals, location, part_names, printed

__all__ = [
    "NOT_DATA_PREFIXES",
    "audit_published",
    "audited_subscales",
    "decimals",
    "location",
    "part_names",
    "printed",
    "synthetic",
    "synthetic_scaled",
]


def synthetic(
    config: dict, published: dict, seed: int, out: Path, published_path: Path | None = None
) -> list[Path]:
    """The shipped cohort, calibrated to the paper's published values."""
    from .synth.calibrated import generate

    return generate(config, published, seed, out, published_path)


def synthetic_scaled(n: int, sites: int, seed: int, out: Path, progress=None) -> list[Path]:
    """A larger, uncalibrated cohort of the paper's project."""
    from .synth.scaled import generate_scaled

    return generate_scaled(n, sites, seed, out, progress=progress)
