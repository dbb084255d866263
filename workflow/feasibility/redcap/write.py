"""Write REDCap's downloads from a Project and per-form tables: the data dictionary, the
instrument designations, the all-records export (raw values) and the project XML.

Files look as REDCap writes them: the dictionary download's 18 headers (or the API's
snake_case names), a UTF-8 byte-order mark and CRLF line ends if asked (the download) or
neither (the API); records in REDCap's column order, one row per record x event x repeat
instance, dates as ``YYYY-MM-DD``, unticked checkboxes as ``0``, a number with a comma
decimal validation with a comma. Text cells in a table are written as they are, so a
table may hold a missing-data code (``"UNK"``) anywhere. The synthetic generators and the
test fixtures use these writers; output is deterministic.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from .. import io as fio
from .dictionary import API_COLUMNS, DOWNLOAD_COLUMNS
from .model import FORM_STATUS, Field, Project, checkbox_column
from .records import DAG, EVENT, REPEAT_INSTANCE, REPEAT_INSTRUMENT
from .tidy import RECORD_ID

BOM = "\ufeff"


def _csv(rows: list[list[str]], *, bom: bool, crlf: bool) -> str:
    return (BOM if bom else "") + fio.csv_text(rows, "\r\n" if crlf else "\n")


def _write(path, text: str) -> Path:
    path = Path(path)
    with fio.atomic_path(path) as tmp:
        tmp.write_bytes(text.encode("utf-8"))
    return path


def choices_text(pairs) -> str:
    return " | ".join(f"{c}, {label}" for c, label in pairs)


def dictionary_rows(project: Project) -> list[list[str]]:
    rows = []
    for f in project.fields:
        if f.type in ("radio", "dropdown", "checkbox"):
            choices = choices_text(f.choices)
        elif f.type in ("calc", "sql"):
            choices = f.calculation
        elif f.type == "slider":
            choices = " | ".join(f.slider_labels)
        else:
            choices = ""
        rows.append(
            [
                f.name,
                f.form,
                f.section_header,
                f.type,
                f.label,
                choices,
                f.note,
                f.validation,
                f.min_text,
                f.max_text,
                "y" if f.identifier else "",
                f.branching,
                "y" if f.required else "",
                f.alignment,
                f.question_number,
                f.matrix_group,
                "y" if f.matrix_ranking else "",
                f.annotation,
            ]
        )
    return rows


def write_dictionary(
    project: Project, path, *, api: bool = False, bom: bool | None = None, crlf: bool | None = None
) -> Path:
    """The data dictionary: the download's 18 columns (BOM, CRLF) or the API's metadata (neither)."""
    header = API_COLUMNS if api else list(DOWNLOAD_COLUMNS)
    bom = (not api) if bom is None else bom
    crlf = (not api) if crlf is None else crlf
    return _write(path, _csv([header] + dictionary_rows(project), bom=bom, crlf=crlf))


def write_designations(project: Project, path, *, bom: bool = False, crlf: bool = False) -> Path:
    rows = [["arm_num", "unique_event_name", "form"]]
    rows += [[str(project.arm_of(e)), e, f] for e, f in project.designations]
    return _write(path, _csv(rows, bom=bom, crlf=crlf))


# --------------------------------------------------------------------------------- records
def _format(values: pd.Series, f: Field | None) -> np.ndarray:
    """Raw export text of a column."""
    out = np.full(len(values), "", dtype=object)
    notna = values.notna().to_numpy()
    if not notna.any():
        return out
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        strs = values.astype(object)
        keep = np.array([isinstance(v, str) for v in strs], dtype=bool)
        out[keep] = strs[keep]
        rest = notna & ~keep
        if not rest.any():
            return out
        values = pd.Series([v for v in strs[rest]])
        target = rest
    else:
        target = notna
        values = values[notna]
    kind = f.kind if f is not None else "integer"
    spec = f.spec if f is not None else None
    if pd.api.types.is_bool_dtype(values) or kind == "checkbox":
        text = np.where(values.astype(bool).to_numpy(), "1", "0")
    elif pd.api.types.is_datetime64_any_dtype(values) or kind in ("date", "datetime"):
        ts = pd.to_datetime(values)
        fmt = spec.strptime if spec is not None and kind in ("date", "datetime") else "%Y-%m-%d"
        text = ts.dt.strftime(fmt).to_numpy(dtype=object)
    elif pd.api.types.is_numeric_dtype(values):
        nums = values.astype(float).to_numpy()
        if spec is not None and spec.decimals is not None:
            text = np.char.mod(f"%.{spec.decimals}f", nums)
        else:  # whole numbers without ".0"; others in their shortest form (NumPy's repr)
            whole = (np.mod(nums, 1) == 0) & (np.abs(nums) < 2**53)
            text = np.where(
                whole, np.abs(np.where(whole, nums, 0)).astype(np.int64).astype(str), nums.astype(str)
            )
            text = np.where(whole & (nums < 0), np.char.add("-", text), text)
        if spec is not None and spec.comma:
            text = np.char.replace(text, ".", ",")
        text = text.astype(object)
    else:
        text = values.astype(str).to_numpy(dtype=object)
    out[target] = text
    return out


def _record_order(values: pd.Series) -> pd.Series:
    """Rank of each record ID: numerically when all are whole numbers, else as text."""
    uniq = pd.unique(values)
    if all(str(v).isdigit() for v in uniq):
        ranked = sorted(uniq, key=lambda v: int(v))
    else:
        ranked = sorted(uniq, key=str)
    return values.map({v: i for i, v in enumerate(ranked)})


KEYS = ["_record", "_event", "_instrument", "_instance"]
NA_BOX = "\x1fNA\x1f"  # a box the table holds as NA, told apart from a box of a form the row does not hold


def records_frame(
    project: Project, tables: dict[str, pd.DataFrame], *, dag: bool = False, survey_fields: bool = False
) -> pd.DataFrame:
    """The all-records export as text, in REDCap's column and row order (vectorised)."""
    parts = []
    for form in project.forms:
        df = tables.get(form.name)
        if df is None or not len(df):
            continue
        df = df.reset_index(drop=True)
        n = len(df)
        ev = df[EVENT].astype(str).to_numpy(dtype=object) if EVENT in df else np.full(n, "", dtype=object)
        if REPEAT_INSTANCE in df:
            inst = df[REPEAT_INSTANCE].astype("Int64").astype("string").fillna("").to_numpy(dtype=object)
        else:
            inst = np.full(n, "", dtype=object)
        repeats = {
            e for e, f in (project.repeating.instruments if project.repeating else ()) if f == form.name
        }
        instrument = (
            np.where(np.isin(ev, list(repeats)) & (inst != ""), form.name, "")
            if repeats
            else np.full(n, "", dtype=object)
        )
        cols = {
            "_record": df[RECORD_ID].astype(str).to_numpy(dtype=object),
            "_event": ev,
            "_instrument": instrument.astype(object),
            "_instance": inst,
        }
        for f in project.form_fields(form.name):
            for c in f.export_columns:
                if c in df:
                    cols[c] = _format(df[c], f)
                    if f.type == "checkbox":  # NA in the table (a missing-data code): REDCap leaves it blank
                        cols[c] = np.where(cols[c] == "", NA_BOX, cols[c]).astype(object)
            if f.type == "checkbox":
                for code, _ in project.missing_data_codes:
                    c = checkbox_column(f.name, code)
                    if c in df and c not in cols:
                        cols[c] = _format(df[c], None)
        for extra in (DAG, f"{form.name}_complete"):
            if extra in df:
                cols[extra] = _format(df[extra], None)
        stamp = f"{form.name}_timestamp"
        if stamp in df:
            values = df[stamp]
            cols[stamp] = np.array(
                [
                    v
                    if isinstance(v, str)
                    else ("" if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M:%S"))
                    for v in values.astype(object)
                ],
                dtype=object,
            )
        parts.append(pd.DataFrame(cols))
    if not parts:
        return pd.DataFrame(
            columns=expected_header(project, dag=dag, survey_fields=survey_fields), dtype=object
        )
    rows = pd.concat(parts, ignore_index=True, sort=False)
    data_cols = [c for c in rows.columns if c not in KEYS]
    blanked = rows[data_cols].where(rows[data_cols] != "")
    rows = pd.concat([rows[KEYS], blanked], axis=1)
    rows = rows.groupby(KEYS, sort=False, dropna=False).first().reset_index()
    rows = pd.concat([rows[KEYS], rows[data_cols].fillna("")], axis=1)
    # REDCap writes 0 for every unticked box of a form the row can hold
    for f in project.fields[1:]:
        if f.type != "checkbox":
            continue
        events = set(project.events_of(f.form))
        repeat_events = {
            e for e, g in (project.repeating.instruments if project.repeating else ()) if g == f.form
        }
        holds = rows["_event"].isin(events) if project.longitudinal else pd.Series(True, index=rows.index)
        own_repeat = rows["_instrument"] == f.form
        other_repeat = (rows["_instrument"] != "") & ~own_repeat
        holds &= ~other_repeat & (own_repeat | ~rows["_event"].isin(repeat_events))
        for c in f.export_columns:
            if c not in rows:
                rows[c] = ""
            rows.loc[holds & (rows[c] == ""), c] = "0"
            rows[c] = rows[c].replace(NA_BOX, "")
    order = {e.unique_name: i for i, e in enumerate(project.events)}
    sort = pd.DataFrame(
        {
            "_r": _record_order(rows["_record"]),
            "_e": rows["_event"].map(order).fillna(-1),
            "_n": rows["_instrument"],
            "_i": pd.to_numeric(rows["_instance"], errors="coerce").fillna(0),
        }
    )
    rows = rows.loc[sort.sort_values(["_r", "_e", "_n", "_i"], kind="stable").index].reset_index(drop=True)
    header = expected_header(project, dag=dag, survey_fields=survey_fields, extra=set(data_cols))
    names = {
        project.record_id_field: "_record",
        EVENT: "_event",
        REPEAT_INSTRUMENT: "_instrument",
        REPEAT_INSTANCE: "_instance",
    }
    blank = np.full(len(rows), "", dtype=object)
    return pd.DataFrame(
        {
            c: (rows[names.get(c, c)].to_numpy(dtype=object) if names.get(c, c) in rows else blank)
            for c in header
        }
    )


def expected_header(
    project: Project, *, dag: bool = False, survey_fields: bool = False, extra: set[str] | None = None
) -> list[str]:
    extra = extra or set()
    header = [project.record_id_field]
    if project.longitudinal:
        header.append(EVENT)
    if project.repeating is not None and project.repeating.any:
        header += [REPEAT_INSTRUMENT, REPEAT_INSTANCE]
    if dag or DAG in extra:
        header.append(DAG)
    if survey_fields:
        header.append("redcap_survey_identifier")
    for form in project.forms:
        stamp = f"{form.name}_timestamp"
        if stamp in extra:
            header.append(stamp)
        for f in project.form_fields(form.name):
            header += list(f.export_columns)
            if f.type == "checkbox":
                header += [
                    checkbox_column(f.name, c)
                    for c, _ in project.missing_data_codes
                    if checkbox_column(f.name, c) in extra
                ]
        header.append(f"{form.name}_complete")
    return header


def write_records(
    project: Project,
    tables: dict[str, pd.DataFrame],
    path,
    *,
    bom: bool = True,
    crlf: bool = True,
    dag: bool = False,
    survey_fields: bool = False,
) -> Path:
    """The all-records export (raw values) as REDCap's download writes it (or the API's: bom/crlf False)."""
    frame = records_frame(project, tables, dag=dag, survey_fields=survey_fields)
    return _write(path, _csv([list(frame.columns)] + frame.to_numpy().tolist(), bom=bom, crlf=crlf))


# ---------------------------------------------------------------------------------- XML
_BACKEND_TYPE = {"dropdown": "select", "notes": "textarea"}
_BACKEND_VALIDATION = {"integer": "int", "number": "float"}


def _odm_type(f: Field) -> str:
    if f.type in ("checkbox", "yesno", "truefalse"):
        return "boolean"
    if f.type == "calc":
        return "float"
    if f.type == "slider":
        return "integer"
    kind = f.kind
    return {
        "date": "date",
        "datetime": "datetime",
        "integer": "integer",
        "number": "float",
        "time": "partialTime",
    }.get(kind, "text")


def project_xml(project: Project) -> str:
    """REDCap's project XML (metadata only) for a Project."""
    A = quoteattr
    title = project.title or "Project"
    oid = "".join(ch for ch in title.title() if ch.isalnum())[:30] or "Project"
    out = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:redcap="https://projectredcap.org" '
        'ODMVersion="1.3.1" FileOID="000-00-0000" FileType="Snapshot" Description='
        + A(title)
        + ' SourceSystem="REDCap" SourceSystemVersion="14.0.0">',
        f'<Study OID="Project.{oid}">',
        "<GlobalVariables>",
        f"\t<StudyName>{escape(title)}</StudyName>",
        f"\t<StudyDescription>This file contains the metadata, events, and data for REDCap project "
        f"{escape(A(title))}.</StudyDescription>",
        f"\t<ProtocolName>{escape(title)}</ProtocolName>",
        "\t<redcap:MissingDataCodes>"
        + escape("\n".join(f"{c}, {label}" for c, label in project.missing_data_codes))
        + "</redcap:MissingDataCodes>",
    ]
    rep = project.repeating
    if rep is not None and rep.any:
        out.append("\t<redcap:RepeatingInstrumentsAndEvents>")
        if rep.instruments:
            out.append("\t\t<redcap:RepeatingInstruments>")
            for e, f in sorted(rep.instruments):
                out.append(
                    f"\t\t\t<redcap:RepeatingInstrument redcap:UniqueEventName={A(e or 'event_1_arm_1')} "
                    f'redcap:RepeatInstrument={A(f)} redcap:CustomLabel=""/>'
                )
            out.append("\t\t</redcap:RepeatingInstruments>")
        for e in sorted(rep.events):
            out.append(f"\t\t<redcap:RepeatingEvent redcap:UniqueEventName={A(e)}/>")
        out.append("\t</redcap:RepeatingInstrumentsAndEvents>")
    out.append("</GlobalVariables>")
    out.append(
        f'<MetaDataVersion OID="Metadata.{oid}_2024-01-01_0000" Name={A(title)} '
        f"redcap:RecordIdField={A(project.record_id_field)}>"
    )
    if project.longitudinal:
        out.append("\t<Protocol>")
        for i, e in enumerate(project.events, start=1):
            out.append(
                f'\t\t<StudyEventRef StudyEventOID="Event.{e.unique_name}" OrderNumber="{i}" Mandatory="No"/>'
            )
        out.append("\t</Protocol>")
        arm_names = {a.num: a.name for a in project.arms}
        for e in project.events:
            out.append(
                f'\t<StudyEventDef OID="Event.{e.unique_name}" Name={A(e.label)} Type="Common" '
                f"Repeating={A('Yes' if rep and e.unique_name in rep.events else 'No')} "
                f'redcap:EventName={A(e.label)} redcap:CustomEventLabel="" '
                f'redcap:UniqueEventName={A(e.unique_name)} redcap:ArmNum="{e.arm}" '
                f"redcap:ArmName={A(arm_names.get(e.arm, f'Arm {e.arm}'))} "
                f"redcap:DayOffset={A('' if e.day_offset is None else f'{e.day_offset:g}')} "
                'redcap:OffsetMin="0" redcap:OffsetMax="0">'
            )
            for j, form in enumerate(project.forms_of(e.unique_name), start=1):
                out.append(
                    f'\t\t<FormRef FormOID="Form.{form}" OrderNumber="{j}" Mandatory="No" '
                    f"redcap:FormName={A(form)}/>"
                )
            out.append("\t</StudyEventDef>")
    groups, item_defs, code_lists = [], [], []
    for form in project.forms:
        names = ([project.record_id_field] if form.name == project.record_id.form else []) + list(form.fields)
        out.append(
            f'\t<FormDef OID="Form.{form.name}" Name={A(form.label)} Repeating="No" '
            f"redcap:FormName={A(form.name)}>"
        )
        out.append(
            f'\t\t<ItemGroupRef ItemGroupOID="{form.name}.{names[0] if names else form.name}" Mandatory="No"/>'
        )
        out.append(f'\t\t<ItemGroupRef ItemGroupOID="{form.name}.{form.name}_complete" Mandatory="No"/>')
        out.append("\t</FormDef>")
        groups.append(
            f'\t<ItemGroupDef OID="{form.name}.{names[0] if names else form.name}" Name={A(form.label)} '
            'Repeating="No">'
        )
        for name in names:
            f = project.field[name]
            items = f.export_columns or (f.name,)
            for item in items:
                groups.append(
                    f"\t\t<ItemRef ItemOID={A(item)} Mandatory={A('Yes' if f.required else 'No')} "
                    f"redcap:Variable={A(f.name)}/>"
                )
                item_defs.append(_item_def(f, item))
                cl = _code_list(f, item)
                if cl:
                    code_lists.append(cl)
        groups.append("\t</ItemGroupDef>")
        status = f"{form.name}_complete"
        groups.append(f'\t<ItemGroupDef OID="{form.name}.{status}" Name="Form Status" Repeating="No">')
        groups.append(f'\t\t<ItemRef ItemOID="{status}" Mandatory="No" redcap:Variable="{status}"/>')
        groups.append("\t</ItemGroupDef>")
        item_defs.append(
            f'\t<ItemDef OID="{status}" Name="{status}" DataType="text" Length="1" '
            f'redcap:Variable="{status}" redcap:FieldType="select" redcap:SectionHeader="Form Status">\n'
            f"\t\t<Question><TranslatedText>Complete?</TranslatedText></Question>\n"
            f'\t\t<CodeListRef CodeListOID="{status}.choices"/>\n\t</ItemDef>'
        )
        code_lists.append(
            f'\t<CodeList OID="{status}.choices" Name="{status}" DataType="text" '
            f'redcap:Variable="{status}">\n'
            + "\n".join(
                f'\t\t<CodeListItem CodedValue="{c}"><Decode><TranslatedText>{label}'
                f"</TranslatedText></Decode></CodeListItem>"
                for c, label in FORM_STATUS
            )
            + "\n\t</CodeList>"
        )
    out += groups + item_defs + code_lists
    out += ["</MetaDataVersion>", "</Study>", "</ODM>"]
    return "\n".join(out) + "\n"


