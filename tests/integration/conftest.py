"""Fixtures of the integration tests that need Earshot on a database of its own (SQLite file or PostgreSQL
database), opened by the app with its real engine and connection pool: tests that send simultaneous requests
(the per-test shared connection of tests/conftest.py would serialise them). Helpers: server_support.py."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.migrate import upgrade
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import create_postgres_database, drop_postgres_database, make_settings


@pytest.fixture
def server_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own, migrated, that the app opens with its real engine and connection pool."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'server.db'}"
        upgrade(url)
        yield url
        return
    pg_url = create_postgres_database("concurrent")
    if pg_url is None:
        pytest.skip("PostgreSQL is not reachable")
    upgrade(pg_url)
    yield pg_url
    drop_postgres_database(pg_url)


@pytest.fixture
def server_settings(server_url: str, tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", database_url=server_url)


@pytest.fixture
def server(server_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(server_settings)) as client:
        yield client
