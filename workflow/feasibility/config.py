"""Study files: read one, resolve its paths, check it against the schema, fill in defaults.

A study is one YAML file (``config/config.yaml`` is the default study, the paper's).
:func:`load_study` is what the workflow, the command line and the tests use:

* the file is read as YAML (stat first: a directory, FIFO or device is refused);
* every path in it (the schema's ``format: path`` keys) that is relative is taken
  relative to the folder of the study file that names it, and given relative to the
  working directory when it lies inside it (so a moved project folder stays up to date);
* ``--config`` overrides (a mapping) go on top; their relative paths are relative to
  the working directory, as every path typed on a command line is;
* the result is checked against ``schemas/config.schema.yaml`` (JSON Schema 2020-12):
  every problem is listed at once, each naming the file and line, the key, the value
  and what is allowed; the schema's defaults are filled in by the same pass
  (:func:`default_filling`: jsonschema's recipe, the one ``snakemake.utils.validate(...,
  set_default=True)`` uses; Snakemake's own is not called).

:func:`check_inputs` stats the files a study needs before anything reads them.
"""

from __future__ import annotations

import copy
import difflib
import functools
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

SCHEMA = Path(__import__("feasibility.schemas", fromlist=["_"]).__file__).parent / "config.schema.yaml"
DEFAULT_STUDY = Path("config") / "config.yaml"
COMMAND_LINE = "--config"


class ConfigError(ValueError):
    """A study file that cannot be used; the message says where and why."""


# ----------------------------------------------------------------------------- reading
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster


class _StudyLoader(Loader):  # type: ignore[valid-type,misc]  # a class chosen at import
    """YAML as a study file is read: a key given twice in one mapping is an error (YAML
    parsers otherwise keep the last one silently)."""


def _mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} appears twice in one mapping (lines {seen[key]} and {line})",
                key_node.start_mark,
            )
        seen[key] = line
    return loader.construct_mapping(node, deep=True)


_StudyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)

# YAML aliases (``*name``) repeat a node without copying it: a few hundred bytes of nested
# aliases stand for billions of values, which checking or printing would then walk. The
# document is composed first (aliases still shared) and refused when its expansion is
# larger than this, before any value is built.
MAX_EXPANDED_NODES = 100_000


def _expanded_size(root: yaml.Node, limit: int) -> tuple[int, yaml.Node | None]:
    """How many nodes the document stands for once every alias is expanded (counting
    stops past ``limit``), and the first node reached twice (an alias's anchor), if any."""
    size: dict[int, int] = {}
    open_: set[int] = set()
    repeated = None
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = (
            [c for pair in node.value for c in pair]
            if isinstance(node, yaml.MappingNode)
            else node.value
            if isinstance(node, yaml.SequenceNode)
            else []
        )
        if done:
            size[key] = min(limit + 1, 1 + sum(size[id(c)] for c in children))
            open_.discard(key)
            continue
        if key in size:
            repeated = repeated or node
            continue
        if key in open_:  # an alias inside the node it names
            raise ConfigError(f"line {node.start_mark.line + 1}: a YAML alias refers to a node that holds it")
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children)
    return size[id(root)], repeated


