"""The content gate: chat/e-mail/social text is redacted as it is imported, the search index holds redacted text
only (a card number finds nothing; snippets and the CSV show [CARD]), the API shows redacted text unless an
allowed role asks for the original (audited once), and existing rows are redacted and re-indexed by the data
migration."""

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from app.auth.service import principal_of
from app.core.models import AuditEvent
from app.interactions import content, search, service
from app.interactions.models import Interaction, Message, SearchDocument
from app.interactions.service import InteractionData, MessageData

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CARD = "4111 1111 1111 1111"


def chat(session, agent_id, external_id="chat-card", text=f"please charge my card {CARD} for the router"):
    interaction, _ = service.upsert_interaction(session=session, data=InteractionData(
        source="test", external_id=external_id, channel="chat", started_at=T0, agent_id=agent_id,
        messages=[MessageData(external_id="m1", author_role="customer", sent_at=T0, text=text),
                  MessageData(external_id="m2", author_role="agent", sent_at=T0, text="done, router ordered",
                              agent_id=agent_id)]))
    session.commit()
    return interaction


def test_imported_chat_is_redacted_in_the_same_transaction_and_searchable_only_redacted(session, make_user):
    agent = make_user("agent")
    interaction = chat(session, agent.id)
    first = session.exec(select(Message).where(Message.interaction_id == interaction.id,
                                               Message.external_id == "m1")).one()
    assert first.text.endswith("for the router") and CARD in first.text  # the original is kept
    assert first.redacted_text == "please charge my card [CARD] for the router"
    admin = principal_of(make_user("admin"))
    for query in ("4111", "4111111111111111", f'"{CARD}"'):
        assert search.search(session=session, principal=admin, q=query).total == 0, query
    hits = search.search(session=session, principal=admin, q="router")
    assert hits.total == 1 and "[CARD]" in str(hits.items[0].snippet) and "4111" not in str(hits.items[0].snippet)
    # a changed text is redacted again, and the index follows
    chat(session, agent.id, text="my new card is 5500 0000 0000 0004, router please")
    first = session.get(Message, first.id)
    assert first.redacted_text == "my new card is [CARD], router please"
    assert search.search(session=session, principal=admin, q="5500").total == 0
    assert "[CARD]" in session.get(SearchDocument, interaction.id).body


def test_a_card_number_in_an_email_subject_is_not_searchable(session, make_user):
    interaction, _ = service.upsert_interaction(session=session, data=InteractionData(
        source="test", external_id="mail-card", channel="email", started_at=T0, subject=f"Refund to card {CARD}",
        messages=[MessageData(external_id="e1", author_role="customer", sent_at=T0, text="see subject")]))
    session.commit()
    admin = principal_of(make_user("admin"))
    assert search.search(session=session, principal=admin, q="4111").total == 0
    assert ids_found(search.search(session=session, principal=admin, q="refund")) == [interaction.id]


def test_subjects_are_redacted_at_ingest_and_again_when_they_change(session, make_user):
    """Names, cards and postcodes in a subject are redacted as message text is (the language model included),
    stored beside the original; a changed subject is redacted again and the index follows."""
    interaction, _ = service.upsert_interaction(session=session, data=InteractionData(
        source="test", external_id="mail-subject", channel="email", started_at=T0,
        subject=f"Refund to card {CARD} for Mrs Philippa Quenby, postcode SW1A 2AA",
        messages=[MessageData(external_id="e1", author_role="customer", sent_at=T0, text="see subject",
                              subject="Re: call me on 07700 900461")]))
    session.commit()
    assert interaction.redacted_subject == "Refund to card [CARD] for Mrs [PERSON], postcode [POSTCODE]"
    assert interaction.subject.startswith(f"Refund to card {CARD}")  # the original is kept
    message = session.exec(select(Message).where(Message.interaction_id == interaction.id)).one()
    assert message.redacted_subject == "Re: call me on [PHONE]"
    assert content.REDACTED.subject(interaction) == interaction.redacted_subject
    assert content.ContentGate(original=True).subject(interaction) == interaction.subject
    admin = principal_of(make_user("admin"))
    assert search.search(session=session, principal=admin, q="Quenby").total == 0
    assert content.redact_subject_texts(["Broadband keeps dropping", "Re: Wrong charge on my bill"]) == [
        "Broadband keeps dropping", "Re: Wrong charge on my bill"]  # an ordinary subject is left as it is
    service.upsert_interaction(session=session, data=InteractionData(
        source="test", external_id="mail-subject", channel="email", started_at=T0,
        subject="Refund to card 5500 0000 0000 0004"))
    session.commit()
    assert interaction.redacted_subject == "Refund to card [CARD]"
    assert "5500" not in session.get(SearchDocument, interaction.id).body
    assert search.search(session=session, principal=admin, q="refund").total == 1


