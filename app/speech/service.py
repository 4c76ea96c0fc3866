"""Speech business rules: queueing transcriptions, storing a transcript atomically, reading it back with
the scope and redaction rules."""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.core import audit
from app.core.errors import Conflict, NotFound
from app.core.jobs import JobKind, JobQueue
from app.core.models import Job, JobStatus
from app.core.security import Principal, Role
from app.core.settings import Settings
from app.core.storage import BlobStore
from app.interactions import content, recordings
from app.interactions import service as interactions
from app.interactions.models import Interaction, Recording, Segment
from app.speech.models import CallMetrics, CallMetricsPublic, CallTranscript
from app.speech.pipeline import (
    SEPARATION_CHANNELS,
    SEPARATION_ESTIMATED,
    SEPARATION_NONE,
    Transcript,
    redacted_words,
)

log = logging.getLogger("earshot.speech")

JOB_KIND = JobKind.SPEECH_TRANSCRIBE
REQUEST_ROLES = (Role.ADMIN, Role.EVALUATOR)
ACTIVE_JOB_STATES = JobStatus.active()
PENDING, QUEUED, RUNNING, DONE, FAILED = "pending", "queued", "running", "done", "failed"


def _dedupe_prefix(recording_id: int) -> str:
    return f"{JOB_KIND}:{recording_id}:"


def request_transcription(*, session: Session, queue: JobQueue, recording_id: int,
                          actor: Principal | None = None) -> Job:
    """Queue a (re-)transcription of a recording; returns the job.

    While a transcription of this recording is queued or running, that job is returned instead of a new one
    (a double click never runs two). Raises NotFound, and Conflict when the audio was deleted.
    """
    recording = recordings.get_recording(session=session, recording_id=recording_id)
    if recording.audio_deleted_at is not None:
        raise Conflict(f"recording {recording_id} has no audio any more (deleted by retention)")
    previous = session.exec(select(Job).where(col(Job.dedupe_key).startswith(_dedupe_prefix(recording_id)))
                            .order_by(col(Job.id).desc())).all()
    for job in previous:
        if job.status in ACTIVE_JOB_STATES:
            return job
    recording.transcription_status = QUEUED
    recording.transcription_error = None
    session.add(recording)
    audit.record(session=session, actor=actor, action="recording.transcribe", record_type="recording",
                 record_id=recording_id, after={"attempt": len(previous) + 1})
    job = queue.enqueue(session=session, kind=JOB_KIND, payload={"recording_id": recording_id},
                        dedupe_key=f"{_dedupe_prefix(recording_id)}{len(previous) + 1}",
                        created_by=actor.user_id if actor else None)
    # enqueue() reads the job back after its commit; end that read so an inline (immediate-mode) run's
    # writes are never nested in a transaction the caller might roll back, then show the current state
    session.commit()
    session.refresh(job)
    return job


def pending_recording_ids(*, session: Session) -> list[int]:
    rows = session.exec(select(Recording.id).where(Recording.transcription_status == PENDING,
                                                   col(Recording.audio_deleted_at).is_(None))
                        .order_by(col(Recording.id))).all()
    return [r for r in rows if r is not None]


def recording_ids_transcribed_by_another_model(*, session: Session, model: str, source: str) -> list[int]:
    """Recordings of interactions from `source` whose stored transcript was made by a model other than `model`
    (and whose audio is still there)."""
    rows = session.exec(select(Recording.id).join(CallTranscript, col(CallTranscript.recording_id) == Recording.id)
                        .join(Interaction, col(Interaction.id) == Recording.interaction_id)
                        .where(Interaction.source == source, CallTranscript.model != model,
                               col(Recording.audio_deleted_at).is_(None))
                        .order_by(col(Recording.id))).all()
    return [r for r in rows if r is not None]


def set_status(*, session: Session, recording_id: int, status: str, error: str | None = None) -> None:
    recording = session.get(Recording, recording_id)
    if recording is not None:
        recording.transcription_status = status
        recording.transcription_error = error[:2000] if error else None
        session.add(recording)


