"""JSON endpoints for outbound webhooks (admins only): endpoints, their delivery log, replay, event catalogue."""

from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.deps import QueueDep, SessionDep, require_roles
from app.connectors import webhooks
from app.connectors.webhooks import (
    DeliveryPublic,
    EndpointCreated,
    EndpointIn,
    EndpointPublic,
    EndpointUpdate,
)
from app.core.errors import STANDARD_ERRORS, error_responses
from app.core.listing import ListResponse, PageNumber, PerPage
from app.core.security import Principal, Role

router = APIRouter(prefix="/api/connectors", tags=["connectors"], responses=STANDARD_ERRORS)
WEBHOOK_ADMINS = (Role.ADMIN,)
AdminDep = Annotated[Principal, Depends(require_roles(*WEBHOOK_ADMINS))]


@router.get("/events")
def event_types(principal: AdminDep) -> dict[str, str]:
    """The events an endpoint can subscribe to (payloads: see app/connectors/webhooks.py)."""
    return webhooks.EVENT_TYPES


@router.get("/webhooks")
def list_endpoints(principal: AdminDep, session: SessionDep) -> list[EndpointPublic]:
    return [webhooks.public(e) for e in webhooks.list_endpoints(session=session)]


@router.post("/webhooks", status_code=201, responses=error_responses(422))
def create_endpoint(data: EndpointIn, principal: AdminDep, session: SessionDep) -> EndpointCreated:
    """Register an endpoint; the answer holds its signing secret, shown only this once."""
    created = webhooks.create_endpoint(session=session, data=data, actor=principal)
    session.commit()
    return created


@router.patch("/webhooks/{endpoint_id}", responses=error_responses(404, 422))
def update_endpoint(endpoint_id: int, data: EndpointUpdate, principal: AdminDep,
                    session: SessionDep) -> EndpointPublic:
    endpoint = webhooks.update_endpoint(session=session, endpoint_id=endpoint_id, data=data, actor=principal)
    session.commit()
    return webhooks.public(endpoint)


@router.get("/webhooks/{endpoint_id}/deliveries", responses=error_responses(404))
def deliveries(endpoint_id: int, principal: AdminDep, session: SessionDep, page: PageNumber = 1,
               per_page: PerPage = 100) -> ListResponse[DeliveryPublic]:
    """An endpoint's deliveries, newest first: status, attempts, response code, error."""
    result = webhooks.list_deliveries(session=session, endpoint_id=endpoint_id, page=page, per_page=per_page)
    return ListResponse.of(result.map(lambda d: DeliveryPublic.model_validate(d, from_attributes=True)))


@router.post("/webhooks/deliveries/{delivery_id}/replay", responses=error_responses(404))
def replay(delivery_id: int, principal: AdminDep, session: SessionDep, queue: QueueDep) -> DeliveryPublic:
    """Send a delivery again (same delivery id, so receivers that have it drop the repeat)."""
    delivery = webhooks.replay_delivery(session=session, queue=queue, delivery_id=delivery_id, actor=principal)
    session.commit()
    session.refresh(delivery)
    return DeliveryPublic.model_validate(delivery, from_attributes=True)
