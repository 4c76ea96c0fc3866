"""JSON endpoints for scorecards: list, read, create/edit (→ new version), publish, retire, YAML import/export,
validation and a score preview for any version."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from app.auth.deps import CurrentPrincipal, EvaluatorPrincipal, QueueDep, SessionDep
from app.core.errors import STANDARD_ERRORS, Conflict, error_responses
from app.core.security import Principal
from app.scorecards import auto_check, formtest, reference, service
from app.scorecards.models import (
    ScoreAnswer,
    ScorecardDetail,
    ScorecardPublic,
    ScorecardVersion,
    ScorecardVersionPublic,
    ScorePreview,
    VersionStatus,
    YamlImport,
)
from app.scorecards.schema import parse_form

router = APIRouter(prefix="/api/scorecards", tags=["scorecards"], responses=STANDARD_ERRORS)

FORM_BODY = Body(description="A scorecard form (see scorecards/*.yaml for examples).",
                 examples=[{"key": "k", "name": "N", "channels": ["chat"], "sections": [
                     {"id": "s", "title": "S", "questions": [{"id": "q", "text": "Q", "type": "yes_no"}]}]}])


class SavedForm(ScorecardDetail):
    outcome: str


class FormTestPublic(BaseModel):
    summary: dict[str, Any]
    verdict: str
    shift: str
    old_mean: str
    new_mean: str
    combined_effect: float
    elapsed_seconds: float
    effects: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    auto_checks: list[dict[str, Any]]
    auto_check_job: dict[str, Any] | None


def _saved(session: Any, scorecard: Any, outcome: str) -> SavedForm:
    return SavedForm(**service.detail(session=session, scorecard=scorecard).model_dump(), outcome=outcome)


def _publish_saved(session: Any, version: ScorecardVersion, principal: Principal, reviewed: bool) -> None:
    """Publishing on save goes through the same test as the publish endpoint (the draft stays saved)."""
    if version.status != VersionStatus.DRAFT:
        return
    try:
        formtest.publish_reviewed(session=session, version=version, actor=principal, reviewed=reviewed)
    except Conflict as exc:
        raise Conflict(f"Saved as draft version {version.number}, not published. {exc.message}",
                       details=exc.details) from exc


@router.get("")
def list_scorecards(principal: CurrentPrincipal, session: SessionDep, channel: str | None = None,
                    include_retired: bool = False) -> list[ScorecardPublic]:
    return [service.public(session=session, scorecard=s) for s in
            service.list_scorecards(session=session, channel=channel, include_retired=include_retired)]


@router.post("", status_code=201, responses=error_responses(409))
def create_or_update_by_key(principal: EvaluatorPrincipal, session: SessionDep,
                            form: Annotated[dict[str, Any], FORM_BODY], publish: bool = False,
                            reviewed: bool = False) -> SavedForm:
    """Save a form by its key: a new scorecard, or a new version of the existing one (same content: unchanged).
    An invalid form is rejected with 422 and every problem's field path. `publish=true` publishes it as the
    publish endpoint does (409, the draft kept, when the change needs `reviewed=true`)."""
    scorecard, version, outcome = service.save_form(session=session, form=parse_form(form), actor=principal)
    if publish:
        _publish_saved(session, version, principal, reviewed)
    return _saved(session, scorecard, outcome)


@router.post("/validate")
def validate(principal: EvaluatorPrincipal, form: Annotated[dict[str, Any], FORM_BODY]) -> dict[str, Any]:
    """Check a form without saving it (422 with field paths when invalid)."""
    parsed = parse_form(form)
    return {"valid": True, "key": parsed.key, "questions": len(parsed.questions())}


@router.post("/import", status_code=201, responses=error_responses(409))
def import_yaml(body: YamlImport, principal: EvaluatorPrincipal,
                session: SessionDep, reviewed: bool = False) -> SavedForm:
    """Import a form written in YAML; problems carry their field path and line. Publishing (the default)
    is tested like the publish endpoint: 409, the draft kept, when the change needs `reviewed=true`."""
    scorecard, version, outcome = service.import_yaml(session=session, text=body.yaml, actor=principal,
                                                      source="yaml:api", publish=False)
    if body.publish:
        _publish_saved(session, version, principal, reviewed)
    return _saved(session, scorecard, outcome)


@router.get("/{scorecard_id}", responses=error_responses(404))
def get_scorecard(scorecard_id: int, principal: CurrentPrincipal, session: SessionDep) -> ScorecardDetail:
    return service.detail(session=session, scorecard=service.get(session=session, scorecard_id=scorecard_id))


@router.put("/{scorecard_id}", responses=error_responses(404))
def update_scorecard(scorecard_id: int, principal: EvaluatorPrincipal, session: SessionDep,
                     form: Annotated[dict[str, Any], FORM_BODY], publish: bool = False,
                     reviewed: bool = False) -> SavedForm:
    """Edit a form: an unused draft changes in place; otherwise a new version is made (`publish` as on create)."""
    scorecard, version, outcome = service.update_form(session=session, scorecard_id=scorecard_id,
                                                      form=parse_form(form), actor=principal)
    if publish:
        _publish_saved(session, version, principal, reviewed)
    return _saved(session, scorecard, outcome)


@router.get("/{scorecard_id}/versions/{number}", responses=error_responses(404))
def get_version(scorecard_id: int, number: int, principal: CurrentPrincipal,
                session: SessionDep) -> ScorecardVersionPublic:
    return service.version_public(service.get_version_by_number(session=session, scorecard_id=scorecard_id,
                                                                number=number))


@router.get("/{scorecard_id}/versions/{number}/yaml", response_class=PlainTextResponse,
            responses=error_responses(404))
def export_version(scorecard_id: int, number: int, principal: CurrentPrincipal, session: SessionDep) -> str:
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    return service.export_yaml(version=version)


def _options(limit: int, since: date | None, until: date | None, target: float) -> reference.ReferenceOptions:
    options = reference.ReferenceOptions(limit=limit, since=since, until=until, target=target)
    options.check()
    return options


@router.get("/{scorecard_id}/versions/{number}/test", responses=error_responses(404))
def form_test_report(scorecard_id: int, number: int, principal: EvaluatorPrincipal, session: SessionDep,
                     limit: Annotated[int, Query(ge=1, le=reference.MAX_REFERENCE_SIZE)] = reference.DEFAULT_REFERENCE_SIZE,
                     since: date | None = None, until: date | None = None,
                     target: Annotated[float, Query(ge=0, le=100)] = reference.DEFAULT_TARGET,
                     auto_rules: bool = True) -> FormTestPublic:
    """Re-score the last `limit` scored evaluations (optionally submitted between `since` and `until`) with
    this version and report what would change: mean shift with its interval, pass/fail flips at `target`,
    each change's effect, and (once `.../auto-check` has run) the disagreement of its auto-QA rules with the
    evaluators."""
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    report = formtest.form_test(session=session, version=version, options=_options(limit, since, until, target),
                                with_auto_rules=auto_rules)
    return FormTestPublic(**formtest.report_public(report))


class AutoCheckJob(BaseModel):
    id: int
    status: str
    progress: float
    progress_message: str | None


@router.post("/{scorecard_id}/versions/{number}/auto-check", status_code=202, responses=error_responses(404))
def start_auto_check(scorecard_id: int, number: int, principal: EvaluatorPrincipal,
                     session: SessionDep, queue: QueueDep,
                     limit: Annotated[int, Query(ge=1, le=reference.MAX_REFERENCE_SIZE)] = reference.DEFAULT_REFERENCE_SIZE,
                     since: date | None = None, until: date | None = None,
                     target: Annotated[float, Query(ge=0, le=100)] = reference.DEFAULT_TARGET) -> AutoCheckJob:
    """Run this version's auto-QA rules on the reference interactions in the background (follow the job at
    /api/jobs/{id}); the test report then compares them with the evaluators. 422 without a rule to check."""
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    job = auto_check.start_auto_check(session=session, queue=queue, version=version,
                                    options=_options(limit, since, until, target), actor=principal)
    return AutoCheckJob.model_validate(job, from_attributes=True)


@router.post("/{scorecard_id}/versions/{number}/publish", responses=error_responses(404, 409))
def publish(scorecard_id: int, number: int, principal: EvaluatorPrincipal, session: SessionDep, reviewed: bool = False,
            limit: Annotated[int, Query(ge=1, le=reference.MAX_REFERENCE_SIZE)] = reference.DEFAULT_REFERENCE_SIZE,
            since: date | None = None, until: date | None = None,
            target: Annotated[float, Query(ge=0, le=100)] = reference.DEFAULT_TARGET) -> ScorecardVersionPublic:
    """Publish a version. It is first tested on the reference set (see `.../test`); when it would move the
    mean score measurably or change anyone's pass/fail, 409 unless `reviewed=true`."""
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    published, _ = formtest.publish_reviewed(session=session, version=version, actor=principal, reviewed=reviewed,
                                             options=_options(limit, since, until, target))
    return service.version_public(published)


@router.post("/{scorecard_id}/versions/{number}/score", responses=error_responses(404))
def score_preview(scorecard_id: int, number: int, answers: list[ScoreAnswer], principal: CurrentPrincipal,
                  session: SessionDep) -> ScorePreview:
    """Score answers against a version without saving anything (the explanation per question included)."""
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    return ScorePreview(**service.score_answers(form=service.form_of(version), answers=answers).to_dict())


@router.post("/{scorecard_id}/retire", responses=error_responses(404))
def retire(scorecard_id: int, principal: EvaluatorPrincipal, session: SessionDep) -> ScorecardPublic:
    return service.public(session=session, scorecard=service.retire(session=session, scorecard_id=scorecard_id,
                                                                    actor=principal))
