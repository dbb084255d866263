"""The REDCap API pull (issue 27), against a local stand-in of REDCap's API over real HTTP
(tests/redcap_server.py), never a mock of the client: snapshots and their provenance,
the study resolved to the latest pull, batches checked complete, retries of transient
failures, REDCap's own refusals, the token kept secret, no snapshot when nothing changed."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from redcap_server import TOKEN, Project, Server  # noqa: E402

from feasibility.config import ConfigError, load_study  # noqa: E402
from feasibility.pull import PullError, complete_pulls, pull, pulls_folder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRIAL = ROOT / "config" / "studies" / "full-trial.yaml"
PAPER = ROOT / "config" / "config.yaml"
ENV = "FEASIBILITY_TEST_REDCAP_TOKEN"


def _rows(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _study(folder: Path, url: str, source: Path = TRIAL, **api) -> Path:
    """A copy of a shipped study file whose downloads come from the API at ``url``."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    keep = {k: v for k, v in data["redcap"].items() if k in ("missing_data_codes", "repeating")}
    data["redcap"] = {**keep, "api": {"url": url, "token_env": ENV, "backoff_seconds": 0, **api}}
    data.pop("paths", None)
    path = folder / "trial.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trial_project():
    return Project(TRIAL)


@pytest.fixture
def server(trial_project):
    trial_project.overrides.clear()
    trial_project.modified.clear()
    with Server(trial_project) as srv:
        yield srv


@pytest.fixture
def study(tmp_path, monkeypatch, server):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV, TOKEN)
    return _study(tmp_path, server.url)


def _pull(study_path, **kwargs):
    return pull(load_study(study_path, pulling=True), study_path, sleep=lambda s: None, **kwargs)


def _folder(study_path: Path) -> Path:
    """Where the study's pulls go (by its study.id, or its file's name)."""
    return pulls_folder(yaml.safe_load(study_path.read_text(encoding="utf-8")), study_path)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_pull_is_a_complete_snapshot_with_its_provenance(study, server, tmp_path):
    result = _pull(study)
    folder = result.folder
    assert folder.parent.resolve() == (tmp_path / _folder(study)).resolve()
    assert re.fullmatch(r"\d{8}T\d{6}Z", folder.name)
    # the records export as REDCap wrote it: the shipped one, cell for cell
    assert _rows(folder / "records.csv") == _rows(ROOT / "data" / "full-trial" / "records.csv")
    meta = _rows(folder / "metadata.csv")
    shipped = _rows(ROOT / "data" / "full-trial" / "data_dictionary.csv")
    assert meta[0][0] == "field_name" and meta[1:] == shipped[1:]
    assert _rows(folder / "instrument_designations.csv") == _rows(
        ROOT / "data" / "full-trial" / "instrument_designations.csv"
    )
    assert _rows(folder / "events.csv") == _rows(ROOT / "data" / "full-trial" / "events.csv")
    assert (folder / "project.xml").read_text() == (ROOT / "data" / "full-trial" / "project.xml").read_text()
    assert ["event_name", "form_name", "custom_form_label"] == _rows(
        folder / "repeating_instruments_events.csv"
    )[0]
    info = json.loads((folder / "project.json").read_text())
    assert info["missing_data_codes"].startswith("UNK, Unknown")
    prov = json.loads((folder / "provenance.json").read_text())
    on_disk = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.iterdir()
        if p.name != "provenance.json"
    }
    assert prov["files"] == on_disk
    assert prov["server"]["host"] == server.url.split("/")[2]
    assert prov["project"]["project_id"] == 101 and prov["project"]["project_title"].startswith(
        "Supported work"
    )
    assert prov["redcap_version"] == "14.5.10" and prov["synthetic"] is False and prov["pull"] == folder.name
    ids = list(dict.fromkeys(r[0] for r in _rows(ROOT / "data" / "full-trial" / "records.csv")[1:]))
    assert prov["records"] == len(ids) and prov["rows"] == len(_rows(folder / "records.csv")) - 1
    assert prov["fields"] == len(meta) - 1
    calls = {c["content"] for c in prov["api_calls"]}
    assert {
        "version",
        "project",
        "metadata",
        "record",
        "formEventMapping",
        "event",
        "arm",
        "repeatingFormsEvents",
        "project_xml",
        "instrument",
        "exportFieldNames",
    } <= calls
    assert _leftovers(folder.parent) == [folder.name]  # no temporary folder left
    # the study now builds from the pull
    config = load_study(study)
    assert config["redcap"]["records"] == os.path.join(_folder(study), folder.name, "records.csv")
    assert config["redcap"]["dictionary"].endswith("metadata.csv") and config["redcap"]["pull"] == folder.name


