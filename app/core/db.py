"""Database engine and sessions for SQLite (default) and PostgreSQL."""

import functools
import logging
import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects.sqlite import base as sqlite_base
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.sql import sqltypes
from sqlmodel import Session

from app.core.sqlite_writer import WriterQueue, writer_queue

log = logging.getLogger("earshot.db")
T = TypeVar("T")

SessionFactory = Callable[[], Session]


class _SQLiteUTCDateTime(sqlite_base.DATETIME):
    """SQLite has no time zones: store timezone-aware values as UTC and read them back as UTC-aware, so both
    databases hand the code the same kind of datetime."""

    def bind_processor(self, dialect: Dialect) -> Any:
        process = super().bind_processor(dialect)
        aware = bool(getattr(self, "timezone", False))

        def bind(value: Any) -> Any:
            if aware and isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return process(value) if process else value

        return bind

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        process = super().result_processor(dialect, coltype)
        aware = bool(getattr(self, "timezone", False))

        def result(value: Any) -> Any:
            value = process(value) if process else value
            if aware and isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value

        return result


for _dialect in (sqlite_base.SQLiteDialect, SQLiteDialect_pysqlite):
    _dialect.colspecs = {**_dialect.colspecs, sqltypes.DateTime: _SQLiteUTCDateTime}


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class _SQLiteConnection(sqlite3.Connection):
    """A pysqlite connection that queues for its database's writer lock (see sqlite_writer) before it writes
    and gives it back the moment its transaction ends (commit, rollback — including the pool's reset on
    return — or close)."""

    writer_queue: WriterQueue | None = None
    holds_writer_lock = False

    def acquire_writer(self, timeout: float, statement: str) -> None:
        if self.holds_writer_lock:
            return
        assert self.writer_queue is not None
        if not self.writer_queue.acquire(timeout=timeout):
            raise OperationalError(statement, None, sqlite3.OperationalError(
                f"database is locked: other writers held it for over {timeout:g} s"))
        self.holds_writer_lock = True

    def release_writer(self) -> None:
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            assert self.writer_queue is not None
            self.writer_queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_writer()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_writer()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writer()


def make_engine(url: str, *, pool_size: int = 10, busy_timeout_ms: int = 10000,
                ping_idle_seconds: float | None = 0.0) -> Engine:
    """An engine with Earshot's connection rules.

    SQLite: foreign keys on, a busy timeout on every connection, and SQLAlchemy in charge of BEGIN so
    SAVEPOINTs work (the pysqlite driver's own transaction handling breaks them). WAL is switched on once
    by `ensure_wal`, not per connection: switching the journal mode needs an exclusive lock. Writers queue
    (app.core.sqlite_writer) before BEGIN IMMEDIATE (see `write_transactions`) or before a deferred
    transaction's first write, so the SQLite lock passes from one writer to the next at once, across threads and
    processes, instead of through SQLite's busy handler, which sleeps and polls.

    PostgreSQL: see `_postgresql_engine`: reads run without BEGIN/COMMIT, and only a connection that sat idle in
    the pool for `ping_idle_seconds` or more is pinged when it is taken out (0: every one; None: never).
    """
    if is_sqlite_url(url):
        queue = writer_queue(make_url(url).database)
        timeout = busy_timeout_ms / 1000
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": timeout,
                                                  "factory": _SQLiteConnection},
                               pool_size=pool_size, max_overflow=pool_size * 3, pool_timeout=10)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            dbapi_connection.writer_queue = queue
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            if not _write_transactions.get():
                connection.exec_driver_sql("BEGIN")
                return
            raw = connection.connection.dbapi_connection
            raw.acquire_writer(timeout, "BEGIN IMMEDIATE")
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                raw.release_writer()
                raise

        @event.listens_for(engine, "before_cursor_execute")
        def _before_write(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            # a deferred transaction's first write is where SQLite takes its write lock: queue for ours first
            if statement.lstrip()[:7].upper().startswith(WRITE_STATEMENTS):
                connection.connection.dbapi_connection.acquire_writer(timeout, statement)

        return engine
    return _postgresql_engine(url, pool_size=pool_size, ping_idle_seconds=ping_idle_seconds)


READ_STATEMENTS = ("SELECT", "EXPLAIN")
_LOCKING_READ = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|\bpg_advisory_xact_lock\b",
                           re.IGNORECASE)


@functools.lru_cache(maxsize=2048)  # SQLAlchemy hands over the same string object for a cached statement
def starts_transaction(statement: str) -> bool:
    """Whether a statement needs a transaction around it: anything but a plain read (a SELECT or EXPLAIN that
    locks no rows)."""
    head = statement.lstrip()[:8].upper()
    return not head.startswith(READ_STATEMENTS) or _LOCKING_READ.search(statement) is not None


