"""Admin pages: the audit log and the jobs list."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.auth.deps import SessionDep, WebAdmin, WebPrincipal
from app.core import audit
from app.core.security import Role
from app.core.web import NavItem, render
from app.reports.export import page_window, table_csv, wants_csv
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
    page, per_page = page_window(request, page, 50)
    result = service.list_audit_events(session=session, action=action, record_type=record_type,
                                       record_id=record_id, page=page, per_page=per_page)
    if wants_csv(request):  # who took a copy of the log, and of which part, is itself in the log
        audit.record(session=session, actor=principal, action="audit.export", record_type="audit_log",
                     record_id="", after={"action": action, "record_type": record_type, "record_id": record_id,
                                          "rows": len(result.items)})
        session.commit()
        return table_csv("audit-log.csv", result.items, {
            "at": lambda e: e.at, "actor": lambda e: e.actor_name, "action": lambda e: e.action,
            "record_type": lambda e: e.record_type, "record_id": lambda e: e.record_id,
            "before": lambda e: _json(e.before), "after": lambda e: _json(e.after), "reason": lambda e: e.reason})
    return render(request, "system/audit.html", {
        "result": result, "filters": {"action": action or "", "record_type": record_type or "",
                                      "record_id": record_id or ""}}, principal=principal)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, principal: WebPrincipal, session: SessionDep, status: str | None = None,
              page: Annotated[int, Query(ge=1)] = 1) -> Response:
    page, per_page = page_window(request, page, 50)
    result = service.list_jobs(session=session, principal=principal, status=status, page=page,
                               per_page=per_page)
    if wants_csv(request):
        return table_csv("jobs.csv", result.items, {
            "id": lambda j: j.id, "kind": lambda j: j.kind, "status": lambda j: j.status,
            "progress": lambda j: j.progress, "progress_message": lambda j: j.progress_message,
            "attempts": lambda j: j.attempts, "created_at": lambda j: j.created_at,
            "finished_at": lambda j: j.finished_at, "error": lambda j: j.error, "result": lambda j: _json(j.result)})
    return render(request, "system/jobs.html", {"result": result, "status": status or ""}, principal=principal)


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, default=str)
