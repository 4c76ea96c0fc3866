"""Test fixtures: real SQLite and real PostgreSQL, each built once per run by the real migrations,
and every test wrapped in a transaction rolled back at its end."""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from huey import MemoryHuey
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.auth import service as auth_service
from app.auth.models import User, UserCreate
from app.core.db import make_engine
from app.core.hooks import load_hooks
from app.core.jobs import JobQueue, Runtime
from app.core.migrate import upgrade
from app.core.security import make_password_hasher
from app.core.settings import Settings
from app.main import create_app

POSTGRES_URL = os.environ.get("EARSHOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_PASSWORD = "correct horse battery"
BACKENDS = ["sqlite", "postgresql"]

load_hooks()  # tests call services directly: they get the features' hook handlers as the app's entry points do


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.fspath)
        if f"{os.sep}integration{os.sep}" in path:
            item.add_marker(pytest.mark.integration)
        if f"{os.sep}browser{os.sep}" in path:
            item.add_marker(pytest.mark.browser)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir, "queue_url": "immediate", "secret_key": "test-secret-key-not-for-production",
        "password_hash_time_cost": 1, "password_hash_memory_kib": 1024,
        "speech_model": "tiny.en",  # the light model keeps the suite quick; test_speech_offline loads base
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# ---------------------------------------------------------------- databases built once per run

@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'earshot.db'}"
    upgrade(url)
    return url


def create_postgres_database(suffix: str) -> str | None:
    """A fresh database beside `test` (so parallel runs never collide); None when PostgreSQL is down."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"earshot_t_{os.getpid()}_{suffix}_{uuid.uuid4().hex[:6]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if IN_CI:
            raise RuntimeError(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}") from exc
        return None
    finally:
        admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def migrated_database(backend: str, directory: Path, name: str) -> Iterator[str]:
    """For a fixture to yield from: a migrated database of its own — a SQLite file in `directory`, or a fresh
    PostgreSQL database (skipped when PostgreSQL is down outside CI), dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / f'{name}.db'}"
        upgrade(url)
        yield url
        return
    pg_url = create_postgres_database(name)
    if pg_url is None:
        pytest.skip("PostgreSQL is not reachable")
    upgrade(pg_url)
    yield pg_url
    drop_postgres_database(pg_url)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = create_postgres_database("main")
    if url is None:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL} (set EARSHOT_TEST_POSTGRES_URL)")
    upgrade(url)
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def engines() -> Iterator[dict[str, Engine]]:
    cache: dict[str, Engine] = {}
    yield cache
    for engine in cache.values():
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_engine(backend: str, request: pytest.FixtureRequest, engines: dict[str, Engine]) -> Engine:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    if backend not in engines:
        engines[backend] = make_engine(url)
    return engines[backend]


# ---------------------------------------------------------------- per-test isolation

@pytest.fixture
def connection(db_engine: Engine) -> Iterator[Any]:
    with db_engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def statements(connection: Any) -> Iterator[list[str]]:
    """Every SQL statement the test's connection sends while the test runs, in order."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    yield seen
    event.remove(connection, "before_cursor_execute", count)


@pytest.fixture
def sessions(connection: Any) -> Callable[[], Session]:
    """Sessions that share the test's connection; their commits become SAVEPOINT releases."""

    def make() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    return make


@pytest.fixture
def session(sessions: Callable[[], Session]) -> Iterator[Session]:
    s = sessions()
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def runtime(settings: Settings, db_engine: Engine, sessions: Callable[[], Session]) -> Runtime:
    return Runtime(settings=settings, engine=db_engine, sessions=sessions)


@pytest.fixture
def queue(runtime: Runtime) -> JobQueue:
    """Jobs run inline (Huey immediate mode) against the test's transaction."""
    return JobQueue(runtime, MemoryHuey(f"test-{uuid.uuid4().hex}", immediate=True, results=False))


@pytest.fixture
def app(settings: Settings, sessions: Callable[[], Session], queue: JobQueue) -> Any:
    return create_app(settings, sessions=sessions, queue=queue)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


# ---------------------------------------------------------------- users and sign-in

@pytest.fixture
def make_user(session: Session, settings: Settings) -> Callable[..., User]:
    hasher = make_password_hasher(settings)
    counter = iter(range(1, 10_000))

    def make(roles: list[str] | str = "agent", *, username: str | None = None, team: str | None = None,
             site: str | None = None, display_name: str = "") -> User:
        roles_list = roles.split(",") if isinstance(roles, str) else roles
        name = username or f"{roles_list[0]}{next(counter)}"
        team_id = auth_service.get_or_create_team(session=session, name=team).id if team else None
        site_id = auth_service.get_or_create_site(session=session, name=site).id if site else None
        return auth_service.create_user(session=session, hasher=hasher, actor=None, data=UserCreate(
            username=name, password=TEST_PASSWORD, display_name=display_name or name.title(),
            roles=roles_list, team_id=team_id, site_id=site_id))

    return make


def sign_in(client: TestClient, username: str, password: str = TEST_PASSWORD) -> str:
    """Sign in through the API; the client then sends the session cookie and the CSRF header."""
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token = str(response.json()["csrf_token"])
    client.headers["x-csrf-token"] = token
    return token


@pytest.fixture
def login(client: TestClient) -> Callable[[User], TestClient]:
    def do(user: User) -> TestClient:
        sign_in(client, user.username)
        return client

    return do
