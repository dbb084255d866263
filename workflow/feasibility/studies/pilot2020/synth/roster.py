"""Who the 31 synthetic participants are: their path through the study.

Every role below is read from the paper (Results, Fig. 1, Tables 3-6); the
participant numbers the paper names keep the roles it gives them:

* PP01 attended work preparation and was not placed ("I enjoyed all the groups ...
  I didn't even get a placement", Table 6 quote 15);
* PP20 was placed (absorbed into an IT audits department, still on placement almost
  three weeks in, quote 14);
* PP13 was offered a placement in Birmingham, too far from home in Coventry, and not
  placed (quote 16);
* PP02, PP19, PP22 and PP30 left their placements early (paid employment after two and a
  half weeks; personal difficulties; not happy in the placement; health reasons);
* PP12 obtained full-time employment after work preparation, before a placement (and
  before case management started); PP09's employment was learned from a case manager;
  PP03 left on the first half-day of work preparation and later gained employment;
* PP02 and PP12 did not return the final follow-up; PP11 reported accepting an offer;
  PP21 reported an offer at six months, not yet started (and started later).

``tests/test_synth_facts.py`` checks these facts in the raw exports. Roles the paper
does not tie to a number are given to the remaining numbers in a fixed order.
"""

from __future__ import annotations

IDS = [f"PP{i:02d}" for i in range(1, 32)]

# Excluded or withdrawn after recruitment, before work preparation (Results).
INELIGIBLE = {"PP05": 1, "PP14": 1}  # sc_reason 1: off sick rather than unemployed
WITHDREW_BEFORE_WP = {"PP07": 2, "PP25": 3}  # dental operations; did not want to participate
WITHDREW_AT_WP = {"PP03": 4}  # left on the first day of work preparation
LANGUAGE = ["PP16", "PP27"]  # unable to be placed: language/learning
DISENGAGED = {"PP12": 7, "PP06": 6, "PP18": 6, "PP24": 9}  # offered a placement, disengaged
DIED = ["PP29"]
NO_SUITABLE = ["PP01", "PP09", "PP13", "PP26"]  # not placed, stay in follow-up
PLACED = [
    "PP20",
    "PP02",
    "PP04",
    "PP08",
    "PP10",
    "PP11",
    "PP15",
    "PP17",
    "PP19",
    "PP21",
    "PP22",
    "PP23",
    "PP28",
    "PP30",
    "PP31",
]
OFFERED_NOT_TAKEN = ["PP13"]  # offered a Birmingham placement: too far from Coventry
ROLE_TITLES = {"PP20": "IT audits"}
NOT_COMPLETED = {"PP02": 1, "PP19": 2, "PP22": 3, "PP30": 4}  # plc_noncompletion_reason
WEEKS_NOT_COMPLETED = {"PP02": 2.5, "PP19": 4.0, "PP22": 5.0, "PP30": 5.0}

DROPOUTS = (
    list(INELIGIBLE) + list(WITHDREW_BEFORE_WP) + list(WITHDREW_AT_WP) + LANGUAGE + list(DISENGAGED) + DIED
)
ATTENDED_WP = [p for p in IDS if p not in INELIGIBLE and p not in WITHDREW_BEFORE_WP]
NO_CASE_MANAGEMENT = ["PP12"]  # obtained employment before case management

# Follow-up returns (19 not dropped out: 8, 10 and 9 returned; Table 3 n).
RESPONDERS = {
    "week6": ["PP04", "PP08", "PP10", "PP11", "PP15", "PP17", "PP20", "PP22"],
    "week14": ["PP01", "PP04", "PP08", "PP11", "PP13", "PP15", "PP19", "PP20", "PP23", "PP31"],
    "month6": ["PP04", "PP10", "PP11", "PP15", "PP20", "PP21", "PP23", "PP26", "PP28"],
}
NRS_WORK_BLANK_WEEK6 = ["PP22"]  # confidence and ability left blank: n = 7 at 6 weeks
UNSCORABLE_WEEK14 = ["PP01"]  # pages 2-4 left blank: HADS, WEMWBS, PROMIS n = 9
WRFQ_NOT_APPLICABLE = ["PP17", "PP22"]  # > 20 % "does not apply": WRFQ n = 6
EMPLOYMENT_BLANK_WEEK14 = ["PP13", "PP19"]  # employment questions unanswered: n = 8
OFFERS_WEEK14 = {"PP20": (2, 0, 0)}  # one person, two offers, none accepted
OFFERS_MONTH6 = {"PP11": (1, 1, 1), "PP21": (1, 1, 0), "PP28": (1, 0, 0)}
# Employment learned outside the questionnaires (Results): (participant, in study period?)
EMPLOYMENT_REPORTED = {"PP03": False, "PP09": True, "PP21": False}

# Not attending work preparation, so free of its calendar: the first recruit (September
# 2017, from an NHS pain clinic) and the last (August 2018), the paper's recruitment window.
FIRST_RECRUIT, LAST_RECRUIT = "PP05", "PP25"

BIRMINGHAM = ["PP05", "PP12"]  # the other four Birmingham residents are chosen by case-management hours
NOT_BIRMINGHAM = ["PP06", "PP13", "PP18"]  # wanted a placement in Coventry (Results; quote 16)
N_BIRMINGHAM = 6


def role(pid: str) -> str:
    if pid in INELIGIBLE:
        return "ineligible"
    if pid in WITHDREW_BEFORE_WP:
        return "withdrew_before_wp"
    if pid in WITHDREW_AT_WP:
        return "withdrew_at_wp"
    if pid in LANGUAGE:
        return "language"
    if pid in DISENGAGED:
        return "disengaged"
    if pid in DIED:
        return "died"
    if pid in NO_SUITABLE:
        return "no_suitable"
    return "placed"
