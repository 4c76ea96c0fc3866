"""with_write_retry: SQLite lock errors are retried after a rollback; other errors are not."""

import pytest
from sqlalchemy.exc import OperationalError

from app.evaluations.retry import with_write_retry


class FakeSession:
    def __init__(self) -> None:
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1


def locked() -> OperationalError:
    return OperationalError("INSERT ...", {}, Exception("database is locked"))


def test_retries_until_it_works():
    calls = []

    def work():
        calls.append(1)
        if len(calls) < 3:
            raise locked()
        return "done"

    session = FakeSession()
    assert with_write_retry(session, work) == "done" and len(calls) == 3 and session.rollbacks == 2


def test_gives_up_after_the_attempts():
    session = FakeSession()
    with pytest.raises(OperationalError):
        with_write_retry(session, lambda: (_ for _ in ()).throw(locked()), attempts=2)
    assert session.rollbacks == 2


def test_other_database_errors_are_not_retried():
    session = FakeSession()
    calls = []

    def work():
        calls.append(1)
        raise OperationalError("SELECT 1", {}, Exception("no such table: evaluation"))

    with pytest.raises(OperationalError):
        with_write_retry(session, work)
    assert len(calls) == 1
