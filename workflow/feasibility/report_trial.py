"""Blocks of a trial's report (issue 23.4, 23.6, 23.9): the multiplicity statement, the
missing-data codes each derived variable set aside, and the CONSORT 2025 checklist.

Each is a ``generated`` block of the study file's report sections
(``report.sections[].content[].generated``): ``multiplicity``, ``missing_codes`` and
``consort_2025``.

CONSORT 2025: Hopewell S, Chan A-W, Collins GS, Hróbjartsson A, Moher D, Schulz KF, et al.
CONSORT 2025 statement: updated guideline for reporting randomised trials. BMJ
2025;389:e081123 (doi:10.1136/bmj-2024-081123); published at the same time in The Lancet,
JAMA, Nature Medicine and PLOS Medicine (2025;22(4):e1004587). Its checklist has 30
numbered items (some in parts, 1a and 1b, ...). The topics below are the checklist's
section and topic names with a short paraphrase of each item, not its wording.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import pandas as pd

from . import escape

CONSORT_2025_CITATION = (
    "Hopewell S, Chan A-W, Collins GS, et al. CONSORT 2025 statement: updated guideline for "
    "reporting randomised trials. BMJ 2025;389:e081123 (doi:10.1136/bmj-2024-081123); also "
    "published in The Lancet, JAMA, Nature Medicine and PLOS Medicine"
)
TEAM = "For the trial team"

# (item, section, topic, what it asks, what of the report addresses it: a key of
# _addressed, or None: only the trial team can write it)
CONSORT_2025 = (
    ("1a", "Title and abstract", "Title", "identified as a randomised trial", "title"),
    (
        "1b",
        "Title and abstract",
        "Abstract",
        "structured summary of design, methods, results and conclusions",
        None,
    ),
    ("2", "Open science", "Trial registration", "registry, number and date of registration", None),
    ("3", "Open science", "Protocol and statistical analysis plan", "where they can be read", None),
    (
        "4",
        "Open science",
        "Data sharing",
        "where the de-identified data, data dictionary and code can be had",
        "provenance",
    ),
    ("5a", "Open science", "Funding", "sources of funding and the funders' role", None),
    ("5b", "Open science", "Conflicts of interest", "the authors' conflicts of interest", None),
    ("6", "Introduction", "Background and rationale", "scientific background and rationale", None),
    ("7", "Introduction", "Objectives", "objectives on benefits and harms", None),
    ("8", "Methods", "Patient and public involvement", "how patients and the public took part", None),
    ("9", "Methods", "Trial design", "type of trial, allocation ratio, framework", "design"),
    (
        "10",
        "Methods",
        "Changes to the trial protocol",
        "important changes after the start, with reasons",
        None,
    ),
    ("11", "Methods", "Trial setting", "settings and locations (sites)", "sites"),
    ("12a", "Methods", "Eligibility criteria", "for participants", None),
    ("12b", "Methods", "Eligibility criteria", "for sites and those delivering the interventions", None),
    ("13", "Methods", "Intervention and comparator", "described well enough to replicate", "design"),
    (
        "14",
        "Methods",
        "Outcomes",
        "prespecified primary and secondary outcomes: variable, metric, aggregation, time point",
        "estimands",
    ),
    ("15", "Methods", "Harms", "how harms were defined and assessed", None),
    ("16a", "Methods", "Sample size", "how it was determined", None),
    ("16b", "Methods", "Sample size", "interim analyses and stopping guidelines", None),
    ("17a", "Methods", "Randomisation: sequence generation", "who generated the sequence and how", None),
    (
        "17b",
        "Methods",
        "Randomisation: sequence generation",
        "type of randomisation and restrictions",
        "design",
    ),
    ("18", "Methods", "Allocation concealment", "how the sequence was implemented and concealed", None),
    ("19", "Methods", "Implementation", "whether those enrolling and assigning could see the sequence", None),
    ("20a", "Methods", "Blinding", "who was blinded", None),
    ("20b", "Methods", "Blinding", "how, and how similar the interventions were", None),
    (
        "21a",
        "Methods",
        "Statistical methods",
        "comparing groups for primary and secondary outcomes, harms included",
        "methods",
    ),
    (
        "21b",
        "Methods",
        "Statistical methods",
        "who is included in each analysis, in which group",
        "estimands",
    ),
    ("21c", "Methods", "Statistical methods", "how missing data were handled", "missing_data"),
    (
        "21d",
        "Methods",
        "Statistical methods",
        "additional analyses (subgroup, sensitivity), prespecified or post hoc",
        "additional",
    ),
    (
        "22a",
        "Results",
        "Participant flow",
        "per group: randomised, received the intervention, analysed for the primary outcome",
        "flow",
    ),
    (
        "22b",
        "Results",
        "Participant flow",
        "per group: losses and exclusions after randomisation, with reasons",
        "flow",
    ),
    ("23a", "Results", "Recruitment", "dates of recruitment and follow-up", "recruitment"),
    ("23b", "Results", "Recruitment", "why the trial ended or was stopped", None),
    (
        "24a",
        "Results",
        "Intervention and comparator delivery",
        "as actually delivered: adherence, fidelity",
        "delivery",
    ),
    ("24b", "Results", "Intervention and comparator delivery", "concomitant care in each group", None),
    ("25", "Results", "Baseline data", "a table of baseline characteristics per group", "baseline"),
    (
        "26",
        "Results",
        "Numbers analysed, outcomes and estimation",
        "per outcome and group: numbers analysed and with data, results, effect with its interval, absolute and relative for binary outcomes",
        "outcomes",
    ),
    ("27", "Results", "Harms", "all harms or unintended events in each group", "harms"),
    (
        "28",
        "Results",
        "Ancillary analyses",
        "other analyses (subgroup, sensitivity), prespecified or post hoc",
        "additional",
    ),
    ("29", "Discussion", "Interpretation", "consistent with the results, benefits balanced with harms", None),
    ("30", "Discussion", "Limitations", "bias, imprecision, generalisability, multiplicity", None),
)


def _item_number(item: str) -> str:
    return item.rstrip("abcd")


def _sections_holding(config: Mapping) -> dict[str, list[str]]:
    """What each declared report section holds: its title -> the kinds of its blocks
    ("table:<kind>", "table_id:<id>", "figure:<kind>", "generated:<name>", "narrative:<name>")."""
    from .report_sections import sections

    tables = config.get("tables") or {}
    figures = config.get("figures") or {}
    out: dict[str, list[str]] = {}
    for section in sections(dict(config)):
        title = section.get("title") or ""
        held = out.setdefault(title, [])
        for item in section.get("content") or []:
            if "table" in item:
                held += [
                    f"table:{(tables.get(item['table']) or {}).get('kind', '')}",
                    f"table_id:{item['table']}",
                ]
                raw = tables.get(item["table"]) or {}
                if raw.get("missing_data") == "multiple_imputation":
                    held.append("imputation")
            elif "figure" in item:
                held.append(f"figure:{(figures.get(item['figure']) or {}).get('kind', '')}")
            elif "generated" in item:
                held.append(f"generated:{item['generated']}")
            elif "narrative" in item:
                held.append(f"narrative:{item['narrative']}")
    return out


# what of the report addresses an item: any of these blocks
_ADDRESSED = {
    "design": ["generated:timepoints"],
    "sites": ["figure:recruitment"],
    "estimands": ["generated:estimands"],
    "methods": ["generated:estimands", "generated:multiplicity"],
    "missing_data": ["imputation", "table:tipping_point", "generated:missing_codes"],
    "additional": ["table:subgroups", "figure:forest", "table:tipping_point"],
    "flow": ["figure:flow"],
    "recruitment": ["narrative:recruitment", "figure:recruitment"],
    "delivery": ["table:metrics"],
    "baseline": ["table:baseline"],
    "outcomes": ["table:adjusted"],
    "harms": ["narrative:safety"],
    "provenance": ["generated:appendix_provenance"],
}


def consort_2025_frame(config: Mapping, overrides: Mapping | None = None) -> pd.DataFrame:
    """The CONSORT 2025 checklist: each item with the sections of this report that address
    it, or "For the trial team". ``overrides`` (item -> text) name what the study file says
    addresses an item (a section, or where the team reports it)."""
    held = _sections_holding(config)
    overrides = {str(k): str(v) for k, v in (overrides or {}).items()}
    title = (config.get("report") or {}).get("title") or (config.get("study") or {}).get("title") or ""
    rows = []
    for item, part, topic, asks, key in CONSORT_2025:
        if item in overrides:
            where = overrides[item]
        elif key == "title":
            where = "The report's title" if "random" in title.lower() else TEAM
        elif key is None:
            where = TEAM
        else:
            wanted = _ADDRESSED[key]
            found = [t for t, blocks in held.items() if any(b in blocks for b in wanted)]
            where = "; ".join(found) if found else TEAM
        rows.append(
            {
                "Item": item,
                "Section and topic": f"{part}: {topic}",
                "What it asks for": asks,
                "Where this report addresses it": where,
            }
        )
    return pd.DataFrame(rows)


def consort_2025_text(config: Mapping, item: Mapping, label: str, md_table) -> str:
    """The CONSORT 2025 appendix; ``md_table`` typesets its table (the report's
    ``report_content.md_table``, passed in so that this module stays below it)."""
    frame = consort_2025_frame(config, item.get("addressed"))
    numbers = {_item_number(i) for i in frame["Item"]}
    team = int((frame["Where this report addresses it"] == TEAM).sum())
    return (
        f"The {len(numbers)} items of the CONSORT 2025 checklist ({escape.markdown(CONSORT_2025_CITATION)}), "
        f"{len(frame)} with their parts, each with the section of this report that "
        f"addresses it. {team} can be written only by the trial team (registration, "
        "protocol, funding, eligibility, randomisation and blinding procedures, "
        "interpretation, ...): the report generator does not know them.\n\n"
        + md_table(frame, label=f"Table {label}1", title="CONSORT 2025 checklist", table_id="consort-2025")
    )


# ----------------------------------------------------------------------------- multiplicity
def multiplicity_text(config: Mapping) -> str:
    """The statement on multiplicity: secondary outcomes are estimates with intervals, not
    adjusted for multiplicity."""
    from .analysis.estimands import load_estimands

    estimands = load_estimands(config)
    primary = [e.code for e in estimands.values() if e.role == "primary"]
    secondary = [e.code for e in estimands.values() if e.role == "secondary"]
    level = f"{100 * float((config.get('statistics') or {}).get('confidence_level', 0.95)):g}"
    parts = ["**Multiplicity.**"]
    if primary:
        parts.append(f"The conclusion of the trial rests on the primary outcome ({', '.join(primary)}).")
    if secondary:
        parts.append(
            f"The {len(secondary)} secondary outcomes ({secondary[0]} to "
            f"{secondary[-1]}) and their supportive and sensitivity analyses are "
            f"reported as estimates with {level}% confidence intervals, not adjusted "
            "for multiplicity and with no testing hierarchy: with this many "
            "intervals, some would exclude no difference by chance alone, so none is "
            "read as a test of an effect."
        )
    subgroups = [
        escape.markdown(" ".join(str(t.get("title") or tid).split()))
        for tid, t in (config.get("tables") or {}).items()
        if t.get("kind") == "subgroups"
    ]
    if subgroups:
        parts.append(
            f"The prespecified subgroup analyses ({'; '.join(subgroups)}) "
            "are exploratory: the trial is not powered to detect differences between "
            "subgroups; each is one model with a treatment-by-subgroup interaction, "
            "and its interaction test, not the subgroups' intervals one by one, says "
            "whether the effect may differ."
        )
    return " ".join(parts) + "\n"


# ----------------------------------------------------------------------------- missing codes
def missing_codes_text(config: Mapping, variables_json: str | Path | None) -> str:
    """What each derived variable set aside for a REDCap missing-data code (issue 23.6)."""
    rc = config.get("redcap") or {}
    codes = rc.get("missing_data_codes")
    if isinstance(codes, str):  # "UNK, Unknown | NASK, Not asked"
        pairs = [p.split(",", 1) for p in codes.split("|") if p.strip()]
        codes = "; ".join(
            f"{c.strip()}: {t.strip()}" if t.strip() else c.strip()
            for c, t in ((p + [""])[:2] for p in pairs)
        )
    elif isinstance(codes, list):
        codes = "; ".join(str(c) for c in codes)
    lead = (
        "**Missing-data codes.** A REDCap missing-data code"
        + (f" ({escape.markdown(str(codes))})" if codes else "")
        + " is a missing value: a derived variable that reads one is missing for that "
        'participant, never "no", 0 or a skipped entry of a sum or count, unless the '
        "study file declares another rule for it; questionnaire scores follow their "
        "missing-item rules."
    )
    log = []
    if variables_json and Path(variables_json).exists():
        meta = json.loads(Path(variables_json).read_text(encoding="utf-8"))
        log = meta.get("missing_codes") or []
        labels = {n: (v.get("label") or n) for n, v in (meta.get("variables") or {}).items()}
    else:
        labels = {}
    names = {
        "_flow_date": "Follow-up return date",
        "_flow_returned": "Follow-up returned",
        "_flow_dropout": "Left follow-up",
    }
    if not log:
        return lead + " No derived variable read a missing-data code.\n"
    items = []
    for r in log:
        what = names.get(r["variable"], labels.get(r["variable"], r["variable"]))
        at = f" ({r['timepoint']})" if r.get("timepoint") else ""
        codes_text = ", ".join(f"{escape.markdown(str(c))} {int(k)}" for c, k in r["codes"].items())
        n = r["participants"]
        items.append(
            f"{escape.markdown(what)}{escape.markdown(at)}: {n} participant"
            f"{'s' if n != 1 else ''} ({codes_text})"
        )
    return lead + " Set aside as missing: " + "; ".join(items) + ".\n"


__all__ = [
    "CONSORT_2025",
    "CONSORT_2025_CITATION",
    "consort_2025_frame",
    "consort_2025_text",
    "multiplicity_text",
    "missing_codes_text",
]
