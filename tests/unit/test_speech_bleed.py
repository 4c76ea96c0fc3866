"""The other party's voice bleeding into a channel (echo, crosstalk) is left out before decoding; genuine
overtalk is kept. Synthetic stereo from the espeak-ng test call: agent on channel 0, customer on channel 1."""

from dataclasses import replace

import numpy as np
import pytest

from app.core.settings import Settings
from app.speech import engine
from app.speech.audio import SAMPLE_RATE, decode_channels, wav_bytes
from app.speech.bleed import BleedOptions, bleed_stretches
from app.speech.metrics import compute_metrics
from app.speech.pipeline import Options, speech_pieces, transcribe_file
from app.speech.turns import TimedWord
from tests.speech_helpers import call_files, needs_espeak

pytestmark = [needs_espeak]
__all__ = ["call_files"]
ROLES = ["agent", "customer"]


def db(gain: float) -> float:
    return float(10 ** (gain / 20))


def delayed(audio: np.ndarray, seconds: float) -> np.ndarray:
    shift = round(seconds * SAMPLE_RATE)
    return np.concatenate([np.zeros(shift, dtype=audio.dtype), audio[:len(audio) - shift]])


def noise(length: int, level_db: float) -> np.ndarray:
    return (np.random.default_rng(7).standard_normal(length) * db(level_db)).astype(np.float32)


def overlapping(pieces, channel, start, end):
    """The pieces of `channel` overlapping start..end seconds by more than 0.3 s."""
    return [p for p in pieces if p.channel == channel
            and min(p.end / SAMPLE_RATE, end) - max(p.start / SAMPLE_RATE, start) > 0.3]


@pytest.fixture
def call(call_files):
    files, timeline = call_files
    agent, customer = decode_channels(files["stereo"], channels=2)
    return agent, customer, timeline


def other_line_at(customer, timeline, target):
    """The customer's second line moved to where the agent speaks line `target` (a different sentence)."""
    source = timeline[3]
    words = customer[round(source.start * SAMPLE_RATE):round(source.end * SAMPLE_RATE)]
    moved = np.zeros_like(customer)
    at = round(timeline[target].start * SAMPLE_RATE)
    size = min(len(words), len(moved) - at)
    moved[at:at + size] = words[:size]
    return moved


def test_the_agents_voice_delayed_and_32_db_down_in_the_customer_channel_is_left_out(call):
    agent, customer, timeline = call
    bled = customer + delayed(agent, 0.012) * db(-32) + noise(len(customer), -70)
    kept = speech_pieces([agent, bled], ROLES)  # no filter: VAD takes the bleed for the customer's speech
    assert all(overlapping(kept, 1, line.start, line.end) for line in (timeline[0], timeline[2]))
    dropped: list[dict] = []
    pieces = speech_pieces([agent, bled], ROLES, bleed=BleedOptions(), dropped=dropped)
    for line in (timeline[0], timeline[2]):  # the agent's lines are no longer customer speech ...
        assert not overlapping(pieces, 1, line.start, line.end)
        assert any(d["channel"] == 1 and d["start"] <= line.start + 0.5 and d["end"] >= line.end - 0.5
                   for d in dropped)
    frame = round(0.04 * SAMPLE_RATE)  # ... and every sound of the customer's own is still there
    loud = [at + frame // 2 for at in range(0, len(customer) - frame, frame)
            if float(np.sqrt(np.mean(np.square(customer[at:at + frame])))) > db(-50)]
    assert len(loud) > 100
    assert all(any(p.channel == 1 and p.start <= at < p.end for p in pieces) for at in loud)
    assert [p.role for p in pieces if p.channel == 0] == ["agent", "agent"]


