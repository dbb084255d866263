"""The ``figures`` section of a study file, checked against its schema, with defaults.

``schemas/config.figures.schema.yaml`` documents every key (docs/figures.md shows
examples). :func:`load_figures` checks a study file's mapping, parses every expression (so a
typo is reported before any data are read) and returns one declaration per figure id, in
the section's order: :class:`FlowFigure`, :class:`RecruitmentFigure` or
:class:`CompletenessFigure`. The dataclasses' defaults are the schema's (a test holds them
equal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from feasibility.analysis.expressions import Expression, parse

KINDS = ("flow", "recruitment", "completeness")
DEFAULT_CAPTIONS = {
    "flow": "Participant flow (CONSORT 2010)",
    "recruitment": "Recruitment over time",
    "completeness": "Completeness of follow-up by form and time point",
    "tipping_point": "Tipping-point analysis of the primary outcome",
    "forest": "Treatment effect by prespecified subgroup",
}


@cache
def schema() -> dict:
    """The JSON Schema fragment of the ``figures`` section."""
    import feasibility.schemas as package

    return yaml.safe_load(
        (Path(package.__file__).parent / "config.figures.schema.yaml").read_text(encoding="utf-8")
    )


def check_schema(config: Mapping) -> None:
    """Raise ``ValueError`` naming every place where ``config['figures']`` breaks the schema."""
    from feasibility.config import check_against

    check_against(
        {"figures": config["figures"]} if "figures" in config else {},
        schema(),
        "the study file's figures section does not match the schema",
        top="figures",
    )


def _expr(text: str | None, where: str) -> Expression | None:
    return None if text is None else parse(text, where)


# ----------------------------------------------------------------------------- kinds
@dataclass(frozen=True)
class Figure:
    """What every figure declares: its id, kind and words."""

    id: str
    kind: str
    label: str  # "Figure 1"
    caption: str
    synthetic_note: str | None
    title: str  # the SVG's accessible name


@dataclass(frozen=True)
class BoxStyle:
    reason_order: str = "declared"
    group_reasons: str | None = None


@dataclass(frozen=True)
class FollowUpRow:
    heading: str = "Follow-up"
    label: str = "Returned"
    timepoints: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FlowFigure(Figure):
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reason_order: str = "declared"
    boxes: dict[str, BoxStyle] = field(default_factory=dict)
    follow_up: FollowUpRow | None = None
    stages: dict[str, str] = field(default_factory=lambda: dict(STAGES))

    def style(self, box: str) -> BoxStyle:
        own = self.boxes.get(box)
        if own is None:
            return BoxStyle(self.reason_order)
        return own


STAGES = {
    "enrolment": "Enrolment",
    "allocation": "Allocation",
    "follow_up": "Follow-up",
    "analysis": "Analysis",
}


@dataclass(frozen=True)
class Series:
    label: str
    date: Expression
    where: Expression | None = None


@dataclass(frozen=True)
class Sources:
    date: Expression
    by: Expression
    population: Expression | None = None
    show: str = "starts"
    label: str = "Recruitment source started"


@dataclass(frozen=True)
class RecruitmentFigure(Figure):
    series: tuple[Series, ...] = ()
    population: Expression | None = None
    by: Expression | None = None
    max_panels: int = 9
    sources: Sources | None = None
    target: int | None = None
    all_label: str | None = None
    panel_noun: str = "sites"
    counted: str = "participants"
    y_label: str = "Cumulative number of participants"
    x_label: str = "Calendar month"


@dataclass(frozen=True)
class NoneExpected:
    reason: str
    short: str | None = None


@dataclass(frozen=True)
class CompletenessRow:
    form: str
    label: str | None = None
    timepoints: tuple[str, ...] | None = None
    expected: Expression | dict[str, Expression] | None = None
    returned: Expression | None = None
    none_expected: NoneExpected | None = None

    def expected_at(self, timepoint: str) -> Expression | None:
        if isinstance(self.expected, dict):
            return self.expected.get(timepoint)
        return self.expected


@dataclass(frozen=True)
class CompletenessFigure(Figure):
    population: Expression | None = None
    timepoints: tuple[str, ...] | None = None
    expected: Expression | None = None
    returned: str | None = None  # a template: {form} is the row's form
    rows: tuple[CompletenessRow, ...] | None = None
    by: Expression | None = None
    colour_label: str = "Proportion of expected forms returned"


@dataclass(frozen=True)
class TippingPointFigure(Figure):
    table: str = ""  # the tipping_point table whose numbers it draws


# ----------------------------------------------------------------------------- loading
def _common(fid: str, raw: Mapping, position: int) -> dict[str, Any]:
    caption = raw.get("caption") or DEFAULT_CAPTIONS[raw["kind"]]
    title = raw.get("title") or caption.split(". ")[0].rstrip(".")
    return dict(
        id=fid,
        kind=raw["kind"],
        label=raw.get("label") or f"Figure {position}",
        caption=caption,
        synthetic_note=raw.get("synthetic_note"),
        title=title,
    )


def _flow(fid: str, raw: Mapping, common: dict) -> FlowFigure:
    where = f"figures.{fid}"
    boxes = {
        box: BoxStyle(s.get("reason_order", raw.get("reason_order", "declared")), s.get("group_reasons"))
        for box, s in (raw.get("boxes") or {}).items()
    }
    follow = raw.get("follow_up")
    follow_up = (
        None
        if follow is None
        else FollowUpRow(
            follow.get("heading", "Follow-up"),
            follow.get("label", "Returned"),
            tuple(follow["timepoints"]) if follow.get("timepoints") else None,
        )
    )
    for box, notes in (raw.get("notes") or {}).items():
        if box in notes:
            raise ValueError(f"{where}.notes.{box}: a box cannot be a note of itself")
    return FlowFigure(
        **common,
        notes={k: tuple(v) for k, v in (raw.get("notes") or {}).items()},
        reason_order=raw.get("reason_order", "declared"),
        boxes=boxes,
        follow_up=follow_up,
        stages={**STAGES, **(raw.get("stages") or {})},
    )


def _recruitment(fid: str, raw: Mapping, common: dict) -> RecruitmentFigure:
    where = f"figures.{fid}"
    series = []
    if raw.get("date"):
        series.append(Series("Recruited", parse(raw["date"], f"{where}.date")))
    for i, s in enumerate(raw.get("series") or []):
        series.append(
            Series(
                s["label"],
                parse(s["date"], f"{where}.series[{i}].date"),
                _expr(s.get("where"), f"{where}.series[{i}].where"),
            )
        )
    if not series:
        raise ValueError(f"{where}: a recruitment figure needs a date or series (each a label and a date)")
    labels = [s.label for s in series]
    if len(set(labels)) != len(labels):
        raise ValueError(f"{where}.series: two series have the same label")
    src = raw.get("sources")
    sources = (
        None
        if src is None
        else Sources(
            parse(src["date"], f"{where}.sources.date"),
            parse(src["by"], f"{where}.sources.by"),
            _expr(src.get("population"), f"{where}.sources.population"),
            src.get("show", "starts"),
            src.get("label", "Recruitment source started"),
        )
    )
    return RecruitmentFigure(
        **common,
        series=tuple(series),
        population=_expr(raw.get("population"), f"{where}.population"),
        by=_expr(raw.get("by"), f"{where}.by"),
        max_panels=raw.get("max_panels", 9),
        sources=sources,
        target=raw.get("target"),
        all_label=raw.get("all_label"),
        panel_noun=raw.get("panel_noun", "sites"),
        counted=raw.get("counted", "participants"),
        y_label=raw.get("y_label") or f"Cumulative number of {raw.get('counted', 'participants')}",
        x_label=raw.get("x_label", "Calendar month"),
    )


def _completeness(fid: str, raw: Mapping, common: dict) -> CompletenessFigure:
    where = f"figures.{fid}"
    rows = None
    if raw.get("rows") is not None:
        rows = []
        for i, r in enumerate(raw["rows"]):
            at = f"{where}.rows[{i}]"
            expected = r.get("expected")
            if isinstance(expected, Mapping):
                expected = {tp: parse(e, f"{at}.expected.{tp}") for tp, e in expected.items()}
            else:
                expected = _expr(expected, f"{at}.expected")
            none = r.get("none_expected")
            rows.append(
                CompletenessRow(
                    r["form"],
                    r.get("label"),
                    tuple(r["timepoints"]) if r.get("timepoints") else None,
                    expected,
                    _expr(r.get("returned"), f"{at}.returned"),
                    None if none is None else NoneExpected(none["reason"], none.get("short")),
                )
            )
        forms = [r.form for r in rows]
        if len(set(forms)) != len(forms):
            raise ValueError(f"{where}.rows: a form is listed twice")
        rows = tuple(rows)
    returned = raw.get("returned")
    if returned is not None:
        parse(returned.replace("{form}", "form_name"), f"{where}.returned")
    return CompletenessFigure(
        **common,
        population=_expr(raw.get("population"), f"{where}.population"),
        timepoints=tuple(raw["timepoints"]) if raw.get("timepoints") else None,
        expected=_expr(raw.get("expected"), f"{where}.expected"),
        returned=returned,
        rows=rows,
        by=_expr(raw.get("by"), f"{where}.by"),
        colour_label=raw.get("colour_label", "Proportion of expected forms returned"),
    )


def _tipping_point(fid: str, raw: Mapping, common: dict) -> TippingPointFigure:
    return TippingPointFigure(**common, table=raw["table"])


_KIND = {
    "flow": _flow,
    "recruitment": _recruitment,
    "completeness": _completeness,
    "tipping_point": _tipping_point,
    "forest": _tipping_point,
}


def caption(meta: Mapping, synthetic: bool = False) -> tuple[str, str]:
    """(label, caption) as the report prints them, with the synthetic-data note when the
    data are synthetic (``meta``: label, caption, synthetic_note, as ``<id>.json`` holds)."""
    text = meta["caption"]
    if synthetic and meta.get("synthetic_note"):
        text = f"{text.rstrip('.')}. {meta['synthetic_note']}"
    return meta["label"], text


def load_figures(config: Mapping | None) -> dict[str, Figure]:
    """The study file's figures (checked; defaults filled in), by id in declared order."""
    config = dict(config or {})
    check_schema(config)
    out: dict[str, Figure] = {}
    for position, (fid, raw) in enumerate((config.get("figures") or {}).items(), start=1):
        out[fid] = _KIND[raw["kind"]](fid, raw, _common(fid, raw, position))
    return out


__all__ = [
    "KINDS",
    "Figure",
    "FlowFigure",
    "RecruitmentFigure",
    "CompletenessFigure",
    "Series",
    "Sources",
    "CompletenessRow",
    "NoneExpected",
    "BoxStyle",
    "FollowUpRow",
    "load_figures",
    "caption",
    "schema",
    "check_schema",
]
