"""JSON endpoints for the audit log and background jobs."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from app.auth.deps import AdminPrincipal, CurrentPrincipal, QueueDep, SessionDep
from app.core.errors import STANDARD_ERRORS, Conflict, error_responses
from app.core.jobs import get_job, list_jobs
from app.core.listing import ListResponse, PageNumber, PerPage
from app.core.models import JobStatus
from app.system import service

router = APIRouter(prefix="/api", tags=["system"], responses=STANDARD_ERRORS)


class AuditEventPublic(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    record_type: str
    record_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


class JobPublic(BaseModel):
    id: int
    kind: str
    status: str
    progress: float
    progress_message: str | None
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@router.get("/audit")
def audit_events(
    principal: AdminPrincipal, session: SessionDep,
    action: str | None = None, record_type: str | None = None, record_id: str | None = None,
    page: PageNumber = 1, per_page: PerPage = 50,
) -> ListResponse[AuditEventPublic]:
    """The audit log, newest first; `action` matches a prefix ("evaluation.")."""
    result = service.list_audit_events(session=session, action=action, record_type=record_type,
                                       record_id=record_id, page=page, per_page=per_page)
    return ListResponse.of(result.map(lambda e: AuditEventPublic.model_validate(e, from_attributes=True)))


@router.get("/jobs")
def jobs(
    principal: CurrentPrincipal, session: SessionDep, status: str | None = None, kind: str | None = None,
    page: PageNumber = 1, per_page: PerPage = 50,
) -> ListResponse[JobPublic]:
    """Jobs, newest first (admins: every job; others: the jobs they started)."""
    result = list_jobs(session=session, principal=principal, status=status, kind=kind, page=page,
                               per_page=per_page)
    return ListResponse.of(result.map(lambda j: JobPublic.model_validate(j, from_attributes=True)))


@router.get("/jobs/{job_id}", responses=error_responses(404))
def job(job_id: int, principal: CurrentPrincipal, session: SessionDep) -> JobPublic:
    """One job with its progress; pages poll this while long work runs."""
    return JobPublic.model_validate(get_job(session=session, principal=principal, job_id=job_id),
                                    from_attributes=True)


@router.post("/jobs/{job_id}/retry", responses=error_responses(404, 409))
def retry_job(job_id: int, principal: AdminPrincipal, session: SessionDep, queue: QueueDep) -> JobPublic:
    """Queue a failed job again (admins)."""
    found = get_job(session=session, principal=principal, job_id=job_id)
    if found.status != JobStatus.FAILED:
        raise Conflict(f"job {job_id} is {found.status}; only failed jobs can be retried")
    found.status, found.error, found.attempts = JobStatus.QUEUED, None, 0
    session.add(found)
    session.commit()
    assert found.id is not None
    queue.push(found.id, found.kind)
    return JobPublic.model_validate(found, from_attributes=True)
