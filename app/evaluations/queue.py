"""The evaluator's queue as people read it (date, customer by name, channel, queue, duration, due, overdue),
what comes next after a submit, and the search behind "evaluate any interaction"."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.auth.service import user_names
from app.core.security import Principal
from app.core.timeutil import as_utc, utcnow
from app.evaluations import sampling, service
from app.evaluations.models import Evaluation, EvaluationAssignment, EvaluationState, SamplingRule
from app.interactions import service as interactions
from app.interactions.models import Customer, Interaction
from app.scorecards import service as scorecards


@dataclass(frozen=True)
class QueueRow:
    assignment: EvaluationAssignment
    interaction: Interaction
    customer: str
    agent: str
    overdue: bool
    draft_id: int | None  # the evaluator's draft of this interaction, if one is open


def _customer_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {c.id: c.display_name for c in session.exec(select(Customer).where(col(Customer.id).in_(wanted))).all()
            if c.id is not None}


def rows(*, session: Session, evaluator_id: int, channel: str | None = None, queue: str | None = None,
         overdue_only: bool = False, now: datetime | None = None) -> list[QueueRow]:
    """The evaluator's open assignments, earliest due first, with what a person needs to pick one."""
    now = now or utcnow()
    assignments = sampling.queue_for(session=session, evaluator_id=evaluator_id)
    found = {i.id: i for i in session.exec(select(Interaction).where(
        col(Interaction.id).in_([a.interaction_id for a in assignments]))).all()}
    customers = _customer_names(session, [i.customer_id for i in found.values()])
    agents = user_names(session=session, ids=[a.agent_id for a in assignments])
    drafts = {e.interaction_id: e.id for e in session.exec(select(Evaluation).where(
        Evaluation.evaluator_id == evaluator_id, Evaluation.state == EvaluationState.DRAFT,
        col(Evaluation.calibration_session_id).is_(None))).all()}
    out = []
    for assignment in assignments:
        interaction = found.get(assignment.interaction_id)
        if interaction is None:
            continue
        overdue = as_utc(assignment.due_at) < now
        if (channel and interaction.channel != channel) or (queue and interaction.queue != queue) or \
                (overdue_only and not overdue):
            continue
        out.append(QueueRow(assignment=assignment, interaction=interaction,
                            customer=customers.get(interaction.customer_id or 0, "") or "—",
                            agent=agents.get(assignment.agent_id or 0, "—"), overdue=overdue,
                            draft_id=drafts.get(interaction.id or 0)))
    return out


def scorecard_for(*, session: Session, assignment: EvaluationAssignment | None, interaction: Interaction) -> int | None:
    """The scorecard to use without asking: the assignment's (or its rule's), else the only published one that
    applies to the channel; None when the evaluator must choose."""
    if assignment is not None:
        if assignment.scorecard_id is not None:
            return assignment.scorecard_id
        rule = session.get(SamplingRule, assignment.rule_id) if assignment.rule_id is not None else None
        if rule is not None and rule.scorecard_id is not None:
            return rule.scorecard_id
    usable = [c.id for c in scorecards.list_scorecards(session=session, channel=interaction.channel)
              if c.id is not None and scorecards.published_version(session=session, scorecard_id=c.id)]
    return usable[0] if len(usable) == 1 else None


@dataclass(frozen=True)
class NextItem:
    """What "submit and next" opens: a draft to continue, or an assignment to start (with its scorecard when
    it needs no choice)."""

    row: QueueRow
    scorecard_id: int | None


def next_item(*, session: Session, evaluator_id: int, after_interaction: int | None = None) -> NextItem | None:
    """The first item of the queue other than the interaction just scored."""
    for row in rows(session=session, evaluator_id=evaluator_id):
        if row.interaction.id == after_interaction:
            continue
        return NextItem(row=row, scorecard_id=scorecard_for(session=session, assignment=row.assignment,
                                                            interaction=row.interaction))
    return None


def start(*, session: Session, principal: Principal, item: NextItem) -> Evaluation | None:
    """Open the item: its draft if the evaluator has one, else a new evaluation when the scorecard needs no
    choice (None: the evaluator must choose a form first)."""
    if item.row.draft_id is not None:
        return session.get(Evaluation, item.row.draft_id)
    if item.scorecard_id is None or item.row.interaction.id is None:
        return None
    return service.create(session=session, principal=principal, interaction_id=item.row.interaction.id,
                          scorecard_id=item.scorecard_id, assignment_id=item.row.assignment.id)


@dataclass(frozen=True)
class Found:
    interaction: Interaction
    customer: str
    agent: str
    evaluated_by_me: int | None  # my earlier evaluation of it, if any


def search(*, session: Session, principal: Principal, text: str = "", channel: str | None = None,
           limit: int = 25) -> list[Found]:
    """Interactions the principal may see whose id, subject, queue or customer name matches `text` (all when
    empty), newest first — the "evaluate any interaction" picker."""
    query = select(Interaction).outerjoin(Customer, col(Customer.id) == Interaction.customer_id)
    clause = interactions.visible_clause(session=session, principal=principal)
    if clause is not None:
        query = query.where(clause)
    text = text.strip()
    if text:
        like = f"%{text.lower()}%"
        # the redacted subject: matching the original would let a search for digits confirm a card number
        conditions: list[Any] = [col(Interaction.redacted_subject).ilike(like), col(Interaction.queue).ilike(like),
                      col(Customer.display_name).ilike(like), col(Interaction.external_id).ilike(like)]
        if text.lstrip("#").isdigit() and len(text) < 12:
            conditions.append(col(Interaction.id) == int(text.lstrip("#")))
        query = query.where(or_(*conditions))
    if channel:
        query = query.where(Interaction.channel == channel)
    found = list(session.exec(query.order_by(col(Interaction.started_at).desc(), col(Interaction.id).desc())
                              .limit(limit)).all())
    customers = _customer_names(session, [i.customer_id for i in found])
    agents = user_names(session=session, ids=[i.agent_id for i in found])
    mine = {e.interaction_id: e.id for e in session.exec(select(Evaluation).where(
        Evaluation.evaluator_id == principal.user_id, col(Evaluation.calibration_session_id).is_(None),
        col(Evaluation.interaction_id).in_([i.id for i in found]))).all()}
    return [Found(interaction=i, customer=customers.get(i.customer_id or 0, "") or "—",
                  agent=agents.get(i.agent_id or 0, "—"), evaluated_by_me=mine.get(i.id or 0)) for i in found]
