"""The scorecards' side of the core hooks (app/core/hooks.py): the analysis asks for the auto-QA rules of the
published forms."""

import logging
from collections.abc import Mapping

from pydantic import ValidationError

from app.core import hooks
from app.nlp.rules import AutoRuleModel
from app.nlp.sources import question_key, rule_from_auto_answer
from app.scorecards import service

log = logging.getLogger("earshot.nlp")


@hooks.AUTO_QA_RULES.handler
def published_auto_rules(subject: hooks.AnalysisSubject) -> Mapping[str, AutoRuleModel]:
    """Auto rules of every published scorecard for the interaction's channel, keyed "<scorecard>/<question>".
    A rule that does not validate is logged and skipped: one bad form must not stop the analysis."""
    rules: dict[str, AutoRuleModel] = {}
    for scorecard in service.list_scorecards(session=subject.session, channel=subject.channel):
        assert scorecard.id is not None
        version = service.published_version(session=subject.session, scorecard_id=scorecard.id)
        if version is None:
            continue
        for _, question in service.form_of(version).questions():
            if question.auto_answer is None:
                continue
            try:
                rules[question_key(scorecard.key, question.id)] = rule_from_auto_answer(
                    question.auto_answer.rule, question.auto_answer.params)
            except ValidationError as exc:
                log.warning("scorecard %s question %s: auto rule skipped: %s", scorecard.key, question.id, exc)
    return rules
