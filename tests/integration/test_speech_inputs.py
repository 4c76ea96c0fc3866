"""Awkward input through the transcription job: each transcribes or fails its own job with a clear reason,
leaving the interaction intact. (SQLite only: the database is not what these test.)"""

import logging
import shutil
import subprocess

import pytest
from sqlmodel import select

from app.core.storage import BlobStore
from app.interactions.models import Interaction
from app.speech.models import CallMetrics
from tests.conftest import make_settings
from tests.speech_helpers import SCRIPT, call_files, make_call, needs_espeak, run_job, segments_of

pytestmark = [pytest.mark.slow, needs_espeak]
__all__ = ["call_files"]


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "data", speech_beam_size=1)  # beam 1: ~1.7x faster, enough here


@pytest.mark.parametrize(("name", "reason"), [("truncated", "no decodable audio"), ("text", "not readable audio")])
def test_unusable_files_fail_cleanly(session, settings, queue, call_files, name, reason):
    files, _ = call_files
    recording = make_call(session, settings, files[name])
    job = run_job(session, queue, recording)
    assert job.status == "failed" and reason in job.error
    assert session.get(Interaction, recording.interaction_id) is not None


def test_missing_file_fails_cleanly(session, settings, queue, call_files):
    files, _ = call_files
    recording = make_call(session, settings, files["corrupt"])
    BlobStore(settings.recordings_dir).delete(recording.sha256)
    job = run_job(session, queue, recording)
    assert job.status == "failed" and "missing" in job.error


def test_mono_call_speakers_are_not_separated_unless_the_estimate_is_asked_for(session, settings, queue, call_files,
                                                                               caplog):
    files, _ = call_files
    recording = make_call(session, settings, files["mono"], channel_map={"0": "mixed"})
    with caplog.at_level(logging.INFO, logger="earshot.speech"):
        job = run_job(session, queue, recording)
    assert job.status == "done" and job.result["speaker_separation"] == "none"
    assert f"transcribing recording {recording.id} with model tiny.en" in caplog.text  # the worker says which
    assert {s.speaker for s in segments_of(session, recording.interaction_id)} == {"unknown"}
    settings.speech_mono_split = True  # EARSHOT_SPEECH_MONO_SPLIT=true
    job = run_job(session, queue, recording)
    assert job.status == "done" and job.result["speaker_separation"] == "estimated"
    segments = segments_of(session, recording.interaction_id)
    assert "internet" in " ".join(s.text for s in segments).lower()
    # two clearly different synthetic voices: the split follows the script, the greeting names the agent
    assert [s.speaker for s in segments] == [line.speaker for line in SCRIPT]


@pytest.mark.parametrize("name", ["phone8k", "dead", "silence", "clip", "flac_named_mp3"])
def test_telephone_rate_dead_channel_silence_clip_and_lying_extension(session, settings, queue, call_files, name):
    files, _ = call_files
    if name not in files:
        pytest.skip("sox is not installed")
    recording = make_call(session, settings, files[name])
    job = run_job(session, queue, recording)
    assert job.status == "done", job.error
    segments = segments_of(session, recording.interaction_id)
    if name == "silence":
        assert segments == []
        metrics = session.exec(select(CallMetrics).where(CallMetrics.interaction_id == recording.interaction_id)).one()
        assert metrics.silence_total_seconds == pytest.approx(3.0, abs=0.1) and metrics.turn_count == 0
    elif name == "dead":
        assert segments and {s.speaker for s in segments} == {"agent"}
    elif name == "clip":
        assert all(s.end <= 1.5 for s in segments)
    else:
        assert [s.speaker for s in segments] == [line.speaker for line in SCRIPT]


def test_a_three_hour_file_fails_with_a_clear_reason(session, settings, queue, tmp_path):
    sox = shutil.which("sox")
    if sox is None:
        pytest.skip("sox is not installed")
    long_call = tmp_path / "three-hours.flac"  # silence compresses to almost nothing
    subprocess.run([sox, "-n", "-r", "1000", "-c", "1", str(long_call), "trim", "0", "10800"], check=True)
    recording = make_call(session, settings, long_call)
    job = run_job(session, queue, recording)
    assert job.status == "failed" and "3.0 hours long" in job.error and job.attempts == 1
    assert session.get(Interaction, recording.interaction_id) is not None


def test_a_queue_in_another_language_needs_a_multilingual_model(session, settings, queue, call_files):
    files, _ = call_files
    recording = make_call(session, settings, files["mono"], channel_map={"0": "mixed"})
    session.get(Interaction, recording.interaction_id).queue = "hk-care"
    session.commit()
    settings.speech_queue_languages = {"hk-care": "zh"}  # and the tests' model is tiny.en, English only
    job = run_job(session, queue, recording)
    assert job.status == "failed" and "English-only" in job.error and job.attempts == 1
    session.refresh(recording)
    assert recording.transcription_status == "failed" and "EARSHOT_SPEECH_MODEL=base" in recording.transcription_error


def test_a_model_that_fails_its_hash_fails_the_job_once_with_the_reason(session, settings, queue, call_files,
                                                                         monkeypatch):
    from app.speech import engine

    def refuse(settings):
        raise engine.ModelUnavailable("the joined model.bin for whisper-base has sha256 abc, expected d01c")

    monkeypatch.setattr(engine, "load_model", refuse)
    files, _ = call_files
    recording = make_call(session, settings, files["mono"], channel_map={"0": "mixed"})
    job = run_job(session, queue, recording)
    assert job.status == "failed" and job.attempts == 1 and "expected d01c" in job.error  # no pointless retries
    session.refresh(recording)
    assert recording.transcription_status == "failed" and "sha256 abc" in recording.transcription_error