def test_a_quiet_customer_saying_something_else_during_the_agents_line_is_kept(call):
    agent, customer, timeline = call
    quiet = customer + other_line_at(customer, timeline, 0) * db(-15)
    dropped: list[dict] = []
    pieces = speech_pieces([agent, quiet], ROLES, bleed=BleedOptions(), dropped=dropped)
    assert overlapping(pieces, 1, timeline[0].start, timeline[0].end)
    assert dropped == []
    # far quieter still (-30 dB) but not the agent's voice: not bleed either
    start, end = round(timeline[0].start * SAMPLE_RATE), round(timeline[0].end * SAMPLE_RATE)
    whisper = other_line_at(customer, timeline, 0) * db(-30)
    assert bleed_stretches(whisper, agent, start, end, BleedOptions()) == []


def test_both_parties_talking_loud_at_once_is_kept_and_counted_as_overtalk(call):
    agent, customer, timeline = call
    loud = customer + other_line_at(customer, timeline, 0)
    dropped: list[dict] = []
    pieces = speech_pieces([agent, loud], ROLES, bleed=BleedOptions(), dropped=dropped)
    assert dropped == []
    assert overlapping(pieces, 0, timeline[0].start, timeline[0].end)
    assert overlapping(pieces, 1, timeline[0].start, timeline[0].end)
    words = [TimedWord(text="x", start=p.start / SAMPLE_RATE, end=p.end / SAMPLE_RATE, probability=1.0,
                       speaker=p.role, channel=p.channel) for p in pieces]
    metrics = compute_metrics(words, duration=len(agent) / SAMPLE_RATE)
    assert metrics.overtalk_count >= 1 and metrics.overtalk_total_seconds >= 1.0


def test_thresholds_decide_level_difference_correlation_and_lag(call):
    agent, _customer, timeline = call
    start, end = round(timeline[0].start * SAMPLE_RATE), round(timeline[0].end * SAMPLE_RATE)
    floor = noise(len(agent), -70)
    echo = delayed(agent, 0.015) * db(-32) + floor
    assert bleed_stretches(echo, agent, start, end, BleedOptions())  # 15 ms late: inside the lag search
    late = delayed(agent, 0.1) * db(-32) + floor  # 100 ms late: found only with a longer lag search
    assert not bleed_stretches(late, agent, start, end, BleedOptions())
    assert bleed_stretches(late, agent, start, end, BleedOptions(max_lag=0.12))
    near = delayed(agent, 0.015) * db(-15) + floor  # as loud as real overtalk: never taken for bleed
    assert not bleed_stretches(near, agent, start, end, BleedOptions())
    assert bleed_stretches(near, agent, start, end, BleedOptions(min_db=10))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["channels", "joined"])
def test_the_transcript_has_no_customer_words_where_only_the_agents_echo_is(call, tmp_path, mode):
    agent, customer, timeline = call
    path = tmp_path / "echo.wav"
    path.write_bytes(wav_bytes([agent, customer + delayed(agent, 0.012) * db(-32) + noise(len(customer), -70)]))
    model = engine.load_model(Settings(_env_file=None, speech_model="tiny.en"))
    options = replace(Options(), stereo_mode=mode)

    def customer_words_in_agent_lines(transcript):
        return [w.text for w in transcript.words if w.speaker == "customer" and any(
            line.start + 0.3 < (w.start + w.end) / 2 < line.end - 0.3 for line in (timeline[0], timeline[2]))]

    before = transcribe_file(path, model=model, options=replace(options, bleed=None))
    assert customer_words_in_agent_lines(before)  # the echo is heard as the customer without the filter
    after = transcribe_file(path, model=model, options=options)
    assert customer_words_in_agent_lines(after) == []
    assert {d["channel"] for d in after.bleed_dropped} == {1}
    customer_text = " ".join(line.text.lower() for line in after.lines if line.speaker == "customer")
    agent_text = " ".join(line.text.lower() for line in after.lines if line.speaker == "agent")
    assert "internet" in customer_text and "march" in customer_text
    assert "morning" in agent_text and "reset" in agent_text
