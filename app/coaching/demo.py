"""Demo coaching for Colin's Billing team: a verified and a completed assignment (whose before/after figures
come from the demo evaluations once the evaluation glue is in), one in progress, one overdue; and the two
rules, the repeat-critical one switched on. Idempotent: an agent's topic that exists is left alone."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from app.auth.models import User
from app.auth.service import get_user_by_username, principal_of
from app.coaching import service
from app.coaching.models import (
    AssignmentCreate,
    AssignmentStatus,
    CoachingAssignment,
    Evidence,
    EvidenceKind,
    RuleCreate,
    RuleKind,
    SessionCreate,
)
from app.core.db import session_scope
from app.core.jobs import Runtime
from app.core.timeutil import utcnow
from app.interactions.models import Interaction

DEMO_ORDER = 35  # after scorecards/evaluations (30), before reviews (40)


@dataclass(frozen=True)
class DemoAssignment:
    agent: str
    title: str
    question_ids: tuple[str, ...]
    goal: str
    created_days_ago: int
    completed_days_ago: int | None  # None: still open
    verified: bool
    due_in_days: int
    held_sessions: int


DEMO_ASSIGNMENTS = [
    DemoAssignment("ada", "Verifying the caller's identity", ("verify_identity",),
                   "Ask the two security questions before discussing the account, on every call.", 50, 20, True, -25, 2),
    DemoAssignment("ben", "Listening and empathy", ("empathy",),
                   "Acknowledge the customer's problem in your own words before proposing a fix.", 45, 15, False, -20, 1),
    DemoAssignment("ada", "Hold and transfer etiquette", ("hold_etiquette",),
                   "Ask before putting on hold; come back every 60 seconds.", 6, None, False, 7, 1),
    DemoAssignment("ben", "Closing the call", ("closing",),
                   "Recap what was agreed and what happens next.", 12, None, False, -3, 0),
]


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    with session_scope(runtime.sessions) as session:
        admin = get_user_by_username(session=session, username="admin")
        coach = get_user_by_username(session=session, username="colin")
        if admin is None or coach is None:
            log("demo: coaching skipped (the demo users are missing)")
            return
        if not service.list_rules(session=session):
            for kind, enabled in ((RuleKind.REPEAT_CRITICAL_FAIL, True), (RuleKind.LOW_SCORE, False)):
                service.create_rule(session=session, principal=principal_of(admin),
                                    data=RuleCreate(kind=kind, enabled=enabled))
        created = sum(_load_one(session=session, coach=coach, item=item) for item in DEMO_ASSIGNMENTS)
    log(f"demo: {created} coaching assignment(s) created")


def _load_one(*, session: Session, coach: User, item: DemoAssignment) -> int:
    agent = get_user_by_username(session=session, username=item.agent)
    if agent is None or agent.id is None:
        return 0
    key = service.topic_key(question_ids=item.question_ids, title=item.title)
    if session.exec(select(CoachingAssignment).where(CoachingAssignment.agent_id == agent.id,
                                                     CoachingAssignment.topic_key == key)).first():
        return 0
    actor = principal_of(coach)
    now = utcnow()
    created_at = now - timedelta(days=item.created_days_ago)
    assignment = service.create_assignment(session=session, actor=actor, data=AssignmentCreate(
        agent_id=agent.id, topic_title=item.title, question_ids=list(item.question_ids), goal=item.goal,
        due_date=(now + timedelta(days=item.due_in_days)).date(), evidence=_evidence(session, agent.id, item)))
    assert assignment.id is not None
    for n in range(item.held_sessions):
        held = created_at + timedelta(days=2 + 7 * n)
        service.add_session(session=session, principal=actor, assignment_id=assignment.id, data=SessionCreate(
            scheduled_at=held, held_at=held, notes=f"Session {n + 1}: listened to two calls together, role-played.",
            outcome="Agreed what to practise"))
    if item.completed_days_ago is not None:
        for to in (AssignmentStatus.IN_PROGRESS, AssignmentStatus.COMPLETED):
            if assignment.status != to:
                service.change_status(session=session, principal=actor, assignment_id=assignment.id, to=to)
        if item.verified:
            service.change_status(session=session, principal=actor, assignment_id=assignment.id,
                                  to=AssignmentStatus.VERIFIED)
    # the demo tells a story over the past weeks: move its times back (the audit log keeps today's)
    assignment.created_at = assignment.updated_at = created_at
    if assignment.started_at is not None:
        assignment.started_at = created_at + timedelta(days=2)
    if item.completed_days_ago is not None:
        assignment.completed_at = now - timedelta(days=item.completed_days_ago)
        if assignment.verified_at is not None:
            assignment.verified_at = assignment.completed_at + timedelta(days=3)
    session.add(assignment)
    session.commit()
    return 1


def _evidence(session: Session, agent_id: int, item: DemoAssignment) -> list[Evidence]:
    """The agent's earliest demo interaction (when the interactions demo made one) and the targeted questions."""
    first = session.exec(select(Interaction).where(Interaction.agent_id == agent_id)
                         .order_by(col(Interaction.started_at))).first()
    items = [Evidence(kind=EvidenceKind.EVALUATION_ANSWER, question_id=q, text="Seen in the demo evaluations")
             for q in item.question_ids]
    if first is not None:
        items.insert(0, Evidence(kind=EvidenceKind.INTERACTION, interaction_id=first.id,
                                 text=first.subject or f"{first.channel} on {first.started_at:%Y-%m-%d}"))
    return items
