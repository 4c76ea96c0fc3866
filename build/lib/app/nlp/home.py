"""Home panel for evaluators and coaches: what the analytics found in the last 7 days."""

from datetime import timedelta
from urllib.parse import urlencode

from sqlmodel import Session

from app.core.security import Principal, Role
from app.core.timeutil import utcnow
from app.core.web import HomePanel
from app.nlp import service
from app.nlp.sentiment import NEGATIVE_BELOW

WATCHED = ("cancellation_threat", "complaint", "supervisor_request")


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if role not in (Role.EVALUATOR, Role.COACH):
        return []
    since = utcnow() - timedelta(days=7)
    counts = service.category_counts(session=session, principal=principal, since=since)
    labels = dict(service.category_names())
    date_from = since.date().isoformat()
    items: list[tuple[str, str, str | None]] = [
        (labels.get(name, name), str(counts.get(name, 0)),
         "/analytics?" + urlencode({"category": name, "date_from": date_from}))
        for name in WATCHED]
    items.append(("Negative customer sentiment", str(counts.get("negative", 0)),
                  "/analytics?" + urlencode({"sentiment_max": NEGATIVE_BELOW, "date_from": date_from})))
    return [HomePanel(title="Analytics, last 7 days", items=items, link="/analytics", order=40)]
