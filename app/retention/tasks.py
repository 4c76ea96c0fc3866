"""The nightly retention sweep."""

from typing import Any

from huey import crontab

from app.core.db import session_scope
from app.core.jobs import JobContext, JobKind, job_handler, periodic_job
from app.retention.service import apply_retention


@job_handler(JobKind.RETENTION_SWEEP, max_attempts=3)
def retention_sweep(ctx: JobContext) -> dict[str, Any]:
    with session_scope(ctx.runtime.sessions) as session:
        return apply_retention(session=session, settings=ctx.runtime.settings).as_dict()


periodic_job(JobKind.RETENTION_SWEEP, crontab(hour="3", minute="15"), every="day")
