"""How a publication's numbers are named and printed, for any study with a published-values file.

A published-values file (``paths.published_values``) is a tree of keys; each leaf is a
number, or a list of the numbers printed together ("18 (58)", "3.1 (2.0)"). The generic
language here names a key's printed numbers by the shape of its key and value
(:func:`part_names`: ``mean``/``sd``, ``median``/``q1``/``q3``, ``count``/``pct``, ...),
writes a value as a paper prints it (:func:`printed`) and says where it sits in words
(:func:`location`: the key's path, humanised).

A study whose publication has its own layout names a study package in its study file
(``study.package``, e.g. ``feasibility.studies.pilot2020``). The package gives its own
``location``, ``part_names``, ``decimals`` and ``printed`` (its tables' row labels, its
columns) and may give ``audit_published`` and ``audited_subscales`` (its per-table
checks; ``feasibility.audit`` holds the checks themselves). :func:`load` is called only
at the edge (the pipeline's steps, the rules, the generator's command): the generic
modules take the language they are given and never import a study package.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

from feasibility.stats import format_number

SEP = " · "
# Keys of published context that no data hold (a study package names its own).
NOT_DATA_PREFIXES: tuple[str, ...] = ()


def load(config: dict) -> ModuleType:
    """The study package the study file names (``study.package``), else this module."""
    return named((config.get("study") or {}).get("package"))


def named(package: str | None) -> ModuleType:
    """The study package ``package`` (a module name), else this module (``None``)."""
    return importlib.import_module(package) if package else sys.modules[__name__]


def humane(name: str) -> str:
    return name.replace("_", " ")


def location(key: str) -> str:
    """Where a published number sits: its key's path, in words."""
    return SEP.join(humane(p).capitalize() for p in key.split("."))


def part_names(key: str, value: Any = None) -> list[str]:
    """Names of the printed numbers of a published value, by the shape of its key and value."""
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "mean_sd":
        return ["mean", "sd"]
    if leaf == "median_iqr":
        return ["median", "q1", "q3"]
    if leaf == "range":
        return ["min", "max"]
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return ["count", "pct"]  # n (%) cells and "15 (48%)" in the text
    return [leaf]


def decimals(value: Any) -> int:
    """Decimals a published number is printed with (``12.5`` -> 1, ``18.0`` -> 1, ``58`` -> 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    text = repr(float(value)) if isinstance(value, float) else str(value)
    return len(text.split(".")[1]) if "." in text else 0


def number(x: Any, digits: int) -> str:
    """One printed number: rounded half away from zero, true minus sign; text as is."""
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    return format_number(float(x), digits)


def printed(
    key: str, value: Any, like: Any = None, *, names: list[str] | None = None, percent_sign: bool = False
) -> str:
    """``value`` written as a paper prints the value of ``key``.

    ``like`` is the published value whose decimals to print with (default: ``value``
    itself), so a reproduced value prints at the paper's precision; ``names`` the printed
    numbers' names (default: :func:`part_names`); ``percent_sign`` writes "15 (48%)"
    rather than "15 (48)".
    """
    like = value if like is None else like
    if value is None:
        return "—"
    names = part_names(key, like) if names is None else names
    if isinstance(value, list):
        d = [decimals(v) for v in like] if isinstance(like, list) else [0] * len(value)
        if names == ["count", "pct"]:
            pct = number(value[1], d[1])
            return f"{number(value[0], 0)} ({pct}%)" if percent_sign else f"{number(value[0], 0)} ({pct})"
        if names == ["mean", "sd"]:
            return f"{number(value[0], d[0])} ({number(value[1], d[1])})"
        if names == ["median", "q1", "q3"]:
            return f"{number(value[0], d[0])} ({number(value[1], d[1])} to {number(value[2], d[2])})"
        if names == ["estimate", "lower", "upper", "n"]:
            return (
                f"{number(value[0], d[0])} ({number(value[1], d[1])} to "
                f"{number(value[2], d[2])}), n = {number(value[3], 0)}"
            )
        if names == ["value", "n"]:
            return f"{number(value[0], 0)}, n = {number(value[1], 0)}"
        if names == ["min", "max"]:
            low = "" if value[0] is None else number(value[0], d[0]) + " "
            return f"{low}to {number(value[1], d[1])}"
        if names == ["first", "last"]:
            return f"{value[0]} to {value[1]}"
        return ", ".join(number(v, dd) for v, dd in zip(value, d))
    text = number(value, decimals(like))
    return f"{text}%" if key.rsplit(".", 1)[-1].endswith("pct") or "_pct." in key else text
