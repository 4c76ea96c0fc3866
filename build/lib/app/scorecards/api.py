"""JSON endpoints for scorecards: list, read, create/edit (→ new version), publish, retire, YAML import/export,
validation and a score preview for any version."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import PlainTextResponse

from app.auth.deps import CurrentPrincipal, SessionDep, require_roles
from app.core.errors import STANDARD_ERRORS, error_responses
from app.core.security import Principal, Role
from app.scorecards import service
from app.scorecards.models import (
    ScoreAnswer,
    ScorecardDetail,
    ScorecardPublic,
    ScorecardVersionPublic,
    ScorePreview,
    YamlImport,
)
from app.scorecards.schema import parse_form

router = APIRouter(prefix="/api/scorecards", tags=["scorecards"], responses=STANDARD_ERRORS)

FormEditor = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.EVALUATOR))]
FORM_BODY = Body(description="A scorecard form (see scorecards/*.yaml for examples).",
                 examples=[{"key": "k", "name": "N", "channels": ["chat"], "sections": [
                     {"id": "s", "title": "S", "questions": [{"id": "q", "text": "Q", "type": "yes_no"}]}]}])


class SavedForm(ScorecardDetail):
    outcome: str


def _saved(session: Any, scorecard: Any, outcome: str) -> SavedForm:
    return SavedForm(**service.detail(session=session, scorecard=scorecard).model_dump(), outcome=outcome)


@router.get("")
def list_scorecards(principal: CurrentPrincipal, session: SessionDep, channel: str | None = None,
                    include_retired: bool = False) -> list[ScorecardPublic]:
    return [service.public(session=session, scorecard=s) for s in
            service.list_scorecards(session=session, channel=channel, include_retired=include_retired)]


@router.post("", status_code=201, responses=error_responses(409))
def create_or_update_by_key(principal: FormEditor, session: SessionDep,
                            form: Annotated[dict[str, Any], FORM_BODY], publish: bool = False) -> SavedForm:
    """Save a form by its key: a new scorecard, or a new version of the existing one (same content: unchanged).
    An invalid form is rejected with 422 and every problem's field path."""
    scorecard, _, outcome = service.save_form(session=session, form=parse_form(form), actor=principal,
                                              publish=publish)
    return _saved(session, scorecard, outcome)


@router.post("/validate")
def validate(principal: FormEditor, form: Annotated[dict[str, Any], FORM_BODY]) -> dict[str, Any]:
    """Check a form without saving it (422 with field paths when invalid)."""
    parsed = parse_form(form)
    return {"valid": True, "key": parsed.key, "questions": len(parsed.questions())}


@router.post("/import", status_code=201)
def import_yaml(body: YamlImport, principal: FormEditor, session: SessionDep) -> SavedForm:
    """Import a form written in YAML; problems carry their field path and line."""
    scorecard, _, outcome = service.import_yaml(session=session, text=body.yaml, actor=principal,
                                                source="yaml:api", publish=body.publish)
    return _saved(session, scorecard, outcome)


@router.get("/{scorecard_id}", responses=error_responses(404))
def get_scorecard(scorecard_id: int, principal: CurrentPrincipal, session: SessionDep) -> ScorecardDetail:
    return service.detail(session=session, scorecard=service.get(session=session, scorecard_id=scorecard_id))


@router.put("/{scorecard_id}", responses=error_responses(404))
def update_scorecard(scorecard_id: int, principal: FormEditor, session: SessionDep,
                     form: Annotated[dict[str, Any], FORM_BODY], publish: bool = False) -> SavedForm:
    """Edit a form: an unused draft changes in place; otherwise a new version is made."""
    scorecard, _, outcome = service.update_form(session=session, scorecard_id=scorecard_id, form=parse_form(form),
                                                actor=principal, publish=publish)
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


@router.post("/{scorecard_id}/versions/{number}/publish", responses=error_responses(404, 409))
def publish(scorecard_id: int, number: int, principal: FormEditor, session: SessionDep) -> ScorecardVersionPublic:
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    return service.version_public(service.publish_version(session=session, version=version, actor=principal))


@router.post("/{scorecard_id}/versions/{number}/score", responses=error_responses(404))
def score_preview(scorecard_id: int, number: int, answers: list[ScoreAnswer], principal: CurrentPrincipal,
                  session: SessionDep) -> ScorePreview:
    """Score answers against a version without saving anything (the explanation per question included)."""
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    return ScorePreview(**service.score_answers(form=service.form_of(version), answers=answers).to_dict())


@router.post("/{scorecard_id}/retire", responses=error_responses(404))
def retire(scorecard_id: int, principal: FormEditor, session: SessionDep) -> ScorecardPublic:
    return service.public(session=session, scorecard=service.retire(session=session, scorecard_id=scorecard_id,
                                                                    actor=principal))
