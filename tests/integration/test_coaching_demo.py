"""The coaching demo loads on top of the demo users, and loading it again adds nothing."""

from sqlmodel import select

from app.auth import demo as auth_demo
from app.coaching import demo
from app.coaching.models import CoachingAssignment, CoachingRule


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
