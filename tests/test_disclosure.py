"""Disclosure control (issue 8): no identifier, date of birth, exact date or free text from
the raw exports reaches a report file, figure or table; and the optional small-cell rule
(``disclosure.small_cell_threshold``).

The scan reads what a reader of each output can get at: the rendered text and attributes
of the HTML (with its embedded SVG figures decoded), the PDF's text and metadata, the
SVG figures, their alt texts and PNG text chunks, and the tidy CSVs. Dates count as
exact at day precision only: "September 2017" or "2017-09" is a month, not a leak.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import shutil
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest

from projectcopy import PAPER, results_of, run_snakemake
from feasibility.studies.pilot2020 import crf

SCANNED = ["report/**/*", "tables/*", "figures/*", "reproduction/*"]
MIN_FREE_TEXT = 5  # shorter free-text answers ("Yes", "n/a") are common words


# ---------------------------------------------------------------------------- raw values
def sensitive_values(raw: Path) -> dict[str, dict[str, str]]:
    """Every identifier, exact date and free-text answer in the raw REDCap downloads, by kind.

    Kinds come from the data dictionary (``Identifier?``, which marks the record-ID field
    and the participant ID; ``date_ymd`` validation; text fields without validation or
    choices) and, for identifiers, also from crf.py. The values are read from the
    all-records export (records.csv), where every field is a column of its own name.
    Returns {kind: {value: "records.csv:field"}}.
    """
    dd = pd.read_csv(raw / crf.DICTIONARY_FILE, dtype=str, keep_default_na=False)
    name, validation = dd["Variable / Field Name"], dd["Text Validation Type OR Show Slider Number"]
    dates = set(name[validation == "date_ymd"])
    identifiers = (
        set(name[dd["Identifier?"] == "y"]) | {f.name for f in crf.fields() if f.identifier}
    ) - dates
    free = (
        set(
            name[
                dd["Field Type"].isin(["text", "notes"])
                & (validation == "")
                & (dd["Choices, Calculations, OR Slider Labels"] == "")
            ]
        )
        - identifiers
    )
    found: dict[str, dict[str, str]] = {"identifier": {}, "exact date": {}, "free text": {}}
    frame = pd.read_csv(raw / crf.RECORDS_FILE, dtype=str, keep_default_na=False)
    for kind, fields in (("identifier", identifiers), ("exact date", dates), ("free text", free)):
        assert fields <= set(frame.columns), sorted(fields - set(frame.columns))
        for field in sorted(fields):
            for value in frame[field].str.strip():
                if value and (kind != "free text" or len(value) >= MIN_FREE_TEXT):
                    found[kind].setdefault(value, f"{crf.RECORDS_FILE}:{field}")
    return found


MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
# Every way a report could print one day, as (pattern, order of year, month, day groups).
# A digit either side makes it another number; a month without a day is not matched.
DAY_SHAPES = [
    (re.compile(r"(?<![\d/.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d|[/.]\d)"), "ymd"),
    (re.compile(r"(?<![\d/.])(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?!\d)"), "dmy"),
    (re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{MONTH},? (\d{{4}})(?!\d)", re.I), "dmy"),
    (re.compile(rf"{MONTH} (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})(?!\d)", re.I), "mdy"),
]
MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}


def printed_days(text: str):
    """(ISO date, match) for every day-precision date printed in ``text``."""
    for pattern, order in DAY_SHAPES:
        for m in pattern.finditer(text):
            g = [MONTHS.get(x[:3].lower(), x) for x in m.groups()]
            y, mo, d = (g[order.index(part)] for part in "ymd")
            try:
                yield dt.date(int(y), int(mo), int(d)).isoformat(), m
            except ValueError:
                continue


def occurrences(kind: str, values: dict[str, str], text: str):
    """(value, match) for every raw value of ``kind`` printed in ``text``."""
    if kind == "exact date":
        yield from ((iso, m) for iso, m in printed_days(text) if iso in values)
    elif kind == "identifier":  # whole words only: PP04 is not inside PP041
        yield from ((m.group(0), m) for m in re.finditer(r"[A-Za-z0-9]+", text) if m.group(0) in values)
        for value in (v for v in values if not v.isalnum()):
            pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")
            yield from ((value, m) for m in pattern.finditer(text))
    else:
        for value in values:
            yield from ((value, m) for m in re.finditer(re.escape(" ".join(value.split())), text, re.I))


# ------------------------------------------------------------------- what a reader can see
_BASE64_URI = re.compile(r"data:([\w/+.-]+)(?:;[\w=.-]+)*;base64,([A-Za-z0-9+/=\s]*)")
_URL_URI = re.compile(r"data:([\w/+.-]+)(?:;[\w=.-]+)*,([^\"'\s)<>]*)")


def _decode_data_uris(text: str) -> str:
    """Embedded SVG and text resources decoded in place; other binaries (PNG, fonts) dropped."""

    def decoder(decode):
        def replace(m: re.Match) -> str:
            if not (m.group(1) == "image/svg+xml" or m.group(1).startswith("text/")):
                return " "
            return " " + readable_markup(decode(m.group(2)).decode("utf-8", "replace")) + " "

        return replace

    text = _BASE64_URI.sub(decoder(base64.b64decode), text)
    return _URL_URI.sub(decoder(urllib.parse.unquote_to_bytes), text)


def readable_markup(text: str) -> str:
    """HTML/SVG/Markdown as its source (attributes included) and as its plain text."""
    text = html.unescape(_decode_data_uris(text))
    plain = re.sub(r"<[^>]+>", " ", text)
    return text + "\n" + plain


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    parts = [page.extract_text() or "" for page in reader.pages]
    info = reader.metadata
    if info:
        parts += [f"{k} {v}" for k, v in info.items()]
        parts += [when.date().isoformat() for when in (info.creation_date, info.modification_date) if when]
    xmp = reader.trailer["/Root"].get("/Metadata")
    if xmp is not None:
        parts.append(xmp.get_object().get_data().decode("utf-8", "replace"))
    return "\n".join(parts)


def png_text(path: Path) -> str:
    from PIL import Image

    with Image.open(path) as image:
        return "\n".join(f"{k} {v}" for k, v in getattr(image, "text", {}).items())


def readable(path: Path) -> str:
    if path.suffix == ".pdf":
        return pdf_text(path)
    if path.suffix == ".png":
        return png_text(path)
    if path.suffix == ".parquet":
        raise AssertionError(f"{path}: a data file among the report outputs")
    text = path.read_bytes().decode("utf-8", "replace")
    return readable_markup(text) if path.suffix in {".html", ".svg", ".md", ".qmd"} else html.unescape(text)


def outputs(project: Path) -> dict[str, str]:
    results = results_of(project)
    return {
        p.relative_to(results).as_posix(): " ".join(readable(p).split())
        for pattern in SCANNED
        for p in sorted(results.glob(pattern))
        if p.is_file()
    }


def leaks(texts: dict[str, str], values: dict[str, str], kind: str) -> list[tuple[str, str, str, str]]:
    """(output, text found, where the value comes from, context): once per output and value."""
    found = {}
    for name, text in texts.items():
        for value, m in occurrences(kind, values, text):
            found.setdefault(
                (name, value), (name, m.group(0), values[value], text[max(0, m.start() - 50) : m.end() + 50])
            )
    return list(found.values())


@pytest.fixture(scope="module")
def raw_values(built_project):
    return sensitive_values(built_project / "data" / "raw")


@pytest.fixture(scope="module")
def report_texts(built_project):
    return outputs(built_project)


# ------------------------------------------------------------------------------- the scan
def test_the_raw_values_collected_cover_every_kind(raw_values):
    ids, dates, free = raw_values["identifier"], raw_values["exact date"], raw_values["free text"]
    # 117 screened (record IDs S001..S117) and 31 recruited (participant IDs PP01..PP31);
    # one date of birth each
    assert {f"S{i:03d}" for i in range(1, 118)} <= set(ids)
    assert {ids[f"S{i:03d}"] for i in range(1, 118)} == {"records.csv:record_id"}
    assert {f"PP{i:02d}" for i in range(1, 32)} <= set(ids)
    assert sum(src.endswith(":dem_dob") for src in dates.values()) == 31
    assert any(src.endswith(":sc_date") for src in dates.values())
    assert {src.split(":")[1] for src in free.values()} >= {"plc_role", "sc_details", "ae_description"}


def test_the_scan_reads_every_output(report_texts):
    assert {
        "report/feasibility.html",
        "report/feasibility.pdf",
        "tables/table2.csv",
        "figures/consort.svg",
        "figures/timeline.alt.txt",
        "figures/timeline.png",
        "reproduction/comparison.csv",
    } <= set(report_texts)
    assert any(name.startswith("report/build/_generated/") for name in report_texts)
    html_text, pdf = report_texts["report/feasibility.html"], report_texts["report/feasibility.pdf"]
    assert "Assessed for eligibility" in html_text  # inside the embedded CONSORT SVG
    assert "Baseline sample characteristics" in pdf  # a table title, from the PDF text
    assert "base64" not in html_text


def test_the_scan_finds_planted_leaks(tmp_path):
    """Control: each way a value can hide in an output is read by the scan."""
    from PIL import Image, PngImagePlugin
    from pypdf import PdfWriter

    svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>PP04</text></svg>'
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "a.html").write_text(
        f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}">'
        "<p>seen on 4&nbsp;September 2017; the participant&#x27;s note: Left at lunchtime</p>"
        "<p>not leaks: recruited from September 2017 (2017-09) to 2018; PP041; 14/09/20171</p>"
    )
    pdf = PdfWriter()
    pdf.add_blank_page(100, 100)
    pdf.add_metadata({"/CreationDate": "D:20190704000000Z"})
    with open(tmp_path / "report" / "b.pdf", "wb") as fh:
        pdf.write(fh)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "record S017")
    Image.new("RGB", (4, 4)).save(tmp_path / "report" / "c.png", pnginfo=info)
    texts = {
        k: " ".join(readable(tmp_path / k).split()) for k in ("report/a.html", "report/b.pdf", "report/c.png")
    }
    found = (
        leaks(texts, {"PP04": "x", "S017": "x"}, "identifier")
        + leaks(texts, {"2017-09-04": "x", "2019-07-04": "x", "2017-09-14": "x"}, "exact date")
        + leaks(texts, {"Left at lunchtime on the first day.": "x", "participant's note": "x"}, "free text")
    )
    assert [(name, text) for name, text, _, _ in found] == [
        ("report/a.html", "PP04"),
        ("report/c.png", "S017"),
        ("report/a.html", "4 September 2017"),
        ("report/b.pdf", "2019-07-04"),
        ("report/a.html", "participant's note"),
    ]


@pytest.mark.parametrize("kind", ["identifier", "exact date", "free text"])
def test_no_raw_value_reaches_a_report_output(report_texts, raw_values, kind):
    found = leaks(report_texts, raw_values[kind], kind)
    assert not found, f"{len(found)} leak(s):\n" + "\n".join(
        f"{name}: {text!r} from {source}: …{context}…" for name, text, source, context in found[:40]
    )


# ------------------------------------------------------------------------ small-cell rule
def test_which_cells_are_small():
    from feasibility.tables.common import cell, cells_frame, small_cells, suppress_small_cells

    cells = cells_frame(
        [
            cell("t", "", "4 of 31", "c", "n_pct", decimals=0, estimate=100 * 4 / 31, n=4, denominator=31),
            cell("t", "", "5 of 31", "c", "n_pct", decimals=0, estimate=100 * 5 / 31, n=5, denominator=31),
            cell("t", "", "0 of 8", "c", "n_pct", decimals=1, estimate=0.0, n=0, denominator=8),
            cell("t", "", "1 job", "c", "count", decimals=0, estimate=1.0, n=2),
            cell("t", "", "3.5 hours", "c", "count", decimals=1, estimate=3.5, n=1),  # a total, not a count
            cell(
                "t",
                "",
                "3 of 12",
                "c",
                "proportion_ci",
                decimals=0,
                estimate=25.0,
                lower=8.9,
                upper=53.2,
                n=3,
                denominator=12,
            ),
            cell("t", "", "2 in 4 months", "c", "rate", decimals=1, estimate=0.5, n=2, denominator=4),
            cell(
                "t",
                "",
                "NNT of 6 employed",
                "c",
                "nnt_ci",
                decimals=0,
                estimate=11.0,
                lower=4.0,
                upper=float("inf"),
                n=6,
                denominator=31,
            ),
        ]
    )
    assert cells.loc[small_cells(cells, 5), "row_label"].tolist() == [
        "4 of 31",
        "1 job",
        "3 of 12",
        "2 in 4 months",
    ]
    assert cells.loc[small_cells(cells, 2), "row_label"].tolist() == ["1 job"]
    assert not small_cells(cells, None).any()
    assert suppress_small_cells(cells, None) is cells
    out = suppress_small_cells(cells, 5)
    assert out["text"].tolist()[:4] == ["<5", "5 (16)", "0 (0)", "<5"]
    assert out.loc[0, ["estimate", "sd", "lower", "upper", "n"]].isna().all()
    assert out.loc[0, "denominator"] == 31 and out.loc[6, "denominator"] == 4
    assert out.loc[[1, 2, 4, 7]].equals(cells.loc[[1, 2, 4, 7]])


# The counts below 5 in the shipped data, worked from the paper's tables (the build
# reproduces them): Table 2 of 31 people: chest 1, abdominal 1, Black 2, Asian 4,
# vocational 4, no qualification 1 (Mixed 5 and degree 5 are at the threshold and stay).
# Table 4 of 8 who answered: every 1-4; the 0 (0) cells stay. Table 5: offers 2 (14 weeks)
# and 3, accepted 2, started 1 (6 months); the zeros stay. Feasibility metrics: 3 recruited
# from NHS pain clinics (a rate of 3 over 12 months); 6 known employed (NNT) stays.
SUPPRESSED = {
    "table2": {
        (r, "overall")
        for r in ("Chest", "Abdominal", "Black", "Asian", "Vocational/work-related", "No qualification")
    },
    "table3": set(),
    "table4": {
        (r, "week6")
        for r in (
            "Very satisfied",
            "Satisfied",
            "Dissatisfied",
            "Very dissatisfied",
            "Not at all",
            "Moderately",
            "Quite a lot",
            "A little bit",
        )
    },
    "table5": {
        ("Number of job offers reported", "fourteen_weeks"),
        ("Number of job offers reported", "six_months"),
        ("Number of job offers accepted", "six_months"),
        ("Number of new jobs started", "six_months"),
    },
    "feasibility_metrics": {("NHS pain clinic", "value")},
}
# Table 4 row labels repeat across its three questions: cells per table, by count
N_SUPPRESSED = {"table2": 6, "table3": 0, "table4": 10, "table5": 4, "feasibility_metrics": 1}
NUMBERS = ["estimate", "sd", "lower", "upper", "n"]


def rebuild_with_threshold(project: Path, threshold: int | None, tmp_path: Path) -> None:
    value = "null" if threshold is None else threshold
    res = run_snakemake(project, "--config", f"disclosure={{small_cell_threshold: {value}}}")
    assert res.returncode == 0, res.stderr[-3000:]


@pytest.fixture(scope="module")
def suppressed_project(built_project, tmp_path_factory):
    """The built project rebuilt with threshold 5 (tables, reproduction and report rerun)."""
    proj = tmp_path_factory.mktemp("small_cells") / "project"
    shutil.copytree(built_project, proj, symlinks=True)
    rebuild_with_threshold(proj, 5, proj.parent)
    if "<5" not in (results_of(proj) / "tables" / "table2.csv").read_text():
        pytest.fail(
            "no cell suppressed with threshold 5: pipeline.table must pass "
            "config['disclosure']['small_cell_threshold'] to write_table"
        )
    return proj


def table_csv(project: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(results_of(project) / "tables" / f"{name}.csv", dtype=str, keep_default_na=False)


def td_texts(fragment: str) -> list[str]:
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", "", td)).split())
        for td in re.findall(r"<td[^>]*>(.*?)</td>", fragment, re.S)
    ]


@pytest.mark.slow  # rebuilds the workflow with the rule on
@pytest.mark.parametrize("name", list(SUPPRESSED))
def test_small_cells_are_suppressed_in_the_tidy_csv(built_project, suppressed_project, name):
    before, after = table_csv(built_project, name), table_csv(suppressed_project, name)
    assert len(before) == len(after)
    hidden = after["text"] == "<5"
    assert hidden.sum() == N_SUPPRESSED[name]
    assert set(zip(after.loc[hidden, "row_label"], after.loc[hidden, "column"])) == SUPPRESSED[name]
    assert (before.loc[hidden, "text"] != "0").all() and not before.loc[hidden, "text"].str.startswith(
        "0 "
    ).any()
    assert (after.loc[hidden, NUMBERS] == "").all().all()  # no count, %, CI or rate
    assert after.loc[hidden, "denominator"].equals(before.loc[hidden, "denominator"])
    pd.testing.assert_frame_equal(after[~hidden], before[~hidden])  # counts >= 5 and 0 untouched


@pytest.mark.slow  # rebuilds the workflow with the rule on
@pytest.mark.parametrize("name", list(SUPPRESSED))
def test_small_cells_are_suppressed_in_the_html_table(built_project, suppressed_project, name):
    before = (results_of(built_project) / "tables" / f"{name}.html").read_text()
    after = (results_of(suppressed_project) / "tables" / f"{name}.html").read_text()
    if not N_SUPPRESSED[name]:
        assert after == before
        return
    shown, was = td_texts(after), td_texts(before)
    assert shown.count("<5") == N_SUPPRESSED[name]
    assert sum(t.startswith("<5: a count of 1 to 4 people or events") for t in shown) == 1  # footnote
    cells = table_csv(suppressed_project, name)
    for text in cells.loc[cells["text"] != "<5", "text"]:
        assert text in shown, text
    kept = set(cells.loc[cells["text"] != "<5", "text"])
    for text in table_csv(built_project, name).loc[cells["text"] == "<5", "text"]:
        assert text in was and (text in kept or text not in shown), text


@pytest.mark.slow  # rebuilds the workflow with the rule on
def test_the_report_states_the_rule_and_shows_suppressed_tables(built_project, suppressed_project):
    on = " ".join(
        html.unescape((results_of(suppressed_project) / "report/feasibility.html").read_text()).split()
    )
    off = " ".join(html.unescape((results_of(built_project) / "report/feasibility.html").read_text()).split())
    assert "counts of 1 to 4 people or events are shown as <5" in on
    assert "(small-cell threshold 5)" in on
    # the configuration key is named only in Appendix D's settings table, not in prose
    assert re.search(r"<td[^>]*>disclosure\.small_cell_threshold</td>\s*<td[^>]*>5</td>", on)
    assert "No small-cell rule was applied" in off and "No small-cell rule was applied" not in on
    assert re.search(
        r"<td[^>]*>&lt;5</td>", (results_of(suppressed_project) / "report/feasibility.html").read_text()
    )


@pytest.mark.slow  # rebuilds the workflow with the rule on
def test_withheld_counts_are_not_compared_or_told_elsewhere(suppressed_project):
    cmp = pd.read_csv(results_of(suppressed_project) / "reproduction/comparison.csv", keep_default_na=False)
    withheld = cmp[cmp["status"] == "suppressed (small-cell rule)"]
    assert len(withheld) > 0 and (cmp["status"] != "mismatch").all(), cmp[cmp["status"] == "mismatch"]
    assert (withheld["reproduced"] == "").all()
    # Table 5's note on several offers names no count below 5 when the rule is on
    table5 = " ".join(
        html.unescape((results_of(suppressed_project) / "tables/table5.html").read_text()).split()
    )
    assert "more than one offer" in table5 and "received 2 offers" not in table5
    appendix = (
        results_of(suppressed_project) / "report/build/_generated/appendix_reproduction.md"
    ).read_text()
    assert f"{len(withheld)} are withheld by the small-cell rule" in appendix


@pytest.mark.slow  # rebuilds the workflow with the rule on
def test_switching_the_rule_off_restores_the_tables_byte_for_byte(
    built_project, suppressed_project, tmp_path
):
    rebuild_with_threshold(suppressed_project, None, tmp_path)
    for name in SUPPRESSED:
        for ext in ("html", "csv"):
            rel = Path("results") / PAPER / "tables" / f"{name}.{ext}"
            assert (suppressed_project / rel).read_bytes() == (built_project / rel).read_bytes(), rel
