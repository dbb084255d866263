"""Failures a person can act on (issue 12.6).

Every problem the library finds is a :class:`Failure` naming the file, the physical
line, the record, event, repeat instance, field, the value as written and the rule
broken, with a severity (``error`` stops the build; ``warning`` is reported only).
Values are shown so that nothing is ambiguous: invisible and non-printable characters
by their Unicode names (U+200B becomes ``<U+200B ZERO WIDTH SPACE>``), values over
80 characters shortened with their length.
"""

from __future__ import annotations

import reprlib
import unicodedata
from dataclasses import asdict, dataclass, fields

SHOWN_CHARS = 80
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 4, 8, 8, 8, 8
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = SHOWN_CHARS + 10
SEVERITIES = ("error", "warning")

# Names of the C0/C1 control characters (Unicode gives them aliases, not names).
_CONTROL_NAMES = {
    0x00: "NULL",
    0x01: "START OF HEADING",
    0x02: "START OF TEXT",
    0x03: "END OF TEXT",
    0x04: "END OF TRANSMISSION",
    0x05: "ENQUIRY",
    0x06: "ACKNOWLEDGE",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x09: "CHARACTER TABULATION",
    0x0A: "LINE FEED",
    0x0B: "LINE TABULATION",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x0E: "SHIFT OUT",
    0x0F: "SHIFT IN",
    0x10: "DATA LINK ESCAPE",
    0x11: "DEVICE CONTROL ONE",
    0x12: "DEVICE CONTROL TWO",
    0x13: "DEVICE CONTROL THREE",
    0x14: "DEVICE CONTROL FOUR",
    0x15: "NEGATIVE ACKNOWLEDGE",
    0x16: "SYNCHRONOUS IDLE",
    0x17: "END OF TRANSMISSION BLOCK",
    0x18: "CANCEL",
    0x19: "END OF MEDIUM",
    0x1A: "SUBSTITUTE",
    0x1B: "ESCAPE",
    0x1C: "INFORMATION SEPARATOR FOUR",
    0x1D: "INFORMATION SEPARATOR THREE",
    0x1E: "INFORMATION SEPARATOR TWO",
    0x1F: "INFORMATION SEPARATOR ONE",
    0x7F: "DELETE",
    0x85: "NEXT LINE",
    0xA0: "NO-BREAK SPACE",
}
_VISIBLE_SPACE = " "


def char_name(ch: str) -> str:
    """``<U+200B ZERO WIDTH SPACE>`` for one character."""
    code = ord(ch)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(ch, "")
    return f"<U+{code:04X}{' ' + name if name else ''}>"


def _invisible(ch: str) -> bool:
    if ch == _VISIBLE_SPACE:
        return False
    category = unicodedata.category(ch)
    # Controls, format characters (zero-width, bidi marks, BOM), separators other than
    # the ordinary space, private-use and unassigned code points.
    return category in ("Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp", "Zs")


def shown(value) -> str:
    """The value as a person should read it in a message.

    >>> shown("12\\u200b")
    '12<U+200B ZERO WIDTH SPACE>'
    >>> shown("x" * 100)[-30:]
    'xxxxxxxxxx… (100 characters)'
    """
    if value is None:
        return ""
    # a list or mapping (a study file's setting) is formatted only as far as it is shown
    text = (
        value
        if isinstance(value, str)
        else _REPR.repr(value)
        if isinstance(value, (list, tuple, dict, set, frozenset))
        else str(value)
    )
    if len(text) > SHOWN_CHARS:
        head = text[:SHOWN_CHARS]
        return "".join(char_name(c) if _invisible(c) else c for c in head) + f"… ({len(text)} characters)"
    if text.isascii() and text.isprintable():
        return text
    return "".join(char_name(c) if _invisible(c) else c for c in text)


@dataclass(frozen=True, order=True)
class Failure:
    """One problem, located as precisely as the input allows."""

    file: str
    line: int | None = None
    record: str = ""
    event: str = ""
    instance: str = ""
    field: str = ""
    value: str = ""
    rule: str = ""
    severity: str = "error"

    def message(self) -> str:
        parts = [self.file + (f" line {self.line}" if self.line else "") + ":"]
        for label, text in (
            ("record", self.record),
            ("event", self.event),
            ("instance", self.instance),
            ("field", self.field),
        ):
            if text:
                parts.append(f"{label} {text}")
        if self.value != "":
            parts.append(f"value '{self.value}'")
        prefix = "" if self.severity == "error" else f"[{self.severity}] "
        head = " ".join(parts)
        return (head[:-1] if len(parts) == 1 else head) + f": {prefix}{self.rule}"

    def as_dict(self) -> dict:
        return asdict(self)


