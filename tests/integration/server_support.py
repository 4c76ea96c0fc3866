"""Helpers for tests against a server database of its own (fixtures in conftest.py): users, plain SQL
queries, signing in through the API, sending requests at once."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.auth import service as auth_service
from app.auth.models import UserCreate
from app.core.db import make_engine, session_factory, session_scope
from app.core.security import make_password_hasher
from app.core.settings import Settings
from tests.conftest import TEST_PASSWORD


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


def sign_in_as(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    return {"x-csrf-token": response.json()["csrf_token"],
            "cookie": f"earshot_session={response.cookies['earshot_session']}"}


def at_once(call: Callable[[int], Any], times: int) -> list[Any]:
    """`call(0)` … `call(times - 1)` in as many threads at once; their answers in that order."""
    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(call, range(times)))
