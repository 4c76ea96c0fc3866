"""Probing audio with PyAV (FFmpeg): a file is accepted only when it really decodes as audio in one of
the supported containers. Truncated files are caught by decoding to the end and comparing the decoded
length with the length the container declares."""

from dataclasses import dataclass
from pathlib import Path

import av

from app.core.errors import InvalidInput
from app.core.inputs import sniff_binary, sniff_html

# FFmpeg demuxer name → the format we record
ACCEPTED_CONTAINERS = {
    "wav": "wav",
    "mp3": "mp3",
    "ogg": "ogg",
    "flac": "flac",
    "mov,mp4,m4a,3gp,3g2,mj2": "m4a",
}
MIN_DECODED_RATIO = 0.9


@dataclass(frozen=True)
class AudioInfo:
    format: str  # wav, mp3, ogg/opus, ogg/vorbis, flac, m4a
    codec: str
    duration_seconds: float
    channels: int
    sample_rate: int


def probe_audio(path: Path) -> AudioInfo:
    """Open and fully decode `path`. Raises InvalidInput with the reason when it is empty, not audio,
    in an unsupported container, truncated or corrupt."""
    if path.stat().st_size == 0:
        raise InvalidInput("the file is empty")
    with path.open("rb") as handle:  # archives, documents and pages never reach the decoders
        head = handle.read(64)
    kind = sniff_binary(head) or ("an HTML page" if sniff_html(head) else None)
    if kind is not None:
        raise InvalidInput(f"not an audio file: it is {kind}")
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, EOFError, OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"not a readable audio file ({_reason(exc)})") from exc
    try:
        kind = ACCEPTED_CONTAINERS.get(container.format.name)
        if kind is None:
            raise InvalidInput(f"unsupported format {container.format.name!r}; accepted: WAV, MP3, OGG/Opus, "
                               "FLAC, M4A")
        if container.streams.video and not all(s.disposition & 1024 for s in container.streams.video):
            raise InvalidInput("the file holds video, not just audio")  # 1024 = attached picture (cover art)
        if not container.streams.audio:
            raise InvalidInput("the file has no audio stream")
        stream = container.streams.audio[0]
        sample_rate = int(stream.sample_rate or stream.codec_context.sample_rate or 0)
        channels = int(stream.codec_context.channels or 0)
        codec = stream.codec_context.name
        declared = _declared_seconds(container, stream)
        samples = 0
        try:
            for frame in container.decode(stream):
                samples += frame.samples
                sample_rate = sample_rate or int(frame.sample_rate)
        except (av.error.FFmpegError, EOFError) as exc:
            raise InvalidInput(f"the audio is truncated or corrupt ({_reason(exc)})") from exc
    finally:
        container.close()
    if samples == 0 or sample_rate == 0:
        raise InvalidInput("the file holds no audio samples")
    decoded = samples / sample_rate
    if declared and decoded < declared * MIN_DECODED_RATIO - 0.1:
        raise InvalidInput(f"the audio is truncated: {decoded:.2f} s decoded of {declared:.2f} s declared")
    if kind == "wav":
        _check_wav_length(path)
    if kind == "ogg":
        kind = f"ogg/{codec}"
    return AudioInfo(format=kind, codec=codec, duration_seconds=round(decoded, 3), channels=channels,
                     sample_rate=sample_rate)


def _check_wav_length(path: Path) -> None:
    """FFmpeg clamps a WAV's declared data size to the file, so compare the RIFF `data` chunk ourselves."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if handle.read(12)[:4] not in (b"RIFF", b"RIFX"):
            return  # RF64 and friends: trust the decoder
        offset = 12
        while offset + 8 <= size:
            handle.seek(offset)
            header = handle.read(8)
            chunk_id, chunk_size = header[:4], int.from_bytes(header[4:8], "little")
            if chunk_id == b"data":
                if chunk_size not in (0, 0xFFFFFFFF) and offset + 8 + chunk_size > size:
                    raise InvalidInput(f"the audio is truncated: the WAV header declares {chunk_size} bytes of "
                                       f"audio, the file holds {size - offset - 8}")
                return
            offset += 8 + chunk_size + (chunk_size & 1)


def _declared_seconds(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return None


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc.__class__.__name__)
