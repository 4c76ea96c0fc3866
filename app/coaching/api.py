"""JSON endpoints for coaching: assignments, sessions, acknowledgements, effectiveness and rules.

Who may do what: admins and coaches (their team's agents) create and change coaching; only the agent
acknowledges; evaluators and executives read everything (they have no coaching duties but report on it);
agents read their own. A record outside the caller's scope answers 404.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel
from sqlmodel import Session

from app.auth.deps import (
    AdminPrincipal,
    AgentPrincipal,
    CurrentPrincipal,
    SessionDep,
    StaffPrincipal,
    require_roles,
)
from app.auth.service import user_names
from app.coaching import export, queries, results, rules, service, sources
from app.coaching.effectiveness import (
    AssignmentEffect,
    Comparison,
    EffectivenessWindow,
    Rollup,
)
from app.coaching.models import (
    Acknowledgement,
    AssignmentCreate,
    AssignmentDetail,
    AssignmentPublic,
    AssignmentUpdate,
    CoachingAssignment,
    CoachingRule,
    CoachingSession,
    FromEvaluationRequest,
    RuleCreate,
    RulePublic,
    RuleUpdate,
    SessionCreate,
    SessionPublic,
    SessionUpdate,
    StatusChange,
)
from app.core.errors import STANDARD_ERRORS, error_responses
from app.core.export import EXPORT_ROWS, table_csv
from app.core.listing import ListResponse, PageNumber, PerPage
from app.core.security import Principal, Role

router = APIRouter(prefix="/api/coaching", tags=["coaching"], responses=STANDARD_ERRORS)

CoachPrincipal = Annotated[Principal, Depends(require_roles(Role.COACH, Role.ADMIN))]


def assignment_public(assignment: CoachingAssignment) -> AssignmentPublic:
    return AssignmentPublic.model_validate({**assignment.model_dump(), "overdue": service.is_overdue(assignment)})


def session_public(row: CoachingSession) -> SessionPublic:
    return SessionPublic.model_validate(row, from_attributes=True)


def rule_public(rule: CoachingRule) -> RulePublic:
    return RulePublic.model_validate(rule, from_attributes=True)


def _detail(session: Session, assignment: CoachingAssignment) -> AssignmentDetail:
    assert assignment.id is not None
    rows = service.list_sessions(session=session, assignment_id=assignment.id)
    return AssignmentDetail(**assignment_public(assignment).model_dump(), sessions=[session_public(r) for r in rows])


@router.get("/assignments")
def list_assignments(
    principal: CurrentPrincipal, session: SessionDep, status: str | None = None, agent_id: int | None = None,
    coach_id: int | None = None, topic: str | None = None, overdue: bool = False, open: bool = False,
    page: PageNumber = 1, per_page: PerPage = 25,
) -> ListResponse[AssignmentPublic]:
    """The assignments the caller may see (agents: their own; coaches: their team's), most urgent first."""
    filters = queries.AssignmentFilters(status=status, agent_id=agent_id, coach_id=coach_id, topic=topic,
                                        overdue=overdue, open_only=open)
    result = queries.list_assignments(session=session, principal=principal, filters=filters, page=page,
                                      per_page=per_page)
    return ListResponse.of(result.map(assignment_public))


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "CSV file"}}


@router.get("/assignments.csv", response_class=Response, responses=CSV_RESPONSE)
def export_assignments(
    principal: CurrentPrincipal, session: SessionDep, status: str | None = None, agent_id: int | None = None,
    coach_id: int | None = None, topic: str | None = None, overdue: bool = False, open: bool = False,
) -> Response:
    """The same filters as the list, every matching assignment (up to 100,000), as CSV."""
    filters = queries.AssignmentFilters(status=status, agent_id=agent_id, coach_id=coach_id, topic=topic,
                                        overdue=overdue, open_only=open)
    rows = queries.list_assignments(session=session, principal=principal, filters=filters, per_page=EXPORT_ROWS).items
    names = user_names(session=session, ids=[a.agent_id for a in rows] + [a.coach_id for a in rows])
    overdue_ids = {a.id for a in rows if a.id is not None and service.is_overdue(a)}
    return table_csv("coaching-assignments.csv", rows, export.assignment_columns(names, overdue_ids=overdue_ids))


@router.post("/assignments", status_code=201, responses=error_responses(404, 409))
def create_assignment(body: AssignmentCreate, principal: CoachPrincipal, session: SessionDep) -> AssignmentDetail:
    """Assign coaching by hand. 409 while the agent has an open assignment on the same topic."""
    return _detail(session, service.create_assignment(session=session, data=body, actor=principal))


