"""Audit of the paper's published numbers: each check on hand-worked cases, a
cross-check of GRIM/GRIMMER against pysprite and against brute force, and the
findings on the real published values."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from itertools import combinations_with_replacement
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from feasibility import audit
from feasibility.studies.pilot2020 import audit as paper_audit
from feasibility.audit import (
    CONSISTENT,
    INCONSISTENT,
    NOT_CHECKABLE,
    Printed,
    ci_centred,
    change_sd_feasible,
    counts_add_up,
    denominators_for,
    grim,
    grim_for_scale,
    grim_sums,
    grimmer,
    group_size_vectors,
    implied_change_sd,
    max_sd,
    mean_in_range,
    median_in_iqr,
    min_sd_with_fixed,
    min_total_from_quartiles,
    nnt,
    parts_add_up,
    percent_matches,
    sd_within_range_bound,
)
from feasibility.stats import round_half_up

ROOT = Path(__file__).resolve().parents[1]


def P(value, decimals=1):
    return Printed.of(value, decimals)


@pytest.fixture(scope="module")
def published():
    return yaml.safe_load((ROOT / "config" / "published_values.yaml").read_text())


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.fixture(scope="module")
def audited(published, config):
    return paper_audit.audit_published(published, config)


# ----------------------------------------------------------------------------- printed numbers
def test_printed_interval_rounds_half_away_from_zero():
    # 4.0 stands for [3.95, 4.05); -0.4 for (-0.45, -0.35]; 0.0 for (-0.05, 0.05)
    four = P(4.0)
    assert four.contains(Fraction("3.95")) and not four.contains(Fraction("4.05"))
    minus = P(-0.4)
    assert minus.contains(Fraction("-0.35")) and not minus.contains(Fraction("-0.45"))
    zero = P(0.0)
    assert zero.contains(Fraction("0.049")) and not zero.contains(Fraction("0.05"))
    assert not zero.contains(Fraction("-0.05"))


# ----------------------------------------------------------------------------- GRIM
def test_grim_hand_worked():
    # 5.19, n = 28: sum in [5.185 x 28, 5.195 x 28) = [145.18, 145.46): no whole number
    assert grim(P(5.19, 2), 28).verdict == INCONSISTENT
    # 5.18, n = 28: [144.9, 145.18) holds 145, and 145/28 = 5.1786 prints 5.18
    assert grim_sums(P(5.18, 2), 28) == [145]
    assert grim(P(5.18, 2), 28).verdict == CONSISTENT
    # negative: -0.4, n = 7: (-3.15, -2.45] holds -3; -3/7 = -0.4286
    assert grim_sums(P(-0.4), 7) == [-3]
    # n >= 10 at one decimal: the window is n x 0.1 >= 1 wide, GRIM cannot fail
    # 6.2 x 31: [190.65, 193.75) holds 191, 192, 193
    assert grim_sums(P(6.2), 31) == [191, 192, 193]


def test_grim_exact_tie_and_granularity():
    # 7.7, n = 8: [61.2, 62) holds no whole number; 62/8 = 7.75 prints 7.8 (half away
    # from zero), so only truncation would give 7.7: inconsistent, and the tie is named
    result = grim(P(7.7), 8)
    assert result.verdict == INCONSISTENT and "62/8 = 7.75 is an exact tie" in result.arithmetic
    # 4.8, n = 8: 38/8 = 4.75 is a tie that rounds away from zero to 4.8: consistent
    assert grim_sums(P(4.8), 8) == [38]
    # with half-point scores 61.5/8 = 7.6875 prints 7.7
    assert grim_sums(P(7.7), 8, Fraction(1, 2)) == [Fraction(123, 2)]


def test_grim_failure_on_imputable_scale_says_so():
    # the same failing mean on a 7-item subscale the paper imputes: still inconsistent,
    # but the arithmetic carries the caveat, with the imputed score's step (1/6)
    result = grim_for_scale(P(7.7), 8, Fraction(1), imputable_items=7)
    assert result.verdict == INCONSISTENT
    assert "inconsistent unless an imputed score is present" in result.arithmetic
    assert "x 7/6" in result.arithmetic
    ok = grim_for_scale(P(6.8), 31, Fraction(1), imputable_items=7)
    assert ok.verdict == CONSISTENT and "premise" in ok.arithmetic


# ----------------------------------------------------------------------------- GRIMMER
def test_grimmer_hand_worked():
    # mean 3.00, n = 5 -> S = 15 (odd), so Q = sum x^2 must be odd.
    # SD 0.87: Q = S^2/n + (n-1) SD^2 in [45 + 4 x 0.865^2, 45 + 4 x 0.875^2)
    #        = [47.99, 48.06): only 48, even -> inconsistent
    assert grimmer(P(3.00, 2), P(0.87, 2), 5).verdict == INCONSISTENT
    # SD 1.00: Q in [45 + 3.9601, 45 + 4.0401) -> 49, odd -> consistent (2, 2, 3, 4, 4)
    assert grimmer(P(3.00, 2), P(1.00, 2), 5).verdict == CONSISTENT
    assert audit.grimmer_pairs(P(3.00, 2), P(1.00, 2), 5) == {15: [49]}
    # SD 0.10 with S = 16, n = 5: the most even vector (3, 3, 3, 3, 4) has Q = 52,
    # SD = sqrt((52 - 51.2)/4) = 0.447 > 0.10 -> inconsistent
    assert audit.min_sum_of_squares(16, 5) == 52
    assert grimmer(P(3.20, 2), P(0.10, 2), 5).verdict == INCONSISTENT
    # no GRIM sum -> GRIMMER has nothing to test
    assert grimmer(P(7.7), P(2.3), 8).verdict == NOT_CHECKABLE


def _printed_mean_sd(values, decimals=2):
    v = np.asarray(values, dtype=float)
    return (
        round_half_up(float(Fraction(int(v.sum()), len(v))), decimals),
        round_half_up(float(v.std(ddof=1)), decimals),
    )


@pytest.mark.parametrize("n", [4, 5, 6])
def test_grimmer_never_rejects_an_attainable_sample(n):
    # brute force: every multiset of n values on 1..5; each printed (mean, SD) it
    # produces must pass GRIM, GRIMMER and the range bound (necessary conditions)
    attainable = {_printed_mean_sd(c) for c in combinations_with_replacement(range(1, 6), n)}
    for mean, sd in attainable:
        assert grimmer(P(mean, 2), P(sd, 2), n).verdict == CONSISTENT, (mean, sd)
        assert sd_within_range_bound(P(mean, 2), P(sd, 2), n, Fraction(1), Fraction(5)).verdict == CONSISTENT
    # and the test is not vacuous: on a grid of SDs some are rejected, all unattainable
    rejected = [
        (3.0, s / 100) for s in range(1, 200) if grimmer(P(3.0, 2), P(s / 100, 2), n).verdict == INCONSISTENT
    ]
    assert rejected and not set(rejected) & attainable


def _no_tie(mean: float, n: int, prec: int) -> bool:
    """No whole k puts k/n exactly on a rounding boundary of ``mean`` (pysprite's
    np.round rounds ties to even, the paper half away from zero)."""
    half = Fraction(1, 2 * 10**prec)
    m = Fraction(str(mean))
    return all((edge * n).denominator != 1 for edge in (m - half, m + half))


def test_grim_agrees_with_pysprite():
    from pysprite import pysprite as ps

    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in range(2, 31):
            for hundredths in range(100, 301):
                mean = hundredths / 100
                if not _no_tie(mean, n, 2):
                    continue
                mine = grim(P(mean, 2), n).verdict == CONSISTENT
                assert mine == bool(ps.grim(n, mean, 2)), (n, mean)
                checked += 1
    assert checked > 5000


def _sprite_finds(n, mean, sd, max_iter):
    """True if pysprite's SPRITE returns a sample that really prints as (mean, sd)."""
    from pysprite import Sprite

    try:
        result, sample, _ = Sprite(n, mean, sd, 2, 2, 1, 7).find_possible_distribution(max_iter=max_iter)
    except ValueError:  # pysprite's own GRIM refused the mean
        return False
    except BaseException as exc:  # pysprite raises BaseException at the maximum SD
        if isinstance(exc, KeyboardInterrupt):
            raise
        return False
    # its start may take a sum just outside the mean's window (mean 3.00, n 5:
    # floor(2.995 x 5) = 14, mean 2.8), so only a sample printing as the target counts
    return result == "Success" and _printed_mean_sd(sample) == (mean, sd)


