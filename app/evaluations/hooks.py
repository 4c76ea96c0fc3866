"""The evaluations' side of the core hooks (app/core/hooks.py): a draft form's test run (scorecards) asks for
the evaluations already scored with the form."""

from app.core import hooks
from app.evaluations import readings


@hooks.SCORED_EVALUATIONS.handler
def scored_evaluations(query: hooks.ScoredEvaluationsQuery) -> list[hooks.ScoredEvaluation]:
    found = readings.scored_with_answers(session=query.session, scorecard_id=query.scorecard_id, limit=query.limit,
                                        since=query.since, until=query.until)
    return [hooks.ScoredEvaluation(
        evaluation_id=evaluation.id, interaction_id=evaluation.interaction_id,
        scorecard_version_id=evaluation.scorecard_version_id, submitted_at=evaluation.submitted_at,
        answers=tuple(hooks.ScoredAnswer(question_id=a.question_id, value=a.value, na=a.na) for a in answers))
        for evaluation, answers in found if evaluation.id is not None]
