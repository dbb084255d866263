"""REDCap's project XML: CDISC ODM 1.3 with REDCap's own attributes (namespace ``redcap``).

One file replaces the dictionary, the designations and the repeating settings. What is
read (as REDCap's ODM export writes it):

* ``MetaDataVersion/@redcap:RecordIdField``: the record ID field;
* ``StudyEventDef`` (longitudinal): ``redcap:UniqueEventName``, ``redcap:EventName``,
  ``redcap:ArmNum``, ``redcap:ArmName``, ``redcap:DayOffset``; its ``FormRef``
  children's ``redcap:FormName`` are the designations;
* ``FormDef`` (``redcap:FormName``, ``Name`` = label) -> ``ItemGroupRef`` ->
  ``ItemGroupDef`` -> ``ItemRef``: the fields in order; a checkbox has one boolean item
  per choice (``field___code``) sharing ``redcap:Variable``; ``<form>_complete`` and the
  survey/DAG items are REDCap's own columns, not fields;
* ``ItemDef``: ``redcap:FieldType`` (the database's names: ``select`` is dropdown,
  ``textarea`` notes), ``redcap:TextValidationType`` (``int``/``float`` for integer/number),
  ``redcap:FieldNote``, ``redcap:SectionHeader``, ``redcap:Calculation``,
  ``redcap:SliderLabels``, ``redcap:Identifier="y"``, ``redcap:RequiredField="y"``,
  ``redcap:BranchingLogic``, ``redcap:FieldAnnotation``, ``redcap:CustomAlignment``,
  ``redcap:QuestionNumber``, ``redcap:MatrixGroupName``, ``redcap:MatrixRanking``;
  ``Question/TranslatedText`` is the label; ``RangeCheck`` GE/LE the minimum/maximum;
* ``CodeList``/``CodeListItem CodedValue`` + ``Decode``: choices (a checkbox's come whole
  from ``redcap:CheckboxChoices``);
* ``GlobalVariables``: ``redcap:MissingDataCodes`` and ``redcap:RepeatingInstrumentsAndEvents``
  (``redcap:RepeatingInstrument`` with ``redcap:UniqueEventName`` and
  ``redcap:RepeatInstrument``; ``redcap:RepeatingEvent``); a classic project's
  repeating instruments name event ``event_1_arm_1``.
"""

from __future__ import annotations

import dataclasses
import re
import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

from .dictionary import (
    NAME,
    NO_IDENTIFIERS_KEY,
    build_project,
    identifier_flag,
    oversized_code,
    oversized_code_rule,
    parse_missing_codes,
)
from .files import Limits, read_bytes
from .messages import Failure, fail
from .dictionary import parse_limit
from .model import (
    shared_labels,
    FIELD_TYPE_ALIASES,
    FIELD_TYPES,
    VALIDATION_ALIASES,
    VALIDATIONS,
    ChoicesError,
    Field,
    Project,
    Repeating,
    parse_choices,
)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list["Node"] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> "Node | None":
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list["Node"]:
        return [c for c in self.children if c.tag == tag]

    def iter(self, tag: str):
        if self.tag == tag:
            yield self
        for c in self.children:
            yield from c.iter(tag)


def _local(name: str) -> str:
    """``redcap:X`` for REDCap's namespace, the local name for ODM's."""
    if " " in name:
        uri, local = name.rsplit(" ", 1)
        return f"redcap:{local}" if "projectredcap" in uri else local
    return name


MAX_DEPTH = 64  # REDCap's ODM nests 6 deep; deeper is not a project XML


class TooDeep(ValueError):
    """Elements nested deeper than :data:`MAX_DEPTH`."""

    def __init__(self, line: int):
        self.lineno = line
        super().__init__(
            f"elements are nested more than {MAX_DEPTH} deep (REDCap's project XML nests 6); refused"
        )