FAILURE_COLUMNS = [f.name for f in fields(Failure)]


def fail(
    file: str,
    rule: str,
    *,
    line=None,
    record="",
    event="",
    instance="",
    field="",
    value="",
    severity="error",
    raw: bool = True,
) -> Failure:
    """A :class:`Failure` whose value is shown as :func:`shown` does (unless ``raw`` is False)."""
    return Failure(
        file=file,
        line=None if line is None else int(line),
        record=_text(record),
        event=_text(event),
        instance=_text(instance),
        field=field,
        value=shown(value) if raw else value,
        rule=rule,
        severity=severity,
    )


def _text(value) -> str:
    if value is None:
        return ""
    try:
        if value != value:  # NaN / NA
            return ""
    except (TypeError, ValueError):
        return ""
    return shown(value)


MAX_PER_RULE = 1000  # failures listed per file, field and rule; the rest are counted


def more_of(file: str, field: str, rule: str, n: int, severity: str = "error") -> Failure:
    """One failure standing for ``n`` more of the same kind (reports stay readable and bounded)."""
    return Failure(
        file=file,
        field=field,
        rule=f"{rule} (and {n:,} more cells of {field or 'the file'} like this: "
        f"only the first {MAX_PER_RULE:,} are listed)",
        severity=severity,
    )


def capped(failures, limit: int = MAX_PER_RULE) -> list[Failure]:
    """At most ``limit`` failures per file, field, rule and severity, then one that counts the rest."""
    seen: dict[tuple, int] = {}
    out: list[Failure] = []
    for f in failures:
        key = (f.file, f.field, f.rule, f.severity)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= limit:
            out.append(f)
    for (file, fld, rule, severity), n in seen.items():
        if n > limit:
            out.append(more_of(file, fld, rule, n - limit, severity))
    return out


def unique(failures) -> list[Failure]:
    """Each failure once, in first-seen order."""
    return list(dict.fromkeys(failures))


def errors(failures) -> list[Failure]:
    return [f for f in failures if f.severity == "error"]


# REDCap's common missing-data codes (its project set-up offers them; a project declares
# the ones it uses, and the export then holds the code in place of a value).
COMMON_MISSING_CODES = (
    "UNK",
    "NASK",
    "DECL",
    "NA",
    "NI",
    "ASKU",
    "NAV",
    "NAVU",
    "MSK",
    "OTH",
    "PINF",
    "NINF",
    "QS",
    "TRC",
    "UNC",
    "DER",
    "NP",
    "NDA",
)


def missing_code_hint(values) -> str | None:
    """A hint when failing values are REDCap's common missing-data codes (UNK, NASK ...):
    the project likely uses codes the study file does not declare. None otherwise."""
    found: dict[str, int] = {}
    for value in values:
        if isinstance(value, str) and value.strip() in COMMON_MISSING_CODES:
            found[value.strip()] = found.get(value.strip(), 0) + 1
    if not found:
        return None
    n = sum(found.values())
    codes = ", ".join(f"{code} ({count:,})" for code, count in sorted(found.items(), key=lambda kv: -kv[1]))
    return (
        f"hint: {n:,} failing value(s) are REDCap missing-data codes: {codes}. If the project uses "
        "missing-data codes, declare them in the study file's redcap.missing_data_codes as REDCap's "
        'project set-up lists them (e.g. missing_data_codes: "UNK, Unknown | NASK, Not asked | DECL, '
        'Declined to answer"), or give redcap.project_xml, which holds them'
    )


def summary(failures, first: int = 20) -> str:
    """At most ``first`` failures and the totals, for a console (the report has them all)."""
    failures = list(failures)
    n_err = sum(f.severity == "error" for f in failures)
    lines = [f"{n_err} error(s), {len(failures) - n_err} warning(s)"]
    lines += ["  " + f.message() for f in failures[:first]]
    if len(failures) > first:
        lines.append(f"  … and {len(failures) - first} more (see the validation report)")
    return "\n".join(lines)


class RedcapError(Exception):
    """Input that cannot be used at all; carries the failures that say why."""

    def __init__(self, failures: list[Failure]):
        self.failures = unique(failures)
        super().__init__(summary(self.failures))
