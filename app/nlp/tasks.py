"""The analytics job: run on every interaction after transcription or ingest."""

from typing import Any

from pydantic import ValidationError

from app.core.db import session_scope
from app.core.errors import NotFound
from app.core.jobs import JobContext, PermanentJobError, job_handler
from app.nlp.service import ANALYZE_JOB, analyze_interaction


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
