"""Speech benchmark: for each model (Whisper base and tiny.en), Earshot's transcription pipeline against plain
faster-whisper with the same model object, on the same files, in the same run (`python bench/speech.py`).

  plain:    `model.transcribe(<call as mono 16 kHz>, language="en")`, every other argument faster-whisper's
            default (beam 5, no VAD, no word timestamps), the text of its segments in order.
  pipeline: app.speech.pipeline.transcribe_file with the options the worker uses
            (engine.decoding_options: on base, a stereo call's two parties' speech (Silero VAD) joined in
            time order and decoded in one pass with word timestamps, base's hallucination_silence_threshold
            and the vocabulary prompt; tiny.en: each channel on its own), beam 5.
  `--variants`: the pipeline again with one option changed (beam 1, per channel, ...), same files.

Each model runs in its own process (so peak RSS is that model's), the configurations interleaved per call and
repeated (`--repeats`), so a busy machine slows all of them alike; the spread over repeats and the machine's
load average before and after are printed, and CPU seconds (user+sys of the process) beside wall time.
Files: the demo calls (demo/calls, `--limit N` first calls) and the same calls band-limited to 8 kHz
(telephone band, `--no-8k` to skip).

WER = (substitutions + deletions + insertions) / reference words, word-level Levenshtein (rapidfuzz).
strict: lowercase, punctuation and apostrophes removed. normalised: also contractions expanded ("it's" →
"it is"), "mr" → "mister", "ok" → "okay", and every digit spelled as a single word with "zero".."nine" and
"oh" mapped to the same ("1988" == "one nine eight eight"). Per-channel WER: the pipeline's agent and
customer lines against the script's (stereo calls). "Kestrel": calls whose transcript has the company name.
"""

import argparse
import csv
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

from app.core.settings import Settings  # noqa: E402
from app.speech import engine  # noqa: E402
from app.speech.audio import decode_channels, mix_down, probe, seconds  # noqa: E402
from app.speech.pipeline import Options, transcribe_file  # noqa: E402
from app.speech.synthetic import ScriptLine, parse_script, synthesize_call  # noqa: E402
from app.speech.windows import stock  # noqa: E402

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


def collapse(speakers: list[str]) -> list[str]:
    return [s for i, s in enumerate(speakers) if i == 0 or s != speakers[i - 1]]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


Lines = list[tuple[str, str]]  # (speaker, text) in order; speaker "unknown" when not separated
Runner = Callable[[Any, Call], tuple[float, Lines]]


def run_plain(model: Any, call: Call) -> tuple[float, Lines]:
    """Plain faster-whisper: the call as one mono signal, English, every other argument the default; the stock
    `faster_whisper.WhisperModel` class over the same loaded weights (30 s windows, each padded to 30 s)."""
    audio = mix_down(decode_channels(call.path, channels=probe(call.path).channels))
    segments, _ = stock(model).transcribe(audio, language="en")
    return seconds(audio), [("unknown", s.text.strip()) for s in segments]


def pipeline_runner(options: Options) -> Runner:
    def run(model: Any, call: Call) -> tuple[float, Lines]:
        transcript = transcribe_file(call.path, model=model, channel_map=call.channel_map, options=options)
        return transcript.audio_seconds, [(line.speaker, line.text) for line in transcript.lines]
    return run


VARIANTS = ("beam N", "windows N (clips of at most N s of whole speech pieces; 'windows 30s' = faster-whisper's)",
            "own length [N] (each window encoded at its length + N s, default 3)", "padded (encoded padded to 30 s)",
            "per channel", "keep bleed (the other party's voice in a channel not left out)",
            "combined: 'beam 1 windows 15 own length'")


