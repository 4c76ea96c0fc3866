"""The scorecards and evaluations demo loaders: they run on the demo users and interactions, and a second
run adds nothing."""

from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from app.auth import demo as auth_demo
from app.auth.service import get_user_by_username
from app.evaluations import demo as evaluations_demo
from app.evaluations.models import CalibrationSession, Evaluation, EvaluationAssignment
from app.scorecards import demo as scorecards_demo
from app.scorecards.models import ScorecardVersion
from tests.integration.evaluations_support import make_interaction


def _count(session, model):
    return session.exec(select(func.count()).select_from(model)).one()


def test_demo_loads_idempotently(runtime, session):
    logs: list[str] = []
    auth_demo.load_demo(runtime=runtime, log=logs.append)
    scorecards_demo.load_demo(runtime=runtime, log=logs.append)
    versions = _count(session, ScorecardVersion)
    assert versions == 3
    start = datetime(2026, 11, 16, 9, tzinfo=UTC)
    for offset, (username, channel) in enumerate([("ada", "call"), ("ben", "call"), ("ada", "call"),
                                                  ("cara", "chat"), ("dan", "email"), ("sam", "social"),
                                                  ("ben", "chat")]):
        agent = get_user_by_username(session=session, username=username)
        make_interaction(session, agent_id=agent.id, channel=channel, started_at=start + timedelta(hours=offset),
                         messages=2)
    evaluations_demo.load_demo(runtime=runtime, log=logs.append)
    evaluations = _count(session, Evaluation)
    assert evaluations >= 7 and _count(session, CalibrationSession) == 1
    assert _count(session, EvaluationAssignment) == 3  # ada 2 calls, ben 1
    states = set(session.exec(select(Evaluation.state)).all())
    assert {"acknowledged", "resolved", "submitted"} <= states
    calibration = session.exec(select(CalibrationSession)).one()
    assert calibration.status == "closed" and "alpha" in calibration.results
    scorecards_demo.load_demo(runtime=runtime, log=logs.append)
    evaluations_demo.load_demo(runtime=runtime, log=logs.append)
    assert _count(session, Evaluation) == evaluations and _count(session, ScorecardVersion) == versions
    assert "demo: evaluations already loaded" in logs
