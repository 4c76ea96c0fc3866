"""Background jobs: visible rows, progress, retries, permanent failures, dedupe, and real queues
(Huey on SQLite and on Redis, with a real consumer thread)."""

import time
import uuid

import pytest
from huey import PriorityRedisHuey, SqliteHuey
from sqlmodel import select

from app.core.jobs import JobContext, JobKind, JobQueue, PermanentJobError, Runtime, job_handler, make_huey
from app.core.models import Job

CALLS: list[int] = []


@job_handler("test.echo")
def _echo(ctx: JobContext) -> dict:
    ctx.progress(0.5, "half way")
    CALLS.append(ctx.job_id)
    return {"echo": ctx.payload["value"]}


@job_handler("test.corrupt")
def _corrupt(ctx: JobContext) -> dict:
    raise PermanentJobError("the recording is truncated (no audio frames after 0.4 s)")


@job_handler("test.flaky", max_attempts=2)
def _flaky(ctx: JobContext) -> dict:
    raise ConnectionError("database restarting")


def test_job_runs_and_reports_result(queue, session):
    job = queue.enqueue(session=session, kind="test.echo", payload={"value": 7})
    session.refresh(job)
    assert job.status == "done" and job.result == {"echo": 7} and job.progress == 1.0 and job.attempts == 1


def test_duplicate_enqueue_runs_once(queue, session):
    before = len(CALLS)
    first = queue.enqueue(session=session, kind="test.echo", payload={"value": 1}, dedupe_key="echo:1")
    second = queue.enqueue(session=session, kind="test.echo", payload={"value": 1}, dedupe_key="echo:1")
    assert first.id == second.id and len(CALLS) == before + 1
    queue.push(first.id, first.kind)  # a redelivered message for a finished job does nothing
    assert len(CALLS) == before + 1


def test_permanent_failure_is_not_retried_and_keeps_the_reason(queue, session):
    job = queue.enqueue(session=session, kind="test.corrupt", payload={})
    session.refresh(job)
    assert job.status == "failed" and job.attempts == 1 and "truncated" in job.error


def test_transient_failure_is_rescheduled_with_backoff(queue, session):
    job = queue.enqueue(session=session, kind="test.flaky", payload={})
    session.refresh(job)
    assert job.status == "queued" and job.attempts == 1 and "database restarting" in job.error
    queue.push(job.id, job.kind)  # the scheduled retry arrives: last attempt
    session.refresh(job)
    assert job.status == "failed" and job.attempts == 2


def test_unknown_kind_is_refused(queue, session):
    with pytest.raises(ValueError, match="no handler"):
        queue.enqueue(session=session, kind="test.nope", payload={})


def _run_consumer_until(queue: JobQueue, predicate, timeout: float = 20.0) -> None:
    consumer = queue.huey.create_consumer(workers=1, worker_type="thread", periodic=False)
    consumer.start()  # worker threads; run() would also install signal handlers
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not predicate():
            time.sleep(0.05)
    finally:
        consumer.stop(graceful=True)


@pytest.mark.parametrize("queue_kind", ["sqlite", "redis"])
def test_real_queue_and_consumer(queue_kind, settings, tmp_path):
    """The real worker path: a committed job row, a real queue, a consumer thread."""
    from app.core.db import ensure_wal, make_engine, session_factory
    from app.core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    upgrade(url)
    engine = make_engine(url)
    ensure_wal(engine)
    sessions = session_factory(engine)
    name = f"earshot-test-{uuid.uuid4().hex}"
    huey = (SqliteHuey(name, filename=str(tmp_path / "q.db"), results=False) if queue_kind == "sqlite"
            else PriorityRedisHuey(name, url="redis://127.0.0.1:6379/0", results=False))
    try:
        queue = JobQueue(Runtime(settings=settings, engine=engine, sessions=sessions), huey)
        with sessions() as session:
            job = queue.enqueue(session=session, kind="test.echo", payload={"value": queue_kind})
            job_id = job.id
        assert huey.pending_count() == 1

        def finished() -> bool:
            with sessions() as s:
                return s.get(Job, job_id).status == "done"

        _run_consumer_until(queue, finished)
        with sessions() as session:
            done = session.get(Job, job_id)
            assert done.status == "done" and done.result == {"echo": queue_kind}
    finally:
        huey.flush()
        engine.dispose()