def variant(options: Options, name: str) -> Options:
    """A pipeline variant from its name: "beam 1", "windows 15", "own length", "own length 1", "per channel",
    "padded", "keep bleed", or several of them ("beam 1 windows 15 own length")."""
    words = name.split()
    while words:
        word = words.pop(0)
        if word == "beam":
            options = replace(options, beam_size=int(words.pop(0)))
        elif word == "windows":
            value = words.pop(0)
            options = replace(options, window_seconds=None if value == "30s" else float(value))
        elif word == "per" and words[:1] == ["channel"]:
            words.pop(0)
            options = replace(options, stereo_mode="channels")
        elif word == "own" and words[:1] == ["length"]:
            words.pop(0)
            margin = float(words.pop(0)) if words and words[0].replace(".", "").isdigit() else 3.0
            options = replace(options, encoder_margin=margin)
        elif word == "keep" and words[:1] == ["bleed"]:
            words.pop(0)
            options = replace(options, bleed=None)
        elif word == "padded":
            options = replace(options, encoder_margin=None)
        else:
            raise SystemExit(f"unknown variant {name!r}; known: {'; '.join(VARIANTS)}")
    return options


def telephone_band(calls: list[Call], workdir: Path) -> list[Call]:
    """The calls resampled to 8 kHz 16-bit WAV (what a phone system records), same channels and scripts."""
    from scipy.signal import resample_poly

    out = []
    for call in calls:
        arrays = decode_channels(call.path, channels=probe(call.path).channels)
        narrow = [resample_poly(a, 1, 2) for a in arrays]
        frames = (np.clip(np.stack(narrow, axis=1), -1, 1) * 32767).astype("<i2")
        path = workdir / f"{call.name}-8k.wav"
        with wave.open(str(path), "wb") as handle:
            handle.setnchannels(len(narrow))
            handle.setsampwidth(2)
            handle.setframerate(8000)
            handle.writeframes(frames.tobytes())
        out.append(Call(f"{call.name}-8k", path, call.script, call.channel_map))
    return out


def mono_split_accuracy(model: Any, calls: list[Call], options: Options, workdir: Path) -> tuple[int, int, int]:
    """Mono mixes of the stereo calls through the pipeline with the speaker estimate on: (words on the right
    speaker, words, calls split). The truth for each word is the louder channel of the stereo original.
    Synthetic voices only: says nothing about real phone calls."""
    from app.speech.audio import SAMPLE_RATE, wav_bytes

    right = total = split = 0
    for call in calls:
        if not call.stereo:
            continue
        left, right_channel = decode_channels(call.path, channels=2)
        roles = [call.channel_map.get("0", "agent"), call.channel_map.get("1", "customer")]
        mono = workdir / f"{call.name}-mono.wav"
        mono.write_bytes(wav_bytes([mix_down([left, right_channel])]))
        transcript = transcribe_file(mono, model=model, options=replace(options, mono_split=True))
        split += transcript.speaker_separation == "estimated"
        for word in transcript.words:
            a, b = int(word.start * SAMPLE_RATE), int(word.end * SAMPLE_RATE) + 1
            louder = 0 if float(np.mean(left[a:b] ** 2)) >= float(np.mean(right_channel[a:b] ** 2)) else 1
            total += 1
            right += word.speaker == roles[louder]
    return right, total, split


@dataclass
class Result:
    """One configuration on one set of files: WER from the first repeat, timing from every repeat."""

    errors: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0] for k in
                                                                  ("strict", "normalised", "agent", "customer")})
    kestrel: list[int] = field(default_factory=lambda: [0, 0])
    audio: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_rss: float = 0.0

    def add(self, key: str, reference: str, hypothesis: str) -> None:
        errors, words = word_errors(reference, hypothesis, lenient=key == "normalised")
        self.errors[key][0] += errors
        self.errors[key][1] += words

    def wer(self, key: str) -> float | None:
        errors, words = self.errors[key]
        return 100.0 * errors / words if words else None


