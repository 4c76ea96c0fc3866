"""The audit log, as the admin pages and the API read it (the jobs list is `app/core/jobs.py`)."""

from datetime import datetime

from sqlmodel import Session, col, select

from app.core.listing import Page, paginate
from app.core.models import AuditEvent


def list_audit_events(*, session: Session, action: str | None = None, record_type: str | None = None,
                      record_id: str | None = None, actor_id: int | None = None,
                      since: datetime | None = None, page: int = 1, per_page: int = 50) -> Page[AuditEvent]:
    """Newest first, filtered; `action` matches a prefix (e.g. "evaluation.")."""
    query = select(AuditEvent)
    if action:
        query = query.where(col(AuditEvent.action).startswith(action))
    if record_type:
        query = query.where(AuditEvent.record_type == record_type)
    if record_id:
        query = query.where(AuditEvent.record_id == record_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    return paginate(query.order_by(col(AuditEvent.id).desc()), page=page, per_page=per_page, session=session)
