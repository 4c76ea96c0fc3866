"""Evaluation workload benchmark: 100 simulated evaluators against a running Earshot server.

    .venv/bin/python bench/evaluations.py [--backends sqlite,postgresql] [--rate 100] [--seconds 10]

For each backend: a fresh database (temp SQLite file, or a throw-away PostgreSQL database beside
EARSHOT_BENCH_POSTGRES_URL), migrated, with 100 evaluators (API tokens), 20 agents, the shipped scorecards and
chat interactions with a few messages. The server (`uvicorn app.main:create_app --factory`, one process) runs
in a separate process on 127.0.0.1; this process is the load generator.

1. Open loop: requests arrive at `--rate` per second in all (100 evaluators, ~1 request/s each) for
   `--seconds`, whatever the server's latency (see ../shared/notes/web-load-measurements.md). Each evaluator
   cycles: create an evaluation → open the workspace page → save a draft → save again → submit.
   Reports p50/p99 latency per step and overall, and errors (any non-2xx/303 answer or transport error).
2. Saturation: 32 clients in a closed loop doing the same cycle for `--saturation-seconds`: requests/s.
3. Baseline in the same run: a bare FastAPI app inserting one row into SQLite (WAL) per request, same
   closed loop, requests/s — the ratio says how much Earshot's work costs.
Target: zero errors and p99 < 50 ms on SQLite at 100 requests/s.
"""

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.auth.models import User, WebSession  # noqa: E402
from app.core.db import make_engine, session_factory  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.core.security import token_digest  # noqa: E402
from app.interactions.models import Interaction, Message  # noqa: E402
from app.scorecards import service as scorecards  # noqa: E402

