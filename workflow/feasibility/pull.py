"""Pull a study's REDCap downloads over the project's API, as an immutable dated snapshot.

``snakemake pull`` / ``feasibility pull`` call :func:`pull` for the study file's
``redcap.api`` section (``url``; the token from ``token_env: NAME`` or ``token_file: PATH``).
One pull writes a new folder ``data/<study id>/pulls/<timestamp>/`` holding

* ``records.csv``: the all-records export, flat, raw values and raw headers, with the data
  access groups and the survey fields, as REDCap writes it (fetched in batches of
  ``redcap.api.batch_size`` records after the list of record IDs, and checked complete);
* ``metadata.csv`` (the data dictionary, API form), ``instruments.csv``,
  ``export_field_names.csv``, ``project.json`` (project information, its missing-data
  codes included); for a longitudinal project ``instrument_designations.csv``,
  ``events.csv`` and ``arms.csv``; for a project with repeats
  ``repeating_instruments_events.csv``; ``project.xml`` (metadata only) where the
  server allows it;
* ``provenance.json``: server host, project ID and title, REDCap version, the time, the
  API calls made, the SHA-256 of every file, the records and fields counted.

Everything is written into a hidden temporary folder beside the snapshots and renamed
into place only when complete: a pull that fails part-way leaves no folder that looks
complete. A pull of a project that has not changed since the latest snapshot (same
metadata, same record IDs, no record created or modified since, per the API's
``dateRangeBegin``) adds no snapshot.

The client is PyCap (``redcap.Project``) on a ``requests`` session of its own: every
response with an HTTP error status stops the call with REDCap's own message; timeouts,
dropped connections and 5xx answers are retried with backoff ``redcap.api.retries``
times. ``project_xml``, which PyCap has no call for, is a plain POST on the same session.
The token is never written anywhere, and is scrubbed from every message.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, TextIO
from urllib.parse import urlsplit

FORMAT = "feasibility-pull/1"
PROVENANCE = "provenance.json"
STAMP = "%Y%m%dT%H%M%SZ"
STAMP_RE = re.compile(r"^\d{8}T\d{6}Z(?:-\d+)?$")
TOKEN_RE = re.compile(r"^[0-9A-Fa-f]{32}$")
# The study's REDCap download keys a pull provides: study-file key -> file in the pull.
RESOLVED = {
    "records": "records.csv",
    "dictionary": "metadata.csv",
    "instrument_designations": "instrument_designations.csv",
    "events": "events.csv",
}
DEFAULTS = {"batch_size": 1000, "retries": 5, "timeout_seconds": 120, "backoff_seconds": 1.0}


class PullError(Exception):
    """A pull that cannot be done; the message says why (never with the token).
    ``refused``: REDCap answered with an error (not a transient failure)."""

    def __init__(self, message: str, refused: bool = False):
        super().__init__(message)
        self.refused = refused


class _HTTPStatusError(Exception):
    """An HTTP error status from the API, with REDCap's own message."""

    def __init__(self, status: int, message: str, content: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status, self.message, self.content = status, message, content


# --------------------------------------------------------------------------- the study
def study_id(config: dict, study_file: str | os.PathLike) -> str:
    """The study's id: ``study.id`` in the study file, else the study file's name without
    ``.yaml``."""
    return (config.get("study") or {}).get("id") or Path(study_file).stem


def pulls_folder(config: dict, study_file: str | os.PathLike) -> Path:
    """Where the study's pulls go: ``data/<study id>/pulls`` (relative to the project folder)."""
    return Path("data") / study_id(config, study_file) / "pulls"


def _stamp_key(name: str) -> tuple[str, int]:
    stamp, _, n = name.partition("-")
    return stamp, int(n or 1)


def complete_pulls(folder: str | os.PathLike) -> list[str]:
    """The complete pulls in ``folder``, oldest first: folders named by their time that hold
    a provenance file (a pull is renamed into place only once complete)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    names = [
        p.name
        for p in folder.iterdir()
        if STAMP_RE.match(p.name) and p.is_dir() and (p / PROVENANCE).is_file()
    ]
    return sorted(names, key=_stamp_key)


def resolve(config: dict, study_file: str | os.PathLike) -> list[str]:
    """Point the study's REDCap downloads at a pull: the latest complete one, or the one
    ``redcap.pull`` pins. ``config`` is changed in place (``redcap.records``,
    ``dictionary``, ``instrument_designations``, ``events``; ``redcap.pull`` names the pull
    used; ``redcap.missing_data_codes`` are the project's, unless the study file gives them). Returns problems (a pinned pull that does not exist); with no pull yet the
    study's own paths stay as they are."""
    redcap = config.get("redcap") or {}
    if not redcap.get("api"):
        return []
    folder = pulls_folder(config, study_file)
    pulls = complete_pulls(folder)
    pinned = redcap.get("pull")
    if pinned:
        if pinned not in pulls:
            listed = ", ".join(pulls[-5:]) or "none yet"
            return [
                f"redcap.pull is {pinned!r}, but {folder} holds no complete pull of that name "
                f"(latest: {listed})"
            ]
        chosen = pinned
    elif pulls:
        chosen = pulls[-1]
    else:
        return []
    where = folder / chosen
    for key, name in RESOLVED.items():
        path = where / name
        redcap[key] = str(path) if path.is_file() else None
    redcap["project_xml"] = None
    redcap["pull"] = chosen
    if redcap.get("missing_data_codes") is None:  # the project's own, unless the study file gives them
        try:
            codes = json.loads((where / "project.json").read_text(encoding="utf-8")).get("missing_data_codes")
        except (OSError, ValueError, AttributeError):
            codes = None
        if isinstance(codes, str) and codes.strip():
            redcap["missing_data_codes"] = codes
    return []


def pull_provenance(records: str | os.PathLike | None) -> dict | None:
    """The provenance of the pull a records export belongs to (None for a file that was
    not pulled)."""
    if not records:
        return None
    path = Path(records).parent / PROVENANCE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and info.get("format") == FORMAT else None


def describe(info: dict) -> str:
    """One sentence naming a pull: its time, server, project and REDCap version."""
    project = info.get("project") or {}
    return (
        f"pulled from REDCap {info.get('redcap_version') or ''} at {info.get('server', {}).get('host', '')}, "
        f"project {project.get('project_id', '')} ({project.get('project_title', '')}), "
        f"pull {info.get('pull')} ({info.get('finished', '')}; "
        f"{info.get('records', 0):,} records, {info.get('fields', 0):,} fields)"
    ).replace("  ", " ")


# --------------------------------------------------------------------------- settings
@dataclass
class Settings:
    url: str
    token_env: str | None = None
    token_file: str | None = None
    batch_size: int = DEFAULTS["batch_size"]
    retries: int = DEFAULTS["retries"]
    timeout_seconds: float = DEFAULTS["timeout_seconds"]
    backoff_seconds: float = DEFAULTS["backoff_seconds"]
    timezone: str | None = None

    @classmethod
    def from_config(cls, config: dict) -> "Settings":
        api = (config.get("redcap") or {}).get("api")
        if not api:
            raise PullError(
                "the study file has no redcap.api section (url, and token_env or token_file): "
                "nothing to pull from"
            )
        known = {k: api[k] for k in cls.__dataclass_fields__ if api.get(k) is not None}
        return cls(**known)


def read_token(settings: Settings) -> str:
    """The API token, from the environment variable or the file the study names. A file
    readable by its group or by others is refused; the token itself is never shown."""
    if settings.token_env:
        token = os.environ.get(settings.token_env, "")
        source = f"the environment variable {settings.token_env} (redcap.api.token_env)"
        if not token.strip():
            raise PullError(f"{source} is not set or empty: set it to the project's API token")
    elif settings.token_file:
        path = settings.token_file
        source = f"the token file {path} (redcap.api.token_file)"
        try:
            st = os.stat(path)
        except OSError as err:
            raise PullError(f"{source} cannot be read ({err.strerror})") from None
        if not stat.S_ISREG(st.st_mode):
            raise PullError(f"{source} is not a regular file")
        if st.st_mode & 0o077:
            raise PullError(
                f"{source} is readable or writable by its group or by others "
                f"(mode {stat.filemode(st.st_mode)}); a token file must be readable only by "
                f"its owner: chmod 600 {path}"
            )
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise PullError(f"{source} belongs to another user; a token file must be your own")
        with open(path, encoding="utf-8") as fh:
            token = fh.read()
    else:
        raise PullError(
            "redcap.api names no token source: give token_env: NAME (an environment variable) "
            "or token_file: PATH (a file readable only by you)"
        )
    token = token.strip()
    if not TOKEN_RE.match(token):
        raise PullError(f"{source} does not hold a REDCap API token (32 hexadecimal characters)")
    return token


# ----------------------------------------------------------------------------- client
@dataclass
class _Calls:
    """The API calls made, counted by content (and retries), for the provenance file."""

    counts: dict = field(default_factory=dict)

    def add(self, content: str, fmt: str | None, retried: bool = False) -> None:
        key = (content, fmt or "")
        entry = self.counts.setdefault(key, {"content": content, "format": fmt, "requests": 0, "retries": 0})
        entry["requests"] += 1
        entry["retries"] += int(retried)

    def listed(self) -> list[dict]:
        return [self.counts[k] for k in sorted(self.counts)]


def _error_message(response) -> str:
    """REDCap's own message from an error response (JSON, XML or text)."""
    text = response.text or ""
    try:
        body = json.loads(text)
        if isinstance(body, dict) and "error" in body:
            return str(body["error"])
    except ValueError:
        pass
    if "<error>" in text.lower():
        import xml.etree.ElementTree as ET

        try:
            node = ET.fromstring(text.strip()).find(".//error")
            if node is not None and node.text:
                return node.text.strip()
        except ET.ParseError:
            pass
    text = " ".join(text.split())
    if text.lower().startswith("error:"):
        text = text[6:].strip()
    return text[:300] or response.reason or "no message"


class Client:
    """PyCap's ``redcap.Project`` on a ``requests`` session of this pull's own, with every
    call retried on transient failures and REDCap's errors said in its own words."""

    TRANSIENT_STATUS = {429, 500, 502, 503, 504}

    def __init__(
        self,
        settings: Settings,
        token: str,
        log: TextIO = sys.stderr,
        sleep: Callable[[float], None] = time.sleep,
    ):
        import redcap
        import requests

        self.settings, self._token, self.log, self.sleep = settings, token, log, sleep
        self.calls = _Calls()
        self.session = requests.Session()
        self.session.hooks["response"].append(self._check)
        self._retrying = False
        session = self.session

        class _Project(redcap.Project):
            """PyCap's project on this pull's session (PyCap's own session is module-wide)."""

            def _call_api(self, payload, return_type, file=None):
                from redcap.request import _ContentConfig, _RCRequest

                config = _ContentConfig(
                    return_empty_json=return_type == "empty_json", return_bytes=return_type == "file_map"
                )
                return _RCRequest(url=self.url, payload=payload, config=config, session=session).execute(
                    verify_ssl=self.verify_ssl,
                    return_headers=return_type == "file_map",
                    file=file,
                    **self._request_kwargs,
                )

        self.project = _Project(settings.url, token, timeout=settings.timeout_seconds)

    def _check(self, response, *args, **kwargs):
        body = getattr(response.request, "body", "") or ""
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        from urllib.parse import parse_qs

        form = parse_qs(body)
        self.calls.add((form.get("content") or ["?"])[0], (form.get("format") or [None])[0], self._retrying)
        if response.status_code >= 400:
            raise _HTTPStatusError(response.status_code, _error_message(response), response.text)
        return response

    def scrub(self, text: str) -> str:
        return text.replace(self._token, "[token]") if self._token else text

    def call(self, what: str, fn: Callable, *args, **kwargs):
        """``fn(*args, **kwargs)`` (one API call), retried on timeouts, dropped connections
        and 5xx answers; any other failure stops the pull with REDCap's message."""
        import requests

        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            self._retrying = attempt > 1
            try:
                return fn(*args, **kwargs)
            except _HTTPStatusError as err:
                if err.status not in self.TRANSIENT_STATUS:
                    raise PullError(
                        self.scrub(f"REDCap refused {what} (HTTP {err.status}): {err.message}"), refused=True
                    ) from None
                problem = f"HTTP {err.status}: {err.message}"
            except (
                requests.exceptions.ConnectionError,
                requests.exceptions.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as err:
                problem = f"{type(err).__name__}: {err}"
            except requests.exceptions.RequestException as err:  # PyCap's RedcapError: REDCap's message
                raise PullError(
                    self.scrub(f"REDCap refused {what}: {_redcap_message(err)}"), refused=True
                ) from None
            except ValueError as err:  # a body that is not what was asked for
                raise PullError(self.scrub(f"REDCap's answer to {what} cannot be read: {err}")) from None
            problem = self.scrub(" ".join(str(problem).split()))[:300]
            if attempt == attempts:
                raise PullError(f"{what} failed {attempts} times; last: {problem}") from None
            wait = self.settings.backoff_seconds * 2 ** (attempt - 1)
            print(
                f"pull: {what}: {problem}; retrying in {wait:g} s ({attempt}/{attempts - 1})",
                file=self.log,
                flush=True,
            )
            self.sleep(wait)

    def post(self, what: str, data: dict) -> str:
        """A plain API POST on this session (for calls PyCap has none for)."""

        def once():
            response = self.session.post(
                self.settings.url, data={"token": self._token, **data}, timeout=self.settings.timeout_seconds
            )
            return response.text

        return self.call(what, once)


def _redcap_message(err: Exception) -> str:
    arg = err.args[0] if err.args else err
    if isinstance(arg, dict) and "error" in arg:
        return str(arg["error"])
    text = " ".join(str(arg).split())
    return text[6:].strip() if text.lower().startswith("error:") else text[:300]


# ------------------------------------------------------------------------------- pull
@dataclass
class PullResult:
    folder: Path | None  # the new snapshot; None when nothing changed
    latest: str | None  # the latest snapshot before this pull
    message: str


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return path


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _first_column(text: str) -> list[str]:
    """The record IDs of a CSV export (its first column), in order, each once."""
    return list(_ids_and_rows(text)[0])


def _ids_and_rows(text: str) -> tuple[dict[str, None], int]:
    """The record IDs of a CSV export with its header (first column; in order, each once)
    and its number of rows."""
    seen: dict[str, None] = {}
    rows = 0
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    for row in reader:
        if row:
            seen.setdefault(row[0], None)
            rows += 1
    return seen, rows


class _Progress:
    def __init__(self, total: int, log: TextIO):
        self.total, self.log, self.done, self.shown = total, log, 0, -1
        self.tty = hasattr(log, "isatty") and log.isatty()
        self.start = time.perf_counter()

    def advance(self, n: int) -> None:
        self.done += n
        pct = 100 * self.done // max(self.total, 1)
        if self.tty or pct // 10 != self.shown // 10 or self.done == self.total:
            self.shown = pct
            rate = self.done / max(time.perf_counter() - self.start, 1e-9)
            line = f"pull: records {self.done:,}/{self.total:,} ({pct}%, {rate:,.0f} records/s)"
            print(
                ("\r" + line) if self.tty else line,
                end="" if self.tty and self.done < self.total else "\n",
                file=self.log,
                flush=True,
            )


def _server_time(moment: dt.datetime, timezone: str | None) -> dt.datetime:
    """``moment`` (UTC) as the REDCap server's wall-clock time (``redcap.api.timezone``, or
    this machine's local time zone), as the API's date-range filter reads it."""
    if timezone:
        from zoneinfo import ZoneInfo

        return moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return moment.astimezone().replace(tzinfo=None)


def pull(
    config: dict,
    study_file: str | os.PathLike,
    *,
    force: bool = False,
    log: TextIO | None = None,
    now: Callable[[], dt.datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PullResult:
    """Pull the study's project from its REDCap server into a new snapshot (see the module's
    docstring). Raises :class:`PullError` with a message for the user."""
    log = log or sys.stderr
    settings = Settings.from_config(config)
    token = read_token(settings)
    now = now or (lambda: dt.datetime.now(dt.timezone.utc))
    folder = pulls_folder(config, study_file)
    try:
        return _pull(settings, token, folder, force, log, now, sleep)
    except PullError as err:
        raise PullError(str(err).replace(token, "[token]")) from None
    except Exception as err:  # noqa: BLE001 - anything else, said without the token
        raise PullError(f"the pull failed: {type(err).__name__}: {err}".replace(token, "[token]")) from None


def _pull(
    settings: Settings,
    token: str,
    folder: Path,
    force: bool,
    log: TextIO,
    now: Callable[[], dt.datetime],
    sleep,
) -> PullResult:
    client = Client(settings, token, log=log, sleep=sleep)
    project = client.project
    started = now()
    host = urlsplit(settings.url).netloc
    previous = complete_pulls(folder)
    latest = previous[-1] if previous else None
    print(f"pull: {host}: reading the project's metadata", file=log, flush=True)

    folder.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(folder)
    tmp = folder / f".incomplete-{started.strftime(STAMP)}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        version = client.call("the version export", project.export_version)
        info = client.call("the project information export", project.export_project_info, format_type="json")
        if not isinstance(info, dict):
            raise PullError(f"REDCap's project information is not a mapping: {str(info)[:200]}")
        files: list[Path] = [
            _write(tmp, "project.json", json.dumps(info, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        ]
        metadata = client.call("the data dictionary export", project.export_metadata, format_type="csv")
        files.append(_write(tmp, "metadata.csv", metadata))
        meta_rows = _csv_rows(metadata)
        if len(meta_rows) < 2 or not meta_rows[0] or meta_rows[0][0] != "field_name":
            raise PullError(
                "REDCap's data dictionary export has no fields (the token's user may lack "
                "the right to export it)"
            )
        id_field = meta_rows[1][0]
        n_fields = sum(1 for r in meta_rows[1:] if r)
        files.append(
            _write(
                tmp,
                "instruments.csv",
                client.call("the instruments export", project.export_instruments, format_type="csv"),
            )
        )
        files.append(
            _write(
                tmp,
                "export_field_names.csv",
                client.call("the export field names export", project.export_field_names, format_type="csv"),
            )
        )
        if str(info.get("is_longitudinal", "0")) in ("1", "True", "true"):
            files.append(
                _write(
                    tmp,
                    "instrument_designations.csv",
                    client.call(
                        "the instrument designations export",
                        project.export_instrument_event_mappings,
                        format_type="csv",
                    ),
                )
            )
            files.append(
                _write(
                    tmp,
                    "events.csv",
                    client.call("the events export", project.export_events, format_type="csv"),
                )
            )
            files.append(
                _write(
                    tmp, "arms.csv", client.call("the arms export", project.export_arms, format_type="csv")
                )
            )
        if str(info.get("has_repeating_instruments_or_events", "0")) in ("1", "True", "true"):
            files.append(
                _write(
                    tmp,
                    "repeating_instruments_events.csv",
                    client.call(
                        "the repeating instruments and events export",
                        project.export_repeating_instruments_events,
                        format_type="csv",
                    ),
                )
            )
        xml_note = "included (metadata only)"
        try:
            xml = client.post(
                "the project XML export",
                {
                    "content": "project_xml",
                    "format": "xml",
                    "returnFormat": "json",
                    "returnMetadataOnly": "true",
                    "exportSurveyFields": "true",
                    "exportDataAccessGroups": "true",
                },
            )
            files.append(_write(tmp, "project.xml", xml))
        except PullError as err:
            if not err.refused:
                raise
            xml_note = f"not available: {err}"
            print(
                f"pull: the project XML is not available ({err}); the data dictionary is the metadata",
                file=log,
                flush=True,
            )

        ids_text = client.call(
            "the record ID export",
            project.export_records,
            format_type="csv",
            fields=[id_field],
            raw_or_label="raw",
            raw_or_label_headers="raw",
        )
        ids = _first_column(ids_text)
        ids_sha = hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()

        if latest and not force:
            unchanged = _unchanged(client, folder / latest, tmp, files, ids_sha, id_field, settings)
            if unchanged:
                shutil.rmtree(tmp)
                message = (
                    f"pull: the project has not changed since the pull {latest} (same metadata, same "
                    f"{len(ids):,} records, none created or modified since); no new snapshot"
                )
                print(message, file=log, flush=True)
                return PullResult(None, latest, message)

        rows, columns = _records(client, tmp / "records.csv", ids, settings.batch_size, log)
        files.append(tmp / "records.csv")

        finished = now()
        stamp = finished.strftime(STAMP)
        target = folder / stamp
        n = 1
        while target.exists():
            n += 1
            target = folder / f"{stamp}-{n}"
        provenance = {
            "format": FORMAT,
            "synthetic": False,
            "source": "REDCap API",
            "pull": target.name,
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "server": {"host": host, "url": _public_url(settings.url)},
            "redcap_version": str(version or ""),
            "project": {
                k: info.get(k)
                for k in (
                    "project_id",
                    "project_title",
                    "is_longitudinal",
                    "has_repeating_instruments_or_events",
                    "missing_data_codes",
                    "in_production",
                    "record_autonumbering_enabled",
                )
                if k in info
            },
            "api_calls": client.calls.listed(),
            "batch_size": settings.batch_size,
            "records": len(ids),
            "rows": rows,
            "columns": columns,
            "fields": n_fields,
            "record_id_field": id_field,
            "record_ids_sha256": ids_sha,
            "project_xml": xml_note,
            "files": {p.name: _sha256(p) for p in sorted(files, key=lambda p: p.name)},
        }
        _write(tmp, PROVENANCE, json.dumps(provenance, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    message = f"pull: {len(ids):,} records ({rows:,} rows, {n_fields:,} fields) from {host} into {target}"
    print(message, file=log, flush=True)
    return PullResult(target, latest, message)


def _remove_abandoned(folder: Path) -> None:
    """Remove what pulls killed part-way left (their temporary folders), once their process
    is gone; a pull still running elsewhere keeps its own."""
    for path in folder.glob(".incomplete-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)


def _public_url(url: str) -> str:
    """The API's URL without any user name or password in it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def _unchanged(
    client: Client,
    previous: Path,
    tmp: Path,
    files: list[Path],
    ids_sha: str,
    id_field: str,
    settings: Settings,
) -> bool:
    """Whether the project is as the previous pull found it: the same metadata files, the
    same record IDs, and no record created or modified since that pull began."""
    try:
        before = json.loads((previous / PROVENANCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if before.get("record_ids_sha256") != ids_sha:
        return False
    old = before.get("files") or {}
    for path in files:
        if old.get(path.name) != _sha256(path):
            return False
    if set(old) - {p.name for p in files} - {"records.csv"}:
        return False
    try:
        since = dt.datetime.fromisoformat(before["started"])
    except (KeyError, ValueError):
        return False
    changed = client.call(
        "the export of records modified since the last pull",
        client.project.export_records,
        format_type="csv",
        fields=[id_field],
        raw_or_label="raw",
        raw_or_label_headers="raw",
        date_begin=_server_time(since, settings.timezone),
    )
    return not _first_column(changed)


def _batches(ids: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _records(client: Client, path: Path, ids: list[str], batch_size: int, log: TextIO) -> tuple[int, int]:
    """Write the all-records export to ``path``, batch by batch as they arrive; check that
    every listed record came back. Returns (rows, columns)."""
    export = client.project.export_records
    options = dict(
        format_type="csv",
        raw_or_label="raw",
        raw_or_label_headers="raw",
        export_survey_fields=True,
        export_data_access_groups=True,
    )
    header: str | None = None
    rows = 0
    missing: list[str] = []
    progress = _Progress(len(ids), log)
    with open(path, "w", encoding="utf-8", newline="") as out:
        batches = list(_batches(ids, batch_size)) or [None]
        for n, batch in enumerate(batches, 1):
            what = f"the records export (batch {n} of {len(batches)})" if batch else "the records export"
            text = client.call(what, export, records=batch, **options)
            head, sep, body = text.partition("\n")
            if header is None:
                header = head
                out.write(head + sep)
            elif head != header:
                raise PullError(
                    f"{what}: its columns differ from the first batch's; the project's "
                    "fields changed during the pull: pull again"
                )
            received, n_rows = _ids_and_rows(text)
            if batch:
                missing += [r for r in batch if r not in received]
                extra = set(received) - set(batch)
                if extra:
                    raise PullError(
                        f"{what}: REDCap sent records not asked for: {', '.join(sorted(extra)[:20])}"
                    )
                progress.advance(len(batch))
            if body:
                out.write(body if body.endswith("\n") else body + "\n")
                rows += n_rows
    if missing:
        shown = ", ".join(missing[:50]) + (f" and {len(missing) - 50:,} more" if len(missing) > 50 else "")
        raise PullError(
            f"the records export is incomplete: {len(missing):,} of the {len(ids):,} listed records "
            f"did not come back: {shown}"
        )
    columns = len(next(csv.reader(io.StringIO(header)))) if header else 0
    return rows, columns


def run(config: dict, study_file: str | os.PathLike, force: bool = False) -> PullResult:
    """Rule pull's entry point: :func:`pull`, its failure said in one line (no traceback)."""
    try:
        return pull(config, study_file, force=force)
    except PullError as err:
        print(f"pull failed: {err}", file=sys.stderr, flush=True)
        raise PullError(str(err)) from None