def test_grimmer_agrees_with_pysprite_sprite():
    # SPRITE (Heathers et al. 2018) builds samples for a mean, SD, n and range. Targets
    # taken from real random samples (n 5-12, scale 1-7) must pass GRIMMER, and SPRITE
    # usually finds a sample for them; SDs one or two hundredths away that GRIMMER
    # rejects must never get a SPRITE sample.
    rng = np.random.default_rng(20200411)
    np.random.seed(20200411)  # pysprite draws from numpy's global generator
    found = refused = 0
    for _ in range(40):
        n = int(rng.integers(5, 13))
        mean, sd = _printed_mean_sd(rng.integers(1, 8, n))
        assert grimmer(P(mean, 2), P(sd, 2), n).verdict == CONSISTENT, (n, mean, sd)
        found += _sprite_finds(n, mean, sd, max_iter=500)
        for step in (-0.01, 0.01, 0.02):
            other = round(sd + step, 2)
            if grimmer(P(mean, 2), P(other, 2), n).verdict == INCONSISTENT:
                refused += 1
                assert not _sprite_finds(n, mean, other, max_iter=300), (n, mean, other)
    assert found >= 15 and refused >= 40


# ----------------------------------------------------------------------------- ranges and bounds
def test_max_sd_formula():
    # two values 0 and 10: mean 5, SD = sqrt(50) = 7.071 = sqrt((10-5)(5-0) x 2/1)
    assert max_sd(Fraction(0), Fraction(10), Fraction(5), 2) == pytest.approx(math.sqrt(50))
    assert np.std([0, 10], ddof=1) == pytest.approx(max_sd(0, 10, Fraction(5), 2))


