"""Named values, the narrative templates that print them, and the comparison built on them
(issue 14 points 2, 5, 6 and 9), on small hand-made inputs."""

from __future__ import annotations

import pandas as pd
import pytest

from feasibility.audit import COLUMNS as AUDIT_COLUMNS
from feasibility.narrative import NarrativeError, render, render_value
from feasibility.reproduction import compare
from feasibility.stats import exact_mean_sd, exact_sum
from feasibility import publication
from feasibility.values import build_values, cell_values, registry

# the paper's own way of printing and judging its published values (its study package)
PAPER = publication.named("feasibility.studies.pilot2020")

MEAN_SD = {
    "kind": "mean_sd",
    "parts": {"mean": 52.45, "sd": 32.94, "n": 15},
    "decimals": {"mean": 1, "sd": 1, "n": 0},
    "published": {"placements.total_hours.mean_sd": ["mean", "sd"]},
    "paper": {"placements.total_hours.mean_sd": [52.5, 32.9]},
}
TOTAL = {
    "kind": "total",
    "parts": {"value": 170.55, "n": 31},
    "decimals": {"value": 1, "n": 0},
    "published": {"case_management.total_hours": ["value"]},
    "paper": {"case_management.total_hours": 161.5},
}
SHARE = {
    "kind": "count",
    "parts": {"count": 22, "denominator": 31, "pct": 100 * 22 / 31},
    "decimals": {"count": 0, "denominator": 0, "pct": 0},
    "published": {"flow.pain_two_or_more_areas": ["count", "pct"]},
    "paper": {"flow.pain_two_or_more_areas": [22, 71]},
}
VALUES = {
    "placements.total_hours.mean_sd": MEAN_SD,
    "case_management.total_hours": TOTAL,
    "flow.pain_two_or_more_areas": SHARE,
}


# ----------------------------------------------------------------------------- 14.9 exact sums
def test_minutes_are_summed_exactly_and_rounded_half_up_once():
    # 10,233 minutes = 170.55 h exactly; a float sum of 31 hour values can land on 170.5499...
    assert exact_sum([10_000, 233]) / 60 == 170.55
    hours = pd.Series([m / 60 for m in [341] * 30 + [10_233 - 341 * 30]])
    assert float(hours.sum()) != 170.55  # what the floating-point sum gives
    assert exact_sum(hours) == 170.55  # the metrics' and the expressions' sums
    assert render("{case_management.total_hours.value}", VALUES, "t").startswith("170.6")


def test_means_of_recorded_decimals_are_exact():
    # 52.45 is a tie at one decimal: the exact mean prints 52.5 (half up)
    mean, sd, n = exact_mean_sd([52.4, 52.5, 52.45, 52.45])
    assert (mean, n) == (52.45, 4)
    assert render("{placements.total_hours.mean_sd.mean}", VALUES, "t") == "52.5"


# ----------------------------------------------------------------------------- 14.6 narrative
def test_placeholders_print_the_value_its_n_and_the_papers_value_where_they_differ():
    text = render(
        "Hours {placements.total_hours.mean_sd}; two or more areas "
        "{flow.pain_two_or_more_areas}; in all {case_management.total_hours}.",
        VALUES,
        "report.narrative.delivery",
    )
    assert text == (
        "Hours 52.5 (SD 32.9; n = 15); two or more areas 22 of 31 (71%); in all 170.6 (paper: 161.5)."
    )
    assert render_value(SHARE, "pct") == "71%"
    assert render_value(TOTAL, "n") == "31"


