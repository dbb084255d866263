"""The study file's reference page, ``docs/study-file.md``, made from its JSON Schema
(``schemas/config.schema.yaml`` and the fragments it refers to), so that the page and
the checks never disagree. ``python -m feasibility.docs > docs/study-file.md`` writes it;
``tests/test_docs.py`` checks that the committed page is the schema's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from .config import SCHEMA, schema

MAX_DEPTH = 5


def _load(name: str) -> dict:
    return yaml.safe_load((Path(SCHEMA).parent / name).read_text(encoding="utf-8"))


def _resolve(node: dict, doc: dict, docs: dict) -> tuple[dict, dict]:
    """Follow ``$ref`` (within the document, or into a fragment file) to the schema it names,
    keeping the referring node's own description and default."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 10:
        ref = node["$ref"]
        file, _, pointer = ref.partition("#")
        target_doc = doc if not file else docs.setdefault(file, _load(file))
        target = target_doc
        for part in [p for p in pointer.split("/") if p]:
            target = target[part]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        node, doc, seen = merged, target_doc, seen + 1
    return node, doc


def _type(node: dict) -> str:
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"only `{node['const']}`"
    t = node.get("type")
    if isinstance(t, list):
        return " or ".join(t)
    if t:
        return t
    if "oneOf" in node or "anyOf" in node:
        return "see description"
    return ""


def _default(node: dict) -> str:
    if "default" not in node:
        return ""
    value = node["default"]
    if value in ({}, []):
        return "empty"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _rows(node: dict, doc: dict, docs: dict, path: str, depth: int, out: list) -> None:
    node, doc = _resolve(node, doc, docs)
    if depth > 0:
        out.append(
            f"| `{path}` | {_cell(_type(node))} | {_cell(_default(node))} | "
            f"{_cell(node.get('description', ''))} |"
        )
    if depth >= MAX_DEPTH:
        return
    for name, sub in (node.get("properties") or {}).items():
        _rows(sub, doc, docs, f"{path}.{name}" if path else name, depth + 1, out)
    for kind, then in _kind_branches(node):
        # a table kind's own properties (its module's SCHEMA), after those every kind shares
        sub, sub_doc = _resolve(then, doc, docs)
        for name, prop in (sub.get("properties") or {}).items():
            if name in (node.get("properties") or {}):
                continue
            prop, _ = _resolve(prop, sub_doc, docs)
            text = prop.get("description", "")
            text = text[:1].lower() + text[1:] if text[1:2].islower() else text
            _rows(
                {**prop, "description": f"kind {kind}: {text}".strip()},
                sub_doc,
                docs,
                f"{path}.{name}",
                depth + 1,
                out,
            )
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        sub, sub_doc = _resolve(extra, doc, docs)
        if sub.get("properties") or sub.get("additionalProperties"):
            _rows(extra, doc, docs, f"{path}.<name>", depth + 1, out)
    items = node.get("items")
    if isinstance(items, dict):
        sub, _ = _resolve(items, doc, docs)
        if sub.get("properties"):
            for name, prop in sub["properties"].items():
                _rows(prop, _resolve(items, doc, docs)[1], docs, f"{path}[].{name}", depth + 1, out)


def _kind_branches(node: dict) -> list[tuple[str, dict]]:
    """The ``allOf`` branches chosen by a ``kind`` (``if: {properties: {kind: {const: K}}}``)."""
    out = []
    for branch in node.get("allOf") or []:
        kind = (((branch.get("if") or {}).get("properties") or {}).get("kind") or {}).get("const")
        if kind is not None and "then" in branch:
            out.append((kind, branch["then"]))
    return out


def reference() -> str:
    """The reference page, as Markdown."""
    root = schema()
    docs: dict = {}
    lines = [
        "# The study file: reference",
        "",
        "<!-- Made from schemas/config.schema.yaml by `python -m feasibility.docs`; do not edit by hand. -->",
        "",
        " ".join(root.get("description", "").split()),
        "",
        "Required sections: " + ", ".join(f"`{k}`" for k in root.get("required", [])) + ".",
        "Keys are written with dots; `<name>` stands for a name you choose (an instrument, a "
        "table, a figure), `[]` for each item of a list. A key left out takes its default.",
        "",
    ]
    for name, sub in root["properties"].items():
        node, doc = _resolve(sub, root, docs)
        lines += [f"## `{name}`", "", " ".join(str(node.get("description", "")).split()), ""]
        rows: list[str] = []
        _rows(sub, root, docs, name, 0, rows)
        if rows:
            lines += ["| key | allowed | default | description |", "|---|---|---|---|", *rows, ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference())
