"""Text is text: the one place where a string from a REDCap download or a study file is
made safe for the format it is written into.

Every label of a field, choice, form, event, arm, section or note, and every title,
caption, label or footnote of a study file, is plain text. Where it lands it is escaped
by exactly one function of this module, for that format (REDCap's rich-text labels - of
fields, choices, sections and notes - are first reduced to their text,
``redcap.output.plain``: tags dropped, character references decoded):

* :func:`html` - HTML text and attribute values (great-tables' own escaping, and the
  braces as character references, so that neither great-tables' units syntax ``{{...}}``
  nor a Quarto shortcode ``{{< ... >}}`` can be spelt by data inside raw HTML);
* :func:`gt` - a label handed to great-tables (column label, spanner, title): its
  :func:`html` as ``great_tables.html``, so great-tables neither reads it as units nor
  escapes it twice;
* :func:`markdown` - inline Markdown (a heading, a caption, a paragraph, a list item):
  every ASCII punctuation mark that pandoc's Markdown gives a meaning to is
  backslash-escaped (so no emphasis, link, image, raw HTML, raw inline, math,
  attribute, citation or shortcode can be made of it) and line breaks become spaces;
  the quotes are left to pandoc's smart typography;
* :func:`alt` - the value of a quoted attribute in Markdown (``fig-alt="..."``);
* :func:`code` - an inline code span in Markdown (a command line);
* :func:`typst` - Typst markup (``feasibility.typeset`` uses it for the PDF's tables);
* :func:`yaml_scalar` - a value of the report's YAML front matter; pandoc and Quarto
  read those values as Markdown, so a title is :func:`markdown` first
  (:func:`front_matter_text`);
* figures: matplotlib draws every string as it is (``text.parse_math`` is off in
  ``figures.common.STYLE``: a ``$`` is a dollar sign, not mathtext), and its SVG writer
  escapes the text; the SVG's ``<title>`` and ``<desc>`` are :func:`svg`.

The one exception is the narrative a study author writes as Markdown (``report.sections[]
.content[].text`` and the templates of ``report.narrative``): Markdown is allowed there,
but :func:`markdown_problems` refuses, naming the study-file key, a shortcode (``{{<``),
raw HTML, a raw block or raw inline (```` ```{=html} ````, `` `x`{=typst} ``, TeX such as
``\\input{...}``), an image, a link other than ``http``, ``https``, ``mailto`` or ``#``,
and a ``key=value`` attribute (``{onclick=...}``). The study file is refused before any
job runs (``feasibility.config.load_study``).
"""

from __future__ import annotations

import html as _html
import json
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache

# ----------------------------------------------------------------------------- HTML
_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


def html(text: object) -> str:
    """Plain text as HTML text or a quoted attribute value: ``& < > " '`` as great-tables
    and the standard library escape them, and ``{ }`` as character references."""
    return _html.escape(str(text)).translate(_BRACES)


def svg(text: object) -> str:
    """Plain text as the text of an SVG (XML) element such as ``<title>`` or ``<desc>``."""
    return _html.escape(str(text), quote=False)


def gt(text: object):
    """A label for great-tables (title, column label, spanner label) shown as it is; a
    label the code made with ``great_tables.html`` (already HTML) is left as it is."""
    from great_tables import html as gt_html
    from great_tables._text import BaseText

    return text if isinstance(text, BaseText) else gt_html(html(text))


# ----------------------------------------------------------------------------- Markdown
# pandoc reads quotes as typography (smart quotes), nothing more: they stay as they are
_MARKDOWN_SPECIAL = frozenset(string.punctuation) - {"'", '"'}
_LINE_BREAK = re.compile(r"[ \t]*(?:\r\n?|\n)[ \t]*")


def markdown(text: object) -> str:
    """Plain text as inline Markdown that pandoc (and Quarto) print literally."""
    text = _LINE_BREAK.sub(" ", str(text))
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)


def alt(text: object) -> str:
    """Plain text as the value of a double-quoted Markdown attribute (``fig-alt="..."``):
    whitespace collapsed, every ASCII punctuation mark backslash-escaped (pandoc takes
    ``\\"`` as a quote and ``\\&`` as an ampersand, not the start of an entity)."""
    text = " ".join(str(text).split())
    return "".join("\\" + ch if ch in string.punctuation else ch for ch in text)


