"""A big survey import on SQLite while people keep working: sign-ins and evaluation submits must keep
p99 < 1 s and never answer 503.

    .venv/bin/python bench/import_load.py [--rows 100000] [--rate 6] [--baseline 15] [--max-import 1800]

A fresh data directory with a SQLite database (WAL) and the default Huey-on-SQLite queue, migrated, with the
demo accounts and scorecards, 20 evaluator accounts and 400 generated chat conversations (bench/load.py's
seed). ONE server (uvicorn) and ONE worker (`earshot worker`) start as subprocesses, as in production.

The generator (this process, httpx + asyncio) sends an open-loop stream at `--rate` arrivals/s, half sign-ins
(POST /api/auth/login of an evaluator) and half evaluation steps (create -> save answers -> submit, each
evaluator one evaluation at a time), first for `--baseline` seconds with nothing else running, then while
an admin uploads a `--rows`-row survey CSV (POST /api/surveys/sources/{id}/upload: the request checks and
stores the file, the worker imports it as a `surveys.import` job committing after each 0.2 s of writing,
then pausing) until the job has finished. The CSV is a month of invitations (30 % answered, a fifth of those
bad, so review cases open too) of customers who have chats in the database, so answered rows are linked by
the e-mail window as in real use.

Printed: the machine's load average (before, after, and min/mean/max sampled every second during the
import: the machine is shared), the import's duration and rows/s, and for each phase and class: count, p50,
p99, max, 503s and other errors. The bench exits 1 when sign-in or evaluation p99 during the import is 1 s
or more, or any request answered 503.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (bench/load.py: target, seed, server and worker processes)


def survey_csv(rows: int) -> bytes:
    """`rows` invitations over the last 30 days; 30 % answered (a fifth of those bad)."""
    start = datetime.now(UTC) - timedelta(days=30)
    lines = ["response_id,invited_at,responded_at,customer_email,rating,comment"]
    for n in range(rows):
        invited = start + timedelta(seconds=n * 30 * 86400 // max(rows, 1))
        answered = n % 10 < 3
        rating = ("bad" if n % 5 == 0 else "good") if answered else ""
        responded = (invited + timedelta(hours=2)).isoformat() if answered else ""
        comment = "Took three calls to sort out my bill" if rating == "bad" else ("Fine" if answered else "")
        lines.append(f"bench-{n},{invited.isoformat()},{responded},cust{n % 500}@example.com,{rating},{comment}")
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Phase:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    samples: list[str] = field(default_factory=list)


class Traffic:
    def __init__(self, spec: dict[str, Any], base: str) -> None:
        self.spec, self.base = spec, base
        self.evaluators = [load.User(u, todo=list(spec["to_evaluate"][u])) for u, _ in spec["evaluators"]]
        self.passwords = dict(map(tuple, spec["evaluators"] + spec["staff"]))
        self.turn = 0
        self.phase = Phase()

    async def timed(self, client: httpx.AsyncClient, kind: str, method: str, path: str,
                    **kwargs: Any) -> httpx.Response | None:
        started = time.perf_counter()
        phase = self.phase
        try:
            r = await client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            phase.latencies[kind].append((time.perf_counter() - started) * 1000)
            phase.statuses[kind][type(exc).__name__] += 1
            phase.samples.append(f"{kind}: {type(exc).__name__}")
            return None
        phase.latencies[kind].append((time.perf_counter() - started) * 1000)
        phase.statuses[kind][str(r.status_code)] += 1
        if not 200 <= r.status_code < 300:
            phase.samples.append(f"{kind}: {r.status_code} {r.text[:160]}")
            return None
        return r

    async def sign_in(self, client: httpx.AsyncClient) -> None:
        user = self.evaluators[self.turn % len(self.evaluators)]
        await self.timed(client, "sign-in", "POST", "/api/auth/login",
                         json={"username": user.username, "password": self.passwords[user.username]})

    async def evaluate(self, client: httpx.AsyncClient) -> None:
        user = next((u for u in self.evaluators if not u.busy and u.step % 3), None) or next(
            (u for u in self.evaluators if not u.busy and u.todo), None)
        if user is None:
            return
        user.busy = True
        try:
            step = user.step % 3
            if step == 0:
                r = await self.timed(client, "evaluation create", "POST", "/api/evaluations", headers=user.headers(),
                                     json={"interaction_id": user.todo.pop(0), "scorecard_id": self.spec["scorecard_id"]})
                if r is None:
                    return
                user.evaluation_id, user.revision = r.json()["id"], r.json()["revision"]
            elif step == 1:
                r = await self.timed(client, "evaluation save", "PUT", f"/api/evaluations/{user.evaluation_id}/answers",
                                     headers=user.headers(), json={"revision": user.revision, "answers": load.ANSWERS})
                if r is None:
                    user.step = 0
                    return
                user.revision = r.json()["revision"]
            else:
                await self.timed(client, "evaluation submit", "POST", f"/api/evaluations/{user.evaluation_id}/submit",
                                 headers=user.headers(), json={"revision": user.revision})
            user.step += 1
        finally:
            user.busy = False

    async def arrivals(self, client: httpx.AsyncClient, rate: float, until: Any) -> None:
        """Open loop: one arrival every 1/rate s (sign-in and evaluation step in turn) while `until()` is False."""
        tasks: list[asyncio.Task[None]] = []
        begin = time.perf_counter()
        i = 0
        while not until():
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.turn += 1
            tasks.append(asyncio.create_task(self.sign_in(client) if i % 2 == 0 else self.evaluate(client)))
            i += 1
        await asyncio.gather(*tasks)


async def run(spec: dict[str, Any], base: str, options: argparse.Namespace) -> dict[str, Any]:
    traffic = Traffic(spec, base)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        for user in traffic.evaluators:  # each evaluator's own session for evaluations
            r = await client.post("/api/auth/login", json={"username": user.username,
                                                           "password": traffic.passwords[user.username]})
            r.raise_for_status()
            user.cookie, user.csrf = r.cookies["earshot_session"], r.json()["csrf_token"]
        admin = await client.post("/api/auth/login", json={"username": "admin", "password": load.DEMO_PASSWORD})
        admin.raise_for_status()
        admin_headers = {"cookie": f"earshot_session={admin.cookies['earshot_session']}",
                         "x-csrf-token": admin.json()["csrf_token"]}
        created = await client.post("/api/surveys/sources", json={"name": "bench"}, headers=admin_headers)
        created.raise_for_status()
        for _ in range(6):  # warm-up, untimed
            await traffic.sign_in(client)
            await traffic.evaluate(client)
        traffic.phase = Phase()
        end = time.monotonic() + options.baseline
        await traffic.arrivals(client, options.rate, lambda: time.monotonic() >= end)
        baseline = traffic.phase

        traffic.phase = Phase()
        body = survey_csv(options.rows)
        state: dict[str, Any] = {"status": "uploading", "progress": 0.0}

        async def import_and_follow() -> None:
            started = time.perf_counter()
            state["load"] = [os.getloadavg()[0]]
            r = await client.post(f"/api/surveys/sources/{created.json()['id']}/upload", headers=admin_headers,
                                  files={"file": ("month.csv", body, "text/csv")})
            state["upload_ms"] = (time.perf_counter() - started) * 1000
            if r.status_code != 202:
                state.update(status="refused", error=r.text[:300])
                return
            deadline = time.monotonic() + options.max_import
            while time.monotonic() < deadline:
                job = (await client.get(r.json()["url"], headers=admin_headers)).json()
                state.update(status=job["status"], progress=job["progress"], result=job.get("result"),
                             error=job.get("error"))
                if job["status"] in ("done", "failed"):
                    break
                state["load"].append(os.getloadavg()[0])
                await asyncio.sleep(1)
            state["seconds"] = time.perf_counter() - started

        follower = asyncio.create_task(import_and_follow())
        await traffic.arrivals(client, options.rate, follower.done)
        await follower
        during = traffic.phase
    return {"baseline": baseline, "during": during, "import": state}


def pct(values: list[float], q: float) -> float:
    return load.pct(values, q) if values else 0.0


def table(title: str, phase: Phase) -> list[str]:
    lines = [f"{title}", f"  {'class':20} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'503':>5} {'other errors':>12}"]
    for kind in sorted(phase.latencies):
        values, statuses = phase.latencies[kind], phase.statuses[kind]
        other = sum(n for s, n in statuses.items() if not s.startswith("2") and s != "503")
        lines.append(f"  {kind:20} {len(values):6d} {pct(values, 0.5):8.0f} {pct(values, 0.99):8.0f} "
                     f"{max(values):8.0f} {statuses.get('503', 0):5d} {other:12d}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=6.0, help="arrivals per second (sign-ins + evaluation steps)")
    parser.add_argument("--baseline", type=float, default=15.0, help="seconds of load before the import")
    parser.add_argument("--max-import", type=float, default=1800.0, help="give up following the job after this")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="earshot-import-load-") as tmp:
        target = load.make_target("sqlite", Path(tmp))
        server = worker = None
        try:
            spec = load.seed(target, evaluators=20, conversations=400, full_demo=False)
            port = load.free_port()
            base = f"http://127.0.0.1:{port}"
            server = load.start(target, ["-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
                                         "--port", str(port), "--log-level", "warning", "--no-access-log"], "server.log")
            worker = load.start(target, ["-c", "from app.cli import main; main()", "worker"], "worker.log")
            load.wait_healthy(base, server, target.workdir / "server.log")
            load_before = os.getloadavg()[0]
            result = asyncio.run(run(spec, base, options))
            load_after = os.getloadavg()[0]
        finally:
            for process in (server, worker):
                if process is not None:
                    load.stop(process)
    state = result["import"]
    report = state.get("result") or {}
    rows_per_s = options.rows / state["seconds"] if state.get("seconds") else 0.0
    print(f"SQLite, one server + one worker, {options.rate:g} arrivals/s (sign-ins and evaluation steps), "
          f"load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores")
    loads = state.get("load") or [0.0]
    print(f"machine load during the import (1-minute load average, sampled every second): min {min(loads):.1f}, "
          f"mean {sum(loads) / len(loads):.1f}, max {max(loads):.1f}")
    print(f"import of {options.rows:,} survey rows: {state['status']} in {state.get('seconds', 0):.1f} s "
          f"({rows_per_s:,.0f} rows/s; upload request {state.get('upload_ms', 0):.0f} ms); created "
          f"{report.get('created')}, rejected {len(report.get('rejected') or [])}, review cases opened "
          f"{report.get('cases_opened')}" + (f"; error: {state.get('error')}" if state.get("error") else ""))
    for line in table(f"before the import ({options.baseline:g} s):", result["baseline"]) + table(
            "during the import:", result["during"]):
        print(line)
    during: Phase = result["during"]
    watched = [k for k in during.latencies if k == "sign-in" or k.startswith("evaluation")]
    failures = [f"{k} p99 {pct(during.latencies[k], 0.99):.0f} ms" for k in watched
                if pct(during.latencies[k], 0.99) >= 1000]
    failures += [f"{k}: {n} x 503" for k in during.statuses for s, n in during.statuses[k].items() if s == "503"]
    if state["status"] != "done":
        failures.append(f"the import job is {state['status']}")
    for sample in (result["baseline"].samples + during.samples)[:5]:
        print(f"  sample error: {sample}")
    print("PASS: sign-in and evaluation p99 < 1 s, no 503, during the import" if not failures
          else "FAIL: " + "; ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
