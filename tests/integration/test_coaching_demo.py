"""The coaching demo loads on top of the demo users (and, when present, the scorecards and calls): one
completed coaching followed by a clear improvement, one without; loading it again adds nothing."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.auth import demo as auth_demo
from app.auth.service import get_user_by_username, principal_of
from app.coaching import demo, results, sources
from app.coaching.models import CoachingAssignment, CoachingRule
from app.core.models import AuditEvent
from app.core.timeutil import as_utc
from app.evaluations.models import Evaluation
from app.interactions.models import Interaction
from app.scorecards import demo as scorecards_demo


def test_demo_loads_once(runtime, session):
    logs = []
    auth_demo.load_demo(runtime=runtime, log=logs.append)
    demo.load_demo(runtime=runtime, log=logs.append)
    demo.load_demo(runtime=runtime, log=logs.append)
    assert logs[-2:] == ["demo: 4 coaching assignment(s) created", "demo: 0 coaching assignment(s) created"]
    assignments = session.exec(select(CoachingAssignment).order_by(CoachingAssignment.id)).all()
    assert [a.status for a in assignments] == ["verified", "completed", "in_progress", "assigned"]
    assert all(a.completed_at is None or a.completed_at > a.created_at for a in assignments)
    assert [r.enabled for r in session.exec(select(CoachingRule).order_by(CoachingRule.id)).all()] == [True, False]
    assert session.exec(select(Evaluation)).all() == []  # no scorecards or calls: no demo evaluations


def test_demo_shows_one_coaching_that_worked_and_one_that_did_not(runtime, session):
    logs = []
    auth_demo.load_demo(runtime=runtime, log=logs.append)
    scorecards_demo.load_demo(runtime=runtime, log=logs.append)
    for n, username in enumerate(["ada", "ada", "ada", "ben", "ben", "ben"]):
        agent = get_user_by_username(session=session, username=username)
        session.add(Interaction(channel="call", started_at=datetime(2026, 9, 1, tzinfo=UTC) + timedelta(days=n),
                                agent_id=agent.id, source="test", external_id=f"demo-call-{n}"))
    session.commit()
    demo.load_demo(runtime=runtime, log=logs.append)
    # nobody scores the same call twice: the demo's evaluators take turns
    pairs = [(e.evaluator_id, e.interaction_id) for e in session.exec(select(Evaluation)).all()]
    assert pairs and len(pairs) == len(set(pairs))
    coach = principal_of(get_user_by_username(session=session, username="colin"))
    effects = {e.topic_title: e for e in results.effectiveness_report(
        session=session, principal=coach, load=sources.observations_for).effects}
    worked = effects["Verified the caller's identity before discussing the account"].primary
    assert worked.before_n == 5 and worked.after_n == 4 and worked.change == 80 and worked.verdict == "improved"
    flat = effects["Acknowledged the customer's feelings"].primary
    assert flat.before_n == 4 and flat.after_n == 4 and flat.change == 0 and not flat.improved
    assert len(session.exec(select(Evaluation)).all()) == 17
    # an evaluation's history says it was submitted when its header does (the demo dates them in the past)
    for evaluation in session.exec(select(Evaluation)).all():
        submitted = session.exec(select(AuditEvent).where(
            AuditEvent.record_id == str(evaluation.id), AuditEvent.action == "evaluation.submit")).one()
        assert as_utc(submitted.at) == as_utc(evaluation.submitted_at), evaluation.id
