"""Outbound webhooks against a real HTTP receiver on 127.0.0.1: signed, retried, delivered exactly once."""

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth.models import User
from app.connectors import webhooks
from app.connectors.models import WebhookDelivery
from app.core.jobs import JobQueue


@dataclass
class Receiver:
    secret: str = ""
    fail_first: int = 0
    requests: int = 0
    processed: list[str] = field(default_factory=list)  # delivery ids acted on (the receiver's id check)
    bad_signatures: int = 0
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests += 1
            expected = "sha256=" + hmac.new(state.secret.encode(), self.headers["X-Earshot-Timestamp"].encode()
                                            + b"." + body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, self.headers["X-Earshot-Signature"]):
                state.bad_signatures += 1
                self.send_response(401)
            elif state.requests <= state.fail_first:
                self.send_response(500)
            else:
                delivery = self.headers["X-Earshot-Delivery"]
                assert json.loads(body)["id"] == delivery
                if delivery not in state.processed:
                    state.processed.append(delivery)
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


def test_fails_twice_then_delivered_exactly_once(session: Session, queue: JobQueue, receiver: Receiver) -> None:
    created = webhooks.create_endpoint(session=session, data=webhooks.EndpointIn(
        url=receiver.url, event_types=["evaluation.submitted"]), actor=None)
    webhooks.create_endpoint(session=session, data=webhooks.EndpointIn(
        url=receiver.url, event_types=["dispute.opened"]), actor=None)  # not subscribed: gets nothing
    receiver.secret, receiver.fail_first = created.secret, 2
    deliveries = webhooks.publish_event(session=session, queue=queue, event_type="evaluation.submitted",
                                        payload={"evaluation_id": 7, "score": 92.5})
    assert len(deliveries) == 1
    for _ in range(5):  # the back-off delays are Huey schedules; recover() pushes due jobs now
        session.refresh(deliveries[0])
        if deliveries[0].status == "delivered":
            break
        queue.recover()
    delivery = session.get(WebhookDelivery, deliveries[0].id)
    assert delivery is not None
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    assert receiver.requests == 3 and receiver.processed == [delivery.delivery_id]
    assert receiver.bad_signatures == 0
    assert delivery.id is not None
    webhooks.replay_delivery(session=session, queue=queue, delivery_id=delivery.id, actor=None)
    assert receiver.requests == 4 and receiver.processed == [delivery.delivery_id]  # the id check drops it


def test_admin_api_and_pages(client: TestClient, make_user: Callable[..., User],
                             login: Callable[[User], TestClient], receiver: Receiver) -> None:
    admin = login(make_user("admin"))
    response = admin.post("/api/connectors/webhooks", json={"url": receiver.url, "event_types": ["sla.breached"]})
    assert response.status_code == 201, response.text
    endpoint = response.json()
    assert admin.post("/api/connectors/webhooks", json={"url": "ftp://x/y", "event_types": ["sla.breached"]}
                      ).status_code == 422
    assert admin.post("/api/connectors/webhooks", json={"url": receiver.url, "event_types": ["nope"]}
                      ).status_code == 422
    listed = admin.get("/api/connectors/webhooks").json()
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    assert admin.patch(f"/api/connectors/webhooks/{endpoint['id']}", json={"active": False}).json()["active"] is False
    assert admin.get(f"/api/connectors/webhooks/{endpoint['id']}/deliveries").json()["items"] == []
    page = admin.get("/admin/webhooks")
    assert page.status_code == 200 and receiver.url in page.text
    assert admin.get(f"/admin/webhooks/{endpoint['id']}").status_code == 200
    events = admin.get("/api/connectors/events").json()
    assert "alert.spike" in events


def test_inactive_endpoints_get_nothing_and_pages_replay(
        session: Session, queue: JobQueue, client: TestClient, make_user: Callable[..., User],
        login: Callable[[User], TestClient], receiver: Receiver) -> None:
    created = webhooks.create_endpoint(session=session, data=webhooks.EndpointIn(url=receiver.url,
                                                                                  event_types=["*"]), actor=None)
    receiver.secret = created.secret
    webhooks.update_endpoint(session=session, endpoint_id=created.id, data=webhooks.EndpointUpdate(active=False),
                             actor=None)
    assert webhooks.publish_event(session=session, queue=queue, event_type="alert.spike", payload={}) == []
    with pytest.raises(Exception, match="unknown event type"):
        webhooks.publish_event(session=session, queue=queue, event_type="made.up", payload={})
    admin = login(make_user("admin"))
    token = admin.headers["x-csrf-token"]
    assert admin.post(f"/admin/webhooks/{created.id}", data={"csrf_token": token, "active": "on"},
                      follow_redirects=False).status_code == 303
    [delivery] = webhooks.publish_event(session=session, queue=queue, event_type="alert.spike",
                                        payload={"metric": "mentions", "value": 40})
    assert receiver.processed == [delivery.delivery_id]
    log = admin.get(f"/admin/webhooks/{created.id}")
    assert delivery.delivery_id in log.text and "delivered" in log.text
    replayed = admin.post(f"/admin/webhooks/deliveries/{delivery.id}/replay", data={"csrf_token": token},
                          follow_redirects=False)
    assert replayed.status_code == 303 and receiver.requests == 2 and receiver.processed == [delivery.delivery_id]
    page = admin.post("/admin/webhooks", data={"csrf_token": token, "url": "not a url",
                                               "event_types": ["alert.spike"]})
    assert page.status_code == 422 and "http" in page.text
