"""Background job: render a meeting's PDF pack."""

from typing import Any

from app.core.db import session_scope
from app.core.errors import NotFound
from app.core.jobs import JobContext, PermanentJobError, job_handler
from app.reviews import pack


@job_handler(pack.JOB_KIND)
def meeting_pack(context: JobContext) -> dict[str, Any]:
    """Payload {"meeting_id"}; idempotent: a re-run renders and stores the same pack again."""
    meeting_id = int(context.payload["meeting_id"])
    try:
        with session_scope(context.runtime.sessions) as session:
            return pack.build_and_store(session=session, meeting_id=meeting_id,
                                        settings=context.runtime.settings, progress=context.progress)
    except NotFound as exc:
        raise PermanentJobError(exc.message) from exc
