"""Stereo calls decoded in one pass: both parties' speech joined in time order, every word mapped back to its
channel, speaker and time in the call (real tiny.en model, a synthetic espeak-ng call)."""

from dataclasses import replace

import pytest

from app.core.settings import Settings
from app.speech import engine
from app.speech.audio import SAMPLE_RATE, decode_channels
from app.speech.pipeline import Options, speech_pieces, transcribe_file
from tests.speech_helpers import SCRIPT, call_files, needs_espeak

pytestmark = [pytest.mark.slow, needs_espeak]
__all__ = ["call_files"]


def test_each_partys_speech_is_cut_out_and_laid_end_to_end_in_time_order(call_files):
    files, timeline = call_files
    arrays = decode_channels(files["stereo"], channels=2)
    pieces = speech_pieces(arrays, ["agent", "customer"])
    assert [p.role for p in pieces] == [line.speaker for line in SCRIPT]
    assert [p.channel for p in pieces] == [0, 1, 0, 1]
    for piece, spoken in zip(pieces, timeline, strict=True):
        assert piece.start / SAMPLE_RATE <= spoken.start + 0.1 and piece.end / SAMPLE_RATE >= spoken.end - 0.1
    assert [p.offset for p in pieces] == [sum(q.end - q.start for q in pieces[:i]) for i in range(len(pieces))]
    silent = [arrays[0], arrays[1] * 0]  # a dead channel gives no pieces
    assert {p.role for p in speech_pieces(silent, ["agent", "customer"])} == {"agent"}


def test_one_pass_over_both_channels_keeps_speakers_turn_order_and_call_times(call_files):
    files, timeline = call_files
    model = engine.load_model(Settings(_env_file=None, speech_model="tiny.en"))
    joined = transcribe_file(files["stereo"], model=model, options=replace(Options(), stereo_mode="joined"))
    assert joined.speaker_separation == "channels"
    assert [(line.speaker, line.channel) for line in joined.lines] == [
        (line.speaker, index % 2) for index, line in enumerate(SCRIPT)]
    for line, spoken in zip(joined.lines, timeline, strict=True):
        assert abs(line.start - spoken.start) < 1.0 and line.end <= spoken.end + 1.0
    for word in joined.words:  # every word lies inside a stretch its own speaker was talking
        assert any(s.speaker == word.speaker and s.start - 0.6 <= word.start <= word.end <= s.end + 0.6
                   for s in timeline)
    text = {line.speaker: "" for line in joined.lines}
    for line in joined.lines:
        text[line.speaker] += " " + line.text.lower()
    assert "morning" in text["agent"] and "internet" in text["customer"] and "march" in text["customer"]
    assert joined.redaction_ranges and {r["channel"] for r in joined.redaction_ranges} == {1}
