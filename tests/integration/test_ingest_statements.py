# ruff: noqa: F811 - pytest fixtures imported from interactions_support
"""A chat import's writes: what it stores is what a full rebuild would store, in a number of statements that does
not grow with the number of messages (it runs while the SQLite write lock is held)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from app.interactions import search
from app.interactions import service as interactions
from app.interactions.models import InteractionAgent, SearchDocument
from tests.conftest import sign_in
from tests.integration.interactions_support import agents  # noqa: F401

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEXTS = ["My broadband drops every evening.", "Sorry to hear that, let me check the line.",
         "It started after the storm on Friday.", "I can see errors on your line; an engineer will call."]


def chat_lines(prefix: str, *, conversations: int, messages: int, agent_of: Any = None) -> list[dict[str, Any]]:
    lines = []
    for c in range(conversations):
        for m in range(messages):
            agent = agent_of(c, m) if agent_of else ["ada", "ben", "cara"][c % 3]
            lines.append({"conversation_id": f"{prefix}-{c}", "message_id": f"{prefix}-{c}-{m}",
                          "sent_at": (START + timedelta(minutes=c, seconds=20 * m)).isoformat(),
                          "author_role": "customer" if m % 2 == 0 else "agent", "agent": agent,
                          "author_name": "Customer" if m % 2 == 0 else agent.title(),
                          "customer_email": f"{prefix}-{c}@example.com", "queue": "Billing",
                          "text": TEXTS[m % len(TEXTS)]})
    return lines


def import_counting(client: Any, statements: list[str], lines: list[dict[str, Any]]) -> tuple[dict[str, Any], int]:
    statements.clear()
    response = client.post("/api/chats?source=api", json=lines)
    assert response.status_code == 200, response.text
    return response.json(), len(statements)


def assert_index_as_rebuilt(session: Any, prefix: str, conversations: int) -> None:
    """The search document and participants written by the import are those a rebuild from the stored rows gives."""
    for c in range(conversations):
        chat = interactions.get_by_external_id(session=session, source="api", external_id=f"{prefix}-{c}")
        stored = session.get(SearchDocument, chat.id)
        session.refresh(stored)
        assert stored.body == search.document_text(session=session, interaction=chat)
        participants = set(session.exec(select(InteractionAgent.agent_id).where(
            InteractionAgent.interaction_id == chat.id)).all())
        messages = interactions.interaction_messages(session=session, interaction_id=chat.id)
        assert participants == {m.agent_id for m in messages if m.agent_id is not None}
        assert all(m.redacted_text is not None for m in messages)


def test_statements_of_a_chat_import_do_not_grow_with_its_messages(client, session, agents, statements):
    sign_in(client, "admin")
    client.get("/api/me")  # the first request of a session reads it (later ones find it in the principal cache)
    short, for_short = import_counting(client, statements, chat_lines("short", conversations=3, messages=4))
    long, for_long = import_counting(client, statements, chat_lines("long", conversations=3, messages=12))
    assert (short["created"], long["created"]) == (3, 3)
    assert for_long == for_short
    # 3 new conversations of new customers: 12 statements each at most, their SAVEPOINT included (80 before the
    # writes were batched, 14 before the agents were read at once and the interaction read once)
    assert for_short <= 3 * 12
    assert_index_as_rebuilt(session, "short", 3)
    assert_index_as_rebuilt(session, "long", 3)
    hits = search.search(session=session, principal=None, q="storm", per_page=50).items
    assert {h.interaction.external_id for h in hits} >= {"short-0", "long-2"}

    again, for_again = import_counting(client, statements, chat_lines("long", conversations=3, messages=12))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_new_messages_of_a_stored_chat_are_added_and_indexed_after_the_stored_ones(client, session, agents):
    sign_in(client, "admin")
    first = chat_lines("grow", conversations=1, messages=4)
    assert client.post("/api/chats?source=api", json=first[:2]).json()["created"] == 1
    # the rest, from another agent, one of them at the same second as a stored message
    rest = chat_lines("grow", conversations=1, messages=4, agent_of=lambda _c, m: "ada" if m < 2 else "dan")[2:]
    rest[0]["sent_at"] = first[1]["sent_at"]
    report = client.post("/api/chats?source=api", json=rest).json()
    assert (report["created"], report["updated"]) == (0, 1)
    assert_index_as_rebuilt(session, "grow", 1)
    chat = interactions.get_by_external_id(session=session, source="api", external_id="grow-0")
    messages = interactions.interaction_messages(session=session, interaction_id=chat.id)
    assert [m.external_id for m in messages] == ["grow-0-0", "grow-0-1", "grow-0-2", "grow-0-3"]
    assert chat.agent_id == agents["dan"].id