def test_records_come_in_batches_checked_complete_with_a_progress_line(study, server, capsys):
    data = yaml.safe_load(study.read_text())
    data["redcap"]["api"]["batch_size"] = 64
    study.write_text(yaml.safe_dump(data))
    result = _pull(study)
    batches = [r for r in server.log if r["content"] == "record" and r["records"]]
    n = json.loads((result.folder / "provenance.json").read_text())["records"]
    assert len(batches) == -(-n // 64) and max(r["records"] for r in batches) == 64
    id_calls = [r for r in server.log if r["content"] == "record" and not r["records"]]
    assert len(id_calls) == 1 and id_calls[0]["fields"] == 1  # the record-id field only
    err = capsys.readouterr().err
    assert f"records {n:,}/{n:,} (100%" in err


def test_a_batch_that_leaves_records_out_fails_naming_them(study, server):
    server.faults.omit_records = {"11-3", "11-17"}
    with pytest.raises(PullError, match=r"2 of the \d+ listed records did not come back: 11-17, 11-3"):
        _pull(study)
    assert complete_pulls(_folder(study)) == []
    assert _leftovers(_folder(study)) == []


def test_transient_failures_are_retried_and_counted(study, server, capsys):
    data = yaml.safe_load(study.read_text())
    data["redcap"]["api"].update(batch_size=100, timeout_seconds=0.5)
    study.write_text(yaml.safe_dump(data))
    server.faults.fail_500 = 2  # the first two requests answer 500
    server.faults.drop_batch, server.faults.drop_times = 2, 1  # the second batch's connection drops
    result = _pull(study)
    err = capsys.readouterr().err
    assert (
        "HTTP 500" in err
        and "retrying" in err
        and ("ChunkedEncodingError" in err or "ConnectionError" in err)
    )
    prov = json.loads((result.folder / "provenance.json").read_text())
    assert sum(c["retries"] for c in prov["api_calls"]) == 3
    assert _rows(result.folder / "records.csv") == _rows(ROOT / "data" / "full-trial" / "records.csv")
    # a slow answer (beyond timeout_seconds) is retried as well
    server.faults.delay_seconds, server.faults.delay_requests = 1.5, 1
    result = _pull(study, force=True)
    assert "ReadTimeout" in capsys.readouterr().err and result.folder is not None


def test_what_a_killed_pull_left_is_removed_by_the_next(study, server):
    folder = _folder(study)
    abandoned = folder / ".incomplete-20200101T000000Z-4194303"  # no such process
    (abandoned).mkdir(parents=True)
    (abandoned / "records.csv").write_text("record_id\n1\n")
    result = _pull(study)
    assert _leftovers(folder) == [result.folder.name]


def test_retries_are_bounded_and_a_failed_pull_leaves_no_snapshot(study, server):
    data = yaml.safe_load(study.read_text())
    data["redcap"]["api"]["retries"] = 2
    study.write_text(yaml.safe_dump(data))
    server.faults.drop_batch, server.faults.drop_times = 1, 10
    with pytest.raises(PullError, match=r"batch 1 of 1\) failed 3 times"):
        _pull(study)
    assert _leftovers(_folder(study)) == []


def test_a_wrong_token_fails_at_once_with_redcaps_message(study, server, monkeypatch):
    wrong = "FEDCBA9876543210FEDCBA9876543210"
    monkeypatch.setenv(ENV, wrong)
    with pytest.raises(PullError, match=r"HTTP 403\): You do not have permissions to use the API") as err:
        _pull(study)
    assert len(server.log) == 1 and wrong not in str(err.value)
    monkeypatch.setenv(ENV, "not a token")
    with pytest.raises(PullError, match=r"does not hold a REDCap API token"):
        _pull(study)
    monkeypatch.delenv(ENV)
    with pytest.raises(PullError, match=f"environment variable {ENV} .* is not set"):
        _pull(study)


def test_a_refused_call_fails_at_once_with_redcaps_message(study, server):
    from feasibility.pull import Client, Settings

    client = Client(Settings(url=server.url), TOKEN, sleep=lambda s: None)
    with pytest.raises(PullError, match=r'HTTP 400\): The value of the parameter "content" is not valid'):
        client.post("an unknown export", {"content": "nonsense", "format": "json"})
    assert len(server.log) == 1


def test_a_project_without_xml_rights_is_pulled_without_its_xml(study, server, capsys):
    server.faults.xml_rights = False
    result = _pull(study)
    assert not (result.folder / "project.xml").exists()
    prov = json.loads((result.folder / "provenance.json").read_text())
    assert prov["project_xml"].startswith("not available: REDCap refused the project XML export (HTTP 403)")
    assert "project XML is not available" in capsys.readouterr().err
    assert load_study(study)["redcap"]["dictionary"].endswith("metadata.csv")


def test_an_unchanged_project_adds_no_snapshot_and_a_change_does(study, server):
    first = _pull(study).folder
    again = _pull(study)
    assert again.folder is None and "has not changed since the pull " + first.name in again.message
    assert complete_pulls(first.parent) == [first.name]
    assert any(r["dateRangeBegin"] for r in server.log)  # asked REDCap what changed since
    server.project.change("11-5", "scr_source", "2")
    second = _pull(study).folder
    assert second is not None and complete_pulls(first.parent) == [first.name, second.name]
    # the study builds from the latest pull, unless redcap.pull pins one
    assert load_study(study)["redcap"]["pull"] == second.name
    data = yaml.safe_load(study.read_text())
    data["redcap"]["pull"] = first.name
    study.write_text(yaml.safe_dump(data))
    assert load_study(study)["redcap"]["records"].endswith(os.path.join(first.name, "records.csv"))
    data["redcap"]["pull"] = "20000101T000000Z"
    study.write_text(yaml.safe_dump(data))
    with pytest.raises(
        ConfigError, match=r"redcap.pull is '20000101T000000Z', but .* holds no complete pull"
    ):
        load_study(study)


def test_a_study_with_no_pull_yet_says_to_pull(study):
    with pytest.raises(ConfigError, match=r"holds no complete pull yet: run `snakemake pull`"):
        load_study(study)
    assert load_study(study, pulling=True)["redcap"]["records"] is None


def test_a_token_in_the_study_file_is_refused_without_showing_it(study):
    data = yaml.safe_load(study.read_text())
    data["redcap"]["api"]["token"] = TOKEN
    study.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_study(study, pulling=True)
    assert "redcap.api.token: an API token is never accepted in the study file" in str(err.value)
    assert TOKEN not in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_study(study.with_name("trial.yaml"), overrides={"redcap": {"token": TOKEN}}, pulling=True)
    assert "the command line (--config): redcap.token" in str(err.value) and TOKEN not in str(err.value)


def test_the_token_file_must_be_readable_by_its_owner_only(study, tmp_path, monkeypatch):
    secret = tmp_path / "token.txt"
    secret.write_text(TOKEN + "\n")
    data = yaml.safe_load(study.read_text())
    data["redcap"]["api"] = {k: v for k, v in data["redcap"]["api"].items() if k != "token_env"}
    data["redcap"]["api"]["token_file"] = "token.txt"
    study.write_text(yaml.safe_dump(data))
    monkeypatch.delenv(ENV)
    os.chmod(secret, 0o644)
    with pytest.raises(
        PullError,
        match=re.escape(f"token file {secret.name}") + r".*readable or writable by its "
        r"group or by others \(mode -rw-r--r--\).*chmod 600",
    ):
        _pull(study)
    os.chmod(secret, 0o600)
    assert _pull(study).folder is not None
    data["redcap"]["api"]["token_env"] = ENV
    study.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="exactly one token source"):
        load_study(study, pulling=True)


