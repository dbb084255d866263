"""The paper's case report forms (CRFs): the synthetic generator's input.

The generator (``feasibility.synth``) writes the paper's REDCap project from this module:
the data dictionary, the instrument designations, the events and the project XML in
``data/raw/``. Validation never reads this module: the dictionary it writes is the
source of truth, as a real project's own download is (``feasibility.redcap``).

The project: one arm; every person screened is a record, whose record ID is the
screening number (S001, ...); the participant ID given at enrolment (PP01, ...) is an
identifier field of the screening form. ``EXPORTS`` are the groups of forms the cohort
builders make their tables in (one table per group, as the twelve files of the study's
first layout); the writer turns them into one all-records export.

REDCap conventions followed: raw coded values, ``redcap_event_name`` per event,
``redcap_repeat_instrument`` / ``redcap_repeat_instance`` for repeating instruments,
checkbox groups exported as ``field___code`` and one ``<form>_complete`` column
(0 incomplete, 1 unverified, 2 complete) per form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

# ----------------------------------------------------------------------------- events
EVENTS: dict[str, str] = {
    "screening_arm_1": "Screening",
    "baseline_arm_1": "Baseline",
    "intervention_arm_1": "Intervention delivery",
    "week6_arm_1": "6 weeks",
    "week14_arm_1": "14 weeks",
    "month6_arm_1": "6 months",
}
FOLLOW_UP_EVENTS = ("week6_arm_1", "week14_arm_1", "month6_arm_1")
TIMEPOINTS = {
    "baseline_arm_1": "baseline",
    "week6_arm_1": "week6",
    "week14_arm_1": "week14",
    "month6_arm_1": "month6",
}

YESNO = ((0, "No"), (1, "Yes"))
FIVE_AGREE = (
    (1, "Completely disagree"),
    (2, "Disagree"),
    (3, "Neither agree nor disagree"),
    (4, "Agree"),
    (5, "Completely agree"),
)
NOT_AT_ALL_TO_EXTREMELY = (
    (1, "Not at all"),
    (2, "A little bit"),
    (3, "Moderately"),
    (4, "Quite a lot"),
    (5, "Extremely"),
)
# The shipped study's two sites. A study's own site list is the code list its data
# dictionary gives the site fields; validation reads it from there and stores it with
# the validated tables (``study_sites``).
SITES = ((1, "Birmingham"), (2, "Coventry"))
SITE_FIELDS = ("scr_site", "enr_site", "plc_site")
SOURCES = (
    (1, "NHS pain clinic"),
    (2, "Council employment services"),
    (3, "Posters and direct contact"),
    (4, "Private employment services"),
)


@dataclass(frozen=True)
class Field:
    """One REDCap field (one row of the data dictionary)."""

    name: str
    form: str
    ftype: str  # text, notes, dropdown, radio, yesno, checkbox, slider
    label: str
    choices: tuple[tuple[int, str], ...] = ()
    validation: str = ""  # date_ymd, integer, number, number_1dp, number_2dp
    vmin: float | None = None
    vmax: float | None = None
    identifier: bool = False
    required: bool = False  # required when the form is marked complete
    note: str = ""
    branching: str = ""

    @property
    def is_checkbox(self) -> bool:
        return self.ftype == "checkbox"

    def columns(self) -> list[str]:
        """Export columns this field produces (checkboxes give one per code)."""
        if self.is_checkbox:
            return [f"{self.name}___{code}" for code, _ in self.choices]
        return [self.name]

    @property
    def is_date(self) -> bool:
        return self.validation == "date_ymd"

    @property
    def is_numeric(self) -> bool:
        return bool(self.choices) or self.validation in {"integer", "number", "number_1dp", "number_2dp"}


@dataclass(frozen=True)
class Export:
    """One raw export file: its forms, events and (for logs) repeating instrument."""

    name: str
    file: str
    forms: tuple[str, ...]
    events: tuple[str, ...]
    repeating: str | None = None
    description: str = ""


def _items(prefix: str, form: str, n: int, label: str, choices, required=True, note=""):
    return [
        Field(f"{prefix}{i}", form, "radio", f"{label} item {i}", choices, required=required, note=note)
        for i in range(1, n + 1)
    ]


def _levels(lo: int, hi: int, lo_label: str = "", hi_label: str = ""):
    out = []
    for v in range(lo, hi + 1):
        lab = str(v)
        if v == lo and lo_label:
            lab = f"{v} {lo_label}"
        elif v == hi and hi_label:
            lab = f"{v} {hi_label}"
        out.append((v, lab))
    return tuple(out)


def _fields() -> list[Field]:
    f: list[Field] = []
    # --- screening log (one record per person screened) -----------------------------
    s = "screening"
    f += [
        Field("record_id", s, "text", "Record ID", identifier=True, required=True),
        Field("scr_date", s, "text", "Date screened", validation="date_ymd", required=True),
        Field("scr_site", s, "dropdown", "Site", SITES, required=True),
        Field("scr_source", s, "dropdown", "Recruitment source", SOURCES, required=True),
        Field("scr_eligible", s, "yesno", "Eligible on screening", YESNO, required=True),
        Field(
            "scr_inelig_reason",
            s,
            "dropdown",
            "Main reason not eligible",
            (
                (1, "In paid employment"),
                (2, "Retired"),
                (3, "Out of work for less than the required period"),
                (4, "Pain not chronic or not the main barrier to work"),
                (5, "In another work placement scheme"),
                (6, "Not fluent enough in English to consent"),
                (7, "Ongoing litigation"),
                (8, "Does not want to work"),
            ),
            branching="[scr_eligible] = '0'",
        ),
        Field(
            "scr_interested",
            s,
            "yesno",
            "Expressed interest in taking part",
            YESNO,
            branching="[scr_eligible] = '1'",
        ),
        Field("scr_enrolled", s, "yesno", "Enrolled", YESNO, required=True),
        Field(
            "scr_not_enrolled_reason",
            s,
            "dropdown",
            "Reason eligible and interested but not enrolled",
            ((1, "Could not be contacted"), (2, "Declined at the consent visit")),
            branching="[scr_interested] = '1' and [scr_enrolled] = '0'",
        ),
        Field(
            "scr_participant_id",
            s,
            "text",
            "Participant ID given at enrolment",
            identifier=True,
            branching="[scr_enrolled] = '1'",
        ),
    ]
    # --- enrolment and demographics (baseline) -------------------------------------
    e = "enrolment"
    f += [
        Field(
            "enr_consent_date",
            e,
            "text",
            "Date of consent (recruitment)",
            validation="date_ymd",
            required=True,
        ),
        Field("enr_site", e, "dropdown", "Site", SITES, required=True),
        Field("enr_source", e, "dropdown", "Recruitment source", SOURCES, required=True),
    ]
    d = "demographics"
    f += [
        Field("dem_dob", d, "text", "Date of birth", validation="date_ymd", identifier=True, required=True),
        Field("dem_sex", d, "radio", "Gender", ((1, "Female"), (2, "Male")), required=True),
        Field(
            "dem_marital",
            d,
            "radio",
            "Marital status",
            ((1, "Single (never married)"), (2, "Married"), (3, "Separated or divorced"), (4, "Widowed")),
            required=True,
        ),
        Field(
            "dem_ethnicity",
            d,
            "radio",
            "Ethnicity",
            ((1, "White"), (2, "Black"), (3, "Asian"), (4, "Mixed"), (5, "Other")),
            required=True,
        ),
        Field(
            "dem_education",
            d,
            "radio",
            "Highest education",
            (
                (1, "Degree/higher degree"),
                (2, "Higher education, A-level/equivalent"),
                (3, "GCSE/O-level/equivalent"),
                (4, "Vocational/work-related"),
                (5, "No qualification"),
            ),
            required=True,
        ),
        Field(
            "dem_pain_area",
            d,
            "checkbox",
            "Areas of pain (pain drawing)",
            (
                (1, "Lower back"),
                (2, "Back or neck"),
                (3, "Head"),
                (4, "Chest"),
                (5, "Abdominal"),
                (6, "Peripheral"),
            ),
            required=True,
            note="At least one area must be ticked",
        ),
        Field(
            "dem_years_pain",
            d,
            "text",
            "Years in pain",
            validation="number_1dp",
            vmin=0,
            vmax=80,
            required=True,
        ),
        Field(
            "dem_years_out_of_work",
            d,
            "text",
            "Years out of work",
            validation="number_1dp",
            vmin=0,
            vmax=60,
            required=True,
        ),
        Field(
            "dem_years_looking",
            d,
            "text",
            "Years looking for work",
            validation="number_1dp",
            vmin=0,
            vmax=60,
            required=True,
        ),
        Field("dem_prev_worked", d, "yesno", "Has previously worked", YESNO, required=True),
        Field(
            "dem_comorbid",
            d,
            "checkbox",
            "Additional health concerns",
            (
                (1, "Mental health"),
                (2, "Cardiovascular"),
                (3, "Rheumatological"),
                (4, "Musculoskeletal"),
                (5, "Alcohol misuse"),
                (6, "Other"),
            ),
            note="Leave all unticked when none",
        ),
    ]
    # --- health questionnaire (baseline and every follow-up) ------------------------
    h = "health_questionnaire"
    f.append(
        Field("hq_date", h, "text", "Date questionnaire completed", validation="date_ymd", required=True)
    )
    for dim, lab in (
        ("mo", "Mobility"),
        ("sc", "Self-care"),
        ("ua", "Usual activities"),
        ("pd", "Pain/discomfort"),
        ("ad", "Anxiety/depression"),
    ):
        f.append(
            Field(
                f"eq5d_{dim}",
                h,
                "radio",
                f"EQ-5D-5L {lab}",
                _levels(1, 5),
                required=True,
                note="1 = no problems, 5 = extreme problems / unable to",
            )
        )
    f.append(
        Field(
            "eq5d_vas",
            h,
            "slider",
            "EQ VAS: your health today",
            validation="integer",
            vmin=0,
            vmax=100,
            required=True,
        )
    )
    f += _items(
        "hads_",
        h,
        14,
        "HADS",
        _levels(0, 3),
        required=False,
        note="Scored 0-3; odd items anxiety, even items depression",
    )
    for name, lab, lo, hi in (
        ("nrs_confidence", "Confidence in working", "not at all confident", "completely confident"),
        ("nrs_ability", "Perceived work ability", "cannot work at all", "best work ability"),
        ("nrs_pain_now", "Pain intensity now", "no pain", "worst pain imaginable"),
        ("nrs_pain_week", "Pain intensity over the past week", "no pain", "worst pain imaginable"),
    ):
        f.append(Field(name, h, "radio", f"{lab} (0-10)", _levels(0, 10, lo, hi)))
    f += _items(
        "wemwbs_", h, 14, "WEMWBS", _levels(1, 5, "none of the time", "all of the time"), required=False
    )
    f += _items(
        "promis_fat_", h, 8, "PROMIS Fatigue 8a", _levels(1, 5, "not at all", "very much"), required=False
    )
    f += _items(
        "promis_pi_",
        h,
        8,
        "PROMIS Pain Interference 8a",
        _levels(1, 5, "not at all", "very much"),
        required=False,
    )
    # --- work questionnaire (follow-ups, when placed or in work) ----------------------
    w = "work_questionnaire"
    f.append(
        Field(
            "wq_satisfaction",
            w,
            "radio",
            "Satisfaction with placement",
            (
                (1, "Very dissatisfied"),
                (2, "Dissatisfied"),
                (3, "Neither satisfied nor dissatisfied"),
                (4, "Satisfied"),
                (5, "Very satisfied"),
            ),
        )
    )
    f += _items(
        "wrfq_",
        w,
        27,
        "WRFQ 2.0",
        (
            (0, "All of the time (100%)"),
            (1, "Most of the time"),
            (2, "Half of the time"),
            (3, "Some of the time"),
            (4, "None of the time (0%)"),
            (9, "Does not apply to my job"),
        ),
        required=False,
        note="Difficulty over the past 4 weeks; 9 = does not apply to my job",
    )
    f += _items("paw_", w, 15, "Psychosocial Aspects of Work", FIVE_AGREE, required=False)
    f += _items("rtwse_", w, 2, "Return-to-work self-efficacy", _levels(1, 5), required=False)
    f.append(
        Field(
            "wq_pain_interfere",
            w,
            "radio",
            "How much did pain interfere with your work?",
            NOT_AT_ALL_TO_EXTREMELY,
        )
    )
    f.append(
        Field("wq_pain_worse", w, "radio", "How much did work make your pain worse?", NOT_AT_ALL_TO_EXTREMELY)
    )
    # --- employment (14 weeks and 6 months) ---------------------------------------------
    j = "employment"
    f += [
        Field(
            "emp_offers",
            j,
            "text",
            "Number of job offers (any source)",
            validation="integer",
            vmin=0,
            vmax=20,
        ),
        Field(
            "emp_accepted", j, "text", "Number of job offers accepted", validation="integer", vmin=0, vmax=20
        ),
        Field("emp_started", j, "text", "Number of new jobs started", validation="integer", vmin=0, vmax=20),
        Field("emp_job_title", j, "text", "Job title of accepted offer", identifier=False),
        Field("emp_start_date", j, "text", "Start date of new job", validation="date_ymd"),
        Field(
            "emp_pattern",
            j,
            "dropdown",
            "Work pattern",
            ((1, "Full-time"), (2, "Part-time"), (3, "Zero hours / flexible")),
        ),
    ]
    # --- follow-up administration (study administrator) --------------------------------
    t = "followup_admin"
    f += [
        Field("fu_sent_date", t, "text", "Date questionnaire sent", validation="date_ymd"),
        Field(
            "fu_reminder_calls", t, "text", "Reminder telephone calls", validation="integer", vmin=0, vmax=10
        ),
        Field("fu_returned", t, "yesno", "Questionnaire returned", YESNO, required=True),
        Field(
            "fu_return_date",
            t,
            "text",
            "Date returned",
            validation="date_ymd",
            branching="[fu_returned] = '1'",
        ),
    ]
    # --- work preparation ----------------------------------------------------------------
    p = "work_preparation"
    f += [
        Field("wp_attended", p, "yesno", "Attended work preparation", YESNO, required=True),
        Field(
            "wp_session",
            p,
            "dropdown",
            "Session attended",
            (
                (1, "Group session 1 (Birmingham)"),
                (2, "Group session 2 (Coventry)"),
                (3, "Group session 3 (Coventry)"),
                (4, "Group session 4 (Coventry)"),
                (5, "Group session 5 (Coventry)"),
                (6, "One-to-one session (participant's home)"),
            ),
            branching="[wp_attended] = '1'",
        ),
        Field(
            "wp_date",
            p,
            "text",
            "First day of session",
            validation="date_ymd",
            branching="[wp_attended] = '1'",
        ),
        Field(
            "wp_days",
            p,
            "text",
            "Days attended",
            validation="number_1dp",
            vmin=0,
            vmax=2,
            branching="[wp_attended] = '1'",
        ),
    ]
    # --- placement -------------------------------------------------------------------------
    q = "placement"
    f += [
        Field("plc_offered", q, "yesno", "Offered a placement", YESNO, required=True),
        Field("plc_placed", q, "yesno", "Matched and attended a placement", YESNO, required=True),
        Field(
            "plc_decision_date",
            q,
            "text",
            "Date placement accepted, or date it was decided the participant could not be placed",
            validation="date_ymd",
        ),
        Field(
            "plc_not_placed_reason",
            q,
            "dropdown",
            "Reason not placed",
            (
                (1, "Language or learning difficulties"),
                (2, "No suitable placement in area"),
                (3, "Disengaged after offer"),
                (4, "Withdrew or left the study"),
            ),
            branching="[plc_placed] = '0'",
        ),
        Field(
            "plc_provider",
            q,
            "dropdown",
            "Placement provider",
            ((1, "NHS Trust"), (2, "City council"), (3, "Public services provider"), (4, "University")),
            branching="[plc_placed] = '1'",
        ),
        Field("plc_site", q, "dropdown", "Placement area", SITES, branching="[plc_placed] = '1'"),
        Field("plc_role", q, "text", "Placement role", branching="[plc_placed] = '1'"),
        Field(
            "plc_start",
            q,
            "text",
            "Placement start date",
            validation="date_ymd",
            branching="[plc_placed] = '1'",
        ),
        Field(
            "plc_end", q, "text", "Placement end date", validation="date_ymd", branching="[plc_placed] = '1'"
        ),
    ]
    f += [
        Field(
            f"plc_hours_wk{i}",
            q,
            "text",
            f"Hours worked in placement week {i} (self-report)",
            validation="number_2dp",
            vmin=0,
            vmax=40,
            branching="[plc_placed] = '1'",
        )
        for i in range(1, 7)
    ]
    f += [
        Field(
            "plc_weeks",
            q,
            "text",
            "Weeks attended",
            validation="number_1dp",
            vmin=0,
            vmax=6,
            branching="[plc_placed] = '1'",
        ),
        Field(
            "plc_completed",
            q,
            "yesno",
            "Completed the six-week placement",
            YESNO,
            branching="[plc_placed] = '1'",
        ),
        Field(
            "plc_noncompletion_reason",
            q,
            "dropdown",
            "Reason placement not completed",
            (
                (1, "Moved into paid employment"),
                (2, "Personal difficulties"),
                (3, "Not happy in the placement"),
                (4, "Health reasons"),
            ),
            branching="[plc_completed] = '0'",
        ),
    ]
    # --- case-management contacts (repeating) ---------------------------------------
    c = "cm_contact"
    f += [
        Field("cm_date", c, "text", "Contact date", validation="date_ymd", required=True),
        Field(
            "cm_manager",
            c,
            "dropdown",
            "Case manager",
            (
                (1, "Occupational health nurse"),
                (2, "Employment specialist"),
                (3, "Occupational therapist (stand-in)"),
            ),
            required=True,
        ),
        Field(
            "cm_mode",
            c,
            "dropdown",
            "Mode",
            ((1, "Face to face"), (2, "Telephone"), (3, "Email"), (4, "SMS")),
            required=True,
        ),
        Field(
            "cm_minutes",
            c,
            "text",
            "Duration (minutes)",
            validation="integer",
            vmin=1,
            vmax=480,
            required=True,
        ),
        Field("cm_referral", c, "yesno", "Referral to existing healthcare made", YESNO, required=True),
    ]
    # --- status changes and withdrawals (repeating) ---------------------------------------
    x = "status_change"
    f += [
        Field("sc_date", x, "text", "Date of status change", validation="date_ymd", required=True),
        Field(
            "sc_type",
            x,
            "dropdown",
            "Status change",
            (
                (1, "Found ineligible after recruitment"),
                (2, "Withdrew"),
                (3, "Could not be placed"),
                (4, "Disengaged after placement offer"),
                (5, "Died"),
                (6, "Lost to follow-up"),
                (7, "Obtained employment (reported outside the questionnaires)"),
            ),
            required=True,
        ),
        Field(
            "sc_reason",
            x,
            "dropdown",
            "Reason",
            (
                (1, "Off sick rather than unemployed"),
                (2, "Multiple dental operations"),
                (3, "Did not want to participate"),
                (4, "Left on the first day of work preparation (no reason given)"),
                (5, "Language or learning difficulties"),
                (6, "Wanted a placement in another area"),
                (7, "Obtained employment"),
                (8, "Death unrelated to the intervention"),
                (9, "Other or not given"),
            ),
            required=True,
        ),
        Field("sc_further_data", x, "yesno", "May follow-up data still be collected?", YESNO, required=True),
        Field("sc_details", x, "notes", "Details (free text)"),
    ]
    # --- adverse events (repeating) ------------------------------------------------------
    a = "adverse_event"
    f += [
        Field("ae_date", a, "text", "Date of onset", validation="date_ymd", required=True),
        Field("ae_serious", a, "yesno", "Serious adverse event", YESNO, required=True),
        Field(
            "ae_related",
            a,
            "dropdown",
            "Relationship to the intervention",
            ((1, "Unrelated"), (2, "Possibly related"), (3, "Related")),
            required=True,
        ),
        Field(
            "ae_category",
            a,
            "dropdown",
            "Category",
            ((1, "New health problem"), (2, "Increased pain"), (3, "Death"), (4, "Other")),
            required=True,
        ),
        Field("ae_description", a, "notes", "Description (free text)"),
    ]
    return f


EXPORTS: dict[str, Export] = {
    x.name: x
    for x in (
        Export(
            "screening",
            "screening.csv",
            ("screening",),
            ("screening_arm_1",),
            description="Screening log: everyone assessed for eligibility",
        ),
        Export(
            "enrolment",
            "enrolment.csv",
            ("enrolment", "demographics"),
            ("baseline_arm_1",),
            description="Enrolment and baseline demographics",
        ),
        Export(
            "questionnaires_baseline",
            "questionnaires_baseline.csv",
            ("health_questionnaire",),
            ("baseline_arm_1",),
            description="Baseline health questionnaire",
        ),
        Export(
            "work_preparation",
            "work_preparation.csv",
            ("work_preparation",),
            ("intervention_arm_1",),
            description="Work preparation attendance",
        ),
        Export(
            "status_changes",
            "status_changes.csv",
            ("status_change",),
            ("intervention_arm_1",),
            repeating="status_change",
            description="Status changes and withdrawals",
        ),
        Export(
            "placements",
            "placements.csv",
            ("placement",),
            ("intervention_arm_1",),
            description="Work placements",
        ),
        Export(
            "case_management",
            "case_management.csv",
            ("cm_contact",),
            ("intervention_arm_1",),
            repeating="cm_contact",
            description="Case-management contacts",
        ),
        Export(
            "adverse_events",
            "adverse_events.csv",
            ("adverse_event",),
            ("intervention_arm_1",),
            repeating="adverse_event",
            description="Adverse events",
        ),
        Export(
            "followup_admin",
            "followup_admin.csv",
            ("followup_admin",),
            FOLLOW_UP_EVENTS,
            description="Follow-up administration log (questionnaires sent and returned)",
        ),
        Export(
            "questionnaires_week6",
            "questionnaires_week6.csv",
            ("health_questionnaire", "work_questionnaire"),
            ("week6_arm_1",),
            description="6-week questionnaires",
        ),
        Export(
            "questionnaires_week14",
            "questionnaires_week14.csv",
            ("health_questionnaire", "work_questionnaire", "employment"),
            ("week14_arm_1",),
            description="14-week questionnaires",
        ),
        Export(
            "questionnaires_month6",
            "questionnaires_month6.csv",
            ("health_questionnaire", "work_questionnaire", "employment"),
            ("month6_arm_1",),
            description="6-month questionnaires",
        ),
    )
}

# ---------------------------------------------------------------- the REDCap project
# REDCap's downloads the generator writes (data/raw/).
RECORDS_FILE = "records.csv"
DICTIONARY_FILE = "data_dictionary.csv"
DESIGNATIONS_FILE = "instrument_designations.csv"
EVENTS_FILE = "events.csv"
PROJECT_XML_FILE = "project.xml"
PROJECT_TITLE = "Supported work placements for chronic pain: feasibility study"
ARM = 1
# The forms of each event (the instrument designations), in REDCap's order.
DESIGNATIONS: dict[str, tuple[str, ...]] = {
    "screening_arm_1": ("screening",),
    "baseline_arm_1": ("enrolment", "demographics", "health_questionnaire"),
    "intervention_arm_1": ("work_preparation", "placement", "cm_contact", "status_change", "adverse_event"),
    **{
        event: ("followup_admin", "health_questionnaire", "work_questionnaire")
        + (("employment",) if event != "week6_arm_1" else ())
        for event in FOLLOW_UP_EVENTS
    },
}
# Repeating instruments: (event, form).
REPEATING = (
    ("intervention_arm_1", "cm_contact"),
    ("intervention_arm_1", "status_change"),
    ("intervention_arm_1", "adverse_event"),
)
FORM_LABELS = {
    "screening": "Screening",
    "enrolment": "Enrolment",
    "demographics": "Demographics",
    "health_questionnaire": "Health questionnaire",
    "work_questionnaire": "Work questionnaire",
    "employment": "Employment",
    "followup_admin": "Follow-up administration",
    "work_preparation": "Work preparation",
    "placement": "Placement",
    "cm_contact": "Case-management contact",
    "status_change": "Status change",
    "adverse_event": "Adverse event",
}
# Columns the cohort builders make that the REDCap project has no field for: the record ID
# is the screening number, so the enrolment form needs no screening-ID field.
NOT_IN_PROJECT = frozenset({"enr_screening_id"})

DICTIONARY_COLUMNS = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]


def choices_text(choices) -> str:
    """A code list as REDCap writes it: ``1, Label | 2, Label``."""
    return " | ".join(f"{code}, {label}" for code, label in choices)


def dictionary_row(fld: Field, sites=SITES) -> list[str]:
    """The field's row of the REDCap data dictionary (``DICTIONARY_COLUMNS``); the site
    fields list the study's own ``sites``."""

    def num(v):
        return "" if v is None else (str(int(v)) if float(v).is_integer() else str(v))

    if fld.ftype == "slider":
        choices = "0 | 50 | 100"
    elif fld.ftype == "yesno":
        choices = ""
    else:
        choices = choices_text(sites if fld.name in SITE_FIELDS else fld.choices)
    return [
        fld.name,
        fld.form,
        "",
        fld.ftype,
        fld.label,
        choices,
        fld.note,
        fld.validation,
        num(fld.vmin),
        num(fld.vmax),
        "y" if fld.identifier else "",
        fld.branching,
        "y" if fld.required else "",
        "",
        "",
        "",
        "",
        "",
    ]


@cache
def fields() -> tuple[Field, ...]:
    return tuple(_fields())


@cache
def fields_by_name() -> dict[str, Field]:
    return {f.name: f for f in fields()}


def form_fields(form: str) -> list[Field]:
    return [f for f in fields() if f.form == form and f.name != "record_id"]


def export_columns(export: Export) -> list[str]:
    """Columns of an export file, in REDCap's order."""
    cols = ["record_id", "redcap_event_name"]
    if export.repeating:
        cols += ["redcap_repeat_instrument", "redcap_repeat_instance"]
    for form in export.forms:
        for fld in form_fields(form):
            cols += fld.columns()
        cols.append(f"{form}_complete")
    return cols


def study_sites(table) -> tuple[tuple[int, str], ...]:
    """The study's sites (code, label) as validation stored them with a validated table
    (``table.attrs["sites"]``, read from the data dictionary); ``SITES`` when absent."""
    stored = getattr(table, "attrs", {}).get("sites")
    return tuple((int(code), str(label)) for code, label in stored) if stored else SITES