def test_mean_and_sd_against_range():
    assert mean_in_range(P(10.1), Fraction(0), Fraction(10)).verdict == INCONSISTENT
    assert mean_in_range(P(10.0), Fraction(0), Fraction(10)).verdict == CONSISTENT
    # PROMIS pain interference, printed range 6-30, mean 28.5 SD 8.3, n 31:
    # bound at m = 28.45: sqrt(1.55 x 22.45 x 31/30) = 6.00 < 8.25 -> inconsistent
    result = sd_within_range_bound(P(28.5), P(8.3), 31, Fraction(6), Fraction(30))
    assert result.verdict == INCONSISTENT and "6.00" in result.arithmetic
    # on the 8a raw range 8-40: sqrt(11.55 x 20.45 x 31/30) = 15.62 -> consistent
    raw = sd_within_range_bound(P(28.5), P(8.3), 31, Fraction(8), Fraction(40))
    assert raw.verdict == CONSISTENT


def test_median_in_iqr():
    assert median_in_iqr(P(4.4), P(0.3), P(3.0)).verdict == INCONSISTENT
    assert median_in_iqr(P(11.8), P(2.5), P(18.0)).verdict == CONSISTENT
    assert median_in_iqr(P(3.1), P(1.0), P(2.9)).verdict == INCONSISTENT
    assert median_in_iqr(P(0.8), P(1.0), P(2.9)).verdict == INCONSISTENT
    # 0.9 means [0.85, 0.95) and 1.0 means [0.95, 1.05): touching ends count as reachable
    assert median_in_iqr(P(0.9), P(1.0), P(2.9)).verdict == CONSISTENT


