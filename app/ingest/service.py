"""Getting interactions into Earshot: call recordings (upload or manifest), chats (JSON, CSV, JSONL),
e-mails (.eml, mbox), social threads (JSON) and webhooks — all through app.interactions.service, so every
path is idempotent by (source, external_id) and resolves customers the same way.

Imports never stop at a bad line: each line is validated on its own, bad ones are reported with their line
number and reason, and each interaction is written inside its own SAVEPOINT, so one failure loses nothing
else. Counts in the report are of interactions (a conversation, a thread, a call).
"""

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, col, select

from app.auth.models import User
from app.core import phones
from app.core.audit import Actor
from app.core.errors import InvalidInput
from app.core.hooks import SOCIAL_THREAD_WRITTEN, SocialThreadWritten
from app.core.inputs import CsvFile, decode_text, json_document, json_lines, refuse_binary
from app.core.jobs import JobKind, JobQueue, registered_kinds
from app.core.settings import Settings
from app.core.storage import BlobStore
from app.core.timeutil import as_utc
from app.ingest.audio import AudioInfo, probe_audio
from app.ingest.emails import ParsedEmail, local_part, looks_like_mbox, mbox_messages, parse_email
from app.ingest.models import (
    ChatLine,
    CustomerIn,
    ImportReport,
    RecordingMetadata,
    SocialPost,
    TransferIn,
    WebhookInteraction,
)
from app.interactions import service as interactions
from app.interactions.customers import Identity
from app.interactions.models import Interaction, Message, Recording
from app.interactions.service import InteractionData, LegData, MessageData, UpsertStatus

log = logging.getLogger("earshot.ingest")

COMMIT_EVERY = 200
BACKGROUND_COMMIT_SECONDS = 0.2
Progress = Callable[[int, int], None]
ModelT = TypeVar("ModelT", bound=BaseModel)


def phone_region(settings: Settings | None) -> str:
    return phones.default_region(settings)


def _no_progress(done: int, total: int) -> None:
    return None


@dataclass
class Commits:
    """When an import of many items commits. In a request: every COMMIT_EVERY items. In the background (a job
    or the command line, beside other users): after BACKGROUND_COMMIT_SECONDS of writing, then a pause about as
    long (0.1-0.5 s) before the next item — on SQLite a transaction holds the database's write lock from its
    first write to its commit, the lock goes to whoever asks first, and requests waiting for it poll up to
    every 100 ms: without the pause the import would take it back at once, item after item."""

    session: Session
    background: bool = False
    since_commit: int = 0
    started: float = field(default_factory=time.monotonic)

    def item_done(self) -> None:
        self.since_commit += 1
        held = time.monotonic() - self.started
        if self.since_commit >= COMMIT_EVERY or (self.background and held >= BACKGROUND_COMMIT_SECONDS):
            self.session.commit()
            self.since_commit = 0
            if self.background and self.session.get_bind().dialect.name == "sqlite":  # PostgreSQL locks rows
                time.sleep(min(max(held, 0.1), 0.5))
            self.started = time.monotonic()


@contextmanager
def background_priority(niceness: int = 10) -> Iterator[None]:
    """Run this thread at a lower CPU priority (Linux schedules threads one by one) for a background import,
    so that on a busy machine the server's requests get the CPU first; restored afterwards where the system
    allows (an unprivileged worker thread stays polite, which suits background work)."""
    thread = threading.get_native_id()
    try:
        before = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(before + niceness, 19))
    except (OSError, AttributeError):  # not Linux, or not allowed: run as is
        yield
        return
    try:
        yield
    finally:
        with suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, thread, before)


# ---------------------------------------------------------------- shared resolution


