"""The connector jobs through the real job queue: scheduled exports (atomic files) and the drop-folder scan."""

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from huey import MemoryHuey
from sqlmodel import Session

from app.auth.models import User
from app.connectors.exports import write_csv_atomic
from app.connectors.tasks import register_periodic
from app.core.jobs import JobQueue, Runtime
from app.core.models import Job
from tests.integration.connectors_support import count_calls, tone


def _run(session: Session, queue: JobQueue, kind: str, payload: dict[str, object]) -> Job:
    job = queue.enqueue(session=session, kind=kind, payload=payload)
    session.refresh(job)
    assert job.status == "done", job.error
    return job


def test_scheduled_exports_are_written_atomically(session: Session, queue: JobQueue, tmp_path: Path) -> None:
    job = _run(session, queue, "connectors.scheduled_exports", {"directory": str(tmp_path / "exports")})
    names = sorted(Path(p).name.rsplit("-", 3)[0] for p in job.result["written"])
    assert names == ["evaluations", "social-sla", "survey-figures"]
    survey = next(Path(p) for p in job.result["written"] if "survey-figures" in p)
    header = next(csv.reader(survey.open()))
    assert header[:6] == ["period", "start", "end", "invited", "completed", "response_rate"]
    assert [p.name for p in (tmp_path / "exports").iterdir() if p.name.startswith(".")] == []
    target = write_csv_atomic(tmp_path / "x.csv", ["name"], [["=cmd()"]])
    assert target.read_text().splitlines() == ["name", "'=cmd()"]


def test_watch_scan_job(session: Session, queue: JobQueue, tmp_path: Path, make_user: Callable[..., User]) -> None:
    make_user("agent", username="alice")
    tone(tmp_path / "drop" / "c.wav")
    (tmp_path / "drop" / "c.json").write_text(json.dumps({"external_id": "job-1",
                                                          "started_at": "2026-11-20T09:00:00+00:00"}))
    (tmp_path / "drop" / "c.wav.done").touch()
    job = _run(session, queue, "connectors.watch_scan", {"directory": str(tmp_path / "drop"), "transcribe": False})
    assert job.result["ingested"] == ["c.wav"] and count_calls(session, "dropfolder") == (1, 1)


def test_periodic_watch_scan(runtime: Runtime, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             make_user: Callable[..., User]) -> None:
    tone(tmp_path / "drop" / "p.wav")
    (tmp_path / "drop" / "p.json").write_text(json.dumps({"external_id": "periodic-1",
                                                          "started_at": "2026-11-20T09:00:00+00:00"}))
    (tmp_path / "drop" / "p.wav.done").touch()
    monkeypatch.setenv("EARSHOT_CONNECTORS_WATCH_DIR", str(tmp_path / "drop"))
    monkeypatch.setenv("EARSHOT_CONNECTORS_WATCH_TRANSCRIBE", "false")
    task = register_periodic(MemoryHuey("periodic-test", immediate=True, results=False), runtime)
    assert task.call_local() == {"ingested": ["p.wav"], "failed": {}}
    assert count_calls(session, "dropfolder") == (1, 1)