def test_min_sd_with_fixed_values():
    # 2.5 and 2 among 15 values with mean in [5.45, 5.55): at m = 5.45 the deviations are
    # -2.95 and -3.45: 8.7025 + 11.9025 + (-6.4)^2/13 = 23.7558; / 14 -> SD 1.3026
    least = min_sd_with_fixed([Fraction(5, 2), Fraction(2)], 15, P(5.5))
    assert least == pytest.approx(1.3026, abs=1e-4)
    rest = (15 * 5.45 - 4.5) / 13  # the other 13 all equal
    assert np.std([2.5, 2.0] + [rest] * 13, ddof=1) == pytest.approx(least)


def test_min_total_from_quartiles():
    # n = 15: Stata quartiles x(4), x(8), x(12) -> 4 x 1.5 + 4 x 3 + 4 x 4 = 34
    assert min_total_from_quartiles(15, Fraction(3, 2), Fraction(3), Fraction(4)) == 34
    # n = 4: 25 % -> (x1 + x2)/2 bounds x2; 50 % -> x3; 75 % -> x4: 0 + 1 + 2 + 3 = 6
    assert min_total_from_quartiles(4, Fraction(1), Fraction(2), Fraction(3)) == 6


# ----------------------------------------------------------------------------- Table 3 intervals
def test_ci_centred():
    # (-2.3 + 2.5)/2 = 0.1 against -0.1: 0.2 > 0.05 + 0.05 -> inconsistent
    assert ci_centred(P(-0.1), P(-2.3), P(2.5)).verdict == INCONSISTENT
    # (-2.9 + 2.0)/2 = -0.45 against -0.4: 0.05 <= 0.1 -> consistent
    assert ci_centred(P(-0.4), P(-2.9), P(2.0)).verdict == CONSISTENT
    assert ci_centred(P(-0.06, 2), P(-0.26, 2), P(0.15, 2)).verdict == CONSISTENT


def test_implied_change_sd():
    # (2.0 - (-2.9))/2 x sqrt(7) / t(0.975, 6) = 2.45 x 2.6458 / 2.4469 = 2.649
    _, sd, _ = implied_change_sd(P(-2.9), P(2.0), 7)
    assert sd == pytest.approx(2.45 * math.sqrt(7) / 2.446912, rel=1e-5)
    # 0.0 (-5.0 to 5.0), n 30, NRS 0-10: SD >= 4.95 x sqrt(30)/2.0452 = 13.26, but
    # changes in [-10, 10] with mean ~0 allow at most sqrt(10 x 10 x 30/29) = 10.17
    assert change_sd_feasible(P(0.0), P(-5.0), P(5.0), 30, Fraction(0), Fraction(10)).verdict == INCONSISTENT
    assert change_sd_feasible(P(-3.0), P(-6.2), P(0.2), 9, Fraction(0), Fraction(10)).verdict == CONSISTENT


# ----------------------------------------------------------------------------- counts
def test_percentages_and_denominators():
    assert percent_matches(15, 31, P(48, 0)).verdict == CONSISTENT  # 48.39
    assert percent_matches(15, 31, P(49, 0)).verdict == INCONSISTENT
    assert percent_matches(1, 8, P(12.5, 1)).verdict == CONSISTENT
    assert percent_matches(1, 8, P(13, 1)).verdict == INCONSISTENT  # 12.5 is not 13.0
    # 42, 53, 47 %: 8/19 = 42.1, 10/19 = 52.6, 9/19 = 47.4; no other d <= 31 fits all three
    pcts = [P(42, 0), P(53, 0), P(47, 0)]
    assert denominators_for(pcts, range(1, 32)) == [19]
    assert denominators_for(pcts, range(10, 32), [8, 10, 9]) == [19]
    # 50 % needs an even d, 33 % needs d = 3 among d <= 4: none
    assert denominators_for([P(50, 0), P(33, 0)], range(1, 5)) == []


