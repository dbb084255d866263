"""One declared figure, from the study file to its files (the figure rule's one call).

:func:`make_figure` reads the study's validated forms and its saved analysis dataset
(:meth:`feasibility.analysis.Analysis.load`; built afresh from the forms when there is
none), draws the figure its ``figures.<id>`` declaration asks for and writes, under the
figure's id:

* ``<id>.svg`` (text kept as text, with ``<title>``/``<desc>``) and ``<id>.png`` (300 dpi),
  drawn at their printed size;
* ``<id>.alt.txt``: the alternative text (every number the figure shows, in words);
* ``<id>.json``: what the report needs to place it: label ("Figure 1"), caption, the note
  added to the caption when the data are synthetic, title, alternative text, size;
* ``<id>.csv``: the counts drawn, as a tidy table (traceable, and what the tests read).

The report places a figure by id and takes its caption from ``<id>.json``
(:func:`caption`), so a figure's words live in the study file, next to its declaration.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Mapping

from feasibility.figures.common import alt_text_path, save_figure
from feasibility.figures.spec import Figure, caption, load_figures  # noqa: F401  (caption: the report's)
from feasibility.io import write_csv, write_json

MODULES = {
    "flow": "feasibility.figures.flow",
    "recruitment": "feasibility.figures.recruitment",
    "completeness": "feasibility.figures.completeness",
    "tipping_point": "feasibility.figures.tipping",
    "forest": "feasibility.figures.forest",
}


def figure_paths(svg: str | os.PathLike) -> dict[str, Path]:
    """Every file of the figure whose SVG is ``svg``."""
    svg = Path(svg)
    stem = svg.with_suffix("")
    return {
        "svg": svg,
        "png": stem.with_suffix(".png"),
        "alt": alt_text_path(svg),
        "json": stem.with_suffix(".json"),
        "csv": stem.with_suffix(".csv"),
    }


def draw_figure(analysis, figure: Figure):
    """(matplotlib figure, alternative text, counts drawn) of a declared figure."""
    module = importlib.import_module(MODULES[figure.kind])
    return module.make(analysis, figure)


def load_analysis(config: Mapping, forms: str | os.PathLike, analysis: str | os.PathLike | None = None):
    """The study's analysis: the saved dataset (``analysis``) over the validated forms, or
    computed from the forms when no dataset is given."""
    from feasibility.analysis import Analysis, StudyData, load_spec

    study = StudyData.read(forms)
    spec = load_spec(config)
    if analysis is not None and Path(analysis, "variables.json").exists():
        return Analysis.load(study, spec, analysis)
    return Analysis(study, spec)


def make_figure(
    config: Mapping,
    figure_id: str,
    forms: str | os.PathLike,
    analysis: str | os.PathLike | None,
    svg: str | os.PathLike,
) -> dict:
    """Draw figure ``figure_id`` of the study ``config`` and write its files beside ``svg``;
    returns its metadata (the JSON written)."""
    figures = load_figures(config)
    if figure_id not in figures:
        raise ValueError(
            f"figure {figure_id!r} is not declared in the study file's figures "
            f"section ({', '.join(figures) or 'none declared'})"
        )
    figure = figures[figure_id]
    fig, alt, table = draw_figure(load_analysis(config, forms, analysis), figure)
    paths = figure_paths(svg)
    save_figure(fig, paths["svg"], paths["png"], alt, figure.title)
    width, height = (round(float(x), 3) for x in fig.get_size_inches())
    meta = {
        "id": figure.id,
        "kind": figure.kind,
        "label": figure.label,
        "caption": figure.caption,
        "synthetic_note": figure.synthetic_note,
        "title": figure.title,
        "alt": alt.strip(),
        "width_in": width,
        "height_in": height,
        "files": {k: p.name for k, p in paths.items()},
    }
    write_json(paths["json"], meta)
    write_csv(paths["csv"], table)
    return meta


__all__ = ["make_figure", "draw_figure", "load_analysis", "figure_paths", "caption", "MODULES"]
