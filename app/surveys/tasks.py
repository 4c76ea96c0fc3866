"""Survey imports as background jobs (`surveys.import`): the upload is checked and stored by the request, the
rows are written by the worker in chunks of BACKGROUND_CHUNK, each chunk in its own short transaction, so that
a 100,000-row import never holds the database's write lock for long and other users keep working."""

import time
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app.core.db import session_scope, write_transactions
from app.core.errors import InvalidInput
from app.core.jobs import JobContext, JobKind, JobQueue, PermanentJobError, job_handler
from app.core.models import Job
from app.core.settings import Settings
from app.core.storage import BlobStore
from app.surveys import service
from app.surveys.imports import background_writer, csv_rows, decode_upload, import_csv

IMPORT_KIND = JobKind.SURVEYS_IMPORT
PROGRESS_EVERY_SECONDS = 1.0  # progress is a write too: at most one a second


def uploads_store(settings: Settings) -> BlobStore:
    """Uploaded survey files, content-addressed (the same folder as the other imports' uploads)."""
    return BlobStore(settings.resolved_data_dir / "imports")


def start_import(*, session: Session, settings: Settings, queue: JobQueue, source_id: int, data: bytes,
                 filename: str, user_id: int | None) -> Job:
    """Check that the file can be read with the source's mapping (InvalidInput, 422, when not: not text, no
    response id column, a column named twice), store it and queue the import. Follow it at /api/jobs/{id};
    its result is the import report with every rejected line."""
    source = service.get_source(session=session, source_id=source_id)
    what = Path(filename).name or "the CSV"
    csv_rows(source=source, text=decode_upload(data, what=what), what=what)
    stored = uploads_store(settings).put_chunks([data], max_bytes=settings.max_upload_bytes)
    job = queue.enqueue(session=session, kind=IMPORT_KIND, created_by=user_id, payload={
        "source_id": source_id, "sha256": stored.sha256, "filename": what})
    session.commit()  # an inline (immediate-mode) run has committed its own work; end the read enqueue opened
    return job


@job_handler(IMPORT_KIND, max_attempts=2)
def run_import(context: JobContext) -> dict[str, Any]:
    """payload: {source_id, sha256, filename}. A retry starts over: rows already written are "unchanged"."""
    payload = context.payload
    settings = context.runtime.settings
    path = uploads_store(settings).path_for(str(payload["sha256"]))
    if not path.exists():
        raise PermanentJobError("the uploaded file is no longer stored")
    what = str(payload.get("filename") or "the CSV")
    reported = [0.0]

    def progress(done: int, total: int) -> None:  # called right after a chunk's commit
        if time.monotonic() - reported[0] >= PROGRESS_EVERY_SECONDS:
            context.progress(done / max(total, 1), f"{done} of {total} lines")
            reported[0] = time.monotonic()

    # Each chunk takes SQLite's write lock at BEGIN (waiting its turn behind other writers) rather than
    # reading first and failing with "database is locked" when another connection wrote in between.
    try:
        # (not at a lower CPU priority: the import writes nearly all the time it runs, holding SQLite's write lock,
        # and a low-priority holder makes every other writer wait for it; see ingest.writing.write_in_batches)
        with write_transactions(), session_scope(context.runtime.sessions) as session:
            source = service.get_source(session=session, source_id=int(payload["source_id"]))

            report = import_csv(session=session, source=source, actor=None, what=what,
                                text=decode_upload(path.read_bytes(), what=what),
                                region=settings.phone_default_region, writer=background_writer(session),
                                progress=progress)
    except InvalidInput as exc:
        raise PermanentJobError(exc.message) from exc
    return report.model_dump()
