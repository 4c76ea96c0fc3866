"""The one helper every feature uses to write the audit log."""

from typing import Any, Protocol

from sqlmodel import Session

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
