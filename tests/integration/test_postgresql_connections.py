"""PostgreSQL connections: a transaction that only reads sends no BEGIN/COMMIT, one that writes is still one
transaction from its first write on, and a pooled connection that died while idle is replaced before use."""

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.core.db import make_engine, starts_transaction


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    made = make_engine(postgres_url, pool_size=1, ping_idle_seconds=0.05)
    yield made
    made.dispose()


def in_own_transaction(session: Session) -> bool:
    """Whether this statement runs in a transaction of its own (its start is the transaction's start)."""
    return bool(session.execute(text("SELECT now() = statement_timestamp()")).scalar_one())


def test_reads_run_without_a_transaction_and_writes_in_one(engine):
    name = f"team-{uuid.uuid4().hex[:8]}"
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        time.sleep(0.01)
        assert in_own_transaction(session)  # no BEGIN was sent before the first read
        session.execute(text("INSERT INTO team (name) VALUES (:n)"), {"n": name})
        time.sleep(0.01)
        assert not in_own_transaction(session)  # after the first write: inside its transaction
        session.execute(text("INSERT INTO team (name) VALUES (:n)"), {"n": name + "-2"})
        session.rollback()
    with Session(engine) as session:
        assert session.execute(text("SELECT count(*) FROM team WHERE name LIKE :n"),
                               {"n": name + "%"}).scalar_one() == 0  # both writes rolled back as one
        session.execute(text("INSERT INTO team (name) VALUES (:n)"), {"n": name})
        session.commit()
        assert session.execute(text("SELECT count(*) FROM team WHERE name = :n"), {"n": name}).scalar_one() == 1
        session.execute(text("DELETE FROM team WHERE name = :n"), {"n": name})
        session.commit()


def test_a_savepoint_or_a_locking_read_begins_the_transaction():
    assert not starts_transaction("SELECT user_account.id FROM user_account WHERE user_account.id = %(id)s")
    assert not starts_transaction("  EXPLAIN (FORMAT JSON) SELECT 1")
    for statement in ("SAVEPOINT sa_savepoint_1", "INSERT INTO team (name) VALUES (%(name)s)",
                      "SELECT id FROM job WHERE status = 'queued' FOR UPDATE SKIP LOCKED",
                      "select id from job for no key update", "WITH moved AS (DELETE FROM job RETURNING id) SELECT 1",
                      "CREATE INDEX ix ON team (name)"):
        assert starts_transaction(statement), statement


def terminate_pooled_connection(engine: Engine, postgres_url: str) -> int:
    with engine.connect() as connection:
        pid = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    admin = make_engine(postgres_url, pool_size=1)
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    return pid


def test_a_connection_that_died_while_idle_is_replaced_before_use(engine, postgres_url):
    dead = terminate_pooled_connection(engine, postgres_url)
    time.sleep(0.1)  # idle longer than ping_idle_seconds: pinged when taken out
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != dead


def test_without_pings_one_request_fails_and_the_pool_is_renewed(postgres_url):
    engine = make_engine(postgres_url, pool_size=2, ping_idle_seconds=None)
    try:
        with engine.connect() as first, engine.connect() as second:  # two pooled connections
            pids = {first.execute(text("SELECT pg_backend_pid()")).scalar_one(),
                    second.execute(text("SELECT pg_backend_pid()")).scalar_one()}
        admin = make_engine(postgres_url, pool_size=1)
        with admin.connect() as connection:  # as a database restart would
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
                               {"pids": sorted(pids)})
        admin.dispose()
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        for _ in range(2):  # the other pooled connection was dropped with it: no second failure
            with engine.connect() as connection:
                assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() not in pids
    finally:
        engine.dispose()
