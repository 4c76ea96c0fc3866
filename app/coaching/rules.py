"""The admin's coaching rules (repeated critical failure, low score) and the automatic assignments they
create from evaluation outcomes, idempotently.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.coaching.models import (
    AssignmentCreate,
    CoachingAssignment,
    CoachingRule,
    Evidence,
    EvidenceKind,
    RuleCreate,
    RuleKind,
    RuleUpdate,
    SourceKind,
)
from app.coaching.service import (
    OVERALL_TOPIC,
    DuplicateAssignment,
    EvaluationOutcome,
    FailedAnswer,
    answer_evidence,
    create_assignment,
    find_open,
    topic_key,
)
from app.core import audit
from app.core.errors import InvalidInput, NotFound
from app.core.jobs import JobKind
from app.core.security import Principal
from app.core.timeutil import as_utc, utcnow


def list_rules(*, session: Session) -> list[CoachingRule]:
    return list(session.exec(select(CoachingRule).order_by(col(CoachingRule.id))).all())


def _rule_snapshot(rule: CoachingRule) -> dict[str, Any]:
    return {"kind": rule.kind, "name": rule.name, "enabled": rule.enabled, "window_days": rule.window_days,
            "min_failures": rule.min_failures, "score_threshold": rule.score_threshold, "last_n": rule.last_n,
            "due_in_days": rule.due_in_days}


def describe_rule(rule: CoachingRule) -> str:
    if rule.kind == RuleKind.REPEAT_CRITICAL_FAIL:
        return (f"The same critical question failed {rule.min_failures} times within the last "
                f"{rule.window_days} days")
    return f"Average of the last {rule.last_n} evaluations under {rule.score_threshold:g}"


DEFAULT_RULE_NAMES = {RuleKind.REPEAT_CRITICAL_FAIL: "Repeated critical failure", RuleKind.LOW_SCORE: "Low score"}


def create_rule(*, session: Session, principal: Principal, data: RuleCreate) -> CoachingRule:
    rule = CoachingRule(**data.model_dump())
    rule.name = rule.name.strip() or DEFAULT_RULE_NAMES[data.kind]
    session.add(rule)
    session.flush()
    audit.record(session=session, actor=principal, action="coaching.rule.create", record_type="coaching_rule",
                 record_id=rule.id, after=_rule_snapshot(rule))
    session.commit()
    return rule


def update_rule(*, session: Session, principal: Principal, rule_id: int, data: RuleUpdate) -> CoachingRule:
    rule = session.get(CoachingRule, rule_id)
    if rule is None:
        raise NotFound(f"coaching rule {rule_id} not found")
    before = _rule_snapshot(rule)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(rule, name, value)
    rule.updated_at = utcnow()
    session.add(rule)
    audit.record(session=session, actor=principal, action="coaching.rule.update", record_type="coaching_rule",
                 record_id=rule.id, before=before, after=_rule_snapshot(rule))
    session.commit()
    return rule


@dataclass
class _Candidate:
    agent_id: int
    title: str
    question_ids: list[str]
    evidence: list[Evidence]
    goal: str
    triggered_by: list[datetime] = field(default_factory=list)  # submission times of the outcomes used
    needed: int = 1  # how many of them must be newer than the topic's latest assignment


def _last_created(*, session: Session, agent_id: int, key: str) -> datetime | None:
    value = session.exec(select(func.max(CoachingAssignment.created_at)).where(
        CoachingAssignment.agent_id == agent_id, CoachingAssignment.topic_key == key)).one()
    return as_utc(value) if value is not None else None


def _repeat_critical_candidates(rule: CoachingRule, outcomes: Sequence[EvaluationOutcome],
                                now: datetime) -> list[_Candidate]:
    since = now - timedelta(days=rule.window_days)
    failures: dict[tuple[int, str], list[tuple[EvaluationOutcome, FailedAnswer]]] = defaultdict(list)
    for outcome in outcomes:
        if not since <= as_utc(outcome.submitted_at) <= now:
            continue
        for answer in outcome.failed:
            if answer.critical:
                failures[(outcome.agent_id, answer.question_id)].append((outcome, answer))
    candidates = []
    for (agent_id, question_id), found in sorted(failures.items()):
        if len({o.evaluation_id for o, _ in found}) < rule.min_failures:
            continue
        found.sort(key=lambda pair: as_utc(pair[0].submitted_at))
        candidates.append(_Candidate(
            agent_id=agent_id, title=found[-1][1].question_text or question_id, question_ids=[question_id],
            evidence=[item for outcome, answer in found for item in answer_evidence(outcome, answer)],
            goal=f"Pass the critical question \u201c{found[-1][1].question_text or question_id}\u201d every time.",
            triggered_by=[as_utc(o.submitted_at) for o, _ in found], needed=rule.min_failures))
    return candidates


def _low_score_candidates(rule: CoachingRule, outcomes: Sequence[EvaluationOutcome],
                          now: datetime) -> list[_Candidate]:
    by_agent: dict[int, list[EvaluationOutcome]] = defaultdict(list)
    for outcome in outcomes:
        if as_utc(outcome.submitted_at) <= now:
            by_agent[outcome.agent_id].append(outcome)
    candidates = []
    for agent_id, agent_outcomes in sorted(by_agent.items()):
        latest = sorted(agent_outcomes, key=lambda o: as_utc(o.submitted_at))[-rule.last_n:]
        if len(latest) < rule.last_n:
            continue
        mean = sum(o.score for o in latest) / len(latest)
        if mean >= rule.score_threshold:
            continue
        candidates.append(_Candidate(
            agent_id=agent_id, title=OVERALL_TOPIC, question_ids=[],
            evidence=[Evidence(kind=EvidenceKind.INTERACTION, interaction_id=o.interaction_id,
                               evaluation_id=o.evaluation_id, text=f"score {o.score:.0f}") for o in latest],
            goal=f"Average {mean:.1f} over the last {len(latest)} evaluations; reach "
                 f"{rule.score_threshold:g} or more.",
            triggered_by=[as_utc(o.submitted_at) for o in latest], needed=len(latest)))
    return candidates


RULE_CHECKS: dict[str, Callable[[CoachingRule, Sequence[EvaluationOutcome], datetime], list[_Candidate]]] = {
    RuleKind.REPEAT_CRITICAL_FAIL: _repeat_critical_candidates,
    RuleKind.LOW_SCORE: _low_score_candidates,
}


def apply_rules(*, session: Session, outcomes: Sequence[EvaluationOutcome], now: datetime | None = None,
                rules: Sequence[CoachingRule] | None = None) -> list[CoachingAssignment]:
    """Run the enabled rules over evaluation outcomes and create the assignments they call for.

    Idempotent: never a second open assignment on an agent's topic, and outcomes submitted before the
    topic's latest assignment was created never trigger another one (the coaching already answered
    them). Returns the assignments created; commits.
    """
    now = as_utc(now or utcnow())
    active = [r for r in (rules if rules is not None else list_rules(session=session)) if r.enabled]
    created: list[CoachingAssignment] = []
    for rule in active:
        for candidate in RULE_CHECKS[rule.kind](rule, outcomes, now):
            key = topic_key(question_ids=candidate.question_ids, title=candidate.title)
            last = _last_created(session=session, agent_id=candidate.agent_id, key=key)
            if find_open(session=session, agent_id=candidate.agent_id, key=key) is not None:
                continue
            if last is not None and sum(t > last for t in candidate.triggered_by) < candidate.needed:
                continue
            data = AssignmentCreate(agent_id=candidate.agent_id, topic_title=candidate.title,
                                    question_ids=candidate.question_ids, goal=candidate.goal,
                                    due_date=(now + timedelta(days=rule.due_in_days)).date(),
                                    evidence=candidate.evidence)
            try:
                created.append(create_assignment(session=session, data=data, actor=None,
                                                 source_kind=SourceKind.RULE, source_id=rule.id, commit=False))
            except (DuplicateAssignment, InvalidInput):
                continue  # raced with another run, or the agent is gone: nothing to add
    session.commit()
    return created


OutcomeLoader = Callable[[Session, datetime, int | None], Sequence[EvaluationOutcome]]
"""(session, since, agent_id or None for all agents) → outcomes of the evaluations submitted since then."""

RULES_LOOKBACK_DAYS = 365
RULES_JOB = JobKind.COACHING_APPLY_RULES


def run_rules(*, session: Session, load: OutcomeLoader, agent_id: int | None = None,
              now: datetime | None = None) -> list[CoachingAssignment]:
    """Load recent outcomes (of one agent, or all) over the longest rule window, and at least a year for
    the last-N rules, and apply the enabled rules to them."""
    now = as_utc(now or utcnow())
    rules = [r for r in list_rules(session=session) if r.enabled]
    if not rules:
        return []
    days = max([RULES_LOOKBACK_DAYS, *(r.window_days for r in rules)])
    outcomes = load(session, now - timedelta(days=days), agent_id)
    return apply_rules(session=session, outcomes=outcomes, now=now, rules=rules)
