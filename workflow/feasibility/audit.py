"""Audit of a publication's own numbers (no data: only the printed values).

The checks by which a number of a published-values file (``paths.published_values``) can
be tested against another printed number, against its instrument's range or against
whole-number arithmetic:

* GRIM (Brown & Heathers 2017): a mean of n scores that are multiples of a
  granularity g is k g / n for a whole k.
* GRIMMER (Anaya 2016; Allard 2018): the SD then fixes the sum of squares Q to a
  short range of whole numbers (in units of g), and Q has the parity of the sum,
  since x^2 and x have the same parity for every integer x.
* Range bounds: a mean must lie in the instrument's range [a, b], and for data in
  [a, b] with mean m, (x - a)(b - x) >= 0 gives sum (x - m)^2 <= n (b - m)(m - a),
  so the sample SD is at most sqrt((b - m)(m - a) n / (n - 1)).
* Medians inside their IQR; each Table 3 t interval centred on its estimate, and
  the SD of the changes it implies feasible for a difference of two scores.
* Percentages against counts and denominators; parts against stated totals.

Printed precision. A value printed with d decimals stands for every value that
rounds to it half away from zero (the paper's convention, as in
``feasibility.stats.round_half_up``): 4.0 means [3.95, 4.05), -0.4 means
(-0.45, -0.35], 0.0 means (-0.05, 0.05). A check is ``inconsistent`` only when
no values within those intervals satisfy it; arithmetic is exact (fractions), and
where two printed numbers are compared the ends of their intervals count as
reachable (the lenient side).

Each check is a small pure function returning an :class:`Outcome` (verdict and
the arithmetic in words and numbers); :func:`audit_published` applies them to any
published values by the shape of each value and names each row by its key path into the
yaml. A study package may subclass :class:`Audit` with its publication's own sections
(the paper's: ``feasibility.studies.pilot2020.audit``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations_with_replacement
from typing import NamedTuple

import pandas as pd

from feasibility.io import write_csv
from feasibility.stats import t_quantile

CONSISTENT = "consistent"
INCONSISTENT = "inconsistent"
NOT_CHECKABLE = "not checkable"
VERDICTS = (CONSISTENT, INCONSISTENT, NOT_CHECKABLE)
COLUMNS = ["key", "check", "arithmetic", "verdict", "parts"]

# Printed numbers of a value, by the shape of its key (``feasibility.publication.part_names``):
# a check that finds one number wrong names it in ``parts`` (space-separated), so the
# reproduction still compares the other numbers of that value; an empty ``parts`` means
# the whole value (or every value under a group key).


# ----------------------------------------------------------------------------- printed numbers
@dataclass(frozen=True)
class Printed:
    """A number as printed with ``decimals`` decimals, and the values that print so."""

    value: Fraction
    decimals: int

    @classmethod
    def of(cls, value, decimals: int) -> "Printed":
        return cls(Fraction(str(value)), decimals)

    @property
    def half(self) -> Fraction:
        return Fraction(1, 2 * 10**self.decimals)

    @property
    def lo(self) -> Fraction:
        return self.value - self.half

    @property
    def hi(self) -> Fraction:
        return self.value + self.half

    def contains(self, x: Fraction) -> bool:
        """True if ``x`` rounds (half away from zero) to this printed value."""
        if self.value > 0:
            return self.lo <= x < self.hi
        if self.value < 0:
            return self.lo < x <= self.hi
        return self.lo < x < self.hi

    def contains_square_root_of(self, variance: Fraction) -> bool:
        """True if sqrt(``variance``) prints as this (non-negative) value; exact."""
        if self.value == 0:
            return variance < self.hi**2
        return self.lo**2 <= variance < self.hi**2

    @property
    def text(self) -> str:
        return f"{float(self.value):.{self.decimals}f}"

    @property
    def interval(self) -> str:
        left = "[" if self.value > 0 else "("
        right = ")" if self.value >= 0 else "]"
        return f"{left}{_fmt(self.lo)}, {_fmt(self.hi)}{right}"


def _fmt(x, digits: int = 4) -> str:
    """A number for the arithmetic column: whole numbers bare, others to ``digits``."""
    if isinstance(x, Fraction) and x.denominator == 1:
        return str(x.numerator)
    if isinstance(x, int):
        return str(x)
    text = f"{float(x):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class Outcome(NamedTuple):
    verdict: str
    arithmetic: str


# ----------------------------------------------------------------------------- GRIM and GRIMMER
def grim_sums(mean: Printed, n: int, granularity: Fraction = Fraction(1)) -> list[Fraction]:
    """Sums of n values on a grid of ``granularity`` whose mean prints as ``mean``."""
    steps_lo = math.floor(mean.lo * n / granularity)
    steps_hi = math.ceil(mean.hi * n / granularity)
    return [k * granularity for k in range(steps_lo, steps_hi + 1) if mean.contains(k * granularity / n)]


def grim(mean: Printed, n: int, granularity: Fraction = Fraction(1)) -> Outcome:
    """GRIM (Brown & Heathers 2017): is the printed mean k g / n for a whole k?"""
    sums = grim_sums(mean, n, granularity)
    unit = "whole numbers" if granularity == 1 else f"multiples of {granularity}"
    head = (
        f"mean {mean.text} means {mean.interval}; x n {n} -> sum in "
        f"[{_fmt(mean.lo * n)}, {_fmt(mean.hi * n)}]; sums of {unit} there: "
    )
    if sums:
        shown = ", ".join(
            f"{_fmt(s)} ({_fmt(s)}/{n} = {_fmt(s / n)}"
            + (", a tie rounded away from zero" if s / n in (mean.lo, mean.hi) else "")
            + ")"
            for s in sums
        )
        return Outcome(CONSISTENT, head + shown)
    near = [
        k * granularity
        for k in (math.floor(mean.value * n / granularity), math.ceil(mean.value * n / granularity))
    ]
    shown = ", ".join(f"{_fmt(s)}/{n} = {_fmt(s / n)}" for s in dict.fromkeys(near))
    tie = [s for s in near if s / n in (mean.lo, mean.hi)]
    note = (
        f"; {_fmt(tie[0])}/{n} = {_fmt(tie[0] / n)} is an exact tie, printed "
        f"{mean.text} only if truncated or rounded half down"
        if tie
        else ""
    )
    return Outcome(INCONSISTENT, head + f"none (nearest: {shown}){note}")


def min_sum_of_squares(total: int, n: int) -> int:
    """Smallest sum of squares of n whole numbers adding to ``total`` (as equal as possible)."""
    q, r = divmod(total, n)
    return n * q * q + r * (2 * q + 1)


def grimmer_pairs(
    mean: Printed, sd: Printed, n: int, granularity: Fraction = Fraction(1)
) -> dict[Fraction, list[int]]:
    """For each GRIM sum, the sums of squares (in units of ``granularity``) that fit the SD.

    With x = g u (u whole), S = sum u and Q = sum u^2: SD^2 = g^2 (Q - S^2 / n) / (n - 1);
    Q must be whole, have the parity of S, and be at least the minimum for S.
    """
    out: dict[Fraction, list[int]] = {}
    for total in grim_sums(mean, n, granularity):
        s = int(total / granularity)
        base = Fraction(s * s, n)
        q_lo = math.floor(base + (n - 1) * sd.lo**2 / granularity**2) if sd.value else 0
        q_hi = math.ceil(base + (n - 1) * sd.hi**2 / granularity**2)
        out[total] = [
            q
            for q in range(max(q_lo, min_sum_of_squares(s, n)), q_hi + 1)
            if (q - s) % 2 == 0 and sd.contains_square_root_of(granularity**2 * (q - base) / (n - 1))
        ]
    return out


def grimmer(mean: Printed, sd: Printed, n: int, granularity: Fraction = Fraction(1)) -> Outcome:
    """GRIMMER (Anaya 2016): a whole sum of squares with the sum's parity fits the SD."""
    pairs = grimmer_pairs(mean, sd, n, granularity)
    if not pairs:
        return Outcome(
            NOT_CHECKABLE,
            f"no sum passes GRIM for mean {mean.text}, n {n}, so there is no sum of squares to test",
        )
    parts = []
    for total, qs in pairs.items():
        s = int(total / granularity)
        found = (
            f"{len(qs)} (Q = {qs[0]}..{qs[-1]})" if len(qs) > 2 else ", ".join(map(str, qs)) if qs else "none"
        )
        parts.append(f"S = {s} (Q >= {min_sum_of_squares(s, n)}) -> {found}")
    unit = "" if granularity == 1 else f" (values in units of {granularity})"
    verdict = CONSISTENT if any(pairs.values()) else INCONSISTENT
    return Outcome(
        verdict,
        f"mean {mean.text} SD {sd.text} n {n}{unit}: sums of squares "
        f"Q = S^2/n + (n-1) SD^2 for SD in {sd.interval}, whole, at least the most "
        "even sample's, with the parity of S: " + "; ".join(parts),
    )