def measure(runner: Runner, model: Any, call: Call, result: Result, repeat: int) -> None:
    cpu, wall = cpu_seconds(), time.perf_counter()
    audio, lines = runner(model, call)
    if repeat >= len(result.wall):
        result.audio.append(0.0)
        result.wall.append(0.0)
        result.cpu.append(0.0)
    result.wall[repeat] += time.perf_counter() - wall
    result.cpu[repeat] += cpu_seconds() - cpu
    result.audio[repeat] += audio
    result.peak_rss = max(result.peak_rss, peak_rss_mb())
    if repeat:
        return
    reference, text = " ".join(x.text for x in call.script), " ".join(t for _, t in lines)
    result.add("strict", reference, text)
    result.add("normalised", reference, text)
    if "kestrel" in reference.lower():
        result.kestrel[1] += 1
        result.kestrel[0] += "kestrel" in text.lower()
    if call.stereo and any(speaker != "unknown" for speaker, _ in lines):
        for role in ("agent", "customer"):
            result.errors[role][0] += word_errors(" ".join(x.text for x in call.script if x.speaker == role),
                                                  " ".join(t for sp, t in lines if sp == role), lenient=False)[0]
            result.errors[role][1] += len(normalise(" ".join(x.text for x in call.script if x.speaker == role),
                                                    lenient=False))


def run_model(args: argparse.Namespace) -> dict[str, Any]:
    """One model in this process: load it, run every configuration on every file set, return the figures."""
    settings = Settings(speech_model=args.worker)
    load_before = load_average()
    rss_start = peak_rss_mb()
    began = time.perf_counter()
    model = engine.load_model(settings)
    load_seconds = time.perf_counter() - began
    rss_loaded = peak_rss_mb()
    options = engine.decoding_options(settings, queue=None)
    configs: list[tuple[str, Runner]] = [("plain", run_plain), ("pipeline", pipeline_runner(options))]
    for name in filter(None, (v.strip() for v in args.variants.split(","))):
        configs.append((f"pipeline {name}", pipeline_runner(variant(options, name))))
    results: dict[str, dict[str, Result]] = {}
    with tempfile.TemporaryDirectory(prefix="earshot-bench-") as tmp:
        calls = load_calls(args.calls)[: args.limit or None]
        file_sets = {"demo calls": calls}
        if not args.no_8k:
            file_sets["demo calls at 8 kHz"] = telephone_band(calls, Path(tmp))
        warm = Path(tmp) / "warm.wav"
        synthesize_call(SYNTHETIC_SCRIPT[:1], warm)
        transcribe_file(warm, model=model, options=options)  # warm-up, not timed
        for set_name, files in file_sets.items():
            results[set_name] = {name: Result() for name, _ in configs}
            for repeat in range(args.repeats):
                for call in files:
                    for name, runner in configs:
                        measure(runner, model, call, results[set_name][name], repeat)
                print(f"  {args.worker}: {set_name}, repeat {repeat + 1} done (load {load_average()})",
                      file=sys.stderr)
        split = None if args.no_mono_split else mono_split_accuracy(model, calls, options, Path(tmp))
    return {"model": engine.model_name(settings), "load_seconds": load_seconds, "rss_start": rss_start,
            "rss_loaded": rss_loaded, "load_before": load_before, "load_after": load_average(),
            "vocabulary_prompt": options.initial_prompt, "split": split,
            "results": {k: {n: vars(r) for n, r in v.items()} for k, v in results.items()}}


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})" if values else "-"


