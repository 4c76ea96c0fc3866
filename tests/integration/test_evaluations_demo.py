"""The scorecards and evaluations demo loaders: they run on the demo users and interactions, and a second
run adds nothing."""

from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from app.auth import demo as auth_demo
from app.auth.service import get_user_by_username, principal_of
from app.evaluations import agreement, bias
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
    for offset, (username, channel) in enumerate([("dan", "call"), ("dan", "call"), ("ada", "call"), ("ben", "call"),
                                                  ("ada", "call"), ("cara", "chat"), ("dan", "email"),
                                                  ("sam", "social"), ("ben", "chat")]):
        agent = get_user_by_username(session=session, username=username)
        make_interaction(session, agent_id=agent.id, channel=channel, started_at=start + timedelta(hours=offset),
                         messages=2)
    evaluations_demo.load_demo(runtime=runtime, log=logs.append)
    evaluations = _count(session, Evaluation)
    assert evaluations >= 7 and _count(session, CalibrationSession) == evaluations_demo.CALIBRATION_SESSIONS
    # the demo scores the three latest calls; the rule samples what nobody scored: dan's two earlier calls
    assert _count(session, EvaluationAssignment) == 2
    assert {a.agent_id for a in session.exec(select(EvaluationAssignment)).all()} == {
        get_user_by_username(session=session, username="dan").id}
    states = set(session.exec(select(Evaluation.state)).all())
    assert {"acknowledged", "resolved", "submitted"} <= states
    calibrations = session.exec(select(CalibrationSession)).all()
    assert all(c.status == "closed" and "alpha" in c.results for c in calibrations)
    # the demo shows a flagged evaluator: evan scores above the gold answers, eva around them
    admin = principal_of(get_user_by_username(session=session, username="admin"))
    flags = {(r.evaluator_id, r.reference, r.measure): r for r in bias.evaluator_bias(session=session, principal=admin)}
    evan, eva = (get_user_by_username(session=session, username=n).id for n in ("evan", "eva"))
    assert flags[(evan, "gold", bias.TOTAL)].flagged and flags[(evan, "gold", bias.TOTAL)].bias.offset > 0
    assert not flags[(eva, "gold", bias.TOTAL)].flagged
    assert flags[(eva, "gold", bias.TOTAL)].bias.n_pairs == evaluations_demo.CALIBRATION_SESSIONS
    # spread over months, with alpha per month on the agreement page
    months = agreement.question_agreement(session=session, scorecard_id=agreement.default_scorecard_id(
        session=session), period="month")
    assert len(months.periods) >= 3
    scorecards_demo.load_demo(runtime=runtime, log=logs.append)
    evaluations_demo.load_demo(runtime=runtime, log=logs.append)
    assert _count(session, Evaluation) == evaluations and _count(session, ScorecardVersion) == versions
    assert "demo: evaluations already loaded" in logs
