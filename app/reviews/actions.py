"""Review actions: what the monthly meeting decides for a case (retrain an agent, change a shop's process or
the business flow), their progress by executives or the action's owner, the overdue announcements, and the
retraining hand-over to coaching. Every change is audited; roles as in app/reviews/service.py."""

from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.auth.models import Site
from app.core import audit
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.hooks import EventType
from app.core.models import AuditEvent
from app.core.security import Principal
from app.core.timeutil import utcnow
from app.reviews.models import (
    ActionCreate,
    ActionKind,
    ActionStatus,
    ActionUpdate,
    CaseStatus,
    ReviewAction,
    ReviewCase,
)
from app.reviews.service import DECIDERS, case_scope, get_case, publish_event, require_user


def action_overdue(action: ReviewAction) -> bool:
    return action.due_date is not None and action.status != ActionStatus.DONE and action.due_date < date.today()



def add_action(*, session: Session, case: ReviewCase, actor: Principal, data: ActionCreate) -> ReviewAction:
    """Add a decided action. retrain_staff needs an agent and a topic; change_shop_process a shop;
    change_business_flow a description. Raises Forbidden, InvalidInput, Conflict (closed case)."""
    if not actor.has(*DECIDERS):
        raise Forbidden("Only executives and admins decide actions.")
    if case.status == CaseStatus.CLOSED:
        raise Conflict("a closed case cannot change")
    if data.kind == ActionKind.RETRAIN_STAFF and (data.agent_id is None or not data.topic.strip()):
        raise InvalidInput("retraining needs the agent and the topic")
    if data.kind == ActionKind.CHANGE_SHOP_PROCESS and data.site_id is None:
        raise InvalidInput("a shop process change needs the shop")
    if data.kind in (ActionKind.CHANGE_BUSINESS_FLOW, ActionKind.OTHER) and not data.description.strip():
        raise InvalidInput("describe the change")
    if data.agent_id is not None:
        require_user(session=session, user_id=data.agent_id, label="agent")
    if data.owner_id is not None:
        require_user(session=session, user_id=data.owner_id, label="owner")
    if data.site_id is not None and session.get(Site, data.site_id) is None:
        raise InvalidInput(f"shop: no site {data.site_id}")
    assert case.id is not None
    action = ReviewAction(case_id=case.id, kind=data.kind, agent_id=data.agent_id, topic=data.topic.strip(),
                          site_id=data.site_id, description=data.description.strip(), owner_id=data.owner_id,
                          due_date=data.due_date)
    session.add(action)
    session.flush()
    audit.record(session=session, actor=actor, action="review_action.create", record_type="review_action",
                 record_id=action.id, after=_action_state(action))
    return action


def _action_state(action: ReviewAction) -> dict[str, Any]:
    return {"case_id": action.case_id, "kind": action.kind, "agent_id": action.agent_id, "topic": action.topic,
            "site_id": action.site_id, "description": action.description, "owner_id": action.owner_id,
            "due_date": action.due_date.isoformat() if action.due_date else None, "status": action.status,
            "outcome": action.outcome}


def get_action(*, session: Session, principal: Principal, action_id: int) -> ReviewAction:
    """The action, if the principal may see its case or owns the action (NotFound otherwise)."""
    action = session.get(ReviewAction, action_id)
    if action is None:
        raise NotFound(f"review action {action_id} not found")
    if not is_action_owner(action, principal):
        get_case(session=session, principal=principal, case_id=action.case_id)  # scope check
    return action


def is_action_owner(action: ReviewAction, principal: Principal) -> bool:
    return action.owner_id is not None and action.owner_id == principal.user_id


def update_action(*, session: Session, action: ReviewAction, actor: Principal, data: ActionUpdate) -> ReviewAction:
    """Progress an action (status, outcome, owner, due date); audited. Executives and admins change anything;
    the action's owner (a coach running the retraining, say) reports progress: status and outcome only.
    Raises Forbidden otherwise."""
    if not actor.has(*DECIDERS):
        if not is_action_owner(action, actor):
            raise Forbidden("Only executives, admins and the action's owner change an action.")
        if data.owner_id is not None or data.due_date is not None:
            raise Forbidden("The owner reports progress (status, outcome); executives change owner and due date.")
    before = _action_state(action)
    if data.owner_id is not None:
        require_user(session=session, user_id=data.owner_id, label="owner")
        action.owner_id = data.owner_id
    if data.status is not None:
        action.status = data.status
    if data.outcome is not None:
        action.outcome = data.outcome.strip()
    if data.due_date is not None:
        action.due_date = data.due_date
    action.updated_at = utcnow()
    session.add(action)
    audit.record(session=session, actor=actor, action="review_action.update", record_type="review_action",
                 record_id=action.id, before=before, after=_action_state(action))
    return action


