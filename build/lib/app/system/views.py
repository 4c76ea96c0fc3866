"""Admin pages: the audit log and the jobs list."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.auth.deps import SessionDep, WebAdmin, WebPrincipal
from app.core.security import Role
from app.core.web import NavItem, render
from app.system import service

router = APIRouter()

NAV = [
    NavItem("Jobs", "/jobs", tuple(Role), order=80),
    NavItem("Audit log", "/admin/audit", (Role.ADMIN,), order=95),
]


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, principal: WebAdmin, session: SessionDep, action: str | None = None,
               record_type: str | None = None, record_id: str | None = None,
               page: Annotated[int, Query(ge=1)] = 1) -> Response:
    result = service.list_audit_events(session=session, action=action, record_type=record_type,
                                       record_id=record_id, page=page)
    return render(request, "system/audit.html", {
        "result": result, "filters": {"action": action or "", "record_type": record_type or "",
                                      "record_id": record_id or ""}}, principal=principal)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, principal: WebPrincipal, session: SessionDep, status: str | None = None,
              page: Annotated[int, Query(ge=1)] = 1) -> Response:
    result = service.list_jobs(session=session, principal=principal, status=status, page=page)
    return render(request, "system/jobs.html", {"result": result, "status": status or ""}, principal=principal)
