"""Windows encoded at their own length (app/speech/windows.py) and the joined speech cut into clips of whole
speech pieces (pipeline.piece_clips): an option, off by default, that must keep words on the right channel and
at the right time in the call when it is turned on."""

from dataclasses import replace

import faster_whisper
import numpy as np
import pytest

from app.core.settings import Settings
from app.speech import engine, windows
from app.speech.pipeline import Options, SpeechPiece, piece_clips, transcribe_file
from tests.speech_helpers import SCRIPT, call_files, needs_espeak

__all__ = ["call_files"]


def test_the_override_is_pinned_to_the_faster_whisper_it_was_written_against():
    # OwnLengthModel relies on generate_segments padding every window with zero columns (pad_or_trim) and
    # then calling self.encode: a new faster-whisper must be read again before this hash is updated
    assert faster_whisper.__version__ == windows.FASTER_WHISPER_VERSION
    assert windows.source_hashes() == windows.SOURCE_SHA256


def padded(content: int, total: int = 3000) -> np.ndarray:
    features = np.zeros((80, total), dtype=np.float32)
    features[:, :content] = np.random.default_rng(1).uniform(-1.0, 1.0, (80, content))
    features[:, content - 1] = -0.5  # a quiet last column is still content
    return features


def test_the_encoder_gets_the_content_and_the_margin_of_padding_only():
    assert windows.content_frames(padded(1234)) == 1234
    assert windows.content_frames(padded(3000)) == 3000
    assert windows.content_frames(np.zeros((80, 3000), dtype=np.float32)) == 0
    assert windows.encoder_frames(padded(1234), margin=300) == 1534
    assert windows.encoder_frames(padded(1233), margin=0) == 1234  # even: the encoder halves the frame count
    assert windows.encoder_frames(padded(2900), margin=300) == 3000  # never more than was given
    assert windows.encoder_frames(padded(50), margin=0) == windows.MIN_FRAMES
    assert windows.encoder_frames(padded(212), margin=300) == 514  # 512 frames would read as encoded output


def piece(offset: float, length: float, channel: int = 0) -> SpeechPiece:
    rate = 16000
    return SpeechPiece(role="agent", channel=channel, start=0, end=int(length * rate), offset=int(offset * rate))


def test_clips_are_whole_pieces_of_at_most_the_limit():
    pieces = [piece(0, 4), piece(4, 5, 1), piece(9, 8), piece(17, 20, 1), piece(37, 3)]
    assert piece_clips([], 10.0) == []
    assert piece_clips(pieces, 10.0) == [0.0, 9.0, 9.0, 17.0, 17.0, 37.0, 37.0, 40.0]
    assert piece_clips(pieces, 30.0) == [0.0, 17.0, 17.0, 40.0]
    assert piece_clips(pieces[:1], 2.0) == [0.0, 4.0]  # a piece longer than the limit is a clip of its own


def test_the_default_decoding_is_faster_whispers_own():
    options = engine.decoding_options(Settings(_env_file=None), queue=None)
    assert options.window_seconds is None and options.encoder_margin is None


@pytest.mark.slow
@needs_espeak
def test_short_windows_keep_words_on_their_channel_and_at_their_time(call_files):
    files, timeline = call_files
    model = engine.load_model(Settings(_env_file=None, speech_model="tiny.en"))
    seen: list[int] = []

    class Watched(windows.OwnLengthModel):
        def encode(self, features):
            seen.append(windows.encoder_frames(features, self.margin))
            return super().encode(features)

    watched = windows.view(model, Watched, margin=100)
    options = replace(Options(), stereo_mode="joined", window_seconds=6.0, encoder_margin=1.0)
    short = transcribe_file(files["stereo"], model=watched, options=options)
    assert len(seen) >= 2 and max(seen) < 3000  # several clips, none encoded padded to 30 s
    assert [(line.speaker, line.channel) for line in short.lines] == [
        (line.speaker, index % 2) for index, line in enumerate(SCRIPT)]
    for line, spoken in zip(short.lines, timeline, strict=True):
        assert abs(line.start - spoken.start) < 1.0 and line.end <= spoken.end + 1.0
    for word in short.words:
        assert any(s.speaker == word.speaker and s.start - 0.6 <= word.start <= word.end <= s.end + 0.6
                   for s in timeline)
    text = " ".join(line.text.lower() for line in short.lines)
    assert all(word in text for word in ("morning", "internet", "reset", "march"))
    assert short.redaction_ranges and {r["channel"] for r in short.redaction_ranges} == {1}
