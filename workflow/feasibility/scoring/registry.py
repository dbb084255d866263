"""The instrument library: every scorer by name, for a study file's ``instruments`` section.

A study declares, per instrument, which scorer of this registry scores it, which
REDCap fields hold its items, at which time points, and the scorer's parameters (the
paper's missing-item rules among them). Each :class:`Scorer` names its canonical items
and their coding (from the instrument's manual, so an item outside it stops scoring
whatever the CRF says), the scores it makes with default labels, and its parameters
with their defaults; the scoring itself is the instrument's own module (``hads``,
``eq5d``, ...), cited there and tested against its manual's worked examples.

Single-item measures (NRS, verbal rating scales, counts) take their items from the
declaration: ``scores: {score name: field}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import pandas as pd

from feasibility.scoring import eq5d, hads, paw, promis, rtw_self_efficacy, wemwbs, wrfq
from feasibility.scoring.items import MISSING_METHODS, Coding, Scored, pass_through


def _levels(lo: int, hi: int, *extra: int) -> Coding:
    return Coding(choices=tuple((v, str(v)) for v in (*range(lo, hi + 1), *extra)))


WHOLE_NUMBER = Coding(vmin=0, validation="integer")


@dataclass(frozen=True)
class Scorer:
    """One instrument of the library.

    ``items``: canonical item names (empty for single-item scorers, whose items the
    declaration names); ``coding``: each canonical item's allowed answers (a single
    :class:`Coding` for all); ``scores``: score name -> default label; ``defaults``: the
    parameters and their defaults; ``run(items, params, coding)`` scores a frame whose
    columns are the canonical items (plus ``record_id``); ``describe(params, calibrated_to)``
    gives labels and notes that depend on parameters (e.g. the EQ-5D index's valuation
    method) and on what synthetic data were calibrated to (their provenance file).
    """

    name: str
    title: str
    citation: str
    items: tuple[str, ...]
    coding: Coding | Mapping[str, Coding]
    scores: Mapping[str, str]
    run: Callable[[pd.DataFrame, Mapping, Mapping[str, Coding]], Scored]
    defaults: Mapping = field(default_factory=dict)
    subscales: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    single_items: bool = False
    needs: tuple[str, ...] = ()  # record-level inputs, e.g. ("age", "sex")
    describe: Callable[..., dict] | None = None
    subscale_titles: Mapping[str, str] = field(default_factory=dict)  # as the methods name them

    def item_coding(self, item: str) -> Coding:
        return self.coding[item] if isinstance(self.coding, Mapping) else self.coding

    def parameters(self, given: Mapping | None) -> dict:
        """The scorer's parameters: ``given`` over the defaults; unknown names are errors."""
        given = dict(given or {})
        unknown = set(given) - set(self.defaults)
        if unknown:
            raise ValueError(
                f"scorer {self.name!r} has no parameter(s) "
                f"{', '.join(sorted(unknown))} (parameters: "
                f"{', '.join(self.defaults) or 'none'})"
            )
        params = {**self.defaults, **given}
        if "missing_items" in self.defaults:
            params["missing_items"] = self.missing_rules(params["missing_items"])
        return params

    def missing_rules(self, spec) -> dict[str, dict]:
        """Per-subscale missing-item rules from one rule for all subscales or a mapping."""
        rules = {}
        for subscale in self.subscales:
            rule = spec.get(subscale, None) if isinstance(spec, Mapping) and subscale in spec else spec
            if not isinstance(rule, Mapping) or "max_missing" not in rule:
                raise ValueError(
                    f"scorer {self.name!r}: missing_items needs max_missing and "
                    f"method (for all subscales, or per subscale: "
                    f"{', '.join(self.subscales)})"
                )
            method = rule.get("method", "mean_of_answered" if rule["max_missing"] else "none")
            if method not in MISSING_METHODS:
                raise ValueError(
                    f"scorer {self.name!r}: missing_items method must be one of "
                    f"{', '.join(MISSING_METHODS)}, not {method!r}"
                )
            rules[subscale] = {"max_missing": int(rule["max_missing"]), "method": method}
        return rules


