"""The reviews' side of the core hooks (app/core/hooks.py): a changed survey answer opens or refreshes its case."""

from app.core import hooks
from app.reviews import service


@hooks.SURVEY_ANSWERS_CHANGED.handler
def open_review_cases(change: hooks.SurveyAnswersChanged) -> int:
    return service.open_cases_for_responses(session=change.session, response_ids=list(change.response_ids))