@dataclass
class Resolver:
    """Looks up agents by username (cached) and customers by identities, for one import."""

    session: Session
    region: str = interactions.DEFAULT_REGION
    actor: Actor | None = None
    agents: dict[str, int] = field(default_factory=dict)

    def agent_id(self, username: str | None) -> int | None:
        """The user id of an agent username; None for no username. Raises InvalidInput when unknown."""
        if not username:
            return None
        key = username.strip().lower()
        if key not in self.agents:
            user = self.session.exec(select(User).where(User.username == key)).first()
            if user is None or user.id is None:
                raise InvalidInput(f"unknown agent {username!r}")
            self.agents[key] = user.id
        return self.agents[key]

    def agent_by_email(self, address: str) -> int | None:
        """An agent writing from their own address, or from <username>@support.<domain>."""
        user = self.session.exec(select(User).where(col(User.email) == address)).first()
        if user is None:
            local, _, domain = address.partition("@")
            if domain.startswith("support."):
                user = self.session.exec(select(User).where(User.username == local)).first()
        return user.id if user else None

    def identities(self, customer: CustomerIn) -> list[Identity]:
        """Normalised identities of a customer description. Raises InvalidInput naming the bad field."""
        found: list[Identity] = []
        for field_name, kind in (("phone", "phone"), ("email", "email")):
            value = getattr(customer, field_name)
            if value:
                try:
                    found.append(interactions.normalise_identity(kind, value, region=self.region))
                except InvalidInput as exc:
                    raise InvalidInput(f"customer {field_name}: {exc.message}") from exc
        for ident in customer.identities:
            found.append(interactions.normalise_identity(ident.kind, ident.value, ident.platform,
                                                         region=self.region))
        return found

    def customer_id(self, identities: list[Identity], name: str | None) -> int | None:
        customer = interactions.resolve_customer(session=self.session, identities=identities,
                                                 display_name=name, actor=self.actor)
        return customer.id if customer else None


def _legs(resolver: Resolver, *, first_agent: str | None, first_queue: str | None, started_at: datetime,
          transfers: list[TransferIn], duration: float | None) -> list[LegData]:
    """Ordered legs of a transferred call: the first agent from the start, then each transfer at its offset."""
    if not transfers:
        return []
    legs = [LegData(agent_id=resolver.agent_id(first_agent), queue=first_queue, started_at=started_at)]
    for transfer in sorted(transfers, key=lambda t: t.offset_seconds):
        at = started_at + timedelta(seconds=transfer.offset_seconds)
        legs[-1].ended_at = at
        legs.append(LegData(agent_id=resolver.agent_id(transfer.agent), queue=transfer.queue, started_at=at))
    if duration is not None:
        legs[-1].ended_at = started_at + timedelta(seconds=duration)
    return legs


def parse_transfers(value: str | None) -> list[TransferIn]:
    """`agent2@queue2@offset;agent3@queue3@offset` (manifest.csv). Raises InvalidInput when malformed."""
    transfers = []
    for part in (value or "").split(";"):
        if not part.strip():
            continue
        pieces = part.strip().split("@")
        if len(pieces) != 3:
            raise InvalidInput(f"transfer {part!r} is not agent@queue@offset_seconds")
        try:
            offset = float(pieces[2])
        except ValueError as exc:
            raise InvalidInput(f"transfer {part!r}: offset is not a number") from exc
        transfers.append(TransferIn(agent=pieces[0] or None, queue=pieces[1] or None, offset_seconds=offset))
    return transfers


def channel_map_of(value: str | dict[str, str], channels: int) -> dict[str, str]:
    if channels == 1:
        return {"0": "mixed"}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    roles = [r.strip() for r in value.split(",") if r.strip()]
    if roles == ["mixed"]:
        return {str(i): "mixed" for i in range(channels)}
    if sorted(roles) != ["agent", "customer"]:
        raise InvalidInput(f"channel_map {value!r} must be 'agent,customer', 'customer,agent' or 'mixed'")
    return {str(i): role for i, role in enumerate(roles)}


def _validation_reason(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors())


def _validate(model: type[ModelT], raw: Any) -> ModelT:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(_validation_reason(exc)) from exc


