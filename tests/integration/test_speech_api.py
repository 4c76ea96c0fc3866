"""The transcript API on SQLite and PostgreSQL: scope (agents see only their own calls), redaction by default,
the original only for admins/evaluators and audited, and queueing a transcription."""

import uuid

from sqlmodel import select

from app.core.models import AuditEvent, Job
from app.core.timeutil import utcnow
from app.interactions.models import Interaction, Recording
from app.speech import service
from app.speech.audio import AudioInfo
from app.speech.models import CallTranscript
from app.speech.pipeline import Options, build_transcript
from app.speech.turns import TimedWord


def said(speaker, text, start):
    channel = 0 if speaker == "agent" else 1
    return [TimedWord(text=" " + w, start=start + i * 0.4, end=start + i * 0.4 + 0.3, speaker=speaker,
                      channel=channel) for i, w in enumerate(text.split())]


def transcribed_call(session, *, agent_id) -> Recording:
    """A call with a stored transcript (built from synthetic word timings: no model needed here)."""
    interaction = Interaction(channel="call", started_at=utcnow(), agent_id=agent_id, source="test",
                              external_id=uuid.uuid4().hex)
    session.add(interaction)
    session.flush()
    recording = Recording(interaction_id=interaction.id, sha256="0" * 64, format="wav", duration_seconds=20.0,
                          channels=2, sample_rate=16000, size_bytes=1000)
    session.add(recording)
    session.flush()
    words = said("agent", "can I take the card number please", 0.0) + said(
        "customer", "it is 4111 1111 1111 1111 and my email is maria@example.com", 4.0)
    transcript = build_transcript(words, info=AudioInfo("wav", 2, 16000, 20.0), duration=20.0, separation="channels")
    transcript.audio_seconds = 20.0
    service.save_transcript(session=session, recording=recording, transcript=transcript, model="tiny.en",
                            language="en")
    session.commit()
    return recording


def test_transcript_is_redacted_by_default_and_scoped(session, client, make_user, login):
    ada = make_user("agent", username="ada", team="Billing")
    ben = make_user("agent", username="ben", team="Technical")
    coach = make_user("coach", username="colin", team="Billing")
    other_coach = make_user("coach", username="carl", team="Technical")
    eva = make_user("evaluator", username="eva")
    recording = transcribed_call(session, agent_id=ada.id)
    path = f"/api/interactions/{recording.interaction_id}/transcript"

    login(ada)
    body = client.get(path).json()
    assert body["view"] == "redacted" and body["speakers_certain"] is True and body["status"] == "done"
    assert [s["speaker"] for s in body["segments"]] == ["agent", "customer"]
    customer = body["segments"][1]
    assert customer["text"] == "it is [CARD] and my email is [EMAIL]"
    assert "4111" not in str(customer["words"]) and "maria" not in str(customer["words"])
    assert [r["kind"] for r in body["redaction_ranges"]] == ["card", "email"]
    assert body["metrics"]["turn_count"] == 2 and body["metrics"]["agent_talk_ratio"] is not None
    forbidden = client.get(path, params={"view": "original"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"

    login(coach)  # ada's coach
    assert client.get(path).status_code == 200
    for outsider in (ben, other_coach):
        login(outsider)
        missing = client.get(path)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

    login(eva)
    original = client.get(path, params={"view": "original"})
    assert original.status_code == 200 and "4111 1111 1111 1111" in original.json()["segments"][1]["text"]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "transcript.view_original")).all()
    assert [(e.actor_id, e.record_id) for e in events] == [(eva.id, str(recording.interaction_id))]
    assert client.get(path, params={"view": "nonsense"}).status_code == 422
    assert client.get(f"/api/interactions/{recording.interaction_id}/redacted-audio").status_code == 404


def test_redacted_audio_copy_is_served_in_scope(session, client, make_user, login, settings):
    import numpy as np

    from app.core.storage import BlobStore
    from app.speech.audio import wav_bytes
    from app.speech.models import CallTranscript

    ada, ben = make_user("agent", username="ada"), make_user("agent", username="ben")
    recording = transcribed_call(session, agent_id=ada.id)
    stored = BlobStore(settings.recordings_dir).put_chunks([wav_bytes([np.zeros(1600, dtype=np.float32)])],
                                                          max_bytes=10**6)
    info = session.exec(select(CallTranscript).where(CallTranscript.interaction_id == recording.interaction_id)).one()
    info.redacted_audio_sha256 = stored.sha256
    session.add(info)
    session.commit()
    path = f"/api/interactions/{recording.interaction_id}/redacted-audio"
    login(ada)
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    assert response.content.startswith(b"RIFF")
    login(ben)
    assert client.get(path).status_code == 404


