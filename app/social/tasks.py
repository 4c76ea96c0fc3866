"""Background job of social care: the sweep (run it every few minutes: `earshot social sweep`, or a job)."""

from typing import Any

from app.core.db import session_scope
from app.core.jobs import JobContext, job_handler
from app.social.sweep import sweep

SWEEP_EVERY_MINUTES = 5


@job_handler("social.sweep")
def run_sweep(context: JobContext) -> dict[str, Any]:
    with session_scope(context.runtime.sessions) as session:
        return sweep(session=session)
