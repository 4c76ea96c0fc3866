"""Background jobs: a `Job` row the user can see, run by Huey (SQLite by default, Redis at scale).

Every job kind is a `JobKind` member (the one catalogue; a feature chains work to another feature's kind
through it, never through a typed string). A feature registers its handler with `@job_handler(JobKind.X)`. `JobQueue.enqueue` stores the row
(deduplicated by `dedupe_key`) and pushes its id to Huey; the worker claims the row atomically, so a
duplicate push or a redelivery after a crash never runs a job twice at the same time. Handlers must be
idempotent: a retry after a crash re-runs them from the start.

A running job's progress writes are its heartbeat (on PostgreSQL a side thread also beats every quarter of
`job_stale_after_seconds`); a job whose heartbeat is older than that lost its worker (killed, machine gone)
and is run again by `recover()`, which every worker calls at start-up and once a minute.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from huey import Huey, MemoryHuey, PriorityRedisHuey, SqliteHuey, crontab
from sqlalchemy import Engine, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app.core.db import (
    SessionFactory,
    ensure_wal,
    make_engine,
    session_factory,
    session_scope,
    write_transactions,
)
from app.core.errors import NotFound
from app.core.listing import Page, paginate
from app.core.models import Job, JobStatus
from app.core.security import Principal, Role
from app.core.settings import Settings
from app.core.storage import remove_abandoned_temp_files
from app.core.timeutil import utcnow

log = logging.getLogger("earshot.jobs")

FINISH_BACKOFF = (0.2, 0.5, 1.0, 2.0, None)  # seconds between tries to record a job's outcome


class JobKind(StrEnum):
    """Every kind of background job, named "feature.what". The feature owning a kind registers its handler;
    `tests/unit/test_job_kinds.py` checks that each kind has one and every enqueue names a member."""

    SPEECH_TRANSCRIBE = "speech.transcribe"
    NLP_ANALYZE = "nlp.analyze"
    NLP_SWEEP = "nlp.sweep"
    INGEST_IMPORT = "ingest.import"
    SURVEYS_IMPORT = "surveys.import"
    SCORECARDS_AUTO_CHECK = "scorecards.auto_check"
    COACHING_APPLY_RULES = "coaching.apply_rules"
    COACHING_PICK_UP_RETRAINING = "coaching.pick_up_retraining"
    REVIEWS_MEETING_PACK = "reviews.meeting_pack"
    SOCIAL_SWEEP = "social.sweep"
    CONNECTORS_WATCH_SCAN = "connectors.watch_scan"
    CONNECTORS_WEBHOOK_DELIVER = "connectors.webhook_deliver"
    CONNECTORS_SCHEDULED_EXPORTS = "connectors.scheduled_exports"
    CONNECTORS_IMAP_PULL = "connectors.imap_pull"
    RETENTION_SWEEP = "retention.sweep"

    @property
    def label(self) -> str:
        """What the job does, in the words of the jobs page."""
        return _JOB_LABELS[self]


_JOB_LABELS = {
    JobKind.SPEECH_TRANSCRIBE: "Transcribe a recording",
    JobKind.NLP_ANALYZE: "Analyse an interaction (redaction, topics, sentiment, auto-QA)",
    JobKind.NLP_SWEEP: "Analyse interactions not analysed yet",
    JobKind.INGEST_IMPORT: "Import a file",
    JobKind.SURVEYS_IMPORT: "Import survey answers",
    JobKind.SCORECARDS_AUTO_CHECK: "Check a scorecard's automatic answers",
    JobKind.COACHING_APPLY_RULES: "Apply coaching rules",
    JobKind.COACHING_PICK_UP_RETRAINING: "Assign retraining decided in a review",
    JobKind.REVIEWS_MEETING_PACK: "Print a review meeting pack (PDF)",
    JobKind.SOCIAL_SWEEP: "Check social care deadlines",
    JobKind.CONNECTORS_WATCH_SCAN: "Scan watched folders",
    JobKind.CONNECTORS_WEBHOOK_DELIVER: "Send webhooks",
    JobKind.CONNECTORS_SCHEDULED_EXPORTS: "Write scheduled exports",
    JobKind.CONNECTORS_IMAP_PULL: "Fetch e-mail (IMAP)",
    JobKind.RETENTION_SWEEP: "Delete data past its retention",
}


# The order a worker takes queued jobs in: what a person is waiting for first (an uploaded file, a meeting pack,
# a form test), long background work last. With one queue in arrival order, a chat import uploaded after a
# batch of calls waited for every transcription before it (52 s behind the 15 demo calls; hours behind a
# night's recordings). Kinds not named here: 0.
_JOB_PRIORITIES: dict[str, int] = {
    JobKind.INGEST_IMPORT: 10, JobKind.SURVEYS_IMPORT: 10, JobKind.REVIEWS_MEETING_PACK: 10,
    JobKind.SCORECARDS_AUTO_CHECK: 10,
    JobKind.SPEECH_TRANSCRIBE: -10, JobKind.NLP_SWEEP: -10, JobKind.RETENTION_SWEEP: -10,
}


def job_priority(kind: str) -> int:
    """Higher first; see _JOB_PRIORITIES."""
    return _JOB_PRIORITIES.get(kind, 0)


class UnknownJobKind(ValueError):
    """No handler is registered for this kind: a programming error, never something to skip quietly."""


class PermanentJobError(Exception):
    """The job cannot succeed by retrying (corrupt file, invalid data): fail it with this reason."""


@dataclass
class Runtime:
    """What a job needs: settings, the engine and a way to open sessions."""

    settings: Settings
    engine: Engine
    sessions: SessionFactory
    cache: dict[str, Any] = field(default_factory=dict)  # per-process objects, e.g. a loaded speech model


def build_runtime(settings: Settings) -> Runtime:
    engine = make_engine(settings.resolved_database_url, busy_timeout_ms=settings.database_busy_timeout_ms,
                         ping_idle_seconds=settings.database_ping_idle_seconds)
    return Runtime(settings=settings, engine=engine, sessions=session_factory(engine))


@dataclass
class JobContext:
    job_id: int
    kind: str
    payload: dict[str, Any]
    runtime: Runtime
    queue: "JobQueue | None" = None

    def enqueue(self, kind: JobKind, payload: dict[str, Any], *, dedupe_key: str | None = None) -> None:
        """Queue follow-up work (e.g. analysis after transcription) once this job's data is committed.

        Raises `UnknownJobKind` when no handler is registered for `kind` (a typo must not switch a chained
        step off). Without a queue (a job run directly, e.g. from the command line) there is nothing to chain
        to and the call does nothing."""
        require_handler(kind)
        if self.queue is None:
            return
        with session_scope(self.runtime.sessions) as session:
            self.queue.enqueue(session=session, kind=kind, payload=payload, dedupe_key=dedupe_key)

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Record progress (0..1) in its own transaction so pages see it while the job runs."""
        with session_scope(self.runtime.sessions) as session:
            session.execute(
                update(Job)
                .where(col(Job.id) == self.job_id)
                .values(progress=max(0.0, min(1.0, fraction)), progress_message=message, heartbeat_at=utcnow())
            )


