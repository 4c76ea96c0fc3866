"""A best-effort speaker split for mono calls, with no model: cluster short windows of speech into two voices.

Each window gets a voice fingerprint: its median pitch and the mean of its log band energies
(level-normalised, so loudness does not decide). k-means with two centres splits them, each word
takes its windows' majority; the side that greets ("thank you for calling", "how can I help", "my name is")
is the agent, else the side speaking first (most calls are inbound and the agent answers).

This works on clearly different voices (synthetic calls, handset vs headset) and fails on similar voices and
short backchannels; the result is stored as "estimated" and shown as uncertain. Stereo recordings (one party
per channel) avoid the problem altogether.
"""

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from app.speech.audio import SAMPLE_RATE, AudioArray
from app.speech.turns import TimedWord

FRAME = 400  # 25 ms at 16 kHz
HOP = 160  # 10 ms
BANDS = 24
PITCH_FRAME = 640  # 40 ms: two periods of a 60 Hz voice
PITCH_WEIGHT = 4
VOICED_RATIO = 0.35
AGENT_CUES = re.compile(
    r"thank(s| you) for (calling|holding|waiting)|how (can|may) i help|my name is|you'?re (through|speaking) to"
    r"|speaking[,.]? how|calling from|anything else|can i (take|have|confirm|get) your|let me (look|check|see)"
    r"|bear with me|i can see (that|your)|i'?ve (booked|added|arranged|sent)", re.IGNORECASE)


def _band_edges() -> NDArray[np.int64]:
    # log-spaced bands from 100 Hz to 7.6 kHz over the 201 FFT bins of a 400-sample frame
    freqs = np.geomspace(100, 7600, BANDS + 1)
    return np.unique(np.clip((freqs / (SAMPLE_RATE / 2) * (FRAME // 2)).astype(np.int64), 1, FRAME // 2))


def median_log_pitch(piece: NDArray[np.float64]) -> float | None:
    """Median log fundamental frequency (60-400 Hz) of the voiced 40 ms frames, by autocorrelation."""
    if piece.shape[0] < PITCH_FRAME * 2:
        return None
    frames = np.lib.stride_tricks.sliding_window_view(piece, PITCH_FRAME)[::HOP]
    frames = frames - frames.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(frames * np.hanning(PITCH_FRAME), n=2 * PITCH_FRAME, axis=1)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :PITCH_FRAME]
    low, high = SAMPLE_RATE // 400, SAMPLE_RATE // 60
    peaks = autocorrelation[:, low:high].max(axis=1)
    lags = autocorrelation[:, low:high].argmax(axis=1) + low
    voiced = peaks > VOICED_RATIO * autocorrelation[:, 0]
    if int(voiced.sum()) < 3:
        return None
    return float(np.median(np.log(SAMPLE_RATE / lags[voiced])))


def fingerprint(audio: AudioArray, start: float, end: float) -> NDArray[np.float64] | None:
    """The voice of a stretch of audio: its mean level-normalised log band energies over the louder frames
    (timbre) and its median pitch, repeated PITCH_WEIGHT times (after standardising, pitch then weighs
    as much as PITCH_WEIGHT bands: it separates most pairs of voices best)."""
    piece = audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)].astype(np.float64)
    if piece.shape[0] < FRAME * 3:
        return None
    count = 1 + (piece.shape[0] - FRAME) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(piece, FRAME)[::HOP][:count] * np.hanning(FRAME)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    edges = _band_edges()
    bands = np.stack([power[:, a:b].sum(axis=1) for a, b in zip(edges[:-1], edges[1:], strict=True)], axis=1)
    log = np.log10(bands + 1e-10)
    energy = log.max(axis=1)
    voiced = log[energy > np.percentile(energy, 40)]
    pitch = median_log_pitch(piece)
    if voiced.shape[0] < 3 or pitch is None:
        return None
    voiced = voiced - voiced.mean(axis=1, keepdims=True)
    result: NDArray[np.float64] = np.concatenate([voiced.mean(axis=0), np.full(PITCH_WEIGHT, pitch)])
    return result


WINDOW = 0.5  # seconds of audio per voice fingerprint
WINDOW_HOP = 0.2


def assign_speakers(words: Sequence[TimedWord], audio: AudioArray) -> tuple[list[TimedWord], bool]:
    """The words with speaker agent/customer estimated; False (words unchanged) when the call is too
    short or has one voice only.

    Short windows of speech are fingerprinted and split into two clusters; each word takes the majority
    label of the windows centred inside it, then lone words are smoothed over (a median of three).
    """
    from scipy.cluster.vq import kmeans2

    ordered = sorted(words, key=lambda w: w.start)
    if len(ordered) < 6:
        return list(words), False
    centres: list[float] = []
    prints: list[NDArray[np.float64]] = []
    for word in ordered:  # windows centred on each word, one every WINDOW_HOP along long words
        steps = max(1, int((word.end - word.start) / WINDOW_HOP))
        for step in range(steps):
            centre = word.start + (step + 0.5) * (word.end - word.start) / steps
            if centres and centre - centres[-1] < WINDOW_HOP / 2:
                continue
            fp = fingerprint(audio, max(0.0, centre - WINDOW / 2), centre + WINDOW / 2)
            if fp is not None:
                centres.append(centre)
                prints.append(fp)
    if len(prints) < 6:
        return list(words), False
    data = np.stack(prints)
    scale = data.std(axis=0)
    scale[scale == 0] = 1.0
    data = (data - data.mean(axis=0)) / scale
    _, labels = kmeans2(data, 2, minit="++", seed=7)
    if len(set(labels.tolist())) < 2:
        return list(words), False
    centre_array = np.asarray(centres)
    word_labels = []
    for word in ordered:
        inside = labels[(centre_array >= word.start) & (centre_array <= word.end)]
        if inside.size == 0:
            inside = labels[[int(np.argmin(np.abs(centre_array - (word.start + word.end) / 2)))]]
        word_labels.append(int(round(float(inside.mean()))))
    smoothed = [word_labels[0]] + [
        int(np.median(word_labels[i - 1:i + 2])) for i in range(1, len(word_labels) - 1)] + [word_labels[-1]]
    if len(word_labels) == 1:
        smoothed = word_labels
    # name the sides: the one using agent phrases is the agent, else the one speaking first
    cue_votes = [0, 0]
    runs: list[tuple[int, list[TimedWord]]] = []
    for word, label in zip(ordered, smoothed, strict=True):
        if runs and runs[-1][0] == label:
            runs[-1][1].append(word)
        else:
            runs.append((label, [word]))
    for label, run in runs:
        if AGENT_CUES.search(" ".join(w.text.strip() for w in run)):
            cue_votes[label] += 1
    agent_label = smoothed[0] if cue_votes[0] == cue_votes[1] else int(np.argmax(cue_votes))
    return [replace(w, speaker="agent" if label == agent_label else "customer")
            for w, label in zip(ordered, smoothed, strict=True)], True
