"""Mixed-traffic load against one Earshot server and one worker, then a count of what was written.

    .venv/bin/python bench/load.py [--backend sqlite|postgres|both] [--seconds 60] [--rate 20[,40,...]]
    .venv/bin/python bench/load.py --seconds 5          (smoke mode: a small data set, a few seconds of load)
    .venv/bin/python bench/load.py --backend sqlite --only-cpu-table --cpu-repeats 2   (only the per-type CPU table)

For each backend and rate: a fresh data directory (and for PostgreSQL a fresh database beside
EARSHOT_BENCH_POSTGRES_URL plus a Redis queue with a unique name on EARSHOT_BENCH_REDIS_URL; SQLite uses the
default Huey-on-SQLite queue in the data directory), migrated and seeded with the demo data set (without
transcribing its calls: their queued transcription jobs are marked failed before the worker starts) plus
generated chat conversations and evaluator accounts. Then the server (`uvicorn app.main:create_app --factory
--workers N`) and ONE worker (`earshot worker`) start as subprocesses, and the load generator runs in a third process.

The generator signs every simulated user in once (session cookie + CSRF token, as the browser does), warms up
untimed, then sends an OPEN-LOOP arrival stream at `--rate` requests/s for `--seconds` (arrivals do not wait
for answers; see ../shared/notes/web-load-measurements.md), mixed:
  60 % browse   home, evaluation queue and list, interaction pages, evaluation pages (HTML)
  20 % search   the search page and /api/search, words from the demo content
  15 % evaluate each evaluator (one session each) cycles create -> save answers -> submit
   5 % ingest   chat batches through POST /api/chats (unique ids), and every third one as an import file
                through POST /api/imports/chats/upload (a job for the worker)
  plus /healthz probes (rate/10, at least 1/s): the baseline of the same run; latencies are also given as
  ratios of its p99.
Recording uploads are off (`--recordings` turns them on): each would queue a transcription with the real
speech model in the worker, which would take the CPU from everything else on these 2-core machines.

The generator is a lean keep-alive HTTP/1.1 client on asyncio streams (well under 1 ms of its own CPU per
request, printed; httpx spent 3-10 ms on the same cores). Before the open loop it measures the server's CPU
per request type (`--profile-per-type` sequential requests of each, from /proc, all server processes); after
it, the server CPU per request of the mix, then a closed-loop saturation of the mix (`--saturation-clients`
for `--saturation-seconds`) and, with the same client and process count, of the bare FastAPI + SQLite app
(bench/_baseline_app.py): the ratio of the two. `--workers N` server processes (default: one per core).

Afterwards it counts what was written: every evaluation whose submit answered 2xx must be `submitted` in the
database, every message of a 2xx chat import or of a completed import job must be stored, every job enqueued
must finish (the worker is given a bounded time to drain). "lost = 0" or the list of what is missing.
Results are printed and written to bench/load-results.md (`--out`).

Scale-out (`--scale-out 1,2,3,4`, meant for PostgreSQL + Redis; SQLite works too): ONE data set is seeded once,
then for each count N of web processes in turn the server starts with N processes beside `--job-workers` M
`earshot worker` processes (one thread each: the bench starts processes, not `earshot worker --workers`
threads), gets `--saturation-warm-up-seconds` of untimed closed loop (every process gets its connections), then
the measured closed-loop saturation of the mix (`--saturation-clients` for `--saturation-seconds`): answers/s,
quick 503s, other errors, p50/p99 of the closed loop, and the CPU per answer, from /proc, of the web processes
(and the busiest one's share), of the job workers and, on PostgreSQL, of the whole database cluster (the
postmaster's children and, through its cutime/cstime, the backends that exited meanwhile), plus the peak count of
database connections. Then what was written is counted (lost = 0) and both stop. Each step evaluates its own
share of the seeded interactions. The bare app is saturated once at the end (`--workers` processes) for the
ratio. No open loop and no per-type table; the table goes to bench/scale-out-results.md unless `--out` says
otherwise:
    .venv/bin/python bench/load.py --backend postgres --scale-out 1,2,3,4 --saturation-seconds 30
"""

import argparse
import asyncio
import heapq
import http.client
import io
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import wave
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

POSTGRES_URL = os.environ.get("EARSHOT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("EARSHOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "load-bench-password"  # noqa: S105 - throw-away accounts in a throw-away database
SLOWEST_KEPT = 6
MIX = {"browse": 60, "search": 20, "evaluate": 15, "ingest": 5}
SEARCH_WORDS = ["refund", "broadband", "bill", "engineer", "router", '"late fee"', "contract", "roaming*"]
ANSWERS = [  # the chat_email form, every question
    {"question_id": "polite_tone", "value": 4}, {"question_id": "personalised", "value": True},
    {"question_id": "correct_information", "value": True}, {"question_id": "answered_all_questions", "value": True},
    {"question_id": "spelling_grammar", "value": "minor"}, {"question_id": "resolved", "value": True},
    {"question_id": "response_time_ok", "na": True}, {"question_id": "comment", "value": "Load bench"},
]
STAFF = ["eva", "evan", "colin", "exec", "admin"]  # demo accounts that browse too
DEMO_PASSWORD = "earshot-demo"  # noqa: S105
CHAT_TEXTS = ["My broadband keeps dropping every evening, can you check the line?",
              "I was charged a late fee on my bill although I paid on time.",
              "Could you send an engineer, the router lights are all red.",
              "I want a refund for the roaming charges on my last bill.",
              "Thanks, that fixed it. Have a nice day."]


# ---------------------------------------------------------------- a lean HTTP/1.1 client (the generator's)

class ClientError(Exception):
    """A request that got no complete answer (connection refused/reset, timeout, malformed answer)."""


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class LeanClient:
    """Keep-alive HTTP/1.1 over asyncio streams, nothing else: a fraction of httpx's CPU per request (httpx
    spent 3-10 ms per request on the same two cores as the server, which bent the figures it measured)."""

    def __init__(self, base: str, *, timeout: float = 60.0, idle_seconds: float = 2.0) -> None:
        host_port = base.removeprefix("http://").rstrip("/")
        self.host, port = host_port.split(":")
        self.port = int(port)
        self.timeout = timeout
        self.idle_seconds = idle_seconds  # below uvicorn's 5 s keep-alive: never reuse one it is closing
        self.idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def __aenter__(self) -> "LeanClient":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for _, _, writer in self.idle:
            writer.close()
        self.idle.clear()

    def _encode(self, method: str, path: str, params: dict[str, str] | None, json_body: Any,
                files: dict[str, tuple[str, bytes, str]] | None, data: dict[str, str] | None,
                headers: dict[str, str] | None) -> bytes:
        if params:
            from urllib.parse import urlencode

            path += ("&" if "?" in path else "?") + urlencode(params)
        head = {"host": f"{self.host}:{self.port}", **(headers or {})}
        body = b""
        if json_body is not None:
            body, head["content-type"] = json.dumps(json_body).encode(), "application/json"
        elif files is not None:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in (data or {}).items():
                parts.append(f'--{boundary}\r\ncontent-disposition: form-data; name="{name}"\r\n\r\n'.encode()
                             + value.encode() + b"\r\n")
            for name, (filename, content, media_type) in files.items():
                parts.append(f'--{boundary}\r\ncontent-disposition: form-data; name="{name}"; '
                             f'filename="{filename}"\r\ncontent-type: {media_type}\r\n\r\n'.encode() + content + b"\r\n")
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            head["content-type"] = f"multipart/form-data; boundary={boundary}"
        if body or method in {"POST", "PUT", "PATCH"}:
            head["content-length"] = str(len(body))
        lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in head.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def _connection(self) -> tuple[bool, asyncio.StreamReader, asyncio.StreamWriter]:
        now = time.monotonic()
        while self.idle:
            since, reader, writer = self.idle.pop()
            if now - since < self.idle_seconds and not reader.at_eof():
                return True, reader, writer
            writer.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return False, reader, writer

    async def _exchange(self, raw: bytes) -> Answer:
        reused, reader, writer = await self._connection()
        try:
            writer.write(raw)
            status_line = await reader.readline()
            if not status_line and reused:  # the server closed this idle connection meanwhile: a fresh one
                writer.close()
                reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.write(raw)
                status_line = await reader.readline()
            status = int(status_line.split(b" ", 2)[1])
            headers: dict[str, str] = {}
            cookies: dict[str, str] = {}
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                name, value = name.strip().lower(), value.strip()
                if name == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookies[key] = rest.split(";", 1)[0]
                headers[name] = value
            if "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    chunk = await reader.readexactly(size + 2)
                    if size == 0:
                        break
                    chunks.append(chunk[:-2])
                body = b"".join(chunks)
            else:
                body = await reader.read()
            if headers.get("connection", "").lower() == "close":
                writer.close()
            else:
                self.idle.append((time.monotonic(), reader, writer))
            return Answer(status, headers, body, cookies)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            writer.close()
            raise ClientError(f"{type(exc).__name__}: {exc}") from exc

    async def request(self, method: str, path: str, *, params: dict[str, str] | None = None, json: Any = None,
                      files: dict[str, tuple[str, bytes, str]] | None = None, data: dict[str, str] | None = None,
                      headers: dict[str, str] | None = None) -> Answer:
        raw = self._encode(method, path, params, json, files, data, headers)
        try:
            return await asyncio.wait_for(self._exchange(raw), self.timeout)
        except TimeoutError as exc:
            raise ClientError(f"timeout after {self.timeout:g} s") from exc

    async def post(self, path: str, **kwargs: Any) -> Answer:
        return await self.request("POST", path, **kwargs)


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat from its 3rd field (state) on: utime is [11], stime [12], the reaped children's
    cutime [13] and cstime [14], in clock ticks. Readable for other users' processes (PostgreSQL's) too."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and every descendant still running (uvicorn's worker processes)."""
    return sum(process_tree_cpu_seconds(pid).values())


