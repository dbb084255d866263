"""Draft the full trial's REDCap project: its data dictionary, instrument designations,
events and project XML (``python -m feasibility.studies.full_trial.make_crf``, run from
the project folder: it writes ``data/full-trial/``, or the folder it is given).

The files this writes are the trial's CRF as REDCap gives it (the data dictionary
download, the instrument designations, the events export, the project XML); they are the
source of truth that validation, the dummy-data generator and the analysis read. This
script stands in for REDCap's Online Designer: it is how the CRF was drafted, and a test
(``tests/trial/test_project.py``) checks that the shipped files are what it writes, so a
change to the CRF is made here and the script rerun.

Design (data/full-trial/README.md gives the reasons):

* one REDCap arm; the allocation is the randomisation module's target field
  ``randomisation.rand_arm`` (1 Supported work placement, 2 Usual care), set at
  baseline, stratified by site (data access group) in permuted blocks;
* events: screening, baseline, intervention delivery, 6 weeks, 14 weeks, 6 months and a
  study log (adverse events, end of study);
* one REDCap instrument per questionnaire, so that the designations trim the set: the
  full set (EQ-5D-5L, pain and work NRS, HADS, WEMWBS, PROMIS fatigue and pain
  interference) at baseline and 6 months, a short set (EQ-5D-5L, NRS) at 6 and 14 weeks;
  employment (the primary outcome, in paid work at 6 months) at 14 weeks and 6 months;
  the work questionnaire (WRFQ, PAW, RTW self-efficacy) at 6 months for those in work;
* intervention-delivery forms (work preparation, placement, case-management contacts)
  shown for the intervention arm only (branching on ``[baseline_arm_1][rand_arm]``);
* a repeating adverse-event form and a study-status form (withdrawal, loss to
  follow-up, death, discontinued intervention) in the study log;
* identifiers flagged: name, date of birth, e-mail, telephone, postcode.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from feasibility.redcap.dictionary import build_project
from feasibility.redcap.model import Field, Repeating
from feasibility.redcap.write import write_designations, write_dictionary, write_project_xml

OUT = Path("data/full-trial")  # the trial's downloads, from the project folder

TITLE = "Supported work placements for unemployed people with chronic pain: randomised trial"
INTERVENTION = "[baseline_arm_1][rand_arm] = '1'"
MISSING_DATA_CODES = (("UNK", "Unknown"), ("NASK", "Not asked"), ("DECL", "Declined to answer"))

# unique event name -> (label, day offset from screening)
EVENTS = {
    "screening_arm_1": ("Screening", 0),
    "baseline_arm_1": ("Baseline and randomisation", 7),
    "intervention_arm_1": ("Intervention delivery", 14),
    "week6_arm_1": ("6 weeks", 49),
    "week14_arm_1": ("14 weeks", 105),
    "month6_arm_1": ("6 months", 189),
    "study_log_arm_1": ("Study log", 196),
}
FULL = ("baseline_arm_1", "month6_arm_1")
SHORT = ("week6_arm_1", "week14_arm_1")
FOLLOW_UPS = ("week6_arm_1", "week14_arm_1", "month6_arm_1")
# form -> (label, events)
FORMS = {
    "screening": ("Screening and eligibility", ("screening_arm_1",)),
    "consent": ("Consent and contact details", ("baseline_arm_1",)),
    "demographics": ("Demographics", ("baseline_arm_1",)),
    "eq5d5l": ("EQ-5D-5L", FULL[:1] + SHORT + FULL[1:]),
    "pain_work_nrs": ("Pain and work numerical rating scales", FULL[:1] + SHORT + FULL[1:]),
    "hads": ("Hospital Anxiety and Depression Scale", FULL),
    "wemwbs": ("Warwick-Edinburgh Mental Wellbeing Scale", FULL),
    "promis_fatigue": ("PROMIS Fatigue 8a", FULL),
    "promis_pain_interference": ("PROMIS Pain Interference 8a", FULL),
    "randomisation": ("Randomisation", ("baseline_arm_1",)),
    "work_preparation": ("Work preparation", ("intervention_arm_1",)),
    "placement": ("Work placement", ("intervention_arm_1",)),
    "cm_contact": ("Case-management contact", ("intervention_arm_1",)),
    "followup": ("Follow-up questionnaire administration", FOLLOW_UPS),
    "employment": ("Employment", ("week14_arm_1", "month6_arm_1")),
    "work_questionnaire": ("Work questionnaire", ("month6_arm_1",)),
    "adverse_event": ("Adverse event", ("study_log_arm_1",)),
    "study_status": ("End of study", ("study_log_arm_1",)),
}
REPEATING = (("intervention_arm_1", "cm_contact"), ("study_log_arm_1", "adverse_event"))

YES = "y"
AGREE5 = (
    ("1", "Completely disagree"),
    ("2", "Disagree"),
    ("3", "Neither agree nor disagree"),
    ("4", "Agree"),
    ("5", "Completely agree"),
)
EXTENT5 = (
    ("1", "Not at all"),
    ("2", "A little bit"),
    ("3", "Somewhat"),
    ("4", "Quite a bit"),
    ("5", "Very much"),
)


def levels(lo: int, hi: int, lo_label: str = "", hi_label: str = "") -> tuple:
    out = []
    for v in range(lo, hi + 1):
        label = str(v)
        if v == lo and lo_label:
            label = f"{v} {lo_label}"
        elif v == hi and hi_label:
            label = f"{v} {hi_label}"
        out.append((str(v), label))
    return tuple(out)


def F(
    name,
    form,
    ftype,
    label,
    choices=(),
    *,
    validation="",
    vmin="",
    vmax="",
    identifier=False,
    branching="",
    required=False,
    note="",
    header="",
    matrix="",
    annotation="",
    slider=(),
):
    return Field(
        name=name,
        form=form,
        type=ftype,
        label=label,
        section_header=header,
        choices=tuple(choices),
        slider_labels=tuple(slider),
        note=note,
        validation=validation,
        min_text=str(vmin),
        max_text=str(vmax),
        identifier=identifier,
        branching=branching,
        required=required,
        matrix_group=matrix,
        annotation=annotation,
    )


def items(prefix, form, n, label, choices, matrix, header="", branching="", required=False, note=""):
    return [
        F(
            f"{prefix}{i}",
            form,
            "radio",
            f"{label} item {i}",
            choices,
            matrix=matrix,
            header=header if i == 1 else "",
            branching=branching,
            required=required,
            note=note if i == 1 else "",
        )
        for i in range(1, n + 1)
    ]


def fields() -> list[Field]:
    f: list[Field] = []
    s = "screening"
    f += [
        F("record_id", s, "text", "Record ID"),
        F(
            "scr_date",
            s,
            "text",
            "Date screened",
            validation="date_ymd",
            vmin="2024-01-01",
            vmax="today",
            required=True,
        ),
        F(
            "scr_source",
            s,
            "dropdown",
            "Recruitment source",
            (
                ("1", "Jobcentre Plus or council employment services"),
                ("2", "Private employment services provider"),
                ("3", "NHS pain clinic or physiotherapy"),
                ("4", "GP practice"),
                ("5", "Self-referral (poster, website, local media)"),
            ),
            required=True,
        ),
        F(
            "scr_eligible",
            s,
            "yesno",
            "Meets every eligibility criterion",
            required=True,
            note="Unemployed for at least one month, chronic non-cancer pain that interferes with "
            "work, wants to work, aged 18 to 65",
        ),
        F(
            "scr_inelig_reason",
            s,
            "dropdown",
            "Main reason not eligible",
            (
                ("1", "In paid employment"),
                ("2", "Out of work for less than one month"),
                ("3", "Pain not chronic or not the main barrier to work"),
                ("4", "In another work placement scheme"),
                ("5", "Not fluent enough in English to consent"),
                ("6", "Ongoing litigation"),
                ("7", "Does not want to work"),
                ("8", "Aged under 18 or over 65"),
            ),
            branching="[scr_eligible] = '0'",
        ),
        F("scr_consented", s, "yesno", "Gave written informed consent", branching="[scr_eligible] = '1'"),
        F(
            "scr_decline_reason",
            s,
            "dropdown",
            "Reason not consented",
            (
                ("1", "Could not be contacted"),
                ("2", "Concerned about the effect on benefits"),
                ("3", "Not interested in a placement"),
                ("4", "Other or not given"),
            ),
            branching="[scr_eligible] = '1' and [scr_consented] = '0'",
        ),
        F("scr_notes", s, "notes", "Screening notes"),
    ]
    c = "consent"
    f += [
        F(
            "con_date",
            c,
            "text",
            "Date of consent",
            validation="date_ymd",
            vmin="2024-01-01",
            vmax="today",
            required=True,
        ),
        F(
            "con_name",
            c,
            "text",
            "Participant's full name",
            identifier=True,
            required=True,
            header="Contact details (identifiers: never leave REDCap)",
        ),
        F(
            "con_dob",
            c,
            "text",
            "Date of birth",
            validation="date_ymd",
            vmin="1940-01-01",
            vmax="today",
            identifier=True,
            required=True,
        ),
        F("con_email", c, "text", "E-mail address", validation="email", identifier=True),
        F("con_phone", c, "text", "Telephone number", validation="phone_uk", identifier=True, required=True),
        F("con_postcode", c, "text", "Postcode", validation="postalcode_uk", identifier=True),
        F(
            "con_contact_pref",
            c,
            "radio",
            "Preferred way to receive follow-up questionnaires",
            (("1", "Online (link by e-mail or text message)"), ("2", "Post"), ("3", "Telephone")),
            required=True,
        ),
        F("con_future_research", c, "yesno", "Agrees to be contacted about future research"),
    ]
    d = "demographics"
    f += [
        F(
            "dem_sex",
            d,
            "radio",
            "Gender",
            (("1", "Female"), ("2", "Male"), ("3", "Prefer to self-describe"), ("4", "Prefer not to say")),
            required=True,
        ),
        F(
            "dem_ethnicity",
            d,
            "radio",
            "Ethnic group",
            (
                ("1", "White"),
                ("2", "Mixed or multiple ethnic groups"),
                ("3", "Asian or Asian British"),
                ("4", "Black, Black British, Caribbean or African"),
                ("5", "Other ethnic group"),
            ),
            required=True,
        ),
        F(
            "dem_marital",
            d,
            "radio",
            "Marital status",
            (
                ("1", "Single (never married)"),
                ("2", "Married or in a civil partnership"),
                ("3", "Separated or divorced"),
                ("4", "Widowed"),
            ),
            required=True,
        ),
        F(
            "dem_education",
            d,
            "radio",
            "Highest qualification",
            (
                ("1", "Degree or higher degree"),
                ("2", "A-level or equivalent"),
                ("3", "GCSE, O-level or equivalent"),
                ("4", "Vocational or work-related"),
                ("5", "No qualification"),
            ),
            required=True,
        ),
        F(
            "dem_pain_area",
            d,
            "checkbox",
            "Areas of pain (pain drawing)",
            (
                ("1", "Lower back"),
                ("2", "Upper back or neck"),
                ("3", "Head"),
                ("4", "Chest"),
                ("5", "Abdomen"),
                ("6", "Arms or legs"),
            ),
            required=True,
            note="Tick every area",
        ),
        F(
            "dem_pain_years",
            d,
            "text",
            "Years with chronic pain",
            validation="number_1dp",
            vmin=0,
            vmax=60,
            required=True,
        ),
        F(
            "dem_months_unemployed",
            d,
            "text",
            "Months out of work",
            validation="integer",
            vmin=1,
            vmax=360,
            required=True,
        ),
        F("dem_benefits", d, "yesno", "Receiving out-of-work benefits"),
        F(
            "dem_comorbid",
            d,
            "checkbox",
            "Other health concerns",
            (
                ("1", "Mental health"),
                ("2", "Cardiovascular"),
                ("3", "Rheumatological"),
                ("4", "Other musculoskeletal"),
                ("5", "Alcohol or drug misuse"),
                ("6", "Other"),
            ),
            note="Leave every box unticked when there are none",
        ),
        F(
            "dem_comorbid_other",
            d,
            "text",
            "Other health concern: please describe",
            branching="[dem_comorbid(6)] = '1'",
        ),
    ]
    q = "eq5d5l"
    for dim, label in (
        ("mo", "Mobility"),
        ("sc", "Self-care"),
        ("ua", "Usual activities"),
        ("pd", "Pain / discomfort"),
        ("ad", "Anxiety / depression"),
    ):
        f.append(
            F(
                f"eq5d_{dim}",
                q,
                "radio",
                f"EQ-5D-5L {label}",
                levels(1, 5),
                matrix="eq5d_dimensions",
                required=True,
                note="1 = no problems ... 5 = extreme problems / unable to" if dim == "mo" else "",
            )
        )
    f.append(
        F(
            "eq5d_vas",
            q,
            "slider",
            "EQ VAS: your health today",
            validation="number",
            slider=("The worst health you can imagine", "", "The best health you can imagine"),
            required=True,
        )
    )
    n = "pain_work_nrs"
    for name, label, lo, hi in (
        ("nrs_pain_now", "Pain intensity now", "no pain", "worst pain imaginable"),
        ("nrs_pain_week", "Pain intensity over the past week", "no pain", "worst pain imaginable"),
        ("nrs_confidence", "Confidence in working", "not at all confident", "completely confident"),
        ("nrs_ability", "Perceived work ability", "cannot work at all", "best work ability"),
    ):
        f.append(F(name, n, "radio", f"{label} (0-10)", levels(0, 10, lo, hi), required=True))
    f += items(
        "hads_",
        "hads",
        14,
        "HADS",
        levels(0, 3),
        "hads_items",
        note="Scored 0-3 as printed on the scoring key; odd items anxiety, even items depression",
    )
    f += items(
        "wemwbs_",
        "wemwbs",
        14,
        "WEMWBS",
        (
            ("1", "None of the time"),
            ("2", "Rarely"),
            ("3", "Some of the time"),
            ("4", "Often"),
            ("5", "All of the time"),
        ),
        "wemwbs_items",
    )
    f += items("promis_fat_", "promis_fatigue", 8, "PROMIS Fatigue 8a", EXTENT5, "promis_fat_items")
    f += items(
        "promis_pi_", "promis_pain_interference", 8, "PROMIS Pain Interference 8a", EXTENT5, "promis_pi_items"
    )
    r = "randomisation"
    f += [
        F(
            "rand_date",
            r,
            "text",
            "Date randomised",
            validation="date_ymd",
            vmin="2024-01-01",
            vmax="today",
            required=True,
        ),
        F(
            "rand_arm",
            r,
            "radio",
            "Allocated arm",
            (("1", "Supported work placement"), ("2", "Usual care")),
            required=True,
            annotation="@READONLY",
            note="Set by REDCap's randomisation module: 1:1, stratified by site (data access "
            "group), permuted blocks of 2 and 4",
        ),
    ]
    w = "work_preparation"
    f += [
        F("wp_attended", w, "yesno", "Attended the two-day work preparation session", branching=INTERVENTION),
        F("wp_date", w, "text", "First day attended", validation="date_ymd", branching="[wp_attended] = '1'"),
        F(
            "wp_days",
            w,
            "text",
            "Days attended",
            validation="number_1dp",
            vmin=0.5,
            vmax=2,
            branching="[wp_attended] = '1'",
        ),
        F(
            "wp_format",
            w,
            "radio",
            "Format",
            (("1", "Group session"), ("2", "One-to-one session")),
            branching="[wp_attended] = '1'",
        ),
        F(
            "wp_not_attended_reason",
            w,
            "dropdown",
            "Reason not attended",
            (
                ("1", "Could not attend the dates offered"),
                ("2", "Health reasons"),
                ("3", "No longer interested"),
                ("4", "Found paid work"),
                ("5", "Other"),
            ),
            branching="[wp_attended] = '0'",
        ),
    ]
    p = "placement"
    f += [
        F("plc_offered", p, "yesno", "Offered a matched placement", branching=INTERVENTION),
        F(
            "plc_not_offered_reason",
            p,
            "dropdown",
            "Reason no placement was offered",
            (
                ("1", "No suitable placement in the area"),
                ("2", "Language or learning difficulties"),
                ("3", "Disengaged before matching"),
                ("4", "Found paid work"),
            ),
            branching="[plc_offered] = '0'",
        ),
        F(
            "plc_decision_date",
            p,
            "text",
            "Date the placement was accepted or declined",
            validation="date_ymd",
            branching="[plc_offered] = '1'",
        ),
        F("plc_placed", p, "yesno", "Started the placement", branching="[plc_offered] = '1'"),
        F(
            "plc_provider",
            p,
            "dropdown",
            "Placement provider",
            (
                ("1", "NHS trust"),
                ("2", "Local council"),
                ("3", "Public services provider"),
                ("4", "Private-sector employer"),
                ("5", "Charity or voluntary sector"),
            ),
            branching="[plc_placed] = '1'",
        ),
        F(
            "plc_start",
            p,
            "text",
            "Placement start date",
            validation="date_ymd",
            branching="[plc_placed] = '1'",
        ),
        F("plc_end", p, "text", "Placement end date", validation="date_ymd", branching="[plc_placed] = '1'"),
        F(
            "plc_hours",
            p,
            "text",
            "Planned hours per week",
            validation="integer",
            vmin=1,
            vmax=16,
            branching="[plc_placed] = '1'",
        ),
        F(
            "plc_weeks",
            p,
            "text",
            "Weeks attended",
            validation="number_1dp",
            vmin=0,
            vmax=6,
            branching="[plc_placed] = '1'",
        ),
        F("plc_completed", p, "yesno", "Completed the six-week placement", branching="[plc_placed] = '1'"),
        F(
            "plc_noncompletion_reason",
            p,
            "dropdown",
            "Reason the placement was not completed",
            (
                ("1", "Moved into paid employment"),
                ("2", "Personal difficulties"),
                ("3", "Not happy in the placement"),
                ("4", "Health reasons"),
            ),
            branching="[plc_completed] = '0'",
        ),
        F(
            "plc_satisfaction",
            p,
            "radio",
            "Satisfaction with the placement (participant)",
            (
                ("1", "Very dissatisfied"),
                ("2", "Dissatisfied"),
                ("3", "Neither satisfied nor dissatisfied"),
                ("4", "Satisfied"),
                ("5", "Very satisfied"),
            ),
            branching="[plc_placed] = '1'",
        ),
    ]
    m = "cm_contact"
    f += [
        F("cm_date", m, "text", "Contact date", validation="date_ymd", branching=INTERVENTION),
        F(
            "cm_mode",
            m,
            "dropdown",
            "Mode",
            (("1", "Face to face"), ("2", "Telephone"), ("3", "E-mail"), ("4", "Text message")),
            branching=INTERVENTION,
        ),
        F(
            "cm_with",
            m,
            "radio",
            "Contact with",
            (("1", "Participant"), ("2", "Placement manager"), ("3", "Both")),
            branching=INTERVENTION,
        ),
        F(
            "cm_minutes",
            m,
            "text",
            "Duration (minutes)",
            validation="integer",
            vmin=5,
            vmax=240,
            branching=INTERVENTION,
        ),
        F("cm_referral", m, "yesno", "Referral to healthcare made", branching=INTERVENTION),
    ]
    u = "followup"
    f += [
        F("fu_sent_date", u, "text", "Date questionnaire sent", validation="date_ymd", required=True),
        F("fu_method", u, "radio", "Sent as", (("1", "Online link"), ("2", "Post")), required=True),
        F(
            "fu_reminders",
            u,
            "text",
            "Reminders (e-mail, text message or telephone)",
            validation="integer",
            vmin=0,
            vmax=10,
        ),
        F("fu_returned", u, "yesno", "Questionnaire returned", required=True),
        F(
            "fu_return_date",
            u,
            "text",
            "Date returned",
            validation="date_ymd",
            branching="[fu_returned] = '1'",
        ),
        F(
            "fu_return_mode",
            u,
            "radio",
            "Returned",
            (("1", "Online"), ("2", "By post"), ("3", "By telephone (minimum data set)")),
            branching="[fu_returned] = '1'",
        ),
    ]
    e = "employment"
    f += [
        F(
            "emp_paid_work",
            e,
            "yesno",
            "Are you currently in paid work?",
            required=True,
            note="Primary outcome at 6 months",
        ),
        F(
            "emp_hours",
            e,
            "text",
            "Hours of paid work per week",
            validation="integer",
            vmin=1,
            vmax=60,
            branching="[emp_paid_work] = '1'",
        ),
        F(
            "emp_start_date",
            e,
            "text",
            "Date you started this job",
            validation="date_ymd",
            branching="[emp_paid_work] = '1'",
        ),
        F("emp_job_title", e, "text", "Job title", branching="[emp_paid_work] = '1'"),
        F(
            "emp_pattern",
            e,
            "dropdown",
            "Work pattern",
            (("1", "Full-time (30 hours or more)"), ("2", "Part-time"), ("3", "Zero hours or flexible")),
            branching="[emp_paid_work] = '1'",
        ),
        F(
            "emp_offers",
            e,
            "text",
            "Job offers (any source) since the last questionnaire",
            validation="integer",
            vmin=0,
            vmax=20,
        ),
        F(
            "emp_other_support",
            e,
            "yesno",
            "Received employment support from other services since joining the study",
        ),
    ]
    wq = "work_questionnaire"
    in_work = "[emp_paid_work] = '1'"
    f += items(
        "wrfq_",
        wq,
        27,
        "WRFQ 2.0",
        (
            ("0", "All of the time (100%)"),
            ("1", "Most of the time"),
            ("2", "Half of the time"),
            ("3", "Some of the time"),
            ("4", "None of the time (0%)"),
            ("9", "Does not apply to my job"),
        ),
        "wrfq_items",
        branching=in_work,
        header="Answer if you are in paid work",
        note="Difficulty over the past 4 weeks; 9 = does not apply to my job",
    )
    f += items("paw_", wq, 15, "Psychosocial Aspects of Work", AGREE5, "paw_items", branching=in_work)
    f += items(
        "rtwse_", wq, 2, "Return-to-work self-efficacy", levels(1, 5), "rtwse_items", branching=in_work
    )
    f += [
        F(
            "wq_pain_interfere",
            wq,
            "radio",
            "How much did pain interfere with your work?",
            (
                ("1", "Not at all"),
                ("2", "A little bit"),
                ("3", "Moderately"),
                ("4", "Quite a lot"),
                ("5", "Extremely"),
            ),
            branching=in_work,
        ),
        F(
            "wq_pain_worse",
            wq,
            "radio",
            "How much did work make your pain worse?",
            (
                ("1", "Not at all"),
                ("2", "A little bit"),
                ("3", "Moderately"),
                ("4", "Quite a lot"),
                ("5", "Extremely"),
            ),
            branching=in_work,
        ),
    ]
    a = "adverse_event"
    f += [
        F("ae_onset", a, "text", "Date of onset", validation="date_ymd", required=True),
        F(
            "ae_category",
            a,
            "dropdown",
            "Category",
            (
                ("1", "New or worse pain"),
                ("2", "Injury at the work placement"),
                ("3", "Mental health"),
                ("4", "Other health problem"),
            ),
            required=True,
        ),
        F("ae_description", a, "notes", "Description"),
        F("ae_serious", a, "yesno", "Serious adverse event", required=True),
        F(
            "ae_sae_criteria",
            a,
            "checkbox",
            "Why serious",
            (
                ("1", "Death"),
                ("2", "Life-threatening"),
                ("3", "Hospitalisation"),
                ("4", "Persistent or significant disability"),
                ("5", "Other important medical event"),
            ),
            branching="[ae_serious] = '1'",
        ),
        F(
            "ae_related",
            a,
            "dropdown",
            "Relationship to the intervention",
            (
                ("1", "Unrelated"),
                ("2", "Possibly related"),
                ("3", "Probably related"),
                ("4", "Definitely related"),
            ),
            required=True,
        ),
        F(
            "ae_outcome",
            a,
            "dropdown",
            "Outcome",
            (("1", "Resolved"), ("2", "Resolving"), ("3", "Not resolved"), ("4", "Fatal")),
        ),
        F(
            "ae_report_date",
            a,
            "text",
            "Date reported to the trial team",
            validation="date_ymd",
            required=True,
        ),
    ]
    t = "study_status"
    f += [
        F(
            "ss_status",
            t,
            "radio",
            "Status at the end of the study",
            (
                ("1", "Completed follow-up"),
                ("2", "Withdrew from follow-up"),
                ("3", "Lost to follow-up"),
                ("4", "Died"),
            ),
            required=True,
        ),
        F(
            "ss_date",
            t,
            "text",
            "Date of withdrawal, last contact or death",
            validation="date_ymd",
            branching="[ss_status] <> '1'",
        ),
        F(
            "ss_withdraw_reason",
            t,
            "dropdown",
            "Reason for withdrawal",
            (
                ("1", "No longer interested"),
                ("2", "Health reasons"),
                ("3", "Too busy or found work"),
                ("4", "Unhappy with the allocation"),
                ("5", "Other or not given"),
            ),
            branching="[ss_status] = '2'",
        ),
        F(
            "ss_discontinued",
            t,
            "yesno",
            "Stopped the intervention early (follow-up continues)",
            branching=INTERVENTION,
        ),
        F(
            "ss_disc_reason",
            t,
            "dropdown",
            "Reason the intervention was stopped",
            (
                ("1", "Found paid work"),
                ("2", "Health reasons"),
                ("3", "Not happy with the placement"),
                ("4", "Personal reasons"),
                ("5", "Other"),
            ),
            branching="[ss_discontinued] = '1'",
        ),
        F("ss_notes", t, "notes", "Notes"),
    ]
    return f


def project():
    """The trial's Project, as build_project assembles it from the parts above."""
    designations = [
        (1, event, form) for event in EVENTS for form, (_, events) in FORMS.items() if event in events
    ]
    event_info = {e: (label, 1, float(offset)) for e, (label, offset) in EVENTS.items()}
    proj, failures = build_project(
        fields(),
        designations=designations,
        event_info=event_info,
        repeating=Repeating(frozenset(REPEATING), frozenset()),
        missing_data_codes=MISSING_DATA_CODES,
        form_labels={k: v[0] for k, v in FORMS.items()},
        arm_names={1: "Trial"},
    )
    errors = [f for f in failures if f.severity == "error"]
    if errors:
        raise SystemExit("\n".join(f.message() for f in errors))
    import dataclasses

    return dataclasses.replace(proj, title=TITLE)


def events_csv(proj) -> str:
    """REDCap's events export (API ``content=event``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "event_name",
            "arm_num",
            "unique_event_name",
            "custom_event_label",
            "event_id",
            "days_offset",
            "offset_min",
            "offset_max",
        ]
    )
    for i, e in enumerate(proj.events):
        w.writerow([e.label, e.arm, e.unique_name, "", 1001 + i, f"{e.day_offset:g}", 0, 0])
    return buf.getvalue()


def write(folder: Path = OUT) -> list[Path]:
    proj = project()
    folder.mkdir(parents=True, exist_ok=True)
    out = [
        write_dictionary(proj, folder / "data_dictionary.csv"),
        write_designations(proj, folder / "instrument_designations.csv"),
        write_project_xml(proj, folder / "project.xml"),
    ]
    path = folder / "events.csv"
    path.write_bytes(events_csv(proj).encode("utf-8"))
    out.append(path)
    return out


if __name__ == "__main__":
    for p in write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(p)
