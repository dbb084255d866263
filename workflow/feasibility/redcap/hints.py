"""Identifier hints (issue 25.10): free-text fields not flagged as identifiers whose values
look like people's names, e-mail addresses, phone numbers or postcodes.

Which fields are identifiers is the project's call (the dictionary's ``Identifier?``), and
only those are dropped after validation. A free-text field that carries names or contact
details without the flag would reach the validated tables, so each such field is one
warning to the study team naming the field, what its values look like and how many do;
never a value, a line or a record (the warning must not itself carry what it warns of).

What is looked at: text fields without a number, date or time validation and notes fields,
neither the record ID nor flagged as an identifier. What counts:

* an e-mail address anywhere in the value (``someone@host.tld``);
* a phone number anywhere in the value: 9 to 15 digits, with an optional ``+`` and
  spaces, dots, dashes or brackets between them (``07700 900123``, ``+44 20 7946 0000``,
  ``(555) 010-0199``);
* a UK postcode (``SW1A 1AA``) or a Canadian postal code (``K1A 0B1``) as a word;
* a person's name: the whole value two or three capitalised words of letters
  (``Harriet Cole``, ``Mary-Jane O'Neil``); counted only when at least half of the field's
  values look so, as a sentence's capitalised words would not.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .messages import Failure, fail
from .model import Project

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
PHONE = r"(^|[^\d])\+?\(?\d[\d ().-]{7,18}\d($|[^\d])"
POSTCODE = (
    r"(^|[^A-Za-z0-9])([A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d)"
    r"($|[^A-Za-z0-9])"
)
NAME = r"^[A-Z][a-z]+(['’-][A-Za-z][a-z]+)?( (de |van |von )?[A-Z][a-z]*(['’-][A-Z]?[a-z]+)?){1,2}$"
NAME_SHARE = 0.5
LOOKS = (("e-mail addresses", EMAIL), ("phone numbers", PHONE), ("postcodes", POSTCODE))


def _phone_digits(values: pa.Array, mask: np.ndarray) -> np.ndarray:
    """Of the values matching PHONE, those whose first run of digits and separators holds 9
    to 15 digits and is not a date (vectorised: a large export costs no loop per value)."""
    runs = pc.struct_field(pc.extract_regex(values, r"(?P<run>\+?\(?\d[\d ().-]{7,18}\d)"), "run")
    digits = pc.utf8_length(pc.replace_substring_regex(runs, r"\D", ""))
    ok = pc.and_(
        pc.and_(pc.greater_equal(digits, 9), pc.less_equal(digits, 15)),
        pc.invert(pc.match_substring_regex(runs, r"^\d{4}-\d{2}-\d{2}")),
    )
    return mask & pc.fill_null(ok, False).to_numpy(zero_copy_only=False)


def candidate(field, project: Project) -> bool:
    if field.identifier or field.name == project.record_id_field:
        return False
    if field.type == "notes":
        return True
    return field.type == "text" and field.kind == "text"


def identifier_hints(project: Project, tables: dict, file: str) -> list[Failure]:
    """One warning per free-text field, not flagged as an identifier, whose values look like
    names, e-mail addresses, phone numbers or postcodes (counts only, no value)."""
    out: list[Failure] = []
    for form in project.forms:
        table = tables.get(form.name)
        if table is None:
            continue
        for fld in project.form_fields(form.name):
            if not candidate(fld, project) or fld.name not in table.text:
                continue
            values = table.text[fld.name]
            values = values.filter(pc.not_equal(values, ""))
            n = len(values)
            if not n:
                continue
            found = []
            for what, pattern in LOOKS:
                hit = pc.match_substring_regex(values, pattern).to_numpy(zero_copy_only=False)
                if what == "phone numbers" and hit.any():
                    hit = _phone_digits(values, hit)
                if hit.any():
                    found.append((what, int(hit.sum())))
            names = int(pc.sum(pc.match_substring_regex(values, NAME).cast(pa.int64())).as_py() or 0)
            if names and names >= NAME_SHARE * n:
                found.insert(0, ("people's names", names))
            if not found:
                continue
            looks = "; ".join(f"{what} in {k:,} of its {n:,} values" for what, k in found)
            out.append(
                fail(
                    file,
                    f"free-text field not flagged as an identifier holds what look like {looks}: if "
                    "they identify people, mark the field 'Identifier?' = y in the data dictionary "
                    "(values not shown)",
                    field=fld.name,
                    severity="warning",
                )
            )
    return out


__all__ = ["identifier_hints"]
