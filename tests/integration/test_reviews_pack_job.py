"""The meeting pack job on an SQLite file, each session on its own connection as in the real worker: the
job's progress is committed from another connection while the job reads, and the job must still store the
pack. SQLite-specific by nature (PostgreSQL has no stale-snapshot write refusal)."""

import uuid
from datetime import date

from huey import MemoryHuey
from sqlmodel import select

from app.auth import service as auth_service
from app.auth.models import UserCreate
from app.core.db import session_scope
from app.core.jobs import JobQueue, build_runtime
from app.core.migrate import upgrade
from app.core.models import Job, JobStatus
from app.core.security import make_password_hasher
from app.reviews import pack
from app.reviews.meetings import create_meeting
from app.reviews.models import MeetingCreate, ReviewMeeting
from tests.conftest import TEST_PASSWORD, make_settings


def test_pack_job_stores_the_pack_on_an_sqlite_file(tmp_path):
    settings = make_settings(tmp_path)  # the "immediate" queue: the job runs inline, on its own connections
    upgrade(settings.resolved_database_url)
    runtime = build_runtime(settings)
    queue = JobQueue(runtime)
    try:
        with session_scope(runtime.sessions) as session:
            erin = auth_service.create_user(session=session, hasher=make_password_hasher(settings), actor=None,
                                            data=UserCreate(username="erin", password=TEST_PASSWORD,
                                                            roles=["executive"]))
            actor = auth_service.principal_of(erin)
            meeting = create_meeting(session=session, actor=actor, data=MeetingCreate(
                period="2026-11", held_on=date(2026, 12, 3), case_ids=[]))
            session.commit()
            assert meeting.id is not None
            job_id = pack.enqueue_pack(session=session, queue=queue, meeting_id=meeting.id, actor=actor).id
        with session_scope(runtime.sessions) as session:
            job = session.get(Job, job_id)
            assert job is not None and job.status == "done", job and job.error
            stored = session.get(ReviewMeeting, meeting.id)
            assert stored is not None and stored.pack_sha256 and stored.pack_size
            assert pack.pack_path(settings=settings, meeting=stored).read_bytes().startswith(b"%PDF")
    finally:
        runtime.engine.dispose()


def test_render_pressed_again_while_the_pack_waits_queues_one_render(session, runtime, make_user):
    """A queue whose worker has not taken the job yet: pressing "Render" again (or a colleague pressing it)
    gives the waiting job, not a second render; once that job runs, a new press queues a new render (the one
    running may miss the latest change)."""
    waiting_queue = JobQueue(runtime, MemoryHuey(f"pack-{uuid.uuid4().hex}", immediate=False, results=False))
    erin = make_user("executive", username="erin")
    actor = auth_service.principal_of(erin)
    meeting = create_meeting(session=session, actor=actor, data=MeetingCreate(
        period="2026-11", held_on=date(2026, 12, 3), case_ids=[]))
    session.commit()
    assert meeting.id is not None
    first = pack.enqueue_pack(session=session, queue=waiting_queue, meeting_id=meeting.id, actor=actor)
    again = pack.enqueue_pack(session=session, queue=waiting_queue, meeting_id=meeting.id, actor=actor)
    assert again.id == first.id and first.status == JobStatus.QUEUED
    first.status = JobStatus.RUNNING
    session.add(first)
    session.commit()
    third = pack.enqueue_pack(session=session, queue=waiting_queue, meeting_id=meeting.id, actor=actor)
    assert third.id != first.id
    assert len(session.exec(select(Job).where(Job.kind == pack.JOB_KIND)).all()) == 2
