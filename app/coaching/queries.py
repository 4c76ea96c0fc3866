"""Reading coaching assignments for the pages and the home panel: the filtered, most-urgent-first
list, the panel's counts, and a coach's overview of their agents' open coaching.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from app.auth.models import User
from app.auth.service import visible_agent_ids
from app.coaching.models import (
    OPEN_STATUSES,
    AssignmentStatus,
    CoachingAssignment,
)
from app.coaching.service import is_overdue
from app.core.listing import Page, paginate
from app.core.security import Principal, Role
from app.core.timeutil import utcnow


@dataclass(frozen=True)
class AssignmentFilters:
    status: str | None = None
    agent_id: int | None = None
    coach_id: int | None = None
    topic: str | None = None  # a title substring or a question id
    overdue: bool = False
    open_only: bool = False


def list_assignments(*, session: Session, principal: Principal, filters: AssignmentFilters | None = None,
                     page: int = 1, per_page: int = 25) -> Page[CoachingAssignment]:
    """The assignments this principal may see, filtered, most urgent first (open before closed, then by
    due date)."""
    filters = filters or AssignmentFilters()
    query = select(CoachingAssignment)
    visible = visible_agent_ids(session=session, principal=principal)
    if visible is not None:
        query = query.where(col(CoachingAssignment.agent_id).in_(visible))
    if filters.status:
        query = query.where(CoachingAssignment.status == filters.status)
    if filters.open_only or filters.overdue:
        query = query.where(col(CoachingAssignment.status).in_([s.value for s in OPEN_STATUSES]))
    if filters.overdue:
        query = query.where(col(CoachingAssignment.due_date) < utcnow().date())
    if filters.agent_id is not None:
        query = query.where(CoachingAssignment.agent_id == filters.agent_id)
    if filters.coach_id is not None:
        query = query.where(CoachingAssignment.coach_id == filters.coach_id)
    if filters.topic:
        text = filters.topic.strip().lower()
        query = query.where(or_(func.lower(col(CoachingAssignment.topic_title)).contains(text, autoescape=True),
                                col(CoachingAssignment.topic_key).contains(text, autoescape=True)))
    still_open = col(CoachingAssignment.status).in_([s.value for s in OPEN_STATUSES])
    return paginate(query.order_by(still_open.desc(), col(CoachingAssignment.due_date).is_(None),
                                   col(CoachingAssignment.due_date), col(CoachingAssignment.id).desc()),
                    page=page, per_page=per_page, session=session)


@dataclass(frozen=True)
class AssignmentCounts:
    open: int
    overdue: int
    completed: int  # completed, not yet verified


def assignment_counts(*, session: Session, principal: Principal) -> AssignmentCounts:
    """The home panel's figures for the assignments this principal may see, in one query (the same sets as
    `list_assignments` with open_only / overdue / status="completed")."""
    still_open = col(CoachingAssignment.status).in_([s.value for s in OPEN_STATUSES])
    overdue = and_(still_open, col(CoachingAssignment.due_date) < utcnow().date())
    query = select(func.count().filter(still_open), func.count().filter(overdue),
                   func.count().filter(col(CoachingAssignment.status) == AssignmentStatus.COMPLETED))
    visible = visible_agent_ids(session=session, principal=principal)
    if visible is not None:
        query = query.where(col(CoachingAssignment.agent_id).in_(visible))
    open_, late, completed = session.exec(query.select_from(CoachingAssignment)).one()
    return AssignmentCounts(open=int(open_), overdue=int(late), completed=int(completed))


@dataclass
class AgentLoad:
    """An agent's open coaching, for a coach's overview."""

    agent_id: int
    name: str
    open: int = 0
    overdue: int = 0
    due_soon: int = 0


def agents_overview(*, session: Session, principal: Principal, due_within_days: int = 7) -> list[AgentLoad]:
    """Every agent this principal may see with their open, overdue and soon-due assignment counts (agents
    without open coaching included, so a coach sees the whole team)."""
    visible = visible_agent_ids(session=session, principal=principal)
    query = select(User).where(col(User.is_active))
    if visible is not None:
        query = query.where(col(User.id).in_(visible))  # a coach's team, not every account
    agents = [u for u in session.exec(query.order_by(col(User.display_name), col(User.username))).all()
              if u.id is not None and Role.AGENT in u.role_set and (visible is None or u.id in visible)]
    rows = {u.id: AgentLoad(agent_id=u.id, name=u.name) for u in agents if u.id is not None}
    today = utcnow().date()
    open_rows = session.exec(select(CoachingAssignment).where(
        col(CoachingAssignment.status).in_([s.value for s in OPEN_STATUSES]),
        col(CoachingAssignment.agent_id).in_(list(rows)))).all()
    for assignment in open_rows:
        row = rows[assignment.agent_id]
        row.open += 1
        row.overdue += int(is_overdue(assignment, today=today))
        due = assignment.due_date
        row.due_soon += int(due is not None and today <= due <= today + timedelta(days=due_within_days))
    return list(rows.values())
