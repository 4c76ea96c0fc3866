"""Pages: the survey figures dashboard and the unlinked responses list (with linking by hand)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth.deps import SessionDep, web_require_roles
from app.auth.service import visible_agent_ids
from app.core.errors import EarshotError
from app.core.security import Principal
from app.core.web import NavItem, render
from app.surveys import charts, figures, service
from app.surveys.api import FIGURE_READERS, LINKERS
from app.surveys.models import LinkStatus

router = APIRouter()
NAV = [NavItem("Surveys", "/surveys", FIGURE_READERS, order=40)]
WebFigures = Annotated[Principal, Depends(web_require_roles(*FIGURE_READERS))]
WebLinker = Annotated[Principal, Depends(web_require_roles(*LINKERS))]


@router.get("/surveys", response_class=HTMLResponse)
def dashboard(request: Request, principal: WebFigures, session: SessionDep,
              period: Annotated[str, Query(pattern="^(month|week)$")] = "month", until: str | None = None,
              group_by: Annotated[str, Query(pattern="^(|channel|team|agent|shop)$")] = "channel") -> Response:
    try:
        result = figures.survey_figures(
            session=session, period=period, until=figures.parse_month(until) if until else None, periods=6,
            group_by=group_by or None, agent_ids=visible_agent_ids(session=session, principal=principal))
        error = None
    except EarshotError as exc:
        result, error = figures.survey_figures(session=session, periods=6), exc.message
    current = result[-1]
    return render(request, "surveys/dashboard.html", {
        "periods": result, "current": current, "chart": charts.band_trend_svg(result), "period": period,
        "until": until or "", "group_by": group_by, "groupings": figures.GROUPINGS, "error": error,
        "unlinked": service.count_unlinked(session=session) if principal.has(*LINKERS) else None,
    }, principal=principal)


@router.get("/surveys/unlinked", response_class=HTMLResponse)
def unlinked(request: Request, principal: WebLinker, session: SessionDep, message: str | None = None,
             error: str | None = None) -> Response:
    rows = service.list_responses(session=session, link_status=LinkStatus.UNLINKED, limit=500)
    return render(request, "surveys/unlinked.html", {"rows": rows, "message": message, "error": error},
                  principal=principal)


@router.post("/surveys/responses/{response_id}/link")
def link(response_id: int, principal: WebLinker, session: SessionDep,
         interaction_id: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    if not interaction_id.strip().isdigit():
        return RedirectResponse("/surveys/unlinked?error=Give+the+interaction+number", status_code=303)
    try:
        service.link_response_manually(session=session, response_id=response_id,
                                       interaction_id=int(interaction_id), actor=principal, reason=reason)
        session.commit()
    except EarshotError as exc:
        session.rollback()
        if exc.status_code == 404 and "survey response" in exc.message:
            raise
        return RedirectResponse(f"/surveys/unlinked?error={exc.message.replace(' ', '+')}", status_code=303)
    return RedirectResponse(f"/surveys/unlinked?message=Linked+response+{response_id}", status_code=303)