def test_an_unknown_placeholder_names_the_template_and_the_placeholder():
    with pytest.raises(
        NarrativeError,
        match=r"report\.narrative\.delivery: unknown value "
        r"\{placements\.total_hours\.mean_sd\.median\}.*"
        r"has the parts mean, sd, n",
    ):
        render("x {placements.total_hours.mean_sd.median}", VALUES, "report.narrative.delivery")
    with pytest.raises(NarrativeError, match=r"report\.narrative\.safety: unknown value \{no\.such\}"):
        render("{no.such}", VALUES, "report.narrative.safety")
    with pytest.raises(NarrativeError, match="is not a placeholder"):
        render("{Total hours}", VALUES, "report.narrative.safety")
    with pytest.raises(NarrativeError, match="unbalanced"):
        render("a } b", VALUES, "report.narrative.safety")


def test_the_narrative_follows_the_data():
    changed = {
        **VALUES,
        "flow.pain_two_or_more_areas": {
            **SHARE,
            "parts": {"count": 20, "denominator": 31, "pct": 100 * 20 / 31},
        },
    }
    assert (
        render("{flow.pain_two_or_more_areas}", changed, "t", lang=PAPER)
        == "20 of 31 (65%) (paper: 22 (71%))"
    )


# ----------------------------------------------------------------------------- 14.5 one definition
def cells(rows):
    cols = [
        "table",
        "row_group",
        "row_label",
        "column",
        "statistic",
        "estimate",
        "sd",
        "lower",
        "upper",
        "n",
        "denominator",
        "decimals",
        "text",
        "published_key",
    ]
    return pd.DataFrame(rows, columns=cols)


def test_a_published_key_claimed_twice_is_an_error():
    published = {"flow": {"screened": 117}}
    twice = cells(
        [
            (
                "feasibility",
                "A",
                "Screened",
                "value",
                "count",
                117,
                None,
                None,
                None,
                117,
                None,
                0,
                "117",
                "flow.screened",
            ),
            (
                "table2",
                "B",
                "Screened again",
                "overall",
                "count",
                117,
                None,
                None,
                None,
                117,
                None,
                0,
                "117",
                "flow.screened",
            ),
        ]
    )
    found = cell_values(twice, published)
    found[1].name = "another name"
    with pytest.raises(ValueError, match="published key 'flow.screened' has two definitions"):
        registry(found)
    with pytest.raises(ValueError, match="two values are named 'flow.screened'"):
        registry(cell_values(twice, published))


def test_a_cell_declared_to_give_another_key_claims_it_once():
    """Table 4 prints the n of a block once: the study file's values section says which
    cell gives it (``cell: true``); a second claim is an error."""
    published = {
        "table4_work_outcomes": {
            "satisfaction_with_placement": {"n": 8, "very_satisfied": [4, 50], "satisfied": [4, 50]}
        }
    }
    rows = [
        (
            "table4",
            "Satisfaction",
            label,
            "week6",
            "n_pct",
            50.0,
            None,
            None,
            None,
            4,
            8,
            1,
            "4 (50)",
            f"table4_work_outcomes.satisfaction_with_placement.{key}",
        )
        for label, key in (("Very satisfied", "very_satisfied"), ("Satisfied", "satisfied"))
    ]
    n_key = "table4_work_outcomes.satisfaction_with_placement.n"
    config = {
        "values": {
            "table4_work_outcomes.satisfaction_with_placement.very_satisfied": {
                "cell": True,
                "published": {n_key: ["denominator"]},
            }
        }
    }
    found = build_values(None, config, cells(rows), published)
    owners = [
        name
        for name, v in found.items()
        if "table4_work_outcomes.satisfaction_with_placement.n" in v.published
    ]
    assert owners == ["table4_work_outcomes.satisfaction_with_placement.very_satisfied"]
    assert found[owners[0]].published[n_key] == ["denominator"]
    assert found[owners[0]].paper[n_key] == 8
    config["values"]["table4_work_outcomes.satisfaction_with_placement.satisfied"] = {
        "cell": True,
        "published": {n_key: ["denominator"]},
    }
    with pytest.raises(ValueError, match=f"published key '{n_key}' has two definitions"):
        build_values(None, config, cells(rows), published)
    with pytest.raises(ValueError, match="no table cell carries that key"):
        build_values(None, {"values": {"no.such.cell": {"cell": True}}}, cells(rows), published)


