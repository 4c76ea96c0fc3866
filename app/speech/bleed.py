"""One party's voice heard in the other party's channel (echo, crosstalk, a codec mixing the channels).

On stereo calls a channel can carry the other side's voice far down (demo call 012: the customer channel holds
the agent's last sentence ~30-40 dB down, correlation ~1.0 with the agent channel at lag 0, an artefact of
24 kbit/s stereo Opus; phone lines add line echo, delayed by a few ms). Silero VAD keeps it as speech, so the
sentence is transcribed twice, once attributed to the wrong party.

`bleed_stretches` finds, inside each channel's speech pieces, the stretches that are not that party's own
speech: short frames where the channel is much quieter than the other one (`min_db` dB) AND correlated with it
at a small lag (normalised cross-correlation >= `min_correlation` within +-`max_lag` s), together with the
near-silent frames around them. Genuine overtalk is kept: both parties at comparable levels (less than
`min_db` apart), or a quiet party saying something else (not correlated). Thresholds: app/speech/README.md.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.speech.audio import SAMPLE_RATE, AudioArray

EPSILON = 1e-12


@dataclass(frozen=True)
class BleedOptions:
    min_db: float = 20.0  # the channel at least this much quieter than the other one ...
    min_correlation: float = 0.5  # ... and this correlated with it (|normalised cross-correlation|) ...
    max_lag: float = 0.02  # ... at some lag up to this many seconds either way (line echo is delayed)
    frame: float = 0.04  # frame length, seconds
    floor_db: float = -55.0  # a frame quieter than this (dBFS) is not anyone's speech
    min_bleed: float = 0.12  # drop a stretch only when it holds at least this many seconds of bleed frames
    keep: float = 0.2  # of the quiet frames next to the party's own speech, keep this many seconds


def level_db(frame: AudioArray) -> float:
    return 10.0 * float(np.log10(float(np.mean(np.square(frame, dtype=np.float64))) + EPSILON))


def correlation(own: AudioArray, other: AudioArray, start: int, length: int, lag: int) -> float:
    """The largest |normalised cross-correlation| between `own[start:start+length]` and the same stretch of
    `other` shifted by -lag..+lag samples."""
    frame = own[start:start + length].astype(np.float64)
    low, high = max(0, start - lag), min(len(other), start + length + lag)
    window = other[low:high].astype(np.float64)
    if len(window) < length:
        return 0.0
    products = np.correlate(window, frame, mode="valid")
    energy = np.concatenate([[0.0], np.cumsum(np.square(window))])
    norms = np.sqrt(energy[length:] - energy[:-length]) * float(np.linalg.norm(frame))
    return float(np.max(np.abs(products) / (norms + EPSILON)))


def frame_kinds(own: AudioArray, other: AudioArray, start: int, end: int,
                options: BleedOptions) -> list[str]:
    """Each frame of own[start:end]: "speech" (the party's own), "bleed" (the other side, far down and
    correlated) or "quiet" (below the floor, or far below the other side: neither speech nor evidence)."""
    length = max(1, round(options.frame * SAMPLE_RATE))
    lag = round(options.max_lag * SAMPLE_RATE)
    end = min(end, len(own), len(other))
    kinds = []
    for at in range(start, end, length):
        size = min(length, end - at)
        own_db = level_db(own[at:at + size])
        other_db = level_db(other[at:at + size])
        if own_db < options.floor_db:
            kinds.append("quiet")
        elif other_db - own_db < options.min_db:
            kinds.append("speech")
        elif size >= length // 2 and correlation(own, other, at, size, lag) >= options.min_correlation:
            kinds.append("bleed")
        else:
            kinds.append("speech")  # far quieter, but saying something else
    return kinds


def bleed_stretches(own: AudioArray, other: AudioArray, start: int, end: int,
                    options: BleedOptions) -> list[tuple[int, int]]:
    """Stretches of own[start:end] (samples) to drop as the other side's voice: each run of frames with no
    own speech that holds at least `min_bleed` s of bleed frames, less up to `keep` s of quiet frames next to
    the party's own speech (the lead-in and tail the recogniser needs)."""
    length = max(1, round(options.frame * SAMPLE_RATE))
    kinds = frame_kinds(own, other, start, end, options)
    needed = max(1, round(options.min_bleed / options.frame))
    keep = round(options.keep / options.frame)
    found: list[tuple[int, int]] = []
    index = 0
    while index < len(kinds):
        if kinds[index] == "speech":
            index += 1
            continue
        first = index
        while index < len(kinds) and kinds[index] != "speech":
            index += 1
        if kinds[first:index].count("bleed") >= needed:
            bleeds = [at for at in range(first, index) if kinds[at] == "bleed"]
            low = first if first == 0 else min(bleeds[0], first + keep)
            high = index if index == len(kinds) else max(bleeds[-1] + 1, index - keep)
            found.append((start + low * length, min(end, start + high * length)))
    return found


def split_piece(start: int, end: int, drops: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """What is left of start..end once the `drops` (sorted, inside it) are cut out."""
    kept, at = [], start
    for low, high in drops:
        if low > at:
            kept.append((at, low))
        at = max(at, high)
    if at < end:
        kept.append((at, end))
    return kept
