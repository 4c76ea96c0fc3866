"""The transcription pipeline, as plain functions: audio file → timed words per channel → turns →
redacted lines, audio ranges to mute, and talk metrics. No database here (see service.py / tasks.py).

Stereo calls (one party per channel): each channel's speech is found with Silero VAD, the pieces of both
parties are joined in time order and decoded in one pass with word timestamps, and every word is mapped
back to its channel and time (`transcribe_joined`; `stereo_mode="channels"` decodes each channel on its own
instead); the words are merged by time into turns. Stretches of a channel that are the other party's voice far
down and correlated with it (echo, crosstalk) are left out first (`Options.bleed`, app/speech/bleed.py).
Mono calls: the one channel is transcribed without VAD (VAD cost ~7 WER points on mono mixes, see the
notes); its lines are stored as speaker "unknown" and the page says "speakers not separated". With
EARSHOT_SPEECH_MONO_SPLIT the speakers are estimated by clustering the voice of each utterance
(app/speech/diarize.py), stored as "estimated" and shown as uncertain; off by default because on a real mono
phone call the estimate was no better than giving every word one label.
"""

import bisect
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from app.speech.audio import (
    SAMPLE_RATE,
    AudioArray,
    AudioInfo,
    active_intervals,
    bleep,
    decode_channels,
    probe,
    seconds,
    wav_bytes,
)
from app.speech.bleed import BleedOptions, bleed_stretches, split_piece
from app.speech.diarize import assign_speakers
from app.speech.metrics import HOLD_SECONDS, TalkMetrics, compute_metrics
from app.speech.redaction import LABELS, KnownValues, beep_ranges, redact_words
from app.speech.turns import UNKNOWN, TimedWord, Turn, group_turns, repair_stray_words

log = logging.getLogger("earshot.speech")
ProgressFn = Callable[[float, str], None]
ROLES = ("agent", "customer")
DEFAULT_CHANNEL_MAP = {"0": "agent", "1": "customer"}
SEPARATION_CHANNELS = "channels"  # one party per channel: the speaker of every line is known
SEPARATION_ESTIMATED = "estimated"  # mono: speakers estimated from voice differences (app/speech/diarize.py)
SEPARATION_NONE = "none"  # mono: speakers not separated
SILENCE_PEAK = 1e-3  # -60 dBFS


@dataclass(frozen=True)
class Options:
    beam_size: int = 5
    language: str | None = "en"
    stereo_vad: bool = True
    mono_vad: bool = False
    mono_split: bool = False  # estimate agent/customer on mono calls (EARSHOT_SPEECH_MONO_SPLIT; see diarize.py)
    # faster-whisper's defaults. Two steps (0, 0.4) without conditioning looked better on 6 demo calls
    # (-6 WER points, -18 % CPU) but worse on all 15 (customer WER 45 -> 70 %): the fallback samples at
    # temperature > 0, so results vary from run to run. Kept configurable; see app/speech/README.md
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    condition_on_previous_text: bool = True
    # tiny.en loops on spoken digits ("4-1-1-1-1-1-..." for a whole window, then re-decodes at higher
    # temperatures). Forbidding a repeated 5-gram cut the CPU of 6 demo customer channels from 17.0 to
    # 7.4 s with WER 58.3 -> 55.7 %. Real speech rarely repeats five tokens in a row.
    no_repeat_ngram_size: int = 5
    hold_seconds: float = HOLD_SECONDS
    # base loops on phone audio without it (needs word timestamps, which every call here asks for)
    hallucination_silence_threshold: float | None = None
    # the deployment's brand, product and place names (app/core/vocabulary.py), as decoder hot words
    hotwords: str | None = None
    initial_prompt: str | None = None
    # stereo: "joined" = each channel's speech (Silero VAD) cut out and the pieces of both parties put one
    # after the other in time order, decoded in ONE pass and mapped back to channel and time; "channels" =
    # each channel decoded on its own (two passes, each with its own partly-empty 30 s windows)
    stereo_mode: Literal["joined", "channels"] = "joined"
    # "joined": the joined speech cut into clips of whole speech pieces of at most this many seconds, each
    # decoded in its own window(s); None = faster-whisper's 30 s windows over the whole joined audio
    window_seconds: float | None = None
    # every window encoded at its own length plus this many seconds of its padding (app/speech/windows.py);
    # None = padded to 30 s as faster-whisper does. Both off by default: with beam 1 they gave x1.53 plain's
    # throughput over the 15 demo calls, at 2.5-5 WER points more than plain (app/speech/README.md)
    encoder_margin: float | None = None
    # stereo: the stretches of a channel's speech that are the other party's voice far down and correlated
    # with it (echo, crosstalk: app/speech/bleed.py) are left out before decoding; None = kept (transcribed
    # twice, once as the wrong party). Demo call 012: 6 s of the agent's voice in the customer channel
    bleed: BleedOptions | None = BleedOptions()