POSTGRES_URL = os.environ.get("EARSHOT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
EVALUATORS = 100
CSRF = "bench-csrf-token"
AGENTS = 20
ANSWERS = [  # the chat_email form, all questions
    {"question_id": "polite_tone", "value": 4}, {"question_id": "personalised", "value": True},
    {"question_id": "correct_information", "value": True}, {"question_id": "answered_all_questions", "value": True},
    {"question_id": "spelling_grammar", "value": "minor"}, {"question_id": "resolved", "value": True},
    {"question_id": "response_time_ok", "na": True}, {"question_id": "comment", "value": "Benchmark"},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str, interactions: int) -> tuple[list[str], int]:
    """Migrate and fill the database; returns the evaluators' session cookies and the chat scorecard id."""
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    tokens = [f"es_{secrets.token_urlsafe(24)}" for _ in range(EVALUATORS)]
    with engine.begin() as connection:
        connection.execute(insert(User), [
            {"username": f"bench_ev{i}", "display_name": f"Evaluator {i}", "roles": "evaluator", "password_hash": "x",
             "is_active": True, "created_at": now} for i in range(EVALUATORS)] + [
            {"username": f"bench_ag{i}", "display_name": f"Agent {i}", "roles": "agent", "password_hash": "x",
             "is_active": True, "created_at": now} for i in range(AGENTS)])
        ids = {u: i for i, u in connection.execute(text("SELECT id, username FROM user_account")).all()}
        # web sessions, as evaluators working in the browser (an API token also writes last_used_at per request)
        connection.execute(insert(WebSession), [
            {"user_id": ids[f"bench_ev{i}"], "token_hash": token_digest(t), "csrf_token": CSRF, "created_at": now,
             "expires_at": now + timedelta(days=1)} for i, t in enumerate(tokens)])
        start = now - timedelta(days=7)
        connection.execute(insert(Interaction), [
            {"channel": "chat", "direction": "inbound", "started_at": start + timedelta(seconds=i),
             "agent_id": ids[f"bench_ag{i % AGENTS}"], "source": "bench", "external_id": f"chat-{i}", "extra": {},
             "created_at": now} for i in range(interactions)])
        interaction_ids = [r[0] for r in connection.execute(text("SELECT id FROM interaction ORDER BY id")).all()]
        connection.execute(insert(Message), [
            {"interaction_id": iid, "external_id": f"m{k}", "author_role": "customer" if k % 2 == 0 else "agent",
             "sent_at": start, "text": f"Benchmark message {k} about my bill", "attachments": [], "extra": {},
             "is_public": True} for iid in interaction_ids for k in range(4)])
    with session_factory(engine)() as session:
        report = scorecards.load_directory(session=session, directory=ROOT / "scorecards")
        card = scorecards.get_by_key(session=session, key="chat_email")
        assert card is not None and card.id is not None and report
        card_id = card.id
    engine.dispose()
    return tokens, card_id


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def start_server(app: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"], cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not start: {process.stderr.read().decode() if process.stderr else ''}")


@dataclass
class Evaluator:
    token: str
    interactions: list[int]
    step: int = 0
    evaluation_id: int | None = None
    revision: int = 0
    busy: bool = False


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    def all(self) -> list[float]:
        return [x for values in self.latencies.values() for x in values]


STEPS = ["create", "open", "save", "save", "submit"]


async def do_step(client: httpx.AsyncClient, ev: Evaluator, card_id: int, stats: Stats) -> None:
    name = STEPS[ev.step % len(STEPS)]
    headers = {"cookie": f"earshot_session={ev.token}", "x-csrf-token": CSRF}
    started = time.perf_counter()
    try:
        if name == "create":
            interaction = ev.interactions[(ev.step // len(STEPS)) % len(ev.interactions)]
            r = await client.post("/api/evaluations", json={"interaction_id": interaction, "scorecard_id": card_id},
                                  headers=headers)
            if r.status_code == 201:
                ev.evaluation_id, ev.revision = r.json()["id"], r.json()["revision"]
        elif name == "open":
            r = await client.get(f"/evaluations/{ev.evaluation_id}/edit", headers={**headers, "accept": "text/html"})
        elif name == "save":
            half = ANSWERS[:4] if ev.step % len(STEPS) == 2 else ANSWERS
            r = await client.put(f"/api/evaluations/{ev.evaluation_id}/answers",
                                 json={"revision": ev.revision, "answers": half}, headers=headers)
            if r.status_code == 200:
                ev.revision = r.json()["revision"]
        else:
            r = await client.post(f"/api/evaluations/{ev.evaluation_id}/submit", json={"revision": ev.revision},
                                  headers=headers)
        stats.latencies[name].append((time.perf_counter() - started) * 1000)
        if r.status_code >= 400:
            stats.errors.append(f"{name}: {r.status_code} {r.text[:120]}")
    except httpx.HTTPError as exc:
        stats.errors.append(f"{name}: {type(exc).__name__}")
    ev.step += 1


async def warm_up(base: str, evaluators: list[Evaluator], card_id: int) -> None:
    """Untimed: move evaluator i forward by i % 5 steps, so the measured mix is a steady state (some creating,
    some saving, some submitting) rather than 100 evaluators all creating in the same second."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for index, ev in enumerate(evaluators):
            for _ in range(index % len(STEPS)):
                await do_step(client, ev, card_id, Stats())


async def open_loop(base: str, evaluators: list[Evaluator], card_id: int, rate: float, seconds: float) -> Stats:
    stats = Stats()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:
        tasks = []
        begin = time.perf_counter()
        total = int(rate * seconds)
        skipped = 0
        for i in range(total):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            ev = evaluators[i % len(evaluators)]
            if ev.busy:  # this evaluator's previous request is still running: a human would wait too
                skipped += 1
                continue

            async def run(ev: Evaluator = ev) -> None:
                ev.busy = True
                try:
                    await do_step(client, ev, card_id, stats)
                finally:
                    ev.busy = False

            tasks.append(asyncio.create_task(run()))
        await asyncio.gather(*tasks)
        if skipped:
            stats.errors.append(f"{skipped} arrivals skipped: evaluator still waiting")
    return stats


async def closed_loop(base: str, evaluators: list[Evaluator], card_id: int, clients: int, seconds: float,
                      path: str | None = None) -> float:
    """Requests per second with `clients` workers that never pause (path: a plain POST, for the baseline)."""
    done = 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        async def worker(index: int) -> None:
            nonlocal done
            ev = evaluators[index % len(evaluators)] if evaluators else None
            while time.perf_counter() < stop:
                if path:
                    await client.post(path, json={"value": index})
                elif ev is not None:
                    await do_step(client, ev, card_id, Stats())
                done += 1

        begin = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        return done / (time.perf_counter() - begin)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def database(backend: str, workdir: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", None
    name = f"earshot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), name


def drop(name: str) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url, pg_name = database(backend, workdir)
        try:
            needed = int(args.rate * args.seconds / len(STEPS)) + int(args.saturation_seconds * 400) + EVALUATORS
            tokens, card_id = prepare(url, interactions=max(needed, 500))
            port = free_port()
            server = start_server("app.main:create_app", {"EARSHOT_DATABASE_URL": url, "EARSHOT_DATA_DIR": str(workdir),
                                                          "EARSHOT_QUEUE_URL": "immediate",
                                                          "EARSHOT_SECRET_KEY": "bench-secret-key"}, port)
            try:
                ids = list(range(1, max(needed, 500) + 1))
                evaluators = [Evaluator(token=t, interactions=ids[i::EVALUATORS]) for i, t in enumerate(tokens)]
                base = f"http://127.0.0.1:{port}"
                asyncio.run(warm_up(base, evaluators, card_id))
                stats = asyncio.run(open_loop(base, evaluators, card_id, args.rate, args.seconds))
                saturation = asyncio.run(closed_loop(base, evaluators, card_id, 32, args.saturation_seconds))
            finally:
                stop_server(server)
        finally:
            if pg_name:
                drop(pg_name)
    latencies = stats.all()
    return {"backend": backend, "requests": len(latencies), "errors": stats.errors,
            "p50": pct(latencies, 0.50), "p99": pct(latencies, 0.99),
            "per_step": {k: (len(v), pct(v, 0.5), pct(v, 0.99)) for k, v in stats.latencies.items()},
            "saturation": saturation}


def run_baseline(args: argparse.Namespace) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server("bench._baseline_app:create_app", {"BENCH_BASELINE_DB": str(Path(tmp) / "base.db")}, port)
        try:
            return asyncio.run(closed_loop(f"http://127.0.0.1:{port}", [], 0, 32, args.saturation_seconds,
                                           path="/insert"))
        finally:
            stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--saturation-seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(f"load average before the run: {os.getloadavg()[0]:.1f} (2 cores; other work on the machine skews results)")
    baseline = run_baseline(args)
    print(f"baseline (bare FastAPI + SQLite insert, 32 clients closed loop): {baseline:.0f} requests/s")
    for backend in args.backends.split(","):
        result = run_backend(backend.strip(), args)
        print(f"\n{backend}: open loop {args.rate:.0f} requests/s for {args.seconds:.0f} s -> {result['requests']} "
              f"requests, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, errors {len(result['errors'])}")
        for step, (n, p50, p99) in sorted(result["per_step"].items()):
            print(f"  {step:<7} n={n:<5} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
        for error in result["errors"][:5]:
            print(f"  error: {error}")
        print(f"  saturation (32 clients closed loop, same mix): {result['saturation']:.0f} requests/s "
              f"= {result['saturation'] / baseline:.2f} x the bare baseline")


if __name__ == "__main__":
    main()
