"""How a scorecard question's `auto_answer` placeholder {"rule", "params"} reads as an auto-QA rule, and the key
its answer is stored under ("<scorecard key>/<question id>"). The rules themselves come to the analysis through
the core hook AUTO_QA_RULES (scorecards handles it: app/scorecards/hooks.py)."""

from collections.abc import Mapping
from typing import Any

from app.nlp.rules import AutoRuleModel, parse_rule

RULE_ALIASES = {"transcript_phrase": "phrase"}  # names used in the shipped scorecards


def rule_from_auto_answer(rule: str, params: Mapping[str, Any]) -> AutoRuleModel:
    """A scorecard question's `auto_answer: {rule: "phrase", params: {category: greeting, within_seconds: 20}}`
    as an auto-QA rule (raises pydantic.ValidationError naming the bad field)."""
    return parse_rule({**params, "type": RULE_ALIASES.get(rule, rule)})


def question_key(scorecard_key: str, question_id: str) -> str:
    return f"{scorecard_key}/{question_id}"