@dataclass
class Line:
    """One stored transcript line (a turn) with its redaction."""

    seq: int
    speaker: str
    channel: int | None
    start: float
    end: float
    text: str
    redacted_text: str
    words: list[dict[str, Any]]
    confidence: float


@dataclass
class Transcript:
    info: AudioInfo
    lines: list[Line]
    words: list[TimedWord]
    metrics: TalkMetrics
    speaker_separation: str
    redaction_ranges: list[dict[str, Any]] = field(default_factory=list)
    # stereo: what was left out as the other party's voice (bleed.py): {"channel", "start", "end"} seconds
    bleed_dropped: list[dict[str, Any]] = field(default_factory=list)
    audio_seconds: float = 0.0
    processing_seconds: float = 0.0


def channel_roles(channel_map: dict[str, str] | None, channels: int) -> list[str]:
    """The speaker role of each channel to transcribe: [agent, customer] for stereo (default left = agent),
    [unknown] for mono. Roles other than agent/customer (e.g. "mixed") become unknown."""
    if channels < 2:
        return [UNKNOWN]
    mapping = channel_map if channel_map and any(v in ROLES for v in channel_map.values()) else DEFAULT_CHANNEL_MAP
    return [role if (role := str(mapping.get(str(i), UNKNOWN)).lower()) in ROLES else UNKNOWN for i in range(2)]


def same_signal(arrays: Sequence[AudioArray]) -> bool:
    """A "stereo" file whose channels carry the same audio (a mono call saved as stereo)."""
    if len(arrays) < 2:
        return True
    left, right = arrays[0], arrays[1]
    return bool(left.shape == right.shape and np.max(np.abs(left - right), initial=0.0) < 1e-3)


def is_silent(audio: AudioArray) -> bool:
    """Digital silence (a dead channel, an empty call): nothing to transcribe. The recogniser would
    otherwise "hear" something in it (tiny.en says "You")."""
    return audio.size == 0 or float(np.max(np.abs(audio))) < SILENCE_PEAK


def decode(model: Any, audio: AudioArray, *, options: Options, vad: bool,
           clips: Sequence[float] | None = None) -> Iterable[Any]:
    """The recogniser's segments (a lazy generator: decoding happens while iterating), always with word timings,
    decoded with the call's options; the one place the model is asked. `clips`: start, end, start, end, ...
    seconds, no window crossing a clip's end (None: the whole audio; faster-whisper applies `vad` only then)."""
    segments: Iterable[Any]
    if options.encoder_margin is not None:
        from app.speech.windows import over

        model = over(model, options.encoder_margin)
    segments, _info = model.transcribe(audio, language=options.language, beam_size=options.beam_size,
                                       vad_filter=vad, word_timestamps=True, temperature=list(options.temperatures),
                                       clip_timestamps="0" if clips is None else list(clips),
                                       condition_on_previous_text=options.condition_on_previous_text,
                                       no_repeat_ngram_size=options.no_repeat_ngram_size,
                                       hallucination_silence_threshold=options.hallucination_silence_threshold,
                                       hotwords=options.hotwords, initial_prompt=options.initial_prompt)
    return segments


def transcribe_channel(model: Any, audio: AudioArray, *, role: str, channel: int | None, options: Options,
                       vad: bool, on_progress: Callable[[float], None] | None = None) -> list[TimedWord]:
    """Timed words of one channel. `on_progress` gets the fraction of the channel done."""
    duration = max(seconds(audio), 1e-6)
    if is_silent(audio):
        if on_progress is not None:
            on_progress(1.0)
        return []
    segments = decode(model, audio, options=options, vad=vad)
    words: list[TimedWord] = []
    for number, segment in enumerate(segments):  # a lazy generator: decoding happens while iterating
        for word in segment.words or []:
            if word.word.strip():
                words.append(TimedWord(text=word.word, start=float(word.start), end=float(word.end),
                                       probability=float(word.probability), speaker=role, channel=channel,
                                       segment=number))
        if on_progress is not None:
            on_progress(min(1.0, float(segment.end) / duration))
    return repair_stray_words(words)


@dataclass(frozen=True)
class SpeechPiece:
    """One stretch of one party's speech: where it is in its channel and where it sits in the joined audio
    (all in samples)."""

    role: str
    channel: int
    start: int
    end: int
    offset: int


