"""Named values: every number the report states, computed once, with its n and denominator.

``results/<id>/values/values.json`` maps a name to one value: its kind, its numbers
(``parts``: e.g. ``mean``, ``sd``, ``n``; ``count``, ``denominator``, ``pct``), the
decimals each is printed with, where it sits in the publication (``label``), how it was
computed (``source``) and the published keys it reproduces (``published``: key -> the
parts that key prints, in the publication's order). The narrative templates
(``feasibility.narrative``) and the comparison with the publication
(``feasibility.reproduction``) read only this file, so a number has one definition:

* a table cell that carries a published key *is* that key's value (the tables are
  computed once, by their kinds' generic modules); an entry of the study file's
  ``values`` section named by that key with ``cell: true`` adds the keys the same cell
  also gives, or the instrument whose method computed it (``method``);
* every other value is declared in the ``values`` section: parts that are summary
  expressions over the saved analysis dataset (sums and means of recorded decimals in
  exact arithmetic), over the records of ``population`` or the levels of ``tally``;
* each published key is claimed by exactly one value (:func:`build_values` raises
  otherwise), and with a published-values file every claimed key must be in it.

A study may declare no values and no published file: values.json then holds its table
cells' values only (none without published keys).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from .audit import resolve
from . import publication

COUNT_PARTS = {"count", "n", "denominator", "participants"}


@dataclass
class Value:
    name: str
    kind: str
    parts: dict[str, Any]
    decimals: dict[str, int]
    label: str
    source: str
    published: dict[str, list[str]] = field(default_factory=dict)
    method: dict | None = None  # e.g. the EQ-5D index: the method used and the paper's
    suppressed: bool = False  # withheld by the small-cell rule (the table prints <k)
    paper: dict[str, Any] = field(default_factory=dict)  # published key -> the paper's value

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("name")
        out["parts"] = {k: _plain(v) for k, v in self.parts.items()}
        if not self.paper:
            out.pop("paper")
        if self.method is None:
            out.pop("method")
        if not self.suppressed:
            out.pop("suppressed")
        return out


def _plain(v):
    """JSON-safe scalar: numpy numbers to Python, NaN to None."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (bool,)):
        return v
    f = float(v)
    if math.isnan(f):
        return None
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return int(f) if float(f).is_integer() and not isinstance(v, float) else f


# ----------------------------------------------------------------------------- table cells
CELL_PARTS = {  # statistic -> (value kind, parts from the cell's columns)
    "n_pct": ("proportion", {"count": "n", "pct": "estimate", "denominator": "denominator"}),
    "mean_sd": ("mean_sd", {"mean": "estimate", "sd": "sd", "n": "n"}),
    "median_iqr": ("median_iqr", {"median": "estimate", "q1": "lower", "q3": "upper", "n": "n"}),
    "change_ci": (
        "change_ci",
        {"estimate": "estimate", "lower": "lower", "upper": "upper", "n": "n", "sd": "sd"},
    ),
    "count": ("total", {"value": "estimate", "n": "n"}),
    "proportion_ci": (
        "proportion",
        {"count": "n", "pct": "estimate", "lower": "lower", "upper": "upper", "denominator": "denominator"},
    ),
    "nnt_ci": ("nnt", {"value": "estimate", "lower": "lower", "upper": "upper"}),
    "rate": ("rate", {"value": "estimate", "n": "n", "denominator": "denominator"}),
    "risk_difference_ci": (
        "change_ci",
        {"estimate": "estimate", "lower": "lower", "upper": "upper", "n": "n"},
    ),
    "mean_difference_ci": (
        "change_ci",
        {"estimate": "estimate", "lower": "lower", "upper": "upper", "n": "n"},
    ),
    "ratio_ci": ("change_ci", {"estimate": "estimate", "lower": "lower", "upper": "upper", "n": "n"}),
}
CELL_COUNT_PARTS = {"count", "n", "denominator"}


