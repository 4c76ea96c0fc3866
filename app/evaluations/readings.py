"""What other features read of scored evaluations: the answers that lost points (coaching topics), an agent's
scored evaluations and their score points (coaching effectiveness, agent summaries), the reference set a draft
form is tested against (scorecards' form test, through a hook) and mean scores per interaction (social care).

No scope checks here: callers check who may see the agent or the form first. Scored means submitted or later
(`service.SCORED_STATES`); calibration evaluations are left out."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.core.errors import NotFound
from app.core.timeutil import as_utc
from app.evaluations.models import Evaluation, EvaluationAnswer, EvaluationState
from app.evaluations.service import SCORED_STATES, answers_of, form_of


@dataclass(frozen=True)
class FailedAnswer:
    question_id: str
    question_text: str
    section_id: str
    value: Any
    earned: float
    possible: float
    critical_failed: bool
    comment: str | None


def failed_answers(*, session: Session, evaluation_id: int) -> list[FailedAnswer]:
    """The answers of a scored evaluation that lost points (or failed a critical question), in form order."""
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise NotFound(f"evaluation {evaluation_id} not found")
    form = form_of(session=session, evaluation=evaluation)
    rows = {a.question_id: a for a in answers_of(session=session, evaluation_id=evaluation_id)}
    out = []
    for section, question in form.questions():
        answer = rows.get(question.id)
        if answer is None or answer.earned is None or answer.possible is None:
            continue
        if answer.critical_failed or answer.earned < answer.possible:
            out.append(FailedAnswer(question_id=question.id, question_text=question.text, section_id=section.id,
                                    value=answer.value, earned=answer.earned, possible=answer.possible,
                                    critical_failed=answer.critical_failed, comment=answer.comment))
    return out


def scored_query(*, since: datetime | None = None, until: datetime | None = None,
                 scorecard_id: int | None = None) -> SelectOfScalar[Evaluation]:
    """Scored evaluations (submitted or later, calibration ones left out) submitted in [since, until) and of
    one scorecard when given: the set every reading of scores starts from."""
    query = select(Evaluation).where(col(Evaluation.state).in_(SCORED_STATES),
                                     col(Evaluation.calibration_session_id).is_(None))
    if since is not None:
        query = query.where(col(Evaluation.submitted_at) >= since)
    if until is not None:
        query = query.where(col(Evaluation.submitted_at) < until)
    if scorecard_id is not None:
        query = query.where(Evaluation.scorecard_id == scorecard_id)
    return query


def agent_evaluations(*, session: Session, agent_id: int, since: datetime | None = None,
                      until: datetime | None = None, scorecard_id: int | None = None) -> list[Evaluation]:
    """An agent's scored (submitted or later) evaluations, oldest first; calibration ones excluded.
    No scope check: callers check `can_view_agent` first."""
    query = scored_query(since=since, until=until, scorecard_id=scorecard_id).where(Evaluation.agent_id == agent_id)
    return list(session.exec(query.order_by(col(Evaluation.submitted_at), col(Evaluation.id))).all())


def scored_points(*, session: Session, agent_id: int) -> list[tuple[int, datetime, float]]:
    """(id, submitted_at, score) of an agent's scored evaluations, oldest first, as `agent_evaluations` orders
    them (calibration ones and those without a score left out): three columns, no evaluation objects (the
    coaching effectiveness panel reads these on every coach's home page)."""
    rows = session.execute(sa.select(col(Evaluation.id), col(Evaluation.submitted_at), col(Evaluation.score))
                           .where(col(Evaluation.agent_id) == agent_id, col(Evaluation.state).in_(SCORED_STATES),
                                  col(Evaluation.calibration_session_id).is_(None),
                                  col(Evaluation.submitted_at).is_not(None), col(Evaluation.score).is_not(None))
                           .order_by(col(Evaluation.submitted_at), col(Evaluation.id))).all()
    return [(int(i), as_utc(at), float(score)) for i, at, score in rows]


def scored_with_answers(*, session: Session, scorecard_id: int, limit: int, since: datetime | None = None,
                        until: datetime | None = None) -> list[tuple[Evaluation, list[EvaluationAnswer]]]:
    """The last `limit` scored evaluations of a scorecard (newest first, any version, calibration ones
    excluded) with their answers, in two queries: the reference set a draft form is tested against.
    No scope check: callers restrict this to form editors."""
    query = scored_query(since=since, until=until, scorecard_id=scorecard_id)
    rows = list(session.exec(query.order_by(col(Evaluation.submitted_at).desc(), col(Evaluation.id).desc())
                             .limit(limit)).all())
    ids = [e.id for e in rows if e.id is not None]
    answers: dict[int, list[EvaluationAnswer]] = {i: [] for i in ids}
    if ids:
        for answer in session.exec(select(EvaluationAnswer).where(col(EvaluationAnswer.evaluation_id).in_(ids))
                                   .order_by(col(EvaluationAnswer.id))).all():
            answers[answer.evaluation_id].append(answer)
    return [(e, answers[e.id]) for e in rows if e.id is not None]


def mean_scores_by_interaction(*, session: Session, interaction_ids: Sequence[int]) -> dict[int, float]:
    """The mean score of each interaction's scored evaluations (submitted onwards; drafts and unscored ones
    left out). Social care's "quality of response" reads it."""
    if not interaction_ids:
        return {}
    rows = session.exec(select(Evaluation.interaction_id, func.avg(Evaluation.score)).where(
        col(Evaluation.interaction_id).in_(list(interaction_ids)), Evaluation.state != EvaluationState.DRAFT,
        col(Evaluation.score).is_not(None)).group_by(col(Evaluation.interaction_id))).all()
    return {interaction_id: float(score) for interaction_id, score in rows if score is not None}