def imputation_note(items: int) -> str:
    """Why a single imputed item breaks GRIM's premise (paper, Methods: mean imputation)."""
    return (
        f"a score with one of its {items} items imputed by the mean of the others is "
        f"(sum of {items - 1} answered) x {items}/{items - 1}, not a whole number "
        f"(steps of 1/{items - 1})"
    )


def with_imputation_caveat(
    result: Outcome, imputable_items: int | None, state_premise: bool = True
) -> Outcome:
    """Make GRIM's whole-number premise visible for a subscale the paper imputes.

    A failure stays ``inconsistent`` but reads "inconsistent unless an imputed score
    is present"; a pass states the premise (when ``state_premise``).
    """
    if imputable_items is None:
        return result
    if result.verdict == INCONSISTENT:
        return Outcome(
            INCONSISTENT,
            result.arithmetic + "; inconsistent unless an imputed "
            "score is present: " + imputation_note(imputable_items),
        )
    if not state_premise:
        return result
    return Outcome(
        result.verdict,
        result.arithmetic + "; premise: whole-number scores, "
        "which holds unless " + imputation_note(imputable_items),
    )


def grim_for_scale(mean: Printed, n: int, granularity: Fraction, imputable_items: int | None) -> Outcome:
    """GRIM, with the imputation caveat for subscales the paper imputes."""
    return with_imputation_caveat(grim(mean, n, granularity), imputable_items)