def _claims_for_cell(
    key: str, statistic: str, published: Mapping | None, lang=publication
) -> dict[str, list[str]]:
    """Published keys a keyed cell gives, each with the cell parts in the paper's order."""
    if published is None:
        names = lang.part_names(key, None)
        return {key: names if len(names) > 1 else ["value" if statistic != "n_pct" else "count"]}
    try:
        node = resolve(published, key)
    except (KeyError, IndexError, TypeError):
        raise ValueError(
            f"a table cell names the published key {key!r}, which the "
            "published values (paths.published_values) do not have"
        ) from None
    if isinstance(node, Mapping):  # e.g. final_follow_up_days_from_start: median, q1, q3
        return {f"{key}.{k}": [k] for k in node}
    names = lang.part_names(key, node)
    if len(names) > 1:
        return {key: names}
    if statistic == "proportion_ci":
        return {key: ["pct" if key.rsplit(".", 1)[-1].endswith("pct") or "_pct." in key else "count"]}
    return {key: ["value"]}


def cell_values(cells: pd.DataFrame, published: Mapping | None, lang=publication) -> list[Value]:
    """One value per table cell that carries a published key (tables are computed once);
    ``lang``: the publication's language (``feasibility.publication``, or a study package)."""
    out: list[Value] = []
    text_columns = ["table", "row_group", "row_label", "column", "statistic", "text", "published_key"]
    cells = cells.assign(**{c: cells[c].fillna("").astype(str) for c in text_columns})
    keyed = cells[cells["published_key"] != ""]
    for c in keyed.to_dict("records"):
        key, statistic = c["published_key"], c["statistic"]
        kind, columns = CELL_PARTS[statistic]
        parts = {
            name: (None if pd.isna(c[col]) else int(c[col]) if name in CELL_COUNT_PARTS else float(c[col]))
            for name, col in columns.items()
        }
        decimals = {
            name: (
                0
                if name in CELL_COUNT_PARTS or (statistic == "n_pct" and name == "count")
                else int(c["decimals"])
            )
            for name in parts
        }
        where = " · ".join(p for p in (c["row_group"], c["row_label"]) if p)
        column = "" if c["column"] in ("overall", "value", "week6") else f" ({c['column']})"
        value = Value(
            key,
            kind,
            parts,
            decimals,
            lang.location(key),
            f"table {c['table']}: {where}{column}",
            _claims_for_cell(key, statistic, published, lang),
        )
        value.suppressed = str(c["text"]).startswith("<")
        out.append(value)
    return out


# ----------------------------------------------------------------------------- declared
def _default_decimals(part: str, value: Any) -> int | None:
    if isinstance(value, str) or value is None and part in ("first", "last", "month"):
        return None
    return 0 if part in COUNT_PARTS or part == "pct" else 1


