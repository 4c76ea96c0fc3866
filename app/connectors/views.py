"""Admin pages for outbound webhooks: endpoints (create, switch on/off), delivery log, replay."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from app.auth.deps import QueueDep, SessionDep, web_require_roles
from app.connectors import webhooks
from app.connectors.api import WEBHOOK_ADMINS
from app.connectors.models import WebhookDelivery, WebhookEndpoint
from app.core.errors import EarshotError
from app.core.export import Column, page_window, table_csv, wants_csv
from app.core.security import Principal
from app.core.web import NavItem, render

router = APIRouter()
NAV = [NavItem("Webhooks", "/admin/webhooks", WEBHOOK_ADMINS, order=95)]
WebAdmin = Annotated[Principal, Depends(web_require_roles(*WEBHOOK_ADMINS))]


ENDPOINT_COLUMNS: list[Column[WebhookEndpoint]] = [  # never the signing secrets
    Column("#", lambda e: e.id, name="id"),
    Column("URL", lambda e: e.url, html=lambda e: Markup("<code>{}</code>").format(e.url)),
    Column("Events", lambda e: ", ".join(e.event_types)),
    Column("Description", lambda e: e.description),
    Column("Active", lambda e: "yes" if e.active else "no", screen=False)]


def _page(request: Request, principal: Principal, session: SessionDep, *, message: str | None = None,
          error: str | None = None, secret: str | None = None, status_code: int = 200) -> Response:
    return render(request, "connectors/webhooks.html", {
        "endpoints": webhooks.list_endpoints(session=session), "columns": ENDPOINT_COLUMNS,
        "events": webhooks.EVENT_TYPES,
        "message": message, "error": error, "secret": secret}, principal=principal, status_code=status_code)


@router.get("/admin/webhooks", response_class=HTMLResponse)
def endpoints_page(request: Request, principal: WebAdmin, session: SessionDep) -> Response:
    if wants_csv(request):
        return table_csv("webhooks.csv", webhooks.list_endpoints(session=session), ENDPOINT_COLUMNS)
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


DELIVERY_COLUMNS: list[Column[WebhookDelivery]] = [
    Column("Created", lambda d: d.created_at, name="created_at", time_format="%Y-%m-%d %H:%M:%S"),
    Column("Event", lambda d: d.event_type, name="event"),
    Column("Delivery id", lambda d: d.delivery_id,
           html=lambda d: Markup("<code>{}</code>").format(d.delivery_id)),
    Column("Status", lambda d: d.status),
    Column("Attempts", lambda d: d.attempts),
    Column("Response", lambda d: d.response_code, name="response_code"),
    Column("Error", lambda d: d.error)]


@router.get("/admin/webhooks/{endpoint_id}", response_class=HTMLResponse)
def delivery_log(request: Request, endpoint_id: int, principal: WebAdmin, session: SessionDep,
                 message: str | None = None, page: Annotated[int, Query(ge=1)] = 1) -> Response:
    endpoint = webhooks.get_endpoint(session=session, endpoint_id=endpoint_id)
    page, per_page = page_window(request, page, 100)
    result = webhooks.list_deliveries(session=session, endpoint_id=endpoint_id, page=page, per_page=per_page)
    if wants_csv(request):
        return table_csv(f"webhook-{endpoint_id}-deliveries.csv", result.items, DELIVERY_COLUMNS)
    return render(request, "connectors/deliveries.html", {
        "endpoint": endpoint, "result": result, "columns": DELIVERY_COLUMNS, "message": message},
        principal=principal)


@router.post("/admin/webhooks/deliveries/{delivery_id}/replay")
def replay(delivery_id: int, principal: WebAdmin, session: SessionDep, queue: QueueDep) -> Response:
    delivery = webhooks.replay_delivery(session=session, queue=queue, delivery_id=delivery_id, actor=principal)
    session.commit()
    return RedirectResponse(f"/admin/webhooks/{delivery.endpoint_id}?message=Replayed+{delivery.delivery_id}",
                            status_code=303)
