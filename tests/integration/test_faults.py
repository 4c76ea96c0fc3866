"""Faults: a locked database gives a clean 503 and writes nothing half-way."""

import sqlite3

from fastapi.testclient import TestClient

from app.core.migrate import upgrade
from app.main import create_app
from tests.conftest import make_settings


def test_locked_sqlite_database_answers_503_with_the_error_shape(tmp_path):
    settings = make_settings(tmp_path / "data", database_busy_timeout_ms=200)
    upgrade(settings.resolved_database_url)
    app = create_app(settings)
    blocker = sqlite3.connect(settings.resolved_data_dir / "earshot.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        with TestClient(app) as client:
            response = client.post("/api/auth/login", json={"username": "nobody", "password": "whatever-x"})
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "service_unavailable"
            assert response.headers["retry-after"] == "2"
            assert client.get("/readyz").status_code == 200  # WAL: readers are not blocked by the writer
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with TestClient(app) as client:  # lock gone: the same request gets its normal answer
        assert client.post("/api/auth/login", json={"username": "nobody", "password": "whatever-x"}).status_code == 401
