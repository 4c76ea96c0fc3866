"""Help-desk, chat and mailbox connectors: vendor exports imported twice, notes kept internal, bad records named."""

import json
import mailbox
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app.auth.models import User
from app.connectors import helpdesk
from app.connectors.common import import_interactions
from app.connectors.email import ImapAccount, import_mailbox, pull_imap
from app.connectors.models import ImapMark
from app.core.jobs import JobQueue
from app.core.settings import Settings
from app.interactions.models import Interaction, Message
from tests.integration.connectors_dovecot import PASSWORD, USER, dovecot_binary, run_dovecot

ZENDESK = {
    "tickets": [{"id": 35436, "subject": "Help, my printer is on fire!", "created_at": "2026-11-20T09:00:00Z",
                 "requester_id": 20978392, "assignee_id": 235323, "status": "open", "via": {"channel": "email"},
                 "tags": ["printer"], "comments": [
                     {"id": 1274, "type": "Comment", "author_id": 20978392, "body": "It is smoking.",
                      "public": True, "created_at": "2026-11-20T09:00:00Z"},
                     {"id": 1275, "type": "Comment", "author_id": 235323, "body": "Customer sounds upset",
                      "public": False, "created_at": "2026-11-20T09:05:00Z"},
                     {"id": 1276, "type": "Comment", "author_id": 235323, "body": "Unplug it, please.",
                      "public": True, "created_at": "2026-11-20T09:06:00Z"}]},
                {"id": 35437, "subject": "Broken", "created_at": "2026-11-20T10:00:00Z", "requester_id": 20978392,
                 "comments": [{"id": 1280, "author_id": 20978392, "body": "Hello?", "public": True,
                               "created_at": "not a time"}]},
                {"subject": "no id"}],
    "users": [{"id": 20978392, "name": "Jane Customer", "email": "jane@example.com", "role": "end-user"},
              {"id": 235323, "name": "Alice Agent", "email": "alice@acme.test", "role": "agent"}],
}
INTERCOM = {"type": "conversation.list", "conversations": [
    {"type": "conversation", "id": "147", "created_at": 1763629200, "state": "closed",
     "source": {"type": "conversation", "id": "403918316", "delivered_as": "customer_initiated", "subject": "",
                "body": "<p>Where is my order?</p>",
                "author": {"type": "user", "id": "5310d8e8", "name": "Jane Customer", "email": "jane@example.com"}},
     "conversation_parts": {"type": "conversation_part.list", "total_count": 3, "conversation_parts": [
         {"type": "conversation_part", "id": "1", "part_type": "assignment", "body": None,
          "created_at": 1763629210, "author": {"type": "admin", "id": "9", "name": "Alice", "email": "alice@acme.test"}},
         {"type": "conversation_part", "id": "2", "part_type": "note", "body": "<p>VIP customer</p>",
          "created_at": 1763629220, "author": {"type": "admin", "id": "9", "name": "Alice", "email": "alice@acme.test"}},
         {"type": "conversation_part", "id": "3", "part_type": "comment", "body": "<p>It ships today.</p>",
          "created_at": 1763629230, "author": {"type": "admin", "id": "9", "name": "Alice", "email": "alice@acme.test"}},
     ]}},
    {"type": "conversation", "id": "148", "created_at": "yesterday", "source": {"body": "x", "author": {}}},
]}
CHATWOOT = {"payload": [
    {"id": 7, "inbox_id": 1, "status": "resolved", "created_at": 1763629200,
     "meta": {"sender": {"id": 3, "name": "Jane Customer", "email": "jane@example.com", "phone_number": "+447700900123"},
              "assignee": {"id": 1, "name": "Alice", "email": "alice@acme.test"}},
     "messages": [
         {"id": 70, "content": "Hi, my card was charged twice", "message_type": 0, "private": False,
          "created_at": 1763629200, "sender": {"type": "contact", "name": "Jane Customer"}},
         {"id": 71, "content": "Conversation was assigned to Alice", "message_type": 2, "created_at": 1763629201},
         {"id": 72, "content": "check stripe first", "message_type": "outgoing", "private": True,
          "created_at": 1763629210, "sender": {"type": "user", "name": "Alice", "email": "alice@acme.test"}},
         {"id": 73, "content": "Refunded!", "message_type": 1, "private": False, "created_at": 1763629220,
          "sender": {"type": "user", "name": "Alice", "email": "alice@acme.test"}}]},
    {"id": 8, "created_at": 1763629200, "messages": [{"id": 80, "content": "?", "message_type": 9,
                                                      "created_at": 1763629200}]},
]}
ZAMMAD = [
    {"id": 42, "number": "31001", "title": "Invoice question", "group": "Billing", "state": "open",
     "created_at": "2026-11-20T09:00:00Z", "articles": [
         {"id": 420, "type": "email", "sender": "Customer", "from": "Jane Customer <jane@example.com>",
          "to": "billing@acme.test", "subject": "Invoice question", "body": "Why two invoices?",
          "content_type": "text/plain", "internal": False, "created_at": "2026-11-20T09:00:00Z"},
         {"id": 421, "type": "note", "sender": "Agent", "from": "Alice Agent <alice@acme.test>",
          "body": "<p>duplicate run</p>", "content_type": "text/html", "internal": True,
          "created_at": "2026-11-20T09:03:00Z"},
         {"id": 422, "type": "email", "sender": "Agent", "from": "Alice Agent <alice@acme.test>",
          "to": "jane@example.com", "body": "One is void, sorry.", "content_type": "text/plain", "internal": False,
          "created_at": "2026-11-20T09:04:00Z"}]},
    {"id": 43, "title": "bad", "created_at": "2026-11-20T09:00:00Z",
     "articles": [{"id": 430, "sender": "Robot", "body": "?", "created_at": "2026-11-20T09:00:00Z"}]},
]

