"""REDCap input: any project's own downloads in, validated from its own dictionary.

Public API::

    from feasibility.redcap import validate, write_validated, write_report, schemas_yaml

    result = validate(records, dictionary=..., instrument_designations=..., settings={...})
    result = validate(records, project_xml=..., settings={...})
    result.ok, result.failures, result.tables, result.missing, result.project

    load_project(dictionary=..., instrument_designations=...) -> (Project | None, failures)
    read_records(path, project) -> (Records | None, failures)
    tidy_tables(records) -> ({form: FormTable}, failures)
    form_schema(project, form) / project_schemas(project) / schemas_yaml(project)
    write_dictionary / write_designations / write_records / write_project_xml   (REDCap's files)

Modules follow the data flow: ``files`` (safe reading, encodings, line numbers) ->
``dictionary`` / ``xml`` (metadata -> ``model.Project``) -> ``records`` (the export) ->
``counts`` (record IDs differing in case, data access groups, missing-data codes that are
choice codes) -> ``tidy`` (one typed table per form) -> ``schemas`` (Pandera) -> ``logic``
(REDCap's logic language: branching logic, calculated fields) -> ``rules`` (declared
cross-form rules) -> ``identifiers`` -> ``output``.
"""

from .logic import NotEvaluated
from .logic import parse as parse_logic
from .dictionary import read_designations, read_dictionary, read_metadata
from .files import Limits
from .messages import Failure, RedcapError, shown, summary
from .model import (
    FIELD_TYPES,
    VALIDATIONS,
    Arm,
    Event,
    Field,
    Form,
    Project,
    Repeating,
    checkbox_column,
    parse_choices,
)
from .output import codebook, missing_summary, write_validated
from .report import console_summary, report_markdown, validation_report, write_report
from .records import Records, export_date_from_name, read_records
from .rules import KINDS as RULE_KINDS
from .schemas import form_schema, project_schemas, schemas_yaml
from .tidy import FormTable, tidy_tables
from .validate import Result, Settings, load_project, validate
from .write import write_designations, write_dictionary, write_project_xml, write_records
from .xml import read_project_xml

__all__ = [
    "validate",
    "load_project",
    "Settings",
    "Result",
    "write_validated",
    "write_report",
    "validation_report",
    "console_summary",
    "codebook",
    "missing_summary",
    "report_markdown",
    "schemas_yaml",
    "form_schema",
    "project_schemas",
    "read_dictionary",
    "read_designations",
    "read_metadata",
    "read_project_xml",
    "read_records",
    "Records",
    "tidy_tables",
    "FormTable",
    "Project",
    "Field",
    "Form",
    "Event",
    "Arm",
    "Repeating",
    "Failure",
    "RedcapError",
    "Limits",
    "shown",
    "summary",
    "checkbox_column",
    "parse_choices",
    "parse_logic",
    "NotEvaluated",
    "FIELD_TYPES",
    "VALIDATIONS",
    "RULE_KINDS",
    "export_date_from_name",
    "write_dictionary",
    "write_designations",
    "write_records",
    "write_project_xml",
]