def _write(session: Session, report: ImportReport, lines: list[int], item: str | None,
           write: Callable[[], UpsertStatus]) -> None:
    """Run one interaction's writes in a SAVEPOINT; count its status or reject its lines."""
    try:
        with session.begin_nested():
            status = write()
        report.count(status)
    except InvalidInput as exc:
        for line in lines:
            report.reject(line, exc.message, item)
    except IntegrityError as exc:  # e.g. a concurrent import wrote the same identity first: retry the file
        log.warning("import of %s failed: %s", item, exc)
        for line in lines:
            report.reject(line, "conflicting concurrent write; import again", item)
    except DataError as exc:  # a value the database refuses (the models clean what they know of)
        log.warning("import of %s refused by the database: %s", item, exc.orig)
        for line in lines:
            report.reject(line, f"the database refused a value: {str(exc.orig).splitlines()[0]}", item)


def _latest(times: list[datetime], existing: Interaction | None) -> datetime:
    """The end of an interaction: its latest message, here or in an earlier import."""
    if existing is not None and existing.ended_at is not None:
        times = [*times, as_utc(existing.ended_at)]
    return max(times)


# ---------------------------------------------------------------- recordings


@dataclass
class StoredRecording:
    interaction: Interaction
    recording: Recording
    status: UpsertStatus
    transcription_job_id: int | None


def ingest_recording(*, session: Session, settings: Settings, queue: JobQueue | None, chunks: Iterable[bytes],
                     filename: str, metadata: RecordingMetadata, actor: Actor | None) -> StoredRecording:
    """Store a call recording with its interaction. The audio is probed before anything is kept: an empty,
    truncated, non-audio or unsupported file raises InvalidInput (422) and leaves nothing behind; over
    `settings.max_upload_bytes` raises PayloadTooLarge (413). The same content is stored once. Commits,
    then queues transcription when a `speech.transcribe` handler exists."""
    result = store_call(session=session, settings=settings, metadata=metadata, chunks=chunks, filename=filename,
                        actor=actor)
    session.commit()
    result.transcription_job_id = enqueue_transcription(session=session, queue=queue, recording=result.recording)
    return result


def _save_call(*, session: Session, resolver: Resolver, metadata: RecordingMetadata, agent_id: int | None,
               identities: list[Identity], info: AudioInfo, sha256: str, size: int, filename: str,
               channel_map: dict[str, str]) -> StoredRecording:
    customer_id = resolver.customer_id(identities, metadata.customer.name)
    legs = _legs(resolver, first_agent=metadata.agent, first_queue=metadata.queue, started_at=metadata.started_at,
                 transfers=metadata.transfers, duration=info.duration_seconds)
    existing = interactions.get_by_external_id(session=session, source=metadata.source,
                                               external_id=metadata.external_id)
    # the direction has a default: only metadata that names it changes a stored call's direction
    direction = metadata.direction if existing is None or "direction" in metadata.model_fields_set \
        else existing.direction
    interaction, status = interactions.upsert_interaction(session=session, data=InteractionData(
        source=metadata.source, external_id=metadata.external_id, channel="call", direction=direction,
        started_at=metadata.started_at, ended_at=metadata.started_at + timedelta(seconds=info.duration_seconds),
        duration_seconds=info.duration_seconds, customer_id=customer_id,
        agent_id=legs[-1].agent_id if legs else agent_id, queue=metadata.queue, legs=legs))
    assert interaction.id is not None
    recording = interactions.interaction_recording(session=session, interaction_id=interaction.id)
    values: dict[str, Any] = {"sha256": sha256, "original_filename": Path(filename).name[:500],
                              "format": info.format, "duration_seconds": info.duration_seconds,
                              "channels": info.channels, "sample_rate": info.sample_rate, "size_bytes": size,
                              "channel_map": channel_map}
    if recording is None:
        recording = Recording(interaction_id=interaction.id, **values)
        status = "updated" if status == "unchanged" else status
    elif recording.sha256 != sha256 or recording.channel_map != channel_map:
        for key, value in values.items():
            setattr(recording, key, value)
        recording.transcription_status, recording.transcription_error = "pending", None
        status = "updated" if status == "unchanged" else status
    session.add(recording)
    session.flush()
    return StoredRecording(interaction=interaction, recording=recording, status=status, transcription_job_id=None)


