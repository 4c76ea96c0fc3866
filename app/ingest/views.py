"""The imports page (admins): upload a chats, e-mails or social file; it is imported by a background job
whose progress and report the page shows."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.auth.deps import QueueDep, SessionDep, SettingsDep, WebAdmin
from app.core.errors import InvalidInput, PayloadTooLarge
from app.core.export import Column, page_window, table_csv, wants_csv
from app.core.jobs import list_jobs
from app.core.security import Principal, Role
from app.core.web import NavItem, render
from app.ingest import service
from app.ingest.api import start_import_job
from app.ingest.tasks import IMPORT_KIND

router = APIRouter()

NAV = [NavItem("Imports", "/imports", (Role.ADMIN,), order=85)]


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, principal: WebAdmin, session: SessionDep, job: int | None = None,
                 page: Annotated[int, Query(ge=1)] = 1) -> Response:
    return _imports_page(request, principal, session, job=job, page=page)


def _imports_page(request: Request, principal: Principal, session: Session, *, job: int | None = None,
                  page: int = 1, error: str | None = None, values: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    page, per_page = page_window(request, page, 20)
    jobs = list_jobs(session=session, principal=principal, kind=IMPORT_KIND, page=page, per_page=per_page)
    if wants_csv(request):
        return table_csv("imports.csv", jobs.items, [
            Column("id", lambda j: j.id),
            Column("file", lambda j: j.payload.get("filename", "")),
            Column("kind", lambda j: j.payload.get("kind", "")),
            Column("status", lambda j: j.status),
            Column("error", lambda j: j.error),
            Column("created", lambda j: (j.result or {}).get("created", "")),
            Column("updated", lambda j: (j.result or {}).get("updated", "")),
            Column("unchanged", lambda j: (j.result or {}).get("unchanged", "")),
            Column("rejected_lines", lambda j: len((j.result or {}).get("rejected") or []))])
    return render(request, "ingest/imports.html", {"jobs": jobs.items, "result": jobs, "kinds": service.IMPORT_KINDS,
                                                   "started": job, "error": error, "values": values or {}},
                  principal=principal, status_code=status_code)


@router.post("/imports/upload")
def upload_import(request: Request, principal: WebAdmin, session: SessionDep, settings: SettingsDep,
                  queue: QueueDep, file: Annotated[UploadFile, File()], kind: Annotated[str, Form()],
                  source: Annotated[str, Form()] = "import") -> Response:
    """A file refused before it is queued (empty, too large, a picture or an archive, an unknown kind) shows the
    page again with the reason, the kind and the source as chosen."""
    try:
        job = start_import_job(session=session, settings=settings, queue=queue, kind=kind, upload=file,
                               source=source.strip() or "import", user_id=principal.user_id)
    except (InvalidInput, PayloadTooLarge) as exc:
        session.rollback()
        return _imports_page(request, principal, session, error=exc.message, values={"kind": kind, "source": source},
                             status_code=exc.status_code)
    return RedirectResponse(f"/imports?job={job.id}", status_code=303)