def process_tree_cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU of a process and of each descendant still running, by process id."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds: dict[int, float] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            fields = stat_fields(current)
            seconds[current] = (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return seconds


def database_cpu_seconds(postmaster: int) -> float:
    """CPU of a whole PostgreSQL cluster: the postmaster, every child still running (backends, checkpointer,
    WAL writer...) and, through the postmaster's cutime + cstime, every child that has exited and been reaped
    (a connection closed by a pool's overflow), so no backend's CPU is lost between two readings."""
    fields = stat_fields(postmaster)
    return tree_cpu_seconds(postmaster) + (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def database_backends(database: str) -> int:
    """How many PostgreSQL backends are connected to `database` now (their command lines read
    "postgres: 15/main: user database host(port) state")."""
    found = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().replace(b"\0", b" ").split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if words[:1] == [b"postgres:"] and len(words) > 3 and words[3] == database.encode():
            found += 1
    return found


# ---------------------------------------------------------------- setup (this process)

@dataclass
class Target:
    backend: str
    workdir: Path
    url: str
    queue_url: str | None
    queue_name: str
    pg_name: str | None = None

    def env(self) -> dict[str, str]:
        env = {"EARSHOT_DATABASE_URL": self.url, "EARSHOT_DATA_DIR": str(self.workdir / "data"),
               "EARSHOT_QUEUE_NAME": self.queue_name, "EARSHOT_SECRET_KEY": "load-bench-secret-key",
               "EARSHOT_PASSWORD_HASH_TIME_COST": "1", "EARSHOT_PASSWORD_HASH_MEMORY_KIB": "8192",
               "PYTHONPATH": str(ROOT)}
        if self.queue_url:
            env["EARSHOT_QUEUE_URL"] = self.queue_url
        return env


def make_target(backend: str, workdir: Path) -> Target:
    name = f"load_{uuid.uuid4().hex[:8]}"
    (workdir / "data").mkdir()
    if backend == "sqlite":
        return Target(backend, workdir, f"sqlite:///{workdir / 'data' / 'earshot.db'}", None, name)
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    return Target(backend, workdir, url, REDIS_URL, name, pg_name=name)


def drop_target(target: Target) -> None:
    if target.queue_url:
        from app.core.jobs import make_huey
        from app.core.settings import Settings

        make_huey(Settings(queue_url=target.queue_url, queue_name=target.queue_name)).storage.flush_all()
    if target.pg_name:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.pg_name}" WITH (FORCE)'))
        admin.dispose()


def postmaster_pid(url: str) -> int:
    """The process id of the PostgreSQL server behind `url` (the parent of this connection's backend)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        backend = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
        parent = int(stat_fields(backend)[1])
    engine.dispose()
    return parent


def chat_lines(prefix: str, conversations: int, messages: int, agents: list[str],
               start: datetime) -> list[dict[str, Any]]:
    lines = []
    for c in range(conversations):
        conv = f"{prefix}-c{c}"
        for m in range(messages):
            lines.append({"conversation_id": conv, "message_id": f"{conv}-m{m}",
                          "sent_at": (start + timedelta(minutes=c, seconds=20 * m)).isoformat(),
                          "author_role": "customer" if m % 2 == 0 else "agent",
                          "author_name": "Customer" if m % 2 == 0 else agents[c % len(agents)].title(),
                          "agent": agents[c % len(agents)], "customer_email": f"cust{c % 500}@example.com",
                          "queue": "Billing" if c % 2 else "Technical", "text": CHAT_TEXTS[(c + m) % len(CHAT_TEXTS)]})
    return lines


def seed(target: Target, *, evaluators: int, conversations: int, full_demo: bool = True) -> dict[str, Any]:
    """Migrate; load the demo (its transcriptions are not run; only its accounts and scorecards unless
    `full_demo`) and the bench's evaluators and conversations."""
    from sqlmodel import col, select

    from app.auth import service as auth
    from app.auth.models import UserCreate
    from app.core.db import session_scope
    from app.core.features import iter_feature_modules
    from app.core.jobs import build_runtime
    from app.core.migrate import upgrade
    from app.core.models import Job
    from app.core.security import make_password_hasher
    from app.core.settings import Settings
    from app.ingest.chats import import_chats
    from app.interactions.models import Interaction
    from app.scorecards import service as scorecards

    upgrade(target.url)
    # the seed's own queue: the demo's transcription requests land in a file nobody consumes
    settings = Settings(_env_file=None, data_dir=target.workdir / "data", database_url=target.url,
                        queue_url=f"sqlite:///{target.workdir / 'seed-queue.db'}", password_hash_time_cost=1,
                        password_hash_memory_kib=8192)
    runtime = build_runtime(settings)
    for module in sorted(iter_feature_modules("demo"), key=lambda m: (m.DEMO_ORDER, m.__name__)):
        feature = module.__name__.split(".")[1]
        if feature != "speech" and (full_demo or feature in {"auth", "scorecards"}):
            module.load_demo(runtime=runtime, log=lambda _line: None)
    hasher = make_password_hasher(settings)
    usernames = [f"load_ev{i}" for i in range(evaluators)]
    with session_scope(runtime.sessions) as session:
        for job in session.exec(select(Job).where(Job.status == "queued")).all():
            job.status, job.error = "failed", "not run: the load bench does not transcribe the demo calls"
            session.add(job)
        for username in usernames:
            auth.create_user(session=session, hasher=hasher, actor=None, data=UserCreate(
                username=username, password=PASSWORD, display_name=username, roles=["evaluator"]))
    start = datetime.now(UTC) - timedelta(days=20)
    with session_scope(runtime.sessions) as session:
        report = import_chats(session=session, records=list(enumerate(chat_lines(
            "seed", conversations, 4, ["ada", "ben", "cara", "dan"], start), start=1)), source="load-seed",
            settings=settings)
        assert not report.rejected, report.rejected[:3]
        seeded = list(session.exec(select(Interaction.id).where(Interaction.source == "load-seed")
                                   .order_by(col(Interaction.id))).all())
        everything = list(session.exec(select(Interaction.id).order_by(col(Interaction.id))).all())
        card = scorecards.get_by_key(session=session, key="chat_email")
        assert card is not None and card.id is not None
        card_id = card.id
    runtime.engine.dispose()
    return {"scorecard_id": card_id, "evaluators": [[u, PASSWORD] for u in usernames],
            "staff": [[u, DEMO_PASSWORD] for u in STAFF],
            "to_evaluate": {u: seeded[i::evaluators] for i, u in enumerate(usernames)},
            "interactions": everything}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(target: Target, args: list[str], log_name: str) -> subprocess.Popen[bytes]:
    log = open(target.workdir / log_name, "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **target.env()},
                            stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path, *, processes: int = 0) -> None:
    """Until /healthz answers and, when `processes` is given (uvicorn at --log-level info), that many processes
    have logged the end of their start-up: the first process to answer says nothing of the others, which may
    still be importing the app (on the CPU being measured) and would get none of the first keep-alive
    connections."""
    host, port = base.removeprefix("http://").split(":")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            connection = http.client.HTTPConnection(host, int(port), timeout=2)
            connection.request("GET", "/healthz")
            if (connection.getresponse().status == 200
                    and log.read_text().count("Application startup complete") >= processes):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")


# ---------------------------------------------------------------- the load generator (its own process)

@dataclass
class User:
    username: str
    cookie: str = ""
    csrf: str = ""
    busy: bool = False
    todo: list[int] = field(default_factory=list)
    step: int = 0
    evaluation_id: int | None = None
    revision: int = 0
    seen: list[int] = field(default_factory=list)  # evaluations this evaluator submitted (pages to browse)

    def headers(self) -> dict[str, str]:
        return {"cookie": f"earshot_session={self.cookie}", "x-csrf-token": self.csrf}


@dataclass
class Record:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    errors: list[str] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # message ids of 2xx synchronous imports
    jobs: dict[int, list[str]] = field(default_factory=dict)  # job id -> message ids in its file
    recordings: list[int] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    slowest: list[tuple[float, str]] = field(default_factory=list)  # a min-heap of the SLOWEST_KEPT slowest

    def took(self, kind: str, label: str, started: float) -> None:
        ms = (time.perf_counter() - started) * 1000
        self.latencies[kind].append(ms)
        entry = (ms, f"{kind} {label}")
        if len(self.slowest) < SLOWEST_KEPT:
            heapq.heappush(self.slowest, entry)
        elif entry > self.slowest[0]:
            heapq.heapreplace(self.slowest, entry)


class Generator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.rng = random.Random(spec["seed"])
        self.evaluators = [User(u, todo=list(spec["to_evaluate"][u])) for u, _ in spec["evaluators"]]
        self.staff = [User(u) for u, _ in spec["staff"]]
        self.admin = next(u for u in self.staff if u.username == "admin")
        self.record = Record()
        self.batches = 0
        self.next_evaluator = 0

    async def login(self, client: LeanClient) -> None:
        passwords = dict(map(tuple, self.spec["evaluators"] + self.spec["staff"]))
        for user in self.evaluators + self.staff:
            r = await client.post("/api/auth/login", json={"username": user.username,
                                                           "password": passwords[user.username]})
            if r.status_code != 200:
                raise RuntimeError(f"sign-in of {user.username} failed: {r.status_code} {r.text[:200]}")
            user.cookie, user.csrf = r.cookies["earshot_session"], r.json()["csrf_token"]

    async def timed(self, client: LeanClient, kind: str, label: str, method: str, path: str,
                    record: Record, **kwargs: Any) -> Answer | None:
        started = time.perf_counter()
        try:
            r = await client.request(method, path, **kwargs)
        except ClientError as exc:
            record.took(kind, label, started)
            record.statuses[kind][type(exc).__name__] += 1
            record.errors.append(f"{kind} {label}: {type(exc).__name__} {exc}"[:300])
            return None
        record.took(kind, label, started)
        record.statuses[kind][str(r.status_code)] += 1
        if not 200 <= r.status_code < 300:
            record.errors.append(f"{kind} {label}: {r.status_code} {r.text[:200]}")
            return None
        return r

    # --- traffic classes

    async def browse(self, client: LeanClient, record: Record) -> None:
        user = self.rng.choice(self.evaluators + self.staff)
        interactions = self.spec["interactions"]
        if user in self.evaluators:
            choices = ["/", "/evaluations/queue", "/evaluations", f"/interactions/{self.rng.choice(interactions)}",
                       f"/interactions/{self.rng.choice(interactions)}"]
            if user.seen:
                choices.append(f"/evaluations/{self.rng.choice(user.seen)}")
        else:
            choices = {"eva": ["/", "/evaluations/queue", f"/interactions/{self.rng.choice(interactions)}"],
                       "evan": ["/", "/evaluations", f"/interactions/{self.rng.choice(interactions)}"],
                       "colin": ["/", "/coaching"], "exec": ["/", "/reviews"], "admin": ["/", "/jobs"]}[user.username]
        path = self.rng.choice(choices)
        label = path.rsplit("/", 1)[0] + "/{id}" if path.rsplit("/", 1)[-1].isdigit() else path
        if path == "/":  # each role has its own home page
            label = f"/ ({'an evaluator' if user in self.evaluators else user.username})"
        await self.timed(client, "browse", label, "GET", path, record, headers=user.headers())

    async def search(self, client: LeanClient, record: Record) -> None:
        user = self.rng.choice(self.evaluators + self.staff[:2])
        q = self.rng.choice(SEARCH_WORDS)
        if self.rng.random() < 0.5:
            await self.timed(client, "search", "/search", "GET", "/search", record, params={"q": q},
                             headers=user.headers())
        else:
            await self.timed(client, "search", "/api/search", "GET", "/api/search", record, params={"q": q},
                             headers=user.headers())

    def free_evaluator(self) -> User | None:
        """An idle evaluator half-way through an evaluation carries on; otherwise the next idle one starts."""
        for user in self.evaluators:
            if not user.busy and user.step % 3:
                return user
        for _ in range(len(self.evaluators)):
            user = self.evaluators[self.next_evaluator % len(self.evaluators)]
            self.next_evaluator += 1
            if not user.busy and user.todo:
                return user
        return None

    async def evaluate(self, client: LeanClient, record: Record, user: User) -> None:
        user.busy = True
        try:
            step = user.step % 3
            if step == 0:
                r = await self.timed(client, "evaluate", "create", "POST", "/api/evaluations", record,
                                     json={"interaction_id": user.todo.pop(0),
                                           "scorecard_id": self.spec["scorecard_id"]}, headers=user.headers())
                if r is None:
                    return  # counted as an error; the next turn starts another evaluation
                user.evaluation_id, user.revision = r.json()["id"], r.json()["revision"]
            elif step == 1:
                r = await self.timed(client, "evaluate", "answers", "PUT",
                                     f"/api/evaluations/{user.evaluation_id}/answers", record,
                                     json={"revision": user.revision, "answers": ANSWERS}, headers=user.headers())
                if r is None:
                    user.step = 0
                    return
                user.revision = r.json()["revision"]
            else:
                r = await self.timed(client, "evaluate", "submit", "POST",
                                     f"/api/evaluations/{user.evaluation_id}/submit", record,
                                     json={"revision": user.revision}, headers=user.headers())
                if r is not None:
                    assert user.evaluation_id is not None
                    record.submitted.append(user.evaluation_id)
                    user.seen.append(user.evaluation_id)
            user.step += 1
        finally:
            user.busy = False

    async def ingest(self, client: LeanClient, record: Record, *, synchronous: bool = False) -> None:
        self.batches += 1
        batch = self.batches
        prefix = f"{self.spec['run']}-b{batch}"
        if self.spec["recordings"] and batch % 10 == 0 and not synchronous:
            await self.recording(client, record, prefix)
            return
        lines = chat_lines(prefix, 3, 4, ["ada", "ben", "cara", "dan"], datetime.now(UTC) - timedelta(hours=1))
        ids = [line["message_id"] for line in lines]
        if batch % 3 == 0 and not synchronous:
            body = "\n".join(json.dumps(line) for line in lines).encode()
            r = await self.timed(client, "ingest", "import job", "POST", "/api/imports/chats/upload", record,
                                 files={"file": (f"{prefix}.jsonl", body, "application/x-ndjson")},
                                 data={"source": "load"}, headers=self.admin.headers())
            if r is not None:
                record.jobs[int(r.json()["job_id"])] = ids
        else:
            r = await self.timed(client, "ingest", "/api/chats", "POST", "/api/chats?source=load", record,
                                 json=lines, headers=self.admin.headers())
            if r is not None:
                if r.json().get("rejected"):
                    record.errors.append(f"ingest /api/chats: rejected {r.json()['rejected'][:2]}")
                record.messages.extend(ids)

    async def recording(self, client: LeanClient, record: Record, prefix: str) -> None:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:  # one second of near-silence, 8 kHz mono
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(bytes(16000))
        meta = {"external_id": prefix, "source": "load", "started_at": datetime.now(UTC).isoformat(),
                "agent": "ada"}
        r = await self.timed(client, "ingest", "recording", "POST", "/api/recordings", record,
                             files={"file": (f"{prefix}.wav", buffer.getvalue(), "audio/wav")},
                             data={"metadata": json.dumps(meta)}, headers=self.admin.headers())
        if r is not None and r.json().get("transcription_job_id"):
            record.jobs[int(r.json()["transcription_job_id"])] = []
            record.recordings.append(int(r.json()["recording_id"]))

    async def arrival(self, client: LeanClient, record: Record, kind: str) -> None:
        if kind == "browse":
            await self.browse(client, record)
        elif kind == "search":
            await self.search(client, record)
        elif kind == "ingest":
            await self.ingest(client, record)
        else:
            user = self.free_evaluator()
            if user is None:  # every evaluator is waiting for an answer (a person would wait too)
                record.skipped["evaluate"] += 1
                return
            await self.evaluate(client, record, user)

    async def profile(self, client: LeanClient, per_type: int) -> dict[str, float]:
        """Server CPU per request type (ms): `per_type` requests of one type, one at a time, against the
        server's CPU counters (the server is otherwise idle; one request in flight)."""
        pid = int(self.spec["server_pid"])
        evaluator, coach = self.evaluators[0], next(u for u in self.staff if u.username == "colin")
        executive = next(u for u in self.staff if u.username == "exec")
        interactions = self.spec["interactions"]
        record = Record()
        out: dict[str, float] = {}

        async def measure(label: str, send: Any) -> None:
            before = tree_cpu_seconds(pid)
            for i in range(per_type):
                await send(i)
            out[label] = (tree_cpu_seconds(pid) - before) * 1000 / per_type

        def get(path: str, user: User | None) -> Any:
            return lambda _i: self.timed(client, "profile", path, "GET", path, record,
                                         headers=user.headers() if user else None)

        await measure("/healthz", get("/healthz", None))
        await measure("/api/me", get("/api/me", evaluator))
        await measure("home (evaluator)", get("/", evaluator))
        await measure("home (coach)", get("/", coach))
        await measure("home (executive)", get("/", executive))
        await measure("home (admin)", get("/", self.admin))
        await measure("/coaching", get("/coaching", coach))
        await measure("/reviews", get("/reviews", executive))
        await measure("evaluation queue", get("/evaluations/queue", evaluator))
        await measure("evaluation list", get("/evaluations", evaluator))
        await measure("interaction page", lambda i: self.timed(
            client, "profile", "interaction", "GET", f"/interactions/{interactions[i % len(interactions)]}", record,
            headers=evaluator.headers()))
        await measure("search page", lambda i: self.timed(client, "profile", "search", "GET", "/search", record,
                                                          params={"q": SEARCH_WORDS[i % len(SEARCH_WORDS)]},
                                                          headers=evaluator.headers()))
        await measure("/api/search", lambda i: self.timed(client, "profile", "api search", "GET", "/api/search",
                                                          record, params={"q": SEARCH_WORDS[i % len(SEARCH_WORDS)]},
                                                          headers=evaluator.headers()))
        users = [u for u in self.evaluators if u.todo][:per_type]
        for label in ("evaluate: create", "evaluate: answers", "evaluate: submit"):
            await measure(label, lambda i: self.evaluate(client, record, users[i % len(users)]))
        pages = [(u, e) for u in users for e in u.seen]  # each evaluator's own submitted evaluations
        await measure("evaluation page", lambda i: self.timed(client, "profile", "evaluation", "GET",
                                                              f"/evaluations/{pages[i % len(pages)][1]}", record,
                                                              headers=pages[i % len(pages)][0].headers()))
        await measure("chat import (12 messages)", lambda _i: self.ingest(client, record, synchronous=True))
        errors = record.errors
        if errors:
            raise RuntimeError(f"profile requests failed: {errors[:3]}")
        self.keep_writes(record)
        return out

    def keep_writes(self, record: Record) -> None:
        """Add what a phase wrote (evaluations submitted, messages imported, jobs enqueued) to the run's record,
        which `count` checks against the database afterwards."""
        self.record.submitted.extend(record.submitted)
        self.record.messages.extend(record.messages)
        self.record.jobs.update(record.jobs)
        self.record.recordings.extend(record.recordings)

    def writes(self) -> dict[str, Any]:
        r = self.record
        return {"submitted": r.submitted, "messages": r.messages, "jobs": r.jobs, "recordings": r.recordings}

    async def saturate(self, client: LeanClient, seconds: float, concurrency: int) -> dict[str, float]:
        """Closed loop: `concurrency` clients send the mix back to back for `seconds`; answers per second, and
        the p50 and p99 of every request's latency (ms)."""
        record = Record()
        kinds, weights = list(MIX), list(MIX.values())
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < deadline:
                await self.arrival(client, record, self.rng.choices(kinds, weights)[0])

        begin = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - begin
        self.keep_writes(record)
        latencies = [ms for values in record.latencies.values() for ms in values]
        answered = sum(n for statuses in record.statuses.values() for status, n in statuses.items()
                       if status.startswith("2"))
        refused = sum(n for statuses in record.statuses.values() for status, n in statuses.items()
                      if status == "503")
        other = sum(n for statuses in record.statuses.values() for status, n in statuses.items()
                    if not status.startswith("2") and status != "503")
        return {"per_second": answered / elapsed, "answered": answered, "refused_503": refused, "other_errors": other,
                "concurrency": concurrency, "seconds": elapsed, "p50_ms": pct(latencies, 0.5),
                "p99_ms": pct(latencies, 0.99), "skipped_evaluations": sum(record.skipped.values())}

    def cpu_readings(self) -> dict[str, Any]:
        """CPU seconds so far: each web process (by id), the job workers, the database server (PostgreSQL)."""
        postmaster = self.spec.get("database_pid")
        return {"web": process_tree_cpu_seconds(int(self.spec["server_pid"])),
                "jobs": sum(tree_cpu_seconds(int(pid)) for pid in self.spec["worker_pids"]),
                "database": database_cpu_seconds(int(postmaster)) if postmaster else None}

    async def metered_saturation(self, client: LeanClient) -> dict[str, Any]:
        """An untimed closed-loop warm-up (so every server process has connections and warm caches), then the
        saturation, with the CPU of the web processes, job workers and database server around it."""
        clients = int(self.spec["saturation_clients"])
        await self.saturate(client, float(self.spec["saturation_warm_up_seconds"]), clients)
        before = self.cpu_readings()
        saturation = await self.saturate(client, float(self.spec["saturation_seconds"]), clients)
        after = self.cpu_readings()
        answers = max(1.0, saturation["answered"])
        web = {pid: seconds - before["web"].get(pid, 0.0) for pid, seconds in after["web"].items()}
        database = None if after["database"] is None else (after["database"] - before["database"]) * 1000 / answers
        return {**saturation, "web_cpu_ms": sum(web.values()) * 1000 / answers,
                "busiest_web_share": max(web.values()) / max(sum(web.values()), 1e-9),
                "jobs_cpu_ms": (after["jobs"] - before["jobs"]) * 1000 / answers, "database_cpu_ms": database}

    async def prepare(self, client: LeanClient) -> list[str]:
        """Sign every user in, then warm up untimed: every class a few times, so the first measured requests are
        not cold (what it writes is counted too). Returns the warm-up's errors."""
        await self.login(client)
        warm = Record()
        for kind in ["browse"] * 10 + ["search"] * 6 + ["evaluate"] * 3 + ["ingest"]:
            await self.arrival(client, warm, kind)
        self.keep_writes(warm)
        return warm.errors

    async def run(self) -> dict[str, Any]:
        pid = int(self.spec["server_pid"])
        async with LeanClient(self.spec["base"], timeout=60) as client:
            warm_up_errors = await self.prepare(client)
            if warm_up_errors:
                return {"warm_up_errors": warm_up_errors}
            if self.spec.get("only_saturation"):
                return {**self.writes(), "saturation": await self.metered_saturation(client)}
            profiles = [await self.profile(client, int(self.spec["profile_per_type"]))
                        for _ in range(int(self.spec.get("profile_repeats", 1)))]
            profile = {label: min(p[label] for p in profiles) for label in profiles[0]}
            if self.spec.get("only_profile"):
                return {"profile": profile, "profiles": profiles}
            rate, seconds = float(self.spec["rate"]), float(self.spec["seconds"])
            kinds, weights = list(MIX), list(MIX.values())
            tasks: list[asyncio.Task[Any]] = []
            lag = 0.0
            server_cpu_before = tree_cpu_seconds(pid)
            own_before = resource.getrusage(resource.RUSAGE_SELF)
            begin = time.perf_counter()

            async def probes() -> None:
                every = 1 / max(1.0, rate / 10)
                for i in range(int(seconds / every)):
                    delay = begin + i * every - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(self.timed(
                        client, "healthz", "/healthz", "GET", "/healthz", self.record)))

            probe_task = asyncio.create_task(probes())
            for i in range(int(rate * seconds)):
                delay = begin + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    lag = max(lag, -delay)
                kind = self.rng.choices(kinds, weights)[0]
                tasks.append(asyncio.create_task(self.arrival(client, self.record, kind)))
            await probe_task
            arrivals_done = time.perf_counter() - begin
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - begin
            own_after = resource.getrusage(resource.RUSAGE_SELF)
            server_cpu = tree_cpu_seconds(pid) - server_cpu_before
            own_cpu = (own_after.ru_utime + own_after.ru_stime) - (own_before.ru_utime + own_before.ru_stime)
            sent = sum(len(v) for v in self.record.latencies.values())
            saturation = await self.saturate(client, float(self.spec["saturation_seconds"]),
                                             int(self.spec["saturation_clients"]))
        r = self.record
        return {**self.writes(), "latencies": r.latencies, "statuses": r.statuses, "errors": r.errors,
                "skipped": r.skipped, "slowest": sorted(r.slowest, reverse=True),
                "elapsed": elapsed, "arrivals_seconds": arrivals_done, "max_lag_ms": lag * 1000,
                "profile": profile, "server_cpu_ms_per_request": server_cpu * 1000 / max(1, sent),
                "generator_cpu_ms_per_request": own_cpu * 1000 / max(1, sent), "saturation": saturation}