def enqueue_transcription(*, session: Session, queue: JobQueue | None, recording: Recording) -> int | None:
    """Queue `speech.transcribe` for a recording when that handler is installed (deduplicated per recording)."""
    from app.speech import service as speech  # one way to queue a transcription, whoever asks

    if queue is None or JobKind.SPEECH_TRANSCRIBE not in registered_kinds() or recording.transcription_status in {
            speech.DONE, speech.QUEUED, speech.RUNNING}:
        return None

    assert recording.id is not None
    return speech.request_transcription(session=session, queue=queue, recording_id=recording.id).id


# ---------------------------------------------------------------- calls from a manifest


def import_calls(*, session: Session, settings: Settings, queue: JobQueue | None, directory: Path,
                 source: str = "import", actor: Actor | None = None,
                 progress: Progress = _no_progress, background: bool = False) -> ImportReport:
    """Import `directory/manifest.csv` (columns external_id, file, started_at, direction, queue, agent,
    customer_phone, customer_name, customer_email, channel_map, transfers) with the audio files it names.
    A bad row is rejected with its line; a manifest that is missing or cannot be read at all (not text, no
    header with those three columns) raises InvalidInput naming manifest.csv."""
    manifest = directory / "manifest.csv"
    report = ImportReport()
    commits = Commits(session, background=background)
    if not manifest.is_file():
        raise InvalidInput(f"manifest.csv not found in {directory}")
    rows = list(CsvFile(decode_text(manifest.read_bytes(), what="manifest.csv"),
                        required=("external_id", "file", "started_at"), what="manifest.csv").rows())
    recordings: list[Recording] = []
    for done, (line, parsed) in enumerate(rows, start=1):
        row: dict[str, str] = parsed if isinstance(parsed, dict) else {}
        try:
            if isinstance(parsed, InvalidInput):
                raise parsed
            metadata = _validate(RecordingMetadata, {
                "external_id": row.get("external_id"), "source": source, "started_at": row.get("started_at"),
                **({"direction": row["direction"]} if row.get("direction") else {}), "agent": row.get("agent") or None,
                "queue": row.get("queue") or None, "channel_map": row.get("channel_map") or "agent,customer",
                "customer": {"name": row.get("customer_name") or None, "phone": row.get("customer_phone") or None,
                             "email": row.get("customer_email") or None},
                "transfers": [t.model_dump() for t in parse_transfers(row.get("transfers"))]})
            audio = directory / (row.get("file") or "")
            if not row.get("file") or not audio.is_file():
                raise InvalidInput(f"audio file {row.get('file')!r} not found")
            with audio.open("rb") as stream:
                result = store_call(session=session, settings=settings, metadata=metadata,
                                          chunks=iter(lambda s=stream: s.read(1 << 20), b""),  # type: ignore[misc]
                                          filename=audio.name, actor=actor)
            report.count(result.status)
            recordings.append(result.recording)
        except InvalidInput as exc:
            report.reject(line, exc.message, row.get("external_id") or None)
        commits.item_done()
        progress(done, len(rows))
    session.commit()
    for recording in recordings:
        enqueue_transcription(session=session, queue=queue, recording=recording)
    return report


def store_call(*, session: Session, settings: Settings, metadata: RecordingMetadata, chunks: Iterable[bytes],
               filename: str, actor: Actor | None) -> StoredRecording:
    """Probe and store one recording with its call (in a SAVEPOINT; no commit). Agents are checked before
    the file is stored; a file that does not probe as audio is removed again."""
    resolver = Resolver(session=session, region=phone_region(settings), actor=actor)
    agent_id = resolver.agent_id(metadata.agent)
    for transfer in metadata.transfers:
        resolver.agent_id(transfer.agent)
    identities = resolver.identities(metadata.customer)
    store = BlobStore(settings.recordings_dir)
    stored = store.put_chunks(chunks, max_bytes=settings.max_upload_bytes)
    try:
        info = probe_audio(stored.path)
        channel_map = channel_map_of(metadata.channel_map, info.channels)
    except InvalidInput:
        if not stored.already_present:
            store.delete(stored.sha256)
        raise
    with session.begin_nested():
        return _save_call(session=session, resolver=resolver, metadata=metadata, agent_id=agent_id,
                          identities=identities, info=info, sha256=stored.sha256, size=stored.size,
                          filename=filename, channel_map=channel_map)


