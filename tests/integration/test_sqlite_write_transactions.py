"""SQLite write transactions under concurrency (found by bench/load.py: chat imports and evaluation steps
answered 503 under mixed load). A transaction that reads first and writes later failed at once with
"database is locked" when another connection committed in between (the busy timeout does not apply to
that); state-changing requests and jobs now take the write lock at BEGIN and wait for it instead.
SQLite-specific by nature: PostgreSQL locks rows and waits."""

import sqlite3
import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.core.db import make_engine, session_factory, session_scope, write_transactions
from app.core.migrate import upgrade
from app.main import WriteTransactions


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'earshot.db'}"
    upgrade(url)
    engine = make_engine(url, busy_timeout_ms=5000)
    yield engine
    engine.dispose()


def test_a_write_that_read_first_waits_for_a_concurrent_writer_instead_of_failing(engine):
    sessions = session_factory(engine)
    has_read, other_committed = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def read_then_write() -> None:  # what a service call does: look things up, then insert
        try:
            with write_transactions(), session_scope(sessions) as session:
                session.execute(text("SELECT count(*) FROM team")).one()
                has_read.set()
                other_committed.wait(timeout=1.0)  # with the fix the other writer waits for us instead
                session.execute(text("INSERT INTO team (name) VALUES ('first')"))
        except BaseException as exc:
            errors.append(exc)

    def other_writer() -> None:
        has_read.wait(timeout=5)
        try:
            with write_transactions(), session_scope(sessions) as session:
                session.execute(text("INSERT INTO team (name) VALUES ('second')"))
            other_committed.set()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read_then_write), threading.Thread(target=other_writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert errors == []
    with session_scope(sessions) as session:
        assert sorted(session.execute(text("SELECT name FROM team")).scalars()) == ["first", "second"]


def test_state_changing_requests_hold_the_write_lock_from_their_first_read(engine, tmp_path):
    sessions = session_factory(engine)
    app = FastAPI()
    app.add_middleware(WriteTransactions)

    def other_connection_can_write() -> bool:
        other = sqlite3.connect(tmp_path / "earshot.db", timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    @app.api_route("/probe", methods=["GET", "POST"])
    def probe() -> dict[str, bool]:
        with session_scope(sessions) as session:
            session.execute(text("SELECT count(*) FROM team")).one()
            return {"other_can_write": other_connection_can_write()}

    with TestClient(app) as client:
        assert client.get("/probe").json() == {"other_can_write": True}  # reads never block writers
        assert client.post("/probe").json() == {"other_can_write": False}


def test_sign_in_does_not_hold_the_write_lock_while_hashing_the_password(engine, tmp_path):
    """argon2 takes 0.1–0.5 s with production settings; a sign-in (a POST, so BEGIN IMMEDIATE) must not keep
    every other writer waiting that long."""
    from app.auth import service as auth_service
    from app.auth.models import UserCreate
    from app.core.security import make_password_hasher
    from tests.conftest import TEST_PASSWORD, make_settings

    settings = make_settings(tmp_path / "data")
    hasher = make_password_hasher(settings)
    sessions = session_factory(engine)
    with session_scope(sessions) as session:
        auth_service.create_user(session=session, hasher=hasher, actor=None, data=UserCreate(
            username="ada", password=TEST_PASSWORD, display_name="Ada", roles=["agent"]))
    database = str(engine.url.database)
    writes_during_hashing: list[str] = []

    class ProbingHasher:
        """The real hasher, plus a write from another connection that may not wait for a lock."""

        def _probe(self) -> None:
            other = sqlite3.connect(database, timeout=0)
            try:
                other.execute("INSERT INTO team (name) VALUES (?)", (f"written while hashing {len(writes_during_hashing)}",))
                other.commit()
                writes_during_hashing.append("ok")
            except sqlite3.OperationalError as exc:
                writes_during_hashing.append(str(exc))
            finally:
                other.close()

        def verify_and_update(self, password, stored):
            self._probe()
            return hasher.verify_and_update(password, stored)

        def hash(self, password):
            self._probe()
            return hasher.hash(password)

    for username in ("ada", "nobody"):
        with write_transactions(), session_scope(sessions) as session:
            try:
                auth_service.authenticate(session=session, username=username, password=TEST_PASSWORD,
                                          hasher=ProbingHasher(), settings=settings)  # type: ignore[arg-type]
            except Exception as exc:
                assert username == "nobody", exc  # the unknown user is refused, after the same hashing time
    assert writes_during_hashing == ["ok", "ok"]
