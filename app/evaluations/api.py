"""JSON endpoints: evaluations (create, answer, submit, acknowledge, dispute, resolve), the evaluator's
queue and assignments, sampling rules and calibration sessions."""

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from app.auth.deps import (
    AdminPrincipal,
    AgentPrincipal,
    CurrentPrincipal,
    EvaluatorPrincipal,
    SessionDep,
)
from app.core.errors import STANDARD_ERRORS, Forbidden, error_responses
from app.core.export import csv_response
from app.core.listing import ListResponse, PageNumber, PerPage, paginate
from app.core.security import Role
from app.evaluations import calibration, readings, reports, sampling, service
from app.evaluations.models import (
    AnswerIn,
    AnswersUpdate,
    AssignmentCreate,
    AssignmentPublic,
    CalibrationCreate,
    CalibrationPublic,
    DisputeCreate,
    DisputePublic,
    DisputeResolve,
    EvaluationCreate,
    EvaluationDetail,
    EvaluationPublic,
    SamplingRuleCreate,
    SamplingRulePublic,
    SamplingRun,
    SubmitBody,
)
from app.scorecards.models import ScorePreview

router = APIRouter(prefix="/api", tags=["evaluations"], responses=STANDARD_ERRORS)

NOT_FOUND_OR_CONFLICT = error_responses(404, 409)


# ---------------------------------------------------------------- evaluations

@router.get("/evaluations")
def list_evaluations(principal: CurrentPrincipal, session: SessionDep, agent_id: int | None = None,
                     state: str | None = None, evaluator_id: int | None = None, interaction_id: int | None = None,
                     page: PageNumber = 1, per_page: PerPage = 200) -> ListResponse[EvaluationPublic]:
    """Evaluations you may see (agents: their own submitted ones; coaches: their team's), newest first."""
    result = service.list_visible(session=session, principal=principal, agent_id=agent_id, state=state,
                                  evaluator_id=evaluator_id, interaction_id=interaction_id, page=page,
                                  per_page=per_page)
    return ListResponse.of(result.map(lambda e: service.public(session=session, evaluation=e)))


@router.post("/evaluations", status_code=201, responses=error_responses(404, 409))
def create_evaluation(body: EvaluationCreate, principal: EvaluatorPrincipal, session: SessionDep) -> EvaluationDetail:
    """Start a draft evaluation of an interaction with a scorecard's published version."""
    evaluation = service.create(
        session=session, principal=principal, interaction_id=body.interaction_id, scorecard_id=body.scorecard_id,
        assignment_id=body.assignment_id, again=body.again)
    return service.detail(session=session, evaluation=evaluation)


@router.get("/evaluations/{evaluation_id}", responses=error_responses(404))
def get_evaluation(evaluation_id: int, principal: CurrentPrincipal, session: SessionDep) -> EvaluationDetail:
    evaluation = service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
    return service.detail(session=session, evaluation=evaluation)


@router.get("/evaluations/{evaluation_id}/history", responses=error_responses(404))
def evaluation_history(evaluation_id: int, principal: CurrentPrincipal, session: SessionDep) -> list[dict[str, Any]]:
    """Every change of the evaluation (audit events with before/after), oldest first."""
    service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
    return [{"at": e.at, "actor_name": e.actor_name, "action": e.action, "before": e.before, "after": e.after,
             "reason": e.reason} for e in service.history(session=session, evaluation_id=evaluation_id)]


@router.get("/evaluations/{evaluation_id}/failed-answers", responses=error_responses(404))
def failed_answers(evaluation_id: int, principal: CurrentPrincipal, session: SessionDep) -> list[dict[str, Any]]:
    """The answers that lost points (what a coaching session should work on)."""
    service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
    return [vars(a) for a in readings.failed_answers(session=session, evaluation_id=evaluation_id)]


@router.put("/evaluations/{evaluation_id}/answers", responses=NOT_FOUND_OR_CONFLICT)
def save_answers(evaluation_id: int, body: AnswersUpdate, principal: EvaluatorPrincipal,
                 session: SessionDep) -> EvaluationDetail:
    """Save draft answers (merged by question). 409 when `revision` is stale or the evaluation is submitted."""
    evaluation = service.save_answers(
        session=session, principal=principal, evaluation_id=evaluation_id, revision=body.revision,
        answers=body.answers)
    return service.detail(session=session, evaluation=evaluation)