def save_transcript(*, session: Session, recording: Recording, transcript: Transcript, model: str,
                    language: str | None, redacted_audio_sha256: str | None = None) -> int:
    """Replace the call's segments, transcript info and metrics with `transcript`, in the session's
    transaction (the caller commits): a re-run replaces, never duplicates. Returns the number of segments."""
    interaction_id = recording.interaction_id
    assert recording.id is not None
    for table in (Segment, CallMetrics, CallTranscript):
        session.execute(delete(table).where(col(table.interaction_id) == interaction_id))
    for line in transcript.lines:
        session.add(Segment(interaction_id=interaction_id, seq=line.seq, speaker=line.speaker, channel=line.channel,
                            start=line.start, end=line.end, text=line.text, redacted_text=line.redacted_text,
                            words=line.words, confidence=line.confidence))
    session.add(CallTranscript(
        interaction_id=interaction_id, recording_id=recording.id, model=model, language=language,
        speaker_separation=transcript.speaker_separation, audio_seconds=round(transcript.audio_seconds, 3),
        processing_seconds=round(transcript.processing_seconds, 3), word_count=len(transcript.words),
        redaction_ranges=transcript.redaction_ranges, redacted_audio_sha256=redacted_audio_sha256))
    session.add(CallMetrics(interaction_id=interaction_id, **transcript.metrics.as_dict()))
    recording.transcription_status = DONE
    recording.transcription_error = None
    session.add(recording)
    return len(transcript.lines)


def reindex(*, session: Session, interaction_id: int) -> None:
    """Refresh the interaction's search text (redacted lines only) after a transcript was stored."""
    try:
        interactions.reindex_interaction(session=session, interaction_id=interaction_id)
        session.commit()
    except Exception:  # the transcript is stored; a failed index refresh must not fail the job
        session.rollback()
        log.exception("re-indexing interaction %s after transcription failed", interaction_id)


@dataclass(frozen=True)
class TranscriptView:
    interaction: Interaction
    recording: Recording | None
    info: CallTranscript | None
    segments: list[Segment]
    metrics: CallMetrics | None
    original: bool

    @property
    def gate(self) -> content.ContentGate:
        return content.ContentGate(original=self.original)


def may_see_unredacted(principal: Principal, settings: Settings) -> bool:
    """Whether this principal's roles are among the configured `unredacted_roles` (the content gate's rule)."""
    return content.may_see_original(principal, settings)


def require_unredacted(*, session: Session, principal: Principal, settings: Settings, action: str,
                       record_type: str, record_id: int, audit_access: bool = True) -> None:
    """The content gate's check for the original audio: Forbidden unless allowed; audited (see
    app/interactions/content.py)."""
    content.require_original(session=session, principal=principal, settings=settings, action=action,
                             record_type=record_type, record_id=record_id, audit_access=audit_access)


def get_transcript(*, session: Session, principal: Principal, interaction_id: int,
                   original: bool = False, settings: Settings | None = None) -> TranscriptView:
    """The call's transcript for this principal. Raises NotFound when the interaction does not exist or is
    outside the principal's scope, Forbidden when `original` is asked without a role listed in
    `unredacted_roles`. Reading the original is audited (`transcript.view_original`)."""
    interaction = interactions.get_interaction(session=session, interaction_id=interaction_id, principal=principal)
    if original:
        require_unredacted(session=session, principal=principal, settings=settings or Settings(),
                           action="transcript.view_original", record_type="interaction", record_id=interaction_id)
    recording = session.exec(select(Recording).where(Recording.interaction_id == interaction_id)).first()
    segments = list(session.exec(select(Segment).where(Segment.interaction_id == interaction_id)
                                 .order_by(col(Segment.seq))).all())
    info = session.exec(select(CallTranscript).where(CallTranscript.interaction_id == interaction_id)).first()
    metrics = session.exec(select(CallMetrics).where(CallMetrics.interaction_id == interaction_id)).first()
    return TranscriptView(interaction=interaction, recording=recording, info=info, segments=segments,
                          metrics=metrics, original=original)


