"""Coaching service rules on real SQLite and PostgreSQL: creation from each source, the state machine,
the no-duplicate rule, the automatic rules, acknowledgement, sessions and the audit trail."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.auth.service import principal_of
from app.coaching import queries, rules, service
from app.coaching.models import (
    AssignmentCreate,
    AssignmentStatus,
    CoachingAssignment,
    RuleCreate,
    RuleKind,
    RuleUpdate,
    SessionCreate,
    SessionUpdate,
    SourceKind,
)
from app.coaching.service import EvaluationOutcome, FailedAnswer, RetrainingAction
from app.core.errors import Forbidden, InvalidInput, NotFound
from app.core.models import AuditEvent

NOW = datetime.now(UTC).replace(microsecond=0)  # rules compare outcome times with created_at
VERIFY = FailedAnswer(question_id="verify_identity", question_text="Verified the caller's identity",
                      critical=True, comment="Skipped the security questions",
                      evidence=({"kind": "transcript_excerpt", "start": 12.5, "end": 20.0, "text": "just go ahead"},))
EMPATHY = FailedAnswer(question_id="empathy", question_text="Showed empathy", critical=False)


@pytest.fixture
def people(make_user):
    coach = make_user("coach", username="colin", team="Billing")
    ada = make_user("agent", username="ada", team="Billing")
    ben = make_user("agent", username="ben", team="Billing")
    cara = make_user("agent", username="cara", team="Technical")
    other_coach = make_user("coach", username="cleo", team="Technical")
    admin = make_user("admin", username="root")
    return {name: principal_of(user) for name, user in
            [("coach", coach), ("ada", ada), ("ben", ben), ("cara", cara), ("other_coach", other_coach),
             ("admin", admin)]}


def outcome(eid: int, agent_id: int, days_ago: float, *, score: float = 80.0, failed=(VERIFY,)) -> EvaluationOutcome:
    return EvaluationOutcome(evaluation_id=eid, agent_id=agent_id, interaction_id=100 + eid,
                             submitted_at=NOW - timedelta(days=days_ago), score=score, failed=tuple(failed))


IN_A_MONTH = date.today() + timedelta(days=30)  # never overdue, whenever the suite runs


def manual(session, actor, agent_id, title="Hold etiquette", **extra):
    return service.create_assignment(session=session, actor=actor, data=AssignmentCreate(
        agent_id=agent_id, topic_title=title, goal="Ask before holding", due_date=IN_A_MONTH, **extra))


def audit_actions(session, assignment_id):
    return [e.action for e in session.exec(select(AuditEvent).where(
        AuditEvent.record_type == "coaching_assignment", AuditEvent.record_id == str(assignment_id))
        .order_by(AuditEvent.id)).all()]


def test_manual_assignment_full_lifecycle_is_audited(session, people):
    coach, ada = people["coach"], people["ada"]
    assignment = manual(session, coach, ada.user_id)
    assert assignment.status == "assigned" and assignment.coach_id == coach.user_id
    assert assignment.source_kind == "manual" and assignment.open_key is not None
    for to in ("in_progress", "completed", "verified"):
        service.change_status(session=session, principal=coach, assignment_id=assignment.id,
                              to=AssignmentStatus(to))
    assert assignment.status == "verified" and assignment.verified_by == coach.user_id
    assert assignment.started_at and assignment.completed_at and assignment.verified_at
    assert assignment.open_key is None
    assert audit_actions(session, assignment.id) == ["coaching.assignment.create"] + [
        "coaching.assignment.status"] * 3
    last = session.exec(select(AuditEvent).where(AuditEvent.action == "coaching.assignment.status")
                        .order_by(AuditEvent.id.desc())).first()
    assert last.before == {"status": "completed"} and last.after == {"status": "verified"}
    assert last.actor_id == coach.user_id


@pytest.mark.parametrize("path, illegal", [
    ([], "completed"), ([], "verified"), (["in_progress"], "verified"), (["in_progress"], "assigned"),
    (["in_progress", "completed", "verified"], "in_progress"), (["cancelled"], "in_progress"),
])
def test_illegal_transitions_are_409(session, people, path, illegal):
    assignment = manual(session, people["coach"], people["ada"].user_id)
    for to in path:
        service.change_status(session=session, principal=people["coach"], assignment_id=assignment.id,
                              to=AssignmentStatus(to))
    with pytest.raises(service.IllegalTransition) as error:
        service.change_status(session=session, principal=people["coach"], assignment_id=assignment.id,
                              to=AssignmentStatus(illegal))
    assert error.value.status_code == 409


def test_only_a_coach_verifies(session, people):
    assignment = manual(session, people["admin"], people["ada"].user_id)
    for to in ("in_progress", "completed"):
        service.change_status(session=session, principal=people["admin"], assignment_id=assignment.id,
                              to=AssignmentStatus(to))
    with pytest.raises(Forbidden):
        service.change_status(session=session, principal=people["admin"], assignment_id=assignment.id,
                              to=AssignmentStatus.VERIFIED)
    service.change_status(session=session, principal=people["coach"], assignment_id=assignment.id,
                          to=AssignmentStatus.VERIFIED)


def test_no_duplicate_open_assignment_for_agent_and_topic(session, people):
    coach, ada, ben = people["coach"], people["ada"], people["ben"]
    first = manual(session, coach, ada.user_id, title="Hold etiquette")
    with pytest.raises(service.DuplicateAssignment) as error:
        manual(session, coach, ada.user_id, title="  hold   ETIQUETTE ")
    assert error.value.status_code == 409
    manual(session, coach, ben.user_id, title="Hold etiquette")  # another agent: fine
    manual(session, coach, ada.user_id, title="Closing")  # another topic: fine
    service.change_status(session=session, principal=coach, assignment_id=first.id, to=AssignmentStatus.CANCELLED)
    again = manual(session, coach, ada.user_id, title="Hold etiquette")  # the first one is closed now
    # reopening the cancelled one is illegal anyway; completing and reopening while another is open → 409
    for to in ("in_progress", "completed"):
        service.change_status(session=session, principal=coach, assignment_id=again.id, to=AssignmentStatus(to))
    third = manual(session, coach, ada.user_id, title="Hold etiquette")
    with pytest.raises(service.DuplicateAssignment):
        service.change_status(session=session, principal=coach, assignment_id=again.id,
                              to=AssignmentStatus.IN_PROGRESS)
    assert third.status == "assigned"


def test_the_database_itself_refuses_a_second_open_assignment(session, people):
    first = manual(session, people["coach"], people["ada"].user_id)
    twin = CoachingAssignment(agent_id=first.agent_id, topic_title="x", topic_key=first.topic_key,
                              open_key=first.open_key)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(twin)
        session.flush()


def test_create_from_evaluation_attaches_failed_answers_and_evidence(session, people):
    coach, ada = people["coach"], people["ada"]
    result = outcome(7, ada.user_id, 1, score=55, failed=(VERIFY, EMPATHY))
    assignment = service.create_from_evaluation(session=session, outcome=result, actor=coach,
                                                question_ids=["verify_identity"], goal="Always verify")
    assert assignment.source_kind == SourceKind.EVALUATION and assignment.source_id == 7
    assert assignment.question_ids == ["verify_identity"] and assignment.topic_key == "q:verify_identity"
    assert assignment.topic_title == "Verified the caller's identity"
    kinds = [(e["kind"], e.get("evaluation_id"), e.get("interaction_id")) for e in assignment.evidence]
    assert kinds == [("evaluation_answer", 7, 107), ("transcript_excerpt", 7, 107)]
    assert assignment.evidence[1]["start"] == 12.5 and assignment.evidence[0]["text"] == VERIFY.comment
    with pytest.raises(InvalidInput):
        service.create_from_evaluation(session=session, outcome=result, actor=coach, question_ids=["closing"])
    overall = service.create_from_evaluation(session=session, outcome=outcome(8, ada.user_id, 1, failed=()),
                                             actor=coach)
    assert overall.topic_title == service.OVERALL_TOPIC and overall.question_ids == []


def test_create_from_review_action_is_idempotent_and_merges_into_open_topic(session, people, make_user):
    coach, ada = people["coach"], people["ada"]
    action = RetrainingAction(action_id=31, agent_id=ada.user_id, topic="Explaining the bill", case_id=4,
                              due_date=date(2026, 12, 15), interaction_ids=(501, 502), notes="Customer confused")
    executive = principal_of(make_user("executive", username="erin"))  # decided in the review meeting
    made = service.create_from_review_action(session=session, action=action, actor=executive)
    assert made.source_kind == "review_action" and made.source_id == 31 and made.coach_id == coach.user_id
    assert made.created_by == executive.user_id
    assert made.due_date == date(2026, 12, 15) and "review case 4" in made.goal
    assert [e["interaction_id"] for e in made.evidence] == [501, 502]
    assert service.create_from_review_action(session=session, action=action).id == made.id
    second = RetrainingAction(action_id=32, agent_id=ada.user_id, topic="explaining the bill", interaction_ids=(503,))
    merged = service.create_from_review_action(session=session, action=second)
    assert merged.id == made.id and [e["interaction_id"] for e in merged.evidence] == [501, 502, 503]
    assert session.exec(select(CoachingAssignment)).all() == [made]
    assert "coaching.assignment.evidence_added" in audit_actions(session, made.id)


def test_scope_agents_and_other_teams_get_not_found(session, people):
    assignment = manual(session, people["coach"], people["ada"].user_id)
    for name in ("ben", "other_coach"):
        with pytest.raises(NotFound):
            service.get_assignment(session=session, principal=people[name], assignment_id=assignment.id)
        with pytest.raises(NotFound):
            service.change_status(session=session, principal=people[name], assignment_id=assignment.id,
                                  to=AssignmentStatus.IN_PROGRESS)
    with pytest.raises(NotFound):  # a coach cannot coach another team's agent
        manual(session, people["other_coach"], people["ada"].user_id)
    with pytest.raises(Forbidden):  # the agent sees it but does not manage it
        service.change_status(session=session, principal=people["ada"], assignment_id=assignment.id,
                              to=AssignmentStatus.IN_PROGRESS)
    assert service.get_assignment(session=session, principal=people["ada"], assignment_id=assignment.id)
    mine = queries.list_assignments(session=session, principal=people["ben"])
    assert mine.total == 0
    assert queries.list_assignments(session=session, principal=people["other_coach"]).total == 0
    assert queries.list_assignments(session=session, principal=people["coach"]).total == 1


def test_acknowledgement_by_the_agent_only_once(session, people):
    assignment = manual(session, people["coach"], people["ada"].user_id)
    with pytest.raises(Forbidden):
        service.acknowledge(session=session, principal=people["coach"], assignment_id=assignment.id, comment="")
    service.acknowledge(session=session, principal=people["ada"], assignment_id=assignment.id,
                        comment=" I will practise ")
    assert assignment.acknowledged_at is not None and assignment.acknowledgement_comment == "I will practise"
    with pytest.raises(service.Conflict):
        service.acknowledge(session=session, principal=people["ada"], assignment_id=assignment.id, comment="")
    assert audit_actions(session, assignment.id)[-1] == "coaching.assignment.acknowledge"


def test_sessions_scheduled_then_held_start_the_coaching(session, people):
    coach = people["coach"]
    assignment = manual(session, coach, people["ada"].user_id)
    planned = service.add_session(session=session, principal=coach, assignment_id=assignment.id,
                                  data=SessionCreate(scheduled_at=NOW))
    assert assignment.status == "assigned"
    service.update_session(session=session, principal=coach, session_id=planned.id,
                           data=SessionUpdate(held_at=NOW, notes="Role-played the hold script", outcome="Good"))
    assert assignment.status == "in_progress" and planned.notes == "Role-played the hold script"
    service.add_session(session=session, principal=coach, assignment_id=assignment.id,
                        data=SessionCreate(scheduled_at=NOW + timedelta(days=7)))
    assert len(service.list_sessions(session=session, assignment_id=assignment.id)) == 2
    with pytest.raises(InvalidInput):
        service.add_session(session=session, principal=coach, assignment_id=assignment.id, data=SessionCreate())
    with pytest.raises(Forbidden):
        service.add_session(session=session, principal=people["ada"], assignment_id=assignment.id,
                            data=SessionCreate(scheduled_at=NOW))
    events = session.exec(select(AuditEvent).where(AuditEvent.record_type == "coaching_session")).all()
    assert [e.action for e in events] == ["coaching.session.create", "coaching.session.update",
                                          "coaching.session.create"]


# ---------------------------------------------------------------- automatic rules


def enable(session, admin, kind, **params):
    return rules.create_rule(session=session, principal=admin, data=RuleCreate(kind=kind, enabled=True, **params))


def test_repeat_critical_fail_rule(session, people):
    ada, ben, cara = people["ada"], people["ben"], people["cara"]
    rule = enable(session, people["admin"], RuleKind.REPEAT_CRITICAL_FAIL)
    outcomes = [outcome(1, ada.user_id, 25), outcome(2, ada.user_id, 2),  # twice within 30 days → yes
                outcome(3, ben.user_id, 5),  # once → no
                outcome(4, cara.user_id, 45), outcome(5, cara.user_id, 5),  # 40 days apart → no
                outcome(6, ben.user_id, 4, failed=(EMPATHY,)), outcome(7, ben.user_id, 3, failed=(EMPATHY,))]
    created = rules.apply_rules(session=session, outcomes=outcomes, now=NOW)
    assert [(a.agent_id, a.question_ids) for a in created] == [(ada.user_id, ["verify_identity"])]
    made = created[0]
    assert made.source_kind == "rule" and made.source_id == rule.id and made.created_by is None
    assert made.coach_id == people["coach"].user_id and made.due_date == (NOW + timedelta(days=14)).date()
    assert {e["evaluation_id"] for e in made.evidence} == {1, 2}
    # running again changes nothing: the topic is open
    assert rules.apply_rules(session=session, outcomes=outcomes, now=NOW) == []
    # once it is completed, the same old failures do not trigger it again; two new ones do
    for to in ("in_progress", "completed"):
        service.change_status(session=session, principal=people["coach"], assignment_id=made.id,
                              to=AssignmentStatus(to))
    later = NOW + timedelta(days=10)
    assert rules.apply_rules(session=session, outcomes=outcomes, now=later) == []
    newer = [*outcomes, outcome(8, ada.user_id, -8), outcome(9, ada.user_id, -9)]
    assert [a.agent_id for a in rules.apply_rules(session=session, outcomes=newer, now=later)] == [ada.user_id]
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "coaching.assignment.create",
                                                  AuditEvent.actor_id.is_(None))).all()
    assert len(audit) == 2 and audit[0].actor_name == "system"


def test_rules_configurable_and_disabled(session, people):
    ada = people["ada"]
    rule = enable(session, people["admin"], RuleKind.REPEAT_CRITICAL_FAIL, window_days=60, min_failures=2)
    outcomes = [outcome(1, ada.user_id, 45), outcome(2, ada.user_id, 5)]
    rules.update_rule(session=session, principal=people["admin"], rule_id=rule.id,
                        data=RuleUpdate(enabled=False))
    assert rules.apply_rules(session=session, outcomes=outcomes, now=NOW) == []
    rules.update_rule(session=session, principal=people["admin"], rule_id=rule.id,
                        data=RuleUpdate(enabled=True))
    assert len(rules.apply_rules(session=session, outcomes=outcomes, now=NOW)) == 1
    kinds = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.record_type == "coaching_rule"))]
    assert kinds == ["coaching.rule.create", "coaching.rule.update", "coaching.rule.update"]


def test_low_score_rule(session, people):
    ada, ben, cara = people["ada"], people["ben"], people["cara"]
    enable(session, people["admin"], RuleKind.LOW_SCORE, score_threshold=70, last_n=3)
    outcomes = [
        # ada: an old good score, then 60, 65, 75 → mean of the last 3 = 66.7 < 70 → yes
        outcome(1, ada.user_id, 50, score=95, failed=()), outcome(2, ada.user_id, 20, score=60, failed=()),
        outcome(3, ada.user_id, 10, score=65, failed=()), outcome(4, ada.user_id, 5, score=75, failed=()),
        # ben: 60, 70, 80 → 70, not under → no
        outcome(5, ben.user_id, 9, score=60, failed=()), outcome(6, ben.user_id, 8, score=70, failed=()),
        outcome(7, ben.user_id, 7, score=80, failed=()),
        # cara: only 2 evaluations → no
        outcome(8, cara.user_id, 9, score=10, failed=()), outcome(9, cara.user_id, 8, score=20, failed=()),
    ]
    created = rules.apply_rules(session=session, outcomes=outcomes, now=NOW)
    assert [a.agent_id for a in created] == [ada.user_id]
    assert created[0].topic_title == service.OVERALL_TOPIC
    assert [e["evaluation_id"] for e in created[0].evidence] == [2, 3, 4] and "66.7" in created[0].goal
    assert rules.apply_rules(session=session, outcomes=outcomes, now=NOW) == []


def test_list_filters_and_overdue(session, people):
    coach, ada, ben = people["coach"], people["ada"], people["ben"]
    late = service.create_assignment(session=session, actor=coach, data=AssignmentCreate(
        agent_id=ada.user_id, topic_title="Late one", due_date=date(2020, 1, 1)))
    manual(session, coach, ben.user_id, title="Closing")
    assert service.is_overdue(late)
    f = queries.AssignmentFilters
    assert [a.id for a in queries.list_assignments(session=session, principal=coach,
                                                   filters=f(overdue=True)).items] == [late.id]
    assert queries.list_assignments(session=session, principal=coach, filters=f(agent_id=ben.user_id)).total == 1
    assert queries.list_assignments(session=session, principal=coach, filters=f(topic="LATE")).total == 1
    assert queries.list_assignments(session=session, principal=coach, filters=f(status="verified")).total == 0
    page = queries.list_assignments(session=session, principal=coach, page=2, per_page=1)
    assert page.total == 2 and len(page.items) == 1 and page.pages == 2