# ---------------------------------------------------------------- chats


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
                 progress: Progress = _no_progress, background: bool = False) -> ImportReport:
    """Chat messages (one per record, DEMO_FORMATS chats.jsonl shape), grouped by conversation_id into one
    interaction each. A conversation moving between agents gets one leg per agent, in order."""
    report = ImportReport()
    commits = Commits(session, background=background)
    conversations: OrderedDict[str, list[tuple[int, ChatLine]]] = OrderedDict()
    for line, raw in records:
        try:
            if isinstance(raw, InvalidInput):
                raise raw
            if not isinstance(raw, dict):
                raise InvalidInput("expected an object")
            chat = _validate(ChatLine, raw)
            conversations.setdefault(chat.conversation_id, []).append((line, chat))
        except InvalidInput as exc:
            report.reject(line, exc.message)
    resolver = Resolver(session=session, region=phone_region(settings), actor=actor)
    for done, (conversation_id, lines) in enumerate(conversations.items(), start=1):
        _import_conversation(session=session, resolver=resolver, report=report, source=source,
                             conversation_id=conversation_id, lines=lines)
        commits.item_done()
        progress(done, len(conversations))
    session.commit()
    return report


def _import_conversation(*, session: Session, resolver: Resolver, report: ImportReport, source: str,
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
            ended_at=_latest([m.sent_at for _, m in ordered], existing), customer_id=customer_id,
            agent_id=legs[-1].agent_id if legs else None, queue=queue, legs=legs if len(legs) > 1 else [],
            messages=[m for _, m in ordered]))[1]

    _write(session, report, [line for line, _ in messages], conversation_id, write)


# ---------------------------------------------------------------- e-mails


def import_emails(*, session: Session, sources: Iterable[tuple[str, bytes]], source: str = "import",
                  actor: Actor | None = None, settings: Settings | None = None,
                  progress: Progress = _no_progress, background: bool = False) -> ImportReport:
    """E-mails threaded into one interaction per thread (Message-ID / In-Reply-To / References, also across
    imports). The thread's external id is the Message-ID of its earliest message. Rejections name the file
    (and the message number inside an mbox); `line` counts messages in this import."""
    report = ImportReport()
    commits = Commits(session, background=background)
    parsed: list[tuple[int, ParsedEmail]] = []
    for number, (label, raw) in enumerate(sources, start=1):
        try:
            parsed.append((number, parse_email(raw)))
        except InvalidInput as exc:
            report.reject(number, exc.message, label)
        except Exception as exc:  # a malformed message must not stop the import
            report.reject(number, f"unreadable message: {type(exc).__name__}", label)
    by_id = {email.message_id: email for _, email in parsed}
    parent: dict[str, str] = {mid: mid for mid in by_id}

    def find(mid: str) -> str:
        while parent[mid] != mid:
            parent[mid] = parent[parent[mid]]
            mid = parent[mid]
        return mid

    for email in by_id.values():
        for related in email.related_ids:
            if related in by_id:
                parent[find(related)] = find(email.message_id)
    threads: OrderedDict[str, list[tuple[int, ParsedEmail]]] = OrderedDict()
    for number, email in sorted(parsed, key=lambda p: (p[1].sent_at, p[0])):
        threads.setdefault(find(email.message_id), []).append((number, email))
    resolver = Resolver(session=session, region=phone_region(settings), actor=actor)
    for done, members in enumerate(threads.values(), start=1):
        _import_thread(session=session, resolver=resolver, report=report, source=source, members=members)
        commits.item_done()
        progress(done, len(threads))
    session.commit()
    return report


def _existing_email_thread(session: Session, source: str, emails: list[ParsedEmail]) -> Interaction | None:
    ids = {e.message_id for e in emails} | {r for e in emails for r in e.related_ids}
    query = (select(Interaction).join(Message, col(Message.interaction_id) == col(Interaction.id))
             .where(Interaction.source == source, Interaction.channel == "email",
                    (col(Message.external_id).in_(ids)) | (col(Message.parent_external_id).in_(ids)))
             .order_by(col(Interaction.id)))
    return session.exec(query).first()