def player_audio(*, session: Session, principal: Principal, interaction_id: int, settings: Settings,
                 first_request: bool = True) -> tuple[Path, str, bool]:
    """What the call's player may play for this principal: (path, media type, redacted?).

    The redacted copy when the transcription found personal data; the original when it found none (nothing to
    hide). Before transcription nobody knows what the audio holds, so only `unredacted_roles` may play it (and
    that is audited); others get Conflict until it is transcribed."""
    view = get_transcript(session=session, principal=principal, interaction_id=interaction_id)
    if view.recording is None:
        raise NotFound(f"interaction {interaction_id} has no recording")
    if view.info is not None and view.info.redacted_audio_sha256:
        path = BlobStore(settings.recordings_dir).path_for(view.info.redacted_audio_sha256)
        if not path.exists():
            raise NotFound("the redacted audio of this call is no longer stored")
        return path, "audio/wav", True
    if view.info is None:
        if not may_see_unredacted(principal, settings):
            raise Conflict("This call is not transcribed yet, so personal data in its audio has not been found and "
                           "beeped; it can be played once transcription finishes.")
        require_unredacted(session=session, principal=principal, settings=settings, action="recording.play_original",
                           record_type="recording", record_id=view.recording.id or 0, audit_access=first_request)
    return (recordings.recording_path(settings=settings, recording=view.recording),
            recordings.recording_media_type(view.recording), False)


def redacted_audio_path(*, session: Session, principal: Principal, interaction_id: int,
                        settings: Settings) -> Path:
    """Where the call's redacted audio copy is. Raises NotFound when the call is out of scope or has none."""
    view = get_transcript(session=session, principal=principal, interaction_id=interaction_id)
    sha = view.info.redacted_audio_sha256 if view.info else None
    path = BlobStore(settings.recordings_dir).path_for(sha) if sha else None
    if path is None or not path.exists():
        raise NotFound(f"interaction {interaction_id} has no redacted audio copy")
    return path


SPEAKER_NOTES = {
    SEPARATION_ESTIMATED: "Mono recording: agent and customer were estimated from voice differences and may be "
                          "wrong on some lines.",
    SEPARATION_NONE: "Mono recording: speakers not separated (one channel holds both parties), so every line's "
                     "speaker is 'unknown'. Record calls in stereo, one party per channel, to tell them apart.",
}


def speaker_note(info: CallTranscript | None) -> str | None:
    """What the page says about whose words a line is, when that is not known for sure (mono calls)."""
    if info is None or info.speaker_separation == SEPARATION_CHANNELS:
        return None
    return SPEAKER_NOTES.get(info.speaker_separation)


def transcript_as_json(view: TranscriptView) -> dict[str, Any]:
    """The API shape of a transcript: redacted lines unless the view is the original."""
    recording, info = view.recording, view.info
    separated = info is not None and info.speaker_separation == SEPARATION_CHANNELS
    return {
        "interaction_id": view.interaction.id,
        "view": "original" if view.original else "redacted",
        "status": recording.transcription_status if recording else None,
        "error": recording.transcription_error if recording else None,
        "model": info.model if info else None,
        "speaker_separation": info.speaker_separation if info else None,
        "speakers_certain": separated,
        "language": info.language if info else None,
        "speaker_note": speaker_note(info),
        "segments": [
            {"seq": s.seq, "speaker": s.speaker, "channel": s.channel, "start": s.start, "end": s.end,
             "text": view.gate.segment_text(s),
             "words": s.words if view.original else redacted_words(s.words), "confidence": s.confidence}
            for s in view.segments
        ],
        "redaction_ranges": info.redaction_ranges if info else [],
        "redacted_audio": bool(info and info.redacted_audio_sha256),
        "metrics": CallMetricsPublic.model_validate(view.metrics, from_attributes=True).model_dump()
        if view.metrics else None,
        "metric_spans": view.metrics.intervals if view.metrics else None,  # what the page's timeline draws
    }