def _subscale_scorer(module_run) -> Callable:
    def run(items: pd.DataFrame, params: Mapping, coding: Mapping[str, Coding]) -> Scored:
        return module_run(items, {"missing_items": params["missing_items"]}, coding)

    return run


def _subset_run(instrument: str, subscales: Mapping[str, tuple[str, ...]]) -> Callable:
    from feasibility.scoring.items import score_subscales

    def run(items: pd.DataFrame, params: Mapping, coding: Mapping[str, Coding]) -> Scored:
        return score_subscales(
            items,
            {k: list(v) for k, v in subscales.items()},
            instrument,
            {"missing_items": params["missing_items"]},
            coding,
        )

    return run


def _wrfq_run(items: pd.DataFrame, params: Mapping, coding: Mapping[str, Coding]) -> Scored:
    return wrfq.score_wrfq(
        items, {"wrfq_max_not_applicable_fraction": params["max_not_applicable_fraction"]}, coding
    )


def _pass_through_run(instrument: str) -> Callable:
    def run(items: pd.DataFrame, params: Mapping, coding: Mapping[str, Coding]) -> Scored:
        sources = {c: c for c in items.columns if c != "record_id"}
        return pass_through(items, sources, instrument, coding)

    return run


# ----------------------------------------------------------------------------- EQ-5D
EQ5D_PARAMETERS = ("method", "value_set", "mapping_table", "value_column", "mapping", "paper_method")


def eq5d_index_config(params: Mapping) -> dict:
    """The scorer's parameters that say how the index is valued
    (``feasibility.eq5d_method``, ``eq5d.index_from_config``)."""
    return {k: params.get(k) for k in EQ5D_PARAMETERS}


def _eq5d_describe(params: Mapping, calibrated_to: Mapping | None = None) -> dict:
    """The index's label and the note on its valuation method, as the report prints them
    (``feasibility.eq5d_method``: the method's name, never a configuration identifier).
    ``calibrated_to``: what synthetic data were calibrated to (their provenance file)."""
    from feasibility import eq5d_method

    cfg = eq5d_index_config(params)
    calibrated = (calibrated_to or {}).get("eq5d_index")
    return {
        "labels": {"eq5d_index": eq5d_method.used(cfg).label},
        "notes": {"method": eq5d_method.footnote(cfg, calibrated)},
        "method": eq5d_method.describe(cfg),
    }


def _eq5d_run(
    items: pd.DataFrame,
    params: Mapping,
    coding: Mapping[str, Coding],
    demographics: pd.DataFrame | None = None,
) -> Scored:
    index = eq5d.index_from_config(eq5d_index_config(params))
    return eq5d.score_eq5d(items, index, demographics, coding)


# ----------------------------------------------------------------------------- registry
def _items(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, n + 1))


PAPER_RULE = {"max_missing": 1, "method": "mean_of_answered"}

