"""What a later import of the same interaction changes: what it carries, never what it leaves out. A webhook
delivery without the agent, queue, transfers or details keeps them; chat lines naming no agent or queue keep
the conversation's."""

from sqlmodel import select

from app.ingest import service
from app.ingest.chats import import_chats
from app.ingest.models import WebhookInteraction
from app.interactions.models import InteractionLeg


def test_a_later_webhook_delivery_changes_only_what_it_sends(session, make_user):
    ada, ben = make_user("agent", username="ada"), make_user("agent", username="ben")
    full = WebhookInteraction.model_validate({
        "source": "crm", "external_id": "c-1", "channel": "call", "started_at": "2026-11-02T09:00:00Z",
        "duration_seconds": 300, "agent": "ada", "queue": "billing", "subject": "Refund",
        "transfers": [{"agent": "ben", "queue": "retention", "offset_seconds": 120}], "extra": {"crm": "x-9"},
        "customer": {"phone": "+447700900123"}})
    first, status = service.ingest_webhook(session=session, data=full, actor=None)
    assert status == "created" and first.agent_id == ben.id
    later = WebhookInteraction.model_validate({
        "source": "crm", "external_id": "c-1", "channel": "call", "started_at": "2026-11-02T09:00:00Z",
        "messages": [{"external_id": "n-1", "author_role": "agent", "sent_at": "2026-11-02T09:10:00Z",
                      "text": "Called back", "agent": "ben"}]})
    again, status = service.ingest_webhook(session=session, data=later, actor=None)
    assert status == "updated" and again.id == first.id
    assert (again.queue, again.subject, again.extra, again.duration_seconds) == ("billing", "Refund", {"crm": "x-9"},
                                                                                300)
    assert again.agent_id == ben.id and again.customer_id == first.customer_id
    legs = session.exec(select(InteractionLeg.agent_id).where(InteractionLeg.interaction_id == again.id)
                        .order_by(InteractionLeg.seq)).all()
    assert list(legs) == [ada.id, ben.id]
    cleared = WebhookInteraction.model_validate({
        "source": "crm", "external_id": "c-1", "channel": "call", "started_at": "2026-11-02T09:00:00Z",
        "queue": None})
    assert service.ingest_webhook(session=session, data=cleared, actor=None)[0].queue is None  # sent as null


def test_chat_lines_without_an_agent_keep_the_conversations_agent_and_queue(session, make_user):
    ada = make_user("agent", username="ada")
    first = [{"conversation_id": "k-1", "message_id": "k-1-1", "sent_at": "2026-11-02T09:00:00Z",
              "author_role": "customer", "text": "Hello", "queue": "billing"},
             {"conversation_id": "k-1", "message_id": "k-1-2", "sent_at": "2026-11-02T09:01:00Z",
              "author_role": "agent", "agent": "ada", "text": "Hi, how can I help?"}]
    later = [{"conversation_id": "k-1", "message_id": "k-1-3", "sent_at": "2026-11-02T09:05:00Z",
              "author_role": "customer", "text": "Thanks, sorted"}]
    import_chats(session=session, records=list(enumerate(first, start=1)), source="chat")
    report = import_chats(session=session, records=list(enumerate(later, start=1)), source="chat")
    assert report.updated == 1
    from app.interactions import service as interactions

    stored = interactions.get_by_external_id(session=session, source="chat", external_id="k-1")
    assert stored is not None and (stored.agent_id, stored.queue) == (ada.id, "billing")
