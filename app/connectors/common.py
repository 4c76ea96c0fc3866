"""What every inbound connector shares: a vendor record converted to one call (`CallRecord`) or one
pushed interaction (`WebhookInteraction`), then written through app.ingest's public functions so every
re-import is idempotent by (source, external id) and bad records are reported by number with a reason."""

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from app.auth.models import User
from app.core.audit import Actor
from app.core.errors import EarshotError, InvalidInput
from app.core.inputs import decode_text, json_document, json_lines
from app.core.jobs import JobQueue
from app.core.merge import merge_fields
from app.core.settings import Settings
from app.ingest import service as ingest
from app.ingest.calls import ingest_recording
from app.ingest.models import CustomerIn, ImportReport, RecordingMetadata, TransferIn, WebhookInteraction
from app.ingest.writing import phone_region
from app.interactions import customers
from app.interactions import service as interactions

AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".opus", ".flac", ".m4a")
Records = Iterable[tuple[int, Any]]


@dataclass
class CallRecord:
    """One call as a phone system describes it, in Earshot's words."""

    external_id: str
    started_at: datetime
    direction: str = "inbound"
    duration_seconds: float | None = None
    agent: str | None = None  # a username candidate (extension, SIP peer, Connect username)
    queue: str | None = None
    customer_phone: str | None = None
    audio: Path | None = None
    channel_map: str = "agent,customer"
    transfers: list[TransferIn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    item: str | None = None  # file the record came from, for the report


def parse_time(value: Any, *, what: str, zone: str = "UTC") -> datetime:
    """ISO 8601, RFC 2822 (Twilio), epoch seconds or 'YYYY-MM-DD HH:MM:SS' (read in `zone` when it has no
    offset). Raises InvalidInput naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"{what} is missing")
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d{9,}(\.\d+)?", value)):
            number = float(value)
            return datetime.fromtimestamp(number / 1_000_000 if number > 1e14 else number, UTC)
        text = str(value).strip()
        if re.match(r"^[A-Z][a-z]{2}, ", text):
            parsed = parsedate_to_datetime(text)
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInput(f"{what}: not a date and time: {value!r}") from exc
    if parsed.tzinfo is None:
        try:
            parsed = parsed.replace(tzinfo=ZoneInfo(zone))
        except ZoneInfoNotFoundError as exc:
            raise InvalidInput(f"unknown time zone {zone!r}") from exc
    return parsed.astimezone(UTC)


def parse_seconds(value: Any, *, what: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what}: not a number of seconds: {value!r}") from exc
    if seconds < 0:
        raise InvalidInput(f"{what}: negative")
    return seconds


def known_agent(session: Session, candidate: str | None) -> str | None:
    """The candidate when an Earshot user has that username (extensions and peers that are not users are
    kept in `extra`, not rejected: a phone system knows more endpoints than Earshot has agents)."""
    if not candidate:
        return None
    key = candidate.strip().lower()
    return key if session.exec(select(User.id).where(User.username == key)).first() is not None else None


def usable_phone(value: str | None, *, settings: Settings | None) -> str | None:
    """The number when it is a possible phone number; internal extensions and 'anonymous' are not."""
    if not value:
        return None
    try:
        customers.normalise_phone(value, region=phone_region(settings))
    except InvalidInput:
        return None
    return value


def import_call_records(*, session: Session, settings: Settings, queue: JobQueue | None, source: str,
                        records: Iterable[tuple[int, CallRecord | InvalidInput]],
                        actor: Actor | None = None) -> ImportReport:
    """Write calls: with audio through `ingest_recording` (stored once by content hash, transcription queued
    when `queue` is given), without audio through `ingest_webhook`. Idempotent by (source, external id);
    a bad record is reported with its number and reason and the others are kept."""
    report = ImportReport()
    for number, record in records:
        if isinstance(record, InvalidInput):
            report.reject(number, record.message)
            continue
        try:
            status = _import_call(session=session, settings=settings, queue=queue, source=source, record=record,
                                  actor=actor)
            report.count(status)
        except EarshotError as exc:
            session.rollback()
            report.reject(number, exc.message, record.item or record.external_id)
    return report


def _import_call(*, session: Session, settings: Settings, queue: JobQueue | None, source: str,
                 record: CallRecord, actor: Actor | None) -> str:
    agent = known_agent(session, record.agent)
    if record.agent and agent is None:
        record.extra.setdefault("agent_endpoint", record.agent)
    transfers = [TransferIn(agent=known_agent(session, t.agent), queue=t.queue, offset_seconds=t.offset_seconds)
                 for t in record.transfers]
    phone = usable_phone(record.customer_phone, settings=settings)
    if record.customer_phone and phone is None:
        record.extra.setdefault("caller", record.customer_phone)
    customer = CustomerIn(phone=phone)
    if record.audio is not None and record.audio.is_file():
        metadata = RecordingMetadata(external_id=record.external_id, source=source, started_at=record.started_at,
                                     direction=record.direction, agent=agent, queue=record.queue,
                                     customer=customer, channel_map=record.channel_map, transfers=transfers)
        before = _fingerprint(session, source, record.external_id)
        with record.audio.open("rb") as stream:
            stored = ingest_recording(session=session, settings=settings, queue=queue,
                                      chunks=iter(lambda: stream.read(1 << 20), b""),
                                      filename=record.audio.name, metadata=metadata, actor=actor)
        # RecordingMetadata has no `extra` (ingest_recording stores {}): put the vendor's fields back on the
        # interaction, and call the import "unchanged" when nothing but that round trip happened
        merge_fields(stored.interaction, {"extra": record.extra})
        session.add(stored.interaction)
        session.commit()
        if before is not None and before == _fingerprint(session, source, record.external_id):
            return "unchanged"
        return "created" if before is None else "updated"
    if record.audio is not None:
        record.extra["recording_missing"] = str(record.audio.name)
    ended = None
    if record.duration_seconds is not None:
        ended = record.started_at + timedelta(seconds=record.duration_seconds)
    # only what the record carries: a column the export lacks keeps the stored value (app/core/merge.py)
    carried = {"ended_at": ended, "duration_seconds": record.duration_seconds, "agent": agent,
               "queue": record.queue, "transfers": transfers or None}
    data = WebhookInteraction(source=source, external_id=record.external_id, channel="call",
                              direction=record.direction, started_at=record.started_at, customer=customer,
                              extra=record.extra, **{k: v for k, v in carried.items() if v is not None})
    return ingest.ingest_webhook(session=session, data=data, actor=actor, settings=settings)[1]


def _fingerprint(session: Session, source: str, external_id: str) -> tuple[Any, ...] | None:
    """What a call import can change, to tell "unchanged" apart after the extra round trip."""
    interaction = interactions.get_by_external_id(session=session, source=source, external_id=external_id)
    if interaction is None or interaction.id is None:
        return None
    recording = interactions.interaction_recording(session=session, interaction_id=interaction.id)
    fields = ("channel", "direction", "started_at", "ended_at", "duration_seconds", "customer_id", "agent_id",
              "queue")
    return (*(str(getattr(interaction, name)) for name in fields), json.dumps(interaction.extra, sort_keys=True,
                                                                              default=str),
            recording.sha256 if recording else None, json.dumps(recording.channel_map if recording else None))


def import_interactions(*, session: Session, settings: Settings | None, source: str,
                        records: Iterable[tuple[int, WebhookInteraction | InvalidInput]],
                        actor: Actor | None = None) -> ImportReport:
    """Write chats, tickets and conversations converted to `WebhookInteraction` (one per record)."""
    report = ImportReport()
    for number, record in records:
        if isinstance(record, InvalidInput):
            report.reject(number, record.message)
            continue
        record.source = source
        try:
            report.count(ingest.ingest_webhook(session=session, data=record, actor=actor, settings=settings)[1])
        except EarshotError as exc:
            session.rollback()
            report.reject(number, exc.message, record.external_id)
    return report


def validated(model: type[Any], raw: Any) -> Any:
    """model.model_validate with the reason as InvalidInput (field path: message)."""
    from pydantic import ValidationError

    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput("; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}"
                                     for e in exc.errors())) from exc


def json_items(path: Path, *, keys: tuple[str, ...] = ()) -> Iterator[tuple[int, Any]]:
    """Items of a JSON array, of a JSON object's list under one of `keys`, or of a JSON-lines file,
    numbered from 1 (JSON lines: by line). A line that is not JSON is yielded as InvalidInput."""
    text = decode_text(path.read_bytes(), what=path.name)
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and "\n{" not in stripped.rstrip()):
        try:
            document = json_document(path.read_bytes(), what=path.name)
        except InvalidInput as exc:
            yield (exc.details[0].get("line") if exc.details else None) or 1, exc
            return
        if isinstance(document, dict):
            found = next((document[k] for k in keys if isinstance(document.get(k), list)), None)
            document = found if found is not None else [document]
        if not isinstance(document, list):
            yield 1, InvalidInput(f"expected a JSON list or object, found {type(document).__name__}")
            return
        yield from enumerate(document, start=1)
        return
    yield from json_lines(text)


def audio_files(directory: Path | None) -> list[Path]:
    """Every audio file under `directory` (recursively), sorted; none when no directory is given."""
    if directory is None:
        return []
    return sorted(p for p in directory.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def find_audio(files: list[Path], token: str) -> Path | None:
    """The audio file whose name contains `token` as a whole word (a uniqueid, a uuid, a sid):
    '1700000000.12' does not match '1700000000.123-in.wav'."""
    if not token:
        return None
    pattern = re.compile(rf"(?<![\w.]){re.escape(token)}(?![\w]|\.\d)")
    return next((p for p in files if pattern.search(p.name)), None)
