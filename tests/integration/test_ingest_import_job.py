"""The background import job as the worker runs it: its own engine on a SQLite file, where the import's
transaction and the job's progress writes use separate connections (the shared-transaction fixtures of the
other tests hide that). SQLite-specific by nature: PostgreSQL rows lock, the database is never locked."""

import json
import uuid

import pytest
from huey import MemoryHuey
from sqlmodel import col, select

from app.core.db import make_engine, session_factory
from app.core.jobs import JobQueue, Runtime
from app.core.migrate import upgrade
from app.core.models import Job
from app.ingest.tasks import IMPORT_KIND, imports_store
from app.interactions.models import Message


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_import_job_on_a_sqlite_file_stores_every_message(settings, tmp_path):
    url = f"sqlite:///{tmp_path / 'import.db'}"
    upgrade(url)
    engine = make_engine(url, busy_timeout_ms=1000)  # a lock wait fails in 1 s, not the default 10 s
    sessions = session_factory(engine)
    lines = [{"conversation_id": f"conv-{c}", "message_id": f"conv-{c}-m{m}", "sent_at": "2026-10-01T10:00:00+00:00",
              "author_role": "customer" if m % 2 == 0 else "agent", "text": f"message {m} about my bill"}
             for c in range(3) for m in range(2)]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    stored = imports_store(settings.resolved_data_dir).put_chunks([body], max_bytes=len(body) + 1)
    queue = JobQueue(Runtime(settings=settings, engine=engine, sessions=sessions),
                     MemoryHuey(f"test-{uuid.uuid4().hex}", immediate=True, results=False))
    try:
        with sessions() as session:
            job_id = queue.enqueue(session=session, kind=IMPORT_KIND, payload={
                "kind": "chats", "sha256": stored.sha256, "filename": "chats.jsonl", "source": "test"}).id
        with sessions() as session:
            job = session.get(Job, job_id)
            assert job is not None and job.status == "done", job.error if job else None
            assert job.result["created"] == 3 and job.progress == 1.0
            ids = session.exec(select(Message.external_id).where(col(Message.external_id).like("conv-%"))).all()
            assert sorted(ids) == sorted(line["message_id"] for line in lines)
    finally:
        engine.dispose()