SCORERS: dict[str, Scorer] = {
    s.name: s
    for s in (
        Scorer(
            "eq5d_5l",
            "EQ-5D-5L",
            eq5d.__doc__.split("\n\n")[1].replace("\n", " "),
            items=(*eq5d.LEVEL_COLUMNS, eq5d.VAS),
            coding={
                **{c: _levels(1, 5) for c in eq5d.LEVEL_COLUMNS},
                eq5d.VAS: Coding(vmin=0, vmax=100, validation="integer"),
            },
            scores={
                **{c: f"EQ-5D-5L {c[-2:].upper()} level" for c in eq5d.LEVEL_COLUMNS},
                "eq5d_state": "EQ-5D-5L health state",
                "eq5d_vas": "EQ VAS",
                "eq5d_index": "EQ-5D index",
            },
            run=_eq5d_run,
            needs=("age", "sex"),
            describe=_eq5d_describe,
            defaults={
                "method": "value_set",
                "value_set": eq5d.DEFAULT_VALUE_SET,
                "mapping_table": None,
                "value_column": None,
                "mapping": None,
                "paper_method": None,
            },
        ),
        Scorer(
            "hads",
            "Hospital Anxiety and Depression Scale",
            hads.__doc__.split("\n\n")[1],
            items=_items("hads_", 14),
            coding=_levels(0, 3),
            scores={"hads_anxiety": "HADS anxiety", "hads_depression": "HADS depression"},
            subscales={k: tuple(v) for k, v in hads.SUBSCALES.items()},
            run=_subscale_scorer(hads.score_hads),
            defaults={"missing_items": PAPER_RULE},
            subscale_titles={"hads_anxiety": "HADS anxiety", "hads_depression": "HADS depression"},
        ),
        Scorer(
            "wemwbs",
            "Warwick-Edinburgh Mental Wellbeing Scale",
            wemwbs.__doc__.split("\n\n")[1],
            items=_items("wemwbs_", 14),
            coding=_levels(1, 5),
            scores={"wemwbs": "WEMWBS"},
            subscales={k: tuple(v) for k, v in wemwbs.SUBSCALES.items()},
            run=_subscale_scorer(wemwbs.score_wemwbs),
            defaults={"missing_items": PAPER_RULE},
            subscale_titles={"wemwbs": "WEMWBS"},
        ),
        Scorer(
            "promis_fatigue_8a",
            "PROMIS Fatigue short form 8a",
            promis.__doc__.split("\n\n")[1],
            items=_items("promis_fat_", 8),
            coding=_levels(1, 5),
            scores={"promis_fatigue": "PROMIS SF fatigue"},
            subscales={"promis_fatigue": tuple(promis.SUBSCALES["promis_fatigue"])},
            run=_subset_run("PROMIS", {"promis_fatigue": tuple(promis.SUBSCALES["promis_fatigue"])}),
            defaults={"missing_items": PAPER_RULE},
            subscale_titles={"promis_fatigue": "PROMIS Fatigue 8a"},
        ),
        Scorer(
            "promis_pain_interference_8a",
            "PROMIS Pain Interference short form 8a",
            promis.__doc__.split("\n\n")[1],
            items=_items("promis_pi_", 8),
            coding=_levels(1, 5),
            scores={"promis_pain_interference": "PROMIS SF pain interference"},
            subscales={"promis_pain_interference": tuple(promis.SUBSCALES["promis_pain_interference"])},
            run=_subset_run(
                "PROMIS", {"promis_pain_interference": tuple(promis.SUBSCALES["promis_pain_interference"])}
            ),
            defaults={"missing_items": PAPER_RULE},
            subscale_titles={"promis_pain_interference": "PROMIS Pain Interference 8a"},
        ),
        Scorer(
            "paw",
            "Psychosocial Aspects of Work",
            paw.__doc__.split("\n\n")[1],
            items=_items("paw_", 15),
            coding=_levels(1, 5),
            scores={
                "paw_job_satisfaction": "PAW job satisfaction",
                "paw_social_support": "PAW social support",
                "paw_mental_stress": "PAW mental stress",
            },
            subscales={k: tuple(v) for k, v in paw.SUBSCALES.items()},
            run=_subscale_scorer(paw.score_paw),
            defaults={"missing_items": PAPER_RULE},
            subscale_titles={
                "paw_job_satisfaction": "PAW job satisfaction",
                "paw_social_support": "PAW social support",
                "paw_mental_stress": "PAW mental stress",
            },
        ),
        Scorer(
            "rtw_self_efficacy",
            "Return-to-work self-efficacy",
            rtw_self_efficacy.__doc__.split("\n\n")[1],
            items=_items("rtwse_", 2),
            coding=_levels(1, 5),
            scores={"rtw_self_efficacy": "RTW self-efficacy scale"},
            subscales={k: tuple(v) for k, v in rtw_self_efficacy.SUBSCALES.items()},
            run=_subscale_scorer(rtw_self_efficacy.score_rtw_self_efficacy),
            defaults={"missing_items": {"max_missing": 0, "method": "none"}},
            subscale_titles={"rtw_self_efficacy": "Return-to-work self-efficacy"},
        ),
        Scorer(
            "wrfq",
            "Work Role Functioning Questionnaire 2.0",
            wrfq.__doc__.split("\n\n")[1],
            items=tuple(wrfq.ITEMS),
            coding=_levels(0, 4, wrfq.NOT_APPLICABLE),
            scores={"wrfq": "Work Role Functioning Questionnaire"},
            run=_wrfq_run,
            subscale_titles={"wrfq": "WRFQ"},
            defaults={"max_not_applicable_fraction": 0.20},
        ),
        Scorer(
            "nrs",
            "Numeric rating scale 0-10",
            "Paper, Table 1: 11-point numeric rating scales",
            items=(),
            coding=_levels(0, 10),
            scores={},
            single_items=True,
            run=_pass_through_run("NRS"),
        ),
        Scorer(
            "verbal_5",
            "Five-point verbal rating scale",
            "Paper, Tables 1 and 4: five-point verbal rating scales, coded 1-5",
            items=(),
            coding=_levels(1, 5),
            scores={},
            single_items=True,
            run=_pass_through_run("Verbal rating scale"),
        ),
        Scorer(
            "count",
            "Counts reported as whole numbers",
            "Paper, Table 5: job offers, offers accepted and jobs started, as counted",
            items=(),
            coding=WHOLE_NUMBER,
            scores={},
            single_items=True,
            run=_pass_through_run("Counts"),
        ),
    )
}


