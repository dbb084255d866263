"""The REDCap library's fixture projects (tests/fixtures/redcap), validated and handed to the
quality report as ``results/validated`` would be (written and read back)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "redcap"))

from redcap_helpers import XML, XML_DATA, XML_FILE, validate_classic, validate_lab, validate_long  # noqa: E402

from feasibility.quality import QualityData  # noqa: E402
from feasibility.config import ValidationPaths  # noqa: E402
from feasibility.redcap import validate, validation_report, write_report, write_validated  # noqa: E402

VALIDATORS = {
    "classic": validate_classic,  # DAGs, survey columns, identifiers, codes
    "long": validate_long,  # 2 arms, repeating instrument and event
    "pilot": lambda: validate(XML / XML_DATA, project_xml=XML / XML_FILE),  # project XML, repeating
    "lab": validate_lab,  # classic, repeating instrument
}


def validated(name: str, folder: Path) -> QualityData:
    """Validate fixture ``name``, write the validated data and report, read them back."""
    result = VALIDATORS[name]()
    assert result.ok, result.failures
    write_validated(result, folder / "validated")
    write_report(validation_report(result, {}, {}, {}), result.failures, ValidationPaths(str(folder)))
    return QualityData.read(folder / "validated", folder / "report.json")
