"""Speech benchmark: Earshot's transcription pipeline against a plain faster-whisper baseline, in the same
process, with the same model object, on the same files (not a timed test; run `python bench/speech.py`).

  (a) baseline: `model.transcribe(<call as mono 16 kHz>)` with faster-whisper's default arguments
      (beam 5, no VAD, no word timestamps), the text of its segments in order.
  (b) earshot: app.speech.pipeline.transcribe_file (stereo: per channel, VAD, word timestamps, time-sorted
      turns; mono: one pass without VAD), beam from the settings (5).
  (c) earshot with beam 1 (the cheaper setting, for the speed/accuracy trade-off).

Calls: demo/calls/manifest.csv + <id>.txt reference scripts (AGENT:/CUSTOMER: lines), or --calls DIR, or
--synthetic N espeak-ng calls made on the fly. The calls of each configuration are interleaved per call, so
a busy machine slows all of them alike; CPU seconds (user+sys of this process) are printed beside wall time
because they depend much less on other load.

WER = (substitutions + deletions + insertions) / reference words, word-level Levenshtein (rapidfuzz), after
normalising both sides. strict: lowercase, punctuation and apostrophes removed. lenient: also contractions
expanded ("it's" → "it is"), "mr" → "mister", "ok" → "okay", and every digit spelled as a single word with
"zero".."nine" and "oh" mapped to the same ("1988" == "one nine eight eight").
"""

import argparse
import csv
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz.distance import Levenshtein  # noqa: E402

from app.core.settings import Settings  # noqa: E402
from app.speech import engine  # noqa: E402
from app.speech.audio import decode_channels, mix_down, probe, seconds  # noqa: E402
from app.speech.pipeline import Options, transcribe_file  # noqa: E402
from app.speech.synthetic import ScriptLine, parse_script, synthesize_call  # noqa: E402

CONTRACTIONS = {
    "it's": "it is", "i'm": "i am", "you're": "you are", "we're": "we are", "they're": "they are",
    "i've": "i have", "you've": "you have", "we've": "we have", "i'll": "i will", "you'll": "you will",
    "we'll": "we will", "i'd": "i would", "you'd": "you would", "that's": "that is", "there's": "there is",
    "what's": "what is", "here's": "here is", "let's": "let us", "don't": "do not", "doesn't": "does not",
    "didn't": "did not", "can't": "can not", "cannot": "can not", "won't": "will not", "isn't": "is not",
    "aren't": "are not", "wasn't": "was not", "haven't": "have not", "hasn't": "has not", "couldn't": "could not",
    "wouldn't": "would not", "shouldn't": "should not", "he's": "he is", "she's": "she is",
}
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SPOKEN_DIGITS = {**{w: w for w in DIGITS}, "oh": "zero"}
WORD_SWAPS = {"mr": "mister", "mrs": "missus", "ok": "okay", "alright": "all right"}


def normalise(text: str, *, lenient: bool) -> list[str]:
    text = text.lower().replace("’", "'")
    if lenient:
        text = " ".join(CONTRACTIONS.get(w, w) for w in text.split())
        text = re.sub(r"\d", lambda m: f" {DIGITS[int(m.group())]} ", text)
    text = re.sub(r"[^\w\s]", " ", text.replace("'", ""))
    words = text.split()
    if lenient:
        words = [WORD_SWAPS.get(w, SPOKEN_DIGITS.get(w, w)) for w in words]
        words = " ".join(words).split()
    return words


def word_errors(reference: str, hypothesis: str, *, lenient: bool) -> tuple[int, int]:
    ref, hyp = normalise(reference, lenient=lenient), normalise(hypothesis, lenient=lenient)
    return Levenshtein.distance(ref, hyp), len(ref)


@dataclass
class Call:
    name: str
    path: Path
    script: list[ScriptLine]
    channel_map: dict[str, str]

    @property
    def stereo(self) -> bool:
        return any(v in ("agent", "customer") for v in self.channel_map.values())


@dataclass
class Score:
    """Totals of one configuration over all calls."""

    audio: float = 0.0
    wall: float = 0.0
    cpu: float = 0.0
    errors: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0] for k in
                                                                  ("strict", "lenient", "agent", "customer")})
    turn_calls: list[bool] = field(default_factory=list)
    turn_edits: int = 0

    def add(self, key: str, reference: str, hypothesis: str, *, lenient: bool = False) -> None:
        errors, words = word_errors(reference, hypothesis, lenient=lenient)
        self.errors[key][0] += errors
        self.errors[key][1] += words

    def wer(self, key: str) -> float | None:
        errors, words = self.errors[key]
        return 100.0 * errors / words if words else None


