"""A trial-sized synthetic cohort for benchmarks: schema-valid, not calibrated.

``generate_scaled(n, sites, seed, out)`` writes the paper's REDCap project (records
export, data dictionary, instrument designations, events, project XML; ``writer.py``)
for ``n`` participants recruited at ``sites`` sites over a three-year recruitment
calendar. The numbers follow no published value; what holds is every rule the paper's
study file declares (``validation`` in ``config/config.yaml``): codes within
their scales, required fields of complete forms, screening → consent → baseline →
work preparation → placement → follow-ups at 6 weeks, 14 weeks and 6 months in date
order, and nothing returned after a status change that allows no further data.

Everyone is drawn at once with numpy (no loop over participants), each export from
its own random stream spawned from ``seed``, so that the files are the same on every
run and one group of forms' draws do not depend on another's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from .. import crf
from .writer import write_project

RECRUITMENT_START = int(np.datetime64("2021-01-04", "D").astype(np.int64))  # a day number
RECRUITMENT_END = RECRUITMENT_START + 3 * 365
SITE_OPENING_DAYS = 365  # sites open one after another over the first year
SOURCE_START_DAYS = (0, 90, 120, 240)  # NHS clinics first, as in the study
SOURCE_SHARE = (0.35, 0.30, 0.20, 0.15)
SCREENED_NOT_RECRUITED_PER_RECRUIT = 1.5
FOLLOW_UP_DAYS = {"week6_arm_1": 42, "week14_arm_1": 98, "month6_arm_1": 182}
RETURN_SHARE = {"week6_arm_1": 0.75, "week14_arm_1": 0.70, "month6_arm_1": 0.65}

# Each participant's path (roster.py names the same roles for the shipped 31).
ROLES = (
    "placed",
    "no_suitable",
    "ineligible",
    "withdrew_before_wp",
    "withdrew_at_wp",
    "language",
    "disengaged",
    "died",
)
ROLE_SHARE = (0.643, 0.18, 0.03, 0.05, 0.02, 0.02, 0.05, 0.007)
LOST_SHARE, EMPLOYED_SHARE = 0.06, 0.08  # of those still in the study after placement

PLACEMENT_ROLES = (
    "Administrative assistant",
    "Library assistant",
    "Reception",
    "Warehouse assistant",
    "Gardening team",
    "IT support",
    "Catering assistant",
    "Data entry",
    "Customer service",
    "Porter, outpatients",
)
JOB_TITLES = (
    "Shop assistant",
    "Administrator",
    "Care assistant",
    "Cleaner",
    "Driver",
    "Call centre adviser",
    "Kitchen porter",
    "Warehouse operative",
)
STATUS_DETAILS = {
    1: "Found at the case-manager assessment to be on sick leave from a job.",
    2: "Phoned the study team after baseline.",
    4: "Left on the first day of the session.",
    6: "Wanted a placement nearer home, in another area.",
    7: "Case manager heard that the participant had started paid work.",
    9: "No reason given.",
}
AE_DESCRIPTIONS = (
    "New health problem, unrelated to the placement.",
    "Increased pain after a physical task.",
    "Minor injury at home.",
    "Short hospital stay, unrelated to the intervention.",
)


def scaled_sites(k: int) -> tuple[tuple[int, str], ...]:
    """The study's two sites, then ``Site 03``, ``Site 04``, ... up to ``k`` sites."""
    if k < 1:
        raise ValueError("a cohort needs at least one site")
    return tuple((c, label) for c, label in crf.SITES[:k]) + tuple(
        (c, f"Site {c:02d}") for c in range(len(crf.SITES) + 1, k + 1)
    )


# --------------------------------------------------------------------------- helpers
def _dates(days: np.ndarray) -> np.ndarray:
    """Day numbers (float, NaN for none) as dates."""
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    known = ~np.isnan(days)
    out[known] = days[known].astype(np.int64).astype("datetime64[D]")
    return out


def _days(rng, lo, hi, size) -> np.ndarray:
    """Whole days, uniformly from lo to hi inclusive (hi may be an array)."""
    return np.floor(rng.uniform(0, 1, size) * (np.asarray(hi) - lo + 1)) + lo


