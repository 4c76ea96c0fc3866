"""Admin pages for outbound webhooks: endpoints (create, switch on/off), delivery log, replay."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth.deps import QueueDep, SessionDep, web_require_roles
from app.connectors import webhooks
from app.connectors.api import WEBHOOK_ADMINS
from app.core.errors import EarshotError
from app.core.export import Column, page_size, table_csv, wants_csv
from app.core.security import Principal
from app.core.web import NavItem, render

router = APIRouter()
NAV = [NavItem("Webhooks", "/admin/webhooks", WEBHOOK_ADMINS, order=95)]
WebAdmin = Annotated[Principal, Depends(web_require_roles(*WEBHOOK_ADMINS))]


def _page(request: Request, principal: Principal, session: SessionDep, *, message: str | None = None,
          error: str | None = None, secret: str | None = None, status_code: int = 200) -> Response:
    return render(request, "connectors/webhooks.html", {
        "endpoints": webhooks.list_endpoints(session=session), "events": webhooks.EVENT_TYPES,
        "message": message, "error": error, "secret": secret}, principal=principal, status_code=status_code)


@router.get("/admin/webhooks", response_class=HTMLResponse)
def endpoints_page(request: Request, principal: WebAdmin, session: SessionDep) -> Response:
    if wants_csv(request):  # never the signing secrets
        return table_csv("webhooks.csv", webhooks.list_endpoints(session=session), [
            Column("id", lambda e: e.id),
            Column("url", lambda e: e.url),
            Column("events", lambda e: ", ".join(e.event_types)),
            Column("description", lambda e: e.description),
            Column("active", lambda e: "yes" if e.active else "no")])
    return _page(request, principal, session)


@router.post("/admin/webhooks", response_class=HTMLResponse)
def create(request: Request, principal: WebAdmin, session: SessionDep, url: Annotated[str, Form()] = "",
           event_types: Annotated[list[str] | None, Form()] = None,
           description: Annotated[str, Form()] = "") -> Response:
    try:
        created = webhooks.create_endpoint(session=session, data=webhooks.EndpointIn.model_validate(
            {"url": url, "event_types": event_types or [], "description": description}), actor=principal)
        session.commit()
    except (EarshotError, ValueError) as exc:
        session.rollback()
        return _page(request, principal, session, error=getattr(exc, "message", str(exc)), status_code=422)
    return _page(request, principal, session, message=f"Endpoint {created.id} created.", secret=created.secret)


@router.post("/admin/webhooks/{endpoint_id}")
def toggle(endpoint_id: int, principal: WebAdmin, session: SessionDep,
           active: Annotated[str, Form()] = "") -> Response:
    webhooks.update_endpoint(session=session, endpoint_id=endpoint_id,
                             data=webhooks.EndpointUpdate(active=active == "on"), actor=principal)
    session.commit()
    return RedirectResponse("/admin/webhooks", status_code=303)


@router.get("/admin/webhooks/{endpoint_id}", response_class=HTMLResponse)
def delivery_log(request: Request, endpoint_id: int, principal: WebAdmin, session: SessionDep,
                 message: str | None = None) -> Response:
    endpoint = webhooks.get_endpoint(session=session, endpoint_id=endpoint_id)
    deliveries = webhooks.list_deliveries(session=session, endpoint_id=endpoint_id, limit=page_size(request, 100))
    if wants_csv(request):
        return table_csv(f"webhook-{endpoint_id}-deliveries.csv", deliveries, [
            Column("created_at", lambda d: d.created_at),
            Column("event", lambda d: d.event_type),
            Column("delivery_id", lambda d: d.delivery_id),
            Column("status", lambda d: d.status),
            Column("attempts", lambda d: d.attempts),
            Column("response_code", lambda d: d.response_code),
            Column("error", lambda d: d.error)])
    return render(request, "connectors/deliveries.html", {
        "endpoint": endpoint, "deliveries": deliveries, "message": message}, principal=principal)


@router.post("/admin/webhooks/deliveries/{delivery_id}/replay")
def replay(delivery_id: int, principal: WebAdmin, session: SessionDep, queue: QueueDep) -> Response:
    delivery = webhooks.replay_delivery(session=session, queue=queue, delivery_id=delivery_id, actor=principal)
    session.commit()
    return RedirectResponse(f"/admin/webhooks/{delivery.endpoint_id}?message=Replayed+{delivery.delivery_id}",
                            status_code=303)