def test_recover_requeues_jobs_of_a_killed_worker(queue, session):
    from datetime import timedelta

    from app.core.timeutil import utcnow

    stale = Job(kind="test.echo", payload={"value": 3}, status="running", attempts=1,
                heartbeat_at=utcnow() - timedelta(minutes=30))
    fresh = Job(kind="test.echo", payload={"value": 4}, status="running", attempts=1, heartbeat_at=utcnow())
    session.add(stale)
    session.add(fresh)
    session.commit()
    assert queue.recover() == 1  # only the stale one; the other still has a live worker
    session.refresh(stale)
    session.refresh(fresh)
    assert stale.status == "done" and fresh.status == "running"
    assert len(session.exec(select(Job).where(Job.kind == "test.echo")).all()) >= 2


def test_recover_fails_a_job_whose_worker_died_on_every_attempt(queue, session):
    """A job that kills its worker each time (e.g. out of memory) must not loop forever."""
    from datetime import timedelta

    from app.core.timeutil import utcnow

    long_ago = utcnow() - timedelta(minutes=30)
    doomed = Job(kind="test.echo", payload={"value": 5}, status="running", attempts=3, max_attempts=3,
                 heartbeat_at=long_ago)
    waiting = Job(kind="test.echo", payload={"value": 6}, status="queued", attempts=0)
    session.add(doomed)
    session.add(waiting)
    session.commit()
    assert queue.recover(waiting=False) == 0  # the periodic check leaves queued jobs to their messages
    session.refresh(doomed)
    session.refresh(waiting)
    assert doomed.status == "failed" and "worker stopped" in doomed.error and doomed.attempts == 3
    assert waiting.status == "queued"


def test_enqueueing_an_unknown_kind_raises_and_stores_nothing(queue, session):
    from app.core.jobs import JobContext, UnknownJobKind

    before = len(session.exec(select(Job)).all())
    with pytest.raises(UnknownJobKind):
        queue.enqueue(session=session, kind="test.ecoh", payload={})
    context = JobContext(job_id=0, kind="test.echo", payload={}, runtime=queue.runtime, queue=queue)
    with pytest.raises(UnknownJobKind):  # a chained step with a typo is an error, not a silent no-op
        context.enqueue("test.ecoh", {"value": 1})
    assert len(session.exec(select(Job)).all()) == before
    context.enqueue("test.echo", {"value": 3}, dedupe_key="chained:3")
    chained = session.exec(select(Job).where(Job.dedupe_key == "chained:3")).one()
    assert chained.status == "done" and chained.result == {"echo": 3}


@pytest.mark.parametrize("queue_url", ["sqlite", "redis://127.0.0.1:6379/0", "memory"])
def test_a_worker_takes_what_people_wait_for_before_long_background_work(queue_url, settings, session, tmp_path):
    """Transcriptions queued first, then an uploaded file to import, then an analysis: a worker takes the import,
    then the analysis, then the transcriptions (in the order they came) — the queue the project configures
    (make_huey), on SQLite and on Redis."""
    from huey import MemoryHuey

    name = f"earshot-test-{uuid.uuid4().hex}"
    if queue_url == "sqlite":
        huey = make_huey(settings.model_copy(update={"queue_url": f"sqlite:///{tmp_path / 'q.db'}",
                                                      "queue_name": name}))
    elif queue_url.startswith("redis"):
        huey = make_huey(settings.model_copy(update={"queue_url": queue_url, "queue_name": name}))
    else:
        huey = MemoryHuey(name, results=False)  # what the tests' and the CLI's queues use
    try:
        queue = JobQueue(Runtime(settings=settings, engine=session.get_bind(), sessions=lambda: session), huey)
        kinds = [JobKind.SPEECH_TRANSCRIBE, JobKind.SPEECH_TRANSCRIBE, JobKind.INGEST_IMPORT, JobKind.NLP_ANALYZE]
        ids = [queue.enqueue(session=session, kind=kind, payload={"n": n}).id for n, kind in enumerate(kinds)]
        taken = []
        while (task := huey.dequeue()) is not None:
            taken.append(task.args[0])
        assert taken == [ids[2], ids[3], ids[0], ids[1]]
    finally:
        huey.flush()
