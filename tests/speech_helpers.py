"""Shared by the speech tests: synthetic calls (espeak-ng, sox) and interaction/recording rows."""

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlmodel import select

from app.core.models import Job
from app.core.storage import BlobStore
from app.core.timeutil import utcnow
from app.interactions.models import Interaction, Recording, Segment
from app.speech import service
from app.speech.audio import AudioError, probe
from app.speech.synthetic import ScriptLine, espeak_available, synthesize_call

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")

SCRIPT = [  # ~17 s: agent on the left channel, customer on the right
    ScriptLine("agent", "Good morning, thank you for calling. How can I help you today?"),
    ScriptLine("customer", "Hello, my internet stops working every evening."),
    ScriptLine("agent", "I am sorry about that. I will reset your router now."),
    ScriptLine("customer", "My date of birth is the fourteenth of March, nineteen eighty eight."),
]
KEY_WORDS = ("morning", "help", "internet", "evening", "router")


@pytest.fixture(scope="session")
def call_files(tmp_path_factory):
    """The test calls, synthesised once per session: stereo, its mono mix, and broken variants."""
    root = tmp_path_factory.mktemp("calls")
    files = {"stereo": root / "call.wav", "mono": root / "mono.wav"}
    timeline = synthesize_call(SCRIPT, files["stereo"])
    synthesize_call(SCRIPT, files["mono"], mono=True)
    files["corrupt"] = root / "corrupt.wav"
    files["corrupt"].write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8)
    files["truncated"] = root / "truncated.wav"
    files["truncated"].write_bytes(files["stereo"].read_bytes()[:44])  # the header alone: no samples
    files["text"] = root / "notes.mp3"  # an extension that lies: plain text
    files["text"].write_text("this is not audio at all\n" * 50)
    sox = shutil.which("sox")
    if sox:
        def run(*args):
            subprocess.run([sox, *args], check=True, capture_output=True)
        files["phone8k"] = root / "phone8k.wav"
        run(str(files["stereo"]), "-r", "8000", str(files["phone8k"]))
        files["dead"] = root / "dead.wav"  # the customer channel is silent
        run(str(files["stereo"]), str(files["dead"]), "remix", "1", "0")
        files["silence"] = root / "silence.wav"
        run("-n", "-r", "16000", "-c", "2", str(files["silence"]), "trim", "0", "3")
        files["clip"] = root / "clip.wav"  # a 1-second clip
        run(str(files["stereo"]), str(files["clip"]), "trim", "0.5", "1")
        files["flac_named_mp3"] = root / "really-flac.mp3"  # another codec, and an extension that lies
        run(str(files["stereo"]), "-t", "flac", str(files["flac_named_mp3"]))
    return files, timeline


def make_call(session, settings, path: Path, *, agent_id=None, channel_map=None) -> Recording:
    """An interaction with its recording, the file stored content-addressed like an import would."""
    interaction = Interaction(channel="call", started_at=utcnow(), agent_id=agent_id, source="test",
                              external_id=uuid.uuid4().hex)
    session.add(interaction)
    session.flush()
    stored = BlobStore(settings.recordings_dir).put_file(path, max_bytes=10**9)
    try:
        info = probe(path)
        channels, rate, duration = info.channels, info.sample_rate, info.duration_seconds
    except AudioError:
        channels, rate, duration = 2, 0, 0.0
    recording = Recording(interaction_id=interaction.id, sha256=stored.sha256, original_filename=path.name,
                          format=path.suffix.lstrip("."), duration_seconds=duration, channels=channels,
                          sample_rate=rate, size_bytes=stored.size,
                          channel_map=channel_map if channel_map is not None else {"0": "agent", "1": "customer"})
    session.add(recording)
    session.commit()
    return recording


def run_job(session, queue, recording) -> Job:
    job = service.request_transcription(session=session, queue=queue, recording_id=recording.id)
    session.expire_all()
    return session.get(Job, job.id)


def segments_of(session, interaction_id):
    return list(session.exec(select(Segment).where(Segment.interaction_id == interaction_id)
                             .order_by(Segment.seq)).all())