def _import_thread(*, session: Session, resolver: Resolver, report: ImportReport, source: str,
                   members: list[tuple[int, ParsedEmail]]) -> None:
    emails = [e for _, e in members]
    messages: list[MessageData] = []
    identities: list[Identity] = []
    customer_name: str | None = None
    agent_id: int | None = None
    for email in emails:
        author_agent = resolver.agent_by_email(email.from_address)
        if author_agent is not None:
            agent_id = author_agent
            customers = [a for a in email.to_addresses if resolver.agent_by_email(a) is None]
        else:
            customers = [email.from_address]
            customer_name = customer_name or email.from_name or local_part(email.from_address)
        for address in customers:
            try:
                identities.append(interactions.normalise_identity("email", address))
            except InvalidInput:
                continue
        messages.append(MessageData(
            external_id=email.message_id, author_role="agent" if author_agent else "customer",
            sent_at=email.sent_at, text=email.text, author_name=email.from_name, author_handle=email.from_address,
            agent_id=author_agent, subject=email.subject or None, parent_external_id=email.in_reply_to,
            attachments=email.attachments,
            extra={"from": email.from_address, "to": email.to_addresses, "references": email.references}))
    first = emails[0]

    def write() -> UpsertStatus:
        existing = _existing_email_thread(session, source, emails)
        customer_id = resolver.customer_id(list(dict.fromkeys(identities)), customer_name)
        if existing is None:
            data = InteractionData(
                source=source, external_id=first.message_id, channel="email", started_at=first.sent_at,
                direction="outbound" if messages[0].author_role == "agent" else "inbound",
                ended_at=max(e.sent_at for e in emails), customer_id=customer_id, agent_id=agent_id,
                subject=first.subject or None, messages=messages)
        else:
            ended = _latest([e.sent_at for e in emails], existing)
            data = InteractionData(
                source=source, external_id=existing.external_id, channel="email", direction=existing.direction,
                started_at=min(as_utc(existing.started_at), first.sent_at), ended_at=ended,
                customer_id=customer_id or existing.customer_id, agent_id=agent_id or existing.agent_id,
                subject=existing.subject or first.subject or None, queue=existing.queue,
                platform=existing.platform, extra=existing.extra, messages=messages)
        return interactions.upsert_interaction(session=session, data=data)[1]

    _write(session, report, [number for number, _ in members], first.message_id, write)


# ---------------------------------------------------------------- social


def read_social(path: Path) -> list[tuple[int, Any]]:
    """The `posts` of a social.json file as (item number, post). Raises InvalidInput naming the line of the
    first problem when the file is not JSON."""
    return social_records(json_document(path.read_bytes(), what=path.name))


def social_records(document: Any) -> list[tuple[int, Any]]:
    posts = document.get("posts") if isinstance(document, dict) else document
    if not isinstance(posts, list):
        raise InvalidInput('expected {"posts": [...]} or a list of posts')
    return list(enumerate(posts, start=1))


def import_social(*, session: Session, records: Iterable[tuple[int, Any]], source: str = "import",
                  actor: Actor | None = None, settings: Settings | None = None,
                  progress: Progress = _no_progress, background: bool = False) -> ImportReport:
    """Posts, comments and replies; a thread (root post and its descendants) is one interaction whose
    external id is the root post's id (the platform is kept in `platform`). Replies to a post imported
    earlier join that thread."""
    report = ImportReport()
    commits = Commits(session, background=background)
    posts: dict[tuple[str, str], tuple[int, SocialPost]] = {}
    for number, raw in records:
        try:
            post = _validate(SocialPost, raw)
            posts[(post.platform.lower(), post.post_id)] = (number, post)
        except InvalidInput as exc:
            report.reject(number, exc.message)
    threads: OrderedDict[tuple[str, str], list[tuple[int, SocialPost]]] = OrderedDict()
    for (platform, _), (number, post) in sorted(posts.items(), key=lambda kv: (kv[1][1].created_at, kv[1][0])):
        threads.setdefault(_social_thread_key(session, source, platform, post, posts), []).append((number, post))
    resolver = Resolver(session=session, region=phone_region(settings), actor=actor)
    for done, (key, members) in enumerate(threads.items(), start=1):
        _import_social_thread(session=session, resolver=resolver, report=report, source=source, key=key,
                              members=members)
        _refresh_care_state(session=session, source=source, external_id=key[1])
        commits.item_done()
        progress(done, len(threads))
    session.commit()
    return report


