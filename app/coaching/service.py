"""Coaching rules: creating assignments (by hand, from an evaluation, from a review action, by the admin's
rules), moving them through their states, sessions, acknowledgements, and whether the coaching worked.

Evaluations and review cases belong to other features: they reach coaching as the small dataclasses
below (`EvaluationOutcome`, `RetrainingAction`, `ScoreObservation`), built by `app.coaching.sources`.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.auth.models import User
from app.auth.service import can_view_agent, list_teams, visible_agent_ids
from app.coaching.effectiveness import (
    AssignmentEffect,
    EffectivenessWindow,
    Rollup,
    ScoreObservation,
    assignment_effect,
    rollup,
)
from app.coaching.models import (
    OPEN_STATUSES,
    AssignmentCreate,
    AssignmentStatus,
    AssignmentUpdate,
    CoachingAssignment,
    CoachingRule,
    CoachingSession,
    Evidence,
    EvidenceKind,
    RuleCreate,
    RuleKind,
    RuleUpdate,
    SessionCreate,
    SessionUpdate,
    SourceKind,
)
from app.core import audit
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.jobs import JobKind
from app.core.listing import Page, paginate
from app.core.security import Principal, Role
from app.core.timeutil import as_utc, utcnow
from app.scorecards import service as scorecards

ASSIGNMENT = "coaching_assignment"
OVERALL_TOPIC = "Overall score"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class DuplicateAssignment(Conflict):
    code = "duplicate_assignment"

    def __init__(self, message: str, *, open_assignment_id: int | None = None) -> None:
        super().__init__(message, details=[{"loc": "topic_title", "msg": f"open assignment {open_assignment_id}"}]
                         if open_assignment_id is not None else None)
        self.open_assignment_id = open_assignment_id


# ---------------------------------------------------------------- inputs from other features


@dataclass(frozen=True)
class FailedAnswer:
    """A question the agent failed in a submitted evaluation, with the evaluator's comment and evidence
    (each evidence item: {kind, interaction_id, question_id, message_id, start, end, text})."""

    question_id: str
    question_text: str
    critical: bool = False
    comment: str = ""
    evidence: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class EvaluationOutcome:
    """A submitted evaluation as coaching needs it: score 0-100 and the answers that failed."""

    evaluation_id: int
    agent_id: int
    interaction_id: int | None
    submitted_at: datetime
    score: float
    failed: Sequence[FailedAnswer] = ()


@dataclass(frozen=True)
class RetrainingAction:
    """A review case's decided "retraining" action."""

    action_id: int
    agent_id: int
    topic: str
    case_id: int | None = None
    due_date: date | None = None
    question_ids: Sequence[str] = ()
    interaction_ids: Sequence[int] = ()
    notes: str = ""


# ---------------------------------------------------------------- topics, scope, reading


def topic_key(*, question_ids: Sequence[str], title: str) -> str:
    """Two assignments are on the same topic when they target the same questions or, without questions,
    carry the same title (case and spacing ignored)."""
    if question_ids:
        return ("q:" + ",".join(sorted(set(question_ids))))[:400]
    return ("t:" + " ".join(title.lower().split()))[:400]


def _open_key(agent_id: int, key: str) -> str:
    return f"{agent_id}:{key}"


def is_overdue(assignment: CoachingAssignment, *, today: date | None = None) -> bool:
    today = today or utcnow().date()
    return (assignment.status in OPEN_STATUSES and assignment.due_date is not None
            and assignment.due_date < today)


def can_manage(*, session: Session, principal: Principal, agent_id: int) -> bool:
    """Admins manage every agent's coaching; coaches that of the agents of their team."""
    if principal.has(Role.ADMIN):
        return True
    return principal.has(Role.COACH) and can_view_agent(session=session, principal=principal, agent_id=agent_id)


def _require_manage(*, session: Session, principal: Principal | None, agent_id: int) -> None:
    if principal is None:
        return  # the system (rules, review glue)
    if not can_view_agent(session=session, principal=principal, agent_id=agent_id):
        raise NotFound("agent not found")
    if not can_manage(session=session, principal=principal, agent_id=agent_id):
        raise Forbidden("Only the agent's coach or an admin changes coaching.")


def get_assignment(*, session: Session, principal: Principal, assignment_id: int) -> CoachingAssignment:
    """The assignment, if this principal may see it (agents: their own; coaches: their team's). NotFound
    otherwise, so its existence is not revealed."""
    assignment = session.get(CoachingAssignment, assignment_id)
    if assignment is None or not can_view_agent(session=session, principal=principal,
                                                 agent_id=assignment.agent_id):
        raise NotFound(f"coaching assignment {assignment_id} not found")
    return assignment


def list_sessions(*, session: Session, assignment_id: int) -> list[CoachingSession]:
    return list(session.exec(select(CoachingSession).where(CoachingSession.assignment_id == assignment_id)
                             .order_by(col(CoachingSession.scheduled_at), col(CoachingSession.id))).all())


@dataclass(frozen=True)
class AssignmentFilters:
    status: str | None = None
    agent_id: int | None = None
    coach_id: int | None = None
    topic: str | None = None  # a title substring or a question id
    overdue: bool = False
    open_only: bool = False