def load_yaml(text: str, label: str, loader=None):
    """A YAML document as a study file is read (:class:`_StudyLoader`): aliases whose
    expansion exceeds :data:`MAX_EXPANDED_NODES` nodes, or nesting too deep for the
    reader, are refused with a :class:`ConfigError` before any value is built."""
    loader = (loader or _StudyLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            total, repeated = _expanded_size(node, MAX_EXPANDED_NODES)
        except ConfigError as err:
            raise ConfigError(f"{label} {err}") from None
        if total > MAX_EXPANDED_NODES:
            where = f" line {repeated.start_mark.line + 1}" if repeated is not None else ""
            raise ConfigError(
                f"{label}{where}: YAML aliases (*name) expand this document to more than "
                f"{MAX_EXPANDED_NODES:,} values; refused before expanding it"
            )
        return loader.construct_document(node)
    except RecursionError:
        raise ConfigError(f"{label}: not a usable study file: its YAML is nested too deeply") from None
    finally:
        loader.dispose()


def schema() -> dict:
    """The study file's JSON Schema (a fresh copy: the default-filling validator would
    otherwise hand the same default objects to every study)."""
    return copy.deepcopy(_schema())


@functools.lru_cache(maxsize=1)
def _schema() -> dict:
    with open(SCHEMA, encoding="utf-8") as fh:
        return with_table_kinds(yaml.load(fh, Loader=Loader))


# ----------------------------------------------------------------------------- table kinds
TABLE_KIND_DIR = Path(__file__).parent / "tables"
# what a table kind's module declares (tables/<kind>.py), as literals
KIND_DECLARATION = ("KIND", "DEFAULTS", "SCHEMA", "READS")
KIND_READS = ("every_timepoint_by_default", "adjustment")


@functools.lru_cache(maxsize=4)
def table_kinds(folder: Path = TABLE_KIND_DIR) -> dict[str, dict]:
    """Every table kind, by name: what its module ``tables/<kind>.py`` declares - ``KIND``
    (its name), ``DEFAULTS`` (what it assumes where a declaration is silent), ``SCHEMA``
    (its properties, a JSON Schema fragment in YAML) and ``READS`` (what of the study file
    beyond its declaration it reads: ``every_timepoint_by_default``, ``adjustment``).

    Read from the modules' source (literals only), without importing them: checking a study
    file needs neither pandas nor great-tables, and the study file's schema sits below the
    tables in the package's layers. ``feasibility.tables.registry`` imports the same
    modules for their ``build`` (and checks they declare what is read here)."""
    import ast

    kinds: dict[str, dict] = {}
    for path in sorted(Path(folder).glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found = {}
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in KIND_DECLARATION
            ):
                found[node.targets[0].id] = ast.literal_eval(node.value)
        if "KIND" not in found:
            continue
        name = found["KIND"]
        where = f"{path.name}: table kind {name!r}"
        if name in kinds:
            raise ValueError(f"{where} is declared twice ({kinds[name]['module']} and {path.stem})")
        fragment = yaml.load(found.get("SCHEMA") or "{}", Loader=Loader) or {}
        unknown = set(fragment) - {"description", "properties", "required", "$defs"}
        if unknown:
            raise ValueError(
                f"{where}: SCHEMA may hold description, properties, required and "
                f"$defs, not {', '.join(sorted(unknown))}"
            )
        reads = dict(found.get("READS") or {})
        if set(reads) - set(KIND_READS):
            raise ValueError(f"{where}: READS may name {', '.join(KIND_READS)}")
        kinds[name] = {
            "module": path.stem,
            "defaults": dict(found.get("DEFAULTS") or {}),
            "schema": fragment,
            "reads": {k: bool(reads.get(k)) for k in KIND_READS},
        }
    return kinds


def with_table_kinds(root: dict, kinds: dict[str, dict] | None = None) -> dict:
    """``root`` with a table's properties chosen by its ``kind``: ``$defs.table`` holds the
    properties every kind shares; each kind's own (its module's ``SCHEMA``) go into
    ``$defs.table_<kind>``, which allows the shared ones and its own only, so that a
    property of another kind is refused (naming that kind, :func:`_describe`)."""
    defs = root.setdefault("$defs", {})
    common = defs["table"]
    shared = common.get("properties") or {}
    kinds = table_kinds() if kinds is None else kinds
    for name, kind in kinds.items():
        fragment = kind["schema"]
        for def_name, sub in (fragment.get("$defs") or {}).items():
            if def_name in defs:
                raise ValueError(
                    f"tables/{kind['module']}.py: $defs.{def_name} is already "
                    "defined by the study file's schema"
                )
            defs[def_name] = sub
        own = fragment.get("properties") or {}
        defs[f"table_{name}"] = {
            "type": "object",
            "additionalProperties": False,
            "x-table-kind": name,
            "description": fragment.get("description", ""),
            "properties": {**shared, **own, "kind": {"const": name}},
            "required": ["kind", *fragment.get("required", [])],
        }
    kind = dict(shared.get("kind") or {})
    kind["enum"] = list(kinds)
    defs["table"] = {
        **{k: v for k, v in common.items() if k not in ("properties", "additionalProperties")},
        "type": "object",
        "required": ["kind"],
        "properties": {**shared, "kind": kind},
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
                "then": {"$ref": f"#/$defs/table_{name}"},
            }
            for name in kinds
        ],
    }
    return root


@functools.lru_cache(maxsize=1)
def registry():
    """The schema fragments beside the study schema (``schemas/config.*.schema.yaml``),
    by file name, for the ``$ref``s that point into them."""
    from referencing import Registry, Resource

    resources = []
    for path in sorted(SCHEMA.parent.glob("config.*.schema.yaml")):
        with open(path, encoding="utf-8") as fh:
            resources.append((path.name, Resource.from_contents(yaml.load(fh, Loader=Loader))))
    return Registry().with_resources(resources)