@router.post("/evaluations/{evaluation_id}/preview", responses=error_responses(404))
def preview(evaluation_id: int, answers: list[AnswerIn], principal: EvaluatorPrincipal,
            session: SessionDep) -> ScorePreview:
    """Score answers against the evaluation's form without saving (the live preview)."""
    evaluation = service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
    result = service.preview(form=service.form_of(session=session, evaluation=evaluation), answers=answers)
    return ScorePreview(**result.to_dict())


@router.post("/evaluations/{evaluation_id}/submit", responses=NOT_FOUND_OR_CONFLICT)
def submit(evaluation_id: int, body: SubmitBody, principal: EvaluatorPrincipal,
           session: SessionDep) -> EvaluationDetail:
    """Score on the server and submit. 422 lists missing required answers."""
    evaluation = service.submit(
        session=session, principal=principal, evaluation_id=evaluation_id, revision=body.revision,
        answers=body.answers)
    return service.detail(session=session, evaluation=evaluation)


@router.post("/evaluations/{evaluation_id}/acknowledge", responses=NOT_FOUND_OR_CONFLICT)
def acknowledge(evaluation_id: int, principal: AgentPrincipal, session: SessionDep) -> EvaluationDetail:
    evaluation = service.acknowledge(
        session=session, principal=principal, evaluation_id=evaluation_id)
    return service.detail(session=session, evaluation=evaluation)


@router.post("/evaluations/{evaluation_id}/dispute", status_code=201, responses=NOT_FOUND_OR_CONFLICT)
def dispute(evaluation_id: int, body: DisputeCreate, principal: AgentPrincipal, session: SessionDep) -> DisputePublic:
    """The evaluated agent disputes, with a reason and optionally per question, within the form's window."""
    row = service.dispute(
        session=session, principal=principal, evaluation_id=evaluation_id, reason=body.reason, items=body.items)
    return DisputePublic.model_validate(row, from_attributes=True)


@router.post("/evaluations/{evaluation_id}/resolve", responses=NOT_FOUND_OR_CONFLICT)
def resolve(evaluation_id: int, body: DisputeResolve, principal: EvaluatorPrincipal,
            session: SessionDep) -> EvaluationDetail:
    """Uphold the score, or change answers (re-scored); both need a reason and are audited."""
    evaluation = service.resolve(
        session=session, principal=principal, evaluation_id=evaluation_id, outcome=body.outcome,
        reason=body.reason, answers=body.answers, revision=body.revision)
    return service.detail(session=session, evaluation=evaluation)


@router.get("/evaluation-summary")
def evaluation_summary(principal: CurrentPrincipal, session: SessionDep, group_by: reports.GroupBy = "agent",
                       since: datetime | None = None, until: datetime | None = None,
                       scorecard_id: int | None = None, format: Literal["json", "csv"] = "json") -> Response:
    """Mean score, spread and critical-failure rate by agent, team, channel, evaluator, scorecard, question or
    week, within your scope; raw scores included (JSON) for intervals. `format=csv` for a spreadsheet."""
    groups = reports.summary(session=session, principal=principal, group_by=group_by, since=since, until=until,
                             scorecard_id=scorecard_id)
    if format == "csv":
        return csv_response(f"scores-by-{group_by}.csv",
                            [group_by, "n", "mean", "ci95_low", "ci95_high", "stdev", "critical_failures",
                             "critical_rate"],
                            ([g.key, g.n, g.mean, g.ci_low, g.ci_high, g.stdev, g.critical_failures, g.critical_rate]
                             for g in groups))
    return JSONResponse([asdict(g) for g in groups])


# ---------------------------------------------------------------- queue, assignments, sampling