def test_a_subject_not_redacted_yet_is_shown_as_being_redacted(session):
    interaction = Interaction(channel="email", started_at=T0, external_id="x", subject=f"card {CARD}")
    assert content.REDACTED.subject(interaction) == content.BEING_REDACTED
    assert content.REDACTED.subject(Interaction(channel="email", started_at=T0, external_id="y")) is None


def ids_found(result):
    return [hit.interaction.id for hit in result.items]


def test_search_csv_and_api_show_card_as_label_and_original_only_audited(client, session, make_user, login):
    agent = make_user("agent")
    interaction = chat(session, agent.id)
    login(agent)
    csv = client.get("/search", params={"q": "router", "format": "csv"})
    assert csv.status_code == 200 and "[CARD]" in csv.text and "4111" not in csv.text
    body = client.get(f"/api/interactions/{interaction.id}").json()
    assert body["messages"][0]["text"] == "please charge my card [CARD] for the router"
    assert client.get(f"/api/interactions/{interaction.id}", params={"view": "original"}).status_code == 403
    page = client.get(f"/interactions/{interaction.id}", headers={"accept": "text/html"})
    assert "[CARD]" in page.text and "4111" not in page.text and "view=original" not in page.text
    admin = make_user("admin")
    login(admin)
    before = len(session.exec(select(AuditEvent).where(AuditEvent.action == "interaction.view_original")).all())
    original = client.get(f"/api/interactions/{interaction.id}", params={"view": "original"}).json()
    assert CARD in original["messages"][0]["text"]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "interaction.view_original")
                          .order_by(col(AuditEvent.id))).all()
    assert len(events) == before + 1 and events[-1].record_id == str(interaction.id)


def test_text_not_redacted_yet_is_shown_as_being_redacted(client, session, make_user, login):
    agent = make_user("agent")
    interaction = chat(session, agent.id)
    message = session.exec(select(Message).where(Message.interaction_id == interaction.id,
                                                 Message.external_id == "m1")).one()
    message.redacted_text = None  # e.g. a row written by an older version
    session.add(message)
    session.commit()
    login(agent)
    body = client.get(f"/api/interactions/{interaction.id}").json()
    assert body["messages"][0]["text"] == content.BEING_REDACTED


def test_data_migration_redacts_old_rows_and_rebuilds_the_index(session, make_user):
    agent = make_user("agent")
    interaction = chat(session, agent.id)
    # the state an older version left: no redaction, and the original text in the index
    for message in session.exec(select(Message).where(Message.interaction_id == interaction.id)).all():
        message.redacted_text = None
        session.add(message)
    document = session.get(SearchDocument, interaction.id)
    document.body = f"please charge my card {CARD} for the router"
    session.add(document)
    session.commit()
    admin = principal_of(make_user("admin"))
    assert search.search(session=session, principal=admin, q="4111").total == 1  # the leak being fixed
    counts = service.redact_and_reindex_all(session=session)
    session.commit()
    assert counts["messages_redacted"] == 2 and counts["interactions"] >= 1
    assert search.search(session=session, principal=admin, q="4111").total == 0
    assert service.redact_and_reindex_all(session=session)["messages_redacted"] == 0  # idempotent
