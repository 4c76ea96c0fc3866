"""The analytics job: run on every interaction after transcription or ingest."""

from typing import Any

from huey import crontab
from pydantic import ValidationError

from app.core.db import session_scope
from app.core.errors import NotFound
from app.core.jobs import JobContext, JobKind, PermanentJobError, job_handler, periodic_job
from app.nlp.service import ANALYZE_JOB, analyze_interaction, unanalyzed_ids


@job_handler(ANALYZE_JOB, max_attempts=3)
def analyze(ctx: JobContext) -> dict[str, Any]:
    """payload: {"interaction_id": int, "rules": {question_id: rule}?, "metrics": {name: value}?}"""
    interaction_id = ctx.payload.get("interaction_id")
    if not isinstance(interaction_id, int):
        raise PermanentJobError("payload needs an integer interaction_id")
    try:
        with session_scope(ctx.runtime.sessions) as session:
            outcome = analyze_interaction(session=session, interaction_id=interaction_id,
                                          rules=ctx.payload.get("rules"), metrics=ctx.payload.get("metrics"))
            return outcome.as_dict()
    except NotFound as exc:
        raise PermanentJobError(str(exc)) from exc
    except ValidationError as exc:
        raise PermanentJobError(f"invalid auto-QA rule: {exc}") from exc


SWEEP_BATCH = 200


@job_handler(JobKind.NLP_SWEEP, max_attempts=1)
def sweep(ctx: JobContext) -> dict[str, Any]:
    """Hourly safety net: analyse interactions that have content but were never analysed (e.g. when
    an import did not enqueue the analysis). At most SWEEP_BATCH per run; each in its own transaction."""
    with session_scope(ctx.runtime.sessions) as session:
        ids = unanalyzed_ids(session=session, limit=SWEEP_BATCH)
    failed: list[int] = []
    for done, interaction_id in enumerate(ids):
        try:
            with session_scope(ctx.runtime.sessions) as session:
                analyze_interaction(session=session, interaction_id=interaction_id)
        except (NotFound, ValidationError):
            failed.append(interaction_id)
        ctx.progress((done + 1) / len(ids), f"{done + 1} of {len(ids)} interactions")
    return {"analyzed": len(ids) - len(failed), "failed": failed}


periodic_job(JobKind.NLP_SWEEP, crontab(minute="20"), every="hour")