@router.get("/assignments")
def my_queue(principal: EvaluatorPrincipal, session: SessionDep, evaluator_id: int | None = None,
             include_done: bool = False, page: PageNumber = 1,
             per_page: PerPage = 200) -> ListResponse[AssignmentPublic]:
    """The caller's assignments, earliest due first (admins may look at another evaluator's)."""
    target = principal.user_id
    if evaluator_id is not None and evaluator_id != principal.user_id:
        if not principal.has(Role.ADMIN):
            raise Forbidden("Only admins look at another evaluator's queue.")
        target = evaluator_id
    assignments = sampling.queue_for(session=session, evaluator_id=target, include_done=include_done)
    return ListResponse.of(paginate(assignments, page=page, per_page=per_page).map(
        lambda a: sampling.assignment_public(session=session, assignment=a)))


@router.post("/assignments", status_code=201, responses=error_responses(404))
def create_assignment(body: AssignmentCreate, principal: EvaluatorPrincipal, session: SessionDep) -> AssignmentPublic:
    assignment = sampling.create_assignment(session=session, principal=principal, data=body)
    return sampling.assignment_public(session=session, assignment=assignment)


@router.get("/sampling-rules")
def list_rules(principal: AdminPrincipal, session: SessionDep) -> list[SamplingRulePublic]:
    return [sampling.rule_public(r) for r in sampling.list_rules(session=session)]


@router.post("/sampling-rules", status_code=201)
def create_rule(body: SamplingRuleCreate, principal: AdminPrincipal, session: SessionDep) -> SamplingRulePublic:
    return sampling.rule_public(sampling.create_rule(session=session, principal=principal, data=body))


@router.post("/sampling-rules/{rule_id}/run", responses=NOT_FOUND_OR_CONFLICT)
def run_rule(rule_id: int, body: SamplingRun, principal: AdminPrincipal, session: SessionDep) -> list[AssignmentPublic]:
    """Create the assignments of one period (deterministic; never the same interaction twice per rule)."""
    created = sampling.run_rule(session=session, principal=principal, rule_id=rule_id,
                                period_start=body.period_start)
    return [sampling.assignment_public(session=session, assignment=a) for a in created]


# ---------------------------------------------------------------- calibration

@router.get("/calibrations")
def list_calibrations(principal: EvaluatorPrincipal, session: SessionDep, page: PageNumber = 1,
                      per_page: PerPage = 100) -> ListResponse[CalibrationPublic]:
    """Calibration sessions the caller takes part in or runs."""
    sessions = calibration.list_sessions(session=session, principal=principal)
    return ListResponse.of(paginate(sessions, page=page, per_page=per_page).map(
        lambda c: calibration.public(session=session, principal=principal, calibration=c)))


@router.post("/calibrations", status_code=201, responses=error_responses(404, 409))
def create_calibration(body: CalibrationCreate, principal: EvaluatorPrincipal,
                       session: SessionDep) -> CalibrationPublic:
    row = calibration.create(session=session, principal=principal, title=body.title,
                             interaction_id=body.interaction_id, scorecard_id=body.scorecard_id,
                             evaluator_ids=body.evaluator_ids)
    return calibration.public(session=session, principal=principal, calibration=row)


@router.get("/calibrations/{calibration_id}", responses=error_responses(404))
def get_calibration(calibration_id: int, principal: EvaluatorPrincipal, session: SessionDep) -> CalibrationPublic:
    """While open, each evaluator sees only their own evaluation (blind); results appear on close."""
    row = calibration.get(session=session, principal=principal, calibration_id=calibration_id)
    return calibration.public(session=session, principal=principal, calibration=row)


@router.post("/calibrations/{calibration_id}/evaluation", responses=NOT_FOUND_OR_CONFLICT)
def start_calibration_evaluation(calibration_id: int, principal: EvaluatorPrincipal,
                                 session: SessionDep) -> EvaluationDetail:
    """The caller's evaluation in the session (created on first call); answer and submit it as usual."""
    evaluation = calibration.start_evaluation(session=session, principal=principal, calibration_id=calibration_id)
    return service.detail(session=session, evaluation=evaluation)


@router.post("/calibrations/{calibration_id}/close", responses=NOT_FOUND_OR_CONFLICT)
def close_calibration(calibration_id: int, principal: EvaluatorPrincipal, session: SessionDep) -> CalibrationPublic:
    row = calibration.close(session=session, principal=principal, calibration_id=calibration_id)
    return calibration.public(session=session, principal=principal, calibration=row)