def file_kind(st: os.stat_result) -> str:
    """What kind of file it is, in words."""
    mode = st.st_mode
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _regular_file_problem(path: str | os.PathLike) -> str | None:
    """None when ``path`` is a regular file (a symbolic link to one is fine), else why not."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (
            "is a symbolic link to a file that does not exist" if os.path.islink(path) else "does not exist"
        )
    except OSError as err:
        return f"cannot be examined ({err.strerror})"
    if not stat.S_ISREG(st.st_mode):
        link = "a symbolic link to " if os.path.islink(path) else ""
        return f"is {link}{file_kind(st)}, not a regular file"
    return None


def read_regular(path: str | os.PathLike) -> bytes:
    """The bytes of a regular file; anything else is refused without blocking.

    The file is opened non-blocking and checked with ``fstat`` on the open descriptor,
    so a FIFO swapped in after an earlier ``stat`` cannot make the read wait."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path} is {file_kind(st)}, not a regular file")
        chunks = []
        while block := os.read(fd, 1 << 20):
            chunks.append(block)
        return b"".join(chunks)
    finally:
        os.close(fd)


def sha256_regular(path: str | os.PathLike) -> str:
    """SHA-256 of a regular file, read as :func:`read_regular` reads it (in blocks)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path} is {file_kind(st)}, not a regular file")
        h = hashlib.sha256()
        while block := os.read(fd, 1 << 20):
            h.update(block)
        return h.hexdigest()
    finally:
        os.close(fd)


@dataclass
class _Source:
    label: str  # the file as named, or "--config"
    data: dict
    text: str = ""  # the file's text (for the line numbers of keys)

    @functools.cached_property
    def lines(self) -> dict[tuple, int]:
        """Key path -> line of its key in the file (composed only when a problem needs it)."""
        return _key_lines(yaml.compose(self.text, Loader=Loader)) if self.text else {}


def _key_lines(node, prefix: tuple = ()) -> dict[tuple, int]:
    """The line (1-based) of every mapping key of a composed YAML document."""
    out: dict[tuple, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = prefix + (key.value,)
            out[path] = key.start_mark.line + 1
            out.update(_key_lines(value, path))
    return out


def _read_study_file(path: Path) -> _Source:
    label = str(path)
    problem = _regular_file_problem(path)
    if problem:
        raise ConfigError(f"study file {label} {problem}")
    text = read_regular(path).decode("utf-8-sig", errors="replace")
    try:
        data = load_yaml(text, label)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{label}{where}: not valid YAML: {getattr(err, 'problem', None) or err}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{label}: a study file is a mapping of sections (study:, paths:, ...), not {type(data).__name__}"
        )
    return _Source(label, data, text)


# ------------------------------------------------------------------------------- paths
def _resolve_ref(node: dict, root: dict) -> dict:
    """A ``$ref`` into ``root`` followed (a reference into another file is left as it is)."""
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        target = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def path_keys(root: dict | None = None) -> list[tuple[str, ...]]:
    """Key paths of the schema's ``format: path`` values, through nested ``properties`` and
    the ``additionalProperties`` of mappings keyed by name (``*`` in the path: e.g.
    ``instruments.*.parameters.mapping_table``)."""
    root = schema() if root is None else root
    found = []

    def walk(node, prefix):
        node = _resolve_ref(node, root)
        if not isinstance(node, dict) or len(prefix) > 8:
            return
        if node.get("format") == "path":
            found.append(prefix)
        for key, sub in (node.get("properties") or {}).items():
            walk(sub, prefix + (key,))
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], prefix + ("*",))

    walk(root, ())
    return found


def relative_to_cwd(path: str | os.PathLike) -> str:
    """``path`` (absolute) given relative to the working directory when it lies inside
    it, else absolute."""
    path = os.path.normpath(os.path.abspath(path))
    rel = os.path.relpath(path, os.getcwd())
    return path if rel == ".." or rel.startswith(".." + os.sep) else rel


def _resolve_paths(
    data: dict, folder: Path, keys: Iterable[tuple[str, ...]], to: str | os.PathLike | None = None
) -> dict:
    """A copy of ``data`` whose relative path strings are taken relative to ``folder``
    (and given relative to the working directory, or with ``to`` relative to that folder:
    a study file moved to ``to`` that names the same files)."""
    data = copy.deepcopy(data)

    def resolve(parent, key: tuple[str, ...]):
        if not isinstance(parent, dict):
            return
        if len(key) > 1:
            children = parent.values() if key[0] == "*" else [parent.get(key[0])]
            for child in children:
                resolve(child, key[1:])
        elif isinstance(parent.get(key[0]), str) and parent[key[0]]:
            value = os.path.expanduser(parent[key[0]])
            value = value if os.path.isabs(value) else folder / value
            parent[key[0]] = relative_to_cwd(value) if to is None else _relative_to(value, to)

    for key in keys:
        resolve(data, key)
    return data


def _merge(base: dict, top: Mapping) -> dict:
    """``top`` over ``base``: mappings merge key by key, anything else replaces."""
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


# --------------------------------------------------------------------------- checking
TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "null": "null (no value)",
    "array": "a list",
    "object": "a mapping of keys",
    "boolean": "true or false",
}


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = repr(value[:100])
    elif hasattr(value, "isoformat"):  # YAML's unquoted date: shown as it was written
        text = value.isoformat()
    else:  # bounded: a large list or mapping is not formatted whole to show 80 characters
        text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _bounded_repr():
    import reprlib

    r = reprlib.Repr()
    r.maxlevel, r.maxdict, r.maxlist, r.maxtuple, r.maxset, r.maxstring, r.maxother, r.maxlong = (
        3,
        6,
        6,
        6,
        6,
        90,
        90,
        90,
    )
    return r


_REPR = _bounded_repr()


def _kind(value: Any) -> str:
    for name, types in (
        ("null", type(None)),
        ("boolean", bool),
        ("integer", int),
        ("number", float),
        ("string", str),
        ("array", list),
        ("object", dict),
    ):
        if isinstance(value, types):
            return TYPE_WORDS[name]
    return type(value).__name__


def _is_date(value) -> bool:
    """``format: date``: a YYYY-MM-DD text naming a day that exists (2019-02-30 does not)."""
    import datetime
    import re

    if not isinstance(value, str):
        return True  # the type is the schema's "type" to check
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return True  # the pattern's to say
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _date_checker():
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date")(_is_date)
    return checker


DATES = _date_checker()


def _range_words(sub: dict) -> str:
    parts = []
    for key, word in (
        ("minimum", "at least"),
        ("exclusiveMinimum", "greater than"),
        ("maximum", "at most"),
        ("exclusiveMaximum", "less than"),
    ):
        if key in sub:
            parts.append(f"{word} {sub[key]}")
    types = sub.get("type", "number")
    types = [t for t in (types if isinstance(types, list) else [types]) if t != "null"]
    noun = TYPE_WORDS.get(types[0], "a value") if types else "a value"
    nullable = " (or null)" if "null" in (sub.get("type") or []) else ""
    return f"{noun} {' and '.join(parts)}{nullable}"


def _allowed(error, root: dict) -> str:
    """What the schema allows where ``error`` was raised, in words."""
    sub = _resolve_ref(error.schema, root) if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind == "enum":
        return "one of " + ", ".join(_shown(v) for v in error.validator_value)
    if kind == "const":
        return f"only {_shown(error.validator_value)}"
    if kind == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return " or ".join(TYPE_WORDS.get(t, t) for t in types)
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return _range_words(sub)
    if kind == "format" and error.validator_value == "date":
        return "a date that exists, YYYY-MM-DD (quoted)"
    if kind == "minLength":
        return "a non-empty text"
    if kind == "uniqueItems":
        return "a list without repeated items"
    return error.message


def _describe(error, root: dict) -> list[tuple[tuple, str]]:
    """(key path, sentence) for each problem ``error`` stands for."""
    path = tuple(str(p) for p in error.absolute_path)
    sub = _resolve_ref(error.schema, root) if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted((sub.get("properties") or {}).keys())
        where = ".".join(path) if path else "the top level"
        out = []
        for key in sorted(set(error.instance) - set(known), key=str):
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            kind = sub.get("x-table-kind")
            others = (
                [
                    d["x-table-kind"]
                    for d in (root.get("$defs") or {}).values()
                    if isinstance(d, dict)
                    and d.get("x-table-kind") not in (None, kind)
                    and key in (d.get("properties") or {})
                ]
                if kind
                else []
            )
            if others:
                hint = (
                    f": a property of table kind {' and '.join(others)}, not of kind {kind} "
                    f"(this table's kind)"
                )
            out.append(
                (
                    path + (str(key),),
                    f"unknown key {'.'.join(path + (str(key),))}{hint}; "
                    f"{where} allows: {', '.join(known) or 'no keys'}",
                )
            )
        return out
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        out = []
        for key in missing:
            target = _resolve_ref((sub.get("properties") or {}).get(key, {}), root)
            what = target.get("description", "")
            out.append(
                (
                    path,
                    f"{'.'.join(path + (key,))} is required but missing"
                    + (f" ({what.strip()})" if what else ""),
                )
            )
        return out
    name = ".".join(path) if path else "the study file"
    sentence = f"{name} is {_shown(error.instance)}"
    if error.validator == "type":
        sentence += f" ({_kind(error.instance)})"
    sentence += f"; allowed: {_allowed(error, root)}"
    if error.validator == "enum" and isinstance(error.instance, str):
        close = difflib.get_close_matches(str(error.instance), [str(v) for v in error.validator_value], n=1)
        if close:
            sentence += f" (did you mean {close[0]}?)"
    description = sub.get("description")
    if description:
        sentence += f" - {' '.join(description.split())}"
    return [(path, sentence)]


def problems(
    config: dict, sources: Sequence[_Source] = (), root: dict | None = None, fill_defaults: bool = False
) -> list[str]:
    """Every way ``config`` breaks the schema, one line each, naming where the value came
    from (file and line, or the command line). With ``fill_defaults`` the same pass
    completes ``config`` with the schema's defaults (:func:`default_filling`)."""
    import jsonschema

    root = schema() if root is None else root
    validator = (default_filling() if fill_defaults else jsonschema.Draft202012Validator)(
        root, registry=registry(), format_checker=DATES
    )
    found = []
    described = [d for error in validator.iter_errors(config) for d in _describe(error, root)]
    described += _parameter_problems(config)
    for path, sentence in described:
        label, line = _where(path, sources)
        found.append((label != COMMAND_LINE, line or 0, label, sentence))
    lines = []
    for _, line, label, sentence in sorted(set(found), key=lambda f: (not f[0], f[1:])):
        where = (
            "the command line (--config)"
            if label == COMMAND_LINE
            else label + (f" line {line}" if line else "")
        )
        lines.append(f"{where}: {sentence}")
    return lines


