"""Retention deletes old audio and unredacted text per channel, keeps what must be kept, and is audited."""

import io
from datetime import timedelta

from sqlmodel import select

from app.core.models import AuditEvent
from app.core.storage import BlobStore
from app.core.timeutil import utcnow
from app.interactions.models import Interaction, Message, Recording, Segment
from app.retention.service import apply_retention
from tests.conftest import make_settings


def _call(session, store, *, days_ago, content, external_id, redacted=True):
    stored = store.put_stream(io.BytesIO(content), max_bytes=10_000)
    interaction = Interaction(channel="call", started_at=utcnow() - timedelta(days=days_ago), external_id=external_id)
    session.add(interaction)
    session.flush()
    session.add(Recording(interaction_id=interaction.id, sha256=stored.sha256, format="wav", duration_seconds=3,
                          channels=2, sample_rate=16000, size_bytes=len(content)))
    session.add(Segment(interaction_id=interaction.id, seq=0, speaker="customer", start=0, end=2,
                        text="my card is 4111 1111 1111 1111", words=[{"w": "card"}],
                        redacted_text="my card is [CARD]" if redacted else None))
    session.flush()
    return interaction, stored


def test_old_audio_and_text_go_recent_and_shared_files_stay(session, tmp_path):
    settings = make_settings(tmp_path, retention={"call": {"audio_days": 30, "transcript_days": 60},
                                                  "chat": {"transcript_days": 60}})
    store = BlobStore(settings.recordings_dir)
    old, old_file = _call(session, store, days_ago=90, content=b"old audio", external_id="r-old")
    shared_old, shared = _call(session, store, days_ago=90, content=b"shared audio", external_id="r-shared-old")
    _recent_twin, _ = _call(session, store, days_ago=1, content=b"shared audio", external_id="r-shared-new")
    unredacted, _ = _call(session, store, days_ago=90, content=b"other", external_id="r-unredacted", redacted=False)
    chat = Interaction(channel="chat", started_at=utcnow() - timedelta(days=100), external_id="c-1")
    session.add(chat)
    session.flush()
    session.add(Message(interaction_id=chat.id, external_id="m1", author_role="customer", sent_at=chat.started_at,
                        text="call me on 07700 900123", redacted_text="call me on [PHONE]"))
    session.commit()

    report = apply_retention(session=session, settings=settings)
    assert report.audio_deleted == 3 and report.messages_purged == 1
    assert not store.exists(old_file.sha256)
    assert store.exists(shared.sha256), "a file still used by a recent recording must stay"
    assert report.skipped_not_redacted == [unredacted.id]
    segment = session.exec(select(Segment).where(Segment.interaction_id == old.id)).one()
    assert segment.text == "my card is [CARD]" and segment.words == []
    kept = session.exec(select(Segment).where(Segment.interaction_id == unredacted.id)).one()
    assert "4111" in kept.text  # never lose a transcript that has no redacted version yet
    message = session.exec(select(Message).where(Message.interaction_id == chat.id)).one()
    assert message.text == "call me on [PHONE]"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "retention.audio_deleted")).all()

    again = apply_retention(session=session, settings=settings)
    assert (again.audio_deleted, again.transcripts_purged, again.messages_purged) == (0, 0, 0)


def test_retention_job_runs_through_the_queue(queue, session, settings):
    job = queue.enqueue(session=session, kind="retention.sweep", payload={})
    session.refresh(job)
    assert job.status == "done" and job.result["audio_deleted"] == 0


def test_the_worker_schedules_retention_nightly_once_a_day(queue, session):
    from datetime import datetime

    from app.core.models import Job

    periodic = {task.name: task for task in queue.huey.read_periodic(datetime(2026, 11, 24, 3, 15))}
    task = periodic["earshot.periodic.retention.sweep"]  # due at 03:15
    assert not [t for t in queue.huey.read_periodic(datetime(2026, 11, 24, 4, 15)) if t.name == task.name]
    queue.huey.execute(task)
    queue.huey.execute(task)  # a second tick the same day adds no job
    jobs = session.exec(select(Job).where(Job.kind == "retention.sweep")).all()
    assert len(jobs) == 1 and jobs[0].status == "done"
