"""What a later export changes, for every call, help-desk, mailbox, chat and social import: what it carries,
never what it leaves out (app/core/merge.py). For each connector: the full export, then a partial one (fields
missing) changes nothing; the full one again duplicates nothing; two partial exports carrying different
fields end in the same state in either order — the state the full export gives. On SQLite and PostgreSQL."""

import copy
import csv
import json
import mailbox
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app.auth.models import User
from app.connectors import helpdesk, phone, social
from app.connectors.common import import_call_records, import_interactions
from app.connectors.email import import_mailbox
from app.core.settings import Settings
from app.core.timeutil import as_utc
from app.ingest.calls import import_calls
from app.ingest.chats import import_chats
from app.ingest.models import ImportReport
from app.interactions.models import Interaction, InteractionLeg, Message
from tests.integration.connectors_support import ASTERISK_ROWS, tone
from tests.integration.test_connectors_helpdesk import CHATWOOT, INTERCOM, ZAMMAD, ZENDESK
from tests.integration.test_connectors_social import FACEBOOK, INSTAGRAM

Importer = Callable[[Session, Settings, Path, Any, str], ImportReport]


def _iso(value: Any) -> Any:
    return as_utc(value).isoformat() if value is not None else None


def stored_state(session: Session, source: str) -> list[Any]:
    """Everything an import writes about the source's interactions (ids of agents and customers included)."""
    session.expire_all()
    state: list[Any] = []
    for interaction in session.exec(select(Interaction).where(Interaction.source == source)
                                    .order_by(col(Interaction.external_id))).all():
        legs = session.exec(select(InteractionLeg).where(InteractionLeg.interaction_id == interaction.id)
                            .order_by(col(InteractionLeg.seq))).all()
        messages = session.exec(select(Message).where(Message.interaction_id == interaction.id)
                                .order_by(col(Message.external_id))).all()
        state.append({
            "interaction": (interaction.external_id, interaction.channel, interaction.direction,
                            _iso(interaction.started_at), _iso(interaction.ended_at), interaction.duration_seconds,
                            interaction.agent_id, interaction.customer_id, interaction.queue, interaction.subject,
                            interaction.platform, json.dumps(interaction.extra, sort_keys=True, default=str)),
            "legs": [(leg.agent_id, leg.queue, _iso(leg.started_at), _iso(leg.ended_at)) for leg in legs],
            "messages": [(m.external_id, m.author_role, _iso(m.sent_at), m.text, m.author_name, m.author_handle,
                          m.agent_id, m.subject, m.is_public, json.dumps(m.extra, sort_keys=True, default=str),
                          json.dumps(m.attachments, sort_keys=True)) for m in messages]})
    return state


def check_merge(session: Session, settings: Settings, tmp_path: Path, run: Importer,
                full: Any, partials: tuple[Any, Any], source: str) -> list[Any]:
    """The four promises for one connector; returns the full export's state."""
    assert run(session, settings, tmp_path / "full", full, source).created >= 1
    whole = stored_state(session, source)
    for number, partial in enumerate(partials):
        report = run(session, settings, tmp_path / f"partial-{number}", partial, source)
        assert report.created == 0 and not report.rejected, report
        assert stored_state(session, source) == whole, f"partial export {number} blanked or changed a field"
    again = run(session, settings, tmp_path / "again", full, source)
    assert (again.created, again.updated) == (0, 0) and not again.rejected, again
    assert stored_state(session, source) == whole
    orders = {}
    for name, order in (("ab", partials), ("ba", partials[::-1])):
        for number, partial in enumerate(order):
            run(session, settings, tmp_path / f"{name}-{number}", partial, f"{source}-{name}")
        orders[name] = stored_state(session, f"{source}-{name}")
    assert orders["ab"] == orders["ba"], "the order of two partial exports changed the result"
    assert orders["ab"] == whole, "two partial exports together do not give what the full export gives"
    return whole


