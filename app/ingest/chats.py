"""Chat imports: records of a .jsonl or .csv file, grouped by conversation_id into one interaction each,
with one leg per agent when a conversation moves between agents."""

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app.core.audit import Actor
from app.core.errors import InvalidInput
from app.core.inputs import CsvFile, decode_text, json_lines
from app.core.settings import Settings
from app.core.timeutil import as_utc
from app.ingest import writing
from app.ingest.models import ChatLine, CustomerIn, ImportReport
from app.interactions import service as interactions
from app.interactions.customers import Identity
from app.interactions.service import InteractionData, LegData, MessageData, UpsertStatus

CHAT_COLUMNS = ("conversation_id", "message_id", "sent_at", "author_role", "text")


def read_records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, record) of a .csv (header row, one row per line) or .jsonl/.json-lines file. A line that
    cannot be read yields an InvalidInput as its record, so the importer reports it and carries on; a file
    that is not text, or a CSV without the chat columns, raises InvalidInput."""
    return chat_records(path.read_bytes(), csv_format=path.suffix.lower() == ".csv", what=path.name)


def chat_records(data: bytes, *, csv_format: bool, what: str = "the file") -> Iterator[tuple[int, Any]]:
    """Records of a chats file's bytes (see read_records): decoded by its byte-order mark (UTF-8 or
    UTF-16), CSV delimiter sniffed, rows numbered by the line they start on."""
    text = decode_text(data, what=what)
    if csv_format:
        return CsvFile(text, required=CHAT_COLUMNS, what=what).rows()
    return json_lines(text)


def import_chats(*, session: Session, records: Iterable[tuple[int, Any]], source: str = "import",
                 actor: Actor | None = None, settings: Settings | None = None,
                 progress: writing.Progress = writing.no_progress, background: bool = False) -> ImportReport:
    """Chat messages (one per record, DEMO_FORMATS chats.jsonl shape), grouped by conversation_id into one
    interaction each. A conversation moving between agents gets one leg per agent, in order."""
    report = ImportReport()
    commits = writing.Commits(session, background=background)
    conversations: OrderedDict[str, list[tuple[int, ChatLine]]] = OrderedDict()
    for line, raw in records:
        try:
            if isinstance(raw, InvalidInput):
                raise raw
            if not isinstance(raw, dict):
                raise InvalidInput("expected an object")
            chat = writing.validate_record(ChatLine, raw)
            conversations.setdefault(chat.conversation_id, []).append((line, chat))
        except InvalidInput as exc:
            report.reject(line, exc.message)
    resolver = writing.Resolver(session=session, region=writing.phone_region(settings), actor=actor)
    resolver.expect_agents(chat.agent for lines in conversations.values() for _, chat in lines)
    # written in the order of their ids: simultaneous imports of the same conversations then take their locks
    # in the same order (PostgreSQL) and wait for each other instead of deadlocking
    writing.write_in_batches(
        sorted(conversations.items()), commits=commits, report=report, progress=progress,
        texts=lambda item: _texts(item[1]),
        write=lambda item: _import_conversation(session=session, resolver=resolver, report=report, source=source,
                                                conversation_id=item[0], lines=item[1]))
    session.commit()
    return report


def _texts(lines: list[tuple[int, ChatLine]]) -> list[tuple[str, str]]:
    """A conversation's texts in the order they are stored, each with the one before it."""
    return writing.with_previous([chat.text for _, chat in sorted(lines, key=lambda m: (m[1].sent_at, m[0]))])


def _import_conversation(*, session: Session, resolver: writing.Resolver, report: ImportReport, source: str,
                         conversation_id: str, lines: list[tuple[int, ChatLine]]) -> None:
    messages: list[tuple[int, MessageData]] = []
    identities: list[Identity] = []
    customer_name: str | None = None
    for line, chat in lines:
        try:
            agent_id = resolver.agent_id(chat.agent)
            found = resolver.identities(CustomerIn(phone=chat.customer_phone, email=chat.customer_email))
        except InvalidInput as exc:
            report.reject(line, exc.message, conversation_id)
            continue
        identities.extend(found)
        if chat.author_role == "customer":
            customer_name = customer_name or chat.customer_name or chat.author_name
        messages.append((line, MessageData(external_id=chat.message_id, author_role=chat.author_role,
                                           sent_at=chat.sent_at, text=chat.text, author_name=chat.author_name,
                                           agent_id=agent_id)))
    if not messages:
        return
    ordered = sorted(messages, key=lambda m: (m[1].sent_at, m[0]))
    queue = next((c.queue for _, c in lines if c.queue), None)
    legs: list[LegData] = []
    for _, message in ordered:
        if message.agent_id is not None and (not legs or legs[-1].agent_id != message.agent_id):
            if legs:
                legs[-1].ended_at = message.sent_at
            legs.append(LegData(agent_id=message.agent_id, queue=queue, started_at=message.sent_at))
    if legs:
        legs[-1].ended_at = ordered[-1][1].sent_at

    def write() -> UpsertStatus:
        customer_id = resolver.customer_id(identities, customer_name)
        existing = interactions.get_by_external_id(session=session, source=source, external_id=conversation_id)
        started = ordered[0][1].sent_at
        # lines that name no agent or queue (e.g. only the customer's new messages) keep the stored ones
        # (None keeps, by the import rule); one agent is no transfer, so no legs are written
        return interactions.upsert_interaction(session=session, data=InteractionData(
            source=source, external_id=conversation_id, channel="chat",
            started_at=min(started, as_utc(existing.started_at)) if existing else started,
            ended_at=writing.latest_end([m.sent_at for _, m in ordered], existing), customer_id=customer_id,
            agent_id=legs[-1].agent_id if legs else None, queue=queue, legs=legs if len(legs) > 1 else [],
            messages=[m for _, m in ordered]), stored=existing)[1]

    writing.write_interaction(session, report, [line for line, _ in messages], conversation_id, write)