# ----------------------------------------------------------------------------- ranges and bounds
def max_sd(a: Fraction, b: Fraction, mean: Fraction, n: int) -> float:
    """Largest sample SD of n values in [a, b] with this mean: sqrt((b-m)(m-a) n/(n-1))."""
    return math.sqrt(max(0.0, float((b - mean) * (mean - a) * n / (n - 1))))


def _closest_to_centre(mean: Printed, a: Fraction, b: Fraction) -> Fraction | None:
    """The value in mean's interval and [a, b] nearest (a + b) / 2 (where the bound peaks)."""
    lo, hi = max(mean.lo, a), min(mean.hi, b)
    if lo > hi:
        return None
    return min(max((a + b) / 2, lo), hi)


def mean_in_range(mean: Printed, a: Fraction, b: Fraction) -> Outcome:
    """The printed mean lies within the instrument's range [a, b] (within rounding)."""
    ok = _closest_to_centre(mean, a, b) is not None
    return Outcome(
        CONSISTENT if ok else INCONSISTENT,
        f"mean {mean.text} ({mean.interval}) {'within' if ok else 'outside'} range {_fmt(a)} to {_fmt(b)}",
    )


def sd_within_range_bound(mean: Printed, sd: Printed, n: int, a: Fraction, b: Fraction) -> Outcome:
    """SD no larger than the maximum possible for range [a, b], the mean and n."""
    m = _closest_to_centre(mean, a, b)
    if m is None:
        return Outcome(INCONSISTENT, f"mean {mean.text} outside range {_fmt(a)} to {_fmt(b)}")
    bound = max_sd(a, b, m, n)
    ok = sd.lo <= bound
    return Outcome(
        CONSISTENT if ok else INCONSISTENT,
        f"max SD = sqrt((max - mean)(mean - min) n/(n-1)) = sqrt(({_fmt(b)} - {_fmt(m)})"
        f"({_fmt(m)} - {_fmt(a)}) x {n}/{n - 1}) = {bound:.2f}; printed SD {sd.text} "
        f"(>= {_fmt(sd.lo)}) is {'within' if ok else 'above'} it",
    )