JobHandler = Callable[[JobContext], dict[str, Any] | None]


@dataclass(frozen=True)
class JobSpec:
    kind: str
    handler: JobHandler
    max_attempts: int


_HANDLERS: dict[str, JobSpec] = {}


def require_handler(kind: str) -> JobSpec:
    """The registered handler of `kind`; `UnknownJobKind` if there is none."""
    spec = _HANDLERS.get(kind)
    if spec is None:
        raise UnknownJobKind(f"no handler registered for job kind {kind!r}")
    return spec


def job_handler(kind: JobKind, *, max_attempts: int = 3) -> Callable[[JobHandler], JobHandler]:
    def register(handler: JobHandler) -> JobHandler:
        _HANDLERS[kind] = JobSpec(kind=kind, handler=handler, max_attempts=max_attempts)
        return handler

    return register


@dataclass(frozen=True)
class PeriodicJob:
    kind: JobKind
    schedule: Any  # a huey.crontab(...) validator
    every: str  # "hour" | "day": one job per period, deduplicated by the period's key


_PERIODIC: dict[str, PeriodicJob] = {}


def periodic_job(kind: JobKind, schedule: Any, *, every: str = "day") -> None:
    """Ask the worker to enqueue `kind` on `schedule` (a huey.crontab); one job per hour or day at most."""
    _PERIODIC[kind] = PeriodicJob(kind=kind, schedule=schedule, every=every)


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)