async def saturate_baseline(base: str, seconds: float, concurrency: int) -> dict[str, float]:
    """The bare app's saturation: `concurrency` clients insert rows back to back for `seconds`."""
    answered = errors = 0
    async with LeanClient(base, timeout=60) as client:
        for _ in range(20):  # warm-up
            await client.post("/insert", json={"value": 0})
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            nonlocal answered, errors
            while time.perf_counter() < deadline:
                try:
                    r = await client.post("/insert", json={"value": 1})
                    ok = r.status_code == 200
                except ClientError:
                    ok = False
                answered, errors = answered + ok, errors + (not ok)

        begin = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - begin
    return {"per_second": answered / elapsed, "answered": answered, "errors": errors}


def generate(spec_path: Path, out_path: Path) -> None:
    spec = json.loads(spec_path.read_text())
    result = asyncio.run(Generator(spec).run())
    out_path.write_text(json.dumps(result))


# ---------------------------------------------------------------- counting what was written

def count(target: Target, result: dict[str, Any], drain_seconds: float) -> dict[str, Any]:
    from sqlmodel import col, select

    from app.core.db import make_engine, session_factory
    from app.core.models import Job
    from app.evaluations.models import Evaluation
    from app.interactions.models import Message

    engine = make_engine(target.url)
    sessions = session_factory(engine)
    job_ids = [int(j) for j in result["jobs"]]
    deadline = time.monotonic() + drain_seconds
    started = time.monotonic()
    while True:
        with sessions() as session:
            jobs = {j.id: j for j in session.exec(select(Job).where(col(Job.id).in_(job_ids))).all()} if job_ids else {}
        pending = [i for i in job_ids if i not in jobs or jobs[i].status not in {"done", "failed"}]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    drained = time.monotonic() - started
    expected_messages = set(result["messages"])
    for job_id, ids in result["jobs"].items():
        if int(job_id) in jobs and jobs[int(job_id)].status == "done":
            expected_messages.update(ids)
    with sessions() as session:
        submitted_ids = set(result["submitted"])
        stored = set(session.exec(select(Evaluation.id).where(
            col(Evaluation.id).in_(submitted_ids), Evaluation.state == "submitted")).all()) if submitted_ids else set()
        prefix = f"{result['run']}-%"
        messages = set(session.exec(select(Message.external_id).where(col(Message.external_id).like(prefix))).all())
    engine.dispose()
    failed = {i: jobs[i].error for i in job_ids if i in jobs and jobs[i].status == "failed"}
    missing_evaluations = sorted(submitted_ids - stored)
    missing_messages = sorted(expected_messages - messages)
    lost = {k: v for k, v in {"evaluations": missing_evaluations, "messages": missing_messages,
                               "jobs not finished": pending, "jobs failed": failed}.items() if v}
    return {"submitted": len(submitted_ids), "submitted_stored": len(stored), "messages_sent": len(expected_messages),
            "messages_stored": len(messages & expected_messages), "messages_in_failed_jobs": sum(
                len(result["jobs"][str(i)]) for i in failed), "jobs": len(job_ids),
            "jobs_done": sum(1 for i in job_ids if i in jobs and jobs[i].status == "done"),
            "drain_seconds": drained, "lost": lost}


