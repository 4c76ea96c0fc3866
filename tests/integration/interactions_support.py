"""Shared fixtures of the interactions/ingest tests: the agents the fixture files name, and tiny audio."""

import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "interactions"
AGENTS = {"ada": "Billing", "ben": "Billing", "cara": "Technical", "dan": "Technical", "sam": "Social care"}


@pytest.fixture
def agents(make_user):
    users = {name: make_user("agent", username=name, team=team) for name, team in AGENTS.items()}
    users["admin"] = make_user("admin", username="admin")
    return users


def sox_tone(path: Path, *, channels: int = 2, seconds: float = 1.0, frequency: int = 440) -> Path:
    subprocess.run(["sox", "-n", "-r", "16000", "-c", str(channels), str(path), "synth", str(seconds), "sine",
                    str(frequency)], check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("audio")
    sox_tone(directory / "stereo.wav")
    sox_tone(directory / "other.wav", frequency=660)
    sox_tone(directory / "mono.flac", channels=1)
    sox_tone(directory / "long.wav", seconds=3.0, frequency=330)
    return directory


@pytest.fixture(autouse=True)
def no_transcription_jobs(monkeypatch, request):
    """Uploads would run the speech feature's transcription inline (immediate queue): keep these tests fast,
    except the ones about transcription."""
    if "transcription" not in request.node.name:
        from app.ingest import calls

        monkeypatch.setattr(calls, "registered_kinds", lambda: [])