def _parameter_problems(config: dict) -> list[tuple[tuple, str]]:
    """A parameter declared with a range (``{value, minimum, maximum}``) whose value is
    outside it, said as the schema's problems are."""
    out = []
    for name, spec in (config.get("parameters") or {}).items():
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("value"), (int, float))
            or isinstance(spec.get("value"), bool)
        ):
            continue
        value, lo, hi = spec["value"], spec.get("minimum"), spec.get("maximum")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = [
                w
                for w in (
                    f"at least {lo}" if lo is not None else "",
                    f"at most {hi}" if hi is not None else "",
                )
                if w
            ]
            sentence = f"parameters.{name} is {_shown(value)}; allowed: a number " + " and ".join(bounds)
            if spec.get("description"):
                sentence += f" - {' '.join(spec['description'].split())}"
            out.append((("parameters", name, "value"), sentence))
    return out


def _where(path: tuple, sources: Sequence[_Source]) -> tuple[str, int | None]:
    """The source that set ``path`` (the longest prefix any source sets; the last source
    wins) and the line of that key in it."""
    for n in range(len(path), -1, -1):
        for source in reversed(sources):
            if _has(source.data, path[:n]):
                return source.label, source.lines.get(path[:n]) if n else None
    return (sources[-1].label if sources else "the study"), None


