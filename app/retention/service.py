"""Retention: delete call audio after N days and keep only redacted transcripts and messages after M days,
per channel (settings.retention). Evaluations, scores and the redacted text are always kept.

Audio files are content-addressed and may be shared by several recordings (the same file uploaded twice),
so a file is removed only when no recording still inside its retention period uses it. Original text is
only dropped where a redacted version exists; anything not yet redacted is kept and reported.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, col, select

from app.auth import forms
from app.core import audit
from app.core.settings import Settings
from app.core.storage import BlobStore
from app.core.timeutil import utcnow
from app.interactions.models import Interaction, Message, Recording, Segment


@dataclass
class RetentionReport:
    audio_deleted: int = 0
    transcripts_purged: int = 0
    messages_purged: int = 0
    skipped_not_redacted: list[int] = field(default_factory=list)
    form_tokens_purged: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"audio_deleted": self.audio_deleted, "transcripts_purged": self.transcripts_purged,
                "messages_purged": self.messages_purged, "skipped_not_redacted": self.skipped_not_redacted,
                "form_tokens_purged": self.form_tokens_purged}


def apply_retention(*, session: Session, settings: Settings) -> RetentionReport:
    """Apply the configured retention once (idempotent: a second run finds nothing more to do)."""
    report = RetentionReport()
    now = utcnow()
    store = BlobStore(settings.recordings_dir)
    for channel, rules in settings.retention.items():
        if "audio_days" in rules:
            _delete_audio(session=session, store=store, channel=channel, before=now - timedelta(days=rules["audio_days"]),
                          report=report)
        if "transcript_days" in rules:
            _purge_text(session=session, channel=channel, before=now - timedelta(days=rules["transcript_days"]),
                        report=report)
    report.form_tokens_purged = forms.purge(session)  # pages' sent-form tokens (app.auth.forms)
    session.commit()
    return report


def _delete_audio(*, session: Session, store: BlobStore, channel: str, before: object,
                  report: RetentionReport) -> None:
    rows = session.exec(
        select(Recording, Interaction).join(Interaction, col(Interaction.id) == Recording.interaction_id)
        .where(Interaction.channel == channel, col(Interaction.started_at) < before,
               col(Recording.audio_deleted_at).is_(None))
    ).all()
    for recording, interaction in rows:
        still_used = session.exec(
            select(Recording.id).where(Recording.sha256 == recording.sha256, Recording.id != recording.id,
                                       col(Recording.audio_deleted_at).is_(None))
        ).first()
        if still_used is None:
            store.delete(recording.sha256)
        recording.audio_deleted_at = utcnow()
        session.add(recording)
        audit.record(session=session, actor=None, action="retention.audio_deleted", record_type="recording",
                     record_id=recording.id, after={"interaction_id": interaction.id, "sha256": recording.sha256})
        report.audio_deleted += 1


def _purge_text(*, session: Session, channel: str, before: object, report: RetentionReport) -> None:
    interactions = session.exec(
        select(Interaction).where(Interaction.channel == channel, col(Interaction.started_at) < before)
    ).all()
    for interaction in interactions:
        segments = session.exec(select(Segment).where(Segment.interaction_id == interaction.id)).all()
        messages = session.exec(select(Message).where(Message.interaction_id == interaction.id)).all()
        pending = [s for s in segments if s.text != (s.redacted_text or s.text) or s.words]
        pending_messages = [m for m in messages if m.redacted_text is not None and m.text != m.redacted_text]
        if any(s.redacted_text is None for s in segments) or any(m.redacted_text is None for m in messages):
            assert interaction.id is not None
            report.skipped_not_redacted.append(interaction.id)
            continue
        if not pending and not pending_messages:
            continue
        for segment in pending:
            segment.text = segment.redacted_text or ""
            segment.words = []
            session.add(segment)
        for message in pending_messages:
            message.text = message.redacted_text or ""
            session.add(message)
        audit.record(session=session, actor=None, action="retention.text_purged", record_type="interaction",
                     record_id=interaction.id, after={"segments": len(pending), "messages": len(pending_messages)})
        report.transcripts_purged += 1 if pending else 0
        report.messages_purged += len(pending_messages)
