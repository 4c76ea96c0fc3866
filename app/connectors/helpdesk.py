"""Help desks and chat → interactions with public replies and internal notes kept apart (Message.is_public).

Formats followed:
- Zendesk Support API v2: tickets (id, subject, created_at, requester_id, assignee_id, group_id, via.channel,
  status, tags) each with its comments as returned by GET /api/v2/tickets/{id}/comments (id, author_id,
  body / plain_body, public, created_at) and side-loaded `users` (id, name, email, phone, role
  end-user|agent|admin). `public: false` comments are internal notes.
- Intercom REST API 2.10 Conversation model: id, created_at (epoch), source{id, subject, body, author{type,
  id, name, email}}, admin_assignee_id, conversation_parts.conversation_parts[]{id, part_type, body,
  created_at, author{type, name, email}}. `part_type: note` parts are internal notes; parts without a body
  (assignment, open, close) are skipped.
- Chatwoot Application API: conversation (id, inbox_id, status, created_at, meta{sender, assignee}) with its
  messages (id, content, message_type 0/incoming, 1/outgoing, 2/activity, 3/template, private, created_at,
  sender{type contact|user, name, email}). Activity messages are skipped; `private: true` is internal.
- Zammad REST API: tickets (id, number, title, group, customer_id, created_at) with `articles` (id, type,
  sender Customer|Agent|System, from, to, subject, body, internal, created_at).
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from app.auth.models import User
from app.connectors.common import json_items, known_agent, parse_time, validated
from app.core.errors import InvalidInput
from app.core.inputs import decode_text
from app.ingest.emails import html_to_text
from app.ingest.models import WebhookInteraction

Stream = Iterator[tuple[int, WebhookInteraction | InvalidInput]]


def agent_username(session: Session, *, email: str | None = None, name: str | None = None) -> str | None:
    """The Earshot username of a help-desk agent: by e-mail address, its local part, or the name."""
    if email:
        found = session.exec(select(User.username).where(col(User.email) == email.strip().lower())).first()
        if found:
            return str(found)
        local = known_agent(session, email.split("@")[0])
        if local:
            return local
    return known_agent(session, name.replace(" ", ".")) if name else None


def _interaction(raw: dict[str, Any]) -> WebhookInteraction:
    # a field the export lacks is left out, not sent as null: a later partial export keeps the stored value
    model: WebhookInteraction = validated(WebhookInteraction, {k: v for k, v in raw.items() if v is not None})
    if not model.messages:
        raise InvalidInput("no messages")
    return model


def _each(items: Iterator[tuple[int, Any]], convert: Any) -> Stream:
    for number, raw in items:
        if isinstance(raw, InvalidInput):
            yield number, raw
            continue
        try:
            if not isinstance(raw, dict):
                raise InvalidInput("expected an object")
            yield number, _interaction(convert(raw))
        except (InvalidInput, KeyError, TypeError, AttributeError) as exc:
            reason = exc.message if isinstance(exc, InvalidInput) else f"malformed record ({type(exc).__name__}: {exc})"
            yield number, InvalidInput(reason)


# ---------------------------------------------------------------- Zendesk


def read_zendesk(session: Session, path: Path) -> Stream:
    """{"tickets": [...], "users": [...]} (comments inside each ticket), or JSON lines of tickets."""
    import json

    users: dict[Any, dict[str, Any]] = {}
    text = decode_text(path.read_bytes(), what=path.name)
    try:
        document = json.loads(text)
        if isinstance(document, dict) and isinstance(document.get("users"), list):
            users = {u.get("id"): u for u in document["users"] if isinstance(u, dict)}
    except (json.JSONDecodeError, RecursionError):
        pass  # JSON lines, or not JSON at all: json_items below reads it and says what is wrong

    def convert(ticket: dict[str, Any]) -> dict[str, Any]:
        ticket_users = {**users, **{u.get("id"): u for u in ticket.get("users", []) if isinstance(u, dict)}}
        requester = ticket_users.get(ticket.get("requester_id"), {})
        if ticket.get("id") is None:
            raise InvalidInput("id is missing")
        channel = "chat" if (ticket.get("via") or {}).get("channel") in ("chat", "native_messaging") else "email"
        messages: list[dict[str, Any]] = []
        for comment in ticket.get("comments") or []:
            author = ticket_users.get(comment.get("author_id"), {})
            is_agent = author.get("role") in ("agent", "admin") or (
                not author and comment.get("author_id") != ticket.get("requester_id"))
            messages.append({
                "external_id": str(comment.get("id", "")), "sent_at": comment.get("created_at"),
                "author_role": "agent" if is_agent else "customer", "author_name": author.get("name"),
                "agent": agent_username(session, email=author.get("email"), name=author.get("name"))
                if is_agent else None,
                "text": comment.get("plain_body") or comment.get("body") or "",
                "is_public": bool(comment.get("public", True))})
        assignee = ticket_users.get(ticket.get("assignee_id"), {})
        return {"source": "zendesk", "external_id": str(ticket["id"]), "channel": channel,
                "started_at": ticket.get("created_at"), "subject": ticket.get("subject"),
                "agent": agent_username(session, email=assignee.get("email"), name=assignee.get("name")),
                "customer": {"name": requester.get("name"), "email": requester.get("email"),
                             "phone": requester.get("phone")},
                "messages": messages, "ended_at": max((m["sent_at"] for m in messages if m["sent_at"]), default=None),
                "extra": {"status": ticket.get("status"), "tags": ticket.get("tags")}}

    return _each(json_items(path, keys=("tickets",)), convert)


# ---------------------------------------------------------------- Intercom


def read_intercom(session: Session, path: Path) -> Stream:
    """Conversations: {"conversations": [...]}, an array or JSON lines."""

    def convert(conversation: dict[str, Any]) -> dict[str, Any]:
        if not conversation.get("id"):
            raise InvalidInput("id is missing")
        source: dict[str, Any] = conversation.get("source") or {}
        first_author: dict[str, Any] = source.get("author") or {}
        customer: dict[str, Any] = first_author if first_author.get("type") in ("user", "lead", "contact") else {}
        parts: list[dict[str, Any]] = [{"id": source.get("id") or f"{conversation['id']}-source", "part_type": "comment",
                  "body": source.get("body"), "created_at": conversation.get("created_at"),
                  "author": first_author}]
        parts += (conversation.get("conversation_parts") or {}).get("conversation_parts") or []
        messages: list[dict[str, Any]] = []
        agent = None
        for part in parts:
            if not part.get("body"):
                continue
            author = part.get("author") or {}
            role = {"admin": "agent", "bot": "bot"}.get(str(author.get("type")), "customer")
            username = agent_username(session, email=author.get("email"), name=author.get("name")) \
                if role == "agent" else None
            agent = username or agent
            if role == "customer" and not customer:
                customer = author
            messages.append({"external_id": str(part.get("id")), "sent_at": parse_time(
                part.get("created_at"), what=f"part {part.get('id')} created_at"), "author_role": role,
                "author_name": author.get("name"), "agent": username, "text": html_to_text(str(part["body"])),
                "is_public": part.get("part_type") != "note"})
        return {"source": "intercom", "external_id": str(conversation["id"]), "channel": "chat",
                "started_at": parse_time(conversation.get("created_at"), what="created_at"),
                "subject": source.get("subject") or None, "agent": agent,
                "customer": {"name": customer.get("name"), "email": customer.get("email")},
                "messages": messages, "ended_at": max((m["sent_at"] for m in messages), default=None),
                "extra": {"state": conversation.get("state")}}

    return _each(json_items(path, keys=("conversations",)), convert)


# ---------------------------------------------------------------- Chatwoot

CHATWOOT_TYPES = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}


def read_chatwoot(session: Session, path: Path) -> Stream:
    """Conversations each with `messages` (as GET .../conversations/{id}/messages returns them under `payload`)."""

    def convert(conversation: dict[str, Any]) -> dict[str, Any]:
        if conversation.get("id") is None:
            raise InvalidInput("id is missing")
        meta = conversation.get("meta") or {}
        sender = meta.get("sender") or {}
        assignee = meta.get("assignee") or {}
        raw_messages = conversation.get("messages")
        if isinstance(raw_messages, dict):
            raw_messages = raw_messages.get("payload")
        messages: list[dict[str, Any]] = []
        for message in raw_messages or []:
            kind = message.get("message_type")
            kind = CHATWOOT_TYPES.get(kind, kind) if isinstance(kind, int) else kind
            if kind not in CHATWOOT_TYPES.values():
                raise InvalidInput(f"message {message.get('id')}: message_type {kind!r} is not a Chatwoot type")
            if kind == "activity":
                continue
            author = message.get("sender") or {}
            outgoing = kind in ("outgoing", "template")
            messages.append({
                "external_id": str(message.get("id")), "author_role": "agent" if outgoing else "customer",
                "sent_at": parse_time(message.get("created_at"), what=f"message {message.get('id')} created_at"),
                "author_name": author.get("name"), "text": message.get("content") or "",
                "agent": agent_username(session, email=author.get("email"), name=author.get("name"))
                if outgoing else None, "is_public": not message.get("private", False)})
        return {"source": "chatwoot", "external_id": str(conversation["id"]), "channel": "chat",
                "started_at": parse_time(conversation.get("created_at") or (
                    messages[0]["sent_at"] if messages else None), what="created_at"),
                "agent": agent_username(session, email=assignee.get("email"), name=assignee.get("name")),
                "customer": {"name": sender.get("name"), "email": sender.get("email"),
                             "phone": sender.get("phone_number")},
                "messages": messages, "ended_at": max((m["sent_at"] for m in messages), default=None),
                "extra": {"status": conversation.get("status"), "inbox_id": conversation.get("inbox_id")}}

    return _each(json_items(path, keys=("conversations", "payload")), convert)


# ---------------------------------------------------------------- Zammad


def read_zammad(session: Session, path: Path) -> Stream:
    """Tickets each with `articles`; customers and agents from the article `from` addresses."""
    from email.utils import parseaddr

    def convert(ticket: dict[str, Any]) -> dict[str, Any]:
        if ticket.get("id") is None:
            raise InvalidInput("id is missing")
        messages: list[dict[str, Any]] = []
        customer: dict[str, Any] = {}
        agent = None
        for article in ticket.get("articles") or []:
            sender = article.get("sender")
            if sender not in ("Customer", "Agent", "System"):
                raise InvalidInput(f"article {article.get('id')}: sender {sender!r} is not Customer, Agent or System")
            name, address = parseaddr(str(article.get("from") or ""))
            role = {"Customer": "customer", "Agent": "agent", "System": "system"}[sender]
            username = agent_username(session, email=address or None, name=name or None) if role == "agent" else None
            agent = username or agent
            if role == "customer" and not customer:
                customer = {"name": name or None, "email": address or None}
            text = article.get("body") or ""
            if article.get("content_type") == "text/html":
                text = html_to_text(text)
            messages.append({"external_id": str(article.get("id")), "author_role": role, "author_name": name or None,
                             "sent_at": article.get("created_at"), "text": text, "agent": username,
                             "subject": article.get("subject"), "is_public": not article.get("internal", False)})
        channel = "chat" if any(a.get("type") == "chat" for a in ticket.get("articles") or []) else "email"
        return {"source": "zammad", "external_id": str(ticket["id"]), "channel": channel,
                "started_at": ticket.get("created_at"), "subject": ticket.get("title"), "agent": agent,
                "queue": ticket.get("group") if isinstance(ticket.get("group"), str) else None,
                "customer": customer, "messages": messages,
                "ended_at": max((m["sent_at"] for m in messages if m["sent_at"]), default=None),
                "extra": {"number": ticket.get("number"), "state": ticket.get("state")}}

    return _each(json_items(path, keys=("tickets",)), convert)
