"""Render the feasibility report (``report/feasibility.qmd``) to HTML and PDF.

Two back ends sit behind :func:`render_report`:

* **quarto** -- ``quarto render <copy> --to html`` and again ``--to typst`` (Quarto
  takes one format per call), each into a temporary ``--output-dir``, of a throwaway
  copy of the project: Quarto's ``.quarto/`` and intermediates never reach the build
  folder. Everything Quarto prints is logged (debug), its warnings as warnings, so a
  rule shows them even when the render succeeds (``pipeline.step``).
* **pandoc** -- the ``pandoc`` of ``pypandoc-binary`` and the ``typst`` wheel, for
  machines without Quarto. pandoc does not know Quarto's shortcodes, so
  ``{{< include FILE >}}`` is expanded here, when it stands alone on its line and FILE
  lies inside the report's folder (any other shortcode is refused: the report's text
  is escaped, ``feasibility.escape``, so no label can spell one); Quarto-only YAML keys
  are dropped;
  the options that matter (``toc``, ``toc-depth``, ``number-sections``, ``css``,
  ``papersize``, ``margin``, ``include-in-header``) are read from the same
  ``_quarto.yml``. Typst's warnings are logged.

Tables: each of the report's tables comes as raw HTML and raw Typst
(``report_content.table_block``, ``typeset``), its HTML marked
``data-quarto-disable-processing="true"``; so the PDF's tables are the same Typst in
both back ends. Any other raw HTML table is read through pandoc's HTML reader for the
PDF, as Quarto does.

Backend choice: the ``backend`` argument (``auto`` = Quarto when an executable is
found, pandoc otherwise), overridden by the environment variable
``FEASIBILITY_REPORT_BACKEND`` (``auto`` | ``quarto`` | ``pandoc``) when it is set.

Every output is written atomically, and two renders of the same inputs give
byte-identical files: pandoc prints no dates, and the PDF's date is
``SOURCE_DATE_EPOCH`` (or absent when no epoch is given). The PDF embeds
matplotlib's bundled DejaVu fonts and Typst's own, never the machine's fonts. The
HTML is self-contained: stylesheets inline, figures as data URIs.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from feasibility.io import write_bytes, write_text

log = logging.getLogger(__name__)

DOCUMENT = "feasibility.qmd"
BACKEND_ENV = "FEASIBILITY_REPORT_BACKEND"
BACKENDS = ("auto", "quarto", "pandoc")
QUARTO_FORMAT = {"html": "html", "pdf": "typst"}  # our output -> Quarto format name
STDERR_TAIL_LINES = 40

# Front-matter keys that pandoc understands; Quarto's (format, execute, ...) are dropped.
PANDOC_METADATA = ("title", "subtitle", "author", "date", "abstract", "lang", "keywords")

SHORTCODE = re.compile(r"\{\{<\s*(?P<name>[\w-]+)(?P<args>[^>]*?)\s*>\}\}")


class RenderError(RuntimeError):
    """The report could not be rendered; the message says which step and why."""


# ----------------------------------------------------------------------------- interface
def render_report(
    project_dir: Path,
    out_dir: Path,
    *,
    formats: Sequence[str] = ("html", "pdf"),
    backend: str = "auto",
    quarto_executable: str | os.PathLike | None = None,
    timeout: float = 300,
    source_date_epoch: int | None = None,
    document: str = DOCUMENT,
    name: str | None = None,
) -> dict[str, Path]:
    """Render ``project_dir/feasibility.qmd`` to ``out_dir/feasibility.{html,pdf}`` (with
    ``name``: to ``out_dir/<name>.{html,pdf}``, e.g. a study's ``<id>.html``).

    Returns ``{"html": path, "pdf": path}`` for the formats asked for.
    ``backend``: ``auto`` uses Quarto when :func:`find_quarto` finds it and pandoc
    otherwise; ``$FEASIBILITY_REPORT_BACKEND``, when set, overrides the argument.
    An explicitly configured ``quarto_executable`` that does not exist is an error
    (not a silent fall-back), unless the pandoc back end is forced.
    ``source_date_epoch`` defaults to the ``SOURCE_DATE_EPOCH`` environment variable.
    """
    project_dir, out_dir = Path(project_dir).resolve(), Path(out_dir).resolve()
    unknown = set(formats) - set(QUARTO_FORMAT)
    if unknown:
        raise RenderError(f"unknown report format(s) {sorted(unknown)}; choose from {list(QUARTO_FORMAT)}")
    if not (project_dir / document).is_file():
        raise RenderError(f"no {document} in report project {project_dir}")
    backend = os.environ.get(BACKEND_ENV) or backend
    if backend not in BACKENDS:
        raise RenderError(
            f"unknown report backend {backend!r}; choose from {BACKENDS} (argument or ${BACKEND_ENV})"
        )
    epoch = _source_date_epoch(source_date_epoch)

    quarto = None
    if backend != "pandoc":
        quarto = find_quarto(quarto_executable)
        if quarto is None and (backend == "quarto" or quarto_executable):
            raise RenderError(
                f"Quarto executable not found ({quarto_executable or 'quarto on PATH'}); "
                f"install Quarto or use the pandoc back end"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    if quarto is not None:
        log.info("rendering %s with Quarto (%s)", project_dir, quarto)
        return _render_with_quarto(quarto, project_dir, out_dir, formats, timeout, epoch, document, name)
    log.info("rendering %s with pandoc and Typst", project_dir)
    return _render_with_pandoc(project_dir, out_dir, formats, timeout, epoch, document, name)


def find_quarto(configured: str | os.PathLike | None = None) -> Path | None:
    """The Quarto executable: ``configured`` (a path or a command name) or ``quarto`` on PATH."""
    if configured:
        candidate = Path(configured).expanduser()
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.resolve()
        found = shutil.which(str(configured))
    else:
        found = shutil.which("quarto")
    return Path(found) if found else None


def render_options(config: Mapping) -> dict:
    """Keyword arguments for :func:`render_report` from the study config's ``report`` block."""
    report = config.get("report", {}) or {}
    return {
        "backend": report.get("backend", "auto"),
        "quarto_executable": report.get("quarto_executable"),
        "timeout": report.get("timeout_seconds", 300),
    }


def _source_date_epoch(given: int | None) -> int | None:
    value = given if given is not None else os.environ.get("SOURCE_DATE_EPOCH")
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise RenderError(f"SOURCE_DATE_EPOCH must be an integer number of seconds, not {value!r}") from None


def _run(
    cmd: Sequence[str],
    *,
    timeout: float,
    input: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run ``cmd``; return its stdout, or raise RenderError with the command and its stderr."""
    return _run_full(cmd, timeout=timeout, input=input, cwd=cwd, env=env)[0]


def _run_full(
    cmd: Sequence[str],
    *,
    timeout: float,
    input: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """Run ``cmd``; return its stdout and stderr, or raise RenderError with the command and
    the tail of its stderr."""
    shown = subprocess.list2cmdline([str(c) for c in cmd])
    proc = subprocess.Popen(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        text=True,
        encoding="utf-8",
        errors="replace",
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # own process group: a timeout kills its children too
    try:
        stdout, stderr = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise RenderError(f"timed out after {timeout:g} s: {shown}") from None
    if proc.returncode != 0:
        tail = "\n".join(stderr.splitlines()[-STDERR_TAIL_LINES:])
        raise RenderError(f"command failed with exit status {proc.returncode}: {shown}\n{tail}")
    return stdout, stderr


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError):  # no process groups (Windows)
        proc.kill()


# ----------------------------------------------------------------------------- Quarto
def _render_with_quarto(
    quarto: Path,
    project_dir: Path,
    out_dir: Path,
    formats: Iterable[str],
    timeout: float,
    epoch: int | None,
    document: str = DOCUMENT,
    name: str | None = None,
) -> dict[str, Path]:
    """``quarto render`` of a copy of the project, one call per format, each into its own
    ``--output-dir``: Quarto's own files (``.quarto/``, intermediates) stay in the copy,
    which is removed, so the build folder is left as it was. Everything Quarto prints goes
    to the log; its warnings are logged as warnings (shown on the console by the rule)."""
    env = dict(os.environ)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    outputs = {}
    # not a hidden folder: Quarto leaves out of a project what starts with "." or "_"
    work = Path(tempfile.mkdtemp(prefix="quarto-render-", dir=out_dir))
    try:
        copy = work / "project"
        shutil.copytree(project_dir, copy, symlinks=True)
        # the project (its render list) for the main report; the one file for another document
        source = copy if document == DOCUMENT else copy / document
        for fmt in formats:
            target = out_dir / f"{name or Path(document).stem}.{fmt}"
            staging = work / f"output-{fmt}"
            staging.mkdir()
            to = QUARTO_FORMAT[fmt]
            stdout, stderr = _run_full(
                [quarto, "render", source, "--to", to, "--output-dir", staging],
                timeout=timeout,
                cwd=copy,
                env=env,
            )
            report_quarto_output(f"quarto render --to {to}", stdout + stderr)
            produced = staging / Path(document).with_suffix(f".{fmt}").name
            if not produced.is_file():
                found = sorted(p.name for p in staging.rglob("*") if p.is_file())
                raise RenderError(
                    f"quarto render --to {to} wrote no {produced.name} (found: {found or 'nothing'})"
                )
            os.replace(produced, target)  # same folder tree, so the move is atomic
            outputs[fmt] = target
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return outputs


# A warning line of Quarto's own log ("WARNING (...)", "WARN: ..."), of one of its Lua
# filters, or of the Typst or pandoc it runs ("warning: unknown font family: ...",
# "[WARNING] ..."); the lines after a Typst warning that show where it arose go with it.
WARNING_LINE = re.compile(r"^\s*(?:\[typst\]:.*?)?(?:WARN(?:ING)?\b|warning:|\[WARNING\])", re.IGNORECASE)
CONTINUATION = re.compile(r"^(?:\s+[│┌└├=|^]|\s*\d+\s+[│|]|\s+(?:help|hint|note)\b)")


def quarto_warnings(output: str) -> list[str]:
    """Quarto's warnings in its console output, each with the lines that go with it."""
    warnings: list[str] = []
    current = None
    for line in output.splitlines():
        if WARNING_LINE.match(line):
            warnings.append(line.strip())
            current = len(warnings) - 1
        elif current is not None and line.strip() and CONTINUATION.match(line):
            warnings[current] += "\n" + line.rstrip()
        else:
            current = None
    return warnings


def report_quarto_output(step: str, output: str) -> None:
    """Log all of Quarto's output (debug) and each of its warnings (warning)."""
    if output.strip():
        log.debug("%s printed:\n%s", step, output.rstrip())
    for warning in quarto_warnings(output):
        log.warning("%s: %s", step, warning)


# ----------------------------------------------------------------------------- includes
def expand_includes(path: Path, project_dir: Path | None = None) -> str:
    """Text of ``path`` with each ``{{< include FILE >}}`` replaced by FILE's expanded text.

    As in Quarto, FILE is relative to the file that includes it, or to the project
    directory when it starts with ``/``, and an include stands alone on its line (one
    inside a line of text is not expanded, and the render refuses it). FILE must lie
    inside the project directory (the build copy of ``report/``): a path that leads out
    of it, by ``..`` or a symbolic link, is an error, as are a missing file and an
    include cycle.
    """
    path = Path(path).resolve()
    return _expand(path, Path(project_dir or path.parent).resolve(), (path,))


INCLUDE_LINE = re.compile(
    r"^[ \t]*\{\{<[ \t]*include[ \t]+(?P<file>[^<>\s]+|\"[^\"<>\n]+\"|'[^'<>\n]+')[ \t]*>\}\}[ \t]*$",
    re.MULTILINE,
)


def _expand(path: Path, project_dir: Path, chain: tuple[Path, ...]) -> str:
    def include(match: re.Match) -> str:
        name = match["file"].strip("\"'")
        target = (project_dir / name.lstrip("/") if name.startswith("/") else path.parent / name).resolve()
        if not target.is_relative_to(project_dir):
            raise RenderError(
                f"{path}: the include {name} leads outside the report's folder "
                f"{project_dir}; only the report's own files can be included"
            )
        if target in chain:
            cycle = " -> ".join(p.name for p in (*chain, target))
            raise RenderError(f"include cycle in {chain[0]}: {cycle}")
        if not target.is_file():
            raise RenderError(f"{path}: included file not found: {name} (looked for {target})")
        return _expand(target, project_dir, (*chain, target))

    return INCLUDE_LINE.sub(include, path.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- pandoc + Typst
def _render_with_pandoc(
    project_dir: Path,
    out_dir: Path,
    formats: Iterable[str],
    timeout: float,
    epoch: int | None,
    document: str = DOCUMENT,
    name: str | None = None,
) -> dict[str, Path]:
    text = expand_includes(project_dir / document, project_dir)
    stem = name or Path(document).stem
    leftover = SHORTCODE.search(text)
    if leftover:
        raise RenderError(
            f"the pandoc back end expands only include shortcodes that stand alone on "
            f"their line, not {leftover[0][:200]}"
        )
    front_matter, body = split_front_matter(text)
    metadata = {k: front_matter[k] for k in PANDOC_METADATA if k in front_matter}
    markdown = (
        f"---\n{yaml.safe_dump(metadata, sort_keys=True, allow_unicode=True)}---\n\n" if metadata else ""
    ) + body

    pandoc = _pandoc_path()
    ast = json.loads(_run([pandoc, "--from", "markdown", "--to", "json"], input=markdown, timeout=timeout))
    _prepare_images(ast, project_dir)
    source = json.dumps(ast)

    def html() -> Path:
        options = _format_options(project_dir, front_matter, "html")
        args = ["--standalone", "--wrap=none", *_common_args(options)]
        sheets = [project_dir / css for css in _as_list(options.get("css"))]
        with tempfile.TemporaryDirectory(prefix="feasibility-html-") as tmp:
            if any("url(" in sheet.read_text(encoding="utf-8") for sheet in sheets):
                # a stylesheet that loads something: let pandoc find and embed it
                args.append("--embed-resources")
                for css in _as_list(options.get("css")):
                    args += ["--css", css]
                document = source
            else:
                # self-contained by construction, without pandoc's pass over the whole
                # page (--embed-resources): the stylesheets inline, the figures as data URIs
                styles = Path(tmp) / "styles.html"
                styles.write_text(
                    "".join(f"<style>\n{sheet.read_text(encoding='utf-8')}</style>\n" for sheet in sheets),
                    encoding="utf-8",
                )
                args += ["--include-in-header", str(styles)]
                document = json.dumps(_images_inline(json.loads(source), project_dir))
            text = _run(
                [pandoc, "--from", "json", "--to", "html5", *args],
                input=document,
                timeout=timeout,
                cwd=project_dir,
            )
        write_text(out_dir / f"{stem}.html", text)
        return out_dir / f"{stem}.html"

    typst_warnings: list[str] = []

    def pdf() -> Path:
        typ = typst_source(ast, project_dir, front_matter, pandoc, timeout)
        pdf_bytes, warnings = compile_typst(typ, project_dir, epoch, with_warnings=True)
        typst_warnings.extend(warnings)
        write_bytes(out_dir / f"{stem}.pdf", pdf_bytes)
        return out_dir / f"{stem}.pdf"

    # The two formats share nothing after the AST: render them side by side (the work is
    # in pandoc and Typst, which release the GIL).
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {fmt: pool.submit(job) for fmt, job in (("html", html), ("pdf", pdf)) if fmt in formats}
        outputs = {fmt: future.result() for fmt, future in futures.items()}
    for warning in typst_warnings:  # logged here, in the caller's thread (its rule's log)
        log.warning("typst: %s", warning)
    return outputs


def typst_source(ast: dict, project_dir: Path, front_matter: Mapping, pandoc: str, timeout: float) -> str:
    """The Typst document pandoc writes from the report's AST, with the typst format's
    options (papersize, margin, header) and every raw HTML table converted as Quarto does."""
    options = _format_options(project_dir, front_matter, "typst")
    args = ["--standalone", "--wrap=none", *_common_args(options)]
    if "papersize" in options:
        args += ["--variable", f"papersize={options['papersize']}"]
    for header in _as_list(options.get("include-in-header")):
        args += ["--include-in-header", header]
    meta = dict(ast.get("meta", {}))
    if isinstance(options.get("margin"), Mapping):  # pandoc's Typst template reads margin.x, .y, ...
        meta["margin"] = {
            "t": "MetaMap",
            "c": {str(k): {"t": "MetaString", "c": str(v)} for k, v in options["margin"].items()},
        }
    typst_ast = dict(ast, meta=meta, blocks=_html_tables_to_pandoc(ast["blocks"], pandoc, timeout))
    return _run(
        [pandoc, "--from", "json", "--to", "typst", *args],
        input=json.dumps(typst_ast),
        timeout=timeout,
        cwd=project_dir,
    )


def split_front_matter(text: str) -> tuple[dict, str]:
    """The YAML front matter of a Quarto/pandoc document as a dict, and the rest of the text."""
    match = re.match(r"---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|$)", text, flags=re.DOTALL)
    if not match:
        return {}, text
    front_matter = yaml.safe_load(match[1] or "") or {}
    if not isinstance(front_matter, dict):
        raise RenderError("the document's YAML front matter is not a mapping")
    return front_matter, text[match.end() :]


def _format_options(project_dir: Path, front_matter: Mapping, quarto_format: str) -> dict:
    """Options of one Quarto format: ``_quarto.yml`` overridden by the document's front matter."""
    project_file = project_dir / "_quarto.yml"
    project = yaml.safe_load(project_file.read_text(encoding="utf-8")) if project_file.is_file() else {}
    options: dict = {}
    for source in (project or {}, front_matter):
        fmt = source.get("format")
        if isinstance(fmt, Mapping) and isinstance(fmt.get(quarto_format), Mapping):
            options.update(fmt[quarto_format])
    return options


def _common_args(options: Mapping) -> list[str]:
    args = []
    if options.get("toc"):
        args += ["--toc", f"--toc-depth={int(options.get('toc-depth', 3))}"]
    if options.get("number-sections"):
        args.append("--number-sections")
    return args


def _as_list(value) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def _prepare_images(node, project_dir: Path) -> None:
    """Fail early, naming the file, when a figure's image is missing (pandoc only warns),
    and give each image its ``fig-alt`` text as its alternative text, as Quarto does
    (pandoc would keep it only as an unused ``data-fig-alt`` attribute)."""
    if isinstance(node, dict):
        if node.get("t") == "Image":
            attr, _, (src, _) = node["c"]
            if not re.match(r"[a-zA-Z][\w+.-]*:", src):
                if not (project_dir / src).resolve().is_relative_to(project_dir.resolve()):
                    raise RenderError(f"figure image {src} lies outside the report's folder {project_dir}")
                if not (project_dir / src).is_file():
                    raise RenderError(f"figure image not found: {src} (relative to {project_dir})")
            alt = dict(attr[2]).get("fig-alt")
            if alt:
                attr[2] = [kv for kv in attr[2] if kv[0] != "fig-alt"]
                node["c"][1] = [{"t": "Str", "c": alt}]
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            _prepare_images(child, project_dir)


IMAGE_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


def _images_inline(node, project_dir: Path):
    """The AST with every local image's source replaced by a data URI of the file."""
    if isinstance(node, dict):
        if node.get("t") == "Image":
            src = node["c"][2][0]
            path = project_dir / src
            if not re.match(r"[a-zA-Z][\w+.-]*:", src) and path.is_file():
                kind = IMAGE_TYPES.get(path.suffix.lower(), "application/octet-stream")
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                node["c"][2][0] = f"data:{kind};base64,{data}"
            return node
        for value in node.values():
            _images_inline(value, project_dir)
    elif isinstance(node, list):
        for child in node:
            _images_inline(child, project_dir)
    return node


RAW_ID = "feasibility-raw-html-"


# Quarto leaves a raw HTML table alone (and so out of the PDF) when it says so; the
# report's tables do, and bring their own Typst (feasibility.typeset).
QUARTO_DISABLED = re.compile(r"<table\b[^>]*\bdata-quarto-disable-processing=[\"']true[\"']", re.IGNORECASE)


def _html_tables_to_pandoc(blocks: list, pandoc: str, timeout: float) -> list:
    """Replace every raw HTML block in a pandoc AST by the blocks pandoc's HTML reader makes
    of it, as Quarto does for the formats that cannot show raw HTML.

    pandoc's Typst writer drops raw HTML; read through ``-f html`` an HTML table
    becomes a pandoc table. A block whose table disables Quarto's processing is kept as
    it is (and so dropped from the PDF), as Quarto does. All raw blocks go through one
    pandoc call, each wrapped in a numbered ``<div>``.
    """
    raw: list[str] = []

    def convertible(node) -> bool:
        return (
            node.get("t") == "RawBlock"
            and node["c"][0] == "html"
            and not QUARTO_DISABLED.search(node["c"][1])
        )

    def collect(node):
        if isinstance(node, dict):
            if convertible(node):
                raw.append(node["c"][1])
            else:
                for value in node.values():
                    collect(value)
        elif isinstance(node, list):
            for child in node:
                collect(child)

    collect(blocks)
    if not raw:
        return blocks
    wrapped = "".join(f'<div id="{RAW_ID}{i}">\n{html}\n</div>\n' for i, html in enumerate(raw))
    read = json.loads(_run([pandoc, "--from", "html", "--to", "json"], input=wrapped, timeout=timeout))
    converted = {
        div["c"][0][0]: div["c"][1]
        for div in read["blocks"]
        if div.get("t") == "Div" and div["c"][0][0].startswith(RAW_ID)
    }
    counter = iter(range(len(raw)))

    def replace(node):
        if isinstance(node, dict):
            return {k: replace(v) for k, v in node.items()}
        if not isinstance(node, list):
            return node
        out = []
        for child in node:
            if isinstance(child, dict) and convertible(child):
                out.extend(converted[f"{RAW_ID}{next(counter)}"])
            else:
                out.append(replace(child))
        return out

    return replace(blocks)


def compile_typst(source: str, root: Path, epoch: int | None, *, with_warnings: bool = False):
    """Compile Typst ``source`` to PDF bytes with fixed fonts and a fixed (or no) date;
    with ``with_warnings``, return ``(pdf, [warning, ...])``.

    Fonts: Typst's bundled fonts plus matplotlib's DejaVu (the figures' SVG text asks
    for 'DejaVu Sans'); system fonts are ignored so every machine gives the same PDF.
    """
    import matplotlib
    import typst

    if epoch is None:
        source = "#set document(date: none)\n" + source  # otherwise Typst stamps the current time
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    try:
        pdf, warnings = typst.compile_with_warnings(
            source.encode("utf-8"),
            root=str(root),
            font_paths=[str(fonts)],
            ignore_system_fonts=True,
            timestamp=epoch,
        )
    except Exception as error:  # typst raises its own error types; keep the compiler's message
        raise RenderError(f"Typst could not compile the report: {error}") from error
    if not with_warnings:
        return pdf
    return pdf, [_typst_warning_text(w) for w in warnings]


def _typst_warning_text(warning) -> str:
    hints = "".join(f"\n  hint: {hint}" for hint in (getattr(warning, "hints", None) or []))
    return f"{getattr(warning, 'message', warning)}{hints}"