def _refresh_care_state(*, session: Session, source: str, external_id: str) -> None:
    """Social care's clocks and flags follow every message written to a thread (social handles the hook)."""
    thread = interactions.get_by_external_id(session=session, source=source, external_id=external_id)
    if thread is not None and thread.id is not None:
        SOCIAL_THREAD_WRITTEN.emit(SocialThreadWritten(session=session, interaction_id=thread.id))


def _social_thread_key(session: Session, source: str, platform: str, post: SocialPost,
                       posts: dict[tuple[str, str], tuple[int, SocialPost]]) -> tuple[str, str]:
    """(platform, external id of the thread): the root post's id, found in this import or an earlier one."""
    seen = set()
    current = post
    while current.parent_id and current.parent_id not in seen:
        seen.add(current.post_id)
        parent = posts.get((platform, current.parent_id))
        if parent is None:
            existing = session.exec(
                select(Interaction.external_id).join(Message, col(Message.interaction_id) == col(Interaction.id))
                .where(Interaction.source == source, Interaction.channel == "social",
                       Interaction.platform == platform, Message.external_id == current.parent_id)).first()
            if existing:
                return platform, existing
            break
        current = parent[1]
    return platform, current.post_id


def _import_social_thread(*, session: Session, resolver: Resolver, report: ImportReport, source: str,
                          key: tuple[str, str], members: list[tuple[int, SocialPost]]) -> None:
    platform, external_id = key
    messages: list[tuple[int, MessageData]] = []
    customer: SocialPost | None = None
    agent_id: int | None = None
    for number, post in members:
        try:
            author_agent = resolver.agent_id(post.agent) if post.author_role == "agent" else None
            handle = interactions.normalise_handle(post.author_handle)
        except InvalidInput as exc:
            report.reject(number, exc.message, external_id)
            continue
        if post.author_role == "customer":
            customer = customer or post
        else:
            agent_id = author_agent
        messages.append((number, MessageData(
            external_id=post.post_id, author_role=post.author_role, sent_at=post.created_at, text=post.text,
            author_name=post.display_name, author_handle=handle, agent_id=author_agent, is_public=post.is_public,
            parent_external_id=post.parent_id,
            extra={"follower_count": post.follower_count, "url": post.url, "platform": platform,
                   **(post.engagement or {})})))
    if not messages:
        return
    root = messages[0][1]

    def write() -> UpsertStatus:
        existing = interactions.get_by_external_id(session=session, source=source, external_id=external_id)
        customer_id = None
        if customer is not None:
            customer_id = resolver.customer_id(
                [interactions.normalise_identity("social", customer.author_handle, platform)], customer.display_name)
        started = root.sent_at if existing is None else min(as_utc(existing.started_at), root.sent_at)
        extra: dict[str, Any] = {}
        if existing is None or external_id == root.external_id:
            extra = {"url": root.extra.get("url"), "follower_count": root.extra.get("follower_count"),
                     "is_public": root.is_public, "root_post_id": external_id}
        # what this file does not say (no customer post, no agent reply, no url) keeps the stored value
        return interactions.upsert_interaction(session=session, data=InteractionData(
            source=source, external_id=external_id, channel="social", platform=platform, started_at=started,
            ended_at=_latest([m.sent_at for _, m in messages], existing), customer_id=customer_id,
            agent_id=agent_id, extra=extra, messages=[m for _, m in messages]))[1]

    _write(session, report, [n for n, _ in messages], external_id, write)


# ---------------------------------------------------------------- webhook


