"""The audit log and the jobs list, as the admin pages and the API read them."""

from datetime import datetime

from sqlmodel import Session, col, select

from app.core.errors import NotFound
from app.core.listing import Page, paginate
from app.core.models import AuditEvent, Job
from app.core.security import Principal, Role


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


def list_jobs(*, session: Session, principal: Principal, status: str | None = None, kind: str | None = None,
              page: int = 1, per_page: int = 50) -> Page[Job]:
    """Admins see every job; others the jobs they started."""
    query = select(Job)
    if not principal.has(Role.ADMIN):
        query = query.where(Job.created_by == principal.user_id)
    if status:
        query = query.where(Job.status == status)
    if kind:
        query = query.where(col(Job.kind).startswith(kind))
    return paginate(query.order_by(col(Job.id).desc()), page=page, per_page=per_page, session=session)


def get_job(*, session: Session, principal: Principal, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or (not principal.has(Role.ADMIN) and job.created_by != principal.user_id):
        raise NotFound(f"job {job_id} not found")
    return job
