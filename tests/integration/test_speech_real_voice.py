"""The real model on real recorded speech, not synthetic voices: the ALSA speaker-test recordings that Debian's
alsa-utils ships (/usr/share/sounds/alsa, a recorded human voice saying "Front Left", "Rear Right", ...; GPL-2;
installed by `make system-deps`). Laid out as a stereo call — the agent's phrases on the left, the customer's
on the right, 8 kHz telephone band — they go through the pipeline exactly as an uploaded call does."""

import subprocess
from pathlib import Path

import pytest

from app.core.settings import Settings
from app.speech import engine
from app.speech.pipeline import transcribe_file

SOUNDS = Path("/usr/share/sounds/alsa")
# (channel, start second, recording): the words are the file's name
SCRIPT = [("agent", 0.5, "Front_Left"), ("customer", 3.0, "Rear_Left"), ("agent", 5.5, "Front_Right"),
          ("customer", 8.0, "Side_Right"), ("agent", 10.5, "Front_Center"), ("customer", 13.0, "Rear_Center")]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (SOUNDS / "Front_Left.wav").exists(), reason="alsa-utils is not installed (run `make system-deps`)")]


def _channel(tmp_path: Path, role: str) -> Path:
    """One channel: each of the role's recordings padded to its start time, mixed, 8 kHz."""
    parts = []
    for index, (who, start, name) in enumerate(SCRIPT):
        if who != role:
            continue
        part = tmp_path / f"{role}-{index}.wav"
        subprocess.run(["sox", str(SOUNDS / f"{name}.wav"), "-r", "8000", "-c", "1", str(part), "pad", str(start)],
                       check=True)
        parts.append(str(part))
    out = tmp_path / f"{role}.wav"
    subprocess.run(["sox", "-m", *parts, str(out), "pad", "0", "2"] if len(parts) > 1 else
                   ["sox", parts[0], str(out)], check=True)
    return out


def test_real_recorded_speech_in_a_stereo_call_comes_out_in_order_on_the_right_side(tmp_path):
    agent, customer = _channel(tmp_path, "agent"), _channel(tmp_path, "customer")
    call = tmp_path / "call.wav"
    subprocess.run(["sox", "-M", str(agent), str(customer), str(call)], check=True)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    transcript = transcribe_file(call, model=engine.load_model(settings),
                                 options=engine.decoding_options(settings, queue=None))

    heard = [(line.speaker, " ".join(line.text.lower().replace(",", " ").replace(".", " ").split()))
             for line in transcript.lines]
    expected = [(who, name.replace("_", " ").lower()) for who, _, name in SCRIPT]
    words_expected = [w for _, text in expected for w in text.split()]
    words_heard = [w for _, text in heard for w in text.split()]
    # every turn on its own side, in the order spoken (the turns may merge, never cross sides)
    assert [who for who, _ in heard] == [who for who, _ in expected], heard
    # word accuracy on real speech: at most one of the twelve words missed or misheard, nothing made up
    missed = sum(1 for w in words_expected if w not in words_heard)
    assert missed <= 1 and len(words_heard) <= len(words_expected) + 1, heard
    assert all(line.start < line.end for line in transcript.lines)
    starts = [line.start for line in transcript.lines]
    assert all(abs(start - when) < 1.0 for start, (_, when, _) in zip(starts, SCRIPT, strict=True)), starts