READERS: dict[str, tuple[Callable[..., Any], Any, str, int]] = {
    # name: (reader, fixture, file name, expected rejected record numbers... count of good ones)
    "zendesk": (helpdesk.read_zendesk, ZENDESK, "tickets.json", 1),
    "intercom": (helpdesk.read_intercom, INTERCOM, "conversations.json", 1),
    "chatwoot": (helpdesk.read_chatwoot, CHATWOOT, "conversations.json", 1),
    "zammad": (helpdesk.read_zammad, ZAMMAD, "tickets.json", 1),
}


@pytest.mark.parametrize("system", sorted(READERS))
def test_helpdesk_exports(system: str, session: Session, settings: Settings, tmp_path: Path,
                          make_user: Callable[..., User]) -> None:
    alice = make_user("agent", username="alice")
    alice.email = "alice@acme.test"
    session.add(alice)
    session.flush()
    reader, fixture, filename, good = READERS[system]
    path = tmp_path / filename
    path.write_text(json.dumps(fixture))
    first = import_interactions(session=session, settings=settings, source=system, records=reader(session, path))
    assert first.created == good and len(first.rejected) >= 1, first
    again = import_interactions(session=session, settings=settings, source=system, records=reader(session, path))
    assert (again.created, again.updated, again.unchanged) == (0, 0, good)
    assert [r.line for r in again.rejected] == [r.line for r in first.rejected]
    interaction = session.exec(select(Interaction).where(Interaction.source == system)).one()
    assert interaction.agent_id == alice.id and interaction.customer_id is not None
    messages = session.exec(select(Message).where(Message.interaction_id == interaction.id)
                            .order_by(col(Message.sent_at))).all()
    internal = [m for m in messages if not m.is_public]
    assert len(internal) == 1 and internal[0].author_role == "agent"
    assert all("<p>" not in m.text for m in messages)
    assert sum(1 for m in messages if m.is_public and m.author_role == "agent") == 1


def _email(number: int, *, reply_to: int | None = None) -> bytes:
    headers = ["From: Jane Customer <jane@example.com>", "To: support@acme.test", f"Subject: Order {number}",
               f"Message-ID: <m{number}@example.com>", f"Date: Fri, 20 Nov 2026 09:{number:02d}:00 +0000"]
    if reply_to:
        headers.append(f"In-Reply-To: <m{reply_to}@example.com>")
    return ("\r\n".join(headers) + f"\r\n\r\nMessage number {number}\r\n").encode()


def test_mbox_and_maildir(session: Session, settings: Settings, tmp_path: Path) -> None:
    box = mailbox.mbox(str(tmp_path / "support.mbox"))
    for number in (1, 2):
        box.add(_email(number, reply_to=1 if number == 2 else None))
    box.add(b"this is not an e-mail at all")
    box.flush()
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"))
    maildir.add(_email(3))
    for _ in range(2):
        report = import_mailbox(session=session, settings=settings, path=tmp_path / "support.mbox")
        maildir_report = import_mailbox(session=session, settings=settings, path=tmp_path / "Maildir")
    assert (report.created, report.unchanged, [r.line for r in report.rejected]) == (0, 1, [3])
    assert (maildir_report.created, maildir_report.unchanged) == (0, 1)
    assert session.exec(select(Interaction).where(Interaction.source == "mail")).all().__len__() == 2


@pytest.mark.skipif(dovecot_binary() is None, reason="dovecot-imapd is not installed (scripts/system-deps.sh)")
def test_imap_pull_against_a_real_dovecot(session: Session, settings: Settings, queue: JobQueue,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with run_dovecot() as server:
        account = ImapAccount(host="127.0.0.1", port=server.port, username=USER, password=PASSWORD, use_ssl=False)
        server.deliver("one", _email(1))
        server.deliver("two", _email(2, reply_to=1))
        first = pull_imap(session=session, settings=settings, account=account)
        assert (first[0].fetched, first[0].report.created) == (2, 1)
        assert pull_imap(session=session, settings=settings, account=account)[0].fetched == 0
        server.deliver("three", _email(3, reply_to=2))
        server.deliver("four", _email(4))
        third = pull_imap(session=session, settings=settings, account=account)
        assert (third[0].fetched, third[0].last_uid, third[0].report.created, third[0].report.updated) == (2, 4, 1, 1)
        mark = session.exec(select(ImapMark).where(ImapMark.folder == "INBOX")).one()
        assert mark.last_uid == 4 and mark.uidvalidity > 0
        # a rebuilt folder (new UIDVALIDITY) is read again; the import keeps it duplicate-free
        mark.uidvalidity += 1
        session.add(mark)
        session.commit()
        again = pull_imap(session=session, settings=settings, account=account)
        assert again[0].fetched == 4 and again[0].report.created == 0
        # the hourly worker job, configured by environment (the password never goes into a job row)
        for key, value in {"HOST": "127.0.0.1", "PORT": str(server.port), "USER": USER, "PASSWORD": PASSWORD,
                           "SSL": "false"}.items():
            monkeypatch.setenv(f"EARSHOT_CONNECTORS_IMAP_{key}", value)
        server.deliver("five", _email(5))
        job = queue.enqueue(session=session, kind="connectors.imap_pull", payload={})
        session.refresh(job)
        assert job.status == "done" and job.result["INBOX"]["fetched"] == 1, (job.error, job.result)
        bad = ImapAccount(host="127.0.0.1", port=server.port, username=USER, password="wrong", use_ssl=False)
        with pytest.raises(Exception, match="login refused"):
            pull_imap(session=session, settings=settings, account=bad)
    assert len(session.exec(select(Interaction).where(Interaction.source == "imap")).all()) == 3