# ---------------------------------------------------------------- one run

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def phase(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def timed_seed(target: Target, **sizes: Any) -> tuple[dict[str, Any], float]:
    """`seed`, and how long it took."""
    t0 = time.monotonic()
    data = seed(target, **sizes)
    seed_seconds = time.monotonic() - t0
    phase(f"{target.backend}: seeded in {seed_seconds:.1f} s")
    return data, seed_seconds


@dataclass
class Services:
    """The server (uvicorn with its web processes) and the job worker processes (`earshot worker`)."""

    base: str
    server: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    logs: list[Path]


def start_services(target: Target, *, web_processes: int, job_workers: int, tag: str = "") -> Services:
    """Start the server with `web_processes` processes and `job_workers` worker processes (one thread each);
    return once every web process has started. `tag` keeps each start's logs apart in the data directory."""
    port = free_port()
    server = start(target, ["-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
                            "--port", str(port), "--log-level", "info", "--no-access-log",
                            "--workers", str(web_processes)], f"server{tag}.log")
    services = Services(f"http://127.0.0.1:{port}", server, [], [target.workdir / f"server{tag}.log"])
    try:
        for i in range(job_workers):
            services.workers.append(start(target, ["-c", "from app.cli import main; main()", "worker"],
                                          f"worker{tag}-{i}.log"))
            services.logs.append(target.workdir / f"worker{tag}-{i}.log")
        wait_healthy(services.base, server, services.logs[0], processes=web_processes)
    except BaseException:
        stop_services(services)
        raise
    return services


def stop_services(services: Services | None) -> None:
    if services is not None:
        for process in [services.server, *services.workers]:
            stop(process)


def log_errors(services: Services) -> list[str]:
    """The first lines of the server's and workers' logs that name an error or a traceback."""
    lines = [line for log in services.logs for line in log.read_text().splitlines()
             if "Error" in line or "Traceback" in line]
    return lines[:8]


def generator_spec(data: dict[str, Any], services: Services, options: argparse.Namespace) -> dict[str, Any]:
    """What the generator process needs: the seeded data set, where the server is, the process ids whose CPU
    it reads, and a fresh run id (the prefix of every chat it imports)."""
    return {**data, "base": services.base, "seed": 11, "run": f"L{uuid.uuid4().hex[:8]}",
            "recordings": options.recordings, "server_pid": services.server.pid,
            "worker_pids": [worker.pid for worker in services.workers],
            "saturation_seconds": options.saturation_seconds, "saturation_clients": options.saturation_clients}


def run_generator(target: Target, spec: dict[str, Any]) -> tuple[dict[str, Any], tuple[float, float]]:
    """Run the load generator in its own process; its result (with the run id) and the 1-minute load average
    before and after."""
    (target.workdir / "spec.json").write_text(json.dumps(spec))
    load_before = os.getloadavg()[0]
    subprocess.run([sys.executable, __file__, "--generate", str(target.workdir / "spec.json"),
                    str(target.workdir / "result.json")], cwd=ROOT, check=True)
    load_after = os.getloadavg()[0]
    result: dict[str, Any] = json.loads((target.workdir / "result.json").read_text())
    if "warm_up_errors" in result:
        raise RuntimeError(f"warm-up failed: {result['warm_up_errors'][:5]}")
    result["run"] = spec["run"]
    return result, (load_before, load_after)


def run_one(backend: str, rate: float, seconds: float, options: argparse.Namespace) -> dict[str, Any]:
    smoke = seconds <= 10 and not options.only_cpu_table
    with tempfile.TemporaryDirectory(prefix="earshot-load-") as tmp:
        target = make_target(backend, Path(tmp))
        services = None
        try:
            data, seed_seconds = timed_seed(
                target, evaluators=min(options.evaluators, 6) if smoke else options.evaluators,
                conversations=100 if smoke else options.conversations, full_demo=not smoke)
            services = start_services(target, web_processes=options.workers, job_workers=1)
            phase(f"{backend}: server up; " + ("measuring the CPU per request type" if options.only_cpu_table
                                               else f"load {rate:g} requests/s for {seconds:g} s"))
            spec = {**generator_spec(data, services, options), "rate": rate, "seconds": seconds,
                    "profile_per_type": 5 if smoke and not options.only_cpu_table else options.profile_per_type,
                    "profile_repeats": options.cpu_repeats, "only_profile": options.only_cpu_table,
                    "saturation_seconds": 2 if smoke else options.saturation_seconds}
            result, (load_before, load_after) = run_generator(target, spec)
            if options.only_cpu_table:
                return {"backend": backend, "workers": options.workers, "load": (load_before, load_after),
                        "profile": result["profile"], "profiles": result["profiles"], "seed_seconds": seed_seconds}
            phase(f"{backend}: load done in {result['elapsed']:.1f} s; counting (waiting for the worker)")
            counted = count(target, result, drain_seconds=options.drain_seconds)
            tracebacks = log_errors(services)
        finally:
            stop_services(services)
            drop_target(target)
        baseline = run_baseline(options, 2 if smoke else options.saturation_seconds)
    latencies: dict[str, list[float]] = result["latencies"]
    mix = [x for k, v in latencies.items() if k != "healthz" for x in v]
    healthz_p99 = pct(latencies.get("healthz", []), 0.99)
    errors: Counter[str] = Counter()
    for kind, statuses in result["statuses"].items():
        for status, n in statuses.items():
            if not status.startswith("2"):
                errors[f"{kind} {status}"] += n
    return {"backend": backend, "rate": rate, "seconds": seconds, "requests": len(mix),
            "throughput": len(mix) / result["elapsed"], "elapsed": result["elapsed"],
            "max_lag_ms": result["max_lag_ms"], "healthz_p50": pct(latencies.get("healthz", []), 0.5),
            "healthz_p99": healthz_p99,
            "classes": {k: {"n": len(v), "p50": pct(v, 0.5), "p95": pct(v, 0.95), "p99": pct(v, 0.99),
                            "max": max(v), "x": pct(v, 0.99) / healthz_p99} for k, v in sorted(latencies.items())},
            "all": {"p50": pct(mix, 0.5), "p95": pct(mix, 0.95), "p99": pct(mix, 0.99)},
            "errors": dict(errors), "error_samples": result["errors"][:8], "skipped": result["skipped"],
            "slowest": result["slowest"],
            "counted": counted, "seed_seconds": seed_seconds, "load": (load_before, load_after),
            "log_lines": tracebacks[:8], "profile": result["profile"], "workers": options.workers,
            "server_cpu_ms": result["server_cpu_ms_per_request"],
            "generator_cpu_ms": result["generator_cpu_ms_per_request"],
            "saturation": result["saturation"], "baseline": baseline}


class PeakSampler:
    """Reads `read()` every `every` seconds in a thread while the `with` block runs; `peak` is the highest value
    (None when there is nothing to read)."""

    def __init__(self, read: Callable[[], int] | None, every: float = 0.5) -> None:
        self.read, self.every = read, every
        self.peak: int | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while self.read is not None and not self.done.is_set():
            self.peak = max(self.peak or 0, self.read())
            self.done.wait(self.every)

    def __enter__(self) -> "PeakSampler":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.thread.join()


def run_scale_out(backend: str, processes: list[int], options: argparse.Namespace) -> dict[str, Any]:
    """One data set, seeded once; for each count of web processes the server and `--job-workers` worker
    processes start, the mix saturates them (closed loop), what was written is counted, and they stop. Each
    step gets its own share of the interactions to evaluate (an evaluator evaluates each one once)."""
    with tempfile.TemporaryDirectory(prefix="earshot-scale-out-") as tmp:
        target = make_target(backend, Path(tmp))
        try:
            data, seed_seconds = timed_seed(target, evaluators=options.evaluators, conversations=options.conversations)
            shares = [{user: todo[i::len(processes)] for user, todo in data["to_evaluate"].items()}
                      for i in range(len(processes))]
            steps = [saturate_step(target, {**data, "to_evaluate": share}, web_processes=n, options=options)
                     for n, share in zip(processes, shares, strict=True)]
        finally:
            drop_target(target)
    baseline = run_baseline(options, options.saturation_seconds)
    return {"backend": backend, "steps": steps, "baseline": baseline, "seed_seconds": seed_seconds,
            "job_workers": options.job_workers, "clients": options.saturation_clients,
            "seconds": options.saturation_seconds, "bare_processes": options.workers}


def saturate_step(target: Target, data: dict[str, Any], *, web_processes: int,
                  options: argparse.Namespace) -> dict[str, Any]:
    """The closed-loop saturation of the mix against `web_processes` server processes and `--job-workers`
    workers on an already seeded target, then the count of what it wrote (the workers drain their jobs first)."""
    services = None
    try:
        services = start_services(target, web_processes=web_processes, job_workers=options.job_workers,
                                  tag=f"-{web_processes}")
        phase(f"{target.backend}: {web_processes} web process(es), {options.job_workers} job worker(s): "
              f"saturating for {options.saturation_seconds:g} s")
        spec = {**generator_spec(data, services, options), "only_saturation": True,
                "saturation_warm_up_seconds": options.saturation_warm_up_seconds,
                "database_pid": postmaster_pid(target.url) if target.pg_name else None}
        pg_name = target.pg_name
        with PeakSampler((lambda: database_backends(pg_name)) if pg_name else None) as connections:
            result, load = run_generator(target, spec)
        counted = count(target, result, drain_seconds=options.drain_seconds)
        log_lines = log_errors(services)
    finally:
        stop_services(services)
    return {"web_processes": web_processes, "saturation": result["saturation"], "counted": counted, "load": load,
            "peak_connections": connections.peak, "log_lines": log_lines}


def run_baseline(options: argparse.Namespace, seconds: float) -> dict[str, Any]:
    """The bare FastAPI + SQLite app (bench/_baseline_app.py), same number of processes, saturated by the same
    lean client: the machine's reference throughput at this moment."""
    with tempfile.TemporaryDirectory(prefix="earshot-bare-") as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(tmp) / "bare.log"
        env = {**os.environ, "BENCH_BASELINE_DB": str(Path(tmp) / "bare.db"), "PYTHONPATH": str(ROOT)}
        with log.open("wb") as out:
            server = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench._baseline_app:create_app", "--factory",
                                       "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                                       "--no-access-log", "--workers", str(options.workers)],
                                      cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_healthy(base, server, log)
            result_path = Path(tmp) / "bare.json"
            subprocess.run([sys.executable, __file__, "--baseline", base, str(seconds), str(options.saturation_clients),
                            str(result_path)], cwd=ROOT, check=True)
            return dict(json.loads(result_path.read_text()))
        finally:
            stop(server)


# ---------------------------------------------------------------- report

def describe_cpu(r: dict[str, Any]) -> list[str]:
    sat, bare = r["saturation"], r["baseline"]
    ratio = sat["per_second"] / bare["per_second"] if bare["per_second"] else float("nan")
    lines = ["",
             f"CPU per request during the open-loop run (all {r['workers']} server processes, weighted by the mix): "
             f"**server {r['server_cpu_ms']:.1f} ms**; the lean generator's own CPU {r['generator_cpu_ms']:.2f} ms.",
             "",
             f"Saturation (closed loop, {sat['concurrency']} clients, {sat['seconds']:.0f} s): Earshot's mix "
             f"**{sat['per_second']:.1f} answers/s** ({sat['refused_503']} quick 503s, {sat['other_errors']} other "
             f"errors); bare FastAPI + SQLite insert app, same processes and client: {bare['per_second']:.1f}/s "
             f"({bare['errors']} errors); **ratio {ratio:.2f}**.",
             "",
             "| request type (one at a time) | server CPU ms |", "|---|---:|"]
    lines += [f"| {label} | {ms:.1f} |" for label, ms in r["profile"].items()]
    return lines


def describe_scale_out(r: dict[str, Any]) -> list[str]:
    bare, steps = r["baseline"], r["steps"]
    first = steps[0]["saturation"]["per_second"]
    lines = [f"### {r['backend']}: scale-out, {r['job_workers']} job worker process(es), closed loop of "
             f"{r['clients']} clients for {r['seconds']:g} s per step", "",
             f"| web processes | job workers | answers/s | ÷ {steps[0]['web_processes']} process(es) | ÷ bare app | "
             "quick 503s | other errors | p50 ms | p99 ms | web CPU ms/answer | busiest web process | "
             "job workers CPU ms/answer | database CPU ms/answer | peak database connections | lost | load avg before → after |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for step in steps:
        sat = step["saturation"]
        database = "–" if sat["database_cpu_ms"] is None else f"{sat['database_cpu_ms']:.1f}"
        connections = "–" if step["peak_connections"] is None else str(step["peak_connections"])
        lines.append(f"| {step['web_processes']} | {r['job_workers']} | {sat['per_second']:.1f} | "
                     f"{sat['per_second'] / first if first else float('nan'):.2f} | "
                     f"{sat['per_second'] / bare['per_second'] if bare['per_second'] else float('nan'):.3f} | "
                     f"{sat['refused_503']} | {sat['other_errors']} | {sat['p50_ms']:.0f} | {sat['p99_ms']:.0f} | "
                     f"{sat['web_cpu_ms']:.1f} | {sat['busiest_web_share']:.0%} | {sat['jobs_cpu_ms']:.1f} | "
                     f"{database} | {connections} | {'0' if not step['counted']['lost'] else '**yes**'} | "
                     f"{step['load'][0]:.1f} → {step['load'][1]:.1f} |")
    lines += ["", f"Bare FastAPI + SQLite insert app, {r['bare_processes']} process(es), same client and clients: "
              f"{bare['per_second']:.1f}/s ({bare['errors']} errors). Seeded once in {r['seed_seconds']:.0f} s. "
              "Web CPU: all server processes, from /proc; busiest web process: its share of that CPU. "
              + ("Database CPU: the whole PostgreSQL cluster (every backend, background process and exited "
                 "backend), so another client of the same cluster would count too (see the load average); peak "
                 "database connections: backends connected to the bench's database, sampled every 0.5 s."
                 if r["backend"] == "postgres" else "SQLite works inside the web processes: its CPU is web CPU.")]
    for step in steps:
        c, sat = step["counted"], step["saturation"]
        lines.append(f"- {step['web_processes']} web process(es): counted afterwards: evaluations submitted "
                     f"{c['submitted']}, stored {c['submitted_stored']}; messages imported {c['messages_sent']}, "
                     f"stored {c['messages_stored']}; jobs {c['jobs']}, done {c['jobs_done']} (drained in "
                     f"{c['drain_seconds']:.1f} s); "
                     + ("**lost = 0**" if not c["lost"] else f"**LOST: {json.dumps(c['lost'])[:600]}**")
                     + (f"; evaluate arrivals skipped (no evaluator free): {sat['skipped_evaluations']}"
                        if sat["skipped_evaluations"] else "") + ".")
        lines += [f"  - log: `{line[:200]}`" for line in step["log_lines"]]
    return lines + [""]


def describe_cpu_only(r: dict[str, Any]) -> list[str]:
    runs = r["profiles"]
    lines = [f"### {r['backend']}: server CPU per request type ({r['workers']} server processes; "
             f"load average {r['load'][0]:.1f} before, {r['load'][1]:.1f} after)", "",
             "| request type (one at a time) | " + " | ".join(f"run {i + 1} ms" for i in range(len(runs)))
             + " | min ms |", "|---|" + "---:|" * (len(runs) + 1)]
    lines += [f"| {label} | " + " | ".join(f"{p[label]:.1f}" for p in runs) + f" | {ms:.1f} |"
              for label, ms in r["profile"].items()]
    return lines + [""]


def describe(r: dict[str, Any]) -> list[str]:
    c = r["counted"]
    lines = [f"### {r['backend']}: {r['rate']:g} requests/s for {r['seconds']:g} s",
             "",
             f"{r['requests']} requests in {r['elapsed']:.1f} s = **{r['throughput']:.1f} req/s**; "
             f"p50 {r['all']['p50']:.0f} ms, p95 {r['all']['p95']:.0f} ms, **p99 {r['all']['p99']:.0f} ms**; "
             f"**errors: {sum(r['errors'].values())}**"
             + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(r['errors'].items()))})" if r["errors"] else "")
             + f"; baseline /healthz p50 {r['healthz_p50']:.1f} ms, p99 {r['healthz_p99']:.1f} ms; load average "
             f"{r['load'][0]:.1f} before, {r['load'][1]:.1f} after; generator max lag {r['max_lag_ms']:.0f} ms.",
             "",
             "| class | requests | p50 ms | p95 ms | p99 ms | max ms | p99 ÷ /healthz p99 |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for kind, s in r["classes"].items():
        lines.append(f"| {kind} | {s['n']} | {s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} | {s['max']:.0f} | "
                     f"{s['x']:.1f} |")
    lost = c["lost"]
    lines += ["",
              f"Counted afterwards: evaluations submitted (2xx) {c['submitted']}, stored as submitted "
              f"{c['submitted_stored']}; messages imported {c['messages_sent']}, stored {c['messages_stored']}; "
              f"jobs enqueued {c['jobs']}, done {c['jobs_done']} (drained in {c['drain_seconds']:.1f} s); "
              + ("**lost = 0**." if not lost else f"**LOST: {json.dumps(lost)[:600]}**")]
    if r["slowest"]:
        lines.append("Slowest requests: " + ", ".join(f"{label} {ms:.0f} ms" for ms, label in r["slowest"]) + ".")
    if r["skipped"]:
        lines.append(f"Skipped arrivals (every evaluator was waiting for an answer): {dict(r['skipped'])}.")
    for sample in r["error_samples"]:
        lines.append(f"- error: `{sample[:200]}`")
    for line in r["log_lines"]:
        lines.append(f"- log: `{line[:200]}`")
    return lines + describe_cpu(r) + [""]


