"""No identifier in any output, by rule (issue 20.2).

Which fields are identifiers is read here from each study's data dictionary as REDCap reads
``Identifier?`` (``y`` or ``yes``, any case), independently of the library; their values come
from the all-records export (names, e-mail addresses, phone numbers, postcodes, dates of
birth, participant IDs; the record ID, the key every table shares, aside). Every file a
build leaves under ``results/`` is then read as a reader or a program could read it: the
rendered text, attributes and embedded images of HTML (SVG decoded, PNG text chunks read),
SVG and Markdown, the PDF's text and metadata (PyMuPDF), PNG text chunks, the validated
Parquet tables, CSV, JSON and logs; and no identifier value may appear in any, printed
whole (a date of birth in any day-precision form).
"""

from __future__ import annotations

import base64
import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from projectcopy import copy_project, run_snakemake
from test_disclosure import printed_days, readable_markup

TRIAL = "config/studies/full-trial.yaml"
MISSING_CODES = {"UNK", "NASK", "DECL", "NA", "NI", "ASKU"}


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def identifier_values(raw: Path) -> dict[str, str]:
    """value -> "field" for every identifier value of the export in ``raw``."""
    dd = _rows(raw / "data_dictionary.csv")
    header = dd[0]
    col = header.index("Identifier?") if "Identifier?" in header else header.index("identifier")
    record_id = dd[1][0]
    fields = {r[0] for r in dd[1:] if r[col].strip().lower() in ("y", "yes")} - {record_id}
    records = _rows(raw / "records.csv")
    out: dict[str, str] = {}
    for field in sorted(fields):
        j = records[0].index(field)
        for r in records[1:]:
            value = r[j].strip()
            if value and value not in MISSING_CODES:
                out.setdefault(value, field)
    return out


_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")


def _png_chunks(data: bytes) -> str:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return "\n".join(f"{k} {v}" for k, v in getattr(image, "text", {}).items())


def readable(path: Path) -> str:
    """What a reader or a program gets from one output file."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        import pymupdf

        with pymupdf.open(path) as doc:
            parts = [page.get_text() for page in doc]
            parts += [str(v) for v in (doc.metadata or {}).values() if v]
            parts.append(doc.get_xml_metadata() or "")
        return "\n".join(parts)
    if suffix == ".png":
        return _png_chunks(path.read_bytes())
    if suffix == ".parquet":
        return pd.read_parquet(path).to_csv(index=False)
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        return ""  # a binary file of another kind (a font): no text to read
    text = data.decode("utf-8", "replace")
    if suffix in (".html", ".svg", ".md", ".qmd", ".xml"):
        pngs = [_png_chunks(base64.b64decode(m.group(1))) for m in _PNG.finditer(text)]
        return readable_markup(text) + "\n" + "\n".join(pngs)
    if suffix == ".typ":  # a table's Typst: its text without the escapes
        return re.sub(r"\\(.)", r"\1", text.replace("\u200b", ""))
    return text


def outputs(results: Path) -> dict[str, str]:
    return {
        p.relative_to(results).as_posix(): " ".join(readable(p).split())
        for p in sorted(results.rglob("*"))
        if p.is_file()
    }


def found(texts: dict[str, str], values: dict[str, str]) -> list[str]:
    """Once per output and value: where an identifier value is printed whole."""
    plain = sorted((v for v in values if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)), key=len, reverse=True)
    pattern = re.compile(
        r"(?<![A-Za-z0-9@.])("
        + "|".join(re.escape(" ".join(v.split())) for v in plain)
        + r")(?![A-Za-z0-9])",
        re.IGNORECASE,
    )
    lower = {" ".join(v.split()).lower(): v for v in plain}
    days = {v for v in values if v not in lower}
    hits: dict[tuple[str, str], str] = {}
    for name, text in texts.items():
        for m in pattern.finditer(text):
            v = lower[m.group(1).lower()]
            hits.setdefault(
                (name, v), f"{name}: {v!r} ({values[v]}) …{text[max(0, m.start() - 40) : m.end() + 40]}…"
            )
        for iso, m in printed_days(text):
            if iso in days:
                hits.setdefault(
                    (name, iso),
                    f"{name}: {iso!r} ({values[iso]}) …{text[max(0, m.start() - 40) : m.end() + 40]}…",
                )
    return [hits[k] for k in sorted(hits)]


def check(project: Path, raw: Path) -> None:
    values = identifier_values(raw)
    kinds = set(values.values())
    assert len(values) >= 30 and kinds, kinds
    texts = outputs(project / "results")
    assert any(name.endswith(".pdf") for name in texts) and any(name.endswith(".parquet") for name in texts)
    assert any(name.endswith(".html") for name in texts) and any(name.endswith(".svg") for name in texts)
    leaks = found(texts, values)
    assert not leaks, f"{len(leaks)} identifier value(s) in the outputs:\n" + "\n".join(leaks[:40])


def test_the_scan_finds_an_identifier_wherever_it_hides(tmp_path):
    """Control: a value in HTML text, in an embedded SVG and in a PNG's text chunk inside
    the HTML, in a PDF, in a Parquet table, in a date of birth printed in words."""
    import pymupdf
    from PIL import Image, PngImagePlugin

    values = {
        "Ann Example": "con_name",
        "ann@example.org": "con_email",
        "QQ6 4BA": "con_postcode",
        "1957-07-23": "con_dob",
        "01632 960981": "con_phone",
    }
    svg = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg"><text>qq6 4ba</text></svg>').decode()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "call 01632 960981")
    png = io.BytesIO()
    Image.new("RGB", (2, 2)).save(png, format="PNG", pnginfo=info)
    (tmp_path / "a.html").write_text(
        f'<p>born 23 July 1957</p><img src="data:image/svg+xml;base64,{svg}">'
        f'<img src="data:image/png;base64,{base64.b64encode(png.getvalue()).decode()}">'
    )
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Contact: Ann  Example")
    doc.save(tmp_path / "b.pdf")
    pd.DataFrame({"email": ["ann@example.org"]}).to_parquet(tmp_path / "c.parquet")
    (tmp_path / "d.csv").write_text("not leaks: xann@example.org, Ann Examples, 2017-07-23\n")
    hits = found(outputs(tmp_path), values)
    assert [h.split(" (")[0] for h in hits] == [
        "a.html: '01632 960981'",
        "a.html: '1957-07-23'",
        "a.html: 'QQ6 4BA'",
        "b.pdf: 'Ann Example'",
        "c.parquet: 'ann@example.org'",
    ]


def test_no_identifier_reaches_any_output_of_the_paper_study(built_project):
    check(built_project, built_project / "data" / "raw")


@pytest.fixture(scope="module")
def built_trial(tmp_path_factory) -> Path:
    proj = copy_project(tmp_path_factory.mktemp("trial_identifiers"))
    res = run_snakemake(proj, "--configfile", TRIAL, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return proj


@pytest.mark.slow  # builds the full trial from its shipped export
def test_no_identifier_reaches_any_output_of_the_full_trial(built_trial):
    values = identifier_values(built_trial / "data" / "full-trial")
    assert {"con_name", "con_email", "con_phone", "con_postcode", "con_dob"} <= set(values.values())
    check(built_trial, built_trial / "data" / "full-trial")
