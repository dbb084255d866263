"""A local stand-in of REDCap's API, for the pull's tests and benchmark.

A real HTTP server (``http.server.ThreadingHTTPServer`` on 127.0.0.1, port 0) answering the
API's form-encoded POST calls - ``content=version|project|metadata|instrument|
exportFieldNames|formEventMapping|event|arm|repeatingFormsEvents|project_xml|record`` -
with REDCap's response formats (CSV or JSON per ``format``; errors as ``{"error": ...}``,
XML or text per ``returnFormat``, with REDCap's HTTP status), from a fixture project built
from a shipped study's own downloads (its data dictionary, instrument designations, events,
records export and project XML). The records can be scaled (``scale=N``: N records made
by cycling the study's records under new IDs, made per request, so that 100,000 records
cost no memory).

Injectable faults (:class:`Faults`): slow answers, 500s, a connection dropped in the
middle of a records batch, records left out of a batch, no right to the project XML; a
request with another token is refused as REDCap refuses it (403, "You do not have
permissions to use the API").

Run on its own (the benchmark does): ``python tests/redcap_server.py --study
config/config.yaml --scale 100000`` prints ``port N`` and serves until killed; the token
is :data:`TOKEN`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

TOKEN = "0123456789ABCDEF0123456789ABCDEF"  # the stand-in's project token (not a secret)
VERSION = "14.5.10"
DOWNLOAD_TO_API = [
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
]
OLD = dt.datetime(2024, 1, 1, 9, 0, 0)  # when the fixture's records were last modified


def _read_csv(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _dicts(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Faults:
    """Faults the server injects (tests set them between calls)."""

    delay_seconds: float = 0.0  # every answer waits this long ...
    delay_requests: int = 0  # ... for this many requests (then none)
    fail_500: int = 0  # this many requests answer HTTP 500
    drop_batch: int = 0  # the connection drops mid-body on this records batch (1-based) ...
    drop_times: int = 1  # ... this many times
    omit_records: set = field(default_factory=set)  # records a batch leaves out
    xml_rights: bool = True  # False: project_xml refused (403)
    echo_request: bool = False  # True: every call refused with a message echoing the request
    batches_seen: int = 0


class Project:
    """A REDCap project in memory, from a shipped study's downloads."""

    def __init__(
        self, study_file: str | Path, project_id: int = 101, scale: int | None = None, token: str = TOKEN
    ):
        from feasibility.config import load_study

        config = load_study(study_file)
        redcap = config["redcap"]
        self.token = token
        self.title = config["study"]["title"]
        self.project_id = project_id
        rows = _read_csv(redcap["dictionary"])
        if rows[0][0] != "field_name":  # the download's 18 columns -> the API's keys
            rows = [DOWNLOAD_TO_API] + rows[1:]
        self.metadata = [dict(zip(rows[0], r)) for r in rows[1:] if r]
        self.id_field = self.metadata[0]["field_name"]
        self.designations = (
            _dicts(redcap["instrument_designations"]) if redcap.get("instrument_designations") else []
        )
        self.events = _dicts(redcap["events"]) if redcap.get("events") else []
        rep = redcap.get("repeating") or {}
        self.repeating = [
            {"event_name": r.get("event", ""), "form_name": r["form"], "custom_form_label": ""}
            for r in rep.get("instruments") or []
        ] + [{"event_name": e, "form_name": "", "custom_form_label": ""} for e in rep.get("events") or []]
        codes = redcap.get("missing_data_codes")
        self.missing_data_codes = codes if isinstance(codes, str) else ""
        xml = Path(redcap["records"]).parent / "project.xml"
        self.project_xml = xml.read_text(encoding="utf-8") if xml.is_file() else None
        table = _read_csv(redcap["records"])
        self.header, body = table[0], [r for r in table[1:] if r]
        self.template: dict[str, list[list[str]]] = {}
        for row in body:
            self.template.setdefault(row[0], []).append(row)
        self.template_ids = list(self.template)
        self.scale = scale
        self.modified: dict[str, dt.datetime] = {}
        self.overrides: dict[str, list[list[str]]] = {}
        self.deleted: set[str] = set()
        self.lock = threading.Lock()
        self._tails: dict[str, list[str]] = {}

    # ---- records
    def ids(self) -> list[str]:
        ids = [str(i) for i in range(1, self.scale + 1)] if self.scale else list(self.template_ids)
        return [r for r in ids if r not in self.deleted]

    def rows(self, record: str) -> list[list[str]]:
        if record in self.overrides:
            return self.overrides[record]
        if self.scale:
            src = self.template[self.template_ids[(int(record) - 1) % len(self.template_ids)]]
            return [[record] + r[1:] for r in src]
        return self.template.get(record, [])

    def row_text(self, record: str) -> str:
        """The CSV text of a record's rows (every column)."""
        if record in self.overrides or not self.scale:
            return _csv_text(self.header, self.rows(record)).partition("\n")[2]
        key = self.template_ids[(int(record) - 1) % len(self.template_ids)]
        if key not in self._tails:  # each row without its record ID, as CSV text
            self._tails[key] = [
                _csv_text(["x"], [[""] + r[1:]]).partition("\n")[2] for r in self.template[key]
            ]
        return "".join(record + tail for tail in self._tails[key])

    def change(self, record: str, column: str, value: str) -> None:
        """Edit one value of every row of ``record`` (its modification time becomes now)."""
        i = self.header.index(column)
        if record not in self.ids():
            raise KeyError(f"no record {record!r} in the stand-in's project")
        with self.lock:
            rows = [list(r) for r in self.rows(record)]
            for r in rows:
                r[i] = value
            self.overrides[record] = rows
            self.modified[record] = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)

    def forms(self) -> list[str]:
        return list(dict.fromkeys(m["form_name"] for m in self.metadata))

    def checkbox_fields(self) -> set[str]:
        return {m["field_name"] for m in self.metadata if m["field_type"] == "checkbox"}

    def info(self) -> dict:
        return {
            "project_id": self.project_id,
            "project_title": self.title,
            "creation_time": "2024-01-01 09:00:00",
            "production_time": "2024-01-02 09:00:00",
            "in_production": 1,
            "project_language": "English",
            "purpose": 2,
            "is_longitudinal": int(bool(self.designations)),
            "has_repeating_instruments_or_events": int(bool(self.repeating)),
            "surveys_enabled": 0,
            "scheduling_enabled": 0,
            "record_autonumbering_enabled": 0,
            "randomization_enabled": 0,
            "missing_data_codes": self.missing_data_codes,
            "secondary_unique_field": "",
            "bypass_branching_erase_field_prompt": 0,
        }


