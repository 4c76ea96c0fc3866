"""Survey imports run as jobs that commit in chunks: on a SQLite file (as the worker runs it) another
connection can write between two chunks, progress is recorded, every rejected line is in the result, and a
re-run changes nothing. Through the API, a file that cannot be read is refused at once (422)."""

import uuid

import pytest
from huey import MemoryHuey
from sqlalchemy import text
from sqlmodel import func, select

from app.core.db import make_engine, session_factory
from app.core.jobs import JobQueue, Runtime
from app.core.migrate import upgrade
from app.core.models import Job
from app.surveys import service, tasks
from app.surveys.imports import BACKGROUND_CHUNK
from app.surveys.models import SurveyResponse
from tests.conftest import sign_in

ROWS = 1_203


def survey_csv(rows: int, *, bad_every: int = 400) -> bytes:
    lines = ["response_id,invited_at,responded_at,rating,comment"]
    for n in range(1, rows + 1):
        rating = "terrible" if n % bad_every == 0 else ("good", "acceptable", "bad")[n % 3]
        lines.append(f"r{n},2026-11-01T09:00:00Z,2026-11-01T10:00:00Z,{rating},row {n}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_the_job_commits_in_chunks_so_others_can_write_meanwhile(settings, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'surveys.db'}"
    upgrade(url)
    engine = make_engine(url, busy_timeout_ms=200)  # a writer waiting on the import's lock would fail fast
    sessions = session_factory(engine)
    other_writes: list[int] = []
    real_progress = tasks.JobContext.progress

    def progress_then_write(self, fraction, message=None):  # right after a chunk's commit
        real_progress(self, fraction, message)
        with engine.begin() as connection:  # another user's short write
            connection.execute(text("UPDATE survey_source SET link_window_hours = link_window_hours"))
        other_writes.append(int(fraction * 100))

    monkeypatch.setattr(tasks.JobContext, "progress", progress_then_write)
    monkeypatch.setattr(tasks, "PROGRESS_EVERY_SECONDS", 0)  # report after every chunk
    queue = JobQueue(Runtime(settings=settings, engine=engine, sessions=sessions),
                     MemoryHuey(f"test-{uuid.uuid4().hex}", immediate=True, results=False))
    try:
        with sessions() as session:
            source = service.create_source(session=session, name="big", actor=None)
            session.commit()
            assert source.id is not None
            job = tasks.start_import(session=session, settings=settings, queue=queue, source_id=source.id,
                                     data=survey_csv(ROWS), filename="november.csv", user_id=None)
        with sessions() as session:
            done = session.get(Job, job.id)
            assert done is not None and done.status == "done", done.error if done else None
            assert done.result["created"] == ROWS - 3
            assert [p["line"] for p in done.result["rejected"]] == [401, 801, 1201]
            assert "rating: unknown rating 'terrible'" in done.result["rejected"][0]["reason"]
            assert done.progress == 1.0
            assert session.exec(select(func.count()).select_from(SurveyResponse)).one() == ROWS - 3
        # 1,197 good rows in chunks of BACKGROUND_CHUNK (50): a commit after each chunk, another user's write
        assert len(other_writes) == -(-(ROWS - 3) // BACKGROUND_CHUNK) == 24
        with sessions() as session:
            again = tasks.start_import(session=session, settings=settings, queue=queue, source_id=source.id,
                                       data=survey_csv(ROWS), filename="november.csv", user_id=None)
        with sessions() as session:
            rerun = session.get(Job, again.id)
            assert rerun is not None and (rerun.result["created"], rerun.result["updated"]) == (0, 0)
            assert rerun.result["unchanged"] == ROWS - 3
    finally:
        engine.dispose()


def test_the_api_starts_a_job_and_refuses_an_unreadable_file_at_once(client, session, make_user):
    admin = make_user("admin")
    sign_in(client, admin.username)
    source_id = client.post("/api/surveys/sources", json={"name": "api-job"}).json()["id"]
    started = client.post(f"/api/surveys/sources/{source_id}/upload",
                          files={"file": ("nov.csv", survey_csv(10, bad_every=5), "text/csv")})
    assert started.status_code == 202, started.text
    job = client.get(started.json()["url"]).json()
    assert job["status"] == "done" and job["result"]["created"] == 8
    assert [p["line"] for p in job["result"]["rejected"]] == [6, 11]
    refused = client.post(f"/api/surveys/sources/{source_id}/upload",
                          files={"file": ("nov.csv", b"id,rating\n1,good\n", "text/csv")})
    assert refused.status_code == 422 and "no column response_id" in refused.text
