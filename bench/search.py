"""Search benchmark: generate N interactions of contact-center text, then time searches through the real
`app.interactions.search.search()` on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

    .venv/bin/python bench/search.py --sizes 10000,100000 [--backends sqlite,postgresql] [--runs 30]

Prints the ingest rate (interactions/s, including the full-text index) and p50/p95 latency per query, with
and without filters, in both orders. Target: p95 < 50 ms at 1 M interactions on SQLite.
A quarter of the generated interactions are Cantonese or mixed Cantonese/English (Traditional characters,
no spaces), so Chinese queries (斷線, 將軍澳, one character, Simplified input) are timed beside English ones.

    .venv/bin/python bench/search.py --labelled [--backends sqlite,postgresql]

measures recall and precision on the labelled mixed-language set tests/fixtures/search_zh_labelled.json
(messages, queries and the messages each query should find) instead.
Each size uses a fresh database (a temp SQLite file; a throw-away PostgreSQL database beside
EARSHOT_BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.auth.models import User  # noqa: E402
from app.core.db import make_engine  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.core.security import Principal, Role  # noqa: E402
from app.interactions import search  # noqa: E402
from app.interactions.models import Customer, Interaction, InteractionAgent, SearchDocument  # noqa: E402

POSTGRES_URL = os.environ.get("EARSHOT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BATCH = 10_000
AGENTS = 50
START = datetime(2025, 12, 1, tzinfo=UTC)
SPAN_SECONDS = 365 * 24 * 3600

COMMON = ["refund", "account", "bill", "payment", "broadband", "router", "line", "internet", "speed", "engineer", "appointment", "contract", "upgrade", "cancel", "charge", "fee", "late", "invoice", "direct", "debit", "balance", "credit", "card", "address", "password", "reset", "login", "app", "signal", "outage", "fault", "slow", "connection", "wifi", "phone", "mobile", "data", "roaming", "number", "transfer", "manager", "complaint", "delivery", "order", "parcel", "missing", "damaged", "replacement", "warranty", "discount", "offer", "price", "plan", "tariff", "minutes", "texts", "sim", "activation", "porting"]
FILLER = ["i", "you", "we", "the", "a", "to", "and", "is", "it", "my", "your", "for", "on", "with", "that", "this", "have", "can", "not", "please", "thanks", "thank", "hello", "hi", "sorry", "help", "understand", "check", "see", "will", "just", "again", "today", "yesterday", "week", "month", "still", "already", "would", "could", "should", "need", "want", "get", "got", "been", "was", "were", "be", "do", "did", "does", "what", "when", "why", "how", "sure", "okay", "right", "there", "here", "now"]
PHRASES = ["late fee", "direct debit", "credit card", "speed test", "line test", "cancel my contract",
           "engineer visit", "verify your identity", "date of birth", "post code"]
CHANNELS = ["call", "call", "chat", "email", "social"]
CHINESE_SHARE = 0.25
COMMON_ZH = ["斷線", "退款", "帳單", "寬頻", "上網", "網速", "師傅", "預約", "合約", "續約", "取消", "收費", "月費", "信用卡",
             "地址", "密碼", "登入", "訊號", "手機", "數據", "漫遊", "號碼", "投訴", "經理", "送貨", "包裹", "保養", "折扣",
             "優惠", "價錢", "計劃"]
FILLER_ZH = ["我", "你", "佢", "係", "唔", "喺", "嘅", "咗", "好", "想", "問", "一下", "唔該", "多謝", "即係", "而家", "今日",
             "尋日", "已經", "仲", "都", "要", "可以", "幫", "睇", "查", "啦", "呀", "喎", "，", "。"]
PLACES_ZH = ["旺角", "沙田", "將軍澳", "觀塘", "銅鑼灣", "荃灣", "屯門", "元朗", "大埔", "西貢"]
MIXED_EN = ["router", "wifi", "app", "check", "account", "ok", "sim", "plan"]
LABELLED = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "search_zh_labelled.json"


def documents(n: int, seed: int = 7) -> Iterator[tuple[dict[str, Any], dict[str, Any], int]]:
    """(interaction row, search_document row, agent id) for ids 1..n, deterministic."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(COMMON))]
    for i in range(1, n + 1):
        started = START + timedelta(seconds=int(SPAN_SECONDS * i / n) + rng.randint(0, 60))
        if rng.random() < CHINESE_SHARE:
            body = _cantonese(rng) + f" ref{rng.randint(0, n // 5):06d}"
        else:
            words = rng.choices(FILLER, k=24) + rng.choices(COMMON, weights=weights, k=14)
            if rng.random() < 0.4:
                words.append("refund")
            rng.shuffle(words)
            if rng.random() < 0.06:
                words.insert(rng.randint(0, len(words)), rng.choice(PHRASES))
            words.append(f"ref{rng.randint(0, n // 5):06d}")
            body = " ".join(words)
        agent = rng.randint(1, AGENTS)
        channel = rng.choice(CHANNELS)
        interaction = {"id": i, "channel": channel, "direction": "inbound", "started_at": started,
                       "customer_id": rng.randint(1, max(1, n // 10)), "agent_id": agent,
                       "queue": f"queue{agent % 8}", "source": "bench", "external_id": f"b{i}", "extra": {},
                       "created_at": started}
        key = int(started.timestamp()) * search.KEY_SCALE + i % search.KEY_SCALE
        document = {"interaction_id": i, "sort_key": key, "body": body, "terms": search._terms(body),
                    "updated_at": started}
        yield interaction, document, agent


def _cantonese(rng: random.Random) -> str:
    """A Cantonese chat line of ~60 characters, no spaces, a few English words mixed in; 斷線 in ~40 %."""
    words = rng.choices(FILLER_ZH, k=22) + rng.choices(COMMON_ZH, k=8) + rng.choices(MIXED_EN, k=rng.randint(0, 3))
    if rng.random() < 0.4:
        words.append("斷線")
    words.append(rng.choice(PLACES_ZH))
    rng.shuffle(words)
    return "".join(w if not w.isascii() else f" {w} " for w in words)


def load(engine: Engine, n: int) -> float:
    """Insert n interactions (with their search documents); returns interactions per second."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(insert(User), [
            {"id": a, "username": f"bench_agent{a}", "display_name": f"Agent {a}", "roles": "agent",
             "is_active": True, "password_hash": "x", "created_at": now} for a in range(1, AGENTS + 1)])
        for start in range(1, max(1, n // 10) + 1, BATCH):
            connection.execute(insert(Customer), [{"id": c, "display_name": f"Customer {c}", "created_at": now}
                                                  for c in range(start, min(start + BATCH, n // 10 + 1))])
    began = time.perf_counter()
    batch_i, batch_d, batch_a = [], [], []
    for interaction, document, agent in documents(n):
        batch_i.append(interaction)
        batch_d.append(document)
        batch_a.append({"interaction_id": interaction["id"], "agent_id": agent})
        if len(batch_i) == BATCH:
            _flush(engine, batch_i, batch_d, batch_a)
            batch_i, batch_d, batch_a = [], [], []
    if batch_i:
        _flush(engine, batch_i, batch_d, batch_a)
    elapsed = time.perf_counter() - began
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
            connection.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return n / elapsed


def _flush(engine: Engine, interactions: list[dict[str, Any]], documents_: list[dict[str, Any]],
           agents: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(insert(Interaction), interactions)
        connection.execute(insert(InteractionAgent), agents)
        connection.execute(insert(SearchDocument), documents_)


def queries(n: int) -> list[tuple[str, Callable[[random.Random], dict[str, Any]]]]:
    last_month = (START + timedelta(seconds=SPAN_SECONDS - 30 * 86400)).date()
    return [
        ("rare ref code", lambda r: {"q": f"ref{r.randint(0, n // 5):06d}"}),
        ("common (refund)", lambda r: {"q": "refund"}),
        ("two common", lambda r: {"q": "refund broadband"}),
        ('phrase "late fee"', lambda r: {"q": '"late fee"'}),
        ("prefix engin*", lambda r: {"q": "engin*"}),
        ("refund + channel=call", lambda r: {"q": "refund", "channel": "call"}),
        ("refund + last 30 days", lambda r: {"q": "refund", "date_from": last_month}),
        ("refund + agent", lambda r: {"q": "refund", "agent_id": r.randint(1, AGENTS)}),
        ("refund + queue", lambda r: {"q": "refund", "queue": f"queue{r.randint(0, 7)}"}),
        ("refund + customer", lambda r: {"q": "refund", "customer_id": r.randint(1, max(1, n // 10))}),
        ("refund, agent's own scope", lambda r: {"q": "refund", "principal": _agent(r.randint(1, AGENTS))}),
        ("refund, page 5", lambda r: {"q": "refund", "page": 5}),
        ("zh common (斷線)", lambda r: {"q": "斷線"}),
        ("zh Simplified (断线)", lambda r: {"q": "断线"}),
        ("zh place (將軍澳)", lambda r: {"q": "將軍澳"}),
        ("zh one character (線)", lambda r: {"q": "線"}),
        ("zh + English (router 斷線)", lambda r: {"q": "router 斷線"}),
        ("zh + channel=call", lambda r: {"q": "斷線", "channel": "call"}),
    ]


def _agent(user_id: int) -> Principal:
    return Principal(user_id=user_id, username=f"bench_agent{user_id}", display_name="", roles=frozenset({Role.AGENT}))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def measure(engine: Engine, n: int, runs: int) -> list[tuple[str, str, float, float, float, float, int]]:
    """Wall-clock and CPU p50/p95 per query. CPU time is this process's (SQLite runs in it; for PostgreSQL
    it is only the client side) and shows the work done when the machine is shared and wall time is noisy."""
    rng = random.Random(11)
    out = []
    with Session(engine) as session:
        for name, make in queries(n):
            for order in ("newest", "relevance"):
                wall, cpu, total = [], [], 0
                for _ in range(runs):
                    args = make(rng)
                    principal = args.pop("principal", None)
                    began, began_cpu = time.perf_counter(), time.process_time()
                    result = search.search(session=session, principal=principal, order=order, **args)
                    wall.append((time.perf_counter() - began) * 1000)
                    cpu.append((time.process_time() - began_cpu) * 1000)
                    total = result.total
                out.append((name, order, statistics.median(wall), _p95(wall), statistics.median(cpu), _p95(cpu),
                            total))
    return out


def fresh_database(backend: str, workdir: Path, size: int, keep: bool) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        if keep:  # reused by later runs with --keep (the load is skipped when the file is complete)
            return f"sqlite:///{workdir / f'bench-{size}.db'}", lambda: None
        path = workdir / f"bench-{uuid.uuid4().hex[:6]}.db"
        return f"sqlite:///{path}", lambda: [p.unlink(missing_ok=True) for p in workdir.glob(path.name + "*")]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"earshot_bench_keep_{size}" if keep else f"earshot_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    if keep:  # reused by later runs with --keep, like the SQLite file
        admin.dispose()
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), lambda: None

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), drop


def labelled(engine: Engine) -> list[tuple[str, int, int, int]]:
    """(query, relevant, found, correct) for each query of the labelled set, searched through search()."""
    import json

    from app.interactions import service
    from app.interactions.service import InteractionData, MessageData

    data = json.loads(LABELLED.read_text(encoding="utf-8"))
    with Session(engine) as session:
        for n, message in enumerate(data["messages"]):
            at = START + timedelta(minutes=n)
            service.upsert_interaction(session=session, data=InteractionData(
                source="labelled", external_id=message["id"], channel="chat", started_at=at,
                messages=[MessageData(external_id="m", author_role="customer", sent_at=at, text=message["text"])]))
        session.commit()
        out = []
        for query in data["queries"]:
            result = search.search(session=session, principal=None, q=query["q"], order="newest", per_page=100)
            found = {hit.interaction.external_id for hit in result.items}
            expected = set(query["expect"])
            out.append((query["q"], len(expected), len(found), len(found & expected)))
    return out


def print_labelled(rows: list[tuple[str, int, int, int]]) -> None:
    print(f"{'query':<14} {'relevant':>8} {'found':>6} {'correct':>7} {'recall':>7} {'precision':>9}")
    for q, relevant, found, correct in rows:
        print(f"{q:<14} {relevant:>8} {found:>6} {correct:>7} {correct / max(1, relevant):>7.2f} "
              f"{correct / found if found else 1.0:>9.2f}")
    relevant, found, correct = (sum(r[i] for r in rows) for i in (1, 2, 3))
    print(f"{'all (micro)':<14} {relevant:>8} {found:>6} {correct:>7} {correct / relevant:>7.3f} {correct / found:>9.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--keep", action="store_true", help="keep the generated database (SQLite: in --workdir; "
                                                            "PostgreSQL: earshot_bench_keep_SIZE) and reuse it "
                                                            "on the next run (only the queries run)")
    parser.add_argument("--labelled", action="store_true", help="recall/precision on the labelled set instead")
    args = parser.parse_args()
    if args.labelled:
        for backend in args.backends.split(","):
            url, cleanup = fresh_database(backend, args.workdir, 0, False)
            try:
                upgrade(url)
                engine = make_engine(url)
                print(f"\n== {backend} · labelled set {LABELLED.name}")
                print_labelled(labelled(engine))
                engine.dispose()
            finally:
                cleanup()
        return
    for size in [int(s) for s in args.sizes.split(",")]:
        for backend in args.backends.split(","):
            url, cleanup = fresh_database(backend, args.workdir, size, args.keep)
            try:
                upgrade(url)
                engine = make_engine(url)
                with engine.connect() as connection:
                    loaded = connection.execute(text("SELECT count(*) FROM search_document")).scalar_one()
                if loaded == size:
                    rate_text = "reused the database of an earlier run"
                else:
                    rate_text = f"ingest {load(engine, size):,.0f} interactions/s (search document + full-text index)"
                print(f"\n== {backend} · {size:,} interactions · {rate_text}", flush=True)
                load_average = os.getloadavg()[0]
                print(f"(load average {load_average:.1f} on {os.cpu_count()} CPUs while measuring)")
                print(f"{'query':<28} {'order':<10} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8} "
                      f"{'total':>8}")
                for name, order, p50, p95, c50, c95, total in measure(engine, size, args.runs):
                    print(f"{name:<28} {order:<10} {p50:>8.1f} {p95:>8.1f} {c50:>8.1f} {c95:>8.1f} {total:>8}",
                          flush=True)
                engine.dispose()
            finally:
                cleanup()


if __name__ == "__main__":
    main()