def without(document: Any, *paths: tuple[Any, ...]) -> Any:
    """A deep copy of `document` with each key path removed (an export that lacks those fields)."""
    copied = copy.deepcopy(document)
    for path in paths:
        node = copied
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1], None)
    return copied


# ---------------------------------------------------------------- calls


def _asterisk(session: Session, settings: Settings, directory: Path, rows: Any, source: str) -> ImportReport:
    directory.mkdir(parents=True)
    cdr = directory / "Master.csv"
    with cdr.open("w", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
    recordings = directory.parent / "monitor"
    if not recordings.exists():
        tone(recordings / "q-600-07700900123-20261120-090005-1763629200.1.wav")
    return import_call_records(session=session, settings=settings, queue=None, source=source,
                               records=phone.read_asterisk(cdr, recordings=recordings))


def _blank(row: list[str], *columns: int) -> list[str]:
    return [("" if index in columns else cell) for index, cell in enumerate(row)]


def test_asterisk_cdr_without_agent_queue_or_caller_keeps_them(session: Session, settings: Settings,
                                                                  tmp_path: Path, make_user: Callable[..., User]) -> None:
    alice = make_user("agent", username="alice")
    # columns: 1 src, 4 clid (the caller), 6 dstchannel (the agent), 8 lastdata (the queue)
    no_agent_or_queue = [_blank(row, 6, 8) for row in ASTERISK_ROWS]
    no_caller = [_blank(row, 1, 4) if row[1].startswith("077") else row for row in ASTERISK_ROWS]
    whole = check_merge(session, settings, tmp_path, _asterisk, ASTERISK_ROWS, (no_agent_or_queue, no_caller),
                        "asterisk")
    inbound = next(s for s in whole if s["interaction"][0] == "1763629200.1")["interaction"]
    assert inbound[6] == alice.id and inbound[8] == "support" and inbound[7] is not None


TWILIO_CALLS = [
    {"sid": "CA" + "1" * 32, "from": "+447700900123", "to": "client:alice",
     "start_time": "Fri, 20 Nov 2026 09:00:00 +0000", "end_time": "Fri, 20 Nov 2026 09:02:00 +0000",
     "duration": "120", "direction": "inbound", "status": "completed"},
    {"sid": "CA" + "2" * 32, "from": "client:alice", "to": "+447700900456",
     "start_time": "Fri, 20 Nov 2026 10:00:00 +0000", "end_time": "Fri, 20 Nov 2026 10:01:00 +0000",
     "duration": "60", "direction": "outbound-dial", "status": "completed"},
]


def _twilio(session: Session, settings: Settings, directory: Path, calls: Any, source: str) -> ImportReport:
    directory.mkdir(parents=True)
    (directory / "calls.json").write_text(json.dumps({"calls": calls}))
    return import_call_records(session=session, settings=settings, queue=None, source=source,
                               records=phone.read_twilio(directory / "calls.json", recordings_file=None,
                                                         audio_dir=None))


def test_twilio_calls_without_duration_or_status_keep_them(session: Session, settings: Settings, tmp_path: Path,
                                                            make_user: Callable[..., User]) -> None:
    make_user("agent", username="alice")
    no_times = [without(call, ("end_time",), ("duration",)) for call in TWILIO_CALLS]
    no_status = [without(call, ("status",)) for call in TWILIO_CALLS]
    whole = check_merge(session, settings, tmp_path, _twilio, TWILIO_CALLS, (no_times, no_status), "twilio")
    assert all(s["interaction"][5] is not None for s in whole)  # the durations are there


MANIFEST = [{"external_id": "m-1", "file": "m-1.wav", "started_at": "2026-11-20T09:00:00+00:00",
             "direction": "outbound", "queue": "billing", "agent": "alice", "customer_phone": "+447700900123",
             "customer_name": "Jane Customer", "transfers": "bob@retention@0.2"}]


def _calls_manifest(session: Session, settings: Settings, directory: Path, rows: Any, source: str) -> ImportReport:
    directory.mkdir(parents=True)
    tone(directory / "m-1.wav")
    with (directory / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return import_calls(session=session, settings=settings, queue=None, directory=directory, source=source)


def test_calls_manifest_without_columns_keeps_direction_queue_agent_and_transfers(
        session: Session, settings: Settings, tmp_path: Path, make_user: Callable[..., User]) -> None:
    alice, bob = make_user("agent", username="alice"), make_user("agent", username="bob")
    only_people = [{k: v for k, v in MANIFEST[0].items() if k not in ("direction", "queue", "transfers")}]
    only_routing = [{k: v for k, v in MANIFEST[0].items()
                     if k not in ("agent", "customer_phone", "customer_name")}]
    whole = check_merge(session, settings, tmp_path, _calls_manifest, MANIFEST, (only_people, only_routing), "calls")
    interaction = whole[0]["interaction"]
    assert (interaction[2], interaction[8]) == ("outbound", "billing") and interaction[7] is not None
    assert [leg[0] for leg in whole[0]["legs"]] == [alice.id, bob.id]


# ---------------------------------------------------------------- help desks


def _helpdesk(reader: Callable[..., Any], filename: str) -> Importer:
    def run(session: Session, settings: Settings, directory: Path, document: Any, source: str) -> ImportReport:
        directory.mkdir(parents=True)
        (directory / filename).write_text(json.dumps(document))
        report = import_interactions(session=session, settings=settings, source=source,
                                     records=reader(session, directory / filename))
        report.rejected = []  # the fixtures carry one damaged record each (test_connectors_helpdesk)
        return report
    return run


HELPDESKS: dict[str, tuple[Importer, Any, tuple[Any, Any]]] = {
    "zendesk": (_helpdesk(helpdesk.read_zendesk, "tickets.json"), ZENDESK, (
        without(ZENDESK, ("tickets", 0, "subject"), ("tickets", 0, "tags"), ("tickets", 0, "status")),
        without(ZENDESK, ("tickets", 0, "assignee_id"), ("tickets", 0, "requester_id")))),
    "intercom": (_helpdesk(helpdesk.read_intercom, "conversations.json"), INTERCOM, (
        without(INTERCOM, ("conversations", 0, "state")),
        without(INTERCOM, ("conversations", 0, "source", "author", "email"),
                ("conversations", 0, "source", "author", "name")))),
    "chatwoot": (_helpdesk(helpdesk.read_chatwoot, "conversations.json"), CHATWOOT, (
        without(CHATWOOT, ("payload", 0, "meta", "assignee"), ("payload", 0, "status")),
        without(CHATWOOT, ("payload", 0, "meta", "sender")))),
    "zammad": (_helpdesk(helpdesk.read_zammad, "tickets.json"), ZAMMAD, (
        without(ZAMMAD, (0, "group"), (0, "state")),
        without(ZAMMAD, (0, "title"), (0, "number")))),
}


@pytest.mark.parametrize("system", sorted(HELPDESKS))
def test_helpdesk_export_without_fields_keeps_them(system: str, session: Session, settings: Settings,
                                                   tmp_path: Path, make_user: Callable[..., User]) -> None:
    alice = make_user("agent", username="alice")
    alice.email = "alice@acme.test"
    session.add(alice)
    session.flush()
    run, full, partials = HELPDESKS[system]
    whole = check_merge(session, settings, tmp_path, run, full, partials, system)
    interaction = whole[0]["interaction"]
    assert interaction[6] == alice.id and interaction[7] is not None  # agent and customer kept


# ---------------------------------------------------------------- mailbox, chats


def _email(number: int, *, sender: str, reply_to: int | None = None, name: bool = True) -> bytes:
    author = f"Jane Customer <{sender}>" if name else sender
    headers = [f"From: {author}", "To: support@acme.test", "Subject: Order 7 missing",
               f"Message-ID: <m{number}@example.com>", f"Date: Fri, 20 Nov 2026 09:{number:02d}:00 +0000"]
    if reply_to:
        headers.append(f"In-Reply-To: <m{reply_to}@example.com>")
    return ("\r\n".join(headers) + f"\r\n\r\nMessage number {number}\r\n").encode()


def _mailbox(session: Session, settings: Settings, directory: Path, messages: Any, source: str) -> ImportReport:
    directory.mkdir(parents=True)
    box = mailbox.mbox(str(directory / "support.mbox"))
    for message in messages:
        box.add(message)
    box.flush()
    return import_mailbox(session=session, settings=settings, path=directory / "support.mbox", source=source)


def test_mailbox_without_display_names_keeps_them(session: Session, settings: Settings, tmp_path: Path) -> None:
    full = [_email(1, sender="jane@example.com"), _email(2, sender="jane@example.com", reply_to=1)]
    first_named = [full[0], _email(2, sender="jane@example.com", reply_to=1, name=False)]
    second_named = [_email(1, sender="jane@example.com", name=False), full[1]]
    whole = check_merge(session, settings, tmp_path, _mailbox, full, (first_named, second_named), "mail")
    assert [m[4] for m in whole[0]["messages"]] == ["Jane Customer", "Jane Customer"]


CHAT = [{"conversation_id": "k-1", "message_id": "k-1-1", "sent_at": "2026-11-02T09:00:00Z",
         "author_role": "customer", "text": "Hello", "queue": "billing", "customer_email": "jane@example.com",
         "author_name": "Jane"},
        {"conversation_id": "k-1", "message_id": "k-1-2", "sent_at": "2026-11-02T09:01:00Z",
         "author_role": "agent", "agent": "alice", "text": "Hi, how can I help?", "author_name": "Alice"}]


def _chats(session: Session, settings: Settings, directory: Path, lines: Any, source: str) -> ImportReport:
    return import_chats(session=session, records=list(enumerate(lines, start=1)), source=source,
                        settings=settings)


def test_chat_lines_without_queue_names_or_customer_keep_them(session: Session, settings: Settings,
                                                              tmp_path: Path, make_user: Callable[..., User]) -> None:
    alice = make_user("agent", username="alice")
    no_queue_or_names = [{k: v for k, v in line.items() if k not in ("queue", "author_name")} for line in CHAT]
    no_customer = [{k: v for k, v in line.items() if k != "customer_email"} for line in CHAT]
    whole = check_merge(session, settings, tmp_path, _chats, CHAT, (no_queue_or_names, no_customer), "chat")
    assert whole[0]["interaction"][6:9] == (alice.id, whole[0]["interaction"][7], "billing")
    assert whole[0]["interaction"][7] is not None


# ---------------------------------------------------------------- social


def _social(reader: Callable[[Path], Any]) -> Importer:
    def run(session: Session, settings: Settings, directory: Path, document: Any, source: str) -> ImportReport:
        directory.mkdir(parents=True)
        (directory / "feed.json").write_text(json.dumps(document))
        report = social.import_posts(session=session, settings=settings, records=reader(directory / "feed.json"),
                                     source=source)
        report.rejected = []  # the fixtures carry one damaged record each (test_connectors_social)
        return report
    return run


SOCIAL: dict[str, tuple[Importer, Any, tuple[Any, Any]]] = {
    "facebook": (_social(social.read_facebook), FACEBOOK, (
        without(FACEBOOK, ("data", 0, "permalink_url")),
        without(FACEBOOK, ("data", 0, "comments", "data", 0, "from", "name")))),
    "instagram": (_social(social.read_instagram), INSTAGRAM, (
        without(INSTAGRAM, ("data", 0, "permalink")),
        without(INSTAGRAM, ("data", 0, "comments", "data", 0, "like_count")))),
}


@pytest.mark.parametrize("platform", sorted(SOCIAL))
def test_social_export_without_fields_keeps_them(platform: str, session: Session, settings: Settings,
                                                 tmp_path: Path) -> None:
    run, full, partials = SOCIAL[platform]
    whole = check_merge(session, settings, tmp_path, run, full, partials, platform)
    assert "instagram.com" in json.dumps(whole) or "facebook.com" in json.dumps(whole)  # the post's url kept
