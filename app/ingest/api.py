"""JSON endpoints of ingest: recording uploads, chat/social/e-mail imports, import jobs, the webhook, and
the audio of a recording (scope-checked)."""

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import ValidationError
from sqlmodel import Session

from app.auth.deps import AdminPrincipal, CurrentPrincipal, QueueDep, SessionDep, SettingsDep
from app.core.errors import STANDARD_ERRORS, Forbidden, InvalidInput, error_responses
from app.core.inputs import refuse_binary
from app.core.jobs import JobQueue
from app.core.models import Job
from app.core.security import Principal, Role
from app.core.settings import Settings
from app.core.web import stored_file
from app.ingest import calls, chats, email_threads, service, social, writing
from app.ingest.models import (
    ImportJobStarted,
    ImportReport,
    RecordingMetadata,
    WebhookInteraction,
    WebhookResult,
)
from app.ingest.tasks import IMPORT_KIND, imports_store
from app.interactions import recordings
from app.interactions import service as interactions

router = APIRouter(prefix="/api", tags=["ingest"], responses=STANDARD_ERRORS)

def _chunks(upload: UploadFile) -> Any:
    return iter(lambda: upload.file.read(1 << 20), b"")


@router.post("/recordings", status_code=201, responses=error_responses(404, 413))
def upload_recording(
    principal: AdminPrincipal, session: SessionDep, settings: SettingsDep, queue: QueueDep,
    file: Annotated[UploadFile, File(description="WAV, MP3, OGG/Opus, FLAC or M4A")],
    metadata: Annotated[str, Form(description="JSON: external_id, source, started_at, agent, customer "
                                              "{name, phone, email, identities}, channel_map, queue, transfers")],
) -> dict[str, Any]:
    """Upload a call recording. The audio is probed before it is kept (422 with the reason otherwise); the
    same file twice is stored once; re-uploading the same external id is idempotent."""
    try:
        meta = RecordingMetadata.model_validate(json.loads(metadata))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"metadata is not JSON: {exc.msg}", details=[{"loc": "metadata", "msg": exc.msg}]) from exc
    except ValidationError as exc:
        raise InvalidInput("metadata is not valid: " + writing.validation_reason(exc),
                           details=[{"loc": "metadata." + ".".join(str(p) for p in e["loc"]), "msg": e["msg"]}
                                    for e in exc.errors()]) from exc
    result = calls.ingest_recording(session=session, settings=settings, queue=queue, chunks=_chunks(file),
                                    filename=file.filename or "", metadata=meta, actor=principal)
    return {"interaction_id": result.interaction.id, "recording_id": result.recording.id, "status": result.status,
            "sha256": result.recording.sha256, "format": result.recording.format,
            "duration_seconds": result.recording.duration_seconds,
            "transcription_job_id": result.transcription_job_id}


@router.get("/recordings/{recording_id}/audio", response_class=FileResponse, responses=error_responses(403, 404))
def recording_audio(recording_id: int, request: Request, principal: CurrentPrincipal, session: SessionDep,
                    settings: SettingsDep) -> FileResponse:
    """The original, unredacted audio of a recording: only for roles in EARSHOT_UNREDACTED_ROLES (by default
    admins and evaluators) who may see the call; every playback is audited (`recording.play_original`). The
    call's player uses `/api/interactions/{id}/audio`, which serves the redacted copy."""
    from app.speech.api import first_request
    from app.speech.service import require_unredacted

    recording = recordings.get_recording(session=session, recording_id=recording_id)
    interactions.get_interaction(session=session, interaction_id=recording.interaction_id, principal=principal)
    require_unredacted(session=session, principal=principal, settings=settings, action="recording.play_original",
                       record_type="recording", record_id=recording_id, audit_access=first_request(request))
    path = recordings.recording_path(settings=settings, recording=recording)
    return stored_file(path, media_type=recordings.recording_media_type(recording),
                       filename=recording.original_filename or f"recording-{recording.id}")


@router.post("/chats", responses=error_responses(413))
def import_chats(body: list[dict[str, Any]] | dict[str, Any], principal: AdminPrincipal, session: SessionDep,
                 settings: SettingsDep, source: str = "api") -> ImportReport:
    """Chat messages (a list, or {"messages": [...]}) in the chats.jsonl shape; grouped by conversation."""
    items = body.get("messages", []) if isinstance(body, dict) else body
    return chats.import_chats(session=session, records=list(enumerate(items, start=1)), source=source,
                              actor=principal, settings=settings)