@router.post("/assignments/from-evaluation/{evaluation_id}", status_code=201, responses=error_responses(404, 409))
def create_from_evaluation(evaluation_id: int, body: FromEvaluationRequest, principal: CoachPrincipal,
                           session: SessionDep) -> AssignmentDetail:
    """Assign coaching on a submitted evaluation's failed questions (all, or `question_ids`), with their
    evidence attached."""
    outcome = sources.load_evaluation_outcome(session, evaluation_id)
    assignment = service.create_from_evaluation(session=session, outcome=outcome, actor=principal,
                                                coach_id=body.coach_id, question_ids=body.question_ids,
                                                goal=body.goal, due_date=body.due_date)
    return _detail(session, assignment)


@router.get("/assignments/{assignment_id}", responses=error_responses(404))
def get_assignment(assignment_id: int, principal: CurrentPrincipal, session: SessionDep) -> AssignmentDetail:
    return _detail(session, service.get_assignment(session=session, principal=principal,
                                                   assignment_id=assignment_id))


@router.patch("/assignments/{assignment_id}", responses=error_responses(404, 409))
def update_assignment(assignment_id: int, body: AssignmentUpdate, principal: CoachPrincipal,
                      session: SessionDep) -> AssignmentDetail:
    return _detail(session, service.update_assignment(session=session, principal=principal,
                                                      assignment_id=assignment_id, data=body))


@router.post("/assignments/{assignment_id}/status", responses=error_responses(404, 409))
def change_status(assignment_id: int, body: StatusChange, principal: CoachPrincipal,
                  session: SessionDep) -> AssignmentDetail:
    """Move the assignment: assigned → in_progress → completed → verified (a coach verifies), cancel an open
    one, or reopen a completed one. 409 for any other move."""
    return _detail(session, service.change_status(session=session, principal=principal,
                                                  assignment_id=assignment_id, to=body.status, note=body.note))


@router.post("/assignments/{assignment_id}/acknowledge", responses=error_responses(404, 409))
def acknowledge(assignment_id: int, body: Acknowledgement, principal: AgentPrincipal,
                session: SessionDep) -> AssignmentDetail:
    """The coached agent acknowledges the assignment, with an optional comment (once)."""
    return _detail(session, service.acknowledge(session=session, principal=principal, assignment_id=assignment_id,
                                                comment=body.comment))


@router.post("/assignments/{assignment_id}/sessions", status_code=201, responses=error_responses(404, 409))
def add_session(assignment_id: int, body: SessionCreate, principal: CoachPrincipal,
                session: SessionDep) -> SessionPublic:
    return session_public(service.add_session(session=session, principal=principal, assignment_id=assignment_id,
                                              data=body))


@router.patch("/sessions/{session_id}", responses=error_responses(404, 409))
def update_session(session_id: int, body: SessionUpdate, principal: CoachPrincipal,
                   session: SessionDep) -> SessionPublic:
    return session_public(service.update_session(session=session, principal=principal, session_id=session_id,
                                                 data=body))


# ---------------------------------------------------------------- effectiveness


class ComparisonPublic(BaseModel):
    measure: str
    verdict: str
    before_n: int
    after_n: int
    before_mean: float | None
    after_mean: float | None
    change: float | None
    p_value: float | None
    test: str | None
    statement: str

    @classmethod
    def of(cls, c: Comparison) -> "ComparisonPublic":
        return cls(measure=c.measure, verdict=c.verdict, before_n=c.before_n, after_n=c.after_n,
                   before_mean=c.before_mean, after_mean=c.after_mean, change=c.change, p_value=c.p_value,
                   test=c.test, statement=c.statement)


class EffectPublic(BaseModel):
    assignment_id: int
    agent_id: int
    coach_id: int | None
    topic_title: str
    status: str
    overall: ComparisonPublic
    topic: ComparisonPublic | None
    improved: bool

    @classmethod
    def of(cls, e: AssignmentEffect) -> "EffectPublic":
        return cls(assignment_id=e.assignment_id, agent_id=e.agent_id, coach_id=e.coach_id,
                   topic_title=e.topic_title, status=e.status, overall=ComparisonPublic.of(e.overall),
                   topic=ComparisonPublic.of(e.topic) if e.topic else None, improved=e.primary.improved)


