"""Background jobs: render a meeting's PDF pack; announce overdue actions (hourly)."""

from typing import Any

from huey import Huey, crontab

from app.core.db import session_scope
from app.core.errors import NotFound
from app.core.jobs import JobContext, PermanentJobError, Runtime, job_handler
from app.reviews import actions, pack


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


def register_periodic(huey: Huey, runtime: Runtime) -> Any:
    """Every hour: announce the review actions that passed their due date (`action.overdue`, once each)."""

    @huey.periodic_task(crontab(minute="7"), name="reviews.overdue_actions.periodic")  # type: ignore[untyped-decorator]
    def overdue_actions() -> int:
        with session_scope(runtime.sessions) as session:
            count = actions.announce_overdue_actions(session=session)
            session.commit()
            return count

    return overdue_actions