# ----------------------------------------------------------------------------- 14.2 statuses
def audit(*rows):
    return pd.DataFrame([dict(zip(AUDIT_COLUMNS, r)) for r in rows], columns=AUDIT_COLUMNS)


def change_value(estimate, lower, upper, n):
    return {
        "t": {
            "kind": "change_ci",
            "parts": {"estimate": estimate, "lower": lower, "upper": upper, "n": n},
            "decimals": {"estimate": 1, "lower": 1, "upper": 1, "n": 0},
            "published": {"table3_change.eq5d_vas[0]": ["estimate", "lower", "upper", "n"]},
        }
    }


PUBLISHED = {"table3_change": {"eq5d_vas": [[-6.9, -24.8, 11.8, 9]]}}
DOUBT_ESTIMATE = audit(
    (
        "table3_change.eq5d_vas[0]",
        "95% CI centred on estimate (6 weeks)",
        "(-24.8 + 11.8)/2 = -6.5 vs estimate -6.9",
        "inconsistent",
        "estimate",
    )
)


def test_the_consistent_parts_of_a_flagged_value_are_still_compared():
    ok = compare(PUBLISHED, change_value(-6.5, -24.8, 11.8, 9), DOUBT_ESTIMATE, lang=PAPER).iloc[0]
    assert ok["status"] == "published value inconsistent"
    assert "estimate cannot hold" in ok["reason"] and "lower limit, upper limit and n match" in ok["reason"]
    assert ok["published"] == "−6.9 (−24.8 to 11.8), n = 9"
    assert ok["reproduced"] == "−6.5 (−24.8 to 11.8), n = 9"
    # the interval drifts: that is not hidden behind the estimate's audit finding
    drift = compare(PUBLISHED, change_value(-6.6, -24.9, 11.7, 9), DOUBT_ESTIMATE, lang=PAPER).iloc[0]
    assert drift["status"] == "differs"
    assert "lower limit and upper limit differ" in drift["reason"]
    assert drift["audit_finding"].startswith("95% CI centred on estimate")


def test_a_match_is_the_same_value_at_the_printed_precision():
    row = compare(PUBLISHED, change_value(-6.94, -24.75, 11.84, 9), audit(), lang=PAPER).iloc[0]
    assert (row["status"], row["reason"]) == ("match", "same definition and method; equal as printed")
    row = compare(PUBLISHED, change_value(-6.96, -24.8, 11.8, 9), audit(), lang=PAPER).iloc[0]
    assert row["status"] == "differs" and row["reason"] == "the estimate differs"


def test_a_value_computed_by_another_method_is_never_a_match():
    values = change_value(-6.9, -24.8, 11.8, 9)
    values["t"]["method"] = {
        "used": "the England 5L value set (Devlin et al. 2018)",
        "paper": "the NICE DSU mapping",
        "same_as_paper": False,
    }
    row = compare(PUBLISHED, values, audit(), lang=PAPER).iloc[0]
    assert row["status"] == "computed by another method"
    assert "England 5L value set" in row["reason"] and "NICE DSU" in row["reason"]
    assert "agree at the printed precision" in row["reason"]


def test_context_and_withheld_values():
    published = {"process_evaluation": {"case_managers_interviewed": 3}, "flow": {"screened": 117}}
    values = {
        "s": {
            "kind": "total",
            "parts": {"value": None, "n": None},
            "decimals": {},
            "published": {"flow.screened": ["value"]},
            "suppressed": True,
        }
    }
    out = compare(published, values, audit(), lang=PAPER).set_index("key")
    assert out.loc["process_evaluation.case_managers_interviewed", "status"] == "not a data value"
    assert out.loc["flow.screened", "status"] == "suppressed (small-cell rule)"
    assert out.loc["flow.screened", "reproduced"] == ""
