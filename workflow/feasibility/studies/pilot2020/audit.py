"""The paper's audit: the checks of ``feasibility.audit`` applied to its Tables 2-5, its
participant flow, case management, work preparation, placements and economics.

``PaperAudit`` names each row by its key path into ``config/published_values.yaml``;
``MEASURES`` says how each reported measure is scored (its range in the paper's Table 1,
its grid for GRIM, its imputable subscale).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from feasibility.audit import (
    CONSISTENT,
    INCONSISTENT,
    NOT_CHECKABLE,
    Audit,
    Outcome,
    Printed,
    _fmt,
    change_sd_feasible,
    ci_centred,
    counts_add_up,
    counts_for_percent,
    denominators_for,
    grim_for_scale,
    grimmer,
    group_size_vectors,
    interval_midpoint_grim,
    mean_in_range,
    median_in_iqr,
    min_sd_with_fixed,
    min_total_from_quartiles,
    nnt,
    parts_add_up,
    percent_matches,
    sd_within_range_bound,
    with_imputation_caveat,
)

# Lowest UK EQ-5D-3L value (state 33333; Dolan 1997, Med Care 35:1095): the floor of
# the mapped 3L index, which the paper's Table 1 prints as "0 to 1".
EQ5D_3L_MINIMUM = Fraction("-0.594")

# Weeks on placement of two of the 15 placed, from the Results prose: one participant
# (the paper names them by study ID) left "after two and a half weeks" for paid employment; the participant with the first adverse
# event "completed the work preparation and two-weeks of a placement".
SHORT_PLACEMENT_WEEKS = {"left for paid employment": Fraction(5, 2), "adverse event": Fraction(2)}


@dataclass(frozen=True)
class Measure:
    """How a reported measure is scored: range key (Table 1), grid and imputable subscale."""

    range_key: str | None
    granularity: Fraction | None  # None: not a multiple of any coarse grid
    decimals: int = 1
    subscale: str | None = None  # subscale of an instrument's ``missing_items`` rule
    note: str = ""


MEASURES: dict[str, Measure] = {
    "age": Measure(None, Fraction(1), note="age taken in completed years (assumption)"),
    "work_confidence": Measure("work_confidence_nrs", Fraction(1)),
    "work_ability": Measure("work_ability_nrs", Fraction(1)),
    "eq5d_vas": Measure("eq5d_vas", Fraction(1)),
    "eq5d_5l_to_3l": Measure("eq5d_5l_to_3l", None, 2, note="mapped utility: continuous, no grid for GRIM"),
    "hads_anxiety": Measure("hads_anxiety", Fraction(1), subscale="hads_anxiety"),
    "hads_depression": Measure("hads_depression", Fraction(1), subscale="hads_depression"),
    "pain_now_nrs": Measure("pain_now_nrs", Fraction(1)),
    "pain_week_nrs": Measure("pain_week_nrs", Fraction(1)),
    "wemwbs": Measure("wemwbs", Fraction(1), subscale="wemwbs"),
    "promis_fatigue": Measure("promis_fatigue_8a", Fraction(1), subscale="promis_fatigue"),
    "promis_pain_interference": Measure(
        "promis_pain_interference", Fraction(1), subscale="promis_pain_interference"
    ),
    "paw_job_satisfaction": Measure("paw_job_satisfaction", Fraction(1), subscale="paw_job_satisfaction"),
    "paw_social_support": Measure("paw_social_support", Fraction(1), subscale="paw_social_support"),
    "paw_mental_stress": Measure("paw_mental_stress", Fraction(1), subscale="paw_mental_stress"),
    "rtw_self_efficacy": Measure(
        "rtw_self_efficacy",
        Fraction(1),
        subscale="rtw_self_efficacy",
        note="two items 1-5 summed (config assumption rtw_self_efficacy)",
    ),
    "wrfq": Measure("wrfq", None, note="mean of applicable items x 25"),
}


def audited_subscales() -> set[str]:
    """The subscales whose missing-item rules the audit reads (its GRIM caveats)."""
    return {m.subscale for m in MEASURES.values() if m.subscale}


class PaperAudit(Audit):
    """The paper's audit: one method per section of the paper."""

    def range_of(self, measure: Measure) -> tuple[Fraction, Fraction] | None:
        if measure.range_key is None:
            return None
        lo, hi = self.p["instruments"][measure.range_key]
        lo = EQ5D_3L_MINIMUM if lo is None else Fraction(str(lo))
        return lo, Fraction(str(hi))

    def imputable_items(self, measure: Measure) -> int | None:
        return self.imputable.get(measure.subscale) if measure.subscale else None

    # --- means and SDs (Tables 2 and 4) ------------------------------------------------
    def mean_sd(self, key: str, name: str, values, n: int) -> None:
        measure = MEASURES[name]
        mean, sd = (Printed.of(v, measure.decimals) for v in values)
        note = f"; {measure.note}" if measure.note else ""
        if measure.granularity is None:
            why = (
                "WRFQ scores are 25 x (mean of the k applicable items), k = 22..27 when up to "
                "20 % 'does not apply' is allowed: steps of 25/27 or finer per person and a "
                "dense set of means, so GRIM cannot test it"
                if name == "wrfq"
                else "not integer-valued"
            )
            self.add(key, "GRIM mean", Outcome(NOT_CHECKABLE, why + note), "mean")
            self.add(key, "GRIMMER SD", Outcome(NOT_CHECKABLE, why), "sd")
        else:
            items = self.imputable_items(measure)
            g = grim_for_scale(mean, n, measure.granularity, items)
            self.add(key, "GRIM mean", Outcome(g.verdict, g.arithmetic + note), "mean")
            self.add(
                key,
                "GRIMMER SD",
                with_imputation_caveat(grimmer(mean, sd, n, measure.granularity), items, state_premise=False),
                "sd",
            )
        bounds = self.range_of(measure)
        if bounds is not None:
            a, b = bounds
            floor = (
                " (Table 1 prints 0 to 1; the floor is the 3L minimum -0.594, state 33333, Dolan 1997)"
                if name == "eq5d_5l_to_3l"
                else ""
            )
            r = mean_in_range(mean, a, b)
            self.add(key, "mean within instrument range", Outcome(r.verdict, r.arithmetic + floor), "mean")
            self.add(
                key, "SD within maximum for range, mean and n", sd_within_range_bound(mean, sd, n, a, b), "sd"
            )

    def table2(self) -> None:
        t2 = self.p["table2_baseline"]
        n = int(t2["n"])
        for name, cell in t2.items():
            if isinstance(cell, Mapping) and "mean_sd" in cell:
                self.mean_sd(f"table2_baseline.{name}.mean_sd", name, cell["mean_sd"], n)
        # PROMIS pain interference: the named 8a form (items scored 1-5) has raw sums k..5k
        k = self.items["promis_pain_interference"]
        pi = t2["promis_pain_interference"]["mean_sd"]
        mean, sd = Printed.of(pi[0], 1), Printed.of(pi[1], 1)
        raw = sd_within_range_bound(mean, sd, n, Fraction(k), Fraction(5 * k))
        self.add(
            "table2_baseline.promis_pain_interference.mean_sd",
            f"SD within maximum for the 8a raw-sum range {k}-{5 * k} ({k} items 1-5)",
            raw,
            "sd",
        )
        lo, hi = self.p["instruments"]["promis_pain_interference"]
        printed = sd_within_range_bound(mean, sd, n, Fraction(lo), Fraction(hi))
        self.add(
            "instruments.promis_pain_interference",
            "printed range vs the named 8a form",
            Outcome(
                CONSISTENT if (lo, hi) == (k, 5 * k) else INCONSISTENT,
                f"Table 1 prints {lo} to {hi}; PROMIS Pain Interference 8a has {k} items "
                f"scored 1-5, raw sum {k} to {5 * k} ({lo} to {hi} fits a 6-item form); "
                f"the baseline mean {pi[0]} SD {pi[1]} is {printed.verdict} with "
                f"{lo}-{hi} and {raw.verdict} with {k}-{5 * k}",
            ),
        )
        for name, cell in t2.items():
            if isinstance(cell, Mapping) and "median_iqr" in cell:
                med, q1, q3 = (Printed.of(v, 1) for v in cell["median_iqr"])
                self.add(
                    f"table2_baseline.{name}.median_iqr",
                    "median within IQR",
                    median_in_iqr(med, q1, q3),
                    "median",
                )
        # n (%) cells over 31, percentages printed as whole numbers
        count, pct = t2["female"]["n_pct"]
        self.add(
            "table2_baseline.female.n_pct",
            "percentage of n",
            percent_matches(count, n, Printed.of(pct, 0)),
            "pct",
        )
        for group in ("marital_status", "pain_areas", "ethnicity", "highest_education"):
            cells = t2[group]
            for cat, c in cells.items():
                count, pct = c["n_pct"]
                self.add(
                    f"table2_baseline.{group}.{cat}.n_pct",
                    "percentage of n",
                    percent_matches(count, n, Printed.of(pct, 0)),
                    "pct",
                )
            counts = [c["n_pct"][0] for c in cells.values()]
            if group != "pain_areas":
                self.add(
                    f"table2_baseline.{group}",
                    "categories add to n",
                    counts_add_up(counts, n, group.replace("_", " ")),
                )
                continue
            two_plus = self.p["flow"]["pain_two_or_more_areas"][0]
            ticks, need = sum(counts), n + two_plus
            self.add(
                "table2_baseline.pain_areas",
                "multiple-response counts vs people",
                Outcome(
                    CONSISTENT if need <= ticks <= len(counts) * n else INCONSISTENT,
                    f"multiple response, so the counts need not add to {n}: "
                    f"{' + '.join(map(str, counts))} = {ticks} ticks; {n} people with "
                    f"at least one area and {two_plus} with two or more need >= {n} + "
                    f"{two_plus} = {need} and allow at most {len(counts)} x {n} = "
                    f"{len(counts) * n}",
                ),
            )

    # --- Table 3 -----------------------------------------------------------------------
    def table3(self) -> None:
        times = ("6 weeks", "14 weeks", "6 months")
        for name, cells in self.p["table3_change"].items():
            if name == "note":
                continue
            measure = MEASURES[name]
            a, b = self.range_of(measure)
            d = measure.decimals
            for i, (est, lo, hi, n) in enumerate(cells):
                key = f"table3_change.{name}[{i}]"
                est, lo, hi = Printed.of(est, d), Printed.of(lo, d), Printed.of(hi, d)
                r = ci_centred(est, lo, hi)
                if measure.granularity is None:
                    g = Outcome(NOT_CHECKABLE, "mapped utility: changes are not integer-valued")
                    mid = Outcome(NOT_CHECKABLE, "mapped utility: changes are not integer-valued")
                else:
                    items = self.imputable_items(measure)
                    g = grim_for_scale(est, n, measure.granularity, items)
                    g = Outcome(g.verdict, "sum of n whole-number changes: " + g.arithmetic)
                    mid = with_imputation_caveat(
                        interval_midpoint_grim(lo, hi, n, measure.granularity), items, state_premise=False
                    )
                # Which number of an off-centre cell is in doubt: the interval's two ends
                # agree with each other on n and SD, so normally the estimate; but when no
                # mean of n whole-number changes lies at the interval's centre and the
                # estimate is such a mean, the interval (one of its ends) is.
                blame = (
                    "lower upper"
                    if mid.verdict == INCONSISTENT and g.verdict != INCONSISTENT
                    else ""
                    if mid.verdict == INCONSISTENT
                    else "estimate"
                )
                self.add(key, f"95% CI centred on estimate ({times[i]})", r, blame)
                self.add(
                    key,
                    f"implied SD of changes feasible ({times[i]})",
                    change_sd_feasible(est, lo, hi, n, a, b, self.confidence),
                    "lower upper",
                )
                self.add(key, f"GRIM change mean ({times[i]})", g, "estimate")
                self.add(key, f"GRIM interval centre ({times[i]})", mid, "lower upper")

    # --- Table 4 -----------------------------------------------------------------------
    def table4(self) -> None:
        t4 = self.p["table4_work_outcomes"]
        for name, cell in t4.items():
            key = f"table4_work_outcomes.{name}"
            if "mean_sd" in cell:
                self.mean_sd(f"{key}.mean_sd", name, cell["mean_sd"], int(cell["n"]))
                continue
            n = int(cell["n"])
            cats = {c: v for c, v in cell.items() if c != "n"}
            self.add(
                key,
                "categories add to n",
                counts_add_up([v[0] for v in cats.values()], n, name.replace("_", " ")),
            )
            for c, (count, pct) in cats.items():
                self.add(
                    f"{key}.{c}",
                    "percentage of n (one decimal)",
                    percent_matches(count, n, Printed.of(pct, 1)),
                    "pct",
                )

    # --- Table 5 -----------------------------------------------------------------------
    def table5(self) -> None:
        for when, t in self.p["table5_jobs"].items():
            key = f"table5_jobs.{when}"
            offers, respondents = t["job_offers_reported"]
            accepted, n_accepted = t["job_offers_accepted"]
            started, n_started = t["new_jobs_started"]
            ok = (
                accepted <= offers
                and started <= accepted
                and n_started == accepted
                and n_accepted <= min(offers, respondents)
            )
            self.add(
                key,
                "offers >= accepted >= started; denominators",
                Outcome(
                    CONSISTENT if ok else INCONSISTENT,
                    f"offers {offers} >= accepted {accepted} >= started {started}; "
                    f"people with offers (n of accepted) {n_accepted} <= offers {offers} "
                    f"and <= respondents {respondents}; n of started {n_started} = "
                    f"accepted {accepted}: {'all hold' if ok else 'violated'}",
                ),
            )

    # --- flow, recruitment, follow-up ----------------------------------------------------
    def flow(self) -> None:
        f = self.p["flow"]
        recruited = int(f["recruited"])
        before_wp = int(f["withdrew_after_baseline"]) - 1  # one withdrew on the first day of it
        expected = recruited - int(f["ineligible_after_recruitment"]) - before_wp
        self.add(
            "flow.attended_work_preparation",
            "recruited minus losses before work preparation",
            Outcome(
                CONSISTENT if expected == f["attended_work_preparation"] else INCONSISTENT,
                f"{recruited} recruited - {f['ineligible_after_recruitment']} "
                "ineligible - "
                f"{before_wp} withdrawn before work preparation (the third of "
                f"{f['withdrew_after_baseline']} left on its first day) = {expected} vs "
                f"{f['attended_work_preparation']} attended",
            ),
        )
        placed = f["placed_and_attended"][0]
        self.add(
            "flow.placed_and_attended",
            "completed + not completed = placed",
            counts_add_up(
                [f["completed_full_six_weeks"], f["did_not_complete_placement"]],
                placed,
                "placement completion",
            ),
        )
        for key in ("placed_and_attended", "obtained_employment_known", "pain_two_or_more_areas"):
            count, pct = f[key]
            self.add(
                f"flow.{key}",
                "percentage of recruited",
                percent_matches(count, recruited, Printed.of(pct, 0)),
                "pct",
            )
        self.add(
            "flow.additional_health_concerns",
            "'all but six'",
            counts_add_up(
                [f["additional_health_concerns"], 6], recruited, "with + without additional concerns"
            ),
        )
        # recruitment sources: 3 NHS recruits, percentages over 31 (not over 33 expressions)
        src = {k: Printed.of(v, 0) for k, v in f["recruitment_source_pct"].items()}
        nhs = int(f["recruited_from_nhs_sites"])
        counts = {k: counts_for_percent(p, recruited) for k, p in src.items()}
        ok = nhs in counts["nhs"] and any(
            nhs + a + b == recruited for a in counts["non_nhs"] for b in counts["direct_contact"]
        )
        interest = int(f["eligible_expressed_interest"])
        self.add(
            "flow.recruitment_source_pct",
            "source percentages vs 31 and 3 NHS recruits",
            Outcome(
                CONSISTENT if ok else INCONSISTENT,
                f"counts over {recruited} printing as each percentage: "
                + ", ".join(f"{k} {p.text} % -> {counts[k]}" for k, p in src.items())
                + f"; {nhs} NHS recruits {'fit' if ok else 'do not fit'}, with the three "
                f"counts adding to {recruited}; over {interest} expressions of interest "
                f"{nhs} would be {_fmt(Fraction(100 * nhs, interest), 1)} %, not "
                f"{src['nhs'].text} %",
            ),
        )
        # follow-up response rates "excluding dropouts": infer the denominator
        rates = self.p["follow_up_response_rate_pct"]
        pcts = [Printed.of(v, 0) for v in rates.values()]
        responders = [
            max(cells[i][3] for name, cells in self.p["table3_change"].items() if name != "note")
            for i in range(len(pcts))
        ]
        free = denominators_for(pcts, range(1, recruited + 1))
        fixed = denominators_for(pcts, range(max(responders), recruited + 1), responders)
        losses = {
            "ineligible": f["ineligible_after_recruitment"],
            "unable to place": f["unable_to_place_language_or_learning"],
            "withdrew": f["withdrew_after_baseline"],
            "disengaged": f["offered_placement_but_disengaged"],
            "died": self.p["safety"]["deaths_unrelated"],
        }
        reading = " + ".join(f"{v} {k}" for k, v in losses.items()) + f" = {sum(losses.values())}"
        self.add(
            "follow_up_response_rate_pct",
            "inferred denominator",
            Outcome(
                CONSISTENT if len(fixed) == 1 else INCONSISTENT,
                f"denominators d <= {recruited} for which "
                f"{', '.join(p.text for p in pcts)} % are all 100 c/d for whole c: "
                f"{free}; with c fixed at Table 3's largest n "
                f"per time point {responders}: {fixed}"
                + (
                    f"; {recruited} - {fixed[0]} = {recruited - fixed[0]} dropouts, e.g. "
                    f"{reading} (the paper does not define dropouts)"
                    if fixed
                    else ""
                ),
            ),
        )
        if len(fixed) == 1:
            for (name, pct), count in zip(rates.items(), responders):
                self.add(
                    f"follow_up_response_rate_pct.{name}",
                    "percentage of inferred denominator",
                    percent_matches(count, fixed[0], Printed.of(pct, 0)),
                )
        days = self.p["final_follow_up_days_from_start"]
        self.add(
            "final_follow_up_days_from_start",
            "median within IQR",
            median_in_iqr(*(Printed.of(days[k], 0) for k in ("median", "q1", "q3"))),
        )

    # --- case management ---------------------------------------------------------------
    def case_management(self) -> None:
        cm = self.p["case_management"]
        total = Printed.of(cm["total_hours"], 1)
        placed_h = Printed.of(cm["placed"]["total_hours"], 2)
        unplaced_h = Printed.of(cm["unplaced"]["total_hours"], 1)
        self.add(
            "case_management.total_hours",
            "placed + unplaced hours = total",
            parts_add_up([placed_h, unplaced_h], total, what="placed + unplaced hours"),
        )
        managers = cm["by_case_manager"].values()
        ns = [int(m["participants"]) for m in managers]
        means = [Printed.of(m["mean_hours"], 1) for m in managers]
        by_manager = parts_add_up(means, total, weights=ns, what="participants x mean hours per case manager")
        split = parts_add_up(
            means,
            Printed.of(placed_h.value + unplaced_h.value, 2),
            weights=ns,
            what="against placed + unplaced instead",
        )
        by_manager = Outcome(by_manager.verdict, f"{by_manager.arithmetic}; {split.arithmetic}")
        self.add("case_management.total_hours", "sum over case managers of participants x mean", by_manager)
        # the same sum puts the case managers' mean hours in doubt
        self.add(
            "case_management.by_case_manager",
            "sum over case managers of participants x mean",
            by_manager,
            "mean_hours",
        )
        recruited = int(self.p["flow"]["recruited"])
        self.add(
            "case_management.by_case_manager",
            "participants per case manager vs recruited",
            Outcome(
                CONSISTENT if sum(ns) == recruited - 1 else INCONSISTENT,
                f"{' + '.join(map(str, ns))} = {sum(ns)}; {recruited} recruited - 1 who "
                f"obtained employment before case management started (Results) = "
                f"{recruited - 1}",
            ),
        )
        n_placed = int(cm["placed"]["n"])
        # the placed upper quartile is printed "10" (no decimal): it means [9.5, 10.5)
        printed_iqr = {"placed": (1, 1, 0), "unplaced": (1, 1, 1)}
        for group, n, hours in (("placed", n_placed, placed_h), ("unplaced", sum(ns) - n_placed, unplaced_h)):
            med, q1, q3 = (Printed.of(v, d) for v, d in zip(cm[group]["median_iqr"], printed_iqr[group]))
            least = min_total_from_quartiles(n, q1.lo, med.lo, q3.lo)
            ok = least <= hours.hi
            origin = "placed" if group == "placed" else f"{sum(ns)} case-managed - {n_placed} placed"
            self.add(
                f"case_management.{group}.total_hours",
                "total vs its median and IQR",
                Outcome(
                    CONSISTENT if ok else INCONSISTENT,
                    f"n = {n} ({origin}); Stata quartiles of {n} values are x(4), x(8), "
                    f"x(12), so values 4-7 >= Q1 {q1.text}, 8-11 >= median {med.text}, "
                    f"12-{n} >= Q3 {q3.text}: total >= "
                    f"{_fmt(min_total_from_quartiles(n, q1.value, med.value, q3.value))} "
                    f"({_fmt(least)} at the low ends of the rounding); stated "
                    f"{hours.text} h: {'possible' if ok else 'too small'} "
                    f"(mean {_fmt(hours.value / n, 2)} h)",
                ),
            )
        low, high = cm["hours_per_person_range"]
        ok = all(low <= m.hi and m.lo <= high for m in means)
        self.add(
            "case_management.hours_per_person_range",
            "case-manager means within 4 to 7 h",
            Outcome(
                CONSISTENT if ok else INCONSISTENT,
                f"means {', '.join(m.text for m in means)} h per participant within "
                f"{low} to {high} (Discussion): {'yes' if ok else 'no'}",
            ),
        )
        cost = int(cm["cost_per_hour_gbp"]) * high
        self.add(
            "case_management.cost_per_person_max_gbp",
            "hours x cost per hour",
            Outcome(
                CONSISTENT if cost == cm["cost_per_person_max_gbp"] else INCONSISTENT,
                f"{high} h x GBP {cm['cost_per_hour_gbp']} = GBP {cost} vs stated "
                f"GBP {cm['cost_per_person_max_gbp']}",
            ),
        )

    # --- work preparation ----------------------------------------------------------------
    def work_preparation(self) -> None:
        wp = self.p["work_preparation"]
        size = wp["group_size"]
        groups, one_to_one = int(wp["group_sessions"]), int(wp["one_to_one_sessions"])
        in_groups = int(wp["attended"]) - one_to_one
        vectors = group_size_vectors(groups, size["min"], size["median"], size["max"], in_groups)
        alt = group_size_vectors(groups, size["min"], size["median"], size["max"], int(wp["attended"]))
        self.add(
            "work_preparation.group_size",
            "group sizes add to those attending",
            Outcome(
                CONSISTENT if vectors else INCONSISTENT,
                f"{groups} groups, min {size['min']}, median {size['median']}, max "
                f"{size['max']}, total {wp['attended']} - {one_to_one} seen 1:1 = "
                f"{in_groups}: sorted sizes {vectors or 'none'} (if the 1:1 is not among "
                f"the {wp['attended']}: {alt or 'none'})",
            ),
        )
        by_site = wp["group_sessions_by_site"]
        self.add(
            "work_preparation.group_sessions_by_site",
            "sessions by site add to sessions",
            counts_add_up(
                list(by_site.values()),
                groups,
                "group sessions in Birmingham + Coventry (no other site is named)",
            ),
        )

    # --- placements ---------------------------------------------------------------------
    def placements(self) -> None:
        pl = self.p["placements"]
        self.add(
            "placements.offered_by_partners",
            "offers by area add to offers",
            counts_add_up(
                [pl["offered_birmingham_area"], pl["offered_coventry"]],
                pl["offered_by_partners"],
                "Birmingham area + Coventry",
            ),
        )
        placed = int(self.p["flow"]["placed_and_attended"][0])
        weeks_cap = Fraction(pl["placement_weeks"])
        hpw = pl["hours_per_week"]
        mean, sd = Printed.of(hpw["mean_sd"][0], 1), Printed.of(hpw["mean_sd"][1], 1)
        lo, hi = (Printed.of(v, 1) for v in hpw["range"])
        self.add(
            "placements.hours_per_week.mean_sd",
            "mean and SD within the printed range",
            sd_within_range_bound(mean, sd, placed, lo.lo, hi.hi),
        )
        cap = Fraction(pl["max_hours_per_week_offered"])
        ok = hi.lo <= cap
        self.add(
            "placements.hours_per_week.range",
            "largest hours per week vs the 16 h offered",
            Outcome(
                CONSISTENT if ok else INCONSISTENT,
                f"largest {hi.text} h/week ({hi.interval}) vs placements of 'up to "
                f"{cap}-hours per week' (Methods): {'within' if ok else 'exceeds'} "
                f"by {_fmt(hi.value - cap)} h; no rounding reconciles them (possible "
                "if hours per week = total hours / weeks attended with part weeks, or "
                "if 16 h was the partners' aim rather than a cap)",
            ),
            "max",
        )
        weeks = [Printed.of(v, 1) for v in pl["weeks_attended"]["mean_sd"]]
        self.add(
            "placements.weeks_attended.mean_sd",
            "mean and SD within 0 to 6 weeks",
            sd_within_range_bound(weeks[0], weeks[1], placed, Fraction(0), weeks_cap),
        )
        least = min_sd_with_fixed(list(SHORT_PLACEMENT_WEEKS.values()), placed, weeks[0])
        ok = least <= weeks[1].hi
        self.add(
            "placements.weeks_attended.mean_sd",
            "SD vs the two short placements the text reports",
            Outcome(
                CONSISTENT if ok else INCONSISTENT,
                f"premise: the participant who left for paid employment 'after two and a half "
                f"weeks' and the participant "
                f"with an adverse event completed 'two weeks of a placement' (both among "
                f"the {placed} placed); with those two values fixed and the mean in "
                f"{weeks[0].interval}, the smallest SD is sqrt([sum (x - m)^2 + "
                f"(sum (x - m))^2/{placed - 2}]/{placed - 1}) = {least:.2f} "
                f"{'<=' if ok else '>'} printed {weeks[1].text} (< {_fmt(weeks[1].hi)}); "
                f"taking 3 weeks for the first gives "
                f"{min_sd_with_fixed([Fraction(3), Fraction(2)], placed, weeks[0]):.2f}",
            ),
        )
        total = [Printed.of(v, 1) for v in pl["total_hours"]["mean_sd"]]
        self.add(
            "placements.total_hours.mean_sd",
            "mean and SD within 0 to 6 weeks x largest h/week",
            sd_within_range_bound(total[0], total[1], placed, Fraction(0), weeks_cap * hi.hi),
        )

    # --- economics ------------------------------------------------------------------------
    def economics(self) -> None:
        e = self.p["economics"]
        p1 = Printed.of(e["rtw_with_intervention_pct"], 0)
        p0 = Fraction(e["rtw_without_intervention_assumed_pct"], 100)
        exact = nnt(p1.value / 100, p0)
        lo, hi = nnt(p1.hi / 100, p0), nnt(p1.lo / 100, p0)
        employed = self.p["flow"]["obtained_employment_known"][0]
        recruited = self.p["flow"]["recruited"]
        observed = nnt(Fraction(employed, recruited), p0)
        stated = int(e["number_needed_to_treat"])
        # an NNT is usually rounded up (Altman 1998); accept it only if both conventions agree
        ok = round(observed) == stated == math.ceil(observed)
        self.add(
            "economics.number_needed_to_treat",
            "NNT = 1 / (risk difference)",
            Outcome(
                CONSISTENT if ok else INCONSISTENT,
                f"1/({_fmt(p1.value / 100)} - {_fmt(p0)}) = {_fmt(exact, 1)} ({p1.text} % "
                f"means {_fmt(lo, 2)} to {_fmt(hi, 2)}); with {employed}/{recruited}: "
                f"1/({_fmt(Fraction(employed, recruited), 4)} - {_fmt(p0)}) = "
                f"{_fmt(observed, 2)} -> {stated} whether rounded or rounded up: "
                f"{'agrees' if ok else 'differs'}",
            ),
        )

    # each section of the checks and the part of the published values it checks: a
    # published-values file without that part (another study's) skips the section
    SECTIONS = (
        ("table2", "table2_baseline"),
        ("table3", "table3_change"),
        ("table4", "table4_work_outcomes"),
        ("table5", "table5_jobs"),
        ("flow", "flow"),
        ("case_management", "case_management"),
        ("work_preparation", "work_preparation"),
        ("placements", "placements"),
        ("economics", "economics"),
    )


def audit_published(published: Mapping, config: Mapping) -> pd.DataFrame:
    """Every check on the paper's published values: columns key, check, arithmetic, verdict.

    ``published`` is ``config/published_values.yaml`` as loaded; ``config`` the study
    configuration (its instruments' missing-item rules decide which scores may be
    imputed, or ``missing_items``: subscale -> rule; the confidence level gives Table 3's t
    quantile).
    """
    return PaperAudit(published, config).run()
