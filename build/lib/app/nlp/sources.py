"""What other features give the analysis: the call's metrics (speech) as rule inputs, and the auto rules of
the published scorecards that apply to the interaction's channel (a question's `auto_answer` placeholder
{"rule", "params"} read as an auto-QA rule; answers are stored under "<scorecard key>/<question id>")."""

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, select

from app.interactions.models import Interaction
from app.nlp.rules import AutoRuleModel, parse_rule
from app.nlp.service import register_metric_source, register_rule_source
from app.scorecards import service as scorecards
from app.speech.models import CallMetrics

log = logging.getLogger("earshot.nlp")
RULE_ALIASES = {"transcript_phrase": "phrase"}  # names used in the shipped scorecards


def call_metrics(*, session: Session, interaction: Interaction) -> Mapping[str, float]:
    """The call's metrics under the names auto-QA rules use (seconds, percentages of the call, counts)."""
    row = session.exec(select(CallMetrics).where(CallMetrics.interaction_id == interaction.id)).first()
    if row is None:
        return {}
    duration = row.duration_seconds or 0.0

    def pct(seconds: float) -> float:
        return round(100.0 * seconds / duration, 2) if duration > 0 else 0.0

    return {
        "duration_seconds": row.duration_seconds, "hold_seconds": row.hold_total_seconds,
        "hold_count": float(row.hold_count), "silence_seconds": row.silence_total_seconds,
        "silence_pct": pct(row.silence_total_seconds), "silence_longest_seconds": row.silence_longest_seconds,
        "overtalk_seconds": row.overtalk_total_seconds, "overtalk_pct": pct(row.overtalk_total_seconds),
        "overtalk_count": float(row.overtalk_count), "agent_talk_seconds": row.agent_talk_seconds,
        "customer_talk_seconds": row.customer_talk_seconds,
        "interruptions_by_agent": float(row.interruptions_by_agent),
        "longest_monologue_seconds": row.longest_monologue_seconds,
        **({"agent_talk_ratio": row.agent_talk_ratio} if row.agent_talk_ratio is not None else {}),
    }


register_metric_source(call_metrics)


def rule_from_auto_answer(rule: str, params: Mapping[str, Any]) -> AutoRuleModel:
    """A scorecard question's `auto_answer: {rule: "phrase", params: {category: greeting, within_seconds: 20}}`
    as an auto-QA rule (raises pydantic.ValidationError naming the bad field)."""
    return parse_rule({**params, "type": RULE_ALIASES.get(rule, rule)})


def question_key(scorecard_key: str, question_id: str) -> str:
    return f"{scorecard_key}/{question_id}"


def scorecard_rules(*, session: Session, interaction: Interaction) -> Mapping[str, AutoRuleModel]:
    """Auto rules of every published scorecard for the interaction's channel. A rule that does not validate
    is logged and skipped: one bad form must not stop the analysis."""
    rules: dict[str, AutoRuleModel] = {}
    for scorecard in scorecards.list_scorecards(session=session, channel=interaction.channel):
        assert scorecard.id is not None
        version = scorecards.published_version(session=session, scorecard_id=scorecard.id)
        if version is None:
            continue
        for _, question in scorecards.form_of(version).questions():
            if question.auto_answer is None:
                continue
            try:
                rules[question_key(scorecard.key, question.id)] = rule_from_auto_answer(
                    question.auto_answer.rule, question.auto_answer.params)
            except ValidationError as exc:
                log.warning("scorecard %s question %s: auto rule skipped: %s", scorecard.key, question.id, exc)
    return rules


register_rule_source(scorecard_rules)