def list_assignments(*, session: Session, principal: Principal, filters: AssignmentFilters | None = None,
                     page: int = 1, per_page: int = 25) -> Page[CoachingAssignment]:
    """The assignments this principal may see, filtered, most urgent first (open before closed, then by
    due date)."""
    filters = filters or AssignmentFilters()
    query = select(CoachingAssignment)
    visible = visible_agent_ids(session=session, principal=principal)
    if visible is not None:
        query = query.where(col(CoachingAssignment.agent_id).in_(visible))
    if filters.status:
        query = query.where(CoachingAssignment.status == filters.status)
    if filters.open_only or filters.overdue:
        query = query.where(col(CoachingAssignment.status).in_([s.value for s in OPEN_STATUSES]))
    if filters.overdue:
        query = query.where(col(CoachingAssignment.due_date) < utcnow().date())
    if filters.agent_id is not None:
        query = query.where(CoachingAssignment.agent_id == filters.agent_id)
    if filters.coach_id is not None:
        query = query.where(CoachingAssignment.coach_id == filters.coach_id)
    if filters.topic:
        text = filters.topic.strip().lower()
        query = query.where(or_(func.lower(col(CoachingAssignment.topic_title)).contains(text, autoescape=True),
                                col(CoachingAssignment.topic_key).contains(text, autoescape=True)))
    still_open = col(CoachingAssignment.status).in_([s.value for s in OPEN_STATUSES])
    return paginate(query.order_by(still_open.desc(), col(CoachingAssignment.due_date).is_(None),
                                   col(CoachingAssignment.due_date), col(CoachingAssignment.id).desc()),
                    page=page, per_page=per_page, session=session)


@dataclass(frozen=True)
class AssignmentCounts:
    open: int
    overdue: int
    completed: int  # completed, not yet verified


def assignment_counts(*, session: Session, principal: Principal) -> AssignmentCounts:
    """The home panel's figures for the assignments this principal may see, in one query (the same sets as
    `list_assignments` with open_only / overdue / status="completed")."""
    still_open = col(CoachingAssignment.status).in_([s.value for s in OPEN_STATUSES])
    overdue = and_(still_open, col(CoachingAssignment.due_date) < utcnow().date())
    query = select(func.count().filter(still_open), func.count().filter(overdue),
                   func.count().filter(col(CoachingAssignment.status) == AssignmentStatus.COMPLETED))
    visible = visible_agent_ids(session=session, principal=principal)
    if visible is not None:
        query = query.where(col(CoachingAssignment.agent_id).in_(visible))
    open_, late, completed = session.exec(query.select_from(CoachingAssignment)).one()
    return AssignmentCounts(open=int(open_), overdue=int(late), completed=int(completed))


@dataclass
class AgentLoad:
    """An agent's open coaching, for a coach's overview."""

    agent_id: int
    name: str
    open: int = 0
    overdue: int = 0
    due_soon: int = 0


def agents_overview(*, session: Session, principal: Principal, due_within_days: int = 7) -> list[AgentLoad]:
    """Every agent this principal may see with their open, overdue and soon-due assignment counts (agents
    without open coaching included, so a coach sees the whole team)."""
    visible = visible_agent_ids(session=session, principal=principal)
    query = select(User).where(col(User.is_active))
    if visible is not None:
        query = query.where(col(User.id).in_(visible))  # a coach's team, not every account
    agents = [u for u in session.exec(query.order_by(col(User.display_name), col(User.username))).all()
              if u.id is not None and Role.AGENT in u.role_set and (visible is None or u.id in visible)]
    rows = {u.id: AgentLoad(agent_id=u.id, name=u.name) for u in agents if u.id is not None}
    today = utcnow().date()
    open_rows = session.exec(select(CoachingAssignment).where(
        col(CoachingAssignment.status).in_([s.value for s in OPEN_STATUSES]),
        col(CoachingAssignment.agent_id).in_(list(rows)))).all()
    for assignment in open_rows:
        row = rows[assignment.agent_id]
        row.open += 1
        row.overdue += int(is_overdue(assignment, today=today))
        due = assignment.due_date
        row.due_soon += int(due is not None and today <= due <= today + timedelta(days=due_within_days))
    return list(rows.values())


