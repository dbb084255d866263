"""Where the data came from: the provenance file a data generator leaves beside its exports.

Real REDCap exports carry no such file; the project's generator (``feasibility.synth``)
writes ``provenance.json`` into the folder it fills. The report reads the flag from the
data folder, never from a setting a user could forget, and says plainly on its first
page and in every table's source note that synthetic data are not the study's data.

The format does not depend on the export layout (12 files today, a single records
export later): it names the generator and what the data were calibrated to, lists what
the generator invented, and gives the SHA-256 of each file it wrote, whatever they are,
so that a later edit of the data is visible.

::

    {"format": "feasibility-provenance/1", "synthetic": true,
     "generator": "feasibility.synth", "generator_version": "0.1.0", "cohort": "calibrated",
     "seed": 20200411,
     "calibrated_to": {"publication": "...", "published_values_sha256": "...",
                       "eq5d_index": "england_5l_2018"},
     "statement": "...", "invented": ["...", ...], "files": {"records.csv": "<sha256>", ...}}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .io import write_text

FILE = "provenance.json"
FORMAT = "feasibility-provenance/1"

SYNTHETIC_SOURCE_NOTE = (
    "Source: synthetic data made by this project's generator to reproduce "
    "the paper's published aggregates; not the study's data."
)
DUMMY_SOURCE_NOTE = (
    "Source: dummy data made by this project's generator from the study's data "
    "dictionary; not the study's data."
)


@dataclass(frozen=True)
class Provenance:
    synthetic: bool
    generator: str = ""
    generator_version: str = ""
    cohort: str = ""
    seed: int | None = None
    calibrated_to: dict = field(default_factory=dict)
    statement: str = ""
    invented: tuple[str, ...] = ()
    files: dict = field(default_factory=dict)
    command: str = ""  # how to make the data again (the dummy generator's)
    pull: str = ""  # data pulled from REDCap's API: the pull, in words (feasibility.pull)

    def changed_files(self, current: dict[str, str | None]) -> list[str]:
        """Files the generator wrote whose SHA-256 differs now (``current``: name -> hash)."""
        return sorted(
            name for name, digest in self.files.items() if name in current and current[name] != digest
        )


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def provenance_text(info: dict) -> str:
    """The file's text: keys sorted, two-space indent, one trailing newline (byte-stable)."""
    return json.dumps(info, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_provenance(out: Path, written: list[Path], **info) -> Path:
    """Write ``provenance.json`` into ``out``, listing the SHA-256 of every written file."""
    record = {
        "format": FORMAT,
        **info,
        "files": {Path(p).name: sha256_file(p) for p in sorted(written, key=lambda p: Path(p).name)},
    }
    path = Path(out) / FILE
    write_text(path, provenance_text(record))
    return path


class ProvenanceError(ValueError):
    """A provenance file that is present but cannot be used; the message names it."""


def read_provenance(path: str | Path | None) -> Provenance | None:
    """The provenance in ``path`` (the file, or the data folder holding it); None when absent.

    A file that is present but unreadable is an error (:class:`ProvenanceError`, naming the
    file, the line and what is wrong): the report must not silently present synthetic data
    as real.
    """
    if not path:
        return None
    path = Path(path)
    if path.is_dir():
        path = path / FILE
    if not path.exists():
        return None
    why = "; the report cannot tell whether the data are synthetic"
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except json.JSONDecodeError as err:
        raise ProvenanceError(f"{path} line {err.lineno}: not valid JSON ({err.msg}){why}") from None
    except UnicodeDecodeError as err:
        raise ProvenanceError(f"{path}: not UTF-8 text (byte offset {err.start}){why}") from None
    except RecursionError:
        raise ProvenanceError(f"{path}: its JSON is nested too deeply{why}") from None
    except OSError as err:
        raise ProvenanceError(f"{path}: cannot be read ({err.strerror or err}){why}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("synthetic"), bool):
        raise ProvenanceError(f"{path}: needs a true/false 'synthetic' entry")
    return Provenance(
        synthetic=raw["synthetic"],
        generator=raw.get("generator", ""),
        generator_version=raw.get("generator_version", ""),
        cohort=raw.get("cohort", ""),
        seed=raw.get("seed"),
        calibrated_to=raw.get("calibrated_to") or {},
        statement=raw.get("statement", ""),
        invented=tuple(raw.get("invented") or ()),
        files=raw.get("files") or {},
        command=raw.get("command", ""),
        pull=_pull_words(raw),
    )


def _pull_words(raw: dict) -> str:
    if raw.get("format") != "feasibility-pull/1":
        return ""
    from .pull import describe

    return describe(raw)


def is_synthetic(prov: Provenance | None) -> bool:
    return bool(prov and prov.synthetic)


def is_dummy(prov: Provenance | None) -> bool:
    """Generated data that are not calibrated to a publication: dummy data made from a data
    dictionary alone (``feasibility dummy``)."""
    return is_synthetic(prov) and not (prov.calibrated_to or {}).get("publication")


DUMMY_FIGURE_NOTE = (
    "Dummy data made by this project's generator from the study's data dictionary, not the study's data"
)


def default_source_note(prov: Provenance | None) -> str:
    """The source note of a table whose declaration has none: for dummy data the statement
    that they are not the study's data (every table says so, issue 23.8); otherwise none."""
    return source_note(prov, "") if is_dummy(prov) else ""


def default_figure_note(prov: Provenance | None) -> str | None:
    """The data note of a figure whose declaration has none (``synthetic_note``): for dummy
    data the statement that they are not the study's data; otherwise None."""
    return DUMMY_FIGURE_NOTE if is_dummy(prov) else None


def source_note(prov: Provenance | None, real: str, what: str = "") -> str:
    """A table's source note: ``real`` for real exports; for synthetic data the statement
    that they are not the study's data, followed by ``what`` (the forms used)."""
    if not is_synthetic(prov):
        return real
    note = SYNTHETIC_SOURCE_NOTE if (prov.calibrated_to or {}).get("publication") else DUMMY_SOURCE_NOTE
    return note + (f" {what}" if what else "")
