"""The executive's home panel: this month's survey figures."""

from sqlmodel import Session

from app.core.security import Principal, Role
from app.core.web import HomePanel
from app.surveys import figures


def panels(*, session: Session, principal: Principal, role: Role) -> list[HomePanel]:
    if role != Role.EXECUTIVE:
        return []
    current = figures.survey_figures(session=session, periods=1)[0]
    total = current.total
    items: list[tuple[str, str, str | None]] = []
    if total.invited:
        items = [("Invited", str(total.invited), None), ("Completed", str(total.completed), None),
                 ("Response rate", f"{total.response_rate:.1f}%", None)]
        items += [(band.capitalize(), f"{total.counts[band]} ({total.percents[band]:.1f}%)", None)
                  for band in figures.BANDS]
    return [HomePanel(title=f"Surveys {current.period}", items=items, link="/surveys", order=10,
                      empty_text="No survey invitations this month yet.")]
