"""The auto-QA check of a draft form: its rules run on every reference interaction (15-30 ms of CPU per
call here, 8-15 s for 500), so it is a job with progress; the form-test page reads its result."""

from typing import Any

from app.core.db import session_scope
from app.core.errors import EarshotError
from app.core.jobs import JobContext, PermanentJobError, job_handler
from app.scorecards.auto_check import AUTO_CHECK_JOB, auto_check_inputs, auto_check_result, run_auto_rules

BATCH = 20


@job_handler(AUTO_CHECK_JOB, max_attempts=2)
def auto_check(ctx: JobContext) -> dict[str, Any]:
    """payload: {"version_id", "limit", "since", "until", "target"} (the reference options as form fields).
    Each batch of interactions is read in its own short transaction, then the progress is recorded."""
    try:
        with session_scope(ctx.runtime.sessions) as session:
            draft, interaction_ids = auto_check_inputs(session=session, payload=ctx.payload)
    except (EarshotError, KeyError, ValueError) as exc:
        raise PermanentJobError(f"cannot check this version: {exc}") from exc
    answers: dict[int, dict[str, tuple[str, str]]] = {}
    for start in range(0, len(interaction_ids), BATCH):
        with session_scope(ctx.runtime.sessions) as session:
            answers.update(run_auto_rules(session=session, draft=draft,
                                          interaction_ids=interaction_ids[start:start + BATCH]))
        done = min(start + BATCH, len(interaction_ids))
        ctx.progress(done / len(interaction_ids), f"{done} of {len(interaction_ids)} interactions")
    return auto_check_result(answers)
