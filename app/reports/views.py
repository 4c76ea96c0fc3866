"""Report downloads that are not a list page: an agent's scorecard summary as a PDF."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.auth.deps import SessionDep, SettingsDep, WebPrincipal
from app.core.errors import InvalidInput
from app.reports import agent_summary

router = APIRouter()


def _day(name: str, value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a date (YYYY-MM-DD)", details=[{"loc": name, "msg": "not a date"}]) from exc


@router.get("/agents/{agent_id}/summary.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "PDF file"}})
def agent_summary_pdf(agent_id: int, principal: WebPrincipal, session: SessionDep, settings: SettingsDep,
                      start: Annotated[str | None, Query(alias="from")] = None,
                      end: Annotated[str | None, Query(alias="to")] = None,
                      target: Annotated[float, Query(ge=0, le=100)] = 80.0) -> Response:
    """The agent's scorecard summary for the period (default: the last 90 days). Agents get their own, coaches
    their team's, evaluators, admins and executives everyone's; any other id answers 404."""
    first, last = agent_summary.period_of(start=_day("from", start), end=_day("to", end))
    if first > last:
        raise InvalidInput("from must not be after to", details=[{"loc": "from", "msg": "after to"}])
    summary = agent_summary.build(session=session, principal=principal, agent_id=agent_id, start=first, end=last,
                                  target=target)
    pdf = agent_summary.render_pdf(settings=settings, summary=summary)
    filename = f"scorecard-summary-{summary.agent.username}-{first.isoformat()}-{last.isoformat()}.pdf"
    safe = "".join(c for c in filename if c.isalnum() or c in "-_.")
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{safe}"'})