def median_in_iqr(median: Printed, q1: Printed, q3: Printed) -> Outcome:
    """Q1 <= median <= Q3 for some values within rounding."""
    ok = median.hi >= q1.lo and median.lo <= q3.hi
    return Outcome(
        CONSISTENT if ok else INCONSISTENT,
        f"median {median.text} {'within' if ok else 'outside'} IQR "
        f"{q1.text} to {q3.text}"
        + (
            ""
            if ok
            else f" ({median.text} > {q3.text})"
            if median.value > q3.value
            else f" ({median.text} < {q1.text})"
        ),
    )


def min_sd_with_fixed(fixed: Sequence[Fraction], n: int, mean: Printed) -> float:
    """Smallest SD of n values with mean in ``mean`` when some values are known.

    For fixed values F and the other n - |F| free, the sum of squared deviations is
    smallest when the free values are all equal: sum_F (x - m)^2 + (sum_F (x - m))^2 / (n - |F|).
    """

    def ss(m: Fraction) -> Fraction:
        dev = [x - m for x in fixed]
        return sum(d * d for d in dev) + sum(dev) ** 2 / (n - len(fixed))

    # ss is convex in m: its minimum over the interval is at an end or at the vertex
    vertex = sum(fixed) / len(fixed)
    candidates = [mean.lo, mean.hi] + ([vertex] if mean.lo <= vertex <= mean.hi else [])
    return math.sqrt(float(min(ss(m) for m in candidates) / (n - 1)))


# ----------------------------------------------------------------------------- Table 3 intervals
def ci_centred(estimate: Printed, lo: Printed, hi: Printed) -> Outcome:
    """A t interval is symmetric: |(lo + hi)/2 - estimate| within one unit of the last digit."""
    mid = (lo.value + hi.value) / 2
    tolerance = estimate.half + (lo.half + hi.half) / 2
    gap = abs(mid - estimate.value)
    ok = gap <= tolerance
    return Outcome(
        CONSISTENT if ok else INCONSISTENT,
        f"({lo.text} + {hi.text})/2 = {_fmt(mid)} vs estimate {estimate.text}: "
        f"|difference| = {_fmt(gap)} {'<=' if ok else '>'} rounding tolerance "
        f"{_fmt(tolerance)} (half a unit for the estimate + half for the midpoint)",
    )


