"""Background imports started from the web (the imports page and POST /api/imports/{kind}/upload)."""

from pathlib import Path
from typing import Any

from app.core.db import session_scope
from app.core.errors import InvalidInput
from app.core.jobs import JobContext, PermanentJobError, job_handler
from app.core.storage import BlobStore
from app.ingest import service

IMPORT_KIND = "ingest.import"


def imports_store(data_dir: Path) -> BlobStore:
    return BlobStore(data_dir / "imports")


@job_handler(IMPORT_KIND, max_attempts=2)
def run_import(context: JobContext) -> dict[str, Any]:
    """payload: {kind, sha256, filename, source}; the result is the import report."""
    payload = context.payload
    settings = context.runtime.settings
    path = imports_store(settings.resolved_data_dir).path_for(str(payload["sha256"]))
    if not path.exists():
        raise PermanentJobError("the uploaded file is no longer stored")

    try:
        with session_scope(context.runtime.sessions) as session:

            def progress(done: int, total: int) -> None:
                if done == total or done % 25 == 0:
                    # commit what is imported so far first: the progress is written on another connection,
                    # and on SQLite it would wait for the write lock this import's transaction holds
                    # (until the busy timeout, then "database is locked" failed every import job)
                    session.commit()
                    context.progress(done / max(total, 1), f"{done} of {total}")

            report = service.import_file(session=session, settings=settings, kind=str(payload["kind"]), path=path,
                                         filename=str(payload.get("filename", "")),
                                         source=str(payload.get("source") or "import"), progress=progress)
    except InvalidInput as exc:
        raise PermanentJobError(exc.message) from exc
    return report.model_dump()
