"""Simultaneous requests against a real server database (not the per-test shared connection): sign-in
throttle counting, write transactions and audited reads under concurrent writers, on SQLite and PostgreSQL."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.auth import service as auth_service
from app.auth.models import UserCreate
from app.core.db import make_engine, session_factory, session_scope
from app.core.migrate import upgrade
from app.core.security import make_password_hasher
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import TEST_PASSWORD, create_postgres_database, drop_postgres_database, make_settings


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


def add_user(settings: Settings, username: str, roles: list[str]) -> None:
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(session_factory(engine)) as session:
            auth_service.create_user(session=session, hasher=make_password_hasher(settings), actor=None,
                                     data=UserCreate(username=username, password=TEST_PASSWORD,
                                                     display_name=username.title(), roles=roles))
    finally:
        engine.dispose()


def query(settings: Settings, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())
    finally:
        engine.dispose()


def test_thirty_simultaneous_wrong_passwords_are_each_counted_and_lock_the_user_out(server, server_settings):
    add_user(server_settings, "ada", ["agent"])
    attempts = 32

    def wrong() -> int:
        return server.post("/api/auth/login", json={"username": "ada", "password": "wrong password"}).status_code

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        statuses = list(pool.map(lambda _: wrong(), range(attempts)))
    assert 500 not in statuses and set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) >= server_settings.login_max_failures
    counted = dict(query(server_settings, "SELECT username, failures FROM login_throttle"))
    # every failure that got past the lock-out check was counted: no lost update, no duplicate-row error
    assert counted["user:ada"] == statuses.count(401)
    assert counted["addr:testclient"] == statuses.count(401)
    right = server.post("/api/auth/login", json={"username": "ada", "password": TEST_PASSWORD})
    assert right.status_code == 429  # the lock-out holds even for the right password
    failed_audits = query(server_settings, "SELECT count(*) FROM audit_event WHERE action = 'auth.login_failed'")
    assert failed_audits[0][0] == statuses.count(401)


def test_failures_from_one_address_over_many_usernames_lock_that_address(server, server_settings, monkeypatch):
    server.app.state.settings.login_max_failures_per_address = 6
    add_user(server_settings, "bea", ["agent"])
    for n in range(6):
        refused = server.post("/api/auth/login", json={"username": f"guess{n}", "password": "x"})
        assert refused.status_code == 401
    blocked = server.post("/api/auth/login", json={"username": "bea", "password": TEST_PASSWORD})
    assert blocked.status_code == 429
