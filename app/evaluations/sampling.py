"""Sampling rules → evaluation assignments, and each evaluator's queue.

A rule picks, for every agent with matching interactions in a period (channel, team, queue, minimum
duration), up to `per_agent` interactions at random — deterministically: the generator is seeded with the
rule's seed, the rule id, the period start and the agent, so running a rule twice gives the same sample.
An interaction is never assigned twice by one rule (a unique constraint backs this), nor sampled once someone
has scored it (outside calibration); running the rule
again in the same period only tops each agent up to N. Assignments are spread evenly: each goes to the
listed evaluator with the fewest open assignments (never the agent themself).
"""

import random
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.auth.models import User
from app.core import audit
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.security import Principal, Role
from app.core.timeutil import as_utc
from app.evaluations.models import (
    AssignmentCreate,
    AssignmentPublic,
    Evaluation,
    EvaluationAssignment,
    SamplingRule,
    SamplingRuleCreate,
    SamplingRulePublic,
)
from app.interactions.models import Interaction


def create_rule(*, session: Session, principal: Principal, data: SamplingRuleCreate) -> SamplingRule:
    _check_evaluators(session=session, evaluator_ids=data.evaluator_ids)
    rule = SamplingRule(**data.model_dump(), created_by=principal.user_id)
    session.add(rule)
    session.flush()
    audit.record(session=session, actor=principal, action="sampling_rule.create", record_type="sampling_rule",
                 record_id=rule.id, after=data.model_dump())
    session.commit()
    return rule


def set_per_agent(*, session: Session, principal: Principal, rule_id: int, per_agent: int) -> SamplingRule:
    """Change how many interactions a rule picks per agent and period (e.g. to the planner's suggestion)."""
    if not 1 <= per_agent <= 1000:
        raise InvalidInput("per_agent must be between 1 and 1000", details=[{"loc": "per_agent", "msg": "out of range"}])
    rule = get_rule(session=session, rule_id=rule_id)
    before = rule.per_agent
    rule.per_agent = per_agent
    audit.record(session=session, actor=principal, action="sampling_rule.update", record_type="sampling_rule",
                 record_id=rule_id, before={"per_agent": before}, after={"per_agent": per_agent})
    session.commit()
    return rule


def _check_evaluators(*, session: Session, evaluator_ids: list[int]) -> None:
    for index, user_id in enumerate(evaluator_ids):
        user = session.get(User, user_id)
        if user is None or not user.is_active or not ({Role.EVALUATOR, Role.ADMIN} & user.role_set):
            raise InvalidInput(f"user {user_id} is not an active evaluator",
                               details=[{"loc": f"evaluator_ids[{index}]", "msg": "not an active evaluator"}])


def list_rules(*, session: Session) -> list[SamplingRule]:
    return list(session.exec(select(SamplingRule).order_by(col(SamplingRule.id))).all())


def get_rule(*, session: Session, rule_id: int) -> SamplingRule:
    rule = session.get(SamplingRule, rule_id)
    if rule is None:
        raise NotFound(f"sampling rule {rule_id} not found")
    return rule


def rule_public(rule: SamplingRule) -> SamplingRulePublic:
    assert rule.id is not None
    return SamplingRulePublic(id=rule.id, active=rule.active, name=rule.name, channel=rule.channel,
                              team_id=rule.team_id, queue=rule.queue, per_agent=rule.per_agent,
                              period_days=rule.period_days, due_days=rule.due_days, seed=rule.seed,
                              min_duration_seconds=rule.min_duration_seconds, evaluator_ids=rule.evaluator_ids,
                              scorecard_id=rule.scorecard_id)


def _candidates(*, session: Session, rule: SamplingRule, start: datetime, end: datetime) -> list[Interaction]:
    query = select(Interaction).where(col(Interaction.started_at) >= start, col(Interaction.started_at) < end,
                                      col(Interaction.agent_id).is_not(None))
    if rule.channel:
        query = query.where(Interaction.channel == rule.channel)
    if rule.queue:
        query = query.where(Interaction.queue == rule.queue)
    if rule.min_duration_seconds is not None:
        query = query.where(col(Interaction.duration_seconds) >= rule.min_duration_seconds)
    if rule.team_id is not None:
        team_agents = select(User.id).where(User.team_id == rule.team_id)
        query = query.where(col(Interaction.agent_id).in_(team_agents))
    return list(session.exec(query.order_by(col(Interaction.id))).all())


def open_load(*, session: Session, evaluator_ids: list[int]) -> dict[int, int]:
    """Open assignments per evaluator."""
    load = dict.fromkeys(evaluator_ids, 0)
    rows = session.exec(select(EvaluationAssignment.evaluator_id, func.count())
                        .where(col(EvaluationAssignment.evaluator_id).in_(evaluator_ids),
                               EvaluationAssignment.status == "open")
                        .group_by(col(EvaluationAssignment.evaluator_id))).all()
    for evaluator_id, count in rows:
        load[evaluator_id] = int(count)
    return load