def parse_xml(data: bytes) -> Node:
    """A small element tree that keeps each element's line (expat; no external entities).
    Text arrives in chunks (one per entity reference): they are joined once per element,
    so the time stays linear in the file's size; nesting deeper than :data:`MAX_DEPTH` is
    refused (:class:`TooDeep`)."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    stack: list[Node] = []
    texts: list[list[str]] = []
    root: list[Node] = []

    def start(name, attrs):
        node = Node(_local(name), {_local(k): v for k, v in attrs.items()}, parser.CurrentLineNumber)
        if len(stack) >= MAX_DEPTH:
            raise TooDeep(parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)
        texts.append([])

    def end(name):
        stack.pop().text = "".join(texts.pop())

    def chars(data):
        if texts:
            texts[-1].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.EntityDeclHandler = lambda *a: (_ for _ in ()).throw(
        ValueError("entity declarations are not allowed")
    )
    parser.Parse(data, True)
    return root[0]


def _text(node: Node | None) -> str:
    if node is None:
        return ""
    t = node.find("TranslatedText")
    return (t.text if t is not None else node.text).strip()


def read_project_xml(
    path: str | Path, *, limits: Limits | None = None, no_identifiers: bool = False
) -> tuple[Project | None, list[Failure]]:
    """A Project from REDCap's project XML. ``redcap:Identifier`` is read as the
    dictionary's ``Identifier?`` (``y``/``yes`` in any case; absent or blank: not one; any
    other value is refused); with ``no_identifiers`` (the study file says the project has
    none) a field marked as one is refused."""
    path = Path(path)
    name = path.name
    data, failures = read_bytes(path, limits or Limits(), "project XML")
    if data is None:
        return None, failures
    try:
        root = parse_xml(data)
    except (xml.parsers.expat.ExpatError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return None, [fail(name, f"not readable XML: {exc}", line=line)]
    if root.tag != "ODM":
        return None, [
            fail(name, f"not a CDISC ODM file (its root element is <{root.tag}>, not <ODM>)", line=root.line)
        ]
    study = root.find("Study")
    mdv = study.find("MetaDataVersion") if study else None
    if study is None or mdv is None:
        return None, [
            fail(
                name,
                "the ODM file has no Study/MetaDataVersion: download the project XML with its "
                "metadata ('REDCap project (XML)' or 'CDISC ODM (XML)' with metadata)",
                line=root.line,
            )
        ]
    notes = [
        f"{name}: REDCap project XML"
        + (
            f" (REDCap {root.attrs['SourceSystemVersion']})"
            if root.attrs.get("SourceSystem") == "REDCap"
            else ""
        )
    ]
    if root.find("ClinicalData") is not None:
        notes.append(f"{name}: it holds records too (ClinicalData)")
    gv = study.find("GlobalVariables")
    title = _text(gv.find("StudyName")) if gv else ""
    item_defs = {n.attrs.get("OID"): n for n in mdv.findall("ItemDef")}
    code_lists = {n.attrs.get("OID"): n for n in mdv.findall("CodeList")}
    group_defs = {n.attrs.get("OID"): n for n in mdv.findall("ItemGroupDef")}
    record_id = mdv.attrs.get("redcap:RecordIdField", "")
    fields: list[Field] = []
    seen: set[str] = set()
    form_labels: dict[str, str] = {}
    unknown_validation: dict[str, list[str]] = {}
    for form_def in mdv.findall("FormDef"):
        form = form_def.attrs.get("redcap:FormName") or form_def.attrs.get("OID", "").removeprefix("Form.")
        form_labels[form] = form_def.attrs.get("Name", "")
        for gref in form_def.findall("ItemGroupRef"):
            group = group_defs.get(gref.attrs.get("ItemGroupOID"))
            if group is None:
                failures.append(
                    fail(
                        name,
                        "ItemGroupRef names no ItemGroupDef",
                        line=gref.line,
                        value=gref.attrs.get("ItemGroupOID", ""),
                    )
                )
                continue
            for iref in group.findall("ItemRef"):
                oid = iref.attrs.get("ItemOID", "")
                var = iref.attrs.get("redcap:Variable", oid)
                if var in seen:
                    continue  # a checkbox's other choices
                item = item_defs.get(oid)
                if item is None:
                    failures.append(fail(name, "ItemRef names no ItemDef", line=iref.line, value=oid))
                    continue
                ftype_raw = item.attrs.get("redcap:FieldType", "")
                if (
                    not ftype_raw
                    or var == f"{form}_complete"
                    or var.startswith("redcap_")
                    or var == f"{form}_timestamp"
                ):
                    continue  # REDCap's own columns
                seen.add(var)
                f, more, vname = _field(name, form, var, item, code_lists, seen, no_identifiers)
                failures += more
                if vname:
                    unknown_validation.setdefault(vname, []).append(var)
                if f is not None:
                    fields.append(f)
    for vname, names in unknown_validation.items():
        notes.append(
            f"validation type '{vname}' is not one this library knows; values of "
            f"{', '.join(names)} are checked as text only"
        )
    if not fields:
        return None, failures + [fail(name, "the project XML defines no fields", line=mdv.line)]
    if record_id and fields[0].name != record_id:
        if record_id in {f.name for f in fields}:
            failures.append(
                fail(
                    name,
                    f"redcap:RecordIdField is {record_id} but the first field is {fields[0].name}",
                    line=mdv.line,
                    field=record_id,
                )
            )
        else:
            failures.append(
                fail(
                    name,
                    f"redcap:RecordIdField {record_id} is not a field of the project",
                    line=mdv.line,
                    field=record_id,
                )
            )
    designations = []
    event_info = {}
    arm_names = {}
    forms = {f.form for f in fields}
    for ev in mdv.findall("StudyEventDef"):
        unique_name = ev.attrs.get("redcap:UniqueEventName") or ev.attrs.get("OID", "").removeprefix("Event.")
        try:
            arm = int(ev.attrs.get("redcap:ArmNum", "1") or 1)
        except ValueError:
            failures.append(
                fail(
                    name,
                    "redcap:ArmNum is not a whole number",
                    line=ev.line,
                    event=unique_name,
                    value=ev.attrs.get("redcap:ArmNum"),
                )
            )
            continue
        arm_names.setdefault(arm, ev.attrs.get("redcap:ArmName") or f"Arm {arm}")
        offset = ev.attrs.get("redcap:DayOffset", "")
        try:
            day = float(offset) if offset else None
        except ValueError:
            day = None
        event_info[unique_name] = (
            ev.attrs.get("redcap:EventName") or ev.attrs.get("Name") or unique_name,
            arm,
            day,
        )
        refs = ev.findall("FormRef")
        if not refs:
            designations.append((arm, unique_name, None))
        for ref in refs:
            form = ref.attrs.get("redcap:FormName") or ref.attrs.get("FormOID", "").removeprefix("Form.")
            if form not in forms:
                failures.append(
                    fail(
                        name,
                        "FormRef names a form the project XML does not define",
                        line=ref.line,
                        event=unique_name,
                        value=form,
                    )
                )
                continue
            designations.append((arm, unique_name, form))
    missing_text = _text(gv.find("redcap:MissingDataCodes")) if gv else ""
    codes, more = parse_missing_codes(missing_text, name)
    failures += more
    repeating = Repeating()
    rep_node = gv.find("redcap:RepeatingInstrumentsAndEvents") if gv else None
    if rep_node is not None:
        inst, evs = set(), set()
        for n in rep_node.iter("redcap:RepeatingInstrument"):
            inst.add((n.attrs.get("redcap:UniqueEventName", ""), n.attrs.get("redcap:RepeatInstrument", "")))
        for n in rep_node.iter("redcap:RepeatingEvent"):
            evs.add(n.attrs.get("redcap:UniqueEventName", ""))
        repeating = Repeating(frozenset(inst), frozenset(evs))
    if any(f.severity == "error" for f in failures):
        return None, failures
    if not designations:
        designations = None
    else:
        designations = [d for d in designations if d[2] is not None] or None
    project, more = build_project(
        fields,
        designations=designations,
        event_info=event_info,
        repeating=repeating,
        missing_data_codes=codes,
        sources=(name,),
        notes=notes,
        form_labels=form_labels,
        arm_names=arm_names,
        source_name=name,
    )
    failures += more
    if any(f.severity == "error" for f in failures):
        return None, failures
    created = root.attrs.get("CreationDateTime", "").strip()
    return dataclasses.replace(project, title=title or project.title, created=created), failures


def _field(
    file: str,
    form: str,
    var: str,
    item: Node,
    code_lists: dict[str, Node],
    seen: set[str],
    no_identifiers: bool = False,
) -> tuple[Field | None, list[Failure], str]:
    failures: list[Failure] = []
    a = item.attrs
    line = item.line

    def bad(rule, value=""):
        failures.append(fail(file, rule, line=line, field=var, value=value))

    if not NAME.fullmatch(var):
        bad("redcap:Variable is not a REDCap variable name", var)
        return None, failures, ""
    raw_type = a.get("redcap:FieldType", "")
    ftype = FIELD_TYPE_ALIASES.get(raw_type, raw_type)
    if ftype not in FIELD_TYPES:
        bad(f"unknown redcap:FieldType (REDCap's are {', '.join(FIELD_TYPES)}, select, textarea)", raw_type)
        return None, failures, ""
    choices: tuple = ()
    ref = item.find("CodeListRef")
    cl = code_lists.get(ref.attrs.get("CodeListOID")) if ref is not None else None
    if ftype == "checkbox":
        text = cl.attrs.get("redcap:CheckboxChoices", "") if cl is not None else ""
        try:
            choices = parse_choices(text)
        except ChoicesError as exc:
            bad(f"redcap:CheckboxChoices cannot be read: {exc}", text)
            return None, failures, ""
        if not choices:
            bad("checkbox without redcap:CheckboxChoices")
            return None, failures, ""
    elif ftype in ("radio", "dropdown"):
        if cl is None:
            bad(f"{ftype} field without a CodeList")
            return None, failures, ""
        pairs = [(i.attrs.get("CodedValue", ""), _text(i.find("Decode"))) for i in cl.findall("CodeListItem")]
        codes = [c for c, _ in pairs]
        if not pairs or any(not c for c in codes) or len(set(codes)) != len(codes):
            bad("the CodeList's coded values are blank or repeated", ", ".join(codes))
            return None, failures, ""
        choices = tuple(pairs)
    shared = shared_labels(choices)
    if shared:  # REDCap allows it: a warning, the codes stay apart
        failures.append(
            fail(
                file,
                shared,
                line=line,
                field=var,
                value=" | ".join(f"{c}, {label}" for c, label in choices),
                severity="warning",
            )
        )
    big = oversized_code(choices) if ftype != "checkbox" else None
    if big is not None:
        bad(oversized_code_rule(big), big)
        return None, failures, ""
    vname_raw = a.get("redcap:TextValidationType", "")
    vname = VALIDATION_ALIASES.get(vname_raw, vname_raw) if ftype == "text" else ""
    unknown = vname if vname and vname not in VALIDATIONS else ""
    kind = Field(var, form, ftype, validation=vname).kind
    lims = {"GE": None, "LE": None}
    texts = {"GE": "", "LE": ""}
    for rc in item.findall("RangeCheck"):
        comp = rc.attrs.get("Comparator", "")
        value = rc.find("CheckValue").text.strip() if rc.find("CheckValue") is not None else ""
        key = "GE" if comp in ("GE", "GT") else "LE"
        texts[key] = value
        if re.search(r"\[[^\]]+\]", value):
            continue
        try:
            lims[key] = parse_limit(value, kind, vname) if ftype != "slider" else float(value)
        except ValueError:
            bad(f"RangeCheck {comp} value cannot be read as a {kind}", value)
    identifier = identifier_flag(a.get("redcap:Identifier", ""))
    if identifier is None:
        bad(
            "redcap:Identifier is not 'y' (an identifier) or blank (not one); REDCap reads 'y' or 'yes' in any "
            "case",
            a.get("redcap:Identifier", ""),
        )
        return None, failures, ""
    if identifier and no_identifiers:
        bad(
            f"the field is marked as an identifier (redcap:Identifier), but the study file says the project has "
            f"none ({NO_IDENTIFIERS_KEY}: true)",
            a.get("redcap:Identifier", ""),
        )
        return None, failures, ""
    slider = a.get("redcap:SliderLabels", "")
    label = _text(item.find("Question"))
    return (
        Field(
            name=var,
            form=form,
            type=ftype,
            label=label,
            section_header=a.get("redcap:SectionHeader", ""),
            choices=choices,
            calculation=a.get("redcap:Calculation", ""),
            slider_labels=tuple(p.strip() for p in slider.split("|")) if slider else (),
            note=a.get("redcap:FieldNote", ""),
            validation=vname,
            min_text=texts["GE"],
            max_text=texts["LE"],
            minimum=lims["GE"],
            maximum=lims["LE"],
            identifier=identifier,
            branching=a.get("redcap:BranchingLogic", ""),
            required=a.get("redcap:RequiredField", "").lower() == "y",
            alignment=a.get("redcap:CustomAlignment", ""),
            question_number=a.get("redcap:QuestionNumber", ""),
            matrix_group=a.get("redcap:MatrixGroupName", ""),
            matrix_ranking=a.get("redcap:MatrixRanking", "") == "y",
            annotation=a.get("redcap:FieldAnnotation", ""),
            line=line,
        ),
        failures,
        unknown,
    )


def read_clinical_data(path: str | Path, project: Project, *, limits: Limits | None = None, export_date=None):
    """The records of REDCap's "CDISC ODM project XML with data", laid out as REDCap's records
    export (one row per record x event x repeat instance, its columns in REDCap's order):
    ``ClinicalData/SubjectData@SubjectKey`` (the record; ``redcap:DataAccessGroup``) ->
    ``StudyEventData`` (``redcap:UniqueEventName``, ``StudyEventRepeatKey`` for a repeating
    event) -> ``FormData`` (``FormOID`` ``Form.<form>``, ``FormRepeatKey`` for a repeating
    instrument) -> ``ItemGroupData`` -> ``ItemData@ItemOID`` = ``@Value``. Each row keeps the
    XML line of its ``StudyEventData`` (a repeating instrument's row: of its ``FormData``), so a
    failure names the line of the file. A checkbox choice
    without an ``ItemData`` on a row of its form is unticked (0), as the CSV export writes it.
    Returns (Records | None, failures); ClinicalData without any SubjectData is a project
    with no records."""
    import numpy as np
    import pyarrow as pa

    from .files import TextTable
    from .records import DAG, EVENT, REPEAT_INSTANCE, REPEAT_INSTRUMENT, expected_columns, records_from_table

    path = Path(path)
    name = path.name
    data, failures = read_bytes(path, limits or Limits(), "project XML")
    if data is None:
        return None, failures
    try:
        root = parse_xml(data)
    except (xml.parsers.expat.ExpatError, ValueError) as exc:
        return None, [fail(name, f"not readable XML: {exc}", line=getattr(exc, "lineno", None))]
    clinical = root.findall("ClinicalData")
    if not clinical:
        return None, [
            fail(
                name,
                "no records export is given and the project XML holds no data (no ClinicalData): "
                "download the project XML with its data ('CDISC ODM project XML with data'), or "
                "name the records export (redcap.records)",
                line=root.line,
            )
        ]
    expected = expected_columns(project)
    rid = project.record_id_field
    rows: dict[tuple, dict[str, str]] = {}
    lines: dict[tuple, int] = {}
    forms_in: dict[tuple, set] = {}
    seen: dict[str, None] = {}
    has_dag = False
    for cd in clinical:
        for subject in cd.findall("SubjectData"):
            record = subject.attrs.get("SubjectKey", "")
            dag = subject.attrs.get("redcap:DataAccessGroup")
            has_dag |= dag is not None
            for sev in subject.findall("StudyEventData"):
                event = (
                    (
                        sev.attrs.get("redcap:UniqueEventName")
                        or sev.attrs.get("StudyEventOID", "").removeprefix("Event.")
                    )
                    if project.longitudinal
                    else ""
                )
                for fd in sev.findall("FormData"):
                    form = fd.attrs.get("redcap:FormName") or fd.attrs.get("FormOID", "").removeprefix(
                        "Form."
                    )
                    how = project.repeats(form, event)
                    if how == "instrument":
                        key = (record, event, form, fd.attrs.get("FormRepeatKey", "1"))
                    elif how == "event":
                        key = (record, event, "", sev.attrs.get("StudyEventRepeatKey", "1"))
                    else:
                        key = (record, event, "", "")
                    row = rows.setdefault(key, {rid: record, DAG: dag or ""})
                    lines.setdefault(key, fd.line if how == "instrument" else sev.line)
                    forms_in.setdefault(key, set()).add(form)
                    for item in fd.iter("ItemData"):
                        oid = item.attrs.get("ItemOID", "")
                        if oid and oid != rid:
                            row[oid] = item.attrs.get("Value", item.text)
                            seen.setdefault(oid, None)
    optional = {
        col
        for col, info in expected.items()
        if info.kind in ("timestamp", "checkbox_missing") or col in ("redcap_survey_identifier",)
    }
    header = [
        col
        for col, info in expected.items()
        if col not in (EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE, DAG)
        and (col not in optional or col in seen)
    ]
    system = [EVENT] if project.longitudinal else []
    if project.repeating is not None and project.repeating.any:
        system += [REPEAT_INSTRUMENT, REPEAT_INSTANCE]
    if has_dag:
        system.append(DAG)
    header = header[:1] + system + header[1:] + [c for c in seen if c not in expected]
    unticked = {
        form.name: [
            c for f in project.form_fields(form.name) if f.type == "checkbox" for c in f.export_columns
        ]
        for form in project.forms
    }
    columns: dict[str, list[str]] = {h: [] for h in header}
    for key, row in rows.items():
        record, event, instrument, instance = key
        row = dict(row, **{EVENT: event, REPEAT_INSTRUMENT: instrument, REPEAT_INSTANCE: instance})
        for form in forms_in[key]:
            for col in unticked.get(form, []):
                row.setdefault(col, "0")
        for h in header:
            columns[h].append(row.get(h, "") or "")
    table = pa.Table.from_arrays([pa.array(columns[h], type=pa.string()) for h in header], names=header)
    text = TextTable(path, header, table, np.asarray(list(lines.values()), dtype=np.int64))
    if not rows:
        failures.append(fail(name, "the project XML's ClinicalData hold no records", severity="warning"))
    rec, more = records_from_table(
        text, failures, project, export_date=export_date, described="records from its ClinicalData"
    )
    return rec, [f for f in more if not (f.rule == "the export has a header but no records")]


__all__ = ["read_project_xml", "parse_xml", "read_clinical_data"]
