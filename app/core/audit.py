"""The one helper every feature uses to write the audit log."""

from typing import Any, Protocol

from sqlmodel import Session

from app.core.db import write_transactions
from app.core.models import AuditEvent


class Actor(Protocol):
    @property
    def user_id(self) -> int | None: ...

    @property
    def name(self) -> str: ...


def record(
    *,
    session: Session,
    actor: Actor | None,
    action: str,
    record_type: str,
    record_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction: it commits (or rolls back) with the change it describes."""
    event = AuditEvent(
        actor_id=actor.user_id if actor else None,
        actor_name=actor.name if actor else "system",
        action=action,
        record_type=record_type,
        record_id=str(record_id),
        before=_jsonable(before),
        after=_jsonable(after),
        reason=reason,
    )
    session.add(event)
    return event


def record_read(*, session: Session, actor: Actor | None, action: str, record_type: str, record_id: object) -> None:
    """Record that `actor` read something sensitive (original audio, an unredacted transcript), once, before it
    is served: commits `session`'s read and writes the event in a short write transaction of its own.

    A read runs in a deferred transaction; on SQLite, inserting the event there would fail at once ("database
    is locked", not waited for) whenever another writer committed since the read began, which answered 503 to
    about a third of original-audio plays under load. As a write transaction it queues for the lock instead.
    If the event cannot be written (database unavailable) the read fails: it is never served unrecorded."""
    session.commit()
    with write_transactions():
        record(session=session, actor=actor, action=action, record_type=record_type, record_id=record_id)
        session.commit()


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or isinstance(value, str | int | float | bool | list | dict):
            out[key] = value
        else:
            out[key] = str(value)
    return out


# What a history line on a page says for an audited action (the audit log keeps the code, for filtering).
ACTION_WORDS = {
    "evaluation.create": "started the evaluation", "evaluation.submit": "submitted",
    "evaluation.acknowledge": "acknowledged", "evaluation.dispute": "disputed",
    "evaluation.resolve": "resolved the dispute",
    "coaching.assignment.create": "assigned coaching", "coaching.assignment.update": "changed the assignment",
    "coaching.assignment.status": "changed the status", "coaching.assignment.acknowledge": "acknowledged",
    "coaching.assignment.evidence_added": "added evidence", "coaching.session.create": "added a session",
    "coaching.session.update": "changed a session",
    "social.reply.logged": "logged a reply", "social.resolution.public": "recorded the public resolution",
    "social.resolution.private": "recorded a private resolution", "social.process.set": "set the process",
    "social.non_genuine.marked": "marked not genuine", "social.non_genuine.confirmed": "confirmed not genuine",
    "social.non_genuine.reversed": "marked genuine", "social.non_genuine.welcome_back": "the customer came back",
}


def action_words(action: str) -> str:
    """An audited action as a person reads it ("evaluation.submit" → "submitted"); unknown ones spelt out."""
    return ACTION_WORDS.get(action) or action.replace(".", " ").replace("_", " ")