def _item_def(f: Field, item: str) -> str:
    A = quoteattr
    attrs = [
        f"OID={A(item)}",
        f"Name={A(item)}",
        f'DataType="{_odm_type(f)}"',
        'Length="999"',
        f"redcap:Variable={A(f.name)}",
        f'redcap:FieldType="{_BACKEND_TYPE.get(f.type, f.type)}"',
    ]
    if f.validation:
        attrs.append(f'redcap:TextValidationType="{_BACKEND_VALIDATION.get(f.validation, f.validation)}"')
    if f.type == "slider" and f.slider_labels:
        attrs.append(f"redcap:SliderLabels={A(' | '.join(f.slider_labels))}")
    for key, value in (
        ("FieldNote", f.note),
        ("SectionHeader", f.section_header),
        ("Calculation", f.calculation if f.type == "calc" else ""),
    ):
        if value:
            attrs.append(f"redcap:{key}={A(value)}")
    if f.identifier:
        attrs.append('redcap:Identifier="y"')
    if f.required:
        attrs.append('redcap:RequiredField="y"')
    if f.matrix_ranking:
        attrs.append('redcap:MatrixRanking="y"')
    for key, value in (
        ("BranchingLogic", f.branching),
        ("CustomAlignment", f.alignment),
        ("QuestionNumber", f.question_number),
        ("MatrixGroupName", f.matrix_group),
        ("FieldAnnotation", f.annotation),
    ):
        if value:
            attrs.append(f"redcap:{key}={A(value)}")
    body = [f"\t\t<Question><TranslatedText>{escape(f.label)}</TranslatedText></Question>"]
    if f.codes or f.type == "checkbox":
        body.append(f'\t\t<CodeListRef CodeListOID="{item}.choices"/>')
    for comp, text in (("GE", f.min_text), ("LE", f.max_text)):
        if text:
            body.append(
                f'\t\t<RangeCheck Comparator="{comp}" SoftHard="Soft">\n\t\t\t<CheckValue>{escape(text)}'
                f"</CheckValue>\n\t\t\t<ErrorMessage><TranslatedText>The value you provided is outside the "
                f"suggested range.</TranslatedText></ErrorMessage>\n\t\t</RangeCheck>"
            )
    return f"\t<ItemDef {' '.join(attrs)}>\n" + "\n".join(body) + "\n\t</ItemDef>"


def _code_list(f: Field, item: str) -> str:
    A = quoteattr
    if f.type == "checkbox":
        pairs = (("1", "Checked"), ("0", "Unchecked"))
        extra = f" redcap:CheckboxChoices={A(choices_text(f.choices))}"
        dtype = "boolean"
    elif f.codes:
        pairs, extra, dtype = f.codes, "", _odm_type(f) if f.type in ("yesno", "truefalse") else "text"
    else:
        return ""
    items = "\n".join(
        f"\t\t<CodeListItem CodedValue={A(c)}><Decode><TranslatedText>{escape(label)}"
        f"</TranslatedText></Decode></CodeListItem>"
        for c, label in pairs
    )
    return (
        f'\t<CodeList OID="{item}.choices" Name={A(item)} DataType="{dtype}" redcap:Variable={A(f.name)}{extra}>\n'
        + items
        + "\n\t</CodeList>"
    )


def write_project_xml(project: Project, path) -> Path:
    return _write(path, project_xml(project))


__all__ = [
    "write_dictionary",
    "write_designations",
    "write_records",
    "records_frame",
    "write_project_xml",
    "project_xml",
    "dictionary_rows",
    "expected_header",
]
