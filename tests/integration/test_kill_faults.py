"""Faults with real processes: a worker SIGKILLed in the middle of a transcription, an import and a PDF
render; a server SIGKILLed in the middle of an upload; temporary files of dead writers; a full disk.

Each case runs `python -m app.cli worker` / `serve` from this checkout as a child process, kills it at a
point found by watching the job's row (never a blind sleep), starts it again and checks that every job
completed exactly once: no duplicate rows, no half-written or stray files."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.auth import service as auth_service
from app.auth.models import UserCreate
from app.core.db import ensure_wal, make_engine, session_factory, session_scope
from app.core.jobs import JobContext, JobQueue, Runtime, job_handler, make_huey
from app.core.migrate import upgrade
from app.core.models import Job
from app.core.security import make_password_hasher
from app.core.settings import Settings
from app.core.storage import TEMP_PREFIX
from app.interactions.models import Interaction, Message, Recording, Segment
from app.speech.models import CallMetrics, CallTranscript
from tests.conftest import TEST_PASSWORD, create_postgres_database, drop_postgres_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
STALE_AFTER = 3.0  # seconds without a heartbeat before a running job counts as lost (5 minutes in production)


# ---------------------------------------------------------------- a deployment in a temporary folder

class Deployment:
    """A data folder, a database (SQLite file or a fresh PostgreSQL database) and a queue, shared by the
    test and the child processes it starts."""

    def __init__(self, root: Path, *, database_url: str | None, queue: str) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.queue_name = f"earshot-kill-{uuid.uuid4().hex[:8]}"
        queue_url = "redis://127.0.0.1:6379/0" if queue == "redis" else None
        self.env_values = {"EARSHOT_DATA_DIR": str(self.data_dir), "EARSHOT_QUEUE_NAME": self.queue_name,
                           "EARSHOT_JOB_STALE_AFTER_SECONDS": str(STALE_AFTER),
                           "EARSHOT_SECRET_KEY": "test-secret-key-not-for-production",
                           "EARSHOT_PASSWORD_HASH_TIME_COST": "1", "EARSHOT_PASSWORD_HASH_MEMORY_KIB": "1024",
                           "EARSHOT_SPEECH_CPU_THREADS": "1"}
        if database_url:
            self.env_values["EARSHOT_DATABASE_URL"] = database_url
        if queue_url:
            self.env_values["EARSHOT_QUEUE_URL"] = queue_url
        self.settings = Settings(_env_file=None, data_dir=self.data_dir, database_url=database_url,  # type: ignore[call-arg]
                                 queue_url=queue_url, queue_name=self.queue_name,
                                 job_stale_after_seconds=STALE_AFTER, secret_key="test-secret-key-not-for-production",
                                 password_hash_time_cost=1, password_hash_memory_kib=1024)
        upgrade(self.settings.resolved_database_url)
        self.engine = make_engine(self.settings.resolved_database_url)
        ensure_wal(self.engine)
        self.sessions = session_factory(self.engine)
        self.queue = JobQueue(Runtime(settings=self.settings, engine=self.engine, sessions=self.sessions),
                              make_huey(self.settings))
        self.children: list[subprocess.Popen[bytes]] = []

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(ROOT), **self.env_values, **extra}

    def start(self, *args: str, log_name: str, **popen: Any) -> subprocess.Popen[bytes]:
        log = (self.root / log_name).open("ab")
        child = subprocess.Popen([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=self.env(),
                                 stdout=log, stderr=subprocess.STDOUT, **popen)
        self.children.append(child)
        return child

    def log(self, name: str) -> str:
        path = self.root / name
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def session(self) -> Session:
        return self.sessions()

    def close(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
                child.wait(10)
        self.queue.huey.flush()
        self.engine.dispose()


@pytest.fixture
def deploy(tmp_path: Path) -> Iterator[Callable[..., Deployment]]:
    made: list[Deployment] = []
    databases: list[str] = []

    def make(*, backend: str = "sqlite", queue: str = "sqlite") -> Deployment:
        url = None
        if backend == "postgresql":
            url = create_postgres_database("kill")
            if url is None:
                pytest.skip("PostgreSQL is not reachable")
            databases.append(url)
        deployment = Deployment(tmp_path / f"deploy{len(made)}", database_url=url, queue=queue)
        made.append(deployment)
        return deployment

    yield make
    for deployment in made:
        deployment.close()
    for url in databases:
        drop_postgres_database(url)


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str, every: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def job_row(deployment: Deployment, job_id: int) -> Job:
    with deployment.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def kill_worker_mid_job(deployment: Deployment, job_id: int, *, running: Callable[[Job], bool],
                        timeout: float) -> None:
    """Start a worker, SIGKILL it once the job's row shows it is at the wanted point, and wait until the job's
    heartbeat is stale (a restarted worker only takes back jobs nobody is running)."""
    worker = deployment.start("worker", log_name="worker1.log")
    try:
        wait_for(lambda: running(job_row(deployment, job_id)), timeout=timeout, what="the job to get going")
    except AssertionError:
        raise AssertionError(deployment.log("worker1.log")) from None
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    killed = job_row(deployment, job_id)
    assert killed.status == "running", "the kill landed after the job ended; the test proves nothing"
    time.sleep(STALE_AFTER + 0.1)


def finish_with_new_worker(deployment: Deployment, job_id: int, *, timeout: float) -> Job:
    worker = deployment.start("worker", log_name="worker2.log")
    try:
        job = wait_for(lambda: (j := job_row(deployment, job_id)).status in {"done", "failed"} and j,
                       timeout=timeout, what="the job to finish after the restart")
    except AssertionError:
        raise AssertionError(deployment.log("worker2.log")) from None
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert job.status == "done", f"{job.error}\n{deployment.log('worker2.log')}"
    assert job.attempts == 2  # the killed run and the one that finished; never a third, concurrent one
    return job


def stored_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def temp_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob(TEMP_PREFIX + "*"))


# ---------------------------------------------------------------- worker killed mid-job

def test_worker_killed_mid_transcription_transcribes_once(deploy, tmp_path):
    """PostgreSQL and Redis (the production shape; the heartbeat thread runs): the killed worker's queue
    message is gone with it; the job is found by its stale heartbeat and run again from the start, and the
    transcript is stored once."""
    from app.speech import service as speech
    from app.speech.synthetic import ScriptLine, espeak_available, synthesize_call
    from tests.speech_helpers import SCRIPT, make_call

    if not espeak_available():
        pytest.skip("espeak-ng is not installed")
    deployment = deploy(backend="postgresql", queue="redis")
    audio = tmp_path / "long-call.wav"
    synthesize_call(SCRIPT * 4 + [ScriptLine("agent", "Thank you for calling, goodbye.")], audio)
    with deployment.session() as session:
        recording = make_call(session, deployment.settings, audio)
        job = speech.request_transcription(session=session, queue=deployment.queue, recording_id=recording.id)
        job_id, interaction_id = job.id, recording.interaction_id

    # "Transcribing" progress between 5 % and 60 %: the model is loaded and the audio partly decoded (the call
    # is long enough for several 30 s decoding windows, so the job passes through this range)
    kill_worker_mid_job(deployment, job_id, timeout=90,
                        running=lambda j: j.status == "running" and 0.05 <= j.progress <= 0.6)
    with deployment.session() as session:
        assert session.exec(select(func.count()).select_from(Segment)
                            .where(Segment.interaction_id == interaction_id)).one() == 0  # nothing half-stored
    job = finish_with_new_worker(deployment, job_id, timeout=120)

    with deployment.session() as session:
        seqs = [s.seq for s in session.exec(select(Segment).where(Segment.interaction_id == interaction_id)
                                            .order_by(col(Segment.seq))).all()]
        assert len(seqs) == job.result["segments"] > 5 and seqs == list(range(len(seqs)))
        for table in (CallTranscript, CallMetrics):
            assert session.exec(select(func.count()).select_from(table)
                                .where(table.interaction_id == interaction_id)).one() == 1
        recording = session.get(Recording, recording.id)
        assert recording.transcription_status == "done"
        analysis = session.exec(select(Job).where(Job.kind == "nlp.analyze")).all()
        assert len(analysis) == 1  # follow-up work queued once
    files = stored_files(deployment.settings.recordings_dir)
    assert not temp_files(deployment.data_dir)
    assert all(f.name in {recording.sha256, _redacted_sha(deployment, interaction_id)} for f in files), files


def _redacted_sha(deployment: Deployment, interaction_id: int) -> str | None:
    with deployment.session() as session:
        info = session.exec(select(CallTranscript).where(CallTranscript.interaction_id == interaction_id)).one()
        return info.redacted_audio_sha256


CONVERSATIONS = 300  # several committed batches


def _chats_file(path: Path) -> int:
    started = datetime(2026, 11, 2, 9, tzinfo=UTC)
    lines = []
    for number in range(CONVERSATIONS):
        at = started + timedelta(minutes=number)
        for turn, role in enumerate(("customer", "agent")):
            lines.append(json.dumps({
                "conversation_id": f"conv-{number}", "message_id": f"conv-{number}-m{turn}",
                "sent_at": (at + timedelta(seconds=30 * turn)).isoformat(), "author_role": role,
                "customer_email": f"customer{number % 300}@example.com", "customer_name": f"Customer {number}",
                "text": f"Message {turn} of conversation {number}: my order has not arrived yet."}))
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def test_worker_killed_mid_import_imports_every_message_once(deploy, tmp_path):
    """SQLite and its Huey queue (the embedded default). A background import commits batch by batch (a batch
    of ~100 texts, or 0.05 s of writing): the restarted run skips what is stored (idempotent by external id)
    and adds the rest."""
    from app.ingest.tasks import IMPORT_KIND, imports_store

    deployment = deploy()
    source = tmp_path / "chats.jsonl"
    messages = _chats_file(source)
    stored = imports_store(deployment.data_dir).put_file(source, max_bytes=10**8)
    with deployment.session() as session:
        job = deployment.queue.enqueue(session=session, kind=IMPORT_KIND, payload={
            "kind": "chats", "sha256": stored.sha256, "filename": "chats.jsonl", "source": "import"})
        job_id = job.id

    def committed() -> int:
        with deployment.session() as session:
            return session.exec(select(func.count()).select_from(Interaction)).one()

    # killed once some conversations are committed and most are not: the import of all 300 takes ~2 s, and the
    # job's progress is written at most once a second, too seldom to find that moment by (an earlier version
    # waited for 60-100 % progress and missed it when the import got faster)
    kill_worker_mid_job(deployment, job_id, timeout=90,
                        running=lambda j: j.status == "running" and 0 < committed() < CONVERSATIONS // 2)
    partial = committed()
    assert 0 < partial < CONVERSATIONS
    job = finish_with_new_worker(deployment, job_id, timeout=90)

    with deployment.session() as session:
        assert session.exec(select(func.count()).select_from(Message)).one() == messages
        assert session.exec(select(func.count()).select_from(Interaction)).one() == CONVERSATIONS
        duplicates = session.exec(select(Interaction.external_id).group_by(col(Interaction.external_id))
                                  .having(func.count() > 1)).all()
        assert duplicates == []
    report = job.result
    assert report["created"] == CONVERSATIONS - partial and report["unchanged"] == partial, report
    assert not temp_files(deployment.data_dir)


def test_worker_killed_mid_pdf_render_stores_one_pack(deploy):
    """Killed while WeasyPrint renders: nothing is stored; the re-run stores one complete PDF, named on the
    meeting, and no other file (an earlier version left a pack behind for every failed commit)."""
    from app.reviews import pack
    from app.reviews.models import ReviewMeeting

    deployment = deploy()
    with deployment.session() as session:
        meeting = ReviewMeeting(period="2026-11", held_on=date(2026, 12, 3), title="November review")
        session.add(meeting)
        session.commit()
        job = deployment.queue.enqueue(session=session, kind=pack.JOB_KIND, payload={"meeting_id": meeting.id})
        job_id, meeting_id = job.id, meeting.id

    kill_worker_mid_job(deployment, job_id, timeout=60,
                        running=lambda j: j.status == "running" and j.progress_message == "rendering PDF")
    packs = deployment.data_dir / "packs"
    assert stored_files(packs) == []  # killed while rendering: nothing stored, not even a temporary file
    job = finish_with_new_worker(deployment, job_id, timeout=60)

    with deployment.session() as session:
        meeting = session.get(ReviewMeeting, meeting_id)
        assert meeting.pack_sha256 == job.result["sha256"]
    files = stored_files(packs)
    assert [f.name for f in files] == [meeting.pack_sha256]
    content = files[0].read_bytes()
    assert content.startswith(b"%PDF-") and b"%%EOF" in content[-1024:] and len(content) == meeting.pack_size



# ---------------------------------------------------------------- server killed mid-upload

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tone_wav(seconds: float, *, rate: int = 16000) -> bytes:
    """A mono 16-bit WAV of a quiet tone (real audio the upload's probe accepts)."""
    import io
    import wave

    import numpy as np

    samples = (3000 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate)).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


