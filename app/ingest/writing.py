"""How every import writes, whatever the format or the feature (chats, e-mails, social posts, survey answers):
items in batches whose personal-data detection runs before their writes (write_in_batches, reading at low CPU
priority in the background), the commit pace (Commits), the Resolver of agents and customers, record
validation, and the SAVEPOINT per interaction that turns a failed write into rejected lines (write_interaction)
— so one bad interaction loses nothing else."""

import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlmodel import Session, col, select

from app.auth.models import User
from app.core import phones
from app.core.audit import Actor
from app.core.db import back_off, deadlock_victim, written_once
from app.core.errors import InvalidInput
from app.core.settings import Settings
from app.core.timeutil import as_utc
from app.ingest.models import CustomerIn, ImportReport, TransferIn
from app.interactions import content, customers
from app.interactions import service as interactions
from app.interactions.customers import Identity
from app.interactions.models import Interaction
from app.interactions.service import LegData, UpsertStatus

log = logging.getLogger("earshot.ingest")
DEADLOCK_ATTEMPTS = 6

COMMIT_EVERY = 200
BACKGROUND_COMMIT_SECONDS = 0.05
BACKGROUND_BATCH_TEXTS = 100
Progress = Callable[[int, int], None]
ModelT = TypeVar("ModelT", bound=BaseModel)
ItemT = TypeVar("ItemT")
T = TypeVar("T")


def phone_region(settings: Settings | None) -> str:
    return phones.default_region(settings)


def no_progress(done: int, total: int) -> None:
    return None


@dataclass
class Commits:
    """When an import of many items commits. In a request: every COMMIT_EVERY items. In the background (a job
    or the command line, beside other users): after BACKGROUND_COMMIT_SECONDS of writing and at the end of each
    batch (see write_in_batches), then on SQLite a pause as long as the write lock was held (at most 0.5 s) —
    a transaction holds the database's one write lock from its first write to its commit, and requests that
    want to write wait for it: the import writes in short turns and leaves at least as much time to them."""

    session: Session
    background: bool = False
    since_commit: int = 0
    started: float = field(default_factory=time.monotonic)

    def item_done(self) -> None:
        self.since_commit += 1
        if self.since_commit >= COMMIT_EVERY or (self.background and self._held() >= BACKGROUND_COMMIT_SECONDS):
            self._commit()

    def batch_done(self) -> None:
        """In the background: commit what the batch wrote (and whatever ran after the last item's commit), so
        nothing is held while the next one is read."""
        if self.background and self.session.in_transaction():
            self._commit()

    def roll_back(self) -> None:
        """Drop what was written since the last commit (a deadlock's victim, see write_in_batches)."""
        self.session.rollback()
        self.since_commit = 0
        self.started = time.monotonic()

    def writing_starts(self) -> None:
        """The import's writes begin now (what came before, e.g. reading a batch, held no lock)."""
        if not self.session.in_transaction():
            self.started = time.monotonic()

    def _held(self) -> float:
        return time.monotonic() - self.started

    def _commit(self) -> None:
        held = self._held()
        self.session.commit()
        self.since_commit = 0
        if self.background and self.session.get_bind().dialect.name == "sqlite":  # PostgreSQL locks rows
            time.sleep(min(held, 0.5))
        self.started = time.monotonic()


def write_in_batches(items: Sequence[ItemT], *, commits: Commits, report: ImportReport,
                     texts: Callable[[ItemT], Iterable[tuple[str, str]]], write: Callable[[ItemT], None],
                     progress: Progress = no_progress) -> None:
    """Write `items` (conversations, threads) one by one, each batch's personal-data detection done before its
    writes: the language model (~2 ms a message) never runs while the import holds SQLite's write lock, which
    every other writer of the database waits for. `texts(item)`: the (text, previous text) pairs the item will
    store (a wrong guess is only read again inside). A request's import reads everything first (one batch). A
    background import works in batches of about BACKGROUND_BATCH_TEXTS texts, committed before the next batch
    is read; its reading runs in a thread of low CPU priority, while its writes keep the normal priority so the
    lock is released soon (a low-priority thread holding the lock would make everyone wait for it).

    Simultaneous imports (PostgreSQL): when the database ends the import's transaction as the victim of a
    deadlock (two imports writing the same new conversations or customers in opposite orders, each waiting for
    the other), what it wrote since its last commit is rolled back, which lets the other import go on, and
    written again after a short random wait, up to DEADLOCK_ATTEMPTS times, with `report` (which `write`
    fills) and the progress as they were at that commit."""
    read = [(item, list(texts(item))) for item in items]
    batches: list[list[tuple[ItemT, list[tuple[str, str]]]]] = [read]
    if commits.background:
        batches = []
        size = BACKGROUND_BATCH_TEXTS
        for item, pairs in read:
            if not batches or size + len(pairs) > BACKGROUND_BATCH_TEXTS:
                batches.append([])
                size = 0
            batches[-1].append((item, pairs))
            size += len(pairs)
    done = 0
    for batch in batches:
        with content.redacted_ahead([pair for _, pairs in batch for pair in pairs],
                                    run=_politely if commits.background else None):
            start, mark, done_at_mark = 0, report.mark(), done  # the batch's first item not committed yet
            for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
                try:
                    commits.writing_starts()
                    for index in range(start, len(batch)):
                        write(batch[index][0])
                        done += 1
                        commits.item_done()
                        progress(done, len(items))
                        if not commits.session.in_transaction():  # committed: a retry starts after it
                            start, mark, done_at_mark = index + 1, report.mark(), done
                    break
                except OperationalError as exc:
                    if not deadlock_victim(exc) or attempt == DEADLOCK_ATTEMPTS:
                        raise
                    log.info("an import was chosen as a deadlock's victim (%s); writing its batch again",
                             str(exc.orig).splitlines()[0])
                    commits.roll_back()
                    report.restore(mark)
                    done = done_at_mark
                    back_off(attempt)
        commits.batch_done()


