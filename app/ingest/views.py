"""The imports page (admins): upload a chats, e-mails or social file; it is imported by a background job
whose progress and report the page shows."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth.deps import QueueDep, SessionDep, SettingsDep, WebAdmin
from app.core.export import Column, page_window, table_csv, wants_csv
from app.core.jobs import list_jobs
from app.core.security import Role
from app.core.web import NavItem, render
from app.ingest import service
from app.ingest.api import start_import_job
from app.ingest.tasks import IMPORT_KIND

router = APIRouter()

NAV = [NavItem("Imports", "/imports", (Role.ADMIN,), order=85)]


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, principal: WebAdmin, session: SessionDep, job: int | None = None,
                 page: Annotated[int, Query(ge=1)] = 1) -> Response:
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
                                                   "started": job}, principal=principal)


@router.post("/imports/upload")
def upload_import(principal: WebAdmin, session: SessionDep, settings: SettingsDep, queue: QueueDep,
                  file: Annotated[UploadFile, File()], kind: Annotated[str, Form()],
                  source: Annotated[str, Form()] = "import") -> Response:
    job = start_import_job(session=session, settings=settings, queue=queue, kind=kind, upload=file,
                           source=source.strip() or "import", user_id=principal.user_id)
    return RedirectResponse(f"/imports?job={job.id}", status_code=303)