def _postgresql_engine(url: str, *, pool_size: int, ping_idle_seconds: float | None) -> Engine:
    """PostgreSQL, with two round trips fewer per transaction that only reads and no ping per checkout.

    Reads without BEGIN/COMMIT: a connection taken from the pool starts in autocommit mode, and the first
    statement that is not a plain read (INSERT, UPDATE, DELETE, SAVEPOINT, DDL, SELECT ... FOR UPDATE) switches
    it back, so psycopg opens the transaction right before it; every write of a transaction, and every read
    after its first write, is inside it, committed or rolled back as one. Under PostgreSQL's default isolation
    (READ COMMITTED) each statement reads its own snapshot anyway, so reads before the first write see the same
    as they would inside the transaction; a request that only reads (most of them, and authentication) sends no
    BEGIN and no COMMIT. (A SELECT calling a function that writes or takes a transaction-level lock would need
    the transaction begun first; Earshot has none.)

    Reconnecting: by default (`ping_idle_seconds` 0) every checkout is pinged (SQLAlchemy's pool_pre_ping, one
    round trip), so after a database restart no request fails: a dead connection is replaced before the request
    uses it. With `ping_idle_seconds` > 0 only a connection idle that long is pinged, saving the round trip on
    connections in steady use; then, if the database restarts while they are in use, the request that meets a
    dead connection fails (503) and SQLAlchemy invalidates the whole pool, so one request per process fails.
    Connections are also recycled after 30 minutes."""
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_timeout=10, pool_recycle=1800,
                           pool_pre_ping=ping_idle_seconds == 0)

    @event.listens_for(engine, "checkin")
    def _note_idle(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        dbapi_connection.autocommit = True
        idle_since = record.info.get("idle_since")
        if ping_idle_seconds and idle_since is not None and time.monotonic() - idle_since >= ping_idle_seconds:
            try:
                dbapi_connection.execute("SELECT 1")
            except Exception as exc:
                raise DisconnectionError("the pooled connection is gone (database restarted?)") from exc

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_at_first_write(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        raw = connection.connection.dbapi_connection
        if raw.autocommit and starts_transaction(statement):
            raw.autocommit = False  # psycopg sends BEGIN before this statement

    return engine


_write_transactions: ContextVar[bool] = ContextVar("earshot_write_transactions", default=False)


@contextmanager
def write_transactions(enabled: bool = True) -> Iterator[None]:
    """SQLite: transactions begun inside (in this context and the threads it starts) take the write lock at
    BEGIN (BEGIN IMMEDIATE), waiting up to the busy timeout for it. A plain BEGIN reads a snapshot first, and
    its first write then fails at once with "database is locked" when another connection committed in between
    (the busy timeout does not apply), which under load answered 503 to state-changing requests. Used for
    every state-changing request; jobs run with `enabled=False` even when the immediate queue runs them inside
    a request (see JobQueue._run). PostgreSQL: no effect."""
    token = _write_transactions.set(enabled)
    try:
        yield
    finally:
        _write_transactions.reset(token)


def ensure_wal(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside SQLAlchemy's transaction: the pragma refuses to run inside one
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
    finally:
        raw.close()


def session_factory(engine: Engine) -> SessionFactory:
    def make() -> Session:
        return Session(engine, expire_on_commit=False)

    return make


def serialized(session: Session, *key: object) -> None:
    """Wait here until no other transaction holds the lock named `key`, and hold it until this session's
    transaction ends: a check-then-write (an evaluator starts one evaluation of an interaction) then sees what a
    simultaneous request wrote before it. PostgreSQL: a transaction-level advisory lock (the statement opens the
    transaction, see `_postgresql_engine`). SQLite: nothing to take, a state-changing request's transaction
    already holds the database's one write lock from its start (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": repr(key)})


def deadlock_victim(exc: OperationalError) -> bool:
    """PostgreSQL ended the transaction to break a deadlock (40P01) or a serialization conflict (40001)."""
    return getattr(exc.orig, "sqlstate", None) in {"40P01", "40001"}


def back_off(attempt: int) -> None:
    """Before a deadlock's victim writes again: the other writer goes on meanwhile, and a random wait keeps two
    victims from meeting again."""
    time.sleep(random.uniform(0.02, 0.1) * attempt)


CONCURRENT_WRITE_ATTEMPTS = 20


def written_once(session: Session, write: Callable[[], T], *, alone: bool = False) -> T:
    """`write()` (reads included) in a SAVEPOINT. A unique key taken meanwhile by a simultaneous request
    (PostgreSQL: the same new conversation, customer identity or settings row written by another request; the
    database makes the second writer wait for the first to commit, then refuses it) is written again, up to
    CONCURRENT_WRITE_ATTEMPTS times: the next attempt reads what the other committed and uses or merges into it
    (an import by the one import rule), so simultaneous requests store each thing once.

    `alone`: the savepoint holds every write of its transaction (a webhook delivery). Then a deadlock's victim
    is written again too, after a short random wait: rolling back to the savepoint released everything it had
    locked, so the other writer goes on. (Inside a batch, earlier items keep their locks: `write_in_batches`
    rolls the batch back instead.) The last attempt's error, and any other error, propagates with the
    savepoint rolled back."""
    for attempt in range(1, CONCURRENT_WRITE_ATTEMPTS + 1):
        try:
            with session.begin_nested():
                return write()
        except IntegrityError as exc:
            if attempt == CONCURRENT_WRITE_ATTEMPTS:
                raise
            log.info("a write met a simultaneous one (%s); writing it again", str(exc.orig).splitlines()[0])
        except OperationalError as exc:
            if not (alone and deadlock_victim(exc)) or attempt == CONCURRENT_WRITE_ATTEMPTS:
                raise
            log.info("a write was chosen as a deadlock's victim; writing it again")
            back_off(attempt)
    raise AssertionError("unreachable")


@contextmanager
def session_scope(factory: SessionFactory) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