def _scalar(value: Any, part: str) -> Any:
    """A part's value as values.json holds it (counts as whole numbers)."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if value is None or value is pd.NA or isinstance(value, str):
        return None if value is pd.NA else value
    if isinstance(value, bool):
        return value
    f = float(value)
    if part in COUNT_PARTS and math.isfinite(f) and f.is_integer():
        return int(f)
    return f


def _tally(analysis, expr, index: pd.Index) -> dict:
    """The levels of a coded value among ``index``'s records that occur, each level's
    number of records (``size``), code (``level``) and label (``level_label``), as
    values a summary expression can name."""
    from .analysis.expressions import ROW, V, _code_key

    v = analysis.evaluate(expr, index=index)
    codes = pd.Series(v.data, index=index).dropna()
    sizes = codes.map(_code_key).value_counts(sort=False)
    order = sorted(sizes.index, key=lambda c: (isinstance(c, str), c))
    labels = {_code_key(c): t for c, t in v.meta.get("choices") or ()}
    levels = pd.Index(range(len(order)))
    return {
        "size": V(pd.Series([float(sizes[c]) for c in order], index=levels), ROW),
        "level": V(pd.Series(order, index=levels, dtype=object), ROW),
        "level_label": V(pd.Series([labels.get(c, str(c)) for c in order], index=levels, dtype=object), ROW),
    }


def declared_value(analysis, name: str, decl: Mapping, lang=publication) -> Value:
    """One value of the ``values`` section: its parts, in order, each a summary over the
    records of ``population`` (or the levels of ``tally``); later parts may name earlier
    ones."""
    from .analysis.expressions import parse

    where = f"values.{name}"
    population = decl.get("population")
    expr = (
        parse(population, f"{where}.population")
        if population is not None
        else analysis.spec.participants_expr()
    )
    index = analysis.population(expr)
    bound: dict[str, Any] = {"N": len(index)}
    if decl.get("tally") is not None:
        bound.update(_tally(analysis, parse(decl["tally"], f"{where}.tally"), index))
    parts: dict[str, Any] = {}
    for part, text in decl["parts"].items():
        value = analysis.summarise(parse(text, f"{where}.parts.{part}"), index, None, bound)
        parts[part] = _scalar(value, part)
        bound[part] = parts[part]
    decimals = {}
    for part, value in parts.items():
        d = (decl.get("decimals") or {}).get(part, _default_decimals(part, value))
        if d is not None:
            decimals[part] = int(d)
    return Value(
        name,
        decl["kind"],
        parts,
        decimals,
        lang.location(name),
        decl.get("source", ""),
        {k: list(v) for k, v in (decl.get("published") or {}).items()},
    )


# ----------------------------------------------------------------------------- the registry
def build_values(
    analysis, config: Mapping, cells: pd.DataFrame | None, published: Mapping | None = None, lang=publication
) -> dict[str, Value]:
    """Every named value: the keyed table cells and the declared values (``config``'s
    ``values`` section). Raises ``ValueError`` when two values claim one published key,
    share a name, or claim a key the published values do not have."""
    declared = dict(config.get("values") or {})
    found = cell_values(cells, published, lang) if cells is not None else []
    by_name = {v.name: v for v in found}
    methods = getattr(analysis, "instrument_methods", {}) or {}
    for name, decl in declared.items():
        if decl.get("cell"):
            if name not in by_name:
                raise ValueError(
                    f"values.{name}: cell: true names a table cell by its published "
                    "key, and no table cell carries that key"
                )
            value = by_name[name]
            value.published.update({k: list(v) for k, v in (decl.get("published") or {}).items()})
        else:
            value = declared_value(analysis, name, decl, lang)
            found.append(value)
        if decl.get("method"):
            inst = decl["method"]
            if inst not in methods:
                raise ValueError(
                    f"values.{name}: method {inst!r} is not an instrument whose "
                    f"scorer describes its method ({', '.join(methods) or 'none'})"
                )
            value.method = methods[inst]
    values = registry(found)
    for value in values.values():
        for key in value.published:
            if published is None:
                continue
            try:
                value.paper[key] = resolve(published, key)
            except (KeyError, IndexError, TypeError):
                raise ValueError(
                    f"value {value.name!r} claims the published key {key!r}, which "
                    "the published values (paths.published_values) do not have"
                ) from None
    return values


def registry(found: list[Value]) -> dict[str, Value]:
    """Values by name; ``ValueError`` when two share a name or claim one published key."""
    values: dict[str, Value] = {}
    owner: dict[str, str] = {}
    for value in found:
        if value.name in values:
            raise ValueError(
                f"two values are named {value.name!r} ({values[value.name].source}; {value.source})"
            )
        for key in value.published:
            if key in owner:
                raise ValueError(
                    f"published key {key!r} has two definitions: {owner[key]!r} and {value.name!r}"
                )
            owner[key] = value.name
        values[value.name] = value
    return values


def values_json(values: Mapping[str, Value]) -> str:
    """The registry as JSON text (names sorted; byte-stable)."""
    body = {"values": {name: values[name].as_dict() for name in sorted(values)}}
    return json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def load_values(path) -> dict[str, dict]:
    """``values.json`` as name -> dict (kind, parts, decimals, label, source, published)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)["values"]
