"""Which method produced the EQ-5D index, in words, and whether it is the paper's.

Configuration (``scoring.eq5d_index``): ``method: value_set`` with ``value_set`` (a
built-in value set, ``feasibility.scoring.eq5d.VALUE_SETS``), or ``method: mapping_table``
with a user-supplied ``mapping_table`` and ``mapping`` saying what that table is (one of
:data:`MAPPINGS`, or a description). ``paper_method`` names the paper's method (the NICE
DSU 5L -> 3L mapping). A value is compared with the paper's as a match only when the
method used is the paper's; otherwise the comparison says "computed by another method"
and names both. Every place the index appears (table labels, footnotes, methods,
appendices) takes its words from here, never a configuration identifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Method:
    id: str  # value-set or mapping identifier (never printed)
    name: str  # "the England 5L value set"
    label: str  # table row: "EQ-5D-5L index (England 5L value set)"
    citation: str

    @property
    def short(self) -> str:
        """The name without its parenthetical attribution, for prose that cites in full."""
        return self.name.split(" (", 1)[0]


VALUE_SETS = {
    "england_5l_2018": Method(
        "england_5l_2018",
        "the England 5L value set (Devlin et al. 2018)",
        "EQ-5D-5L index (England 5L value set)",
        "Devlin NJ, Shah KK, Feng Y, Mulhern B, van Hout B. Valuing health-related quality of "
        "life: an EQ-5D-5L value set for England. Health Econ 2018;27:7-22, doi:10.1002/hec.3564",
    ),
    "uk_5l_2026": Method(
        "uk_5l_2026",
        "the UK 5L value set (2026)",
        "EQ-5D-5L index (UK 5L value set)",
        "UK EQ-5D-5L value set, Value Health 2026, doi:10.1016/j.jval.2026.03.008 (coefficients "
        "from a secondary source)",
    ),
    "uk_3l_dolan_1997": Method(
        "uk_3l_dolan_1997",
        "the UK 3L value set (Dolan 1997)",
        "EQ-5D-3L index (UK 3L value set)",
        "Dolan P. Modeling valuations for EuroQol health states. Med Care 1997;35:1095-108",
    ),
}
MAPPINGS = {
    "nice_dsu_5l_to_3l": Method(
        "nice_dsu_5l_to_3l",
        "the NICE DSU mapping of EQ-5D-5L answers onto the UK 3L value set, conditional on age "
        "and sex (Hernández Alava et al.; Stata eq5dmap)",
        "EQ-5D-5L mapped to the UK 3L value set (NICE DSU mapping)",
        "Hernández Alava M, Pudney S, Wailoo A. Estimating the relationship between EQ-5D-5L and "
        "EQ-5D-3L. PharmacoEconomics 2023;41:199-207, doi:10.1007/s40273-022-01218-7",
    ),
    "van_hout_2012": Method(
        "van_hout_2012",
        "the van Hout 2012 crosswalk onto the UK 3L value set",
        "EQ-5D-5L index (van Hout 2012 crosswalk)",
        "van Hout B, et al. Interim scoring for the EQ-5D-5L. Value Health 2012;15:708-15",
    ),
}
DEFAULT_PAPER_METHOD = "nice_dsu_5l_to_3l"


def _mapping(key: str | None, table: str | None) -> Method:
    if key in MAPPINGS:
        return MAPPINGS[key]
    what = key or f"the mapping table {Path(table).name}" if (key or table) else "a mapping table"
    return Method(key or "mapping_table", f"{what} (user-supplied)", f"EQ-5D index ({what})", "")


def used(cfg: Mapping | None) -> Method:
    """The method ``scoring.eq5d_index`` configures."""
    cfg = dict(cfg or {})
    if (cfg.get("method") or "value_set") == "mapping_table":
        return _mapping(cfg.get("mapping"), cfg.get("mapping_table"))
    name = cfg.get("value_set") or "england_5l_2018"
    return VALUE_SETS.get(name, Method(name, f"the value set {name}", f"EQ-5D index ({name})", ""))


def paper(cfg: Mapping | None) -> Method:
    """The paper's method (``scoring.eq5d_index.paper_method``; default the NICE DSU mapping)."""
    key = dict(cfg or {}).get("paper_method") or DEFAULT_PAPER_METHOD
    return MAPPINGS.get(key) or VALUE_SETS.get(key) or _mapping(key, None)


def same_as_paper(cfg: Mapping | None) -> bool:
    return used(cfg).id == paper(cfg).id


def describe(cfg: Mapping | None) -> dict:
    """The method for ``values.json``: what was used, what the paper used, whether they agree."""
    u, p = used(cfg), paper(cfg)
    return {
        "used": u.name,
        "used_citation": u.citation,
        "paper": p.name,
        "paper_citation": p.citation,
        "same_as_paper": u.id == p.id,
    }


def footnote(cfg: Mapping | None, calibrated_with: str | None = None) -> str:
    """Table 3's (and the methods') note on how the index was valued.

    ``calibrated_with``: the value set the synthetic data were calibrated with
    (``provenance.json``), None for real data.
    """
    u, p = used(cfg), paper(cfg)
    if u.id == p.id:
        text = f"Index values from {u.name}, as in the paper."
    else:
        text = (
            f"Index values from {u.name}. The paper used {p.name}, which is published "
            "only as lookup tables that this project does not ship; the two methods give "
            "different values for the same answers."
        )
    if calibrated_with:
        cal = VALUE_SETS.get(calibrated_with)
        cal_name = cal.name if cal else "another method"
        text += (
            f" The synthetic answers were calibrated so that {cal_name} reproduces the "
            "paper's published index values."
        )
    return text