# ------------------------------------------------------------------------- answering
class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _csv_text(header: list[str], rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _table(rows: list[dict], fmt: str, keys: list[str] | None = None) -> tuple[str, str]:
    if fmt == "json":
        return json.dumps(rows), "application/json"
    keys = keys or (list(rows[0]) if rows else [])
    return _csv_text(keys, [[r.get(k, "") for k in keys] for r in rows]), "text/csv"


def _list(form: dict, name: str) -> list[str]:
    """An array parameter as PHP reads it: name[0]=..., name[1]=... (or name[]=...)."""
    found = []
    for key, values in form.items():
        if key == name or key.startswith(name + "["):
            found += values
    return found


def _export_names(project: Project) -> list[dict]:
    out = []
    for m in project.metadata:
        if m["field_type"] == "descriptive":
            continue
        if m["field_type"] == "checkbox":
            for choice in m["select_choices_or_calculations"].split("|"):
                code = choice.split(",", 1)[0].strip()
                safe = "".join(c if c.isalnum() else "_" for c in code.lower())
                out.append(
                    {
                        "original_field_name": m["field_name"],
                        "choice_value": code,
                        "export_field_name": f"{m['field_name']}___{safe}",
                    }
                )
        else:
            out.append(
                {
                    "original_field_name": m["field_name"],
                    "choice_value": "",
                    "export_field_name": m["field_name"],
                }
            )
    return out


def _record_columns(project: Project, fields: list[str], survey: bool, dags: bool) -> list[int]:
    """The columns of the records export a request gets, in the project's order."""
    wanted = set(fields)
    names = {m["field_name"] for m in project.metadata}
    boxes = project.checkbox_fields()
    picked = []
    for i, col in enumerate(project.header):
        if col == "redcap_data_access_group":
            keep = dags
        elif col == "redcap_survey_identifier" or (col.endswith("_timestamp") and col not in names):
            keep = survey and (not wanted or project.id_field in wanted)
        elif col.startswith("redcap_") or col == project.id_field:
            keep = True
        elif not wanted:
            keep = True
        elif col in names or col.endswith("_complete"):
            keep = col in wanted
        elif "___" in col and col.rsplit("___", 1)[0] in boxes:
            keep = col.rsplit("___", 1)[0] in wanted
        else:
            keep = col in wanted
        if keep:
            picked.append(i)
    return picked


def _records(project: Project, form: dict, faults: Faults) -> tuple[str, str]:
    fmt = form.get("format", ["xml"])[0]
    if form.get("type", ["flat"])[0] != "flat":
        raise ApiError(400, "The stand-in exports flat records only")
    requested = _list(form, "records")
    flag = lambda name: form.get(name, ["false"])[0].lower() in ("true", "1")  # noqa: E731 (PHP reads True/true)
    columns = _record_columns(
        project, _list(form, "fields"), flag("exportSurveyFields"), flag("exportDataAccessGroups")
    )
    begin = form.get("dateRangeBegin", [""])[0]
    ids = project.ids()
    if requested:
        if project.scale:
            wanted = {
                r
                for r in requested
                if r.isdigit() and 1 <= int(r) <= project.scale and r not in project.deleted
            }
            ids = sorted(wanted, key=int)
        else:
            wanted = set(requested)
            ids = [r for r in ids if r in wanted]
        ids = [r for r in ids if r not in faults.omit_records]
    if begin:
        since = dt.datetime.strptime(begin, "%Y-%m-%d %H:%M:%S")
        ids = [r for r in ids if project.modified.get(r, OLD) > since]
    header = [project.header[i] for i in columns]
    if fmt != "json" and len(columns) == len(project.header):  # every column: rows as text, made once
        return _csv_text(header, []) + "".join(project.row_text(rid) for rid in ids), "text/csv"
    rows = ([r[i] for i in columns] for rid in ids for r in project.rows(rid))
    if fmt == "json":
        return json.dumps([dict(zip(header, r)) for r in rows]), "application/json"
    return _csv_text(header, rows), "text/csv"


def answer(project: Project, form: dict, faults: Faults) -> tuple[str, str]:
    """(body, content type) for one API call, or :class:`ApiError`."""
    token = form.get("token", [""])[0]
    if faults.echo_request:
        raise ApiError(400, "Invalid request: " + "&".join(f"{k}={v[0]}" for k, v in sorted(form.items())))
    if token != project.token:
        raise ApiError(403, "You do not have permissions to use the API")
    content = form.get("content", [""])[0]
    fmt = form.get("format", ["xml"])[0]
    if content == "version":
        return VERSION, "text/html"
    if content == "project":
        return (
            _table([project.info()], fmt)
            if fmt == "csv"
            else (json.dumps(project.info()), "application/json")
        )
    if content == "metadata":
        return _table(project.metadata, fmt, DOWNLOAD_TO_API)
    if content == "instrument":
        return _table(
            [
                {"instrument_name": f, "instrument_label": f.replace("_", " ").title()}
                for f in project.forms()
            ],
            fmt,
        )
    if content == "exportFieldNames":
        return _table(
            _export_names(project), fmt, ["original_field_name", "choice_value", "export_field_name"]
        )
    if content in ("formEventMapping", "event", "arm"):
        if not project.designations:
            raise ApiError(400, "You cannot export arms, events or form/event mappings for classic projects")
        if content == "formEventMapping":
            return _table(project.designations, fmt, ["arm_num", "unique_event_name", "form"])
        if content == "event":
            return _table(project.events, fmt)
        arms = sorted({e.get("arm_num", "1") for e in project.events} or {"1"}, key=int)
        return _table([{"arm_num": a, "name": f"Arm {a}"} for a in arms], fmt, ["arm_num", "name"])
    if content == "repeatingFormsEvents":
        return _table(project.repeating, fmt, ["event_name", "form_name", "custom_form_label"])
    if content == "project_xml":
        if not faults.xml_rights or project.project_xml is None:
            raise ApiError(403, "You do not have API Export privileges for the project XML")
        return project.project_xml, "text/xml"
    if content == "record":
        return _records(project, form, faults)
    raise ApiError(400, 'The value of the parameter "content" is not valid')


def _error_body(form: dict, err: ApiError) -> tuple[str, str]:
    fmt = form.get("returnFormat", form.get("format", ["xml"]))[0]
    if err.status == 403 or fmt == "json":
        return json.dumps({"error": err.message}), "application/json"
    if fmt == "csv":
        return f"ERROR: {err.message}", "text/plain"
    return (
        f'<?xml version="1.0" encoding="UTF-8" ?>\n<hash>\n  <error>{err.message}</error>\n</hash>',
        "text/xml",
    )


def make_handler(project: Project, faults: Faults, log: list):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: str, ctype: str, drop: bool = False):
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{ctype}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if drop:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
            content = form.get("content", [""])[0]
            batch = content == "record" and bool(_list(form, "records"))
            with project.lock:
                log.append(
                    {
                        "content": content,
                        "records": len(_list(form, "records")),
                        "fields": len(_list(form, "fields")),
                        "dateRangeBegin": form.get("dateRangeBegin", [""])[0],
                        "path": self.path,
                    }
                )
                delay = 0.0
                if faults.delay_requests > 0:
                    faults.delay_requests -= 1
                    delay = faults.delay_seconds
                fail = faults.fail_500 > 0
                if fail:
                    faults.fail_500 -= 1
                drop = False
                if batch and not fail:
                    faults.batches_seen += 1
                    if (
                        faults.drop_batch
                        and faults.batches_seen >= faults.drop_batch
                        and faults.drop_times > 0
                    ):
                        faults.drop_times -= 1
                        drop = True
            if delay:
                time.sleep(delay)
            if fail:
                return self._send(500, "<html><body>Internal Server Error</body></html>", "text/html")
            try:
                body, ctype = answer(project, form, faults)
                status = 200
            except ApiError as err:
                body, ctype = _error_body(form, err)
                status = err.status
            self._send(status, body, ctype, drop=drop)

        def do_GET(self):
            self._send(405, "REDCap's API takes POST requests", "text/plain")

    return Handler


class Server:
    """The stand-in running in a thread: ``url`` is its API address."""

    def __init__(self, project: Project, faults: Faults | None = None):
        self.project, self.faults, self.log = project, faults or Faults(), []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.project, self.faults, self.log))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--study", default="config/config.yaml")
    ap.add_argument("--scale", type=int, default=None)
    args = ap.parse_args(argv)
    project = Project(args.study, scale=args.scale)
    faults = Faults()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(project, faults, []))
    httpd.daemon_threads = True
    print(f"port {httpd.server_address[1]}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