def _has(data: Any, path: tuple) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _typed(value: Any, sub: dict, root: dict) -> Any:
    """``--config`` values as the schema wants them: Snakemake reads the values inside a
    mapping (``--config report="{timeout_seconds: 60}"``) as text, so text is read as
    YAML where the schema expects no text there."""
    sub = _resolve_ref(sub, root) if isinstance(sub, dict) else {}
    if isinstance(value, dict):
        props = sub.get("properties") or {}
        extra = sub.get("additionalProperties")
        return {
            k: _typed(v, props.get(k, extra if isinstance(extra, dict) else {}), root)
            for k, v in value.items()
        }
    types = sub.get("type")
    types = set(types if isinstance(types, list) else [types] if types else [])
    if "enum" in sub:
        types |= {type(v).__name__ for v in sub["enum"]}
    if isinstance(value, str) and "null" in types and value.strip() in ("null", "Null", "NULL", "~"):
        return None  # YAML's null, where the schema allows it beside text
    if isinstance(value, str) and types and "string" not in types and "str" not in types:
        try:
            return load_yaml(value, COMMAND_LINE, getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            return value
    return value


def load_study(
    files: str | os.PathLike | Sequence[str | os.PathLike] = DEFAULT_STUDY,
    overrides: Mapping | None = None,
    pulling: bool = False,
) -> dict:
    """The study configuration: ``files`` (one study file, or several merged in order)
    with ``overrides`` on top, checked against the schema, defaults filled in. With
    ``redcap.api``, the REDCap downloads are the latest pull's (:func:`feasibility.pull.resolve`);
    ``pulling``: the study is loaded to pull, so having no pull yet is no problem.

    Raises :class:`ConfigError` listing every problem."""
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    if not files:
        raise ConfigError("no study file given")
    root = schema()
    keys = path_keys(root)
    sources, config = [], {}
    for f in files:
        source = _read_study_file(Path(f))
        source.data = _resolve_paths(source.data, Path(f).parent, keys)
        sources.append(source)
        _merge(config, source.data)
    if overrides:
        top = _resolve_paths(_typed(dict(overrides), root, root), Path.cwd(), keys)
        sources.append(_Source(COMMAND_LINE, top))
        _merge(config, top)
    tokens = token_problems(config, sources)
    found = problems(config, sources, root, fill_defaults=True) + tokens
    if not found:
        found = api_problems(config, files[-1], sources, pulling) or redcap_problems(config, sources)
    found = found or markdown_problems(config, sources)  # feasibility.escape: text is text
    found = found or _id_problems(config, files, sources)
    if found:
        names = ", ".join(str(f) for f in files)
        raise ConfigError(
            f"The study file {names} is not valid ({len(found)} problem{'s' * (len(found) != 1)}); "
            "nothing was run:\n"
            + "\n".join(f"  {p}" for p in found)
            + f"\nEvery key, what it allows and its default: {relative_to_cwd(SCHEMA)}"
        )
    return config


# ------------------------------------------------------------------------- study id
# A study's id names its folder of results (results/<id>/) and its reports
# (<id>.html, <id>-quality.html): study.id of the study file, by default the study
# file's name without .yaml (load_study fills it in).
STUDY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
RESULTS = "results"


def default_study_id(files: str | os.PathLike | Sequence[str | os.PathLike]) -> str:
    """The id a study file gives its study when it declares none: the (last) file's name
    without ``.yaml``."""
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    return Path(files[-1]).name.removesuffix(".yaml").removesuffix(".yml") if files else ""


def _id_problems(config: dict, files: Sequence, sources: Sequence[_Source] = ()) -> list[str]:
    """Fill in ``study.id`` (the file's name when the file declares none) and check it."""
    study = config.get("study")
    if not isinstance(study, dict):
        return []
    if not study.get("id"):
        study["id"] = default_study_id(files)
        if not STUDY_ID.match(study["id"]):
            return [
                f"{files[-1]}: the study's id, the file's name {study['id']!r}, cannot name a "
                "folder of results; declare study.id (letters, digits, '.', '_' or '-', "
                "starting with a letter or digit)"
            ]
    return []


def study_id(config: Mapping) -> str:
    """The study's id: ``study.id`` as :func:`load_study` filled it in."""
    return config["study"]["id"]


def study_results(config: Mapping) -> str:
    """The study's folder of results, ``results/<id>``: every output of the study."""
    return f"{RESULTS}/{study_id(config)}"


def guess_study_id(files: Sequence[str | os.PathLike], overrides: Mapping | None = None) -> str | None:
    """The id of a study whose file may not be valid (to withdraw its reports after a
    failed check): ``study.id`` as given on the command line or in the last file that
    gives one, else the file's name; None when that is no valid id."""
    found = None
    for f in files:
        try:
            text = read_regular(f).decode("utf-8-sig", errors="replace")
        except OSError:
            continue
        try:
            data = yaml.load(text, Loader=Loader)
        except yaml.YAMLError:  # not YAML as a whole: its study block's id line, if any
            line = re.search(
                r"(?m)^study:(?:[ \t]*\{[^}\n]*\bid:[ \t]*|[^\n]*\n(?:[ \t]+.*\n)*?[ \t]+id:[ \t]*)"
                r"[\"']?([A-Za-z0-9][A-Za-z0-9._-]*)",
                text,
            )
            data = {"study": {"id": line[1]}} if line else None
        if isinstance(data, dict) and isinstance(data.get("study"), dict) and data["study"].get("id"):
            found = data["study"]["id"]
    top = (overrides or {}).get("study")
    if isinstance(top, dict) and top.get("id"):
        found = top["id"]
    found = found or default_study_id(files)
    return found if isinstance(found, str) and STUDY_ID.match(found) else None


def _relative_to(path: str | os.PathLike, folder: str | os.PathLike) -> str:
    """``path`` relative to ``folder`` when both lie in the working directory (a project
    folder moved as a whole stays consistent), else absolute."""
    path, folder = os.path.abspath(path), os.path.abspath(folder)
    inside = all(not os.path.isabs(relative_to_cwd(p)) for p in (path, folder))
    return Path(os.path.relpath(path, folder) if inside else path).as_posix()


def moved_study(data: dict, folder: str | os.PathLike, to: str | os.PathLike) -> dict:
    """A study file's content (``data``, read from a file in ``folder``) as a study file in
    folder ``to`` would say it: every relative path rewritten so that it names the same file."""
    return _resolve_paths(data, Path(folder), path_keys(), to=to)


# The study file's redcap keys that name files, and what each is called in messages.
REDCAP_FILES = {
    "records": "records export",
    "dictionary": "data dictionary",
    "instrument_designations": "instrument designations",
    "events": "events file",
    "project_xml": "project XML",
}


@dataclass(frozen=True)
class ValidationPaths:
    """Where validation keeps its files (all under ``results/<id>/validation``)."""

    root: str = "results/validation"

    @property
    def passed(self) -> str:
        return f"{self.root}/passed.json"

    @property
    def checked(self) -> str:
        return f"{self.root}/checked.json"

    @property
    def md(self) -> str:
        return f"{self.root}/report.md"

    @property
    def json(self) -> str:
        return f"{self.root}/report.json"

    @property
    def failures(self) -> str:
        return f"{self.root}/failures.csv"


METADATA = ("dictionary", "instrument_designations", "events")


def token_problems(config: dict, sources: Sequence[_Source] = ()) -> list[str]:
    """A REDCap API token written in the study file (or given with --config) is refused, and
    taken out of ``config`` so that no message shows it."""
    found = []
    redcap = config.get("redcap")
    for holder, path in (
        (redcap, ("redcap",)),
        ((redcap or {}).get("api") if isinstance(redcap, dict) else None, ("redcap", "api")),
    ):
        if isinstance(holder, dict) and "token" in holder:
            del holder["token"]
            label, line = _where(path + ("token",), sources)
            where = (
                "the command line (--config)"
                if label == COMMAND_LINE
                else label + (f" line {line}" if line else "")
            )
            found.append(
                f"{where}: {'.'.join(path + ('token',))}: an API token is never accepted in the study "
                "file (whoever reads the file, a copy or its history would hold the project's rights); "
                "give redcap.api.token_env: NAME (an environment variable holding it) or "
                "redcap.api.token_file: PATH (a file readable only by you); remove the token from the file"
            )
    return found


def api_problems(
    config: dict, study_file, sources: Sequence[_Source] = (), pulling: bool = False
) -> list[str]:
    """``redcap.api``: one token source; the downloads resolved to the latest pull (or the
    pinned one); a study with no pull yet needs one before it can be built."""
    redcap = config.get("redcap") or {}
    api = redcap.get("api")

    def at(*key: str) -> str:
        label, line = _where(("redcap",) + key, sources)
        return label + (f" line {line}" if line else "")

    if not api:
        if redcap.get("pull"):
            return [f"{at('pull')}: redcap.pull names a pull, but the study file has no redcap.api section"]
        return []
    given = [k for k in ("token_env", "token_file") if api.get(k)]
    if len(given) != 1:
        return [
            f"{at('api')}: redcap.api needs exactly one token source, token_env: NAME (an environment "
            "variable) or token_file: PATH (a file readable only by you); "
            + (f"it gives both {' and '.join(given)}" if given else "it gives neither")
        ]
    from .pull import pulls_folder, resolve

    found = [f"{at('pull')}: {p}" for p in resolve(config, study_file)]
    if not found and not redcap.get("records") and not pulling:
        found.append(
            f"{at('api')}: the downloads come from the REDCap API, but "
            f"{pulls_folder(config, study_file)} holds no complete pull yet: run `snakemake pull` "
            "(or `feasibility pull`) first"
        )
    return found


def redcap_problems(config: dict, sources: Sequence[_Source] = ()) -> list[str]:
    """The ``redcap`` block names the project's metadata one way: the data dictionary (with
    the instrument designations and events), or the project XML."""
    redcap = config.get("redcap") or {}

    def at(key: str) -> str:
        label, line = _where(("redcap", key), sources)
        return label + (f" line {line}" if line else "")

    if redcap.get("api") and not redcap.get("records"):
        return []  # to be pulled (api_problems)
    given = [k for k in METADATA if redcap.get(k)]
    if redcap.get("project_xml") and given:
        return [
            f"{at('project_xml')}: redcap names both project_xml and {', '.join(given)}; the project "
            "XML holds the metadata: give it, or the data dictionary (+ instrument designations), "
            "not both"
        ]
    if not redcap.get("project_xml") and not redcap.get("dictionary"):
        extra = f" ({', '.join(given)} alone is not the metadata)" if given else ""
        return [
            f"{at('records')}: redcap names no metadata for the records{extra}: give redcap.dictionary "
            "(the data dictionary; with redcap.instrument_designations for a longitudinal project) or "
            "redcap.project_xml"
        ]
    return []


def markdown_problems(config: dict, sources: Sequence[_Source] = ()) -> list[str]:
    """The study author's Markdown (text blocks, narrative templates) holds no shortcode,
    raw HTML, raw block, image, script link or attribute (``feasibility.escape``)."""
    from .escape import markdown_problems as found

    def where(path: tuple) -> str:
        label, line = _where(tuple(p for p in path if not isinstance(p, int)), sources)
        return label + (f" line {line}" if line else "")

    return found(config, where)


def default_filling():
    """A JSON Schema validator that completes what it checks with the schema's defaults, as
    ``snakemake.utils.validate(..., set_default=True)`` does (jsonschema's FAQ recipe), in
    the one pass that lists the problems: Snakemake's would read the schema file again and
    check it a second time (half a second of every run, the no-op build's too)."""
    import jsonschema
    from jsonschema import validators

    base = jsonschema.Draft202012Validator
    properties = base.VALIDATORS["properties"]

    def set_defaults(validator, props, instance, schema):
        if isinstance(instance, dict):
            for name, sub in props.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from properties(validator, props, instance, schema)

    return validators.extend(base, {"properties": set_defaults})


def check_against(instance: Mapping, root: dict, headline: str, top: str = "(top level)") -> None:
    """Raise ``ValueError``: ``headline`` and (the first 20) places where ``instance`` breaks
    the JSON Schema ``root``. The libraries' own check, for callers that hold a section of a
    study file without the whole file."""
    import jsonschema

    errors = sorted(
        jsonschema.Draft202012Validator(root, registry=registry()).iter_errors(instance),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        lines = [f"  {'.'.join(str(p) for p in e.absolute_path) or top}: {e.message}" for e in errors[:20]]
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise ValueError(f"{headline}:\n" + "\n".join(lines) + more)


def load_config(path: str | os.PathLike = DEFAULT_STUDY) -> dict:
    """One study file, checked and completed (see :func:`load_study`)."""
    return load_study([path])


def load_published(path: str | Path = "config/published_values.yaml") -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def small_cell_threshold(config: dict) -> int | None:
    """``disclosure.small_cell_threshold``: counts below it are withheld; None (the
    default) withholds nothing."""
    return (config.get("disclosure") or {}).get("small_cell_threshold") or None


# ------------------------------------------------------------------------------ inputs
def size_words(n: int) -> str:
    return f"{n / 1e6:,.3g} MB ({n:,} bytes)"


def within(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether ``path``, its links followed, lies inside ``folder`` (or is it)."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def input_roots(config: Mapping, files: Sequence[str | os.PathLike]) -> list[str] | None:
    """Where the study's input files may lie: the folder of each study file and the project
    folder (the working directory); None when the study allows any place
    (``redcap.allow_paths_outside: true``)."""
    if (config.get("redcap") or {}).get("allow_paths_outside"):
        return None
    return list(dict.fromkeys([os.getcwd(), *(os.path.dirname(os.path.abspath(f)) for f in files)]))


def check_inputs(
    inputs: Mapping[str, tuple[str, str]],
    max_bytes: float | None = None,
    limit_name: str = "validation.max_file_mb",
    roots: Sequence[str] | None = None,
) -> list[str]:
    """Problems with the files a study needs, before anything opens them.

    ``inputs``: description -> (path, "file" | "dir" | "program"). A file must exist and
    be a regular file (a symbolic link to one is fine) no larger than ``max_bytes``; a
    folder must be a folder. Nothing is opened: a FIFO or device is named, not read. With
    ``roots`` (:func:`input_roots`), a file or folder (not a program) whose real path lies
    outside every root is refused before it is even examined."""
    found, missing_dirs = [], []
    for what, (path, kind) in inputs.items():
        if roots is not None and kind != "program" and not any(within(path, r) for r in roots):
            found.append(
                f"{path}: {what} is outside the study file's folder and the project folder "
                "(its links followed); a study whose data lie elsewhere says so in its study "
                "file: redcap.allow_paths_outside: true"
            )
            continue
        if any(os.path.normpath(path).startswith(d + os.sep) for d in missing_dirs):
            continue  # its folder is missing: said once
        if kind == "dir":
            if not os.path.isdir(path):
                missing_dirs.append(os.path.normpath(path))
            if not os.path.exists(path):
                found.append(f"{path}: {what} does not exist")
            elif not os.path.isdir(path):
                found.append(f"{path}: {what} is {file_kind(os.stat(path))}, not a folder")
            continue
        problem = _regular_file_problem(path)
        if problem:
            found.append(f"{path}: {what} {problem}")
            continue
        size = os.stat(path).st_size
        if max_bytes is not None and size > max_bytes:
            found.append(
                f"{path}: {what} is {size_words(size)}, larger than {limit_name} "
                f"({max_bytes / 1e6:,.6g} MB); raise the limit in the study file "
                "if the file is what you meant to give"
            )
    return found
