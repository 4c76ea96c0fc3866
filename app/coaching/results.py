"""Did the coaching work, read from the stored assignments: the agents whose completed coaching needs
"after" evaluations, one assignment's before/after effect, and the effectiveness report per coach,
topic and team (the statistics themselves are in `app.coaching.effectiveness`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.auth.models import User
from app.auth.service import list_teams, user_names, visible_agent_ids
from app.coaching.effectiveness import (
    AssignmentEffect,
    EffectivenessWindow,
    Rollup,
    ScoreObservation,
    assignment_effect,
    rollup,
)
from app.coaching.models import (
    AssignmentStatus,
    CoachingAssignment,
)
from app.coaching.service import get_assignment
from app.core.security import Principal
from app.core.timeutil import as_utc


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
                                                     ids=[a.coach_id for a in assignments]).items()}
    team_names = {str(t.id): t.name for t in list_teams(session=session)}
    return EffectivenessReport(effects=effects, by_coach=rollup(effects, key="coach", labels=coach_names),
                               by_topic=rollup(effects, key="topic", labels={}),
                               by_team=rollup(effects, key="team", labels=team_names))
