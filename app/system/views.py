"""Admin pages: the audit log, the jobs list, and uploading a call recording."""

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from app.auth.deps import QueueDep, SessionDep, SettingsDep, WebAdmin, WebPrincipal
from app.auth.service import list_users
from app.core import audit
from app.core.errors import EarshotError, error_message
from app.core.export import Column, page_window, table_csv, wants_csv
from app.core.jobs import JobKind, list_jobs
from app.core.models import AuditEvent, Job, JobStatus
from app.core.security import Role
from app.core.web import NavItem, render
from app.ingest.calls import ingest_recording
from app.ingest.models import CustomerIn, RecordingMetadata
from app.system import docs, service

router = APIRouter()
router.include_router(docs.router)  # /docs, its assets and /favicon.ico

NAV = [
    NavItem("Jobs", "/jobs", tuple(Role), order=80),
    NavItem("Upload a recording", "/admin/recordings/upload", (Role.ADMIN,), order=86),
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
        return table_csv("audit-log.csv", result.items, AUDIT_COLUMNS)
    return render(request, "system/audit.html", {
        "result": result, "columns": AUDIT_COLUMNS, "changes": changes, "filters": {"action": action or "", "record_type": record_type or "",
                                      "record_id": record_id or ""}}, principal=principal)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, principal: WebPrincipal, session: SessionDep, status: str | None = None,
              page: Annotated[int, Query(ge=1)] = 1) -> Response:
    page, per_page = page_window(request, page, 50)
    result = list_jobs(session=session, principal=principal, status=status, page=page,
                               per_page=per_page)
    if wants_csv(request):
        return table_csv("jobs.csv", result.items, JOB_COLUMNS)
    return render(request, "system/jobs.html", {"result": result, "columns": JOB_COLUMNS, "status": status or "",
                                                "row_data": lambda j: {"job-id": j.id},
                                                "row_class": lambda j: f"job-{j.status}"}, principal=principal)


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def plain(value: Any) -> str:
    """A stored value as a person reads it: no braces or quotes ("yes", "a, b", "score: 80; state: draft")."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "; ".join(f"{str(k).replace('_', ' ')}: {plain(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) or "—"
    return str(value)


def changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field of an audit event, fields that changed first; a value that is not
    a mapping shows as one row."""
    if not isinstance(before, dict) and not isinstance(after, dict):
        return [("value", plain(before), plain(after))] if before is not None or after is not None else []
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    keys = list(dict.fromkeys([*old, *new]))
    rows = [(str(k).replace("_", " "), plain(old.get(k)) if k in old else "", plain(new.get(k)) if k in new else "")
            for k in keys]
    return sorted(rows, key=lambda r: r[1] == r[2])  # stable: changed fields first, in their own order


def job_label(kind: str) -> str:
    """"speech.transcribe" → "Transcribe a recording"; a kind this version does not know (a row left by an older
    one) → "Speech: transcribe"."""
    if kind in JobKind.__members__.values():
        return JobKind(kind).label
    feature, _, task = kind.partition(".")
    return f"{feature.capitalize()}: {task.replace('_', ' ')}" if task else kind.replace("_", " ")


def job_state(job: Any) -> str:
    """What a job is doing in words: its progress message only while it runs."""
    if job.status == JobStatus.DONE:
        return "Finished"
    if job.status == JobStatus.FAILED:
        return "Failed"
    if job.status == JobStatus.QUEUED:
        return "Waiting for a worker"
    return job.progress_message or "Working"



def _job_progress(job: Job) -> Markup:
    bar = (Markup('<progress max="1" value="{}"></progress> ').format(job.progress)
           if job.status in (JobStatus.QUEUED, JobStatus.RUNNING) else Markup(""))
    return bar + job_state(job)


def _job_outcome(job: Job) -> Markup:
    if job.error:
        return Markup('<span class="error">{}</span>').format(job.error)
    if not job.result:
        return Markup("")
    if isinstance(job.result, dict):
        return Markup('<ul class="plain">{}</ul>').format(Markup("").join(
            Markup("<li>{}: {}</li>").format(str(k).replace("_", " "), plain(v)) for k, v in job.result.items()))
    return Markup("{}").format(plain(job.result))


