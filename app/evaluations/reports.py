"""Score summaries for reports and the statistics work (confidence intervals, evaluator bias).

Every group keeps its raw scores (`scores`) so callers can compute intervals or tests without another query.
Only scored (submitted or later), non-calibration evaluations count, within the caller's scope.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, select

from app.auth import service as auth_service
from app.core import stats
from app.core.security import Principal
from app.evaluations import readings
from app.evaluations.models import Evaluation, EvaluationAnswer

GroupBy = Literal["agent", "team", "channel", "evaluator", "scorecard", "question", "week"]


@dataclass
class ScoreGroup:
    key: str
    n: int = 0
    mean: float | None = None
    stdev: float | None = None
    critical_failures: int = 0
    critical_rate: float | None = None
    ci_low: float | None = None  # 95 % t-interval on the mean (app/stats)
    ci_high: float | None = None
    conclusive: bool = False  # False: "not enough evaluations to say"
    interval: str = ""  # the mean with its interval, in words
    scores: list[float] = field(default_factory=list)


def scored_evaluations(*, session: Session, principal: Principal, since: datetime | None = None,
                       until: datetime | None = None, scorecard_id: int | None = None) -> list[Evaluation]:
    query = readings.scored_query(since=since, until=until, scorecard_id=scorecard_id).where(
        col(Evaluation.score).is_not(None))
    visible = auth_service.visible_agent_ids(session=session, principal=principal)
    if visible is not None:
        query = query.where(col(Evaluation.agent_id).in_(visible))
    return list(session.exec(query.order_by(col(Evaluation.id))).all())


def _finish(group: ScoreGroup) -> ScoreGroup:
    group.n = len(group.scores)
    if group.scores:
        group.mean = round(statistics.fmean(group.scores), 2)
        group.stdev = round(statistics.stdev(group.scores), 2) if len(group.scores) > 1 else None
        group.critical_rate = round(group.critical_failures / group.n, 4)
    interval = stats.mean_interval(group.scores)
    group.ci_low = None if interval.low is None else round(interval.low, 2)
    group.ci_high = None if interval.high is None else round(interval.high, 2)
    group.conclusive = interval.conclusive()
    group.interval = interval.describe()
    return group


def summary(*, session: Session, principal: Principal, group_by: GroupBy, since: datetime | None = None,
            until: datetime | None = None, scorecard_id: int | None = None) -> list[ScoreGroup]:
    """Mean score, spread and critical-failure rate per group. For `question`, the "score" of an answer is the
    share of its points earned (0-100) and a critical failure is a failed critical answer."""
    evaluations = scored_evaluations(session=session, principal=principal, since=since, until=until,
                                     scorecard_id=scorecard_id)
    groups: dict[str, ScoreGroup] = defaultdict(lambda: ScoreGroup(key=""))
    if group_by == "question":
        ids = [e.id for e in evaluations]
        answers = session.exec(select(EvaluationAnswer).where(col(EvaluationAnswer.evaluation_id).in_(ids),
                                                              col(EvaluationAnswer.possible).is_not(None))).all()
        for answer in answers:
            if not answer.possible:
                continue
            group = groups[answer.question_id]
            group.key = answer.question_id
            group.scores.append(round(100.0 * (answer.earned or 0.0) / answer.possible, 2))
            group.critical_failures += int(answer.critical_failed)
    else:
        for evaluation in evaluations:
            key = _key(evaluation, group_by)
            group = groups[key]
            group.key = key
            group.scores.append(float(evaluation.score or 0.0))
            group.critical_failures += int(evaluation.critical_failed)
    return [_finish(g) for _, g in sorted(groups.items())]


def _key(evaluation: Evaluation, group_by: GroupBy) -> str:
    if group_by == "week":
        assert evaluation.submitted_at is not None
        year, week, _ = evaluation.submitted_at.isocalendar()
        return f"{year}-W{week:02d}"
    value = {"agent": evaluation.agent_id, "team": evaluation.team_id, "channel": evaluation.channel,
             "evaluator": evaluation.evaluator_id, "scorecard": evaluation.scorecard_id}[group_by]
    return "" if value is None else str(value)
