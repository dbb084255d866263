"""Narrative templates: prose whose every number is a named value, never typed in.

A template (``report.narrative.<name>`` in the study file) is Markdown with placeholders
that name values of ``results/<id>/values/values.json`` (``feasibility.values``):

``{name}``
    the value as a whole, with its n or denominator: ``{placements.total_hours.mean_sd}``
    -> "52.5 (SD 32.9; n = 15)", ``{flow.pain_two_or_more_areas}`` -> "22 of 31 (71%)";
``{name.part}``
    one of its numbers: ``{placements.total_hours.mean_sd.mean}`` -> "52.5",
    ``{flow.recruitment_source_pct.nhs.pct}`` -> "10%", ``{...denominator}`` -> "31".

Numbers print at the value's own decimals, rounded half away from zero, with the true
minus sign. Where a number differs from the paper's at the paper's printed precision, the
paper's value follows it: "170.6 (paper: 161.5)". An unknown name or part, or a brace
that is not a placeholder, is an error naming the template and the placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from .escape import markdown
from . import publication
from .stats import format_number, round_half_up

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
NAME = re.compile(r"[a-z0-9_]+(?:\[\d+\])?(?:\.[a-z0-9_]+(?:\[\d+\])?)*")

DEFAULT = {  # kind -> how the whole value reads
    "count": lambda f, p: f("count") + (f" of {f('denominator')} ({f('pct')})" if "denominator" in p else ""),
    "proportion": lambda f, p: f"{f('count')} of {f('denominator')} ({f('pct')})",
    "mean_sd": lambda f, p: f"{f('mean')} (SD {f('sd')}; n = {f('n')})",
    "median_iqr": lambda f, p: f"{f('median')} (IQR {f('q1')} to {f('q3')}; n = {f('n')})",
    "change_ci": lambda f, p: f"{f('estimate')} ({f('lower')} to {f('upper')}), n = {f('n')}",
    "range": lambda f, p: f"{f('min')} to {f('max')}",
    "min_median_max": lambda f, p: f"{f('min')} to {f('max')} (median {f('median')})",
    "months": lambda f, p: f"{f('first')} to {f('last')}",
    "month": lambda f, p: f("month"),
    "total": lambda f, p: f("value"),
    "count_value": lambda f, p: f("value"),
    "mean": lambda f, p: f("mean_hours"),
    "nnt": lambda f, p: f("value"),
    "rate": lambda f, p: f("value"),
}


class NarrativeError(ValueError):
    """A template names a value or a part that does not exist."""


def _month(text: str) -> str:
    year, month = (int(x) for x in text.split("-"))
    return date(year, month, 1).strftime("%B %Y")


def _part_text(value: Mapping, part: str) -> str:
    x = value["parts"][part]
    if x is None:
        return "—"
    if isinstance(x, str):  # a month, or a label (of a choice, from the data): plain text
        return _month(x) if re.fullmatch(r"\d{4}-\d{2}", x) else markdown(x)
    text = format_number(float(x), int(value.get("decimals", {}).get(part, 0)))
    return text + "%" if part == "pct" else text


def _paper_part(value: Mapping, part: str):
    """The paper's printed number for ``part`` (None when the value gives no published one)."""
    for key, parts in value.get("published", {}).items():
        if part in parts:
            paper = value.get("paper", {}).get(key)
            if paper is None:
                return None
            return paper[parts.index(part)] if isinstance(paper, list) else paper
    return None


def _differs(value: Mapping, part: str) -> str | None:
    """The paper's number, printed, when ours differs from it at the paper's precision."""
    paper = _paper_part(value, part)
    ours = value["parts"].get(part)
    if paper is None or ours is None or isinstance(paper, str) or isinstance(ours, str):
        return None if paper == ours or paper is None else str(paper)
    d = publication.decimals(paper)
    if round_half_up(float(ours), d) == round_half_up(float(paper), d):
        return None
    return format_number(float(paper), d) + ("%" if part == "pct" else "")


def render_value(value: Mapping, part: str | None = None, lang=publication) -> str:
    """One placeholder's text: the whole value or one part, with the paper's where they differ
    (printed in ``lang``, the publication's language: ``feasibility.publication`` or a study
    package)."""
    if part is not None:
        text = _part_text(value, part)
        paper = _differs(value, part)
        return f"{text} (paper: {paper})" if paper else text
    parts = value["parts"]
    text = DEFAULT.get(value["kind"], lambda f, p: f(next(iter(p))))(
        lambda name: _part_text(value, name), parts
    )
    differing = [k for k in parts if _differs(value, k)]
    if differing:
        key = next(iter(value.get("published", {})), None)
        paper = value.get("paper", {}).get(key)
        if key is not None and paper is not None:
            text += f" (paper: {lang.printed(key, paper)})"
    return text


def _resolve(token: str, values: Mapping[str, Mapping]) -> tuple[Mapping, str | None] | None:
    """The value and part a placeholder names: the longest known name, then one part."""
    if token in values:
        return values[token], None
    name, _, part = token.rpartition(".")
    if name in values and part in values[name]["parts"]:
        return values[name], part
    return None


def render(template: str, values: Mapping[str, Mapping], where: str, lang=publication) -> str:
    """The template with every placeholder replaced; ``where`` names it in errors."""

    def one(match: re.Match) -> str:
        token = match.group(1).strip()
        if not NAME.fullmatch(token):
            raise NarrativeError(
                f"{where}: {{{match.group(1)}}} is not a placeholder (a value name, optionally .part)"
            )
        found = _resolve(token, values)
        if found is None:
            name, _, part = token.rpartition(".")
            hint = f"; {name} has the parts {', '.join(values[name]['parts'])}" if name in values else ""
            raise NarrativeError(f"{where}: unknown value {{{token}}} (not in values.json{hint})")
        return render_value(*found, lang=lang)

    text = PLACEHOLDER.sub(one, template)
    if "{" in text or "}" in text:
        raise NarrativeError(f"{where}: unbalanced brace in the template")
    return text


def render_all(
    templates: Mapping[str, str],
    values: Mapping[str, Mapping],
    prefix: str = "report.narrative",
    lang=publication,
) -> dict[str, str]:
    """Every template rendered, by name (errors name ``prefix.<name>`` and the placeholder)."""
    return {
        name: render(text, values, f"{prefix}.{name}", lang).strip() + "\n"
        for name, text in templates.items()
    }