def test_the_token_is_scrubbed_from_errors_and_written_nowhere(study, server, tmp_path, capsys):
    """An error body that echoes the request (a proxy's, say) does not carry the token into
    the message; nothing the pulls wrote holds it."""
    _pull(study)
    server.project.change("11-1", "scr_source", "1")
    _pull(study)
    server.faults.echo_request = True
    with pytest.raises(PullError) as err:
        _pull(study)
    assert "content=version" in str(err.value) and "token=[token]" in str(err.value)
    out = capsys.readouterr()
    assert TOKEN not in str(err.value) and TOKEN not in out.err + out.out
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) > 20
    for path in written:
        assert TOKEN.encode() not in path.read_bytes(), path


def test_feasibility_pull_command(study, server, capsys):
    from feasibility.cli import main

    assert main(["pull", "--configfile", str(study)]) == 0
    assert main(["pull", "--configfile", str(study)]) == 0
    assert "has not changed" in capsys.readouterr().err
    assert main(["pull", "--configfile", str(study), "--force"]) == 0
    assert len(complete_pulls(_folder(study))) == 2
    server.faults.omit_records = {"11-2"}
    assert main(["pull", "--configfile", str(study), "--force"]) == 1
    err = capsys.readouterr().err
    assert "feasibility pull: the records export is incomplete" in err and "Traceback" not in err


