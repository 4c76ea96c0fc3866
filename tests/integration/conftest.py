"""Fixtures of the integration tests that need Earshot on a database of its own (SQLite file or PostgreSQL
database), opened by the app with its real engine and connection pool: tests that send simultaneous requests
(the per-test shared connection of tests/conftest.py would serialise them). Helpers: server_support.py."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import make_settings, migrated_database


@pytest.fixture
def server_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own, migrated, that the app opens with its real engine and connection pool."""
    yield from migrated_database(backend, tmp_path, "server")


@pytest.fixture
def server_settings(server_url: str, tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", database_url=server_url)


@pytest.fixture
def server(server_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(server_settings)) as client:
        yield client