def load_calls(directory: Path) -> list[Call]:
    calls = []
    with (directory / "manifest.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            roles = [r.strip() for r in row.get("channel_map", "").split(",")]
            mapping = {str(i): r for i, r in enumerate(roles)} if len(roles) == 2 else {"0": "mixed"}
            script = parse_script((directory / f"{row['external_id']}.txt").read_text())
            calls.append(Call(row["external_id"], directory / row["file"], script, mapping))
    return calls


SYNTHETIC_SCRIPT = [
    ScriptLine("agent", "Good morning, thank you for calling Kestrel Telecom, my name is Ada. How can I help?"),
    ScriptLine("customer", "Hello, my broadband stops working every evening and I work from home."),
    ScriptLine("agent", "I am sorry to hear that. Can I take your full name and postcode please?"),
    ScriptLine("customer", "It is Maria Lopez, and the postcode is M1 4BT."),
    ScriptLine("agent", "Thank you Maria. I have booked an engineer for next Tuesday morning."),
    ScriptLine("customer", "That is fine, thank you. Goodbye."),
]


def synthetic_calls(count: int, workdir: Path) -> list[Call]:
    calls = []
    for index in range(count):
        path = workdir / f"synthetic-{index + 1}.wav"
        synthesize_call(SYNTHETIC_SCRIPT, path, speed=150 + 10 * index)
        calls.append(Call(path.stem, path, SYNTHETIC_SCRIPT, {"0": "agent", "1": "customer"}))
    return calls


def collapse(speakers: list[str]) -> list[str]:
    return [s for i, s in enumerate(speakers) if i == 0 or s != speakers[i - 1]]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


Lines = list[tuple[str, str]]  # (speaker, text) in order; speaker "unknown" when not separated
Runner = Callable[[Any, Call], tuple[float, Lines]]


def run_baseline(model: Any, call: Call) -> tuple[float, Lines]:
    """Plain faster-whisper, default arguments, the call as one mono signal."""
    audio = mix_down(decode_channels(call.path, channels=probe(call.path).channels))
    segments, _ = model.transcribe(audio)
    return seconds(audio), [("unknown", s.text.strip()) for s in segments]


def pipeline_runner(options: Options) -> Runner:
    def run(model: Any, call: Call) -> tuple[float, Lines]:
        transcript = transcribe_file(call.path, model=model, channel_map=call.channel_map, options=options)
        return transcript.audio_seconds, [(line.speaker, line.text) for line in transcript.lines]
    return run


def mono_split_accuracy(model: Any, calls: list[Call], options: Options, workdir: Path) -> tuple[int, int, int]:
    """Mono mixes of the stereo calls through the pipeline: (words on the right speaker, words, calls split).
    The truth for each word is the channel with more energy over its time span in the stereo original."""
    import numpy as np

    from app.speech.audio import SAMPLE_RATE, wav_bytes

    right = total = split = 0
    for call in calls:
        if not call.stereo:
            continue
        left, right_channel = decode_channels(call.path, channels=2)
        roles = [call.channel_map.get("0", "agent"), call.channel_map.get("1", "customer")]
        mono = workdir / f"{call.name}-mono.wav"
        mono.write_bytes(wav_bytes([mix_down([left, right_channel])]))
        transcript = transcribe_file(mono, model=model, options=options)
        split += transcript.speaker_separation == "estimated"
        for word in transcript.words:
            a, b = int(word.start * SAMPLE_RATE), int(word.end * SAMPLE_RATE) + 1
            louder = 0 if float(np.mean(left[a:b] ** 2)) >= float(np.mean(right_channel[a:b] ** 2)) else 1
            total += 1
            right += word.speaker == roles[louder]
    return right, total, split


def measure(runner: Runner, model: Any, call: Call, score: Score) -> None:
    cpu, wall = cpu_seconds(), time.perf_counter()
    audio, lines = runner(model, call)
    score.wall += time.perf_counter() - wall
    score.cpu += cpu_seconds() - cpu
    score.audio += audio
    reference, text = " ".join(x.text for x in call.script), " ".join(t for _, t in lines)
    score.add("strict", reference, text)
    score.add("lenient", reference, text, lenient=True)
    if call.stereo and any(speaker != "unknown" for speaker, _ in lines):
        for role in ("agent", "customer"):
            score.add(role, " ".join(x.text for x in call.script if x.speaker == role),
                      " ".join(t for speaker, t in lines if speaker == role))
        truth, got = collapse([x.speaker for x in call.script]), collapse([speaker for speaker, _ in lines])
        score.turn_calls.append(truth == got)
        score.turn_edits += Levenshtein.distance(truth, got)


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=Path, default=ROOT / "demo" / "calls", help="a demo/calls directory")
    parser.add_argument("--synthetic", type=int, default=0, help="use N synthesised calls instead")
    parser.add_argument("--limit", type=int, default=0, help="only the first N calls")
    parser.add_argument("--no-beam1", action="store_true", help="skip configuration (c)")
    parser.add_argument("--no-mono-split", action="store_true", help="skip the mono speaker-split measurement")
    args = parser.parse_args()

    settings = Settings()
    rss_start = peak_rss_mb()
    load_began = time.perf_counter()
    model = engine.load_model(settings)
    load_seconds = time.perf_counter() - load_began
    rss_loaded = peak_rss_mb()
    with tempfile.TemporaryDirectory(prefix="earshot-bench-") as tmp:
        if args.synthetic or not (args.calls / "manifest.csv").exists():
            calls = synthetic_calls(args.synthetic or 3, Path(tmp))
        else:
            calls = load_calls(args.calls)
        if args.limit:
            calls = calls[:args.limit]
        warm = Path(tmp) / "warm.wav"
        synthesize_call(SYNTHETIC_SCRIPT[:1], warm)
        transcribe_file(warm, model=model)  # warm-up, not timed

        beam5 = Options(beam_size=settings.speech_beam_size, language=settings.speech_language)
        beam1 = Options(beam_size=1, language=settings.speech_language)
        configs: list[tuple[str, Runner]] = [
            ("(a) baseline: plain transcribe(mono), defaults", run_baseline),
            (f"(b) earshot pipeline, beam {beam5.beam_size}", pipeline_runner(beam5)),
        ]
        if not args.no_beam1:
            configs.append(("(c) earshot pipeline, beam 1", pipeline_runner(beam1)))
        scores = {name: Score() for name, _ in configs}
        peaks: dict[str, float] = {}
        for call in calls:
            for name, runner in configs:
                measure(runner, model, call, scores[name])
                peaks[name] = peak_rss_mb()
            print(f"  {call.name}: done", file=sys.stderr)
        split = None if args.no_mono_split else mono_split_accuracy(model, calls, beam5, Path(tmp))

    stereo = sum(1 for c in calls if c.stereo)
    print(f"\nmodel {engine.model_name(settings)} ({settings.speech_compute_type}, {settings.speech_cpu_threads} "
          f"threads), load {load_seconds:.2f} s; {len(calls)} calls ({stereo} stereo, {len(calls) - stereo} mono), "
          f"{scores[configs[0][0]].audio:.1f} s of audio")
    print(f"RSS: {rss_start:.0f} MB before the model, {rss_loaded:.0f} MB after loading it\n")
    header = ("| config | audio s | wall s | RTF (audio/wall) | CPU s | audio s per CPU s | WER strict % | "
              "WER lenient % | agent / customer WER % | turn order right | peak RSS MB |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    base = scores[configs[0][0]]
    for name, _ in configs:
        s = scores[name]
        turns = f"{sum(s.turn_calls)}/{len(s.turn_calls)} calls" if s.turn_calls else "-"
        per_speaker = f"{fmt(s.wer('agent'))} / {fmt(s.wer('customer'))}" if s.turn_calls else "-"
        print(f"| {name} | {s.audio:.1f} | {s.wall:.1f} | {s.audio / s.wall:.1f} | {s.cpu:.1f} | "
              f"{s.audio / s.cpu:.1f} | {fmt(s.wer('strict'))} | {fmt(s.wer('lenient'))} | {per_speaker} | "
              f"{turns} | {peaks[name]:.0f} |")
    print("\nRatios against (a), same process, same files:")
    for name, _ in configs[1:]:
        s = scores[name]
        wer_b, wer_a = s.wer("strict") or 0.0, base.wer("strict") or 0.0
        print(f"  {name}: throughput x{(s.audio / s.wall) / (base.audio / base.wall):.2f} (wall), "
              f"x{(s.audio / s.cpu) / (base.audio / base.cpu):.2f} (CPU); "
              f"WER strict {wer_b - wer_a:+.1f} points, lenient "
              f"{(s.wer('lenient') or 0) - (base.wer('lenient') or 0):+.1f} points")
    if split is not None:
        right, words, calls_split = split
        print(f"\nMono speaker split (mono mixes of the {stereo} stereo calls, truth = the louder channel per word): "
              f"{calls_split}/{stereo} calls split, {100.0 * right / max(words, 1):.1f} % of {words} words on the "
              "right speaker")


if __name__ == "__main__":
    main()