def test_the_paper_study_is_pulled_too(tmp_path, monkeypatch):
    """The classic layout's other shipped study: its download-form dictionary served as the
    API's metadata, its records cell for cell."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV, TOKEN)
    with Server(Project(PAPER, project_id=102)) as srv:
        study = _study(tmp_path, srv.url, source=PAPER)
        folder = _pull(study).folder
    assert _rows(folder / "records.csv") == _rows(ROOT / "data" / "raw" / "records.csv")
    assert _rows(folder / "metadata.csv")[1:] == _rows(ROOT / "data" / "raw" / "data_dictionary.csv")[1:]


@pytest.mark.slow
@pytest.mark.parametrize(
    "source", ["config/studies/full-trial.yaml", "config/config.yaml"], ids=["trial", "paper"]
)
def test_pull_validate_and_report_from_the_stand_in(source, tmp_path):
    """The whole path for each shipped study: `snakemake pull` from the stand-in, then the
    build (validation, the reports) from the pull, which the validation report and the
    report's provenance name; a second pull of the unchanged project adds nothing and
    Snakemake then has nothing to do; no file the pull or the build wrote holds the token."""
    import subprocess

    from projectcopy import copy_project, results_of

    (tmp_path / "project").mkdir()
    project = copy_project(tmp_path / "project")
    study_path = project / source
    api_study = study_path.with_name("pulled.yaml")
    with Server(Project(ROOT / source)) as srv:
        data = yaml.safe_load(study_path.read_text(encoding="utf-8"))
        data["redcap"] = {
            **{k: v for k, v in data["redcap"].items() if k in ("missing_data_codes", "repeating")},
            "api": {"url": srv.url, "token_env": ENV, "batch_size": 50},
        }
        api_study.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        env = {**os.environ, ENV: TOKEN}
        run = lambda *args, timeout=300: subprocess.run(  # noqa: E731
            [
                str(Path(sys.executable).with_name("snakemake")),
                *args,
                "--configfile",
                str(api_study.relative_to(project)),
            ],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        before = run("--dry-run")
        assert (
            before.returncode != 0
            and "holds no complete pull yet: run `snakemake pull`" in before.stdout + before.stderr
        )
        first = run("pull")
        assert first.returncode == 0, first.stderr[-3000:]
        pulls = complete_pulls(project / _folder(api_study))
        assert len(pulls) == 1
        build = run(timeout=900)
        assert build.returncode == 0, build.stderr[-3000:]
        sid = data["study"]["id"]  # the copied study file's: its results/<id>/
        results = results_of(project, sid)
        report_md = (results / "validation" / "report.md").read_text()
        assert f"pull {pulls[0]}" in report_md and "Data pulled from REDCap 14.5.10 at 127.0.0.1" in report_md
        html = (results / "report" / f"{sid}-quality.html").read_text()
        assert f"pull {pulls[0]}" in html and (results / "report" / f"{sid}-quality.pdf").is_file()
        if (results / "report" / f"{sid}.html").exists():
            html = (results / "report" / f"{sid}.html").read_text()
            assert f"pull {pulls[0]}" in html
        again = run("pull")
        assert again.returncode == 0 and "has not changed since the pull" in again.stdout + again.stderr
        assert complete_pulls(project / _folder(api_study)) == pulls
        noop = run("--dry-run")
        assert "Nothing to be done" in noop.stdout + noop.stderr
    for path in project.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_the_api_section_is_checked_before_any_request(study):
    data = yaml.safe_load(study.read_text())
    data["redcap"]["api"]["url"] = "https://redcap.example.org/redcap"
    study.write_text(yaml.safe_dump(data))
    with pytest.raises(
        ConfigError, match=r"redcap\.api\.url is 'https://redcap.example.org/redcap'.*ending in /api/"
    ):
        load_study(study, pulling=True)


def test_feasibility_pull_help():
    import subprocess

    res = subprocess.run(
        [str(Path(sys.executable).with_name("feasibility")), "pull", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0 and "--force" in res.stdout and "redcap.api" in res.stdout


def test_the_projects_missing_data_codes_apply_unless_the_study_file_gives_them(study):
    folder = _pull(study).folder
    data = yaml.safe_load(study.read_text())
    data["redcap"]["missing_data_codes"] = "NA, Not applicable"
    study.write_text(yaml.safe_dump(data))
    assert load_study(study)["redcap"]["missing_data_codes"] == "NA, Not applicable"
    del data["redcap"]["missing_data_codes"]
    study.write_text(yaml.safe_dump(data))
    assert (
        load_study(study)["redcap"]["missing_data_codes"]
        == json.loads((folder / "project.json").read_text())["missing_data_codes"]
    )
