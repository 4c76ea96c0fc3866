"""Transcription jobs end to end on SQLite and PostgreSQL: a synthetic two-speaker stereo call (agent left,
customer right) through the queue; a re-run replaces, never doubles; a corrupt file fails cleanly.
The model is loaded once per test session (the process cache in app/speech/engine.py)."""

import pytest
from sqlmodel import select

from app.core.storage import BlobStore
from app.interactions.models import Interaction
from app.speech.audio import probe
from app.speech.models import CallMetrics, CallTranscript
from tests.speech_helpers import KEY_WORDS, SCRIPT, call_files, make_call, needs_espeak, run_job, segments_of

pytestmark = [pytest.mark.slow, needs_espeak]
__all__ = ["call_files"]


def test_stereo_call_is_transcribed_in_turn_order(session, settings, queue, call_files):
    files, timeline = call_files
    recording = make_call(session, settings, files["stereo"])
    job = run_job(session, queue, recording)
    assert job.status == "done", job.error
    assert job.result["segments"] == len(SCRIPT) and job.result["speaker_separation"] == "channels"
    assert job.progress == 1.0
    segments = segments_of(session, recording.interaction_id)
    assert [s.speaker for s in segments] == [line.speaker for line in SCRIPT]
    assert [s.channel for s in segments] == [0, 1, 0, 1]
    for segment, spoken in zip(segments, timeline, strict=True):
        assert abs(segment.start - spoken.start) < 1.5 and segment.end > segment.start
        assert segment.words and all({"w", "s", "e", "p"} <= set(w) for w in segment.words)
    text = " ".join(s.text for s in segments).lower()
    for word in KEY_WORDS:
        assert word in text
    info = session.exec(select(CallTranscript).where(CallTranscript.interaction_id == recording.interaction_id)).one()
    assert info.model == "tiny.en" and info.speaker_separation == "channels" and info.word_count > 20
    # the date of birth is redacted in the line, flagged on its words, and beeped in a copy of the audio
    assert "[DOB]" in segments[3].redacted_text and "march" not in segments[3].redacted_text.lower()
    assert "march" in segments[3].text.lower()
    assert any(w.get("pii") == "dob" for w in segments[3].words)
    assert [(r["kind"], r["channel"]) for r in info.redaction_ranges] == [("dob", 1)]
    copy = BlobStore(settings.recordings_dir).path_for(info.redacted_audio_sha256)
    assert probe(copy).channels == 2 and abs(probe(copy).duration_seconds - timeline[-1].end) < 1.5
    metrics = session.exec(select(CallMetrics).where(CallMetrics.interaction_id == recording.interaction_id)).one()
    assert metrics.turn_count == len(SCRIPT)
    assert 0.4 < metrics.agent_talk_ratio < 0.8
    assert metrics.overtalk_count == 0 and metrics.hold_count == 0
    assert metrics.silence_longest_seconds < 3  # pauses between turns (under 2 s) are not silences
    assert metrics.hold_min_seconds == settings.speech_hold_seconds == 5.0
    # the stored spans are what the call page draws: their totals are the stored figures
    spans = metrics.intervals
    assert sum(e - s for s, e in spans["agent"]) == pytest.approx(metrics.agent_talk_seconds, abs=0.02)
    assert sum(e - s for s, e in spans["silence"]) == pytest.approx(metrics.silence_total_seconds, abs=0.02)
    assert spans["hold"] == [] and spans["overtalk"] == []
    assert info.language == "en" and info.model == "tiny.en"
    assert abs(metrics.duration_seconds - timeline[-1].end) < 1.5
    assert 100 < metrics.agent_words_per_minute < 300
    session.refresh(recording)
    assert recording.transcription_status == "done" and recording.transcription_error is None
    # the analytics job followed the transcription: sentiment per side is there
    from app.nlp.models import InteractionAnalytics

    analytics = session.exec(select(InteractionAnalytics)
                             .where(InteractionAnalytics.interaction_id == recording.interaction_id)).one()
    assert analytics is not None
    # a re-run replaces the transcript: never doubled
    again = run_job(session, queue, recording)
    assert again.status == "done" and again.id != job.id
    assert len(segments_of(session, recording.interaction_id)) == len(SCRIPT)
    assert len(session.exec(select(CallMetrics).where(CallMetrics.interaction_id == recording.interaction_id)).all()) == 1


def test_corrupt_file_fails_the_job_with_a_reason(session, settings, queue, call_files):
    files, _ = call_files
    recording = make_call(session, settings, files["corrupt"])
    job = run_job(session, queue, recording)
    assert job.status == "failed" and job.attempts == 1  # no retries for a corrupt file
    assert "not readable audio" in job.error or "could not be decoded" in job.error
    session.refresh(recording)
    assert recording.transcription_status == "failed" and recording.transcription_error == job.error
    assert session.get(Interaction, recording.interaction_id) is not None
    assert segments_of(session, recording.interaction_id) == []