def announce_overdue_actions(*, session: Session, today: date | None = None) -> int:
    """Publish `action.overdue` once for every action not done past its due date (audited: the audit row is
    the mark that it was announced, so a re-run announces nothing twice). Returns how many were announced."""
    today = today or date.today()
    overdue = session.exec(select(ReviewAction).where(
        col(ReviewAction.due_date) < today, ReviewAction.status != ActionStatus.DONE)).all()
    announced = {str(record_id) for record_id in session.exec(select(AuditEvent.record_id).where(
        AuditEvent.action == "review_action.overdue", AuditEvent.record_type == "review_action")).all()}
    count = 0
    for action in overdue:
        if str(action.id) in announced:
            continue
        assert action.due_date is not None
        title = action.topic or action.description or action.kind.replace("_", " ")
        audit.record(session=session, actor=None, action="review_action.overdue", record_type="review_action",
                     record_id=action.id, after={"due_date": action.due_date.isoformat()})
        publish_event(session, EventType.ACTION_OVERDUE, {"action_id": action.id, "agent_id": action.agent_id,
                                             "coach_id": action.owner_id, "title": title,
                                             "due_at": action.due_date.isoformat(), "case_id": action.case_id})
        count += 1
    session.flush()
    return count


def list_case_actions(*, session: Session, case_id: int) -> list[ReviewAction]:
    return list(session.exec(select(ReviewAction).where(ReviewAction.case_id == case_id)
                             .order_by(col(ReviewAction.id))).all())


def list_actions(*, session: Session, principal: Principal, status: str | None = None,
                 open_only: bool = False) -> list[ReviewAction]:
    scope = case_scope(session=session, principal=principal)
    query = select(ReviewAction).join(ReviewCase, col(ReviewCase.id) == col(ReviewAction.case_id))
    if status:
        query = query.where(ReviewAction.status == status)
    if open_only:
        query = query.where(ReviewAction.status != ActionStatus.DONE)
    if scope is not None:  # a coach sees the team's cases' actions and the actions they own
        query = query.where(or_(col(ReviewCase.agent_id).in_(scope or {-1}),
                                col(ReviewAction.owner_id) == principal.user_id))
    return list(session.exec(query.order_by(col(ReviewAction.due_date), col(ReviewAction.id))).all())


def retraining_actions_without_assignment(*, session: Session) -> list[ReviewAction]:
    """The hook for the coaching feature: retrain_staff actions not done and not yet turned into a coaching
    assignment, oldest first. Coaching creates the assignment (agent = action.agent_id, topic = action.topic,
    due = action.due_date) and then calls `mark_retraining_assigned` so the action is not picked up again."""
    return list(session.exec(select(ReviewAction).where(
        ReviewAction.kind == ActionKind.RETRAIN_STAFF, col(ReviewAction.coaching_assignment_id).is_(None),
        ReviewAction.status != ActionStatus.DONE).order_by(col(ReviewAction.id))).all())


def mark_retraining_assigned(*, session: Session, action_id: int, coaching_assignment_id: int,
                             actor: Principal | None) -> ReviewAction:
    """Record the coaching assignment made for a retraining action (audited); the action moves to in_progress."""
    action = session.get(ReviewAction, action_id)
    if action is None or action.kind != ActionKind.RETRAIN_STAFF:
        raise NotFound(f"retraining action {action_id} not found")
    before = _action_state(action)
    action.coaching_assignment_id = coaching_assignment_id
    if action.status == ActionStatus.OPEN:
        action.status = ActionStatus.IN_PROGRESS
    session.add(action)
    audit.record(session=session, actor=actor, action="review_action.assigned", record_type="review_action",
                 record_id=action_id, before=before,
                 after={**_action_state(action), "coaching_assignment_id": coaching_assignment_id})
    return action