# The audit log and the jobs list, on screen and in their exports: the screen reads them in words (the change of
# an audit event gets a line of its own, from `changes`), the CSV file keeps the stored values.
AUDIT_COLUMNS: list[Column[AuditEvent]] = [
    Column("When", lambda e: e.at, name="at", time_format="%Y-%m-%d %H:%M:%S"),
    Column("Who", lambda e: e.actor_name, name="actor", format=lambda who: who or "the system"),
    Column("Action", lambda e: e.action, format=lambda a: a.replace(".", " · ").replace("_", " ")),
    Column("Record", lambda e: f"{e.record_type.replace('_', ' ')} {e.record_id}", csv=False),
    Column("Record type", lambda e: e.record_type, name="record_type", screen=False),
    Column("Record id", lambda e: e.record_id, name="record_id", screen=False),
    Column("Before", lambda e: _json(e.before), screen=False),
    Column("After", lambda e: _json(e.after), screen=False),
    Column("Reason", lambda e: e.reason)]

JOB_COLUMNS: list[Column[Job]] = [
    Column("#", lambda j: j.id, name="id"),
    Column("Job", lambda j: j.kind, name="kind", format=job_label),
    Column("Status", lambda j: j.status,
           html=lambda j: Markup('<span class="badge {}">{}</span>').format(j.status, j.status)),
    Column("Progress", lambda j: j.progress, html=_job_progress),
    Column("Progress message", lambda j: j.progress_message, screen=False),
    Column("Attempts", lambda j: j.attempts),
    Column("Created", lambda j: j.created_at, name="created_at"),
    Column("Finished", lambda j: j.finished_at, name="finished_at", blank="—"),
    Column("Error", lambda j: j.error, screen=False),
    Column("Result", lambda j: _json(j.result), screen=False),
    Column("Outcome", lambda j: None, html=_job_outcome, csv=False)]


# ---------------------------------------------------------------- uploading a recording from the browser


def _upload_page(request: Request, principal: Any, session: SessionDep, *, values: dict[str, str] | None = None,
                 error: str | None = None, status_code: int = 200) -> Response:
    return render(request, "system/upload_recording.html", {
        "agents": list_users(session=session, role=Role.AGENT), "values": values or {}, "error": error,
    }, principal=principal, status_code=status_code)


@router.get("/admin/recordings/upload", response_class=HTMLResponse)
def upload_recording_page(request: Request, principal: WebAdmin, session: SessionDep) -> Response:
    """A call recording and the few facts about it (the same checks as POST /api/recordings)."""
    return _upload_page(request, principal, session)


@router.post("/admin/recordings/upload", response_class=HTMLResponse)
def upload_recording(
    request: Request, principal: WebAdmin, session: SessionDep, settings: SettingsDep, queue: QueueDep,
    file: Annotated[UploadFile, File()], started_at: Annotated[str, Form()] = "",
    external_id: Annotated[str, Form()] = "", agent: Annotated[str, Form()] = "",
    queue_name: Annotated[str, Form()] = "", customer_name: Annotated[str, Form()] = "",
    customer_phone: Annotated[str, Form()] = "", layout: Annotated[str, Form()] = "agent,customer",
) -> Response:
    """Store the recording (probed first: a file that is not audio is refused with the reason, nothing kept),
    then open its interaction page, where transcription shows its progress."""
    values = {"started_at": started_at, "external_id": external_id, "agent": agent, "queue_name": queue_name,
              "customer_name": customer_name, "customer_phone": customer_phone, "layout": layout}
    try:
        when = datetime.fromisoformat(started_at) if started_at.strip() else None
        if when is None:
            raise ValueError("when did the call start?")
        metadata = RecordingMetadata(
            external_id=external_id.strip() or f"upload-{file.filename or 'recording'}-{when:%Y%m%d%H%M%S}",
            source="upload", started_at=when if when.tzinfo else when.replace(
                tzinfo=ZoneInfo(settings.display_timezone)),
            agent=agent or None, queue=queue_name.strip() or None,
            customer=CustomerIn(name=customer_name.strip() or None, phone=customer_phone.strip() or None),
            channel_map="mixed" if layout == "mixed" else "agent,customer")
        stored = ingest_recording(session=session, settings=settings, queue=queue,
                                  chunks=iter(lambda: file.file.read(1 << 20), b""),
                                  filename=file.filename or "", metadata=metadata, actor=principal)
    except ValidationError as exc:
        session.rollback()
        return _upload_page(request, principal, session, values=values, status_code=422, error=error_message(exc))
    except ValueError as exc:
        return _upload_page(request, principal, session, values=values, status_code=422,
                            error=f"Start time: {exc}" if "start" in str(exc) else "Start time: not a date and time.")
    except EarshotError as exc:
        session.rollback()
        return _upload_page(request, principal, session, values=values, error=exc.message,
                            status_code=exc.status_code)
    return RedirectResponse(f"/interactions/{stored.interaction.id}", status_code=303)
