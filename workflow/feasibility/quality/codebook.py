"""The codebook: every instrument and field, from the project's own metadata.

From ``codebook.json`` (the data dictionary or project XML as the REDCap library read it):
per form, each field's label, type and validation, its values (choices with their codes,
the validation range, a calculation, slider labels), its branching logic, and whether it is
required or an identifier (identifiers are dropped from the validated data).

A choice list that several fields share (the same codes and labels: a questionnaire's answer
scale) is printed once, at its first field, as ``List 1: 0 Never; 1 Sometimes; …``; the other
fields say ``List 1 (as hads_1)``, which keeps the codebook short (issue 24.7).
"""

from __future__ import annotations

import pandas as pd

from .data import QualityData

CODEBOOK_TABLE = "quality_codebook"
COLUMNS = [
    "form",
    "form_label",
    "field",
    "label",
    "type",
    "validation",
    "values",
    "branching",
    "flags",
    "choice_list",
]


def _values(f: dict, max_choices: int) -> str:
    choices = f.get("choices") or []
    if f.get("type") == "calc" and f.get("calculation"):
        return f"Calculated: {f['calculation']}"
    if choices:
        shown = [f"{code} {label}" for code, label in choices[:max_choices]]
        if len(choices) > max_choices:
            shown.append(f"… and {len(choices) - max_choices} more")
        return "; ".join(shown)
    if f.get("type") == "slider":
        labels = [x for x in (f.get("slider_labels") or []) if x]
        return "0–100" + (f" ({' … '.join(labels)})" if labels else "")
    lo, hi = f.get("min"), f.get("max")
    if lo or hi:
        return f"{lo or ''}–{hi or ''}" if lo and hi else (f"≥ {lo}" if lo else f"≤ {hi}")
    return ""


def _flags(f: dict, record_field: str | None, dropped: set[str]) -> str:
    flags = []
    if f["name"] == record_field:
        flags.append("record ID")
    if f.get("identifier"):
        flags.append("identifier (dropped)" if f["name"] in dropped else "identifier")
    if f.get("required"):
        flags.append("required")
    return ", ".join(flags)


def codebook_frame(data: QualityData, *, descriptive: bool = False, max_choices: int = 30) -> pd.DataFrame:
    """One row per field, in the dictionary's order: form, form label, field, label, type,
    validation, values, branching logic and flags."""
    record_field = data.codebook.get("record_id_field")
    dropped = set(data.identifiers_dropped)
    rows = []
    shared = shared_lists(data)
    first_of: dict[str, str] = {}
    for f in data.codebook.get("fields") or []:
        if f.get("type") == "descriptive" and not descriptive:
            continue
        values, name = _values(f, max_choices), shared.get(f["name"], "")
        if name and name in first_of:
            values = f"{name} (as {first_of[name]})"
        elif name:
            first_of[name] = f["name"]
            values = f"{name}: {values}"
        rows.append(
            {
                "form": f["form"],
                "form_label": data.form_label(f["form"]),
                "field": f["name"],
                "label": f.get("label") or "",
                "type": f.get("type") or "",
                "validation": f.get("validation") or "",
                "values": values,
                "branching": f.get("branching") or "",
                "flags": _flags(f, record_field, dropped),
                "choice_list": name,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def shared_lists(data: QualityData) -> dict[str, str]:
    """Field -> ``List n`` for the choice lists (codes and labels) that two fields or more share,
    numbered in the dictionary's order."""
    users: dict[tuple, list[str]] = {}
    for f in data.codebook.get("fields") or []:
        choices = tuple((str(c), str(label)) for c, label in f.get("choices") or [])
        if len(choices) >= 2 and f.get("type") != "calc":
            users.setdefault(choices, []).append(f["name"])
    out, n = {}, 0
    for names in users.values():
        if len(names) >= 2:
            n += 1
            out.update({name: f"List {n}" for name in names})
    return out


__all__ = ["codebook_frame", "shared_lists", "CODEBOOK_TABLE"]