def code(text: object) -> str:
    """Plain text as one inline code span: fenced by more backticks than any run inside."""
    text = " ".join(str(text).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# ----------------------------------------------------------------------------- Typst
_TYPST_SPECIAL = frozenset(string.punctuation)


def typst(text: object) -> str:
    """Plain text as Typst markup: every ASCII punctuation mark escaped (no code ``#``,
    math ``$``, label ``<x>``, reference ``@x``, raw `````` or markup of any kind)."""
    return "".join("\\" + ch if ch in _TYPST_SPECIAL else ch for ch in str(text))


# ----------------------------------------------------------------------------- YAML
# what YAML does not print as it is in a double-quoted scalar: controls, line breaks
# beyond \n, the byte-order mark, non-characters
_YAML_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def yaml_scalar(text: object) -> str:
    """A string as a YAML scalar that every YAML reader (1.1 and 1.2) reads back as the
    same string: JSON's double-quoted form (a quote, a backslash and the C0 controls
    escaped), with the other characters YAML does not print escaped too."""
    return _YAML_UNPRINTABLE.sub(lambda m: f"\\u{ord(m[0]):04x}", json.dumps(str(text), ensure_ascii=False))


def front_matter_text(text: object) -> str:
    """A front-matter value (title, subtitle) as pandoc and Quarto read it: Markdown in a
    YAML scalar."""
    return yaml_scalar(markdown(text))


# ----------------------------------------------------------------------------- narrative
SHORTCODE = "{{<"
ALLOWED_SCHEMES = ("http:", "https:", "mailto:")
# what pandoc's AST may hold in an author's Markdown, where the rest is refused
_RAW = {"RawBlock": "a raw block", "RawInline": "raw inline content"}


def _nodes(node) -> Iterator[dict]:
    if isinstance(node, dict):
        if "t" in node:
            yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for child in node:
            yield from _nodes(child)


def _attributes(node: dict) -> list | None:
    """The ``[id, classes, key-values]`` of an element that has attributes."""
    kind, content = node["t"], node.get("c")
    if kind in ("Span", "Div", "Header", "Code", "CodeBlock", "Link", "Image", "Table", "Figure", "Cell"):
        attr = content[1] if kind == "Header" else content[0]
        if isinstance(attr, list) and len(attr) == 3 and isinstance(attr[2], list):
            return attr
    return None


def _shown(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


@lru_cache(maxsize=256)
def _markdown_findings(text: str) -> tuple[str, ...]:
    """What an author's Markdown holds that the report does not allow (pandoc's own
    reading of it: what it would make of the text)."""
    found: list[str] = []
    if SHORTCODE in text:
        line = next(line for line in text.splitlines() if SHORTCODE in line)
        found.append(
            f"a shortcode ({_shown(line.strip())}): the report's text cannot include files or run shortcodes"
        )
    ast = _pandoc_ast(text)
    for node in _nodes(ast.get("blocks", [])):
        kind = node["t"]
        if kind in _RAW:
            fmt, raw = node["c"]
            what = "raw HTML" if fmt == "html" else f"{_RAW[kind]} for {fmt}"
            found.append(f"{what} ({_shown(raw)}): write the text as Markdown")
        elif kind == "Image":
            found.append(f"an image ({_shown(node['c'][2][0])}): declare figures in the figures section")
        elif kind == "Link":
            target = node["c"][2][0]
            if not (target.startswith("#") or target.lower().startswith(ALLOWED_SCHEMES)):
                found.append(
                    f"a link to {_shown(target)}: links go to http, https or mailto addresses "
                    "or to a heading (#id)"
                )
        attr = _attributes(node)
        if attr and attr[2]:
            keys = ", ".join(k for k, _ in attr[2])
            found.append(f"an attribute ({keys}): only an id and classes are allowed")
    return tuple(dict.fromkeys(found))


def _pandoc_ast(text: str) -> dict:
    import subprocess

    import pypandoc

    proc = subprocess.run(
        [pypandoc.get_pandoc_path(), "--from", "markdown", "--to", "json"],
        input=text,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"pandoc could not read the text: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def markdown_texts(config: Mapping) -> Iterator[tuple[tuple, str]]:
    """Every piece of Markdown a study author writes, with its key path: the sections'
    ``text`` blocks and the narrative templates."""
    report = config.get("report") or {}
    for i, section in enumerate(report.get("sections") or []):
        if not isinstance(section, Mapping):
            continue
        for j, item in enumerate(section.get("content") or []):
            if isinstance(item, Mapping) and isinstance(item.get("text"), str):
                yield ("report", "sections", i, "content", j, "text"), item["text"]
    for name, template in (report.get("narrative") or {}).items():
        if isinstance(template, str):
            yield ("report", "narrative", name), template


def key_name(path: Sequence) -> str:
    """``("report", "sections", 2, "content", 1, "text")`` -> ``report.sections[2].content[1].text``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def markdown_problems(config: Mapping, where=None) -> list[str]:
    """One line for each thing the study's Markdown does not allow, naming the key (and,
    with ``where``, a function of the key path giving the file and line)."""
    lines = []
    for path, text in markdown_texts(config):
        for finding in _markdown_findings(text):
            place = f"{where(path)}: " if where else ""
            lines.append(f"{place}{key_name(path)} holds {finding}")
    return lines


def check_markdown(text: str, key: str) -> None:
    """Raise ``ValueError`` naming ``key`` when an author's Markdown holds what the report
    does not allow (:func:`markdown_problems`)."""
    findings = _markdown_findings(text)
    if findings:
        raise ValueError("\n".join(f"{key} holds {f}" for f in findings))


__all__ = [
    "html",
    "svg",
    "gt",
    "markdown",
    "alt",
    "code",
    "typst",
    "yaml_scalar",
    "front_matter_text",
    "markdown_problems",
    "markdown_texts",
    "check_markdown",
    "key_name",
]
