"""Background jobs: run the coaching rules (after an evaluation is submitted, and hourly for everyone), and
pick up the review meetings' retraining actions (hourly)."""

from typing import Any

from huey import crontab

from app.coaching import rules, sources
from app.core.db import session_scope
from app.core.jobs import JobContext, JobKind, job_handler, periodic_job

PICK_UP_JOB = JobKind.COACHING_PICK_UP_RETRAINING


@job_handler(rules.RULES_JOB)
def apply_rules_job(ctx: JobContext) -> dict[str, Any]:
    """Idempotent: the rules never open a second assignment on an open topic, nor re-trigger on
    evaluations an earlier assignment on the topic already answered."""
    agent_id = ctx.payload.get("agent_id")
    with session_scope(ctx.runtime.sessions) as session:
        created = rules.run_rules(session=session, load=sources.load_recent_outcomes,
                                    agent_id=int(agent_id) if agent_id is not None else None)
        return {"created": [a.id for a in created]}


@job_handler(PICK_UP_JOB)
def pick_up_retraining_job(ctx: JobContext) -> dict[str, Any]:
    """Idempotent: an action already turned into an assignment is not picked up again."""
    with session_scope(ctx.runtime.sessions) as session:
        return {"created": [a.id for a in sources.pick_up_retraining(session)]}


periodic_job(rules.RULES_JOB, crontab(minute="10"), every="hour")
periodic_job(PICK_UP_JOB, crontab(minute="20"), every="hour")
