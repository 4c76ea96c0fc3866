"""Outbound webhooks: admins register endpoints (url, secret, event types, active); features publish
events through the core hook `PUBLISH_EVENT` (app/core/hooks.py; `hooks.py` here hands them to
`publish_event`), which stores one delivery per subscribed endpoint and queues a job for each.

Delivery (job `connectors.webhook_deliver`): POST of
    {"id": <delivery id>, "event": <event type>, "created_at": <ISO time>, "data": <payload>}
with headers
    X-Earshot-Event: <event type>
    X-Earshot-Delivery: <delivery id, a UUID — the same on every retry and replay>
    X-Earshot-Timestamp: <unix seconds of this attempt>
    X-Earshot-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
A 2xx answer delivers it; anything else (or no answer) is recorded on the delivery (attempts, response code,
error) and retried by the job queue with back-off (5 s, 10 s, 20 s, ...; WEBHOOK_ATTEMPTS jobs attempts).
Delivery is at least once: receivers drop repeats by X-Earshot-Delivery. Replay sends a delivery again.

Events and their payloads: the README's "Webhook events" table, the one list (ids are Earshot ids, times ISO 8601
UTC); tests/integration/test_outbound_events.py checks every payload sent against it.
"""

import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

import httpx
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from app.connectors.models import WebhookDelivery, WebhookEndpoint
from app.core import audit
from app.core.audit import Actor
from app.core.errors import InvalidInput, NotFound
from app.core.hooks import EventType
from app.core.jobs import JobKind, JobQueue
from app.core.listing import Page, paginate
from app.core.timeutil import utcnow

DELIVER_KIND = JobKind.CONNECTORS_WEBHOOK_DELIVER
WEBHOOK_ATTEMPTS = 6
EVENT_TYPES: dict[str, str] = {  # every EventType of app/core/hooks.py (tests/unit/test_hooks.py checks)
    EventType.EVALUATION_SUBMITTED: "An evaluation was submitted",
    EventType.DISPUTE_OPENED: "An agent disputed an evaluation",
    EventType.DISPUTE_RESOLVED: "A dispute was resolved",
    EventType.REVIEW_CASE_OPENED: "A review case was opened from a survey answer",
    EventType.ACTION_OVERDUE: "A coaching action passed its due date",
    EventType.SLA_BREACHED: "A social or chat first-response SLA was breached",
    EventType.SOCIAL_UNATTENDED_POST: "A social post is waiting without a reply",
    EventType.ALERT_SPIKE: "A spike alert fired",
}


class EndpointIn(BaseModel):
    url: str = Field(min_length=8, max_length=2000)
    event_types: list[str] = Field(min_length=1)
    description: str = Field(default="", max_length=300)


class EndpointUpdate(BaseModel):
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[str] | None = None
    description: str | None = Field(default=None, max_length=300)
    active: bool | None = None


class EndpointPublic(BaseModel):
    id: int
    url: str
    event_types: list[str]
    description: str
    active: bool


class EndpointCreated(EndpointPublic):
    secret: str = Field(description="Shown once: the receiver checks X-Earshot-Signature with it.")


class DeliveryPublic(BaseModel):
    id: int
    delivery_id: str
    endpoint_id: int
    event_type: str
    status: str
    attempts: int
    response_code: int | None
    error: str | None
    created_at: Any
    last_attempt_at: Any
    delivered_at: Any


def _checked(url: str | None, event_types: list[str] | None) -> None:
    if url is not None and not url.startswith(("http://", "https://")):
        raise InvalidInput("url must start with http:// or https://")
    unknown = sorted(set(event_types or []) - set(EVENT_TYPES) - {"*"})
    if unknown:
        raise InvalidInput(f"unknown event types: {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)} or *")


def public(endpoint: WebhookEndpoint) -> EndpointPublic:
    assert endpoint.id is not None
    return EndpointPublic(id=endpoint.id, url=endpoint.url, event_types=endpoint.event_types,
                          description=endpoint.description, active=endpoint.active)


def create_endpoint(*, session: Session, data: EndpointIn, actor: Actor | None) -> EndpointCreated:
    """A new active endpoint with a fresh secret (returned once). Raises InvalidInput. Flushes, audited."""
    _checked(data.url, data.event_types)
    endpoint = WebhookEndpoint(url=data.url, secret=secrets.token_urlsafe(32), event_types=data.event_types,
                               description=data.description)
    session.add(endpoint)
    session.flush()
    audit.record(session=session, actor=actor, action="webhook_endpoint.create", record_type="webhook_endpoint",
                 record_id=endpoint.id, after={"url": data.url, "event_types": data.event_types})
    return EndpointCreated(**public(endpoint).model_dump(), secret=endpoint.secret)


