"""Bounded in-flight requests: past the per-process limit a request is refused at once with 503 and
Retry-After instead of queueing; the process keeps answering /healthz; room frees as requests finish."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_requests_over_the_limit_are_refused_at_once_with_retry_after(tmp_path, sessions, queue):
    app = create_app(make_settings(tmp_path / "data", max_in_flight_requests=2), sessions=sessions, queue=queue)
    release, arrived = threading.Event(), threading.Semaphore(0)

    @app.get("/slow")
    def slow() -> dict[str, bool]:
        arrived.release()
        return {"released": release.wait(timeout=10)}

    with TestClient(app) as client, ThreadPoolExecutor(max_workers=2) as pool:
        busy = [pool.submit(client.get, "/slow") for _ in range(2)]
        for _ in range(2):
            assert arrived.acquire(timeout=10)
        started = time.monotonic()
        refused = client.get("/api/me")
        assert time.monotonic() - started < 1.0
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["code"] == "service_unavailable"
        assert client.get("/healthz").status_code == 200  # liveness is not capacity
        release.set()
        assert [f.result().json() for f in busy] == [{"released": True}] * 2
        assert client.get("/api/me").status_code == 401  # room again: answered normally