def test_parts_and_counts_add_up():
    # 125.35 + 45.2 = 170.55 vs 161.5: off by 9.05, far beyond rounding
    assert parts_add_up([P(125.35, 2), P(45.2)], P(161.5)).verdict == INCONSISTENT
    # 5 x 4.0 + 15 x 6.7 + 10 x 4.6 = 166.5, rounding [165.0, 168.0)
    means = [P(4.0), P(6.7), P(4.6)]
    assert parts_add_up(means, P(166.0), weights=[5, 15, 10]).verdict == CONSISTENT
    assert parts_add_up(means, P(167.9), weights=[5, 15, 10]).verdict == CONSISTENT
    assert parts_add_up(means, P(161.5), weights=[5, 15, 10]).verdict == INCONSISTENT
    assert counts_add_up([16, 9, 6], 31, "marital").verdict == CONSISTENT
    assert counts_add_up([1, 3], 5, "sessions").verdict == INCONSISTENT


def test_group_size_vectors():
    # 5 groups, min 2, median 5, max 12, 26 people: 2 + b + 5 + d + 12 = 26 with
    # 2 <= b <= 5 <= d -> b + d = 7 -> only (2, 2, 5, 5, 12)
    assert group_size_vectors(5, 2, 5, 12, 26) == [(2, 2, 5, 5, 12)]
    # 27 people: b + d = 8 -> (2, 6) or (3, 5)
    assert group_size_vectors(5, 2, 5, 12, 27) == [(2, 2, 5, 6, 12), (2, 3, 5, 5, 12)]
    # at most 2 + 5 + 5 + 12 + 12 = 36 people fit these sizes
    assert group_size_vectors(5, 2, 5, 12, 37) == []


def test_nnt():
    # 1 / (0.19 - 0.10) = 11.11
    assert float(nnt(Fraction(19, 100), Fraction(1, 10))) == pytest.approx(100 / 9)


# ----------------------------------------------------------------------------- the real values
def _verdicts(df, key):
    return dict(zip(df.loc[df["key"] == key, "check"], df.loc[df["key"] == key, "verdict"]))


def test_audit_table_shape(audited, published):
    assert list(audited.columns) == ["key", "check", "arithmetic", "verdict", "parts"]
    assert set(audited["verdict"]) <= set(audit.VERDICTS)
    assert not audited.duplicated(["key", "check"]).any()
    for key in audited["key"].unique():  # every key names a value in the yaml
        audit.resolve(published, key)


def test_findings_on_published_values(audited):
    found = audit.inconsistencies(audited)
    expected = {
        # median 4.4 years lies above the upper quartile 3.0
        "table2_baseline.years_looking_for_work.median_iqr",
        # SD 8.3 exceeds the 6.00 possible on the printed 6-30 with mean 28.5
        "table2_baseline.promis_pain_interference.mean_sd",
        "instruments.promis_pain_interference",
        # CI midpoints 0.1 vs -0.1 and -6.5 vs -6.9
        "table3_change.work_ability[1]",
        "table3_change.eq5d_vas[2]",
        # 62/8 = 7.75 prints 7.8; 61/8 = 7.625 prints 7.6; nothing prints 7.7
        "table4_work_outcomes.rtw_self_efficacy.mean_sd",
        # 125.35 + 45.2 = 170.55 and 5 x 4.0 + 15 x 6.7 + 10 x 4.6 = 166.5, not 161.5
        "case_management.total_hours",
        # the same sum doubts the case managers' mean hours
        "case_management.by_case_manager",
        # 1 Birmingham + 3 Coventry = 4 group sessions, not 5
        "work_preparation.group_sessions_by_site",
        # 16.7 h/week above placements of up to 16 h/week
        "placements.hours_per_week.range",
        # with 2.5 and 2 weeks among 15 and mean 5.5, the SD is at least 1.30, not 1.0
        "placements.weeks_attended.mean_sd",
    }
    assert set(found) == expected
    assert "170.55" in found["case_management.total_hours"]
    assert "166.5" in found["case_management.total_hours"]


