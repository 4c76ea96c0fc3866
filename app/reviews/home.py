"""Home panels: open bad-rating cases and open actions (executives, admins, and the investigators)."""

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.security import Principal, Role
from app.core.web import HomePanel
from app.reviews import service
from app.reviews.actions import action_overdue, list_actions
from app.reviews.meetings import list_meetings
from app.reviews.models import CaseStatus, ReviewCase


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if role not in (Role.EXECUTIVE, Role.ADMIN, Role.EVALUATOR, Role.COACH):
        return []
    deciding = role in (Role.EXECUTIVE, Role.ADMIN)  # the others see the cases panel only
    counts = open_counts(session=session, principal=principal, with_actions=deciding)
    # each figure is what the list it links to shows (the case statuses before the meeting, then decided)
    cases = HomePanel(title="Bad-rating review cases", link="/reviews", order=11, items=[
        ("New", str(counts["open"]), "/reviews?status=open"),
        ("Being investigated", str(counts["investigating"]), "/reviews?status=investigating"),
        ("Ready for the meeting", str(counts["ready_cases"]), "/reviews?status=ready_for_meeting"),
        ("Decided, not closed", str(counts["decided"]), "/reviews?status=decided")])
    if not deciding:
        return [cases]
    actions = HomePanel(title="Review actions", link="/reviews/actions", order=12, items=[
        ("Open actions", str(counts["open_actions"]), "/reviews/actions"),
        ("Overdue", str(counts["overdue_actions"]), "/reviews/actions")])
    meetings = list_meetings(session=session)
    if meetings:
        latest = meetings[0]
        cases.items.append((f"Meeting {latest.period}", latest.held_on.isoformat(),
                            f"/reviews/meetings/{latest.id}"))
    return [cases, actions]


def open_counts(*, session: Session, principal: Principal, with_actions: bool = True) -> dict[str, int]:
    """Cases by status (closed ones left out) and (`with_actions`) open and overdue actions, in what the
    principal may see."""
    scope = service.case_scope(session=session, principal=principal)
    query = select(ReviewCase.status, func.count()).where(ReviewCase.status != CaseStatus.CLOSED)
    if scope is not None:
        query = query.where(col(ReviewCase.agent_id).in_(scope or {-1}))
    by_status = {str(status): int(n) for status, n in session.exec(query.group_by(ReviewCase.status)).all()}
    counts = {"open": by_status.get(CaseStatus.OPEN, 0), "investigating": by_status.get(CaseStatus.INVESTIGATING, 0),
              "ready_cases": by_status.get(CaseStatus.READY, 0), "decided": by_status.get(CaseStatus.DECIDED, 0)}
    if with_actions:
        actions = list_actions(session=session, principal=principal, open_only=True)
        counts |= {"open_actions": len(actions), "overdue_actions": sum(1 for a in actions if action_overdue(a))}
    return counts
