"""The baseline for bench/evaluations.py: a bare FastAPI app inserting one row into SQLite (WAL) per request."""

import os
import sqlite3
import threading

from fastapi import FastAPI

_local = threading.local()


def _connection() -> sqlite3.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect(os.environ["BENCH_BASELINE_DB"], check_same_thread=False)
        connection.execute("PRAGMA busy_timeout=5000")
        connection.execute("PRAGMA synchronous=NORMAL")
        _local.connection = connection
    return connection


def create_app() -> FastAPI:
    setup = sqlite3.connect(os.environ["BENCH_BASELINE_DB"])
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE IF NOT EXISTS row (id INTEGER PRIMARY KEY, value INTEGER)")
    setup.close()
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/insert")
    def insert(body: dict[str, int]) -> dict[str, int]:
        connection = _connection()
        cursor = connection.execute("INSERT INTO row (value) VALUES (?)", (body.get("value", 0),))
        connection.commit()
        return {"id": int(cursor.lastrowid or 0)}

    return app
