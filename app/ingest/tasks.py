"""Background imports started from the web (the imports page and POST /api/imports/{kind}/upload)."""

import time
from pathlib import Path
from typing import Any

from app.core.db import session_scope, write_transactions
from app.core.errors import InvalidInput
from app.core.jobs import JobContext, JobKind, PermanentJobError, job_handler
from app.core.storage import BlobStore
from app.ingest import service

IMPORT_KIND = JobKind.INGEST_IMPORT


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

    reported = [0.0]
    try:
        # the import's transactions take SQLite's write lock at BEGIN (waiting their turn) instead of failing
        # with "database is locked" when another connection wrote after their first read
        # (no lower CPU priority for this thread: it holds SQLite's write lock while it writes, and everyone
        # waits for it; the import reads its texts in a thread of low priority, see writing.write_in_batches)
        with write_transactions(), session_scope(context.runtime.sessions) as session:

            def progress(done: int, total: int) -> None:
                # only right after the import's own commits (the job's end sets 100 %), at most once a second:
                # written from another connection while the import holds SQLite's write lock, it would wait
                if not session.in_transaction() and time.monotonic() - reported[0] >= 1.0:
                    context.progress(done / max(total, 1), f"{done} of {total}")
                    reported[0] = time.monotonic()

            report = service.import_file(session=session, settings=settings, kind=str(payload["kind"]), path=path,
                                         filename=str(payload.get("filename", "")),
                                         source=str(payload.get("source") or "import"), progress=progress,
                                         background=True)
    except InvalidInput as exc:
        raise PermanentJobError(exc.message) from exc
    return report.model_dump()
