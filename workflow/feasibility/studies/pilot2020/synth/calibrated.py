"""The shipped cohort: calibrated to the paper's published values."""

from __future__ import annotations

from pathlib import Path

from feasibility import __version__
from feasibility.audit import findings
from feasibility.provenance import sha256_file, write_provenance
from feasibility.scoring.eq5d import index_from_config

from ..audit import audit_published
from . import cohort
from .writer import write_project

STATEMENT = (
    "Made by this project's deterministic generator so that the real pipeline "
    "reproduces every internally consistent aggregate the published paper prints. "
    "The study's participant-level data are not public, and no record here describes "
    "a real person."
)

# What the generator made up: the paper does not publish these details.
INVENTED = (
    "every participant-level value (the paper publishes only aggregates)",
    "why the people screened out were not eligible or not interested",
    "all dates below the month (recruitment, sessions, placements, questionnaires)",
    "sites, sources and case managers of individual participants",
    "placement providers and roles, hours week by week",
    "the free-text details of status changes and adverse events",
    "questionnaire answers item by item",
)


def doubted_parts(published: dict, config: dict) -> dict[str, tuple[str, ...]]:
    """Published key -> the printed numbers of it the audit finds impossible ('' = all)."""
    return {
        key: tuple(p for f in found for p in (f.parts or ("all",)))
        for key, found in findings(audit_published(published, config)).items()
    }


def eq5d_settings(config: dict) -> dict:
    """The EQ-5D index settings of the study's eq5d_5l instrument (the scorer's parameters
    with its defaults), which the cohort's answers are calibrated with."""
    from feasibility.scoring.registry import eq5d_index_config, scorer

    for raw in (config.get("instruments") or {}).values():
        if raw.get("scorer") == "eq5d_5l":
            return eq5d_index_config(scorer("eq5d_5l").parameters(raw.get("parameters")))
    return eq5d_index_config(scorer("eq5d_5l").parameters({}))


def generate(
    config: dict, published: dict, seed: int, out: Path, published_path: Path | None = None
) -> list[Path]:
    value_set = index_from_config(eq5d_settings(config))
    if not hasattr(value_set, "index"):
        raise ValueError(
            "the shipped cohort is calibrated with a built-in value set, "
            "not a mapping table; set the EQ-5D instrument's parameters.method: "
            "value_set"
        )
    tables = cohort.build(
        published, seed, cohort.eq5d_index_function(value_set), doubted_parts(published, config)
    )
    written = write_project(tables, out)
    calibrated_to = {
        "publication": config["study"]["reference"],
        "published_values": "config/published_values.yaml",
        "eq5d_index": value_set.name,
    }
    if published_path is not None:
        calibrated_to["published_values_sha256"] = sha256_file(published_path)
    write_provenance(
        out,
        written,
        synthetic=True,
        generator="feasibility.synth",
        generator_version=__version__,
        cohort="calibrated",
        seed=int(seed),
        calibrated_to=calibrated_to,
        statement=STATEMENT,
        invented=list(INVENTED),
    )
    return written