class RollupPublic(BaseModel):
    key: str
    label: str
    assignments: int
    measured: int
    improved: int
    significantly_improved: int
    share_improved: float | None
    mean_change: float | None

    @classmethod
    def of(cls, r: Rollup) -> "RollupPublic":
        return cls(key=r.key, label=r.label, assignments=r.assignments, measured=r.measured, improved=r.improved,
                   significantly_improved=r.significantly_improved, share_improved=r.share_improved,
                   mean_change=r.mean_change)


class EffectivenessPublic(BaseModel):
    window: dict[str, Any]
    overall: RollupPublic
    by_coach: list[RollupPublic]
    by_topic: list[RollupPublic]
    by_team: list[RollupPublic]
    assignments: list[EffectPublic]


def window_query(
    evaluations: Annotated[int | None, Query(ge=1, le=200, description="nearest N evaluations each side")] = None,
    days: Annotated[int | None, Query(ge=1, le=3650, description="days each side")] = None,
    min_each_side: Annotated[int, Query(ge=2, le=100)] = 3,
) -> EffectivenessWindow:
    return results.window_of(evaluations=evaluations, days=days, min_each_side=min_each_side)


WindowDep = Annotated[EffectivenessWindow, Depends(window_query)]


@router.get("/assignments/{assignment_id}/effectiveness", responses=error_responses(404))
def assignment_effectiveness(assignment_id: int, principal: CurrentPrincipal, session: SessionDep,
                             window: WindowDep) -> EffectPublic:
    """The agent's scores on the assignment's questions (and overall) before it was assigned against after
    it was completed, with the change and a Welch t-test; "not enough evaluations to say" below
    `min_each_side` on either side."""
    return EffectPublic.of(results.assignment_effectiveness(session=session, principal=principal,
                                                            assignment_id=assignment_id, load=sources.observations_for,
                                                            window=window))


@router.get("/effectiveness")
def effectiveness(principal: StaffPrincipal, session: SessionDep, window: WindowDep,
                  coach_id: int | None = None) -> EffectivenessPublic:
    """Completed coaching the caller may see, rolled up per coach, topic and team: the share of assignments
    followed by an improvement."""
    report = results.effectiveness_report(session=session, principal=principal, load=sources.observations_for,
                                          window=window, coach_id=coach_id)
    return EffectivenessPublic(
        window={"evaluations": window.evaluations, "days": window.days, "min_each_side": window.min_each_side},
        overall=RollupPublic.of(report.overall), by_coach=[RollupPublic.of(r) for r in report.by_coach],
        by_topic=[RollupPublic.of(r) for r in report.by_topic], by_team=[RollupPublic.of(r) for r in report.by_team],
        assignments=[EffectPublic.of(e) for e in report.effects])


@router.get("/effectiveness.csv", response_class=Response, responses=CSV_RESPONSE)
def export_effectiveness(principal: StaffPrincipal, session: SessionDep, window: WindowDep,
                         coach_id: int | None = None) -> Response:
    """Before/after figures of every completed assignment the caller may see, as CSV."""
    report = results.effectiveness_report(session=session, principal=principal, load=sources.observations_for,
                                          window=window, coach_id=coach_id)
    names = user_names(session=session, ids=[e.agent_id for e in report.effects]
                       + [e.coach_id for e in report.effects])
    return table_csv("coaching-effectiveness.csv", report.effects, export.effectiveness_columns(names))


# ---------------------------------------------------------------- rules


@router.get("/rules")
def list_rules(principal: AdminPrincipal, session: SessionDep) -> list[RulePublic]:
    return [rule_public(r) for r in rules.list_rules(session=session)]


@router.post("/rules", status_code=201)
def create_rule(body: RuleCreate, principal: AdminPrincipal, session: SessionDep) -> RulePublic:
    return rule_public(rules.create_rule(session=session, principal=principal, data=body))


@router.patch("/rules/{rule_id}", responses=error_responses(404))
def update_rule(rule_id: int, body: RuleUpdate, principal: AdminPrincipal, session: SessionDep) -> RulePublic:
    return rule_public(rules.update_rule(session=session, principal=principal, rule_id=rule_id, data=body))


class RulesRun(BaseModel):
    created: list[AssignmentPublic]


@router.post("/rules/apply")
def apply_rules(principal: AdminPrincipal, session: SessionDep) -> RulesRun:
    """Run the enabled rules now over recent evaluations (they also run after each submitted evaluation)."""
    created = rules.run_rules(session=session, load=sources.load_recent_outcomes)
    return RulesRun(created=[assignment_public(a) for a in created])
