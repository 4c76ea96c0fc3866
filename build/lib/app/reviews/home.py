"""Home panels: open bad-rating cases and open actions (executives, admins, and the investigators)."""

from sqlmodel import Session

from app.core.security import Principal, Role
from app.core.web import HomePanel
from app.reviews import service


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if role not in (Role.EXECUTIVE, Role.ADMIN, Role.EVALUATOR, Role.COACH):
        return []
    counts = service.open_counts(session=session, principal=principal)
    cases = HomePanel(title="Bad-rating review cases", link="/reviews", order=11, items=[
        ("Open cases", str(counts["open_cases"]), "/reviews"),
        ("Ready for the meeting", str(counts["ready_cases"]), "/reviews?status=ready_for_meeting")])
    actions = HomePanel(title="Review actions", link="/reviews/actions", order=12, items=[
        ("Open actions", str(counts["open_actions"]), "/reviews/actions"),
        ("Overdue", str(counts["overdue_actions"]), "/reviews/actions")])
    if role not in (Role.EXECUTIVE, Role.ADMIN):
        return [cases]
    meetings = service.list_meetings(session=session)
    if meetings:
        latest = meetings[0]
        cases.items.append((f"Meeting {latest.period}", latest.held_on.isoformat(),
                            f"/reviews/meetings/{latest.id}"))
    return [cases, actions]
