"""Demo coaching for Colin's Billing team: a verified assignment whose agent improved (Ada, identity
verification) and a completed one whose agent did not (Ben, acknowledging feelings), each with voice-call
evaluations before and after it; one in progress; one overdue; and the two rules, the repeat-critical one
switched on. Idempotent: an agent's topic that exists is left alone."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.auth.models import User
from app.auth.service import get_user_by_username, principal_of
from app.coaching import rules, service
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
from app.core.models import AuditEvent
from app.core.timeutil import utcnow
from app.interactions import content
from app.interactions.models import Interaction
from app.scorecards import service as scorecards

DEMO_ORDER = 35  # after scorecards/evaluations (30), before reviews (40)


@dataclass(frozen=True)
class DemoAssignment:  # question ids are the shipped voice_call form's
    agent: str
    title: str
    question_ids: tuple[str, ...]
    goal: str
    created_days_ago: int
    completed_days_ago: int | None  # None: still open
    verified: bool
    due_in_days: int
    held_sessions: int
    before: tuple[bool, ...] = ()  # the targeted question's answers in the evaluations before the coaching
    after: tuple[bool, ...] = ()  # ... and after it


DEMO_ASSIGNMENTS = [
    DemoAssignment("ada", "Verified the caller's identity before discussing the account", ("identity_verified",),
                   "Ask for two verification factors before discussing the account, on every call.", 50, 20, True,
                   -25, 2, before=(False, False, True, False, False), after=(True, True, True, True)),
    DemoAssignment("ben", "Acknowledged the customer's feelings", ("acknowledged_feelings",),
                   "Acknowledge the customer's problem in your own words before proposing a fix.", 45, 15, False,
                   -20, 1, before=(False, True, False, True), after=(True, False, False, True)),
    DemoAssignment("ada", "Asked before putting the customer on hold", ("asked_before_hold",),
                   "Ask before putting on hold; come back every 60 seconds.", 6, None, False, 7, 1),
    DemoAssignment("ben", "Summarised the call", ("summarised",),
                   "Recap what was agreed and what happens next.", 12, None, False, -3, 0),
]


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    with session_scope(runtime.sessions) as session:
        admin = get_user_by_username(session=session, username="admin")
        coach = get_user_by_username(session=session, username="colin")
        if admin is None or coach is None:
            log("demo: coaching skipped (the demo users are missing)")
            return
        if not rules.list_rules(session=session):
            for kind, enabled in ((RuleKind.REPEAT_CRITICAL_FAIL, True), (RuleKind.LOW_SCORE, False)):
                rules.create_rule(session=session, principal=principal_of(admin),
                                    data=RuleCreate(kind=kind, enabled=enabled))
        created = sum(_load_one(session=session, coach=coach, item=item) for item in DEMO_ASSIGNMENTS)
    log(f"demo: {created} coaching assignment(s) created")


def _load_one(*, session: Session, coach: User, item: DemoAssignment) -> int:
    agent = get_user_by_username(session=session, username=item.agent)
    if agent is None or agent.id is None:
        return 0
    # only questions some form has (coaching refuses others): without the demo scorecards the topic stands alone
    known = {question_id for _, question_id, _ in scorecards.question_catalogue(session=session)}
    question_ids = [q for q in item.question_ids if q in known]
    key = service.topic_key(question_ids=question_ids, title=item.title)
    if session.exec(select(CoachingAssignment).where(CoachingAssignment.agent_id == agent.id,
                                                     CoachingAssignment.topic_key == key)).first():
        return 0
    actor = principal_of(coach)
    now = utcnow()
    created_at = now - timedelta(days=item.created_days_ago)
    assignment = service.create_assignment(session=session, actor=actor, data=AssignmentCreate(
        agent_id=agent.id, topic_title=item.title, question_ids=question_ids, goal=item.goal,
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
    _demo_evaluations(session=session, agent_id=agent.id, item=item, created_at=created_at,
                      completed_at=assignment.completed_at)
    return 1


def _demo_evaluations(*, session: Session, agent_id: int, item: DemoAssignment, created_at: datetime,
                      completed_at: datetime | None) -> int:
    """Voice-call evaluations of the agent before and after the coaching, good on everything but the targeted
    question, which follows `before`/`after`. Each (evaluator, call) pair is used once: the demo evaluators take
    turns on the agent's calls, and the story stops early rather than score a call twice by the same person."""
    from app.evaluations import demo as evaluations_demo
    from app.evaluations import service as evaluations
    from app.evaluations.models import AnswerIn
    from app.scorecards import service as scorecards

    evaluators = [principal_of(u) for u in (get_user_by_username(session=session, username=name)
                                            for name in ("eva", "evan", "admin")) if u is not None]
    voice = scorecards.get_by_key(session=session, key="voice_call")
    calls = list(session.exec(select(Interaction).where(Interaction.agent_id == agent_id, Interaction.channel == "call")
                              .order_by(col(Interaction.started_at))).all())
    if not evaluators or voice is None or voice.id is None or not calls or not (item.before or item.after):
        return 0
    free = [(principal, call) for call in calls for principal in evaluators
            if call.id is not None and evaluations.own_evaluation_of(
                session=session, evaluator_id=principal.user_id, interaction_id=call.id) is None]
    plan = [(created_at - timedelta(days=4 * (len(item.before) - i)), passed) for i, passed in enumerate(item.before)]
    if completed_at is not None:
        plan += [(completed_at + timedelta(days=2 + 3 * i), passed) for i, passed in enumerate(item.after)]
    rng = random.Random(agent_id)
    target = item.question_ids[0]
    for (submitted_at, passed), (principal, call) in zip(plan, free, strict=False):
        assert call.id is not None
        evaluation = evaluations.create(session=session, principal=principal, interaction_id=call.id,
                                        scorecard_id=voice.id)
        assert evaluation.id is not None
        form = evaluations.form_of(session=session, evaluation=evaluation)
        answers = []
        for answer in evaluations_demo.demo_answers(form, rng):
            question = form.question(answer.question_id)
            if answer.question_id == target:
                answer = AnswerIn(question_id=target, value=passed)
            elif answer.question_id == "account_discussed" and target == "identity_verified":
                answer = AnswerIn(question_id="account_discussed", value=True)
            elif question is not None and question.type == "yes_no" and question.critical:
                answer = AnswerIn(question_id=answer.question_id, value=True)  # one story per assignment
            answers.append(answer)
        if target == "identity_verified" and not any(a.question_id == target for a in answers):
            answers.append(AnswerIn(question_id=target, value=passed))
        evaluations.submit(session=session, principal=principal, evaluation_id=evaluation.id, answers=answers)
        evaluation.submitted_at = submitted_at  # the demo's story happens over the past weeks
        session.add(evaluation)
        session.execute(update(AuditEvent).where(  # and its history says the same as its header
            col(AuditEvent.record_type) == "evaluation", col(AuditEvent.record_id) == str(evaluation.id),
            col(AuditEvent.action).in_(["evaluation.create", "evaluation.submit"])).values(at=submitted_at))
        session.commit()
    return min(len(plan), len(free))


def _evidence(session: Session, agent_id: int, item: DemoAssignment) -> list[Evidence]:
    """The agent's earliest demo interaction (when the ingest demo made one) and the targeted questions."""
    first = session.exec(select(Interaction).where(Interaction.agent_id == agent_id)
                         .order_by(col(Interaction.started_at))).first()
    items = [Evidence(kind=EvidenceKind.EVALUATION_ANSWER, question_id=q, text="Seen in the demo evaluations")
             for q in item.question_ids]
    if first is not None:
        items.insert(0, Evidence(kind=EvidenceKind.INTERACTION, interaction_id=first.id,
                                 text=content.REDACTED.subject(first) or f"{first.channel} on {first.started_at:%Y-%m-%d}"))
    return items