def default_processes() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--generate":
        generate(Path(sys.argv[2]), Path(sys.argv[3]))
        return 0
    if len(sys.argv) == 6 and sys.argv[1] == "--baseline":
        bare = asyncio.run(saturate_baseline(sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
        Path(sys.argv[5]).write_text(json.dumps(bare))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", default="20", help="requests/s; a comma list runs each rate in turn")
    parser.add_argument("--evaluators", type=int, default=30)
    parser.add_argument("--conversations", type=int, default=2000, help="generated chats seeded besides the demo")
    parser.add_argument("--recordings", action="store_true", help="every 10th ingest uploads a 1 s recording "
                                                                  "(the worker transcribes it with the real model)")
    parser.add_argument("--drain-seconds", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=default_processes(),
                        help="server processes (default: one per core, as `earshot serve`); with --scale-out "
                             "only the bare app's")
    parser.add_argument("--profile-per-type", type=int, default=20, help="sequential requests per type for CPU")
    parser.add_argument("--saturation-seconds", type=float, default=8.0)
    parser.add_argument("--saturation-clients", type=int, default=32)
    parser.add_argument("--out", help="overwritten; '-' for none (default: bench/load-results.md, with "
                                       "--scale-out bench/scale-out-results.md)")
    parser.add_argument("--only-cpu-table", action="store_true",
                        help="seed, start the server, print the server CPU per request type and stop: no open loop, "
                             "no saturation, no bare app, nothing written to --out (about a minute)")
    parser.add_argument("--cpu-repeats", type=int, default=1,
                        help="measure the per-type table this many times (each column printed; 'min' is the lowest)")
    parser.add_argument("--scale-out", metavar="N1,N2,...",
                        help="seed once, then saturate the server with each of these counts of web processes in "
                             "turn (closed loop only: no open loop, no per-type table)")
    parser.add_argument("--job-workers", type=int, default=1,
                        help="--scale-out only: `earshot worker` processes (one thread each) beside the server")
    parser.add_argument("--saturation-warm-up-seconds", type=float, default=3.0,
                        help="--scale-out only: untimed closed loop before each measured one")
    args = parser.parse_args()
    args.out = args.out or str(ROOT / "bench" / ("scale-out-results.md" if args.scale_out else "load-results.md"))
    if args.scale_out:
        return main_scale_out(args)
    if args.only_cpu_table:
        for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
            print("\n".join(describe_cpu_only(run_one(backend, 0, 0, args))), flush=True)
        return 0
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = []
    for backend in backends:
        for rate in [float(x) for x in args.rate.split(",")]:
            result = run_one(backend, rate, args.seconds, args)
            results.append(result)
            print("\n".join(describe(result)), flush=True)
    if args.out != "-":
        Path(args.out).write_text("\n".join(report_header(args) + [line for r in results for line in describe(r)]))
        print(f"written to {args.out}")
    bad = [r for r in results if r["errors"] or r["counted"]["lost"]]
    return 1 if bad else 0


def main_scale_out(args: argparse.Namespace) -> int:
    processes = [int(n) for n in args.scale_out.split(",")]
    results = []
    for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        results.append(run_scale_out(backend, processes, args))
        print("\n".join(describe_scale_out(results[-1])), flush=True)
    if args.out != "-":
        Path(args.out).write_text("\n".join(scale_out_header(args) + [line for r in results
                                                                      for line in describe_scale_out(r)]))
        print(f"written to {args.out}")
    bad = [s for r in results for s in r["steps"] if s["saturation"]["other_errors"] or s["counted"]["lost"]]
    return 1 if bad else 0


def scale_out_header(args: argparse.Namespace) -> list[str]:
    return ["# Scale-out benchmark results (bench/load.py --scale-out)", "",
            f"`python bench/load.py --backend {args.backend} --scale-out {args.scale_out} --job-workers "
            f"{args.job_workers} --saturation-seconds {args.saturation_seconds:g} --saturation-clients "
            f"{args.saturation_clients}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, all on the same shared "
            f"{default_processes()}-core machine (the database server too). One data set (demo + "
            f"{args.conversations} chats + {args.evaluators} evaluators) seeded once; per row the server starts with "
            "that many web processes (uvicorn) and the job workers (`earshot worker`, one thread each), gets "
            f"{args.saturation_warm_up_seconds:g} s of untimed closed loop, then the measured closed loop of the mix "
            "(60 % browse, 20 % search, 15 % evaluate, 5 % ingest; no recordings), then the count of what was "
            "written, then stops.", ""]


def report_header(args: argparse.Namespace) -> list[str]:
    return ["# Load benchmark results (bench/load.py)", "",
            f"`python bench/load.py --backend {args.backend} --seconds {args.seconds:g} --rate {args.rate}` on "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. {args.workers} server process(es) (uvicorn) + one worker process (one "
            "thread) + the open-loop generator in a third process, all on the same shared 2-core machine "
            "(other sessions' tests and benches load it too: see the load averages). Mix: 60 % browse, 20 % "
            "search, 15 % evaluate (create → answers → submit), 5 % ingest (chat batches of 12 messages; every "
            "third one as an import file for the worker); recordings "
            + ("on" if args.recordings else "off (no transcription)") + "; /healthz probes are the baseline.",
            ""]


if __name__ == "__main__":
    sys.exit(main())
