"""The mono speaker estimate on two synthetic "voices" (different pitch and timbre), without the model."""

import numpy as np

from app.speech.audio import SAMPLE_RATE
from app.speech.diarize import assign_speakers
from app.speech.turns import TimedWord, group_turns


def voice(seconds: float, *, low: bool, rng: np.random.Generator) -> np.ndarray:
    """A buzzy vowel-like tone: 110 Hz with dark harmonics, or 220 Hz with bright ones, plus a little noise."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0, tilt = (110.0, 1.5) if low else (220.0, 0.7)
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k**tilt for k in range(1, 12))
    return (0.1 * tone + 0.005 * rng.standard_normal(t.shape[0])).astype(np.float32)


def test_two_voices_are_split_and_the_greeting_side_is_the_agent():
    rng = np.random.default_rng(1)
    script = [("customer?", True, "hello there my broadband is down"), ("agent", False, "thank you for calling how can I help"),
              ("customer?", True, "it stops every evening"), ("agent", False, "let me check that for you now")]
    audio, words, truth, t = [], [], [], 0.0
    for _, low, text in script:
        parts = text.split()
        audio.append(voice(len(parts) * 0.4, low=low, rng=rng))
        for i, part in enumerate(parts):
            words.append(TimedWord(" " + part, t + i * 0.4, t + i * 0.4 + 0.38))
            truth.append("customer" if low else "agent")
        t += len(parts) * 0.4
    estimated, split = assign_speakers(words, np.concatenate(audio))
    assert split
    assert [w.speaker for w in estimated] == truth  # the customer spoke first; the greeting names the agent
    assert [turn.speaker for turn in group_turns(estimated)] == ["customer", "agent", "customer", "agent"]


def test_too_little_speech_is_left_unknown():
    words = [TimedWord(" hi", 0.0, 0.3)]
    estimated, split = assign_speakers(words, np.zeros(SAMPLE_RATE, dtype=np.float32))
    assert not split and estimated[0].speaker == "unknown"