def user_names(*, session: Session, user_ids: Sequence[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {u.id: u.name for u in session.exec(select(User).where(col(User.id).in_(ids))).all()
            if u.id is not None}


def default_coach_id(*, session: Session, agent_id: int) -> int | None:
    """The first active coach of the agent's team, if the team has one."""
    agent = session.get(User, agent_id)
    if agent is None or agent.team_id is None:
        return None
    for user in session.exec(select(User).where(User.team_id == agent.team_id, col(User.is_active))
                             .order_by(col(User.id))).all():
        if Role.COACH in user.role_set and user.id != agent_id:
            return user.id
    return None


def _snapshot(assignment: CoachingAssignment) -> dict[str, Any]:
    return {"agent_id": assignment.agent_id, "coach_id": assignment.coach_id, "topic": assignment.topic_title,
            "question_ids": list(assignment.question_ids), "goal": assignment.goal,
            "due_date": assignment.due_date, "status": assignment.status}


# ---------------------------------------------------------------- creating


def _find_open(*, session: Session, agent_id: int, key: str) -> CoachingAssignment | None:
    return session.exec(select(CoachingAssignment).where(
        CoachingAssignment.open_key == _open_key(agent_id, key))).first()


def _check_people(*, session: Session, agent_id: int, coach_id: int | None) -> None:
    agent = session.get(User, agent_id)
    if agent is None or Role.AGENT not in agent.role_set:
        raise InvalidInput("agent_id: no such agent", details=[{"loc": "agent_id", "msg": "no such agent"}])
    if coach_id is not None:
        coach = session.get(User, coach_id)
        if coach is None or not ({Role.COACH, Role.ADMIN} & coach.role_set):
            raise InvalidInput("coach_id: no such coach", details=[{"loc": "coach_id", "msg": "no such coach"}])


def _check_questions(*, session: Session, question_ids: Sequence[str]) -> None:
    """Coaching on a question measures that question later ("Did it work?"): an id on no form would measure
    nothing, so it is refused."""
    if not question_ids:
        return
    known = {question_id for _, question_id, _ in scorecards.question_catalogue(session=session)}
    unknown = [q for q in question_ids if q not in known]
    if unknown:
        raise InvalidInput(f"{len(unknown)} of the chosen questions {'is' if len(unknown) == 1 else 'are'} on no "
                           "scorecard; pick questions from the list.",
                           details=[{"loc": "question_ids", "msg": f"no such question: {q}"} for q in unknown])


def create_assignment(*, session: Session, data: AssignmentCreate, actor: Principal | None,
                      source_kind: SourceKind = SourceKind.MANUAL, source_id: int | None = None,
                      commit: bool = True, authorize: bool = True) -> CoachingAssignment:
    """Create an assignment in state `assigned`.

    The coach defaults to the acting coach, else the agent's team coach. Raises NotFound / Forbidden when
    the actor may not coach this agent, InvalidInput for an unknown agent, coach or question, and DuplicateAssignment
    (409) while an open assignment on the same agent and topic exists. `authorize=False` skips the scope
    check for callers that authorized the decision themselves (a review meeting's retraining action).
    """
    if authorize:
        _require_manage(session=session, principal=actor, agent_id=data.agent_id)
    coach_id = data.coach_id
    if coach_id is None:
        acting_coach = actor is not None and actor.has(Role.COACH) and authorize
        coach_id = actor.user_id if acting_coach and actor is not None else default_coach_id(
            session=session, agent_id=data.agent_id)
    _check_people(session=session, agent_id=data.agent_id, coach_id=coach_id)
    question_ids = sorted({q.strip() for q in data.question_ids if q.strip()})
    if source_kind == SourceKind.MANUAL:  # other sources take their ids from evaluations already scored
        _check_questions(session=session, question_ids=question_ids)
    key = topic_key(question_ids=question_ids, title=data.topic_title)
    existing = _find_open(session=session, agent_id=data.agent_id, key=key)
    if existing is not None:
        raise DuplicateAssignment(f"assignment {existing.id} on this topic is still open for this agent",
                                  open_assignment_id=existing.id)
    assignment = CoachingAssignment(
        agent_id=data.agent_id, coach_id=coach_id, topic_title=data.topic_title, topic_key=key,
        question_ids=question_ids, goal=data.goal, due_date=data.due_date,
        evidence=[e.model_dump(mode="json", exclude_none=True) for e in data.evidence],
        source_kind=source_kind, source_id=source_id, open_key=_open_key(data.agent_id, key),
        created_by=actor.user_id if actor else None)
    try:
        with session.begin_nested():
            session.add(assignment)
            session.flush()
    except IntegrityError as exc:  # a concurrent request opened the same topic first
        raise DuplicateAssignment("an assignment on this topic is already open for this agent") from exc
    audit.record(session=session, actor=actor, action="coaching.assignment.create", record_type=ASSIGNMENT,
                 record_id=assignment.id, after={**_snapshot(assignment), "source_kind": source_kind,
                                                 "source_id": source_id})
    if commit:
        session.commit()
    return assignment


def _answer_evidence(outcome: EvaluationOutcome, answer: FailedAnswer) -> list[Evidence]:
    items = [Evidence(kind=EvidenceKind.EVALUATION_ANSWER, evaluation_id=outcome.evaluation_id,
                      interaction_id=outcome.interaction_id, question_id=answer.question_id,
                      text=(answer.comment or answer.question_text)[:4000])]
    for raw in answer.evidence:
        item = {"interaction_id": outcome.interaction_id, "evaluation_id": outcome.evaluation_id,
                "question_id": answer.question_id,
                **{k: v for k, v in raw.items() if v is not None and k in Evidence.model_fields}}
        items.append(Evidence.model_validate(item))
    return items


def _topic_title(answers: Sequence[FailedAnswer]) -> str:
    if len(answers) == 1:
        return answers[0].question_text[:300] or answers[0].question_id
    return ("; ".join(a.question_text or a.question_id for a in answers))[:300]


def create_from_evaluation(*, session: Session, outcome: EvaluationOutcome, actor: Principal | None,
                           coach_id: int | None = None, question_ids: Sequence[str] | None = None,
                           goal: str = "", due_date: date | None = None) -> CoachingAssignment:
    """An assignment from a submitted evaluation, with its failed answers' evidence attached.

    `question_ids` picks some of the failed questions (default: all of them); with no failed question the
    topic is the overall score. Raises InvalidInput for a question that did not fail, and what
    `create_assignment` raises.
    """
    failed = list(outcome.failed)
    if question_ids is not None:
        by_id = {a.question_id: a for a in failed}
        unknown = [q for q in question_ids if q not in by_id]
        if unknown:
            raise InvalidInput(f"question_ids: not failed in evaluation {outcome.evaluation_id}: "
                               + ", ".join(unknown), details=[{"loc": "question_ids", "msg": "not failed"}])
        failed = [by_id[q] for q in question_ids]
    if failed:
        evidence = [item for answer in failed for item in _answer_evidence(outcome, answer)]
        title = _topic_title(failed)
    else:
        evidence = [Evidence(kind=EvidenceKind.INTERACTION, interaction_id=outcome.interaction_id,
                             evaluation_id=outcome.evaluation_id, text=f"score {outcome.score:.0f}")]
        title = OVERALL_TOPIC
    data = AssignmentCreate(agent_id=outcome.agent_id, coach_id=coach_id, topic_title=title,
                            question_ids=[a.question_id for a in failed], goal=goal, due_date=due_date,
                            evidence=evidence)
    return create_assignment(session=session, data=data, actor=actor, source_kind=SourceKind.EVALUATION,
                             source_id=outcome.evaluation_id)


def create_from_review_action(*, session: Session, action: RetrainingAction, actor: Principal | None = None,
                              coach_id: int | None = None) -> CoachingAssignment:
    """The assignment for a review case's retraining action; idempotent.

    Calling again for the same action returns the assignment made the first time. When the agent already
    has an open assignment on the topic, the action's evidence is added to it instead of opening a second.
    The reviews feature authorized the decision (executives decide retraining in the review meeting), so
    `actor` is recorded in the audit log but not checked against the coaching scope. Commits.
    """
    made = session.exec(select(CoachingAssignment).where(
        CoachingAssignment.source_kind == SourceKind.REVIEW_ACTION,
        CoachingAssignment.source_id == action.action_id)).first()
    if made is not None:
        return made
    evidence = [Evidence(kind=EvidenceKind.INTERACTION, interaction_id=i,
                         text=f"review case {action.case_id}" if action.case_id else None)
                for i in action.interaction_ids]
    goal = f"Decided in review case {action.case_id}." if action.case_id else ""
    if action.notes:
        goal = f"{goal} {action.notes}".strip()
    data = AssignmentCreate(agent_id=action.agent_id, coach_id=coach_id, topic_title=action.topic,
                            question_ids=list(action.question_ids), goal=goal, due_date=action.due_date,
                            evidence=evidence)
    key = topic_key(question_ids=data.question_ids, title=data.topic_title)
    existing = _find_open(session=session, agent_id=action.agent_id, key=key)
    if existing is None:
        return create_assignment(session=session, data=data, actor=actor, source_kind=SourceKind.REVIEW_ACTION,
                                 source_id=action.action_id, authorize=False)
    existing.evidence = [*existing.evidence, *(e.model_dump(mode="json", exclude_none=True) for e in evidence)]
    existing.updated_at = utcnow()
    session.add(existing)
    audit.record(session=session, actor=actor, action="coaching.assignment.evidence_added", record_type=ASSIGNMENT,
                 record_id=existing.id, after={"review_action_id": action.action_id, "case_id": action.case_id,
                                               "items": len(evidence)})
    session.commit()
    return existing


# ---------------------------------------------------------------- changing


TRANSITIONS: dict[AssignmentStatus, frozenset[AssignmentStatus]] = {
    AssignmentStatus.ASSIGNED: frozenset({AssignmentStatus.IN_PROGRESS, AssignmentStatus.CANCELLED}),
    AssignmentStatus.IN_PROGRESS: frozenset({AssignmentStatus.COMPLETED, AssignmentStatus.CANCELLED}),
    AssignmentStatus.COMPLETED: frozenset({AssignmentStatus.VERIFIED, AssignmentStatus.IN_PROGRESS}),
    AssignmentStatus.VERIFIED: frozenset(),
    AssignmentStatus.CANCELLED: frozenset(),
}


def allowed_transitions(*, principal: Principal, assignment: CoachingAssignment) -> list[AssignmentStatus]:
    """The states this principal may move the assignment to now (for the page's buttons)."""
    options = TRANSITIONS[AssignmentStatus(assignment.status)]
    if not principal.has(Role.COACH):
        options = options - {AssignmentStatus.VERIFIED}
    return sorted(options)


def change_status(*, session: Session, principal: Principal, assignment_id: int, to: AssignmentStatus,
                  note: str | None = None) -> CoachingAssignment:
    """Move an assignment along assigned → in_progress → completed → verified (or cancel an open one; a
    completed one may be reopened). Only a coach verifies, and only after completion.

    Raises NotFound (not visible), Forbidden (not the agent's coach or an admin; verifying without the
    coach role), IllegalTransition (409) for a move the state machine does not allow, DuplicateAssignment
    when reopening while another assignment on the topic is open.
    """
    assignment = get_assignment(session=session, principal=principal, assignment_id=assignment_id)
    _require_manage(session=session, principal=principal, agent_id=assignment.agent_id)
    current = AssignmentStatus(assignment.status)
    if to not in TRANSITIONS[current]:
        raise IllegalTransition(f"a {current} assignment cannot become {to}",
                                details=[{"loc": "status", "msg": f"allowed from {current}: "
                                          + (", ".join(sorted(TRANSITIONS[current])) or "none")}])
    if to == AssignmentStatus.VERIFIED and not principal.has(Role.COACH):
        raise Forbidden("Only a coach verifies coaching.")
    _apply_status(session=session, assignment=assignment, to=to, actor=principal, reason=note)
    session.commit()
    return assignment


def _apply_status(*, session: Session, assignment: CoachingAssignment, to: AssignmentStatus,
                  actor: Principal | None, reason: str | None) -> None:
    before = assignment.status
    now = utcnow()
    if to in OPEN_STATUSES:
        key = _open_key(assignment.agent_id, assignment.topic_key)
        other = session.exec(select(CoachingAssignment).where(CoachingAssignment.open_key == key,
                                                              CoachingAssignment.id != assignment.id)).first()
        if other is not None:
            raise DuplicateAssignment(f"assignment {other.id} on this topic is open for this agent",
                                      open_assignment_id=other.id)
        assignment.open_key = key
    else:
        assignment.open_key = None
    if to == AssignmentStatus.IN_PROGRESS:
        assignment.started_at = assignment.started_at or now
        assignment.completed_at = None
    elif to == AssignmentStatus.COMPLETED:
        assignment.completed_at = now
    elif to == AssignmentStatus.VERIFIED:
        assignment.verified_at, assignment.verified_by = now, actor.user_id if actor else None
    assignment.status = to
    assignment.updated_at = now
    session.add(assignment)
    audit.record(session=session, actor=actor, action="coaching.assignment.status", record_type=ASSIGNMENT,
                 record_id=assignment.id, before={"status": before}, after={"status": to}, reason=reason)


def update_assignment(*, session: Session, principal: Principal, assignment_id: int,
                      data: AssignmentUpdate) -> CoachingAssignment:
    """Change the coach, title, goal or due date of an assignment that is not verified or cancelled."""
    assignment = get_assignment(session=session, principal=principal, assignment_id=assignment_id)
    _require_manage(session=session, principal=principal, agent_id=assignment.agent_id)
    if assignment.status in (AssignmentStatus.VERIFIED, AssignmentStatus.CANCELLED):
        raise Conflict(f"a {assignment.status} assignment cannot be edited")
    changes = data.model_dump(exclude_unset=True)
    if "coach_id" in changes:
        _check_people(session=session, agent_id=assignment.agent_id, coach_id=changes["coach_id"])
    before = _snapshot(assignment)
    for name, value in changes.items():
        setattr(assignment, name, value)
    if "topic_title" in changes and not assignment.question_ids:
        assignment.topic_key = topic_key(question_ids=[], title=assignment.topic_title)
        if assignment.open_key is not None:
            assignment.open_key = _open_key(assignment.agent_id, assignment.topic_key)
    assignment.updated_at = utcnow()
    try:
        with session.begin_nested():
            session.add(assignment)
            session.flush()
    except IntegrityError as exc:
        raise DuplicateAssignment("another open assignment has this topic for this agent") from exc
    audit.record(session=session, actor=principal, action="coaching.assignment.update", record_type=ASSIGNMENT,
                 record_id=assignment.id, before=before, after=_snapshot(assignment))
    session.commit()
    return assignment


def acknowledge(*, session: Session, principal: Principal, assignment_id: int, comment: str) -> CoachingAssignment:
    """The agent confirms they have read the assignment, with an optional comment; once.

    Raises NotFound when not visible, Forbidden when the caller is not the agent, Conflict when already
    acknowledged or cancelled."""
    assignment = get_assignment(session=session, principal=principal, assignment_id=assignment_id)
    if assignment.agent_id != principal.user_id:
        raise Forbidden("Only the coached agent acknowledges an assignment.")
    if assignment.acknowledged_at is not None:
        raise Conflict("this assignment is already acknowledged")
    if assignment.status == AssignmentStatus.CANCELLED:
        raise Conflict("this assignment was cancelled")
    assignment.acknowledged_at = utcnow()
    assignment.acknowledgement_comment = comment.strip() or None
    assignment.updated_at = assignment.acknowledged_at
    session.add(assignment)
    audit.record(session=session, actor=principal, action="coaching.assignment.acknowledge",
                 record_type=ASSIGNMENT, record_id=assignment.id,
                 after={"comment": assignment.acknowledgement_comment})
    session.commit()
    return assignment


# ---------------------------------------------------------------- sessions


def _session_snapshot(row: CoachingSession) -> dict[str, Any]:
    return {"assignment_id": row.assignment_id, "scheduled_at": row.scheduled_at, "held_at": row.held_at,
            "notes": row.notes, "outcome": row.outcome}


def _editable_assignment(*, session: Session, principal: Principal, assignment_id: int) -> CoachingAssignment:
    assignment = get_assignment(session=session, principal=principal, assignment_id=assignment_id)
    _require_manage(session=session, principal=principal, agent_id=assignment.agent_id)
    if assignment.status in (AssignmentStatus.VERIFIED, AssignmentStatus.CANCELLED):
        raise Conflict(f"a {assignment.status} assignment takes no more sessions")
    return assignment


def _started_by_session(*, session: Session, assignment: CoachingAssignment, row: CoachingSession,
                        actor: Principal) -> None:
    """Holding a session starts the coaching: an assigned assignment moves to in_progress."""
    if row.held_at is not None and assignment.status == AssignmentStatus.ASSIGNED:
        _apply_status(session=session, assignment=assignment, to=AssignmentStatus.IN_PROGRESS, actor=actor,
                      reason="a coaching session was held")


def add_session(*, session: Session, principal: Principal, assignment_id: int,
                data: SessionCreate) -> CoachingSession:
    """Schedule (or record) a coaching session. Needs a scheduled or a held time."""
    assignment = _editable_assignment(session=session, principal=principal, assignment_id=assignment_id)
    if data.scheduled_at is None and data.held_at is None:
        raise InvalidInput("scheduled_at: give a scheduled or a held time",
                           details=[{"loc": "scheduled_at", "msg": "required without held_at"}])
    row = CoachingSession(assignment_id=assignment_id, scheduled_at=data.scheduled_at or data.held_at,
                          held_at=data.held_at, notes=data.notes, outcome=data.outcome,
                          created_by=principal.user_id)
    session.add(row)
    session.flush()
    audit.record(session=session, actor=principal, action="coaching.session.create", record_type="coaching_session",
                 record_id=row.id, after=_session_snapshot(row))
    _started_by_session(session=session, assignment=assignment, row=row, actor=principal)
    session.commit()
    return row


def update_session(*, session: Session, principal: Principal, session_id: int,
                   data: SessionUpdate) -> CoachingSession:
    """Record notes, the outcome or the time a session was held."""
    row = session.get(CoachingSession, session_id)
    if row is None:
        raise NotFound(f"coaching session {session_id} not found")
    assignment = _editable_assignment(session=session, principal=principal, assignment_id=row.assignment_id)
    before = _session_snapshot(row)
    for name, value in data.model_dump(exclude_unset=True).items():
        if name in ("notes", "outcome") and value is None:
            continue
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.add(row)
    audit.record(session=session, actor=principal, action="coaching.session.update", record_type="coaching_session",
                 record_id=row.id, before=before, after=_session_snapshot(row))
    _started_by_session(session=session, assignment=assignment, row=row, actor=principal)
    session.commit()
    return row


# ---------------------------------------------------------------- rules


def list_rules(*, session: Session) -> list[CoachingRule]:
    return list(session.exec(select(CoachingRule).order_by(col(CoachingRule.id))).all())


def _rule_snapshot(rule: CoachingRule) -> dict[str, Any]:
    return {"kind": rule.kind, "name": rule.name, "enabled": rule.enabled, "window_days": rule.window_days,
            "min_failures": rule.min_failures, "score_threshold": rule.score_threshold, "last_n": rule.last_n,
            "due_in_days": rule.due_in_days}


def describe_rule(rule: CoachingRule) -> str:
    if rule.kind == RuleKind.REPEAT_CRITICAL_FAIL:
        return (f"The same critical question failed {rule.min_failures} times within the last "
                f"{rule.window_days} days")
    return f"Average of the last {rule.last_n} evaluations under {rule.score_threshold:g}"


DEFAULT_RULE_NAMES = {RuleKind.REPEAT_CRITICAL_FAIL: "Repeated critical failure", RuleKind.LOW_SCORE: "Low score"}


def create_rule(*, session: Session, principal: Principal, data: RuleCreate) -> CoachingRule:
    rule = CoachingRule(**data.model_dump())
    rule.name = rule.name.strip() or DEFAULT_RULE_NAMES[data.kind]
    session.add(rule)
    session.flush()
    audit.record(session=session, actor=principal, action="coaching.rule.create", record_type="coaching_rule",
                 record_id=rule.id, after=_rule_snapshot(rule))
    session.commit()
    return rule


def update_rule(*, session: Session, principal: Principal, rule_id: int, data: RuleUpdate) -> CoachingRule:
    rule = session.get(CoachingRule, rule_id)
    if rule is None:
        raise NotFound(f"coaching rule {rule_id} not found")
    before = _rule_snapshot(rule)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(rule, name, value)
    rule.updated_at = utcnow()
    session.add(rule)
    audit.record(session=session, actor=principal, action="coaching.rule.update", record_type="coaching_rule",
                 record_id=rule.id, before=before, after=_rule_snapshot(rule))
    session.commit()
    return rule


@dataclass
class _Candidate:
    agent_id: int
    title: str
    question_ids: list[str]
    evidence: list[Evidence]
    goal: str
    triggered_by: list[datetime] = field(default_factory=list)  # submission times of the outcomes used
    needed: int = 1  # how many of them must be newer than the topic's latest assignment


def _last_created(*, session: Session, agent_id: int, key: str) -> datetime | None:
    value = session.exec(select(func.max(CoachingAssignment.created_at)).where(
        CoachingAssignment.agent_id == agent_id, CoachingAssignment.topic_key == key)).one()
    return as_utc(value) if value is not None else None


def _repeat_critical_candidates(rule: CoachingRule, outcomes: Sequence[EvaluationOutcome],
                                now: datetime) -> list[_Candidate]:
    since = now - timedelta(days=rule.window_days)
    failures: dict[tuple[int, str], list[tuple[EvaluationOutcome, FailedAnswer]]] = defaultdict(list)
    for outcome in outcomes:
        if not since <= as_utc(outcome.submitted_at) <= now:
            continue
        for answer in outcome.failed:
            if answer.critical:
                failures[(outcome.agent_id, answer.question_id)].append((outcome, answer))
    candidates = []
    for (agent_id, question_id), found in sorted(failures.items()):
        if len({o.evaluation_id for o, _ in found}) < rule.min_failures:
            continue
        found.sort(key=lambda pair: as_utc(pair[0].submitted_at))
        candidates.append(_Candidate(
            agent_id=agent_id, title=found[-1][1].question_text or question_id, question_ids=[question_id],
            evidence=[item for outcome, answer in found for item in _answer_evidence(outcome, answer)],
            goal=f"Pass the critical question \u201c{found[-1][1].question_text or question_id}\u201d every time.",
            triggered_by=[as_utc(o.submitted_at) for o, _ in found], needed=rule.min_failures))
    return candidates


def _low_score_candidates(rule: CoachingRule, outcomes: Sequence[EvaluationOutcome],
                          now: datetime) -> list[_Candidate]:
    by_agent: dict[int, list[EvaluationOutcome]] = defaultdict(list)
    for outcome in outcomes:
        if as_utc(outcome.submitted_at) <= now:
            by_agent[outcome.agent_id].append(outcome)
    candidates = []
    for agent_id, agent_outcomes in sorted(by_agent.items()):
        latest = sorted(agent_outcomes, key=lambda o: as_utc(o.submitted_at))[-rule.last_n:]
        if len(latest) < rule.last_n:
            continue
        mean = sum(o.score for o in latest) / len(latest)
        if mean >= rule.score_threshold:
            continue
        candidates.append(_Candidate(
            agent_id=agent_id, title=OVERALL_TOPIC, question_ids=[],
            evidence=[Evidence(kind=EvidenceKind.INTERACTION, interaction_id=o.interaction_id,
                               evaluation_id=o.evaluation_id, text=f"score {o.score:.0f}") for o in latest],
            goal=f"Average {mean:.1f} over the last {len(latest)} evaluations; reach "
                 f"{rule.score_threshold:g} or more.",
            triggered_by=[as_utc(o.submitted_at) for o in latest], needed=len(latest)))
    return candidates


RULE_CHECKS: dict[str, Callable[[CoachingRule, Sequence[EvaluationOutcome], datetime], list[_Candidate]]] = {
    RuleKind.REPEAT_CRITICAL_FAIL: _repeat_critical_candidates,
    RuleKind.LOW_SCORE: _low_score_candidates,
}


def apply_rules(*, session: Session, outcomes: Sequence[EvaluationOutcome], now: datetime | None = None,
                rules: Sequence[CoachingRule] | None = None) -> list[CoachingAssignment]:
    """Run the enabled rules over evaluation outcomes and create the assignments they call for.

    Idempotent: never a second open assignment on an agent's topic, and outcomes submitted before the
    topic's latest assignment was created never trigger another one (the coaching already answered
    them). Returns the assignments created; commits.
    """
    now = as_utc(now or utcnow())
    active = [r for r in (rules if rules is not None else list_rules(session=session)) if r.enabled]
    created: list[CoachingAssignment] = []
    for rule in active:
        for candidate in RULE_CHECKS[rule.kind](rule, outcomes, now):
            key = topic_key(question_ids=candidate.question_ids, title=candidate.title)
            last = _last_created(session=session, agent_id=candidate.agent_id, key=key)
            if _find_open(session=session, agent_id=candidate.agent_id, key=key) is not None:
                continue
            if last is not None and sum(t > last for t in candidate.triggered_by) < candidate.needed:
                continue
            data = AssignmentCreate(agent_id=candidate.agent_id, topic_title=candidate.title,
                                    question_ids=candidate.question_ids, goal=candidate.goal,
                                    due_date=(now + timedelta(days=rule.due_in_days)).date(),
                                    evidence=candidate.evidence)
            try:
                created.append(create_assignment(session=session, data=data, actor=None,
                                                 source_kind=SourceKind.RULE, source_id=rule.id, commit=False))
            except (DuplicateAssignment, InvalidInput):
                continue  # raced with another run, or the agent is gone: nothing to add
    session.commit()
    return created


OutcomeLoader = Callable[[Session, datetime, int | None], Sequence[EvaluationOutcome]]
"""(session, since, agent_id or None for all agents) → outcomes of the evaluations submitted since then."""

RULES_LOOKBACK_DAYS = 365
RULES_JOB = JobKind.COACHING_APPLY_RULES


def run_rules(*, session: Session, load: OutcomeLoader, agent_id: int | None = None,
              now: datetime | None = None) -> list[CoachingAssignment]:
    """Load recent outcomes (of one agent, or all) over the longest rule window, and at least a year for
    the last-N rules, and apply the enabled rules to them."""
    now = as_utc(now or utcnow())
    rules = [r for r in list_rules(session=session) if r.enabled]
    if not rules:
        return []
    days = max([RULES_LOOKBACK_DAYS, *(r.window_days for r in rules)])
    outcomes = load(session, now - timedelta(days=days), agent_id)
    return apply_rules(session=session, outcomes=outcomes, now=now, rules=rules)


@dataclass(frozen=True)
class FollowUp:
    """An agent whose completed coaching needs "after" evaluations: the sampling hook for evaluations."""

    agent_id: int
    assignment_id: int
    question_ids: list[str]
    completed_at: datetime


def follow_ups(*, session: Session, completed_since: datetime) -> list[FollowUp]:
    """Assignments completed (or verified) since `completed_since`, newest first: the evaluation sampler
    picks these agents' next interactions so each coaching gets an "after" figure."""
    rows = session.exec(select(CoachingAssignment).where(
        col(CoachingAssignment.status).in_([AssignmentStatus.COMPLETED.value, AssignmentStatus.VERIFIED.value]),
        col(CoachingAssignment.completed_at) >= completed_since)
        .order_by(col(CoachingAssignment.completed_at).desc())).all()
    return [FollowUp(agent_id=a.agent_id, assignment_id=a.id, question_ids=list(a.question_ids),
                     completed_at=as_utc(a.completed_at))
            for a in rows if a.id is not None and a.completed_at is not None]


# ---------------------------------------------------------------- effectiveness


def window_of(*, evaluations: int | None = None, days: int | None = None,
              min_each_side: int = 3) -> EffectivenessWindow:
    """The comparison window: N evaluations either side, or D days either side (both when both are given);
    10 evaluations when neither is."""
    if evaluations is None and days is None:
        evaluations = 10
    return EffectivenessWindow(evaluations=evaluations, days=days, min_each_side=min_each_side)


ObservationLoader = Callable[[Session, int], Sequence[ScoreObservation]]
"""(session, agent_id) → every score observation of that agent (overall and per question)."""


def _team_ids(*, session: Session, agent_ids: set[int]) -> dict[int, int | None]:
    if not agent_ids:
        return {}
    return {u.id: u.team_id for u in session.exec(select(User).where(col(User.id).in_(agent_ids))).all()
            if u.id is not None}


def effect_of(*, assignment: CoachingAssignment, observations: Sequence[ScoreObservation],
              window: EffectivenessWindow, team_id: int | None = None) -> AssignmentEffect:
    """Before vs after for one assignment: before its creation, after its completion."""
    assert assignment.id is not None
    return assignment_effect(
        assignment_id=assignment.id, agent_id=assignment.agent_id, coach_id=assignment.coach_id, team_id=team_id,
        topic_title=assignment.topic_title, topic_key=assignment.topic_key, status=assignment.status,
        question_ids=assignment.question_ids, created_at=assignment.created_at,
        completed_at=assignment.completed_at, observations=observations, window=window)


def assignment_effectiveness(*, session: Session, principal: Principal, assignment_id: int,
                             load: ObservationLoader, window: EffectivenessWindow | None = None) -> AssignmentEffect:
    assignment = get_assignment(session=session, principal=principal, assignment_id=assignment_id)
    team = _team_ids(session=session, agent_ids={assignment.agent_id}).get(assignment.agent_id)
    return effect_of(assignment=assignment, observations=load(session, assignment.agent_id),
                     window=window or EffectivenessWindow(), team_id=team)


@dataclass(frozen=True)
class EffectivenessReport:
    effects: list[AssignmentEffect]
    by_coach: list[Rollup]
    by_topic: list[Rollup]
    by_team: list[Rollup]

    @property
    def overall(self) -> Rollup:
        total = Rollup(key="all", label="All")
        for row in self.by_topic:
            total.assignments += row.assignments
            total.measured += row.measured
            total.improved += row.improved
            total.significantly_improved += row.significantly_improved
            total.changes.extend(row.changes)
        return total


def effectiveness_report(*, session: Session, principal: Principal, load: ObservationLoader,
                         window: EffectivenessWindow | None = None, coach_id: int | None = None,
                         limit: int = 500) -> EffectivenessReport:
    """Every completed or verified assignment this principal may see (newest `limit`), with roll-ups per
    coach, topic and team: how many were followed by an improvement on their targeted questions."""
    window = window or EffectivenessWindow()
    query = select(CoachingAssignment).where(col(CoachingAssignment.status).in_(
        [AssignmentStatus.COMPLETED.value, AssignmentStatus.VERIFIED.value]))
    visible = visible_agent_ids(session=session, principal=principal)
    if visible is not None:
        query = query.where(col(CoachingAssignment.agent_id).in_(visible))
    if coach_id is not None:
        query = query.where(CoachingAssignment.coach_id == coach_id)
    assignments = list(session.exec(query.order_by(col(CoachingAssignment.completed_at).desc()).limit(limit)).all())
    teams = _team_ids(session=session, agent_ids={a.agent_id for a in assignments})
    cache: dict[int, Sequence[ScoreObservation]] = {}
    effects = []
    for assignment in assignments:
        if assignment.agent_id not in cache:
            cache[assignment.agent_id] = load(session, assignment.agent_id)
        effects.append(effect_of(assignment=assignment, observations=cache[assignment.agent_id], window=window,
                                 team_id=teams.get(assignment.agent_id)))
    coach_names = {str(k): v for k, v in user_names(session=session,
                                                     user_ids=[a.coach_id for a in assignments]).items()}
    team_names = {str(t.id): t.name for t in list_teams(session=session)}
    return EffectivenessReport(effects=effects, by_coach=rollup(effects, key="coach", labels=coach_names),
                               by_topic=rollup(effects, key="topic", labels={}),
                               by_team=rollup(effects, key="team", labels=team_names))
