"""Home panel for the social care team: what waits, what is breached, open alerts."""

from sqlmodel import Session, col, func, select

from app.core.security import Principal, Role
from app.core.timeutil import utcnow
from app.core.web import HomePanel
from app.social.deps import in_social_team
from app.social.models import SocialAlert, SocialThreadState

PANEL_ROLES = (Role.ADMIN, Role.EVALUATOR, Role.COACH, Role.EXECUTIVE)


def _panel_role(session: Session, principal: Principal) -> Role | None:
    """Show the panel once, under the first of the user's roles that may see social care."""
    if in_social_team(session=session, principal=principal):
        return Role.AGENT
    return next((role for role in PANEL_ROLES if principal.has(role)), None)


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if _panel_role(session, principal) != role:
        return []
    now = utcnow()
    waiting = session.exec(select(func.count()).select_from(SocialThreadState)
                           .where(col(SocialThreadState.next_due_at).is_not(None))).one()
    breached = session.exec(select(func.count()).select_from(SocialThreadState)
                            .where(col(SocialThreadState.next_due_at) < now)).one()
    open_alerts = session.exec(select(func.count()).select_from(SocialAlert)
                               .where(col(SocialAlert.acknowledged_at).is_(None))).one()
    flagged = session.exec(select(func.count()).select_from(SocialThreadState)
                           .where(col(SocialThreadState.non_genuine).is_(True))).one()
    return [HomePanel(title="Social care", link="/social", order=20, items=[
        ("Threads waiting", str(waiting), "/social"),
        ("Past their due time", str(breached), "/social"),
        ("Open alerts", str(open_alerts), "/social/dashboard"),
        ("Non-genuine (reported apart)", str(flagged), "/social/dashboard"),
    ])]
