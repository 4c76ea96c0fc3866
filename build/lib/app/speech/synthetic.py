"""Synthetic two-party calls for tests, the benchmark and demos: espeak-ng speaks each line, the agent on the
left channel and the customer on the right, with a known timeline (the truth for turn order and WER).

Needs the espeak-ng program (scripts/system-deps.sh installs it); never used while serving.
"""

import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VOICES = {"agent": "en-gb", "customer": "en-us+f3"}


@dataclass(frozen=True)
class ScriptLine:
    speaker: str  # agent | customer
    text: str


@dataclass(frozen=True)
class SpokenLine:
    speaker: str
    text: str
    start: float
    end: float


def parse_script(text: str) -> list[ScriptLine]:
    """`AGENT: ...` / `CUSTOMER: ...` lines (the demo's reference transcript format)."""
    lines = []
    for raw in text.splitlines():
        match = re.match(r"\s*(AGENT|CUSTOMER)\s*:\s*(.+)", raw, re.IGNORECASE)
        if match:
            lines.append(ScriptLine(match.group(1).lower(), match.group(2).strip()))
    return lines


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def _speak(text: str, voice: str, speed: int, workdir: Path) -> tuple[np.ndarray, int]:
    target = workdir / "line.wav"
    program = shutil.which("espeak-ng")
    if program is None:
        raise RuntimeError("espeak-ng is not installed (scripts/system-deps.sh installs it)")
    # a fixed program and argument list, the text on stdin: nothing is interpreted by a shell
    subprocess.run([program, "-v", voice, "-s", str(speed), "-w", str(target), "--stdin"],  # noqa: S603
                   input=text.encode(), check=True, capture_output=True, timeout=60)
    with wave.open(str(target), "rb") as handle:
        rate = handle.getframerate()
        samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16)
    return samples, rate


def synthesize_call(lines: Sequence[ScriptLine], target: Path, *, gap: float = 0.5, speed: int = 160,
                    lead_in: float = 0.5, mono: bool = False) -> list[SpokenLine]:
    """Write a 16-bit WAV call (stereo: agent left, customer right; or a mono mix) and return its timeline."""
    pieces: list[tuple[int, np.ndarray]] = []
    timeline: list[SpokenLine] = []
    rate = 22050
    cursor = lead_in
    with tempfile.TemporaryDirectory(prefix="earshot-tts-") as tmp:
        for line in lines:
            samples, rate = _speak(line.text, VOICES[line.speaker], speed, Path(tmp))
            start = cursor
            cursor += len(samples) / rate
            timeline.append(SpokenLine(line.speaker, line.text, round(start, 3), round(cursor, 3)))
            pieces.append((0 if line.speaker == "agent" else 1, samples))
            cursor += gap
    total = int((cursor + lead_in) * rate)
    channels = np.zeros((2, total), dtype=np.int32)
    for (channel, samples), spoken in zip(pieces, timeline, strict=True):
        offset = int(spoken.start * rate)
        channels[channel, offset:offset + len(samples)] += samples
    if mono:
        data = np.clip(channels.sum(axis=0), -32768, 32767).astype("<i2").tobytes()
    else:
        data = np.clip(channels, -32768, 32767).astype("<i2").T.copy().tobytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(target), "wb") as handle:
        handle.setnchannels(1 if mono else 2)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(data)
    return timeline