def scorer(name: str) -> Scorer:
    """The scorer called ``name``; an unknown name lists the library."""
    try:
        return SCORERS[name]
    except KeyError:
        raise ValueError(
            f"no scorer {name!r} in the instrument library (scorers: {', '.join(sorted(SCORERS))})"
        ) from None


def run_scorer(
    spec: Scorer, items: pd.DataFrame, params: Mapping, demographics: pd.DataFrame | None = None
) -> Scored:
    """Score ``items`` (``record_id`` and the canonical item columns) with ``params``
    (from :meth:`Scorer.parameters`)."""
    coding = {c: spec.item_coding(c) for c in items.columns if c != "record_id"}
    if spec.needs:
        return partial(spec.run, demographics=demographics)(items, params, coding)  # type: ignore[call-arg]
    return spec.run(items, params, coding)


def missing_item_rules(instruments: Mapping | None) -> dict[str, dict]:
    """Every subscale's missing-item rule (``{max_missing, method}``) of a study file's
    ``instruments`` section, by subscale name (renamed as the study renames its scores),
    in declaration order: the report's methods table and the audit's GRIM caveats."""
    rules: dict[str, dict] = {}
    for raw in (instruments or {}).values():
        spec = scorer(raw["scorer"])
        if "missing_items" not in spec.defaults:
            continue
        params = spec.parameters(raw.get("parameters"))
        rename = raw.get("rename") or {}
        for subscale, rule in params["missing_items"].items():
            rules[rename.get(subscale, subscale)] = rule
    return rules


def subscale_title(subscale: str, instruments: Mapping | None = None) -> str:
    """How the report names a subscale in its methods (its scorer's title for it)."""
    for raw in (instruments or {}).values():
        spec = scorer(raw["scorer"])
        rename = {v: k for k, v in (raw.get("rename") or {}).items()}
        name = rename.get(subscale, subscale)
        if name in spec.subscale_titles:
            return spec.subscale_titles[name]
    return subscale.replace("_", " ")
