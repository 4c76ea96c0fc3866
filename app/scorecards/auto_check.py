"""The auto-QA check of a draft form: its auto-QA rules on yes/no questions run on the reference
interactions by a job (slow: the language pipeline on every transcript), one job per version content,
options and reference set, whose answers the form test then compares with the evaluators'."""


import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from app.core.errors import InvalidInput
from app.core.jobs import JobKind, JobQueue
from app.core.models import Job
from app.core.security import Principal
from app.scorecards import service
from app.scorecards.models import ScorecardVersion
from app.scorecards.reference import ReferenceEvaluation, ReferenceOptions, parse_options, reference_set
from app.scorecards.schema import ScorecardForm

AUTO_CHECK_JOB = JobKind.SCORECARDS_AUTO_CHECK


@dataclass(frozen=True)
class AutoJobState:
    job_id: int
    status: str
    progress: float
    message: str | None
    error: str | None


def auto_check_key(version: ScorecardVersion, options: ReferenceOptions,
                   reference: Sequence[ReferenceEvaluation]) -> str:
    """One job per (version content, options, reference evaluations): a finished check is reused until a new
    evaluation enters the reference set or the draft changes."""
    ids = ",".join(str(ref.evaluation_id) for ref in reference)  # the pass mark plays no part in the answers
    digest = hashlib.sha256(f"{version.content_hash}|{options.limit}|{options.since}|{options.until}|{ids}"
                            .encode()).hexdigest()
    return f"{AUTO_CHECK_JOB}:{version.id}:{digest[:32]}"


def auto_job(session: Session, key: str) -> Job | None:
    return session.exec(select(Job).where(Job.dedupe_key == key)).first()


def start_auto_check(*, session: Session, queue: JobQueue, version: ScorecardVersion, options: ReferenceOptions,
                     actor: Principal) -> Job:
    """Queue the auto-QA check of `version` on its reference set (or return the one already queued or done).
    Raises InvalidInput when the version has no auto-QA rule on a yes/no question."""
    if not auto_rules_of(service.form_of(version)):
        raise InvalidInput("this version has no auto-QA rule on a yes/no question to check",
                           details=[{"loc": "auto_answer", "msg": "no rule to check"}])
    since, until = options.window()
    reference = reference_set(session=session, scorecard_id=version.scorecard_id, limit=options.limit,
                              since=since, until=until)
    return queue.enqueue(session=session, kind=AUTO_CHECK_JOB, created_by=actor.user_id,
                         dedupe_key=auto_check_key(version, options, reference),
                         payload={"version_id": version.id, **options.as_form()})


def auto_check_inputs(*, session: Session, payload: Mapping[str, Any]) -> tuple[ScorecardForm, list[int]]:
    """The job's inputs: the version's form and the reference interactions (raises NotFound, InvalidInput)."""
    version = service.get_version(session=session, version_id=int(payload["version_id"]))
    options = parse_options(limit=str(payload.get("limit", "")), since=str(payload.get("since", "")),
                            until=str(payload.get("until", "")), target=str(payload.get("target", "")))
    since, until = options.window()
    reference = reference_set(session=session, scorecard_id=version.scorecard_id, limit=options.limit,
                              since=since, until=until)
    return service.form_of(version), list(dict.fromkeys(ref.interaction_id for ref in reference))


def auto_check_result(answers: Mapping[int, Mapping[str, tuple[str, str]]]) -> dict[str, Any]:
    """The job's result as JSON (read back by `form_test`)."""
    return {"interactions": len(answers),
            "answers": {str(i): {q: list(a) for q, a in found.items()} for i, found in answers.items()}}


def answers_of(job: Job) -> dict[int, dict[str, tuple[str, str]]]:
    stored = (job.result or {}).get("answers", {})
    return {int(i): {q: (str(a[0]), str(a[1])) for q, a in found.items()} for i, found in stored.items()}


def auto_rules_of(draft: ScorecardForm) -> dict[str, Any]:
    """The draft's auto-QA rules on yes/no questions, parsed ({question id: rule}); a rule that does not
    validate is left out (its check then says it was not run)."""
    from pydantic import ValidationError

    from app.nlp.sources import rule_from_auto_answer

    rules: dict[str, Any] = {}
    for _, question in draft.questions():
        if question.auto_answer is not None and question.type == "yes_no":
            try:
                rules[question.id] = rule_from_auto_answer(question.auto_answer.rule, question.auto_answer.params)
            except ValidationError:
                continue
    return rules


def run_auto_rules(*, session: Session, draft: ScorecardForm,
                   interaction_ids: Sequence[int]) -> dict[int, dict[str, tuple[str, str]]]:
    """Run the draft's auto-QA rules on these interactions (nothing stored): interaction id →
    {question id: (value, summary)}. Slow (the language pipeline on every transcript): a job runs it."""
    from app.nlp import service as nlp

    rules = auto_rules_of(draft)
    out: dict[int, dict[str, tuple[str, str]]] = {}
    for interaction_id in interaction_ids if rules else []:
        answers = nlp.answer_rules(session=session, interaction_id=interaction_id, rules=rules)
        out[interaction_id] = {key: (answer.value, answer.summary) for key, answer in answers.items()}
    return out
