"""What other features give the analysis: the call's metrics (speech) as rule inputs, and the adapter from a
scorecard question's `auto_answer` placeholder ({"rule", "params"}) to an auto-QA rule."""

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from app.interactions.models import Interaction
from app.nlp.rules import AutoRuleModel, parse_rule
from app.nlp.service import register_metric_source
from app.speech.models import CallMetrics


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
    return parse_rule({**params, "type": rule})