def speech_pieces(arrays: Sequence[AudioArray], roles: Sequence[str], *, bleed: BleedOptions | None = None,
                  dropped: list[dict[str, Any]] | None = None) -> list[SpeechPiece]:
    """Every channel's speech (Silero VAD, faster-whisper's own defaults), in order of time, laid end to end.
    With `bleed` (two channels), the stretches of a piece that are the other channel's voice (bleed.py) are cut
    out of it and listed in `dropped` ({"channel", "start", "end"} seconds)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    found = []
    for channel, (audio, role) in enumerate(zip(arrays, roles, strict=True)):
        if is_silent(audio):
            continue
        for chunk in get_speech_timestamps(audio, VadOptions()):
            start, end = chunk["start"], chunk["end"]
            drops = [] if bleed is None or len(arrays) != 2 else bleed_stretches(
                audio, arrays[1 - channel], start, end, bleed)
            for low, high in drops:
                if dropped is not None:
                    dropped.append({"channel": channel, "start": round(low / SAMPLE_RATE, 2),
                                    "end": round(high / SAMPLE_RATE, 2)})
            found += [(low, high, channel, role) for low, high in split_piece(start, end, drops)]
    pieces, offset = [], 0
    for start, end, channel, role in sorted(found):
        pieces.append(SpeechPiece(role=role, channel=channel, start=start, end=end, offset=offset))
        offset += end - start
    return pieces


def piece_clips(pieces: Sequence[SpeechPiece], limit: float) -> list[float]:
    """Clips of the joined audio (start, end, start, end, ... seconds) made of whole pieces, each at most
    `limit` seconds unless one piece alone is longer."""
    if not pieces:
        return []
    bounds, start = [], 0
    for piece in pieces:
        if piece.offset > start and piece.offset + piece.end - piece.start - start > limit * SAMPLE_RATE:
            bounds += [start, piece.offset]
            start = piece.offset
    bounds += [start, pieces[-1].offset + pieces[-1].end - pieces[-1].start]
    return [round(b / SAMPLE_RATE, 2) for b in bounds]


def transcribe_joined(model: Any, arrays: Sequence[AudioArray], roles: Sequence[str], *, options: Options,
                      on_progress: Callable[[float], None] | None = None,
                      dropped: list[dict[str, Any]] | None = None) -> list[TimedWord]:
    """Timed words of a stereo call in one decoding pass: the parties' speech joined in time order (silences,
    the other side's turns and, with `options.bleed`, the other side's voice bleeding into a channel left out;
    the latter listed in `dropped`), each word mapped back, by its middle, to the piece it was said in: its
    channel, its speaker and its time in the call."""
    pieces = speech_pieces(arrays, roles, bleed=options.bleed, dropped=dropped)
    if not pieces:
        if on_progress is not None:
            on_progress(1.0)
        return []
    joined = np.concatenate([arrays[p.channel][p.start:p.end] for p in pieces])
    ends = [(p.offset + p.end - p.start) / SAMPLE_RATE for p in pieces]
    duration = max(seconds(joined), 1e-6)
    clips = None if options.window_seconds is None else piece_clips(pieces, options.window_seconds)
    segments = decode(model, joined, options=options, vad=False, clips=clips)
    words: list[TimedWord] = []
    for number, segment in enumerate(segments):  # a lazy generator: decoding happens while iterating
        for word in segment.words or []:
            if not word.word.strip():
                continue
            piece = pieces[min(bisect.bisect_right(ends, (word.start + word.end) / 2), len(pieces) - 1)]
            begin, finish = piece.offset / SAMPLE_RATE, (piece.offset + piece.end - piece.start) / SAMPLE_RATE
            shift = piece.start / SAMPLE_RATE - begin
            words.append(TimedWord(text=word.word, start=round(min(max(word.start, begin), finish) + shift, 3),
                                   end=round(min(max(word.end, begin), finish) + shift, 3),
                                   probability=float(word.probability), speaker=piece.role, channel=piece.channel,
                                   segment=number))
        if on_progress is not None:
            on_progress(min(1.0, float(segment.end) / duration))
    by_channel = [repair_stray_words([w for w in words if w.channel == channel]) for channel in range(len(arrays))]
    return [word for channel_words in by_channel for word in channel_words]


def transcribe_file(path: Path, *, model: Any, channel_map: dict[str, str] | None = None,
                    options: Options | None = None, progress: ProgressFn | None = None,
                    info: AudioInfo | None = None) -> Transcript:
    """Transcribe one recording (`info`: its probe, when the caller has it already).
    Raises AudioError (from audio.py) when the file is not usable audio."""
    options = options or Options()
    began = time.perf_counter()
    info = probe(path) if info is None else info
    arrays = decode_channels(path, channels=info.channels)
    audio_seconds = seconds(arrays[0])
    stereo = len(arrays) >= 2 and not same_signal(arrays)
    roles = channel_roles(channel_map, 2 if stereo else 1)
    if not stereo:
        arrays = arrays[:1]
    dropped: list[dict[str, Any]] = []
    if stereo and options.stereo_mode == "joined":
        def report_joined(fraction: float) -> None:
            if progress is not None:
                progress(fraction, "Transcribing both channels")

        words = transcribe_joined(model, arrays[:2], roles, options=options, on_progress=report_joined,
                                  dropped=dropped)
    else:
        words = []
        if stereo and options.bleed is not None:  # each channel decoded on its own: its bleed silenced
            speech_pieces(arrays[:2], roles, bleed=options.bleed, dropped=dropped)
            arrays = [audio.copy() for audio in arrays[:2]]
            for item in dropped:
                arrays[item["channel"]][round(item["start"] * SAMPLE_RATE):round(item["end"] * SAMPLE_RATE)] = 0.0
        for index, (audio, role) in enumerate(zip(arrays, roles, strict=True)):
            label = f"Transcribing channel {index + 1}/{len(arrays)} ({role})" if stereo else "Transcribing"

            def report(fraction: float, index: int = index, label: str = label) -> None:
                if progress is not None:
                    progress((index + fraction) / len(arrays), label)

            words += transcribe_channel(model, audio, role=role, channel=index if stereo else None,
                                        options=options, vad=options.stereo_vad if stereo else options.mono_vad,
                                        on_progress=report)
    separation = SEPARATION_CHANNELS if stereo else SEPARATION_NONE
    if not stereo and options.mono_split:
        words, split = assign_speakers(words, arrays[0])
        separation = SEPARATION_ESTIMATED if split else SEPARATION_NONE
    agent_active = active_intervals(arrays[roles.index("agent")]) if stereo and "agent" in roles else None
    transcript = build_transcript(words, info=info, duration=max(audio_seconds, info.duration_seconds),
                                  separation=separation, options=options, agent_active=agent_active)
    transcript.bleed_dropped = dropped
    if dropped:
        log.info("left out as the other party's voice (bleed): %s", ", ".join(
            f"channel {d['channel']} {d['start']:.2f}-{d['end']:.2f} s" for d in dropped))
    transcript.audio_seconds = audio_seconds
    transcript.processing_seconds = time.perf_counter() - began
    return transcript


def build_transcript(words: list[TimedWord], *, info: AudioInfo, duration: float, separation: str,
                     options: Options | None = None,
                     agent_active: list[tuple[float, float]] | None = None) -> Transcript:
    """Turns, redaction and metrics from timed words (pure: unit-tested without the model); `agent_active`:
    where the agent's channel carries sound (stereo), see metrics.compute_metrics."""
    options = options or Options()
    turns = group_turns(words)
    lines: list[Line] = []
    ranges: list[dict[str, Any]] = []
    known = KnownValues()  # a value found in one line is redacted where either side repeats it
    for seq, turn in enumerate(turns):
        line, line_ranges = redact_turn(seq, turn, context=lines[-1].text if lines else "", known=known)
        lines.append(line)
        ranges += line_ranges
    metrics = compute_metrics(words, duration=duration, hold_seconds=options.hold_seconds,
                              turn_count=len(turns) if separation == SEPARATION_NONE else None,
                              agent_active=agent_active)
    return Transcript(info=info, lines=lines, words=words, metrics=metrics, speaker_separation=separation,
                      redaction_ranges=ranges)