def report(figures: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\n{args.repeats} repeat(s); {os.cpu_count()} CPUs; int8, 2 threads, beam 5; calls: "
          f"{args.limit or 'all'} demo call(s)")
    header = ("| model | files | config | audio s | wall s median (min-max) | x realtime (wall) | CPU s | "
              "WER strict % | WER normalised % | agent / customer WER % | Kestrel | peak RSS MB |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for fig in figures:
        for set_name, configs in fig["results"].items():
            for name, r in configs.items():
                result = Result(**r)
                xrt = statistics.median(a / w for a, w in zip(result.audio, result.wall, strict=True))
                per_channel = (f"{fmt(result.wer('agent'))} / {fmt(result.wer('customer'))}"
                               if result.errors["agent"][1] else "-")
                print(f"| {fig['model']} | {set_name} | {name} | {result.audio[0]:.1f} | {spread(result.wall)} | "
                      f"{xrt:.1f} | {spread(result.cpu)} | {fmt(result.wer('strict'))} | "
                      f"{fmt(result.wer('normalised'))} | {per_channel} | {result.kestrel[0]}/{result.kestrel[1]} | "
                      f"{result.peak_rss:.0f} |")
    print("\nPipeline against plain faster-whisper, same model, same files, same run (per repeat):")
    for fig in figures:
        print(f"  {fig['model']}: load {fig['load_seconds']:.2f} s, RSS {fig['rss_start']:.0f} MB before the model, "
              f"{fig['rss_loaded']:.0f} MB after; machine load average before {fig['load_before']}, after "
              f"{fig['load_after']}")
        for set_name, configs in fig["results"].items():
            plain = Result(**configs["plain"])
            for name in configs:
                if name == "plain":
                    continue
                pipe = Result(**configs[name])
                wall = [(pa / pw) / (qa / qw) for pa, pw, qa, qw in
                        zip(pipe.audio, pipe.wall, plain.audio, plain.wall, strict=True)]
                cpu = [(pa / pc) / (qa / qc) for pa, pc, qa, qc in
                       zip(pipe.audio, pipe.cpu, plain.audio, plain.cpu, strict=True)]
                print(f"    {set_name}, {name}: throughput x{statistics.median(wall):.2f} wall "
                      f"({', '.join(f'{x:.2f}' for x in wall)}), x{statistics.median(cpu):.2f} CPU "
                      f"({', '.join(f'{x:.2f}' for x in cpu)}); WER strict "
                      f"{(pipe.wer('strict') or 0) - (plain.wer('strict') or 0):+.1f} points, normalised "
                      f"{(pipe.wer('normalised') or 0) - (plain.wer('normalised') or 0):+.1f} points")
        if fig["split"] is not None:
            right, words, calls_split = fig["split"]
            print(f"    mono speaker split (EARSHOT_SPEECH_MONO_SPLIT) on mono mixes of the stereo demo calls "
                  f"(synthetic voices): {calls_split} call(s) split, {100.0 * right / max(words, 1):.1f} % of "
                  f"{words} words on the right speaker")
    if len(figures) == 2:
        a, b = figures
        print("\nSide by side, pipeline WER strict / normalised %:")
        for set_name in a["results"]:
            ra, rb = Result(**a["results"][set_name]["pipeline"]), Result(**b["results"][set_name]["pipeline"])
            print(f"  {set_name}: {a['model']} {fmt(ra.wer('strict'))} / {fmt(ra.wer('normalised'))}, "
                  f"{b['model']} {fmt(rb.wer('strict'))} / {fmt(rb.wer('normalised'))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=Path, default=ROOT / "demo" / "calls", help="a demo/calls directory")
    parser.add_argument("--models", default="base,tiny.en", help="comma-separated: base, tiny.en")
    parser.add_argument("--limit", type=int, default=3, help="only the first N calls (0 = all 15)")
    parser.add_argument("--repeats", type=int, default=2, help="timed passes over the files")
    parser.add_argument("--no-8k", action="store_true", help="skip the 8 kHz (telephone band) copies")
    parser.add_argument("--no-mono-split", action="store_true", help="skip the mono speaker-split measurement")
    parser.add_argument("--variants", default="", help=f"also run pipeline variants: {'; '.join(VARIANTS)}")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # one model in a child process
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_model(args)))
        return
    figures = []
    for name in args.models.split(","):
        command = [sys.executable, __file__, "--worker", name.strip(), "--calls", str(args.calls),
                   "--limit", str(args.limit), "--repeats", str(args.repeats), "--variants", args.variants]
        command += ["--no-8k"] * args.no_8k + ["--no-mono-split"] * args.no_mono_split
        done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        figures.append(json.loads(done.stdout.strip().splitlines()[-1]))
    report(figures, args)


if __name__ == "__main__":
    main()
