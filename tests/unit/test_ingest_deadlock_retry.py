"""A batch whose transaction PostgreSQL ends as a deadlock's victim is written again from its last commit, with
the import's report and progress as they stood then (the crossing imports of tests/integration/
test_concurrent_requests.py meet real deadlocks; this checks the bookkeeping on a real SQLite file)."""

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.core.db import make_engine, session_factory
from app.ingest import writing
from app.ingest.models import ImportReport


class DeadlockDetected(Exception):
    sqlstate = "40P01"


class OtherFailure(Exception):
    sqlstate = "08006"  # the connection was lost: not a deadlock, not written again


@pytest.fixture
def session(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'retry.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE item (n INTEGER)"))
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_a_deadlock_victim_writes_again_only_what_it_had_not_committed(session, monkeypatch):
    monkeypatch.setattr(writing, "COMMIT_EVERY", 2)
    monkeypatch.setattr(writing.time, "sleep", lambda _seconds: None)
    report, progress, attempts = ImportReport(), [], []
    report.reject(1, "a bad line before the batch")

    def write(n: int) -> None:
        attempts.append(n)
        session.execute(text("INSERT INTO item (n) VALUES (:n)"), {"n": n})
        if n == 4 and attempts.count(4) == 1:
            raise OperationalError("INSERT INTO item", {}, DeadlockDetected("deadlock detected"))
        if n == 3:
            report.reject(3, "half of item 3 was refused")
        report.count("created")

    writing.write_in_batches([1, 2, 3, 4, 5], commits=writing.Commits(session), report=report,
                             texts=lambda _n: [], write=write, progress=lambda done, total: progress.append(done))
    session.commit()
    assert attempts == [1, 2, 3, 4, 3, 4, 5]  # items 1-2 were committed, 3-4 rolled back and written again
    assert sorted(n for (n,) in session.execute(text("SELECT n FROM item"))) == [1, 2, 3, 4, 5]
    assert report.created == 5 and [r.line for r in report.rejected] == [1, 3]
    assert progress == [1, 2, 3, 3, 4, 5]  # back to 2 done after the rollback


def test_other_database_failures_are_not_written_again(session):
    def write(n: int) -> None:
        raise OperationalError("INSERT INTO item", {}, OtherFailure("connection lost"))

    with pytest.raises(OperationalError):
        writing.write_in_batches([1], commits=writing.Commits(session), report=ImportReport(),
                                 texts=lambda _n: [], write=write)


def test_a_deadlock_every_time_gives_up_after_the_last_attempt(session, monkeypatch):
    monkeypatch.setattr(writing.time, "sleep", lambda _seconds: None)
    tries: list[int] = []

    def write(n: int) -> None:
        tries.append(n)
        raise OperationalError("INSERT INTO item", {}, DeadlockDetected("deadlock detected"))

    with pytest.raises(OperationalError):
        writing.write_in_batches([1], commits=writing.Commits(session), report=ImportReport(),
                                 texts=lambda _n: [], write=write)
    assert len(tries) == writing.DEADLOCK_ATTEMPTS