def ingest_webhook(*, session: Session, data: WebhookInteraction, actor: Actor | None,
                   settings: Settings | None = None) -> tuple[Interaction, UpsertStatus]:
    """One pushed interaction; a replayed delivery (same source + external_id, same content) changes nothing.
    A field the delivery does not carry (absent from the JSON) leaves the stored value as it is: a later
    delivery with only new messages blanks neither the agent, the queue, the transfers nor the details. A
    field sent as null (transfers as []) clears it (the import rule of app/core/merge.py).
    Raises InvalidInput for unknown agents or malformed identities. Commits."""
    resolver = Resolver(session=session, region=phone_region(settings), actor=actor)
    existing = interactions.get_by_external_id(session=session, source=data.source, external_id=data.external_id)
    sent = data.model_fields_set
    legs = _legs(resolver, first_agent=data.agent, first_queue=data.queue, started_at=data.started_at,
                 transfers=data.transfers, duration=data.duration_seconds)
    messages = [MessageData(
        external_id=m.external_id, author_role=m.author_role, sent_at=m.sent_at, text=m.text,
        author_name=m.author_name, author_handle=m.author_handle, agent_id=resolver.agent_id(m.agent),
        subject=m.subject, is_public=m.is_public, parent_external_id=m.parent_external_id,
        attachments=m.attachments, extra=m.extra) for m in data.messages]
    identities = resolver.identities(data.customer)
    customer_id = resolver.customer_id(identities, data.customer.name)
    clear: set[str] = {name for name in ("ended_at", "duration_seconds", "queue", "subject", "platform", "extra")
                       if name in sent and getattr(data, name) is None}
    if "agent" in sent and data.agent is None:
        clear.add("agent_id")
    if "transfers" in sent and not legs:
        clear.add("legs")
    interaction, status = interactions.upsert_interaction(session=session, data=InteractionData(
        source=data.source, external_id=data.external_id, channel=data.channel, started_at=data.started_at,
        # the direction has a default: only a delivery that names it changes the stored one
        direction=data.direction if existing is None or "direction" in sent else existing.direction,
        ended_at=data.ended_at, duration_seconds=data.duration_seconds, queue=data.queue, subject=data.subject,
        platform=data.platform, extra=data.extra, customer_id=customer_id,
        agent_id=legs[-1].agent_id if legs else resolver.agent_id(data.agent), legs=legs, messages=messages,
        clear=frozenset(clear)))
    session.commit()
    return interaction, status


# ---------------------------------------------------------------- files uploaded through the web

IMPORT_KINDS = ("chats", "emails", "social")


def import_file(*, session: Session, settings: Settings, kind: str, path: Path, filename: str,
                source: str = "import", actor: Actor | None = None,
                progress: Progress = _no_progress, background: bool = False) -> ImportReport:
    """Import an uploaded file of one kind: chats (.jsonl or .csv), emails (.eml or .mbox), social (.json).
    `background` (the import job): commit in short chunks with pauses (see Commits)."""
    suffix = Path(filename).suffix.lower()
    with path.open("rb") as handle:
        refuse_binary(handle.read(16), what=filename or "the file", expected=f"a {kind} file")
    if kind == "chats":
        records = chat_records(path.read_bytes(), csv_format=suffix == ".csv", what=filename or "the file")
        return import_chats(session=session, records=records, source=source, actor=actor, settings=settings,
                            progress=progress, background=background)
    if kind == "emails":
        if suffix == ".mbox" or (suffix != ".eml" and looks_like_mbox(path)):
            sources: Iterable[tuple[str, bytes]] = mbox_messages(path, filename)
        else:
            sources = [(filename, path.read_bytes())]
        return import_emails(session=session, sources=sources, source=source, actor=actor, settings=settings,
                             progress=progress, background=background)
    if kind == "social":
        posts = social_records(json_document(path.read_bytes(), what=filename or "the file"))
        return import_social(session=session, records=posts, source=source, actor=actor, settings=settings,
                             progress=progress, background=background)
    raise InvalidInput(f"unknown import kind {kind!r}; one of {', '.join(IMPORT_KINDS)}")
