"""Home panel: an agent's scorecard summary as a PDF, for the last 90 days and the last calendar month."""

from datetime import timedelta

from sqlmodel import Session

from app.core.security import Principal, Role
from app.core.timeutil import utcnow
from app.core.web import HomePanel
from app.reports.agent_summary import DEFAULT_DAYS


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if role != Role.AGENT:
        return []
    base = f"/agents/{principal.user_id}/summary.pdf"
    last_month_end = utcnow().date().replace(day=1) - timedelta(days=1)
    last_month = f"{base}?from={last_month_end.replace(day=1).isoformat()}&to={last_month_end.isoformat()}"
    return [HomePanel(title="My scorecard summary", link=base, order=22, items=[
        (f"Last {DEFAULT_DAYS} days", "PDF", base),
        (f"{last_month_end.strftime('%B %Y')}", "PDF", last_month)])]