def redact_turn(seq: int, turn: Turn, *, context: str = "",
                known: KnownValues | None = None) -> tuple[Line, list[dict[str, Any]]]:
    redaction = redact_words(turn.words, context=context, known=known)
    words = []
    for word, flag in zip(turn.words, redaction.flags, strict=True):
        item = word.as_json()
        if flag is not None:
            item["pii"] = flag
        words.append(item)
    ranges = [{"start": round(start, 2), "end": round(end, 2), "kind": kind, "channel": turn.channel,
               "speaker": turn.speaker} for start, end, kind in redaction.ranges]
    line = Line(seq=seq, speaker=turn.speaker, channel=turn.channel, start=round(turn.start, 2),
                end=round(turn.end, 2), text=redaction.text, redacted_text=redaction.redacted_text, words=words,
                confidence=round(turn.confidence, 3))
    return line, ranges


def redacted_audio(path: Path, transcript: Transcript) -> bytes | None:
    """A 16 kHz WAV copy of the call with every redaction range beeped (None when nothing is redacted)."""
    if not transcript.redaction_ranges:
        return None
    arrays = decode_channels(path, channels=transcript.info.channels)
    if transcript.speaker_separation != SEPARATION_CHANNELS:
        arrays = arrays[:1]
    return wav_bytes(bleep(arrays, beep_ranges(transcript.redaction_ranges)))


def redacted_words(words: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored word timings with flagged words replaced by their label (what non-privileged users see)."""
    return [{**w, "w": LABELS.get(str(w["pii"]), "[REDACTED]")} if w.get("pii") else w for w in words]
