"""Compare every published value with the same value computed from the data.

One row per leaf of ``published_values.yaml``: its key, where it sits in the paper
(``location``), the published value and the reproduced one written as the paper prints
them, a status and its reason, and the audit's arithmetic when the audit doubts the
published value. The reproduced value is the one named value that claims the key in
``results/<id>/values/values.json`` (``feasibility.values``: one definition per key).

Statuses (README, "comparison.csv"):

``match``
    Same definition, same method, same value at the paper's printed precision.
``differs``
    Same definition and method, and a number the paper's own numbers allow differs at
    the printed precision.
``published value inconsistent``
    The audit of the published numbers (``feasibility.audit``) shows that a printed
    number cannot hold together with the paper's other numbers, so no data reproduce
    it; every other number of that value is still compared, and matches (a consistent
    number that differs makes the row ``differs``).
``computed by another method``
    Computed with a different method from the paper's (the EQ-5D index: the reason
    names both); never called a match, whatever the numbers.
``not a data value``
    Study context the case report form data do not hold (interviews, partners' offers).
``suppressed (small-cell rule)``
    Withheld by the small-cell rule (``disclosure.small_cell_threshold``), so not shown
    or compared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pandas as pd

from .audit import findings
from . import publication
from .publication import decimals
from .stats import round_half_up

MATCH = "match"
DIFFERS = "differs"
INCONSISTENT = "published value inconsistent"
OTHER_METHOD = "computed by another method"
NOT_DATA = "not a data value"
SUPPRESSED = "suppressed (small-cell rule)"
STATUSES = (MATCH, DIFFERS, INCONSISTENT, OTHER_METHOD, NOT_DATA, SUPPRESSED)
COLUMNS = ["key", "location", "published", "reproduced", "status", "reason", "audit_finding"]

PART_WORDS = {
    "estimate": "estimate",
    "lower": "lower limit",
    "upper": "upper limit",
    "n": "n",
    "mean": "mean",
    "sd": "SD",
    "median": "median",
    "q1": "lower quartile",
    "q3": "upper quartile",
    "count": "count",
    "pct": "percentage",
    "value": "value",
    "min": "smallest",
    "max": "largest",
    "first": "first month",
    "last": "last month",
    "mean_hours": "mean hours",
    "participants": "participants",
}


def leaves(obj, prefix: str = "") -> list[tuple[str, Any]]:
    """Key paths of the comparable leaves: scalars and flat lists of numbers."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, list) and obj and all(isinstance(v, list) for v in obj):
        for i, v in enumerate(obj):
            out += leaves(v, f"{prefix}[{i}]")
    else:
        out.append((prefix, obj))
    return out


def rounded_like(published, value):
    """``value`` rounded (half away from zero) to the printed precision of ``published``."""
    if isinstance(published, list):
        if not isinstance(value, (list, tuple)) or len(value) != len(published):
            return value
        return [rounded_like(p, v) for p, v in zip(published, value)]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(published, str) or isinstance(value, str):
        return value
    d = decimals(published)
    r = round_half_up(float(value), d)
    return int(r) if d == 0 else r


def _same(p, r) -> bool:
    if r is None or p is None:
        return p is None and r is None
    if isinstance(p, str) or isinstance(r, str):
        return str(p) == str(r)
    return Decimal(str(float(p))) == Decimal(str(float(r)))


def _ancestors(key: str) -> list[str]:
    out, k = [key], key
    while "." in k or "[" in k:
        k = k[: max(k.rfind("."), k.rfind("["))]
        out.append(k)
    return out


def doubted(key: str, names: list[str], found: Mapping[str, list]) -> tuple[set[int], list]:
    """Positions of the printed numbers of ``key`` the audit doubts, and its findings."""
    leaf = key.rsplit(".", 1)[-1]
    positions: set[int] = set()
    used = []
    for k in _ancestors(key):
        for f in found.get(k, ()):
            if not f.parts:
                hit = set(range(len(names)))
            else:
                hit = {i for i, name in enumerate(names) if name in f.parts}
                if k != key and leaf in f.parts:  # a group finding naming this leaf
                    hit = set(range(len(names)))
            if hit:
                positions |= hit
                used.append(f)
    return positions, used


