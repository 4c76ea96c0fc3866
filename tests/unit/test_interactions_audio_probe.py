"""Audio probing: every accepted container decodes; empty, truncated and non-audio files are refused."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from app.core.errors import InvalidInput
from app.ingest.audio import probe_audio


def encode(path: Path, codec: str, *, rate: int = 16000, seconds: float = 1.0, layout: str = "stereo") -> Path:
    """Write a sine tone with PyAV (the container is chosen from the file name)."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        samples = int(rate * seconds)
        t = np.arange(samples) / rate
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        channels = 2 if layout == "stereo" else 1
        frame_size = stream.codec_context.frame_size or 1024
        data = np.tile(tone, (channels, 1))
        fmt = stream.codec_context.format.name
        for start in range(0, samples, frame_size):
            chunk = data[:, start:start + frame_size]
            if fmt.endswith("p"):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk).astype(_dtype(fmt)), format=fmt,
                                                   layout=layout)
            else:
                frame = av.AudioFrame.from_ndarray(chunk.T.reshape(1, -1).astype(_dtype(fmt)), format=fmt,
                                                   layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _dtype(fmt: str) -> type:
    return {"flt": np.float32, "fltp": np.float32, "s16": np.int16, "s16p": np.int16, "s32": np.int32,
            "s32p": np.int32, "dbl": np.float64, "dblp": np.float64}[fmt]


@pytest.mark.parametrize(("name", "codec", "rate", "expected"), [
    ("a.mp3", "libmp3lame", 16000, "mp3"),
    ("a.ogg", "libopus", 48000, "ogg/opus"),
    ("a.flac", "flac", 16000, "flac"),
    ("a.m4a", "aac", 16000, "m4a"),
    ("a.wav", "pcm_s16le", 16000, "wav"),
])
def test_accepted_formats(tmp_path, name, codec, rate, expected):
    info = probe_audio(encode(tmp_path / name, codec, rate=rate))
    assert info.format == expected
    assert info.channels == 2 and info.sample_rate == rate
    assert 0.9 < info.duration_seconds < 1.2


def test_mono_wav(tmp_path):
    info = probe_audio(encode(tmp_path / "m.wav", "pcm_s16le", layout="mono"))
    assert info.channels == 1


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty"),
    (b"hello, I am a text file pretending to be audio\n" * 20, "not a readable audio file"),
    (b"%PDF-1.4\n" + b"0" * 500, "not an audio file: it is a PDF document"),
])
def test_refused_files(tmp_path, content, reason):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=reason):
        probe_audio(path)


@pytest.mark.parametrize(("name", "codec"), [("t.wav", "pcm_s16le"), ("t.mp3", "libmp3lame"), ("t.flac", "flac")])
def test_truncated_files_are_refused(tmp_path, name, codec):
    full = encode(tmp_path / f"full-{name}", codec, seconds=2.0)
    truncated = tmp_path / name
    truncated.write_bytes(full.read_bytes()[: full.stat().st_size // 4])
    with pytest.raises(InvalidInput, match="truncated|not a readable"):
        probe_audio(truncated)