@router.post("/social", responses=error_responses(413))
def import_social(body: list[dict[str, Any]] | dict[str, Any], principal: AdminPrincipal, session: SessionDep,
                  settings: SettingsDep, source: str = "api") -> ImportReport:
    """Social posts, comments and replies ({"posts": [...]}, the social.json shape); one interaction a thread."""
    return social.import_social(session=session, records=social.social_records(body), source=source,
                               actor=principal, settings=settings)


@router.post("/emails/upload", responses=error_responses(413))
def import_emails(principal: AdminPrincipal, session: SessionDep, settings: SettingsDep,
                  files: Annotated[list[UploadFile], File(description=".eml messages or .mbox archives")],
                  source: Annotated[str, Form()] = "api") -> ImportReport:
    """E-mails threaded by Message-ID / In-Reply-To / References (runs inline; use the import job for big mboxes)."""
    from app.ingest.emails import mbox_messages

    sources: list[tuple[str, bytes]] = []
    for upload in files:
        raw = upload.file.read()
        name = upload.filename or "message.eml"
        if name.lower().endswith(".mbox") or raw[:5] == b"From ":
            store = imports_store(settings.resolved_data_dir)
            stored = store.put_chunks([raw], max_bytes=settings.max_upload_bytes)
            sources.extend(mbox_messages(stored.path, name))
        else:
            sources.append((name, raw))
    return email_threads.import_emails(session=session, sources=sources, source=source, actor=principal,
                                 settings=settings)


@router.post("/imports/{kind}/upload", status_code=202, responses=error_responses(413))
def start_import(kind: str, principal: AdminPrincipal, session: SessionDep, settings: SettingsDep,
                 queue: QueueDep, file: Annotated[UploadFile, File()],
                 source: Annotated[str, Form()] = "import") -> ImportJobStarted:
    """Start a background import of one file (kind: chats .jsonl/.csv, emails .eml/.mbox, social .json);
    follow it at GET /api/jobs/{job_id}; its result is the import report."""
    job = start_import_job(session=session, settings=settings, queue=queue, kind=kind, upload=file, source=source,
                           user_id=principal.user_id)
    assert job.id is not None
    return ImportJobStarted(job_id=job.id, status=job.status)


def start_import_job(*, session: Session, settings: Settings, queue: JobQueue, kind: str, upload: UploadFile,
                     source: str, user_id: int) -> Job:
    """Store the uploaded file (content-addressed) and queue an `ingest.import` job for it."""
    if kind not in service.IMPORT_KINDS:
        raise InvalidInput(f"unknown import kind {kind!r}; one of {', '.join(service.IMPORT_KINDS)}")
    store = imports_store(settings.resolved_data_dir)
    stored = store.put_chunks(_chunks(upload), max_bytes=settings.max_upload_bytes)
    with store.path_for(stored.sha256).open("rb") as handle:  # a picture or an archive is refused now, not later
        refuse_binary(handle.read(16), what=Path(upload.filename or "the file").name, expected=f"a {kind} file")
    job = queue.enqueue(session=session, kind=IMPORT_KIND, created_by=user_id, payload={
        "kind": kind, "sha256": stored.sha256, "filename": Path(upload.filename or "upload").name,
        "source": source or "import"})
    # enqueue's refresh opened a new transaction; end it so an inline (immediate-mode) run's writes are kept
    session.commit()
    return job


def _token_admin(principal: CurrentPrincipal) -> Principal:
    """Webhooks: an admin's API token only (checked before the body is read)."""
    if principal.via != "token":
        raise Forbidden("Webhooks are authenticated with an API token (Authorization: Bearer ...).")
    if not principal.has(Role.ADMIN):
        raise Forbidden("The webhook's API token must belong to an admin.")
    return principal


@router.post("/webhooks/interactions", responses=error_responses(401, 403))
def webhook(principal: Annotated[Principal, Depends(_token_admin)], body: WebhookInteraction,
            session: SessionDep, settings: SettingsDep) -> WebhookResult:
    """Push one interaction (any channel) from a CRM or CCaaS, authenticated with an admin's API token
    (`Authorization: Bearer ...`). Idempotent by source + external_id: a replay answers "unchanged"."""
    interaction, status = service.ingest_webhook(session=session, data=body, actor=principal, settings=settings)
    assert interaction.id is not None
    return WebhookResult(interaction_id=interaction.id, status=status)