def run_rule(*, session: Session, principal: Principal | None, rule_id: int,
             period_start: datetime) -> list[EvaluationAssignment]:
    """Create this period's assignments for a rule (see the module docstring). Returns the new ones."""
    rule = get_rule(session=session, rule_id=rule_id)
    if not rule.active:
        raise Conflict(f"sampling rule {rule_id} is not active")
    start = as_utc(period_start)
    end = start + timedelta(days=rule.period_days)
    already = set(session.exec(select(EvaluationAssignment.interaction_id)
                               .where(EvaluationAssignment.rule_id == rule.id)).all())
    per_agent_done: dict[int, int] = defaultdict(int)
    for agent_id in session.exec(select(EvaluationAssignment.agent_id).where(
            EvaluationAssignment.rule_id == rule.id, EvaluationAssignment.period_start == start)).all():
        if agent_id is not None:
            per_agent_done[agent_id] += 1
    candidates = [i for i in _candidates(session=session, rule=rule, start=start, end=end)
                  if i.id not in already and i.agent_id is not None]
    # an interaction someone already scored is not sampled again (calibration sessions do not count)
    scored = set(session.exec(select(Evaluation.interaction_id).where(
        col(Evaluation.interaction_id).in_([i.id for i in candidates]), Evaluation.state != "draft",
        col(Evaluation.calibration_session_id).is_(None))).all()) if candidates else set()
    by_agent: dict[int, list[Interaction]] = defaultdict(list)
    for interaction in candidates:
        if interaction.id not in scored and interaction.agent_id is not None:
            by_agent[interaction.agent_id].append(interaction)
    load = open_load(session=session, evaluator_ids=rule.evaluator_ids)
    order = {evaluator_id: i for i, evaluator_id in enumerate(rule.evaluator_ids)}
    created: list[EvaluationAssignment] = []
    for agent_id in sorted(by_agent):
        wanted = max(rule.per_agent - per_agent_done[agent_id], 0)
        pool = by_agent[agent_id]
        rng = random.Random(f"{rule.seed}:{rule.id}:{start.isoformat()}:{agent_id}")
        picked = sorted(rng.sample(pool, min(wanted, len(pool))), key=lambda i: i.id or 0)
        for interaction in picked:
            choices = [e for e in rule.evaluator_ids if e != agent_id]
            if not choices:
                continue
            evaluator_id = min(choices, key=lambda e: (load[e], order[e]))
            load[evaluator_id] += 1
            assert interaction.id is not None
            assignment = EvaluationAssignment(rule_id=rule.id, interaction_id=interaction.id, agent_id=agent_id,
                                              evaluator_id=evaluator_id, scorecard_id=rule.scorecard_id,
                                              period_start=start, due_at=end + timedelta(days=rule.due_days))
            session.add(assignment)
            created.append(assignment)
    session.flush()
    audit.record(session=session, actor=principal, action="sampling_rule.run", record_type="sampling_rule",
                 record_id=rule.id, after={"period_start": start.isoformat(), "created": len(created)})
    session.commit()
    return created


def create_assignment(*, session: Session, principal: Principal, data: AssignmentCreate) -> EvaluationAssignment:
    """A manual assignment of one interaction to an evaluator."""
    interaction = session.get(Interaction, data.interaction_id)
    if interaction is None:
        raise NotFound(f"interaction {data.interaction_id} not found")
    _check_evaluators(session=session, evaluator_ids=[data.evaluator_id])
    if interaction.agent_id == data.evaluator_id:
        raise Forbidden("An evaluator cannot be assigned their own interaction.")
    assert interaction.id is not None
    assignment = EvaluationAssignment(interaction_id=interaction.id, agent_id=interaction.agent_id,
                                      evaluator_id=data.evaluator_id, scorecard_id=data.scorecard_id,
                                      due_at=as_utc(data.due_at))
    session.add(assignment)
    session.flush()
    audit.record(session=session, actor=principal, action="assignment.create", record_type="evaluation_assignment",
                 record_id=assignment.id, after={"interaction_id": interaction.id, "evaluator_id": data.evaluator_id})
    session.commit()
    return assignment


def queue_for(*, session: Session, evaluator_id: int, include_done: bool = False) -> list[EvaluationAssignment]:
    """An evaluator's assignments, earliest due first."""
    query = select(EvaluationAssignment).where(EvaluationAssignment.evaluator_id == evaluator_id)
    if not include_done:
        query = query.where(EvaluationAssignment.status == "open")
    return list(session.exec(query.order_by(col(EvaluationAssignment.due_at), col(EvaluationAssignment.id))).all())


def assignment_public(*, session: Session, assignment: EvaluationAssignment) -> AssignmentPublic:
    assert assignment.id is not None
    evaluation_id = session.exec(select(Evaluation.id).where(Evaluation.assignment_id == assignment.id)).first()
    return AssignmentPublic(id=assignment.id, rule_id=assignment.rule_id, interaction_id=assignment.interaction_id,
                            agent_id=assignment.agent_id, evaluator_id=assignment.evaluator_id,
                            scorecard_id=assignment.scorecard_id, due_at=assignment.due_at,
                            status=assignment.status, evaluation_id=evaluation_id)