def implied_change_sd(
    lo: Printed, hi: Printed, n: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """SD of the changes behind a t interval: (hi - lo)/2 x sqrt(n) / t(1 - alpha/2, n - 1).

    Returns (smallest, printed, largest) over the rounding of lo and hi.
    """
    t = t_quantile(n, confidence)
    width = hi.value - lo.value
    slack = lo.half + hi.half
    return tuple(max(0.0, float(w)) / 2 * math.sqrt(n) / t for w in (width - slack, width, width + slack))


def change_sd_feasible(
    estimate: Printed, lo: Printed, hi: Printed, n: int, a: Fraction, b: Fraction, confidence: float = 0.95
) -> Outcome:
    """Implied SD of the changes within the bound for differences in [a - b, b - a]."""
    sd_min, sd, sd_max = implied_change_sd(lo, hi, n, confidence)
    t = t_quantile(n, confidence)
    level = f"{1 - (1 - confidence) / 2:g}"
    span = b - a
    m = _closest_to_centre(estimate, -span, span)
    bound = max_sd(-span, span, m, n) if m is not None else 0.0
    ok = m is not None and sd_min <= bound
    return Outcome(
        CONSISTENT if ok else INCONSISTENT,
        f"SD = ({hi.text} - ({lo.text}))/2 x sqrt({n}) / t({level}, {n - 1}) = "
        f"{_fmt(hi.value - lo.value)}/2 x {math.sqrt(n):.3f} / {t:.3f} = {sd:.2f} "
        f"(rounding: {sd_min:.2f} to {sd_max:.2f}); changes lie in "
        f"[{_fmt(-span)}, {_fmt(span)}], max SD {bound:.2f}: "
        f"{'feasible' if ok else 'infeasible'}",
    )


def interval_midpoint_grim(lo: Printed, hi: Printed, n: int, granularity: Fraction = Fraction(1)) -> Outcome:
    """GRIM on a t interval's centre: some mean of n values on the grid must lie there.

    The interval is m -/+ h, so m = (lo + hi)/2 within half the two ends' rounding; when
    no k g / n lies in that range, no n whole-number changes give both printed ends.
    """
    m_lo, m_hi = (lo.lo + hi.lo) / 2, (lo.hi + hi.hi) / 2
    first, last = math.ceil(m_lo * n / granularity), math.floor(m_hi * n / granularity)
    sums = [k * granularity for k in range(first, last + 1)]
    head = (
        f"centre ({lo.text} + {hi.text})/2 in [{_fmt(m_lo)}, {_fmt(m_hi)}] (rounding of "
        f"both ends); x n {n} -> sum in [{_fmt(m_lo * n)}, {_fmt(m_hi * n)}]: "
    )
    if sums:
        return Outcome(CONSISTENT, head + ", ".join(f"{_fmt(t)}/{n} = {_fmt(t / n)}" for t in sums))
    near = [k * granularity for k in (math.floor(m_lo * n / granularity), math.ceil(m_hi * n / granularity))]
    return Outcome(
        INCONSISTENT,
        head
        + "no whole sum (nearest: "
        + ", ".join(f"{_fmt(t)}/{n} = {_fmt(t / n)}" for t in near)
        + "), so no n whole-number changes "
        "give both printed ends; either end can hold with the estimate, not both",
    )


# ----------------------------------------------------------------------------- counts
def percent_matches(count: int, denominator: int, percent: Printed) -> Outcome:
    """100 x count / denominator prints as the published percentage."""
    value = Fraction(100 * count, denominator)
    ok = percent.contains(value)
    return Outcome(
        CONSISTENT if ok else INCONSISTENT,
        f"100 x {count}/{denominator} = {_fmt(value, 2)} % -> printed {percent.text} % "
        f"{'matches' if ok else 'does not match'} ({percent.interval})",
    )


def denominators_for(
    percents: Sequence[Printed], candidates: Iterable[int], counts: Sequence[int] | None = None
) -> list[int]:
    """Denominators d for which every percentage is 100 c / d for a whole c (or the given c)."""
    found = []
    for d in candidates:
        if counts:
            fits = all(p.contains(Fraction(100 * c, d)) for p, c in zip(percents, counts))
        else:
            fits = all(counts_for_percent(p, d) for p in percents)
        if fits:
            found.append(d)
    return found


def counts_for_percent(percent: Printed, denominator: int) -> list[int]:
    """Whole counts c with 100 c / denominator printing as ``percent``."""
    return [c for c in range(denominator + 1) if percent.contains(Fraction(100 * c, denominator))]


def parts_add_up(
    parts: Sequence[Printed], total: Printed, weights: Sequence[int] | None = None, what: str = "parts"
) -> Outcome:
    """Sum of (weight x) parts equals the total for some values within rounding."""
    weights = list(weights) if weights is not None else [1] * len(parts)
    lo = sum(w * p.lo for w, p in zip(weights, parts))
    hi = sum(w * p.hi for w, p in zip(weights, parts))
    exact = sum(w * p.value for w, p in zip(weights, parts))
    ok = lo <= total.hi and hi >= total.lo
    verdict = "agree" if ok else f"differ by {_fmt(abs(exact - total.value))}"
    terms = " + ".join(p.text if w == 1 else f"{w} x {p.text}" for w, p in zip(weights, parts))
    rounding = "" if lo == hi else f" (rounding: {_fmt(lo)} to {_fmt(hi)})"
    return Outcome(
        CONSISTENT if ok else INCONSISTENT,
        f"{what}: {terms} = {_fmt(exact)}{rounding} vs stated {total.text} ({total.interval}): {verdict}",
    )


def counts_add_up(parts: Sequence[int], total: int, what: str) -> Outcome:
    """Whole counts of mutually exclusive categories add to the stated total."""
    s = sum(parts)
    ok = s == total
    return Outcome(
        CONSISTENT if ok else INCONSISTENT,
        f"{what}: {' + '.join(map(str, parts))} = {s} {'=' if ok else '!='} {total}",
    )


def group_size_vectors(
    groups: int, smallest: int, median: int, largest: int, total: int
) -> list[tuple[int, ...]]:
    """Sorted group sizes with the given minimum, median (odd number of groups), maximum and sum."""
    if groups % 2 == 0:
        raise ValueError("the median is a group size only for an odd number of groups")
    middle = groups // 2
    out = []
    for sizes in combinations_with_replacement(range(smallest, largest + 1), groups):
        if sizes[0] == smallest and sizes[-1] == largest and sizes[middle] == median and sum(sizes) == total:
            out.append(sizes)
    return out


def min_total_from_quartiles(
    n: int, q1: Fraction, median: Fraction, q3: Fraction, floor: Fraction = Fraction(0)
) -> Fraction:
    """Smallest sum of n values >= ``floor`` whose Stata quartiles are at least these.

    Stata (``summarize, detail``): for n p/100 = i + f the centile is x(i+1) when
    f > 0, else (x(i) + x(i+1))/2; either way x(i+1), ..., x(n) are at least the
    centile. The smallest total sets every value to the largest centile below it.
    """
    starts = [(n * p // 100 + 1, value) for p, value in ((25, q1), (50, median), (75, q3))]
    return sum(
        (max([floor] + [value for start, value in starts if idx >= start]) for idx in range(1, n + 1)),
        Fraction(0),
    )


def nnt(p_with: Fraction, p_without: Fraction) -> Fraction:
    """Number needed to treat = 1 / (risk difference)."""
    return 1 / (p_with - p_without)


# ----------------------------------------------------------------------------- the audit
def items_per_subscale() -> dict[str, int]:
    """Number of items of each summed subscale, from the scorers (``feasibility.scoring``)."""
    from feasibility.scoring import hads, paw, promis, rtw_self_efficacy, wemwbs

    out: dict[str, int] = {}
    for module in (hads, paw, promis, rtw_self_efficacy, wemwbs):
        out.update({name: len(cols) for name, cols in module.SUBSCALES.items()})
    return out


class Audit:
    """Collects the checks' rows; one method per section of the published values.

    This generic audit reads any published-values file by the shape of its values (see
    :meth:`shapes`). A study's own audit (in its study package) subclasses it with one
    method per section of its publication, listed in ``SECTIONS`` with the part of the
    published values each checks (a file without that part skips the section).
    """

    SECTIONS: tuple[tuple[str, str | None], ...] = (("shapes", None),)

    def __init__(self, published: Mapping, config: Mapping):
        self.p = published
        self.confidence = float(config.get("statistics", {}).get("confidence_level", 0.95))
        from feasibility.scoring.registry import missing_item_rules

        missing = (
            config["missing_items"]
            if "missing_items" in config
            else missing_item_rules(config.get("instruments"))
        )
        self.items = items_per_subscale()
        self.imputable = {
            name: self.items[name]
            for name, rule in missing.items()
            if rule.get("max_missing", 0) >= 1 and name in self.items
        }
        self.rows: list[dict] = []

    def add(self, key: str, check: str, outcome: Outcome, parts: str = "") -> None:
        """One check of ``key``; ``parts`` names the printed numbers it concerns (empty: all)."""
        if outcome.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {outcome.verdict!r}")
        self.rows.append(
            {
                "key": key,
                "check": check,
                "arithmetic": outcome.arithmetic,
                "verdict": outcome.verdict,
                "parts": parts,
            }
        )

    def shapes(self) -> None:
        """The checks any published-values file allows, by the shape of each value.

        A group (a mapping) may give ``n``, the scores' ``granularity`` (1 for whole-number
        scores) and their ``range`` [a, b], for every value inside it. With ``n``: a
        ``mean_sd`` is checked against the range (mean within it, SD at most its bound)
        and, given the granularity, by GRIM and GRIMMER; an ``n_pct`` [count, percent]
        against ``n``. Anywhere: a ``median_iqr`` [median, q1, q3] has its median within
        the IQR, and a ``ci`` [estimate, lower, upper] is centred on its estimate.
        """

        def walk(node: Mapping, key: str, context: dict) -> None:
            context = {**context, **{k: node[k] for k in ("n", "granularity", "range") if k in node}}
            n = context.get("n") if isinstance(context.get("n"), int) else None
            for name, value in node.items():
                here = f"{key}.{name}" if key else str(name)
                if isinstance(value, Mapping):
                    walk(value, here, context)
                elif name == "median_iqr" and _numbers(value, 3):
                    med, q1, q3 = (Printed.of(v, _decimals(v)) for v in value)
                    self.add(here, "median within IQR", median_in_iqr(med, q1, q3), "median")
                elif name == "ci" and _numbers(value, 3):
                    est, lo, hi = (Printed.of(v, _decimals(v)) for v in value)
                    self.add(here, "CI centred on estimate", ci_centred(est, lo, hi), "estimate")
                elif name == "n_pct" and n and _numbers(value, 2):
                    pct = Printed.of(value[1], _decimals(value[1]))
                    self.add(here, "percentage of n", percent_matches(int(value[0]), n, pct), "pct")
                elif name == "mean_sd" and n and _numbers(value, 2):
                    self.mean_sd_shape(here, context, value, n)

        walk(self.p, "", {})

    def mean_sd_shape(self, key: str, context: Mapping, values, n: int) -> None:
        mean, sd = (Printed.of(v, _decimals(v)) for v in values)
        if isinstance(context.get("granularity"), (int, float)):
            g = Fraction(str(context["granularity"]))
            self.add(key, "GRIM mean", grim(mean, n, g), "mean")
            self.add(key, "GRIMMER SD", grimmer(mean, sd, n, g), "sd")
        if _numbers(context.get("range"), 2):
            a, b = (Fraction(str(v)) for v in context["range"])
            self.add(key, "mean within range", mean_in_range(mean, a, b), "mean")
            self.add(
                key, "SD within maximum for range, mean and n", sd_within_range_bound(mean, sd, n, a, b), "sd"
            )

    def run(self) -> pd.DataFrame:
        for method, part in self.SECTIONS:
            if part is None or part in self.p:
                getattr(self, method)()
        return pd.DataFrame(self.rows, columns=COLUMNS)


def _numbers(value, count: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == count
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )


def _decimals(value) -> int:
    text = repr(float(value)) if isinstance(value, float) else str(value)
    return len(text.split(".")[1]) if "." in text else 0


def audit_published(published: Mapping, config: Mapping) -> pd.DataFrame:
    """The generic checks of any published values: columns key, check, arithmetic, verdict, parts.

    ``published`` is the published-values file as loaded; ``config`` the study
    configuration (the confidence level; the instruments' missing-item rules, or
    ``missing_items``: subscale -> rule, say which scores may have been imputed). A study
    package's own ``audit_published`` replaces this one for its publication.
    """
    return Audit(published, config).run()


def inconsistencies(audit_df: pd.DataFrame) -> dict[str, str]:
    """Key -> arithmetic (joined by '; ') for every key with an inconsistent verdict."""
    bad = audit_df[audit_df["verdict"] == INCONSISTENT]
    return {key: "; ".join(group["arithmetic"]) for key, group in bad.groupby("key", sort=False)}


class Finding(NamedTuple):
    """An inconsistent verdict: the check, its arithmetic and the printed numbers it doubts."""

    check: str
    arithmetic: str
    parts: tuple[str, ...]  # empty: the whole value


def findings(audit_df: pd.DataFrame) -> dict[str, list[Finding]]:
    """Key -> the inconsistent findings recorded under it (``parts`` split into names)."""
    bad = audit_df[audit_df["verdict"] == INCONSISTENT]
    parts = bad["parts"] if "parts" in bad else pd.Series("", index=bad.index)
    out: dict[str, list[Finding]] = {}
    for key, check, arithmetic, names in zip(bad["key"], bad["check"], bad["arithmetic"], parts.fillna("")):
        out.setdefault(key, []).append(Finding(check, arithmetic, tuple(str(names).split())))
    return out


def resolve(published: Mapping, key: str):
    """The value a key path names, e.g. ``table3_change.work_confidence[0]``."""
    node = published
    for part in key.split("."):
        name, _, rest = part.partition("[")
        node = node[name]
        for index in filter(None, rest.replace("]", "").split("[")):
            node = node[int(index)]
    return node


def write_audit(df: pd.DataFrame, path) -> None:
    """Write the audit table as a spreadsheet-safe CSV."""
    write_csv(path, df[COLUMNS])
