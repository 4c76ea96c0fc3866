"""The speech model loads and transcribes with the network blocked, and the loader reuses one model."""

import os
import socket

import pytest

from app.core.settings import Settings
from app.speech import engine
from app.speech.audio import decode_channels, probe
from app.speech.pipeline import transcribe_channel
from app.speech.synthetic import ScriptLine, espeak_available, synthesize_call


def _refuse(*args, **kwargs):
    raise OSError("network access attempted during an offline test")


@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_default_base_model_is_joined_verified_and_transcribes_without_network(monkeypatch, tmp_path):
    """The one real base-loading test: joined from its two packages into the data directory, hash-checked,
    loaded and run with the network refused, with the vocabulary prompt the worker gives it."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    assert settings.speech_model == "base" and engine.model_name(settings) == "whisper-base"
    path = tmp_path / "hello.wav"
    synthesize_call([ScriptLine("agent", "Hello, thank you for calling Kestrel Telecom. How can I help you today?")],
                    path, mono=True)
    directory = engine.model_path(settings)
    assert directory.parent == settings.resolved_data_dir / "models"
    assert sorted(p.name for p in directory.parent.iterdir()) == [directory.name]  # no temporary left over
    assert engine.sha256_of(directory / "model.bin") == engine.BASE_SHA256
    model = engine._load(engine.model_key(settings))  # a fresh load, not the process cache
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert model.model.is_multilingual
    audio = decode_channels(path, channels=probe(path).channels)[0]
    options = engine.decoding_options(settings, queue=None)
    words = transcribe_channel(model, audio, role="agent", channel=None, options=options, vad=True)
    text = " ".join(w.text.strip() for w in words).lower()
    assert "thank you" in text and "help" in text and "kestrel" in text
    assert all(w.speaker == "agent" and w.end >= w.start for w in words)


def test_load_model_is_cached_per_configuration(monkeypatch, tmp_path):
    loads = []
    monkeypatch.setattr(engine, "_models", {})
    monkeypatch.setattr(engine, "_load", lambda key: loads.append(key) or object())
    settings = Settings(_env_file=None, data_dir=tmp_path, speech_model="tiny.en")
    first = engine.load_model(settings)
    assert engine.load_model(settings) is first and len(loads) == 1
    engine.load_model(Settings(_env_file=None, data_dir=tmp_path, speech_model="tiny.en", speech_cpu_threads=1))
    assert len(loads) == 2
    monkeypatch.setattr(engine, "base_model_dir", lambda cache: tmp_path / "joined-base")
    engine.load_model(Settings(_env_file=None, data_dir=tmp_path))  # base: another model, another load
    assert len(loads) == 3 and loads[-1].path == str(tmp_path / "joined-base")


def test_missing_model_directory_is_a_clear_error(tmp_path):
    settings = Settings(_env_file=None, speech_model_path=tmp_path / "nothing-here")
    with pytest.raises(engine.ModelUnavailable, match="model.bin missing"):
        engine._load(engine.model_key(settings))