class Server:
    def __init__(self, deployment: Deployment, **popen: Any) -> None:
        self.deployment = deployment
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = deployment.start("serve", "--port", str(self.port), "--workers", "1", log_name="server.log",
                                        **popen)  # one process: SIGKILL must take the whole server down
        try:
            wait_for(self._up, timeout=60, what="the server to answer", every=0.1)
        except AssertionError:
            raise AssertionError(deployment.log("server.log")) from None

    def _up(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            assert self.process.poll() is None, self.deployment.log("server.log")
            return False

    def signed_in(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=30)
        response = client.post("/api/auth/login", json={"username": "admin", "password": TEST_PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["x-csrf-token"] = response.json()["csrf_token"]
        return client

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def make_admin(deployment: Deployment) -> None:
    with deployment.session() as session:
        auth_service.create_user(session=session, hasher=make_password_hasher(deployment.settings), actor=None,
                                 data=UserCreate(username="admin", password=TEST_PASSWORD, roles=["admin"]))


METADATA = {"external_id": "call-kill-1", "source": "pbx", "started_at": "2026-11-02T09:00:00Z",
            "customer": {"name": "Maria Lopez", "phone": "+447700900123"}}


def multipart(audio: Any, boundary: str, *, filename: str = "call.wav") -> Iterator[bytes]:
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n"
           f"{json.dumps(METADATA)}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"{filename}\"\r\nContent-Type: audio/wav\r\n\r\n").encode()
    yield from audio
    yield f"\r\n--{boundary}--\r\n".encode()


def upload(client: httpx.Client, body: Iterator[bytes], boundary: str) -> httpx.Response:
    return client.post("/api/recordings", content=body,
                       headers={"content-type": f"multipart/form-data; boundary={boundary}"})


def counts(deployment: Deployment) -> tuple[int, int]:
    with deployment.session() as session:
        return (session.exec(select(func.count()).select_from(Interaction)).one(),
                session.exec(select(func.count()).select_from(Recording)).one())


HOLD_WRITER = """
import sys, time
from pathlib import Path
from app.core.storage import BlobStore

def chunks():
    yield b"half a recording" * 4096
    print("writing", flush=True)
    time.sleep(600)

BlobStore(Path(sys.argv[1])).put_chunks(chunks(), max_bytes=10**9)
"""


def half_written_temp_file(deployment: Deployment, root: Path) -> subprocess.Popen[str]:
    """A child process in the middle of writing a file into `root` (it holds the temporary file's lock)."""
    writer = subprocess.Popen([sys.executable, "-c", HOLD_WRITER, str(root)], cwd=ROOT, env=deployment.env(),
                              stdout=subprocess.PIPE, text=True)
    deployment.children.append(writer)  # type: ignore[arg-type]
    assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
    return writer


def test_server_killed_mid_upload_leaves_no_recording_and_no_temporary_file(deploy, tmp_path):
    """A large upload streamed slowly; the server is SIGKILLed half-way. After a restart there is no interaction
    or recording, no file in storage and none in the server's temporary folder; temporary files of writers
    that died are swept at start-up while a live writer's file is left alone; the same upload then works."""
    import threading

    deployment = deploy()
    make_admin(deployment)
    spool = tmp_path / "server-tmp"  # where the server spools uploads over 1 MB (TMPDIR)
    spool.mkdir()
    deployment.env_values["TMPDIR"] = str(spool)
    server = Server(deployment)
    client = server.signed_in()
    audio = tone_wav(120)  # 3.8 MB
    half_sent, outcome = threading.Event(), {}

    def slowly() -> Iterator[bytes]:
        for offset in range(0, len(audio), 64 * 1024):
            if offset >= len(audio) // 2:
                half_sent.set()
            yield audio[offset:offset + 64 * 1024]
            time.sleep(0.02 if not half_sent.is_set() else 0.2)

    def send() -> None:
        try:
            outcome["response"] = upload(client, multipart(slowly(), "kill-boundary"), "kill-boundary")
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    sender = threading.Thread(target=send)
    sender.start()
    assert half_sent.wait(60)
    server.kill()
    sender.join(30)
    assert "error" in outcome, outcome  # the client saw the connection drop, not an answer

    recordings = deployment.settings.recordings_dir
    dead = half_written_temp_file(deployment, recordings)
    dead.kill()
    dead.wait(10)
    live = half_written_temp_file(deployment, deployment.data_dir / "imports")
    abandoned, in_progress = temp_files(recordings), temp_files(deployment.data_dir / "imports")
    assert len(abandoned) == 1 and len(in_progress) == 1

    server = Server(deployment)
    assert counts(deployment) == (0, 0)
    assert stored_files(recordings) == [] and list(spool.iterdir()) == []
    assert temp_files(deployment.data_dir / "imports") == in_progress  # the live writer keeps its file
    live.kill()
    live.wait(10)

    client = server.signed_in()
    response = upload(client, multipart(iter([audio]), "again"), "again")
    assert response.status_code == 201, response.text
    assert counts(deployment) == (1, 1)
    assert [f.name for f in stored_files(recordings)] == [response.json()["sha256"]]


# ---------------------------------------------------------------- disk full

def test_blob_store_on_a_full_disk_raises_insufficient_storage_and_leaves_nothing(tmp_path):
    """A real EFBIG from the kernel (the file-size limit of this process), not a mocked write."""
    import resource

    from app.core.errors import InsufficientStorage
    from app.core.storage import BlobStore

    store = BlobStore(tmp_path / "recordings")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))  # Python ignores SIGXFSZ: writes fail EFBIG
    try:
        with pytest.raises(InsufficientStorage, match="storage is full"):
            store.put_chunks([b"x" * 200_000], max_bytes=10**6)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert stored_files(tmp_path / "recordings") == []
    assert store.put_chunks([b"x" * 200_000], max_bytes=10**6).size == 200_000  # room again: stored


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_disk_full_while_uploading_a_recording_answers_507(deploy, tmp_path, backend):
    """The server runs with a file-size limit (RLIMIT_FSIZE) just above its database files, so storing a
    recording fails the way a full disk does. Uploads over 1 MB fail while being spooled, smaller ones while
    being stored (only testable where the database is not a file in the way: PostgreSQL)."""
    import resource

    deployment = deploy(backend=backend)
    make_admin(deployment)
    spool = tmp_path / "server-tmp"
    spool.mkdir()
    deployment.env_values["TMPDIR"] = str(spool)
    largest = max((f.stat().st_size for f in stored_files(deployment.data_dir)), default=0)
    limit = largest + 512 * 1024

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    server = Server(deployment, preexec_fn=limit_file_size)
    client = server.signed_in()
    sizes = [limit * 2] + ([limit + 256 * 1024] if limit + 256 * 1024 < 1024 * 1024 else [])
    for size in sizes:
        audio = tone_wav(size / 32000)
        response = upload(client, multipart(iter([audio]), "full"), "full")
        assert response.status_code == 507, response.text
        error = response.json()["error"]
        assert error["code"] == "insufficient_storage" and "storage is full" in error["message"]
        assert counts(deployment) == (0, 0)
        assert stored_files(deployment.settings.recordings_dir) == [] and list(spool.iterdir()) == []
    assert server.signed_in().get("/api/me").status_code == 200  # the server itself is fine


