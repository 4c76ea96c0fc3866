"""Call recordings into Earshot: one uploaded recording (ingest_recording), a directory with manifest.csv
(import_calls), the probe-then-store step both share (store_call), and the transcription request that
follows a stored recording."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app.core.audit import Actor
from app.core.db import written_once
from app.core.errors import InvalidInput
from app.core.inputs import CsvFile, decode_text
from app.core.jobs import JobKind, JobQueue, registered_kinds
from app.core.settings import Settings
from app.core.storage import BlobStore
from app.ingest import writing
from app.ingest.audio import AudioInfo, probe_audio
from app.ingest.models import ImportReport, RecordingMetadata, TransferIn
from app.interactions import service as interactions
from app.interactions.customers import Identity
from app.interactions.models import Interaction, Recording
from app.interactions.service import InteractionData, UpsertStatus


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


def _save_call(*, session: Session, resolver: writing.Resolver, metadata: RecordingMetadata, agent_id: int | None,
               identities: list[Identity], info: AudioInfo, sha256: str, size: int, filename: str,
               channel_map: dict[str, str]) -> StoredRecording:
    customer_id = resolver.customer_id(identities, metadata.customer.name)
    legs = writing.transfer_legs(resolver, first_agent=metadata.agent, first_queue=metadata.queue,
                                 started_at=metadata.started_at, transfers=metadata.transfers,
                                 duration=info.duration_seconds)
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
                 progress: writing.Progress = writing.no_progress, background: bool = False) -> ImportReport:
    """Import `directory/manifest.csv` (columns external_id, file, started_at, direction, queue, agent,
    customer_phone, customer_name, customer_email, channel_map, transfers) with the audio files it names.
    A bad row is rejected with its line; a manifest that is missing or cannot be read at all (not text, no
    header with those three columns) raises InvalidInput naming manifest.csv."""
    manifest = directory / "manifest.csv"
    report = ImportReport()
    commits = writing.Commits(session, background=background)
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
            metadata = writing.validate_record(RecordingMetadata, {
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
    resolver = writing.Resolver(session=session, region=writing.phone_region(settings), actor=actor)
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
    # the same call or a new customer committed meanwhile by another upload: written again, merged into it
    return written_once(session, lambda: _save_call(
        session=session, resolver=resolver, metadata=metadata, agent_id=agent_id, identities=identities, info=info,
        sha256=stored.sha256, size=stored.size, filename=filename, channel_map=channel_map))