def load_handlers() -> None:
    from app.core.features import iter_feature_modules

    for _ in iter_feature_modules("tasks"):
        pass


def make_huey(settings: Settings) -> Huey:
    url = settings.queue_url or ""
    if url == "immediate":
        return MemoryHuey(settings.queue_name, immediate=True, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        # a sorted set, so jobs go in their kind's priority; under its own key (the queue of earlier versions was
        # a list under the plain name: its jobs are rows in the database, pushed again when a worker starts)
        return PriorityRedisHuey(f"{settings.queue_name}-by-priority", url=url, results=False)
    if url.startswith("sqlite:///"):
        filename = url.removeprefix("sqlite:///")
    else:
        filename = str(settings.resolved_data_dir / "queue.db")
    return SqliteHuey(settings.queue_name, filename=filename, results=False)


class JobQueue:
    """Creates job rows and hands their ids to Huey."""

    def __init__(self, runtime: Runtime, huey: Huey | None = None) -> None:
        self.runtime = runtime
        self.runtime.cache["queue"] = self  # periodic tasks of features reach the queue through the runtime
        self.huey = huey or make_huey(runtime.settings)
        load_handlers()
        from app.core.hooks import load_hooks

        load_hooks()  # the jobs call the core hooks (e.g. a survey import opens review cases)

        # Huey retries the message when the database fails before the job row could be claimed or updated
        @self.huey.task(name="earshot.run_job", retries=5, retry_delay=10)  # type: ignore[untyped-decorator]
        def run_job_task(job_id: int) -> None:
            self._run(job_id)

        self._task = run_job_task

        @self.huey.periodic_task(crontab(minute="*"), name="earshot.recover_lost_jobs")  # type: ignore[untyped-decorator]
        def recover_lost_jobs() -> None:
            self.recover(waiting=False)

        for periodic in _PERIODIC.values():
            self._register_periodic(periodic)
        # Features whose periodic work should not leave a job row every few minutes (e.g. the social sweep)
        # register plain Huey periodic tasks themselves.
        from app.core.features import iter_feature_modules

        for module in iter_feature_modules("tasks"):
            register = getattr(module, "register_periodic", None)
            if register is not None:
                register(self.huey, self.runtime)

    def _register_periodic(self, periodic: PeriodicJob) -> None:
        def enqueue_periodic() -> None:
            now = utcnow()
            key = now.strftime("%Y-%m-%dT%H" if periodic.every == "hour" else "%Y-%m-%d")
            with session_scope(self.runtime.sessions) as session:
                self.enqueue(session=session, kind=periodic.kind, payload={"scheduled": True},
                             dedupe_key=f"{periodic.kind}@{key}")

        self.huey.periodic_task(periodic.schedule, name=f"earshot.periodic.{periodic.kind}")(enqueue_periodic)

    def enqueue(
        self,
        *,
        session: Session,
        kind: JobKind,
        payload: dict[str, Any],
        dedupe_key: str | None = None,
        created_by: int | None = None,
    ) -> Job:
        """Store a job (or return the existing one with the same `dedupe_key`), commit, and push it.

        A failed job with the same key is reset to queued, so "retry" is just enqueueing again.
        """
        spec = require_handler(kind)
        job = None
        if dedupe_key is not None:
            job = session.exec(select(Job).where(Job.dedupe_key == dedupe_key)).first()
        if job is None:
            job = Job(kind=str(kind), payload=payload, dedupe_key=dedupe_key, created_by=created_by,
                      max_attempts=spec.max_attempts)
            session.add(job)
        elif job.status == JobStatus.FAILED:
            job.status, job.error, job.attempts, job.progress = JobStatus.QUEUED, None, 0, 0.0
            session.add(job)
        else:
            session.commit()
            return job
        session.commit()
        session.refresh(job)
        session.commit()  # end the read the refresh opened: an inline (immediate) run must not nest in it
        assert job.id is not None
        self.push(job.id, job.kind)
        return job

    def push(self, job_id: int, kind: str, *, delay: float | None = None) -> None:
        """Hand a stored job to the workers, in its kind's turn (job_priority)."""
        priority = job_priority(kind)
        if delay:
            self._task.schedule(args=(job_id,), delay=delay, priority=priority)
        else:
            self._task(job_id, priority=priority)

    def recover(self, *, waiting: bool = True) -> int:
        """Hand out again the jobs of a worker that died: running jobs whose heartbeat is older than
        `job_stale_after_seconds` (and, when `waiting`, i.e. at worker start-up, every queued job, whose
        queue message may have been lost). A job whose worker died on it `max_attempts` times is failed
        instead. At start-up, also removes temporary files that a killed process left half-written. Returns
        how many jobs were pushed. Each job is taken back with a conditional UPDATE, so two workers
        recovering at once, or a worker whose heartbeat resumes, never run it twice."""
        if waiting:
            remove_abandoned_temp_files(self.runtime.settings.resolved_data_dir)
        cutoff = utcnow() - timedelta(seconds=self.runtime.settings.job_stale_after_seconds)
        lost = (col(Job.status) == JobStatus.RUNNING) & (col(Job.heartbeat_at) < cutoff)
        with session_scope(self.runtime.sessions) as session:
            candidates = session.execute(  # SQLAlchemy's select: SQLModel's takes at most four columns
                sa_select(col(Job.id), col(Job.kind), col(Job.status), col(Job.attempts), col(Job.max_attempts))
                .where(lost | (col(Job.status) == JobStatus.QUEUED) if waiting else lost)).tuples().all()
        pushed = []
        for job_id, kind, status, attempts, max_attempts in candidates:
            exhausted = status == JobStatus.RUNNING and attempts >= max_attempts
            values: dict[str, Any] = {"status": JobStatus.QUEUED}
            if exhausted:
                values = {"status": JobStatus.FAILED, "finished_at": utcnow(),
                          "error": f"the worker stopped while running this job {attempts} times"}
            with session_scope(self.runtime.sessions) as session:
                taken = session.execute(update(Job).where(
                    col(Job.id) == job_id, col(Job.status) == status,
                    lost if status == JobStatus.RUNNING else col(Job.status) == JobStatus.QUEUED).values(**values))
                if taken.rowcount == 1 and not exhausted:  # type: ignore[attr-defined]
                    pushed.append((job_id, kind))
            if status == JobStatus.RUNNING:
                log.warning("job %s lost its worker; %s", job_id, "failed" if exhausted else "running it again")
        for job_id, kind in pushed:
            assert job_id is not None
            self.push(job_id, kind)
        return len(pushed)

    def _claim(self, job_id: int) -> Job | None:
        with session_scope(self.runtime.sessions) as session:
            now = utcnow()
            claimed = session.execute(
                update(Job)
                .where(col(Job.id) == job_id, col(Job.status) == JobStatus.QUEUED)
                .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, started_at=now, heartbeat_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return session.get(Job, job_id)

    def _run(self, job_id: int) -> None:
        # Deferred transactions, even when the immediate queue runs the job inside a state-changing request: a
        # job reports progress from a second connection while its own transaction is open, and an IMMEDIATE
        # transaction would hold the write lock that progress waits for. A job whose stale read cannot become a
        # write fails with OperationalError and is retried with back-off.
        with write_transactions(enabled=False):
            self._run_job(job_id)

    def _run_job(self, job_id: int) -> None:
        job = self._claim(job_id)
        if job is None:
            return
        spec = _HANDLERS.get(job.kind)
        context = JobContext(job_id=job_id, kind=job.kind, payload=job.payload, runtime=self.runtime, queue=self)
        try:
            if spec is None:
                raise PermanentJobError(f"no handler for job kind {job.kind!r} in this worker")
            with self._heartbeat(job_id):
                result = spec.handler(context)
        except PermanentJobError as exc:
            self._finish(job_id, status=JobStatus.FAILED, error=str(exc))
        except Exception as exc:  # any other failure is retried with back-off
            log.exception("job %s (%s) failed on attempt %s", job_id, job.kind, job.attempts)
            reason = f"{type(exc).__name__}: {exc}"
            if job.attempts < job.max_attempts:
                self._finish(job_id, status=JobStatus.QUEUED, error=f"attempt {job.attempts} failed: {reason}")
                self.push(job_id, job.kind, delay=5.0 * 2 ** (job.attempts - 1))
            else:
                self._finish(job_id, status=JobStatus.FAILED, error=reason)
        else:
            self._finish(job_id, status=JobStatus.DONE, result=result or {}, progress=1.0)

    @contextmanager
    def _heartbeat(self, job_id: int) -> Iterator[None]:
        """Touch the job's heartbeat from a side thread while the handler runs (a long model load or PDF
        render reports no progress), so only a job whose worker is gone looks stale.

        PostgreSQL only: on SQLite a commit from another connection makes the handler's next read-then-write
        transaction fail at once (SQLITE_BUSY_SNAPSHOT, no busy wait), so there the handlers' own progress
        writes, made between their transactions, are the heartbeat."""
        if self.runtime.engine.dialect.name == "sqlite":
            yield
            return
        every = self.runtime.settings.job_stale_after_seconds / 4
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every):
                try:
                    with session_scope(self.runtime.sessions) as session:
                        session.execute(update(Job).where(col(Job.id) == job_id, col(Job.status) == JobStatus.RUNNING)
                                        .values(heartbeat_at=utcnow()))
                except Exception:  # a missed beat is harmless; the next one may get through
                    log.warning("heartbeat of job %s failed", job_id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)  # a beat stuck on an unreachable database must not hold the job up

    def _finish(self, job_id: int, *, status: JobStatus, **values: Any) -> None:
        """Record the outcome. The database may be the very thing that just failed (locked, restarting), so
        try for a few seconds; if it stays away the job is left running and `recover` runs it again."""
        done = status in JobStatus.finished()
        for wait in FINISH_BACKOFF:
            try:
                with session_scope(self.runtime.sessions) as session:
                    session.execute(
                        update(Job)
                        .where(col(Job.id) == job_id)
                        .values(status=status, finished_at=utcnow() if done else None, **values)
                    )
                return
            except OperationalError:
                if wait is None:
                    raise
                log.warning("job %s: cannot record its outcome yet (database unavailable)", job_id)
                time.sleep(wait)


def build_queue(settings: Settings) -> JobQueue:
    return JobQueue(build_runtime(settings))


# ---------------------------------------------------------------- the jobs list (system pages, imports page)

def list_jobs(*, session: Session, principal: Principal, status: str | None = None, kind: str | None = None,
              page: int = 1, per_page: int = 50) -> Page[Job]:
    """Admins see every job; others the jobs they started."""
    query = select(Job)
    if not principal.has(Role.ADMIN):
        query = query.where(Job.created_by == principal.user_id)
    if status:
        query = query.where(Job.status == status)
    if kind:
        query = query.where(col(Job.kind).startswith(kind))
    return paginate(query.order_by(col(Job.id).desc()), page=page, per_page=per_page, session=session)


def get_job(*, session: Session, principal: Principal, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or (not principal.has(Role.ADMIN) and job.created_by != principal.user_id):
        raise NotFound(f"job {job_id} not found")
    return job


@contextmanager
def command_runtime() -> Iterator[tuple[Runtime, "JobQueue"]]:
    """What one command-line command works with: the settings (environment, `.env`), the database (WAL on
    SQLite) and the job queue; the database engine is closed when the command ends."""
    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    ensure_wal(engine)
    runtime = Runtime(settings=settings, engine=engine, sessions=session_factory(engine))
    try:
        yield runtime, JobQueue(runtime)
    finally:
        engine.dispose()
