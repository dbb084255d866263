"""The report's sections as the study file declares them (``report.sections``), read
when the workflow starts (the report rule's inputs follow from them), before any data.

A section is a heading (``title``, ``level``, ``new_page``) and blocks of ``content``:
``text``, ``narrative`` (a template of ``report.narrative``), ``table`` (an id of
``tables``), ``figure`` (a figure id) or ``generated`` (a block
``feasibility.report_content`` writes). A bare id in the list is a table or figure without
a heading. A study that declares no sections gets its tables under "Results", then the
appendices that apply.
"""

from __future__ import annotations

# the generated blocks that are appendices, and the letter their tables are numbered with
APPENDICES = {
    "appendix_reproduction": "A",
    "appendix_audit": "B",
    "appendix_validation": "C",
    "appendix_provenance": "D",
}
PUBLISHED_ONLY = ("appendix_reproduction", "appendix_audit")  # need a published-values file


def default_sections(config: dict) -> list:
    """The report of a study that declares no sections: its tables, then its appendices."""
    sections: list = []
    tables = list(config.get("tables") or {})
    if tables:
        sections.append({"title": "Results", "content": [{"table": t} for t in tables]})
    published = bool((config.get("paths") or {}).get("published_values"))
    letters = iter("ABCD")
    for block, title in (
        ("appendix_reproduction", "Reproduction against the publication"),
        ("appendix_audit", "Audit of the published numbers"),
        ("appendix_validation", "Data validation"),
        ("appendix_provenance", "Provenance"),
    ):
        if block in PUBLISHED_ONLY and not published:
            continue
        letter = next(letters)
        sections.append(
            {
                "title": f"Appendix {letter}: {title}",
                "new_page": True,
                "content": [{"generated": block, "label": letter}],
            }
        )
    return sections


def sections(config: dict) -> list[dict]:
    """The declared sections (a bare id: a block without a heading), or the default. Without
    a published-values file the reproduction and audit appendices are left out (there is
    nothing to compare), with their sections when nothing else is in them."""
    declared = (config.get("report") or {}).get("sections")
    if declared is None:
        declared = default_sections(config)
    published = bool((config.get("paths") or {}).get("published_values"))
    tables = set(config.get("tables") or {})
    out = []
    for s in declared:
        if isinstance(s, str):
            kind = "table" if s in tables else "figure"
            out.append({"title": None, "content": [{kind: s}]})
            continue
        content = [
            item
            for item in s.get("content") or []
            if published or item.get("generated") not in PUBLISHED_ONLY
        ]
        if content or not s.get("content"):
            out.append({**s, "content": content})
    return out


def report_inputs(config: dict) -> dict[str, list[str]]:
    """What the declared report shows: table ids, figure ids, narrative names and generated
    blocks (the report rule's inputs follow from them)."""
    found: dict[str, list[str]] = {"table": [], "figure": [], "narrative": [], "generated": []}
    for section in sections(config):
        for item in section.get("content") or []:
            for kind in found:
                if kind in item and item[kind] not in found[kind]:
                    found[kind].append(item[kind])
    return found


def check_sections(config: dict) -> list[str]:
    """Problems with the declared report (each naming the section and block): an unknown
    table or narrative template."""
    problems = []
    tables = set(config.get("tables") or {})
    narrative = set(((config.get("report") or {}).get("narrative")) or {})
    for i, section in enumerate(sections(config)):
        where = f"report.sections[{i}] ({section.get('title') or 'no heading'})"
        for item in section.get("content") or []:
            if "table" in item and item["table"] not in tables:
                problems.append(
                    f"{where}: no table {item['table']!r} in the tables section "
                    f"({', '.join(sorted(tables)) or 'none'})"
                )
            if "narrative" in item and item["narrative"] not in narrative:
                problems.append(
                    f"{where}: no template {item['narrative']!r} in report.narrative "
                    f"({', '.join(sorted(narrative)) or 'none'})"
                )
    return problems
