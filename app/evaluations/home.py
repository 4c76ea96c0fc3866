"""Home panels: evaluators see their queue and due work, agents their recent scores and open disputes,
coaches their team's average."""

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core import stats
from app.core.security import Principal, Role
from app.core.timeutil import as_utc, utcnow
from app.core.web import HomePanel
from app.evaluations import readings, sampling, service
from app.evaluations.models import Evaluation, EvaluationState

TEAM_WINDOW_DAYS = 30
AGENT_WINDOW_DAYS = 90


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if role == Role.EVALUATOR:
        return [_evaluator_panel(session=session, principal=principal),
                _calibration_panel(session=session, principal=principal)]
    if role == Role.AGENT:
        return _agent_panels(session=session, principal=principal)
    if role == Role.COACH and principal.team_id is not None:
        return [_coach_panel(session=session, principal=principal)]
    return []


def _evaluator_panel(*, session: Session, principal: Principal) -> HomePanel:
    queue = sampling.queue_for(session=session, evaluator_id=principal.user_id)
    now = utcnow()
    overdue = sum(1 for a in queue if as_utc(a.due_at) < now)
    due_week = sum(1 for a in queue if now <= as_utc(a.due_at) < now + timedelta(days=7))
    disputed = service.count_to_resolve(session=session, principal=principal)
    drafts = session.exec(select(func.count()).select_from(Evaluation).where(
        Evaluation.evaluator_id == principal.user_id, Evaluation.state == EvaluationState.DRAFT)).one()
    items: list[tuple[str, str, str | None]] = [
        ("Assigned to me", str(len(queue)), "/evaluations/queue"),
        ("Overdue", str(overdue), "/evaluations/queue"),
        ("Due in 7 days", str(due_week), "/evaluations/queue"),
        ("My drafts", str(drafts), "/evaluations/queue"),
        ("Disputes to resolve", str(disputed), "/evaluations?to_resolve=1"),
    ]
    return HomePanel(title="My evaluation queue", items=items, link="/evaluations/queue", order=20)


def _calibration_panel(*, session: Session, principal: Principal) -> HomePanel:
    """Open calibration sessions this evaluator is invited to and has not submitted yet."""
    from app.evaluations import calibration

    waiting: list[tuple[str, str, str | None]] = []
    for row, mine in calibration.open_invitations(session=session, evaluator_id=principal.user_id):
        if not any(e.state != EvaluationState.DRAFT for e in mine):
            waiting.append((row.title, "draft started" if mine else "to score", f"/calibrations/{row.id}"))
    return HomePanel(title="Calibration invitations", items=waiting, link="/calibrations", order=21,
                     empty_text="No calibration session waiting for you.")


def _agent_panels(*, session: Session, principal: Principal) -> list[HomePanel]:
    recent = list(reversed(readings.agent_evaluations(session=session, agent_id=principal.user_id)[-5:]))
    scores = HomePanel(title="My recent scores", link="/evaluations", order=20,
                       empty_text="No evaluations yet.",
                       items=[(f"#{e.id} · {e.channel} · {e.state}", "—" if e.score is None else f"{e.score:.1f}",
                               f"/evaluations/{e.id}") for e in recent])
    waiting = session.exec(select(Evaluation).where(
        Evaluation.agent_id == principal.user_id, col(Evaluation.calibration_session_id).is_(None),
        col(Evaluation.state).in_([EvaluationState.SUBMITTED, EvaluationState.DISPUTED]))
        .order_by(col(Evaluation.id).desc()).limit(10)).all()
    disputes = HomePanel(title="To acknowledge / open disputes", link="/evaluations", order=21,
                         empty_text="Nothing waiting for you.",
                         items=[(f"#{e.id} · {e.channel}", e.state, f"/evaluations/{e.id}") for e in waiting])
    since = utcnow() - timedelta(days=AGENT_WINDOW_DAYS)
    mine = [float(e.score) for e in readings.agent_evaluations(session=session, agent_id=principal.user_id,
                                                              since=since) if e.score is not None]
    if mine:
        scores.items.insert(0, (f"My average, last {AGENT_WINDOW_DAYS} days", stats.mean_interval(mine).describe(),
                                "/scores"))
    return [scores, disputes]


def _coach_panel(*, session: Session, principal: Principal) -> HomePanel:
    since = utcnow() - timedelta(days=TEAM_WINDOW_DAYS)
    scores = [float(s or 0.0) for s in session.exec(select(Evaluation.score).where(
        Evaluation.team_id == principal.team_id, col(Evaluation.state).in_(service.SCORED_STATES),
        col(Evaluation.calibration_session_id).is_(None), col(Evaluation.submitted_at) >= since,
        col(Evaluation.score).is_not(None))).all()]
    count = len(scores)
    critical = session.exec(select(func.count()).select_from(Evaluation).where(
        Evaluation.team_id == principal.team_id, col(Evaluation.state).in_(service.SCORED_STATES),
        col(Evaluation.calibration_session_id).is_(None), col(Evaluation.submitted_at) >= since,
        Evaluation.critical_failed == True)).one()  # noqa: E712
    items: list[tuple[str, str, str | None]] = []
    if count:
        items = [(f"Average score, last {TEAM_WINDOW_DAYS} days", stats.mean_interval(scores).describe(),
                  "/scores?group_by=team"),
                 ("Evaluations", str(count), "/evaluations"), ("Critical failures", str(critical), "/evaluations")]
    return HomePanel(title="My team's quality", items=items, link="/evaluations", order=20,
                     empty_text="No scored evaluations for your team in the last 30 days.")