def with_previous(texts: Sequence[str]) -> list[tuple[str, str]]:
    """Texts of one conversation in time order, each with the one before it (the context it is read in)."""
    return list(zip(texts, ["", *texts[:-1]], strict=True))


_polite_threads: ThreadPoolExecutor | None = None
_polite_lock = threading.Lock()


def _politely(work: Callable[[], ItemT]) -> ItemT:
    """Run `work` in the process's one low-priority thread (niced once, at its start) and wait for it."""
    global _polite_threads
    with _polite_lock:
        if _polite_threads is None:
            _polite_threads = ThreadPoolExecutor(1, thread_name_prefix="earshot-polite",
                                                 initializer=_lower_own_priority)
    return _polite_threads.submit(contextvars.copy_context().run, work).result()


def _lower_own_priority(niceness: int = 10) -> None:
    with suppress(OSError, AttributeError):  # not Linux, or not allowed: run as is
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(os.getpriority(os.PRIO_PROCESS, thread) + niceness, 19))


# ---------------------------------------------------------------- shared resolution


@dataclass
class Resolver:
    """Looks up agents by username (cached) and customers by identities, for one import."""

    session: Session
    region: str = interactions.DEFAULT_REGION
    actor: Actor | None = None
    agents: dict[str, int] = field(default_factory=dict)
    expected: set[str] = field(default_factory=set)

    def agent_id(self, username: str | None) -> int | None:
        """The user id of an agent username; None for no username. Raises InvalidInput when unknown."""
        if not username:
            return None
        key = username.strip().lower()
        if key not in self.agents:
            wanted = sorted(self.expected - self.agents.keys() | {key})
            self.expected.clear()
            self.agents.update((name, user_id) for name, user_id in self.session.exec(
                select(User.username, User.id).where(col(User.username).in_(wanted))).all() if user_id is not None)
            if key not in self.agents:
                raise InvalidInput(f"unknown agent {username!r}")
        return self.agents[key]

    def expect_agents(self, usernames: Iterable[str | None]) -> None:
        """The agents this import names: the first `agent_id` asked reads them all in one statement (not now:
        a statement here would begin the transaction, and with it the wait for SQLite's write lock)."""
        self.expected.update(name.strip().lower() for name in usernames if name)

    def agent_by_email(self, address: str) -> int | None:
        """An agent writing from their own address, or from <username>@support.<domain>."""
        user = self.session.exec(select(User).where(col(User.email) == address)).first()
        if user is None:
            local, _, domain = address.partition("@")
            if domain.startswith("support."):
                user = self.session.exec(select(User).where(User.username == local)).first()
        return user.id if user else None

    def identities(self, customer: CustomerIn) -> list[Identity]:
        """Normalised identities of a customer description. Raises InvalidInput naming the bad field."""
        found: list[Identity] = []
        for field_name, kind in (("phone", "phone"), ("email", "email")):
            value = getattr(customer, field_name)
            if value:
                try:
                    found.append(customers.normalise_identity(kind, value, region=self.region))
                except InvalidInput as exc:
                    raise InvalidInput(f"customer {field_name}: {exc.message}") from exc
        for ident in customer.identities:
            found.append(customers.normalise_identity(ident.kind, ident.value, ident.platform,
                                                         region=self.region))
        return found

    def customer_id(self, identities: list[Identity], name: str | None) -> int | None:
        customer = customers.resolve_customer(session=self.session, identities=identities,
                                                 display_name=name, actor=self.actor)
        return customer.id if customer else None


def transfer_legs(resolver: Resolver, *, first_agent: str | None, first_queue: str | None, started_at: datetime,
          transfers: list[TransferIn], duration: float | None) -> list[LegData]:
    """Ordered legs of a transferred call: the first agent from the start, then each transfer at its offset."""
    if not transfers:
        return []
    legs = [LegData(agent_id=resolver.agent_id(first_agent), queue=first_queue, started_at=started_at)]
    for transfer in sorted(transfers, key=lambda t: t.offset_seconds):
        at = started_at + timedelta(seconds=transfer.offset_seconds)
        legs[-1].ended_at = at
        legs.append(LegData(agent_id=resolver.agent_id(transfer.agent), queue=transfer.queue, started_at=at))
    if duration is not None:
        legs[-1].ended_at = started_at + timedelta(seconds=duration)
    return legs


def validation_reason(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors())


def validate_record(model: type[ModelT], raw: Any) -> ModelT:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(validation_reason(exc)) from exc


# each attempt after the first follows another writer's commit, so the bound is only against a loop
def write_interaction(session: Session, report: ImportReport, lines: list[int], item: str | None,
                      write: Callable[[], UpsertStatus]) -> None:
    """One interaction's writes (`written_once`); count its status or reject its lines."""
    try:
        report.count(written_once(session, write))
    except InvalidInput as exc:
        for line in lines:
            report.reject(line, exc.message, item)
    except IntegrityError as exc:
        log.warning("import of %s failed: %s", item, exc)
        for line in lines:
            report.reject(line, "conflicting concurrent write; import again", item)
    except DataError as exc:  # a value the database refuses (the models clean what they know of)
        log.warning("import of %s refused by the database: %s", item, exc.orig)
        for line in lines:
            report.reject(line, f"the database refused a value: {str(exc.orig).splitlines()[0]}", item)


def latest_end(times: list[datetime], existing: Interaction | None) -> datetime:
    """The end of an interaction: its latest message, here or in an earlier import."""
    if existing is not None and existing.ended_at is not None:
        times = [*times, as_utc(existing.ended_at)]
    return max(times)