def get_endpoint(*, session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return endpoint


def update_endpoint(*, session: Session, endpoint_id: int, data: EndpointUpdate,
                    actor: Actor | None) -> WebhookEndpoint:
    endpoint = get_endpoint(session=session, endpoint_id=endpoint_id)
    _checked(data.url, data.event_types)
    before = public(endpoint).model_dump()
    for name, value in data.model_dump(exclude_none=True).items():
        setattr(endpoint, name, value)
    session.add(endpoint)
    audit.record(session=session, actor=actor, action="webhook_endpoint.update", record_type="webhook_endpoint",
                 record_id=endpoint_id, before=before, after=public(endpoint).model_dump())
    return endpoint


def list_endpoints(*, session: Session) -> list[WebhookEndpoint]:
    return list(session.exec(select(WebhookEndpoint).order_by(col(WebhookEndpoint.id))).all())


def list_deliveries(*, session: Session, endpoint_id: int, page: int = 1,
                    per_page: int = 100) -> Page[WebhookDelivery]:
    """One page of an endpoint's deliveries, newest first. Raises NotFound for an unknown endpoint."""
    get_endpoint(session=session, endpoint_id=endpoint_id)
    return paginate(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                    .order_by(col(WebhookDelivery.id).desc()), page=page, per_page=per_page, session=session)


def publish_event(*, session: Session, queue: JobQueue | None, event_type: str,
                  payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Store a delivery for every active endpoint subscribed to `event_type` (or to "*") and queue its job.
    Raises InvalidInput for an unknown event type. Commits (as JobQueue.enqueue does) when a queue is given;
    without one the deliveries stay pending until `deliver_pending` runs."""
    if event_type not in EVENT_TYPES:
        raise InvalidInput(f"unknown event type {event_type!r}")
    body = json.loads(json.dumps(payload, default=str))  # JSON-safe now: dates become strings
    deliveries = []
    for endpoint in session.exec(select(WebhookEndpoint).where(col(WebhookEndpoint.active).is_(True))).all():
        if event_type in endpoint.event_types or "*" in endpoint.event_types:
            assert endpoint.id is not None
            delivery = WebhookDelivery(delivery_id=str(uuid.uuid4()), endpoint_id=endpoint.id,
                                       event_type=event_type, payload=body)
            session.add(delivery)
            deliveries.append(delivery)
    session.flush()
    if queue is not None:
        for delivery in deliveries:
            _enqueue(session=session, queue=queue, delivery=delivery)
    return deliveries


def queue_pending(*, session: Session, queue: JobQueue) -> int:
    """Queue the deliveries published without a queue (from inside other features' services); the worker
    runs this every minute. The job's dedupe key makes a second call for the same delivery a no-op."""
    pending = session.exec(select(WebhookDelivery).where(WebhookDelivery.status == "pending",
                                                         WebhookDelivery.attempts == 0)).all()
    for delivery in pending:
        _enqueue(session=session, queue=queue, delivery=delivery)
    return len(pending)


def _enqueue(*, session: Session, queue: JobQueue, delivery: WebhookDelivery) -> None:
    queue.enqueue(session=session, kind=DELIVER_KIND, payload={"delivery": delivery.id},
                  dedupe_key=f"webhook:{delivery.delivery_id}:{delivery.attempts}")


def replay_delivery(*, session: Session, queue: JobQueue, delivery_id: int, actor: Actor | None) -> WebhookDelivery:
    """Send a delivery again (same X-Earshot-Delivery id, so a receiver that has it drops the repeat)."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    delivery.status = "pending"
    session.add(delivery)
    audit.record(session=session, actor=actor, action="webhook_delivery.replay", record_type="webhook_delivery",
                 record_id=delivery_id, after={"delivery_id": delivery.delivery_id})
    session.flush()
    _enqueue(session=session, queue=queue, delivery=delivery)
    return delivery


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` — what receivers compute to check a delivery."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class DeliveryFailed(Exception):
    """The receiver did not accept the delivery; the job queue retries it."""


def attempt(*, session: Session, delivery_id: int, timeout: float = 10.0,
            client: httpx.Client | None = None) -> WebhookDelivery:
    """POST one delivery now. Records the attempt and commits; raises DeliveryFailed when not 2xx."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    if delivery.status == "delivered":
        return delivery
    endpoint = get_endpoint(session=session, endpoint_id=delivery.endpoint_id)
    body = json.dumps({"id": delivery.delivery_id, "event": delivery.event_type,
                       "created_at": delivery.created_at.isoformat(), "data": delivery.payload},
                      separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "Earshot-Webhooks/1",
               "X-Earshot-Event": delivery.event_type, "X-Earshot-Delivery": delivery.delivery_id,
               "X-Earshot-Timestamp": timestamp, "X-Earshot-Signature": signature(endpoint.secret, timestamp, body)}
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    try:
        with (client or httpx.Client(timeout=timeout, follow_redirects=False)) as http:
            response = http.post(endpoint.url, content=body, headers=headers)
        delivery.response_code = response.status_code
        ok = 200 <= response.status_code < 300
        delivery.error = None if ok else f"HTTP {response.status_code}: {response.text[:300]}"
    except httpx.HTTPError as exc:
        ok, delivery.response_code, delivery.error = False, None, f"{type(exc).__name__}: {exc}"[:500]
    delivery.status = "delivered" if ok else ("retrying" if delivery.attempts < WEBHOOK_ATTEMPTS else "failed")
    if ok:
        delivery.delivered_at = utcnow()
    session.add(delivery)
    session.commit()
    if not ok:
        raise DeliveryFailed(delivery.error or "not delivered")
    return delivery
