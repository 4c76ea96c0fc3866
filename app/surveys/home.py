"""The executive's home panel: this month's survey figures."""

from sqlmodel import Session

from app.core.figures_cache import cached
from app.core.security import Principal, Role
from app.core.timeutil import utcnow
from app.core.web import HomePanel
from app.surveys import figures


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if role != Role.EXECUTIVE:
        return []
    # every executive sees every response: the figures depend on nothing of the caller's, only on the month
    month = figures.period_bounds(utcnow(), "month")[0]
    return cached(session, ("survey-home", month), depends_on=frozenset({"survey_response"}),
                  compute=lambda: _panels(session))


def _panels(session: Session) -> list[HomePanel]:
    trend = figures.survey_figures(session=session, periods=6)
    current = trend[-1]
    total = current.total
    items: list[tuple[str, str, str | None]] = []
    if total.invited:
        items = [("Invited", str(total.invited), None), ("Completed", str(total.completed), None),
                 ("Response rate", f"{total.response_rate:.1f}%", None)]
        items += [(band.capitalize(), f"{total.counts[band]} ({total.percents[band]:.1f}%)", None)
                  for band in figures.BANDS]
    answered = [p for p in trend if p.total.completed]
    shares = [(p.period, p.total.percents["bad"]) for p in answered]
    trend_items: list[tuple[str, str, str | None]] = [(period, f"{share:.1f}% bad", "/surveys") for period, share in shares]
    return [HomePanel(title=f"Surveys {current.period}", items=items, link="/surveys", order=10,
                      empty_text="No survey invitations this month yet."),
            HomePanel(title="Bad ratings, last 6 months", items=trend_items, link="/surveys", order=13,
                      empty_text="No answered surveys in the last 6 months.")]
