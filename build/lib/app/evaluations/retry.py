"""Retrying a whole write transaction when SQLite refuses it with "database is locked".

In WAL mode a transaction that read first and then writes fails at once (SQLITE_BUSY_SNAPSHOT, the busy
timeout does not apply) when another connection committed in between. Every service function here is one
transaction that commits at its end, so rolling back and running it again is safe. PostgreSQL never
raises this (rows lock and wait), so nothing is retried there.
"""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

T = TypeVar("T")
ATTEMPTS = 6


def _locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc) or "database is busy" in str(exc)


def with_write_retry(session: Session, work: Callable[[], T], *, attempts: int = ATTEMPTS) -> T:
    """Run `work` (one service call that commits); on SQLite lock errors roll back and try again, up to
    `attempts` times with a short random back-off. Other errors, and the last lock error, propagate."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            session.rollback()
            if not _locked(exc) or attempt == attempts:
                raise
            time.sleep(random.uniform(0.005, 0.02) * attempt)
    raise AssertionError("unreachable")
