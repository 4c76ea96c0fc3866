"""Home-page statistics reused for a few seconds instead of recomputed on every view.

Some home panels show figures computed from many rows (the share of coaching followed by an improvement,
six months of survey bands): the most expensive part of a coach's or an executive's home page. The app keeps
one `FiguresCache` (`app.state.figures_cache`, bound `home_figures_seconds`); the home page hands it to the
panels through `session.info`, and a panel asks `cached(...)` with a key that holds everything its figures
depend on besides the database: the caller's scope (e.g. the set of agents they may see), never just their
role, so a figure computed for one scope is never shown to another.

Freshness: every commit in this process that wrote to a table an entry depends on (ORM flushes and ORM
UPDATE/DELETE/INSERT statements) drops that entry at once, so a user's own change shows on their next view;
a change committed by another server process shows when the entry expires (within `home_figures_seconds`).
A value is stored only if no such commit happened since its session's transaction began (what it read may
predate that commit). Sessions without the cache (CLI, jobs) compute every time.
"""

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

T = TypeVar("T")
INFO_KEY = "figures_cache"
_WRITTEN = "figures_cache_written_tables"
_BEGUN_AT = "figures_cache_generation_at_begin"
MAX_ENTRIES = 2_000


class FiguresCache:
    def __init__(self, ttl_seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, frozenset[str], Any]] = {}
        self._lock = threading.Lock()
        _caches.add(self)

    def get_or_compute(self, key: Hashable, *, depends_on: frozenset[str], compute: Callable[[], T],
                       since: int | None = None) -> T:
        """The stored value of `key` if younger than the bound, else `compute()`, stored unless a write was
        committed in this process after `since` (a `generation()`; default: now, before computing)."""
        found = self._entries.get(key)
        if found is not None and self._clock() - found[0] <= self.ttl:
            value: T = found[2]
            return value
        since = generation() if since is None else since
        value = compute()
        if self.ttl > 0:
            with self._lock:
                if since == generation():
                    if len(self._entries) >= MAX_ENTRIES:
                        self._entries.pop(next(iter(self._entries)))
                    self._entries[key] = (self._clock(), depends_on, value)
        return value

    def forget(self, tables: set[str]) -> None:
        """Drop every entry that depends on one of `tables` (called after a commit that wrote to them)."""
        with self._lock:
            for key in [k for k, (_, depends, _) in self._entries.items() if depends & tables]:
                del self._entries[key]


_caches: "weakref.WeakSet[FiguresCache]" = weakref.WeakSet()
_generation = [0]  # commits that wrote something, in this process
_generation_lock = threading.Lock()


def generation() -> int:
    return _generation[0]


def cached(session: Session, key: Hashable, *, depends_on: frozenset[str], compute: Callable[[], T]) -> T:
    """`compute()`, or its value from the session's figures cache (see the module docstring for the key)."""
    cache: FiguresCache | None = session.info.get(INFO_KEY)
    if cache is None or cache.ttl <= 0:
        return compute()
    return cache.get_or_compute(key, depends_on=depends_on, compute=compute, since=session.info.get(_BEGUN_AT))


def _written(session: Session) -> set[str]:
    tables: set[str] = session.info.setdefault(_WRITTEN, set())
    return tables


def _invalidate(tables: set[str]) -> None:
    with _generation_lock:
        _generation[0] += 1
    for cache in list(_caches):
        cache.forget(tables)


# Entries are dropped when the write is flushed (what shares the connection — a test's session — sees it from
# then on) and again when it is committed (what another session read in between is not kept either).
@event.listens_for(Session, "after_flush")
def _note_flushed_tables(session: Session, _context: UOWTransaction) -> None:
    names = {getattr(type(obj), "__tablename__", None) for obj in (*session.new, *session.dirty, *session.deleted)}
    tables = {name for name in names if isinstance(name, str)}
    if tables:
        _written(session).update(tables)
        _invalidate(tables)


@event.listens_for(Session, "do_orm_execute")
def _note_statement_tables(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        name = getattr(getattr(state.statement, "table", None), "name", None)
        if isinstance(name, str):
            _written(state.session).add(name)
            _invalidate({name})


@event.listens_for(Session, "after_begin")
def _note_begin(session: Session, _transaction: Any, _connection: Any) -> None:
    session.info[_BEGUN_AT] = generation()


@event.listens_for(Session, "after_commit")
def _forget_written(session: Session) -> None:
    tables = session.info.pop(_WRITTEN, None)
    if tables:
        _invalidate(tables)


@event.listens_for(Session, "after_soft_rollback")
def _drop_written(session: Session, _previous: Any) -> None:
    if not session.in_transaction():
        session.info.pop(_WRITTEN, None)