def test_findings_name_the_printed_numbers_they_doubt(audited):
    found = audit.findings(audited)
    parts = {key: {p for f in fs for p in f.parts} for key, fs in found.items()}
    # the estimate that is not the centre of its interval; the interval itself stands
    assert parts["table3_change.work_ability[1]"] == {"estimate"}
    # no mean of 9 whole-number VAS changes lies at the centre of -24.8 to 11.8 (-59/9 and
    # -58/9 fall either side of [-6.55, -6.45]): the interval is in doubt, not the estimate
    assert parts["table3_change.eq5d_vas[2]"] == {"lower", "upper"}
    assert "-59/9" in "; ".join(f.arithmetic for f in found["table3_change.eq5d_vas[2]"])
    assert parts["table2_baseline.years_looking_for_work.median_iqr"] == {"median"}
    assert parts["table4_work_outcomes.rtw_self_efficacy.mean_sd"] == {"mean"}
    assert parts["placements.hours_per_week.range"] == {"max"}
    assert parts["case_management.by_case_manager"] == {"mean_hours"}
    assert parts["case_management.total_hours"] == set()  # the whole value


def test_specific_verdicts_on_published_values(audited):
    pi = _verdicts(audited, "table2_baseline.promis_pain_interference.mean_sd")
    assert pi["SD within maximum for range, mean and n"] == INCONSISTENT
    assert pi["SD within maximum for the 8a raw-sum range 8-40 (8 items 1-5)"] == CONSISTENT
    assert _verdicts(audited, "table4_work_outcomes.wrfq.mean_sd")["GRIM mean"] == NOT_CHECKABLE
    # n = 31 at one decimal: every Table 2 GRIM passes
    t2_grim = audited[audited["key"].str.startswith("table2") & (audited["check"] == "GRIM mean")]
    assert set(t2_grim["verdict"]) == {CONSISTENT, NOT_CHECKABLE}
    # pain areas are multiple response: checked against people, not flagged
    assert _verdicts(audited, "table2_baseline.pain_areas") == {
        "multiple-response counts vs people": CONSISTENT
    }
    follow = audited[audited["key"] == "follow_up_response_rate_pct"]
    assert follow["verdict"].item() == CONSISTENT and ": [19]" in follow["arithmetic"].item()
    assert _verdicts(audited, "work_preparation.group_size") == {
        "group sizes add to those attending": CONSISTENT
    }
    assert _verdicts(audited, "economics.number_needed_to_treat") == {
        "NNT = 1 / (risk difference)": CONSISTENT
    }


def test_config_decides_which_scores_may_be_imputed(published, config):
    # with RTW self-efficacy made imputable (its instrument's declared missing-item rule),
    # its GRIM failure must carry the caveat
    cfg = yaml.safe_load(yaml.safe_dump(config))
    cfg["instruments"]["rtw_self_efficacy"]["parameters"]["missing_items"] = {
        "max_missing": 1,
        "method": "mean_of_answered",
    }
    df = paper_audit.audit_published(published, cfg)
    row = df[(df["key"] == "table4_work_outcomes.rtw_self_efficacy.mean_sd") & (df["check"] == "GRIM mean")]
    assert row["verdict"].item() == INCONSISTENT
    assert "unless an imputed score is present" in row["arithmetic"].item()


def test_write_audit_round_trip(audited, tmp_path):
    path = tmp_path / "audit.csv"
    audit.write_audit(audited, path)
    back = pd.read_csv(path)
    assert list(back.columns) == ["key", "check", "arithmetic", "verdict", "parts"]
    assert len(back) == len(audited)
    assert (back["verdict"] == audited["verdict"]).all()
