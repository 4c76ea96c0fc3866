"""The connectors' side of the core hooks (app/core/hooks.py): outbound events become webhook deliveries."""

from app.connectors import webhooks
from app.core import hooks


@hooks.PUBLISH_EVENT.handler
def deliver_to_webhooks(event: hooks.Event) -> None:
    """Stored in the caller's transaction; the worker queues and sends them (`queue_pending`)."""
    webhooks.publish_event(session=event.session, queue=None, event_type=event.type, payload=event.data)