def _day_numbers(dates) -> np.ndarray:
    """Dates as day numbers (float, NaN for none)."""
    days = np.asarray(dates, dtype="datetime64[D]")
    return np.where(np.isnat(days), np.nan, days.astype(np.int64).astype(float))


def _site_opens(site: np.ndarray, sites: int) -> np.ndarray:
    """Day each site (1..sites) opened to recruitment."""
    return RECRUITMENT_START + (site - 1) * (SITE_OPENING_DAYS // sites)


def _source_starts(source: np.ndarray) -> np.ndarray:
    return RECRUITMENT_START + np.asarray(SOURCE_START_DAYS)[source - 1]


def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(2, len(str(n)))
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)


def _codes(rng, codes, size, p=None) -> np.ndarray:
    return rng.choice(np.asarray(codes, dtype=float), size=size, p=p)


def _text(rng, options, size) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), size)]


def _blank(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``values`` where ``keep``, else missing (NaN, or None for text)."""
    if values.dtype == object:
        return np.where(keep, values, None)
    if np.issubdtype(values.dtype, np.datetime64):
        return np.where(keep, values, np.datetime64("NaT"))
    return np.where(keep, values, np.nan)


def _items(
    rng,
    level: np.ndarray,
    lo: int,
    hi: int,
    k: int,
    missing: float = 0.0,
    extra: tuple[int, float] | None = None,
) -> np.ndarray:
    """``k`` answers per person on a lo..hi scale around each person's ``level``
    (-1 low to +1 high); a share ``missing`` left blank; ``extra`` = (code, share)
    for an out-of-scale answer such as WRFQ's 9, does not apply."""
    m = len(level)
    centre = (lo + hi) / 2 + (hi - lo) / 2 * np.clip(level, -1, 1)[:, None] * 0.7
    x = np.clip(np.rint(centre + rng.normal(0, (hi - lo) / 4, (m, k))), lo, hi)
    if extra is not None:
        x[rng.random((m, k)) < extra[1]] = extra[0]
    x[rng.random((m, k)) < missing] = np.nan
    return x


def _repeat(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row → participant index and instance number (1, 2, ...) for ``counts`` rows each."""
    who = np.repeat(np.arange(len(counts)), counts)
    first_row = np.cumsum(counts) - counts
    return who, np.arange(len(who)) - first_row[who] + 1


# ------------------------------------------------------------------------ participants
def participant_paths(n: int, sites: int, rng) -> pd.DataFrame:
    """One row per participant, in order of consent: site, source, dates and path
    (role) through recruitment, work preparation, placement and the status log."""
    weight = rng.uniform(0.5, 1.5, sites)  # some sites recruit more
    site = rng.choice(np.arange(1, sites + 1), size=n, p=weight / weight.sum())
    source = rng.choice(np.arange(1, 5), size=n, p=SOURCE_SHARE)
    earliest = np.maximum(_site_opens(site, sites), _source_starts(source)) + 30
    consent = _days(rng, earliest, RECRUITMENT_END, n)
    order = np.argsort(consent, kind="stable")
    p = pd.DataFrame({"site": site[order], "source": source[order], "consent": consent[order]})
    p["screened"] = p["consent"] - _days(rng, 3, 28, n)
    p["burden"] = np.clip(rng.normal(0.1, 0.45, n), -1, 1)  # pain and distress, -1 to +1
    p["role"] = rng.choice(np.array(ROLES, dtype=object), size=n, p=ROLE_SHARE)
    role = p["role"].to_numpy()

    attended = ~np.isin(role, ("ineligible", "withdrew_before_wp"))
    p["attended"] = attended
    p["wp_date"] = np.where(attended, p["consent"] + _days(rng, 14, 70, n), np.nan)
    placed = role == "placed"
    p["placed"] = placed
    p["decision"] = p["wp_date"] + _days(rng, 7, 45, n)
    p["plc_start"] = np.where(placed, p["decision"] + _days(rng, 3, 21, n), np.nan)
    completed = placed & (rng.random(n) < 0.85)
    weeks = np.where(completed, 6.0, rng.integers(1, 12, n) / 2)
    p["plc_weeks"] = np.where(placed, weeks, np.nan)
    p["plc_completed"] = completed
    p["plc_end"] = p["plc_start"] + np.maximum(np.rint(weeks * 7) - 3, 0)

    # status changes that end data collection (sc_further_data = 0)
    stop = np.full(n, np.nan)
    before_wp = p["consent"] + _days(rng, 7, 40, n)
    stop = np.where(np.isin(role, ("ineligible", "withdrew_before_wp")), before_wp, stop)
    stop = np.where(role == "withdrew_at_wp", p["wp_date"], stop)
    stop = np.where(role == "language", p["decision"], stop)
    stop = np.where(role == "disengaged", p["decision"] + _days(rng, 0, 20, n), stop)
    stop = np.where(role == "died", p["wp_date"] + _days(rng, 20, 50, n), stop)
    # those left without a placement decision are decided on the day they leave
    p["decision"] = np.where(
        np.isin(role, ("ineligible", "withdrew_before_wp", "withdrew_at_wp", "died")), stop, p["decision"]
    )
    p["start"] = np.where(placed, p["plc_start"], p["decision"])  # Table 3's start date
    in_study = np.isin(role, ("placed", "no_suitable"))
    p["lost"] = in_study & (rng.random(n) < LOST_SHARE)
    stop = np.where(p["lost"], p["start"] + _days(rng, 60, 250, n), stop)
    p["stop"] = stop
    p["employed"] = in_study & (rng.random(n) < EMPLOYED_SHARE)
    p["employed_on"] = np.fmin(p["start"] + _days(rng, 20, 300, n), stop)
    p["record_id"] = _ids("PP", n)
    return p


# ----------------------------------------------------------------------------- exports
def screening(p: pd.DataFrame, sites: int, rng) -> pd.DataFrame:
    """Everyone recruited, and 1.5 times as many screened but not recruited."""
    m = int(round(SCREENED_NOT_RECRUITED_PER_RECRUIT * len(p)))
    site = rng.integers(1, sites + 1, m)
    source = rng.choice(np.arange(1, 5), size=m, p=SOURCE_SHARE)
    day = _days(rng, np.maximum(_site_opens(site, sites), _source_starts(source)), RECRUITMENT_END, m)
    outcome = rng.choice(3, size=m, p=(0.6, 0.3, 0.1))  # not eligible, not interested, not enrolled
    eligible = outcome > 0
    n = len(p)
    df = pd.DataFrame(
        {
            "scr_date": np.concatenate([p["screened"], day]),
            "scr_site": np.concatenate([p["site"], site]).astype(float),
            "scr_source": np.concatenate([p["source"], source]).astype(float),
            "scr_eligible": np.concatenate([np.ones(n), eligible]).astype(float),
            "scr_inelig_reason": np.concatenate(
                [
                    np.full(n, np.nan),
                    _blank(
                        _codes(rng, range(1, 9), m, p=(0.25, 0.2, 0.15, 0.12, 0.05, 0.05, 0.08, 0.1)),
                        ~eligible,
                    ),
                ]
            ),
            "scr_interested": np.concatenate([np.ones(n), _blank((outcome == 2).astype(float), eligible)]),
            "scr_enrolled": np.concatenate([np.ones(n), np.zeros(m)]),
            "scr_not_enrolled_reason": np.concatenate(
                [np.full(n, np.nan), _blank(_codes(rng, (1, 2), m), outcome == 2)]
            ),
            "scr_participant_id": np.concatenate([p["record_id"], np.full(m, None, dtype=object)]),
        }
    )
    df = df.sort_values(["scr_date", "scr_source"], kind="stable", ignore_index=True)
    df["scr_date"] = _dates(df["scr_date"].to_numpy())
    df.insert(0, "record_id", _ids("S", len(df)))
    df.insert(1, "redcap_event_name", "screening_arm_1")
    df["screening_complete"] = 2.0
    return df


def enrolment(p: pd.DataFrame, screened: pd.DataFrame, rng) -> pd.DataFrame:
    """Consent, the screening record, site, source and baseline demographics."""
    n = len(p)
    enrolled = screened.dropna(subset=["scr_participant_id"])
    screening_id = pd.Series(
        enrolled["record_id"].to_numpy(), index=enrolled["scr_participant_id"].to_numpy()
    )
    age_days = _days(rng, 20 * 365, 64 * 365, n)
    pain = rng.random((n, 6)) < np.array([0.6, 0.4, 0.2, 0.1, 0.15, 0.35])
    pain[~pain.any(axis=1), 0] = True  # at least one area ticked
    comorbid = rng.random((n, 6)) < np.array([0.3, 0.1, 0.15, 0.2, 0.05, 0.1])
    years_out = np.round(np.clip(rng.gamma(2.0, 2.0, n), 0.2, 30), 1)
    return pd.DataFrame(
        {
            "record_id": p["record_id"],
            "redcap_event_name": "baseline_arm_1",
            "enr_consent_date": _dates(p["consent"].to_numpy()),
            "enr_screening_id": p["record_id"].map(screening_id).to_numpy(),
            "enr_site": p["site"].astype(float),
            "enr_source": p["source"].astype(float),
            "enrolment_complete": 2.0,
            "dem_dob": _dates(p["consent"].to_numpy() - age_days),
            "dem_sex": _codes(rng, (1, 2), n, p=(0.45, 0.55)),
            "dem_marital": _codes(rng, range(1, 5), n, p=(0.4, 0.35, 0.2, 0.05)),
            "dem_ethnicity": _codes(rng, range(1, 6), n, p=(0.7, 0.1, 0.12, 0.05, 0.03)),
            "dem_education": _codes(rng, range(1, 6), n, p=(0.15, 0.2, 0.3, 0.2, 0.15)),
            **{f"dem_pain_area___{k}": pain[:, k - 1].astype(float) for k in range(1, 7)},
            "dem_years_pain": np.round(np.clip(rng.gamma(2.0, 5.0, n), 0.5, 60), 1),
            "dem_years_out_of_work": years_out,
            "dem_years_looking": np.round(years_out * rng.uniform(0, 1, n), 1),
            "dem_prev_worked": (rng.random(n) < 0.9).astype(float),
            **{f"dem_comorbid___{k}": comorbid[:, k - 1].astype(float) for k in range(1, 7)},
            "demographics_complete": 2.0,
        }
    )


def health_questionnaire(level: np.ndarray, rng) -> dict[str, np.ndarray]:
    """EQ-5D-5L, HADS, the four NRS, WEMWBS and PROMIS 8a answers; ``level`` is each
    person's burden of pain and distress (-1 least to +1 most)."""
    out = {}
    eq5d = _items(rng, level, 1, 5, 5)
    for k, dim in enumerate(("mo", "sc", "ua", "pd", "ad")):
        out[f"eq5d_{dim}"] = eq5d[:, k]
    out["eq5d_vas"] = np.clip(np.rint(55 - 25 * level + rng.normal(0, 15, len(level))), 0, 100)
    hads = _items(rng, level, 0, 3, 14, missing=0.01)
    out.update({f"hads_{i}": hads[:, i - 1] for i in range(1, 15)})
    nrs = _items(rng, level, 0, 10, 4, missing=0.005)
    # confidence and ability run the other way from pain
    nrs[:, :2] = np.where(np.isnan(nrs[:, :2]), np.nan, 10 - nrs[:, :2])
    for k, name in enumerate(("nrs_confidence", "nrs_ability", "nrs_pain_now", "nrs_pain_week")):
        out[name] = nrs[:, k]
    wemwbs = _items(rng, -level, 1, 5, 14, missing=0.01)
    out.update({f"wemwbs_{i}": wemwbs[:, i - 1] for i in range(1, 15)})
    for prefix in ("promis_fat_", "promis_pi_"):
        answers = _items(rng, level, 1, 5, 8, missing=0.01)
        out.update({f"{prefix}{i}": answers[:, i - 1] for i in range(1, 9)})
    out["health_questionnaire_complete"] = np.full(len(level), 2.0)
    return out


def work_questionnaire(level: np.ndarray, answered: np.ndarray, rng) -> dict[str, np.ndarray]:
    """Satisfaction, WRFQ 2.0 (9 = does not apply), PAW, RTW self-efficacy and the two
    pain-at-work questions; blank where ``answered`` is False (form incomplete, 0)."""
    out = {"wq_satisfaction": _items(rng, -level, 1, 5, 1)[:, 0]}
    wrfq = _items(rng, level, 0, 4, 27, missing=0.01, extra=(9, 0.04))
    out.update({f"wrfq_{i}": wrfq[:, i - 1] for i in range(1, 28)})
    paw = _items(rng, -level, 1, 5, 15, missing=0.01)
    out.update({f"paw_{i}": paw[:, i - 1] for i in range(1, 16)})
    rtwse = _items(rng, -level, 1, 5, 2)
    out.update({"rtwse_1": rtwse[:, 0], "rtwse_2": rtwse[:, 1]})
    pain = _items(rng, level, 1, 5, 2)
    out.update({"wq_pain_interfere": pain[:, 0], "wq_pain_worse": pain[:, 1]})
    out = {k: _blank(v, answered) for k, v in out.items()}
    out["work_questionnaire_complete"] = np.where(answered, 2.0, 0.0)
    return out


def employment(hq_day: np.ndarray, start: np.ndarray, rate: float, rng) -> dict[str, np.ndarray]:
    """Job offers, acceptances and starts since the last questionnaire; 5 % unanswered."""
    m = len(hq_day)
    answered = rng.random(m) < 0.95
    offers = np.minimum(rng.poisson(rate, m), 5)
    accepted = rng.binomial(offers, 0.5)
    started = rng.binomial(accepted, 0.8)
    began = np.maximum(hq_day - _days(rng, 1, 60, m), start)
    return {
        "emp_offers": _blank(offers.astype(float), answered),
        "emp_accepted": _blank(accepted.astype(float), answered & (offers > 0)),
        "emp_started": _blank(started.astype(float), answered & (accepted > 0)),
        "emp_job_title": _blank(_text(rng, JOB_TITLES, m), answered & (accepted > 0)),
        "emp_start_date": _blank(_dates(began), answered & (started > 0)),
        "emp_pattern": _blank(_codes(rng, (1, 2, 3), m), answered & (started > 0)),
        "employment_complete": np.where(answered, 2.0, 0.0),
    }


def questionnaires(p: pd.DataFrame, fu: pd.DataFrame | None, event: str, rng) -> pd.DataFrame:
    """The questionnaires of one time point: at baseline everyone's, on the day of
    consent; at follow-up those the follow-up log records as returned."""
    export = next(x for x in crf.EXPORTS.values() if x.events == (event,))
    if fu is None:
        who, hq = np.arange(len(p)), p["consent"].to_numpy()
        level = p["burden"].to_numpy()
    else:
        back = fu[(fu["redcap_event_name"] == event) & (fu["fu_returned"] == 1)]
        who = pd.Index(p["record_id"]).get_indexer(back["record_id"])
        returned = _day_numbers(back["fu_return_date"])
        hq = np.maximum(returned - _days(rng, 0, 3, len(who)), p["consent"].to_numpy()[who])
        # a little better on average after the intervention
        level = np.clip(p["burden"].to_numpy()[who] - 0.2 + rng.normal(0, 0.2, len(who)), -1, 1)
    cols = {
        "record_id": p["record_id"].to_numpy()[who],
        "redcap_event_name": event,
        "hq_date": _dates(hq),
        **health_questionnaire(level, rng),
    }
    if "work_questionnaire" in export.forms:
        answered = p["placed"].to_numpy()[who] & (rng.random(len(who)) < 0.9)
        cols.update(work_questionnaire(level, answered, rng))
    if "employment" in export.forms:
        rate = 0.25 if event == "week14_arm_1" else 0.4
        cols.update(employment(hq, p["start"].to_numpy()[who], rate, rng))
    return pd.DataFrame(cols)


def work_preparation(p: pd.DataFrame, rng) -> pd.DataFrame:
    """Session attended: site 1's group session is code 1, other sites' 2-5, and one
    person in twenty is seen one to one (6)."""
    n = len(p)
    attended = p["attended"].to_numpy()
    group = np.where(p["site"] == 1, 1.0, _codes(rng, (2, 3, 4, 5), n))
    session = np.where(rng.random(n) < 0.05, 6.0, group)
    days = np.where(p["role"] == "withdrew_at_wp", 0.5, _codes(rng, (2.0, 1.5, 1.0), n, p=(0.8, 0.12, 0.08)))
    return pd.DataFrame(
        {
            "record_id": p["record_id"],
            "redcap_event_name": "intervention_arm_1",
            "wp_attended": attended.astype(float),
            "wp_session": _blank(session, attended),
            "wp_date": _dates(p["wp_date"].to_numpy()),
            "wp_days": _blank(days, attended),
            "work_preparation_complete": 2.0,
        }
    )


NOT_PLACED_REASON = {"no_suitable": 2, "language": 1, "disengaged": 3}  # else 4: left the study


def placements(p: pd.DataFrame, sites: int, rng) -> pd.DataFrame:
    n = len(p)
    placed = p["placed"].to_numpy()
    weeks = p["plc_weeks"].to_numpy()
    # hours in each week attended; the last, part-attended week pro rata
    share = np.clip(weeks[:, None] - np.arange(6)[None, :], 0, 1)
    hours = np.round(rng.uniform(4, 16, (n, 6)) * share, 2)
    hours = np.where(share > 0, hours, np.nan)
    own_area = rng.random(n) < 0.85
    area = np.where(own_area, p["site"], rng.integers(1, sites + 1, n)).astype(float)
    completed = p["plc_completed"].to_numpy()
    reason = p["role"].map(NOT_PLACED_REASON).fillna(4).to_numpy()
    return pd.DataFrame(
        {
            "record_id": p["record_id"],
            "redcap_event_name": "intervention_arm_1",
            "plc_offered": np.isin(p["role"], ("placed", "disengaged")).astype(float),
            "plc_placed": placed.astype(float),
            "plc_decision_date": _dates(p["decision"].to_numpy()),
            "plc_not_placed_reason": _blank(reason, ~placed),
            "plc_provider": _blank(_codes(rng, (1, 2, 3, 4), n, p=(0.3, 0.15, 0.45, 0.1)), placed),
            "plc_site": _blank(area, placed),
            "plc_role": _blank(_text(rng, PLACEMENT_ROLES, n), placed),
            "plc_start": _dates(p["plc_start"].to_numpy()),
            "plc_end": _dates(p["plc_end"].to_numpy()),
            **{f"plc_hours_wk{k}": _blank(hours[:, k - 1], placed) for k in range(1, 7)},
            "plc_weeks": weeks,
            "plc_completed": _blank(completed.astype(float), placed),
            "plc_noncompletion_reason": _blank(_codes(rng, (1, 2, 3, 4), n), placed & ~completed),
            "placement_complete": 2.0,
        }
    )


def _log(
    p: pd.DataFrame,
    who: np.ndarray,
    day: np.ndarray,
    instrument: str,
    date_field: str,
    fields: dict[str, np.ndarray],
) -> pd.DataFrame:
    """A repeating-instrument log: one row per entry (participant ``who`` on ``day``),
    by participant and date, instances numbered 1, 2, ... for each participant."""
    order = np.lexsort((day, who))
    who, day = who[order], day[order]
    df = pd.DataFrame(
        {
            "record_id": p["record_id"].to_numpy()[who],
            "redcap_event_name": "intervention_arm_1",
            "redcap_repeat_instrument": instrument,
            "redcap_repeat_instance": _repeat(np.bincount(who, minlength=len(p)))[1].astype(float),
            date_field: _dates(day),
        }
    )
    for name, values in fields.items():
        df[name] = np.asarray(values)[order]
    df[f"{instrument}_complete"] = 2.0
    return df


def _active_until(p: pd.DataFrame) -> np.ndarray:
    """Last day of the intervention: placement end, else 30 days after the decision; no
    later than a status change that ends data collection."""
    end = np.where(p["placed"], p["plc_end"], p["decision"] + 30)
    end = np.where(np.isnan(end), p["consent"] + 40, end)
    return np.fmin(end, p["stop"].to_numpy())


def case_management(p: pd.DataFrame, rng) -> pd.DataFrame:
    """1 to 12 contacts for those who attended work preparation, 0 or 1 for others."""
    n = len(p)
    counts = np.where(p["attended"], np.minimum(1 + rng.poisson(4, n), 12), rng.integers(0, 2, n))
    who, _ = _repeat(counts)
    first = p["consent"].to_numpy() + _days(rng, 1, 14, n)
    span = np.maximum(_active_until(p) - first, 0)
    day = first[who] + np.floor(rng.random(len(who)) * (span[who] + 1))
    m = len(who)
    manager = _codes(rng, (1, 2, 3), n, p=(0.45, 0.45, 0.1))[who]
    return _log(
        p,
        who,
        day,
        "cm_contact",
        "cm_date",
        {
            "cm_manager": manager,
            "cm_mode": _codes(rng, (1, 2, 3, 4), m, p=(0.35, 0.4, 0.15, 0.1)),
            "cm_minutes": np.clip(np.rint(rng.gamma(2.0, 20.0, m)), 5, 240),
            "cm_referral": (rng.random(m) < 0.08).astype(float),
        },
    )


def status_changes(p: pd.DataFrame, rng) -> pd.DataFrame:
    """Leaving the study (no further data), and employment heard of outside the
    questionnaires (further data allowed); some participants have both."""
    n = len(p)
    role = p["role"].to_numpy()
    kind = {  # role: (sc_type, reasons)
        "ineligible": (1, (1,)),
        "withdrew_before_wp": (2, (2, 3, 9)),
        "withdrew_at_wp": (2, (4,)),
        "language": (3, (5,)),
        "disengaged": (4, (6, 7, 9)),
        "died": (5, (8,)),
    }
    sc_type = np.full(n, 6.0)  # lost to follow-up
    reason = np.full(n, 9.0)
    for r, (t, reasons) in kind.items():
        sc_type[role == r] = t
        reason[role == r] = _codes(rng, reasons, n)[role == r]
    leaving = np.flatnonzero(~np.isnan(p["stop"].to_numpy()))
    employed = np.flatnonzero(p["employed"].to_numpy())
    who = np.concatenate([leaving, employed])
    day = np.concatenate([p["stop"].to_numpy()[leaving], p["employed_on"].to_numpy()[employed]])
    sc_type = np.concatenate([sc_type[leaving], np.full(len(employed), 7.0)])
    reason = np.concatenate([reason[leaving], np.full(len(employed), 7.0)])
    details = np.array([STATUS_DETAILS.get(r) for r in range(10)], dtype=object)
    text = _blank(details[reason.astype(int)], rng.random(len(who)) < 0.7)
    return _log(
        p,
        who,
        day,
        "status_change",
        "sc_date",
        {
            "sc_type": sc_type,
            "sc_reason": reason,
            "sc_further_data": (sc_type == 7).astype(float),
            "sc_details": text,
        },
    )


def adverse_events(p: pd.DataFrame, rng) -> pd.DataFrame:
    """One to three events for one in sixteen who attended work preparation, and a
    death for each who died (serious, unrelated)."""
    n = len(p)
    any_event = p["attended"].to_numpy() & (rng.random(n) < 1 / 16)
    who, _ = _repeat(np.where(any_event, rng.choice((1, 2, 3), size=n, p=(0.7, 0.2, 0.1)), 0))
    start = p["wp_date"].to_numpy()
    span = np.maximum(_active_until(p) - start, 0)
    day = start[who] + np.floor(rng.random(len(who)) * (span[who] + 1))
    m = len(who)
    died = np.flatnonzero(p["role"].to_numpy() == "died")
    death = np.ones(len(died))
    return _log(
        p,
        np.concatenate([who, died]),
        np.concatenate([day, p["stop"].to_numpy()[died]]),
        "adverse_event",
        "ae_date",
        {
            "ae_serious": np.concatenate([rng.random(m) < 0.08, death]).astype(float),
            "ae_related": np.concatenate(
                [_codes(rng, (1, 2, 3), m, p=(0.7, 0.2, 0.1)), death]
            ),  # 1 unrelated
            "ae_category": np.concatenate([_codes(rng, (1, 2, 4), m), 3 * death]),
            "ae_description": np.concatenate(
                [
                    _text(rng, AE_DESCRIPTIONS, m),
                    np.full(
                        len(died),
                        "Death reported by the family; unrelated to the intervention.",
                        dtype=object,
                    ),
                ]
            ),
        },
    )


def followup_admin(p: pd.DataFrame, rng) -> pd.DataFrame:
    """Questionnaires sent 6 weeks, 14 weeks and 6 months after the start date to those
    still in the study when they are sent; none counted as returned after leaving."""
    n = len(p)
    start, stop = p["start"].to_numpy(), p["stop"].to_numpy()
    frames = []
    for event, due_days in FOLLOW_UP_DAYS.items():
        due = start + due_days
        sent = due - _days(rng, 5, 10, n)
        returned_on = due + _days(rng, -3, 28, n)
        returned = (rng.random(n) < RETURN_SHARE[event]) & ~(returned_on > stop)
        sent_to = np.flatnonzero(~np.isnan(start) & ~(sent >= stop))
        frames.append(
            pd.DataFrame(
                {
                    "who": sent_to,
                    "record_id": p["record_id"].to_numpy()[sent_to],
                    "redcap_event_name": event,
                    "fu_sent_date": _dates(sent[sent_to]),
                    "fu_reminder_calls": rng.integers(0, 4, n)[sent_to].astype(float),
                    "fu_returned": returned[sent_to].astype(float),
                    "fu_return_date": _dates(np.where(returned, returned_on, np.nan)[sent_to]),
                    "followup_admin_complete": 2.0,
                }
            )
        )
    # by participant, events in study order
    fu = pd.concat(frames, ignore_index=True).sort_values("who", kind="stable", ignore_index=True)
    return fu.drop(columns="who")


# ---------------------------------------------------------------------------- the run
def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.1f} kB"


def generate_scaled(n: int, sites: int, seed: int, out: Path, progress: TextIO | None = None) -> list[Path]:
    """Write a scaled cohort of ``n`` participants at ``sites`` sites into ``out``: REDCap's
    downloads of the paper's project (the data dictionary lists the sites)."""
    if n < 1:
        raise ValueError("a cohort needs at least one participant")
    out = Path(out)
    site_list = scaled_sites(sites)

    def say(text: str) -> None:
        if progress is not None:
            print(text, file=progress, flush=True)

    say(f"scaled synthetic cohort: n = {n:,} participants, {sites} sites, seed {seed} -> {out}")
    streams = dict(
        zip(
            ["paths", *crf.EXPORTS],
            map(np.random.default_rng, np.random.SeedSequence(seed).spawn(len(crf.EXPORTS) + 1)),
        )
    )
    t0 = time.perf_counter()
    p = participant_paths(n, sites, streams["paths"])
    say(f"participants' paths through the study: {time.perf_counter() - t0:.1f} s")
    # each export from its own stream; later exports read the screening log and follow-up log
    build = {
        "screening": lambda rng, done: screening(p, sites, rng),
        "enrolment": lambda rng, done: enrolment(p, done["screening"], rng),
        "questionnaires_baseline": lambda rng, done: questionnaires(p, None, "baseline_arm_1", rng),
        "work_preparation": lambda rng, done: work_preparation(p, rng),
        "status_changes": lambda rng, done: status_changes(p, rng),
        "placements": lambda rng, done: placements(p, sites, rng),
        "case_management": lambda rng, done: case_management(p, rng),
        "adverse_events": lambda rng, done: adverse_events(p, rng),
        "followup_admin": lambda rng, done: followup_admin(p, rng),
        **{
            f"questionnaires_{tp}": (
                lambda rng, done, event=event: questionnaires(p, done["followup_admin"], event, rng)
            )
            for event, tp in crf.TIMEPOINTS.items()
            if tp != "baseline"
        },
    }
    done: dict[str, pd.DataFrame] = {}
    for name, export in crf.EXPORTS.items():
        t0 = time.perf_counter()
        done[name] = build[name](streams[name], done)
        say(f"{name}: {len(done[name]):,} rows, {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    written = write_project(done, out, site_list)
    say(
        f"{crf.RECORDS_FILE}: {_size((out / crf.RECORDS_FILE).stat().st_size)}; {crf.DICTIONARY_FILE}: "
        f"{len(crf.fields())} fields; sites "
        + ", ".join(label for _, label in site_list[:3])
        + (", ..." if sites > 3 else "")
        + f"; written in {time.perf_counter() - t0:.1f} s"
    )
    from feasibility import __version__
    from feasibility.provenance import write_provenance

    write_provenance(
        out,
        written,
        synthetic=True,
        generator="feasibility.synth",
        generator_version=__version__,
        cohort="scaled",
        seed=int(seed),
        calibrated_to={},
        statement=(
            f"Synthetic data: a scaled cohort of {n:,} participants at {sites} sites "
            "for benchmarks, schema-valid but not calibrated to any publication; "
            "not any study's data."
        ),
        invented=["every value"],
    )
    return written
