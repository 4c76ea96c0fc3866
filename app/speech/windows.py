"""faster-whisper's `WhisperModel` with every window encoded at the length of the audio it holds.

faster-whisper cuts the log-mel features into windows of at most 30 s and pads each one with zero columns to
3000 frames before the encoder (`pad_or_trim` in `generate_segments`), so a window holding 10 s of speech
costs the encoder as much as a full one. Whisper's encoder is not linear in its input: with base, int8 and
2 threads, 30 s cost ~0.48 s CPU here, 20 s ~0.18 s, 15 s ~0.12 s, 10 s ~0.065 s (app/speech/README.md).
CTranslate2's encoder takes shorter input, so `OwnLengthModel.encode` drops the padding columns beyond a
margin before encoding; the decoder and the word alignment then attend over the shorter output. Nothing else
of faster-whisper changes: one method is overridden, and tests/unit/test_speech_windows.py fails when the
installed faster-whisper is not the version whose `generate_segments`, `encode` and `pad_or_trim` this was
written against (their source hashes below).

Used only when `pipeline.Options.encoder_margin` is set (off by default: measured, it costs accuracy on
telephone-band audio; app/speech/README.md). `over(model)` gives the loaded weights this behaviour without a
second load; `stock(model)` gives them the stock class (bench/speech.py's "plain faster-whisper").
"""

import hashlib
import inspect
from typing import Any

import numpy as np
from faster_whisper import WhisperModel, transcribe

# the faster-whisper this was written against, and the sha256 of the source of what it relies on:
# generate_segments pads each window with zero columns (pad_or_trim) and then calls self.encode
FASTER_WHISPER_VERSION = "1.2.1"
SOURCE_SHA256 = {
    "generate_segments": "d6594a8b7ab423353af9b464b5383f3d04e8e692d0c8cef89fe640b9123a6be9",
    "encode": "ad054a9f61ded8456c0938e278d2edbcbb69453b07d2e1139bfabc6b5086ab0e",
    "pad_or_trim": "aa264b40d16df0ee7f0f9421ac5e8692ffb5c88f3c36e33c29bb3792f388cb08",
}
FRAMES_PER_SECOND = 100
MIN_FRAMES = 200  # 2 s: the shortest input the encoder is given


def source_hashes() -> dict[str, str]:
    """The sha256 of the installed faster-whisper's source of what OwnLengthModel relies on."""
    sources = {"generate_segments": WhisperModel.generate_segments, "encode": WhisperModel.encode,
               "pad_or_trim": transcribe.pad_or_trim}
    return {name: hashlib.sha256(inspect.getsource(item).encode()).hexdigest() for name, item in sources.items()}


def content_frames(features: np.ndarray) -> int:
    """The number of leading feature columns that are not padding: faster-whisper pads with columns of exact
    zeros, which no audio gives (a log-mel column is 0.0 in all 80 bands only at one exact level)."""
    filled = np.flatnonzero(np.any(features != 0.0, axis=-2)) if features.size else np.empty(0, dtype=int)
    return int(filled[-1]) + 1 if filled.size else 0


def encoder_frames(features: np.ndarray, margin: int, min_frames: int = MIN_FRAMES) -> int:
    """How many frames to encode: the content plus `margin` frames of its padding, at least `min_frames`, at
    most what was given, even (the encoder's convolution halves the frame count) and never 512 (CTranslate2
    takes a [.., 512] array of base's width for an already encoded one)."""
    total = int(features.shape[-1])
    frames = min(total, max(content_frames(features) + margin, min_frames))
    frames += frames % 2
    if frames == 512:
        frames += 2
    return min(frames, total)


class OwnLengthModel(WhisperModel):  # type: ignore[misc]
    """WhisperModel whose encoder gets each window's audio and `margin` frames of the zero padding after it."""

    margin = 3 * FRAMES_PER_SECOND

    def encode(self, features: np.ndarray) -> Any:
        frames = encoder_frames(features, self.margin)
        if frames < features.shape[-1]:
            features = np.ascontiguousarray(features[..., :frames])
        return super().encode(features)


def view(model: Any, cls: Any, **attributes: Any) -> Any:
    """`model`'s loaded weights seen through another class, without a second load or copy in memory."""
    seen = object.__new__(cls)
    seen.__dict__.update(model.__dict__)
    for name, value in attributes.items():
        setattr(seen, name, value)
    return seen


def over(model: Any, margin_seconds: float) -> Any:
    """The loaded model, encoding every window at its own length plus `margin_seconds` of padding (its own
    class kept when it is an OwnLengthModel already)."""
    cls = type(model) if isinstance(model, OwnLengthModel) else OwnLengthModel
    return view(model, cls, margin=round(margin_seconds * FRAMES_PER_SECOND))


def stock(model: Any) -> Any:
    """The loaded model as the stock faster-whisper class (what "plain faster-whisper" means in the bench)."""
    return view(model, WhisperModel)
