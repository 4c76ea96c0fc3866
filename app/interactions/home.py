"""Home page panel: the latest interactions the user may see (agents: their own)."""

from sqlmodel import Session, col, select

from app.core.security import Principal, Role
from app.core.web import HomePanel
from app.interactions import content, service
from app.interactions.models import Interaction

PANEL_ROLES = {Role.AGENT, Role.COACH, Role.EVALUATOR}


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if role not in PANEL_ROLES:
        return []
    query = select(Interaction).order_by(col(Interaction.started_at).desc()).limit(5)
    visible = service.visible_clause(session=session, principal=principal)
    if visible is not None:
        query = query.where(visible)
    items: list[tuple[str, str, str | None]] = [(f"{i.channel} · {content.REDACTED.subject(i) or i.external_id}", i.started_at.strftime("%Y-%m-%d"),
              f"/interactions/{i.id}") for i in session.exec(query)]
    title = "My latest interactions" if role == Role.AGENT else "Latest interactions"
    return [HomePanel(title=title, items=items, empty_text="No interactions yet.", link="/search", order=30)]
