"""Background job: run the coaching rules for an agent after an evaluation was submitted."""

from typing import Any

from app.coaching import service, sources
from app.core.db import session_scope
from app.core.jobs import JobContext, job_handler


@job_handler(service.RULES_JOB)
def apply_rules_job(ctx: JobContext) -> dict[str, Any]:
    """Idempotent: the rules never open a second assignment on an open topic, nor re-trigger on
    evaluations an earlier assignment on the topic already answered."""
    agent_id = ctx.payload.get("agent_id")
    with session_scope(ctx.runtime.sessions) as session:
        created = service.run_rules(session=session, load=sources.load_recent_outcomes,
                                    agent_id=int(agent_id) if agent_id is not None else None)
        return {"created": [a.id for a in created]}