def _words(names: list[str], positions) -> str:
    items = [PART_WORDS.get(names[i], names[i]) for i in sorted(positions)]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def compare(
    published: Mapping, values: Mapping[str, Mapping], audit: pd.DataFrame, lang=publication
) -> pd.DataFrame:
    """The comparison table (one row per published value; :data:`COLUMNS`).

    ``values``: ``values.json`` as loaded (name -> value); ``audit``: ``audit.csv``;
    ``lang``: the publication's language (``feasibility.publication`` or a study package),
    whose ``NOT_DATA_PREFIXES`` name the keys that are context, not data.
    """
    owner = {
        key: (name, parts) for name, v in values.items() for key, parts in v.get("published", {}).items()
    }
    found = findings(audit)
    rows = []
    not_data = tuple(getattr(lang, "NOT_DATA_PREFIXES", ()))
    for key, pub in leaves(published):
        where = lang.location(key)
        shown_pub = lang.printed(key, pub)
        if not_data and key.startswith(not_data):
            rows.append(
                (key, where, shown_pub, "", NOT_DATA, "study context; not in the case report form data", "")
            )
            continue
        names = lang.part_names(key, pub)
        positions, used = doubted(key, names, found)
        finding = "; ".join(f"{f.check}: {f.arithmetic}" for f in used)
        if key not in owner:
            rows.append((key, where, shown_pub, "", DIFFERS, "no value in the data reproduces it", finding))
            continue
        name, parts = owner[key]
        value = values[name]
        if value.get("suppressed"):
            rows.append(
                (
                    key,
                    where,
                    shown_pub,
                    "",
                    SUPPRESSED,
                    "withheld by the small-cell rule, so neither shown nor compared",
                    "",
                )
            )
            continue
        raw = [value["parts"].get(p) for p in parts]
        reproduced = raw if isinstance(pub, list) else raw[0]
        shown = rounded_like(pub, reproduced)
        shown_text = lang.printed(key, shown, like=pub)
        pubs = pub if isinstance(pub, list) else [pub]
        reps = shown if isinstance(pub, list) else [shown]
        same = [_same(p, r) for p, r in zip(pubs, reps)]
        method = value.get("method")
        if method and not method.get("same_as_paper", True):
            agree = "agree" if all(same) else "differ"
            status = OTHER_METHOD
            reason = (
                f"The paper: {method['paper']}. Here: {method['used']}. The values "
                f"{agree} at the printed precision, but are not the same quantity."
            )
        else:
            status, reason = _status(names, same, positions, used)
        rows.append((key, where, shown_pub, shown_text, status, reason, finding))
    return pd.DataFrame(rows, columns=COLUMNS)


def _status(names: list[str], same: list[bool], positions: set[int], used: list) -> tuple[str, str]:
    differing = [i for i, ok in enumerate(same) if not ok and i not in positions]
    doubted_differ = [i for i, ok in enumerate(same) if not ok and i in positions]
    checks = "; ".join(dict.fromkeys(f.check for f in used))
    whole = len(names) == 1
    if differing:
        reason = f"the {_words(names, differing)} differ{'s' if len(differing) == 1 else ''}"
        if whole:
            reason = "differs at the printed precision"
        if positions:
            reason += (
                f"; the audit doubts the {_words(names, positions)} ({checks}), "
                "but not the numbers that differ"
            )
        return DIFFERS, reason
    if doubted_differ:
        what = "the value" if whole or len(positions) == len(names) else f"the {_words(names, positions)}"
        reason = f"the audit shows {what} cannot hold with the paper's other numbers ({checks})"
        rest = [i for i in range(len(names)) if i not in positions]
        if rest:
            reason += f"; the {_words(names, rest)} match{'es' if len(rest) == 1 else ''}"
        return INCONSISTENT, reason
    reason = "same definition and method; equal as printed"
    if positions:
        reason += f" (the audit doubts the {_words(names, positions)}: {checks})"
    return MATCH, reason
