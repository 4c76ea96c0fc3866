"""Coaching assignments: creating them (by hand, from an evaluation, from a review action), moving them
through their states, sessions and acknowledgements, and who may see and manage them.

Elsewhere in coaching: `rules` (the admin's automatic rules), `queries` (lists and counts for the pages),
`results` (whether the coaching worked). Evaluations and review cases belong to other features: they reach
coaching as the small dataclasses below (`EvaluationOutcome`, `RetrainingAction`), built by
`app.coaching.sources`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.auth.models import User
from app.auth.service import can_view_agent
from app.coaching.models import (
    OPEN_STATUSES,
    AssignmentCreate,
    AssignmentStatus,
    AssignmentUpdate,
    CoachingAssignment,
    CoachingSession,
    Evidence,
    EvidenceKind,
    SessionCreate,
    SessionUpdate,
    SourceKind,
)
from app.core import audit
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.security import Principal, Role
from app.core.timeutil import utcnow
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


def find_open(*, session: Session, agent_id: int, key: str) -> CoachingAssignment | None:
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
    existing = find_open(session=session, agent_id=data.agent_id, key=key)
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


def answer_evidence(outcome: EvaluationOutcome, answer: FailedAnswer) -> list[Evidence]:
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
        evidence = [item for answer in failed for item in answer_evidence(outcome, answer)]
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
    existing = find_open(session=session, agent_id=action.agent_id, key=key)
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
        raise InvalidInput("Give the session a scheduled time or the time it was held.",
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
