"""The sign-in throttle: failed sign-ins counted per typed username and per source address, each counted
by one atomic statement (INSERT … ON CONFLICT DO UPDATE … RETURNING) so that simultaneous failures never
collide on the row's creation and never lose an increment, on SQLite and PostgreSQL alike.

A row's key says what it counts: `user:<name>` or `addr:<ip>` (the prefix keeps typed text from posing as
an address). `failures` counts consecutive failures; reaching the limit sets `locked_until`; a failure after
the lock has expired starts a fresh count; a successful sign-in removes the user's and the address's rows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.auth.models import LoginThrottle
from app.core.timeutil import as_utc

KEY_LENGTH = 315  # the column holds 320: room for the prefix


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int


def user_key(username: str) -> str:
    return "user:" + username.strip().lower()[:KEY_LENGTH]


def address_key(address: str) -> str:
    return "addr:" + address.strip().lower()[:KEY_LENGTH]


_table = LoginThrottle.__table__  # type: ignore[attr-defined]


def locked_until(*, session: Session, keys: list[str], now: datetime) -> datetime | None:
    """The latest lock-out in force on any of `keys`, or None."""
    rows = session.execute(sa.select(_table.c.locked_until).where(_table.c.username.in_(keys))).scalars().all()
    locks = [as_utc(value) for value in rows if value is not None and as_utc(value) > now]
    return max(locks) if locks else None


def record_failure(*, session: Session, limit: Limit, lockout_seconds: int, now: datetime) -> int:
    """Count one failure on `limit.key` atomically (in the session's transaction; the caller commits) and lock
    the key when the count reaches its limit. Returns the count after this failure."""
    c = _table.c
    until = sa.literal(now + timedelta(seconds=lockout_seconds), c.locked_until.type)
    now_value = sa.literal(now, c.locked_until.type)
    expired = sa.and_(c.locked_until.is_not(None), c.locked_until <= now_value)
    still_locked = sa.and_(c.locked_until.is_not(None), c.locked_until > now_value)
    failures = sa.case((expired, 1), else_=c.failures + 1)
    locked = sa.case((still_locked, c.locked_until), (failures >= limit.max_failures, until), else_=None)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(_table)
        .values(username=limit.key, failures=1,
                locked_until=now + timedelta(seconds=lockout_seconds) if limit.max_failures <= 1 else None)
        .on_conflict_do_update(index_elements=[c.username], set_={"failures": failures, "locked_until": locked})
        .returning(c.failures)
    )
    return int(session.execute(statement).scalar_one())


def clear(*, session: Session, keys: list[str]) -> None:
    session.execute(sa.delete(_table).where(_table.c.username.in_(keys)))
