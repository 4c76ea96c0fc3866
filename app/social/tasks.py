"""Background job of social care: the sweep (run it every few minutes: `earshot social sweep`, or a job)."""

from typing import Any

from huey import Huey, crontab

from app.core.db import session_scope
from app.core.jobs import JobContext, JobKind, Runtime, job_handler
from app.social.sweep import sweep

SWEEP_EVERY_MINUTES = 5


@job_handler(JobKind.SOCIAL_SWEEP)
def run_sweep(context: JobContext) -> dict[str, Any]:
    with session_scope(context.runtime.sessions) as session:
        return sweep(session=session)


def register_periodic(huey: Huey, runtime: Runtime) -> Any:
    """Run the sweep every SWEEP_EVERY_MINUTES on a consumer started with periodic=True.

    Called by JobQueue for every queue it builds (the plug-in point for periodic work without job rows);
    `earshot social sweep` or POST /api/social/sweep run the same sweep by hand.
    """

    @huey.periodic_task(crontab(minute=f"*/{SWEEP_EVERY_MINUTES}"), name="social.sweep.periodic")  # type: ignore[untyped-decorator]
    def periodic_sweep() -> dict[str, Any]:
        with session_scope(runtime.sessions) as session:
            return sweep(session=session)

    return periodic_sweep