def test_untranscribed_call_has_status_and_no_segments(session, client, make_user, login):
    admin = make_user("admin")
    interaction = Interaction(channel="call", started_at=utcnow(), source="test", external_id="x1")
    session.add(interaction)
    session.flush()
    session.add(Recording(interaction_id=interaction.id, sha256="1" * 64, format="wav", duration_seconds=1.0,
                          channels=1, sample_rate=8000, size_bytes=10))
    session.commit()
    login(admin)
    body = client.get(f"/api/interactions/{interaction.id}/transcript").json()
    assert body["status"] == "pending" and body["segments"] == [] and body["metrics"] is None


def test_request_transcription_queues_once_and_reports_missing_audio(session, client, make_user, login):
    """The file is missing here: the job fails at once with a reason; asking again makes a new job."""
    eva = make_user("evaluator")
    recording = transcribed_call(session, agent_id=None)
    login(eva)
    first = client.post(f"/api/recordings/{recording.id}/transcribe")
    assert first.status_code == 202
    job = session.get(Job, first.json()["job_id"])
    session.refresh(job)
    assert job.status == "failed" and "missing" in job.error and job.created_by == eva.id, job.error
    second = client.post(f"/api/recordings/{recording.id}/transcribe")
    assert second.status_code == 202 and second.json()["job_id"] != first.json()["job_id"]
    assert client.post("/api/recordings/999999/transcribe").status_code == 404
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "recording.transcribe")).all()
    assert len(events) == 2


def test_estimated_speakers_are_flagged_as_uncertain(session, client, make_user, login):
    admin = make_user("admin")
    recording = transcribed_call(session, agent_id=None)
    info = session.exec(select(CallTranscript).where(CallTranscript.interaction_id == recording.interaction_id)).one()
    info.speaker_separation = "estimated"
    session.add(info)
    session.commit()
    login(admin)
    body = client.get(f"/api/interactions/{recording.interaction_id}/transcript").json()
    assert body["speakers_certain"] is False and "estimated" in body["speaker_note"]


def test_demo_calls_made_by_another_model_are_found_for_re_transcription(session):
    demo = transcribed_call(session, agent_id=None)
    transcribed_call(session, agent_id=None)  # not a demo call: a deployment's own calls are left alone
    session.get(Interaction, demo.interaction_id).source = "demo"
    session.commit()
    assert service.recording_ids_transcribed_by_another_model(session=session, model="whisper-base",
                                                              source="demo") == [demo.id]
    assert service.recording_ids_transcribed_by_another_model(session=session, model="tiny.en", source="demo") == []


def test_call_page_shows_language_stored_holds_and_unseparated_speakers(session, client, make_user, login):
    admin = make_user("admin")
    interaction = Interaction(channel="call", started_at=utcnow(), source="test", external_id=uuid.uuid4().hex)
    session.add(interaction)
    session.flush()
    recording = Recording(interaction_id=interaction.id, sha256="0" * 64, format="wav", duration_seconds=20.0,
                          channels=1, sample_rate=16000, size_bytes=1000)
    session.add(recording)
    session.flush()
    # a mono call: one moment please ... 8 s on hold ... thanks for holding
    words = said("unknown", "one moment please", 0.0) + said("unknown", "thanks for holding", 9.1)
    transcript = build_transcript(words, info=AudioInfo("wav", 1, 16000, 20.0), duration=20.0, separation="none",
                                  options=Options(hold_seconds=5.0))
    service.save_transcript(session=session, recording=recording, transcript=transcript, model="whisper-base",
                            language="zh")
    session.commit()
    login(admin)
    page = client.get(f"/interactions/{interaction.id}").text
    assert "speakers not separated" in page
    assert 'language <span lang="zh">zh</span>' in page and "whisper-base" in page
    # the stored figures: one 8 s hold (1.1-9.1); the silence after the last word (10.2-20.0) is no hold
    assert "Hold 0:08 (1," in page and "Silence 0:18 (2)" in page
    body = client.get(f"/api/interactions/{interaction.id}/transcript").json()
    assert body["language"] == "zh" and body["metrics"]["hold_count"] == 1
    assert body["metric_spans"]["hold"] == [[1.1, 9.1]] and body["metrics"]["hold_min_seconds"] == 5.0


def test_demo_load_queues_again_the_demo_calls_made_by_another_model(session, runtime, monkeypatch, tmp_path):
    from app.speech import demo, engine

    monkeypatch.setattr(engine, "base_model_dir", lambda cache: tmp_path / "joined")  # the real join: test_speech_offline

    recording = transcribed_call(session, agent_id=None)  # made by tiny.en, as before base was the default
    session.get(Interaction, recording.interaction_id).source = "demo"
    session.commit()
    runtime.settings.speech_model = "base"
    logs: list[str] = []
    demo.load_demo(runtime=runtime, log=logs.append)
    assert "speech model whisper-base at" in logs[0]
    assert "0 call(s) queued for transcription, 1 transcribed by another model queued again for whisper-base" in logs[-1]
    jobs = session.exec(select(Job).where(Job.kind == service.JOB_KIND)).all()
    assert [job.payload["recording_id"] for job in jobs] == [recording.id]
