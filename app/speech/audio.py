"""Reading call audio: probe a file (format, channels, duration) and decode it to 16 kHz float32, one array
per channel. Any container/codec FFmpeg knows works (PyAV bundles FFmpeg): WAV, MP3, OGG/Opus, FLAC, M4A,
and the audio track of a video file. The file's extension is never trusted.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 16_000

AudioArray = NDArray[np.float32]


class AudioError(ValueError):
    """The file cannot be read as audio (corrupt, truncated to nothing, no audio track, empty)."""


@dataclass(frozen=True)
class AudioInfo:
    format: str
    channels: int
    sample_rate: int
    duration_seconds: float


def probe(path: Path) -> AudioInfo:
    """Container format, channel count, sample rate and duration of the first audio track.

    Raises AudioError with a readable reason when the file is not audio FFmpeg can open.
    """
    import av

    if not path.is_file():
        raise AudioError(f"the recording file is missing ({path.name})")
    if path.stat().st_size == 0:
        raise AudioError("the recording file is empty")
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError("the file has no audio track")
            stream = container.streams.audio[0]
            channels = int(stream.codec_context.channels or 0)
            rate = int(stream.codec_context.sample_rate or stream.rate or 0)
            duration = 0.0
            if container.duration:
                duration = float(container.duration) / 1_000_000
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            return AudioInfo(format=str(container.format.name), channels=channels, sample_rate=rate,
                             duration_seconds=duration)
    except AudioError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AudioError(f"the file is not readable audio ({_describe(exc)})") from exc


def decode_channels(path: Path, *, channels: int) -> list[AudioArray]:
    """The audio at 16 kHz float32: two arrays (left, right) for stereo and more, one for mono.

    Damaged frames in the middle are skipped; a file with no decodable audio raises AudioError.
    """
    import av
    from faster_whisper import decode_audio

    try:
        if channels >= 2:
            left, right = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=True)
            arrays = [np.asarray(left, dtype=np.float32), np.asarray(right, dtype=np.float32)]
        else:
            arrays = [np.asarray(decode_audio(str(path), sampling_rate=SAMPLE_RATE), dtype=np.float32)]
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AudioError(f"the audio could not be decoded ({_describe(exc)})") from exc
    if not arrays or arrays[0].size == 0:
        raise AudioError("the file holds no decodable audio")
    return arrays


def mix_down(arrays: list[AudioArray]) -> AudioArray:
    if len(arrays) == 1:
        return arrays[0]
    mixed: AudioArray = np.mean(np.stack(arrays), axis=0).astype(np.float32)
    return mixed


def seconds(array: AudioArray) -> float:
    return float(array.shape[0]) / SAMPLE_RATE


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:300]


BEEP_HZ = 1000.0
BEEP_LEVEL = 0.2


def bleep(arrays: list[AudioArray], ranges: list[tuple[float, float, int | None]]) -> list[AudioArray]:
    """Copies of the channels with each (start, end, channel) range replaced by a quiet 1 kHz tone;
    channel None means every channel (mono calls)."""
    out = [array.copy() for array in arrays]
    for start, end, channel in ranges:
        first, last = max(0, int(start * SAMPLE_RATE)), int(end * SAMPLE_RATE)
        targets = range(len(out)) if channel is None or channel >= len(out) else [channel]
        for index in targets:
            stop = min(last, out[index].shape[0])
            if stop <= first:
                continue
            t = np.arange(stop - first, dtype=np.float32) / SAMPLE_RATE
            out[index][first:stop] = (BEEP_LEVEL * np.sin(2 * np.pi * BEEP_HZ * t)).astype(np.float32)
    return out


def wav_bytes(arrays: list[AudioArray]) -> bytes:
    """16-bit PCM WAV at 16 kHz of one or two channels."""
    import io
    import wave

    frames = np.stack([np.clip(a, -1.0, 1.0) for a in arrays], axis=1)
    pcm = (frames * 32767).astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(len(arrays))
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(pcm)
    return buffer.getvalue()


ACTIVE_FRAME_SECONDS = 0.05
ACTIVE_FLOOR_DB = -45.0  # quieter than this is a muted line or background hiss


def active_intervals(audio: AudioArray, *, floor_db: float = ACTIVE_FLOOR_DB,
                     frame_seconds: float = ACTIVE_FRAME_SECONDS) -> list[tuple[float, float]]:
    """Where a channel carries sound (50 ms frames louder than `floor_db` dBFS, neighbours joined): tells a
    muted agent (a hold) from an agent talking where the recogniser heard no words."""
    frame = max(1, int(SAMPLE_RATE * frame_seconds))
    count = audio.size // frame
    if count == 0:
        return []
    rms = np.sqrt(np.mean(np.square(audio[: count * frame].reshape(count, frame), dtype=np.float64), axis=1))
    loud = 20.0 * np.log10(np.maximum(rms, 1e-10)) > floor_db
    spans: list[tuple[float, float]] = []
    for index in np.flatnonzero(loud):
        start = float(index) * frame_seconds
        if spans and start - spans[-1][1] < 1e-6:
            spans[-1] = (spans[-1][0], start + frame_seconds)
        else:
            spans.append((start, start + frame_seconds))
    return spans