# ---------------------------------------------------------------- database unavailable

def test_postgresql_unavailable_answers_503_and_recovers_from_dropped_connections(deploy, tmp_path):
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, text

    from app.main import create_app
    from tests.conftest import POSTGRES_URL, make_settings

    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/earshot"
    with TestClient(create_app(make_settings(tmp_path / "down", database_url=closed))) as client:
        response = client.post("/api/auth/login", json={"username": "admin", "password": TEST_PASSWORD})
        assert response.status_code == 503 and response.headers["retry-after"] == "2"
        assert response.json()["error"]["code"] == "service_unavailable"
        assert client.get("/readyz").status_code == 503

    deployment = deploy(backend="postgresql")
    make_admin(deployment)
    with TestClient(create_app(deployment.settings)) as client:
        assert client.post("/api/auth/login", json={"username": "admin", "password": TEST_PASSWORD}).status_code == 200
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # the server restarts: every connection of the app is cut
            cut = connection.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name"),
                {"name": deployment.engine.url.database}).scalar()
        admin.dispose()
        assert cut >= 1
        assert client.get("/api/me").status_code == 200  # the pooled connection is replaced, not a 500


BLIPS: dict[str, Callable[[Session], None]] = {}


@job_handler("test.faults.db_blip", max_attempts=3)
def _db_blip(ctx: JobContext) -> dict[str, Any]:
    """Writes an audit row, then (first attempt only) loses the database before its commit."""
    from app.core import audit

    with session_scope(ctx.runtime.sessions) as session:
        audit.record(session=session, actor=None, action="test.blip", record_type="job", record_id=ctx.job_id)
        blip = BLIPS.pop(ctx.payload["blip"], None)
        if blip is not None:
            blip(session)
        session.flush()
    return {"ok": True}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_job_whose_database_fails_transiently_is_retried_and_writes_once(deploy, backend):
    """SQLite: another process holds the write lock past the busy timeout. PostgreSQL: the job's own
    connection is terminated by the server mid-transaction. Either way the attempt's writes roll back, the
    job is rescheduled with back-off and the retry stores its work once."""
    import sqlite3
    import threading

    from huey import MemoryHuey
    from sqlalchemy import text

    from app.core.models import AuditEvent

    deployment = deploy(backend=backend)
    engine = make_engine(deployment.settings.resolved_database_url, busy_timeout_ms=100)
    queue = JobQueue(Runtime(settings=deployment.settings, engine=engine, sessions=session_factory(engine)),
                     MemoryHuey(f"blip-{uuid.uuid4().hex}", immediate=True, results=False))
    blocker = None
    if backend == "sqlite":
        blocker = sqlite3.connect(deployment.data_dir / "earshot.db", isolation_level=None, check_same_thread=False)

        def blip(session: Session) -> None:  # held for half a second: longer than the job's busy timeout
            blocker.execute("BEGIN EXCLUSIVE")
            threading.Timer(0.5, blocker.execute, ["ROLLBACK"]).start()
    else:
        def blip(session: Session) -> None:
            session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    key = uuid.uuid4().hex
    BLIPS[key] = blip
    try:
        with deployment.session() as session:
            job = queue.enqueue(session=session, kind="test.faults.db_blip", payload={"blip": key})
        first = job_row(deployment, job.id)
        assert first.status == "queued" and first.attempts == 1 and "OperationalError" in first.error
    finally:
        if blocker is not None:
            blocker.close()
    queue.push(job.id, job.kind)  # the back-off delay has passed: the retry arrives
    done = job_row(deployment, job.id)
    assert done.status == "done" and done.attempts == 2 and done.result == {"ok": True}
    with deployment.session() as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.action == "test.blip")).all()
        assert len(rows) == 1
    engine.dispose()
