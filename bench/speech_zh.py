"""Chinese speech benchmark: how well the configured model (Whisper base by default) transcribes a Hong Kong
hotline's Cantonese and Mandarin, with and without the vocabulary prompt (`python bench/speech_zh.py`).

Reference set: 14 hotline sentences in colloquial Cantonese (Traditional characters, spoken by espeak-ng
`-v yue`) and the same 14 in standard Mandarin (Simplified, spoken by `-v cmn-latn-pinyin`: the Mandarin voice
that reads characters; espeak-ng 1.51's `-v cmn` reads the tone digits of its pinyin in English). Both are
generated here, so the licence is the project's own; the voices are **synthetic** (formant synthesis, one
speaker, clean), so these figures are an upper bound for real callers, not an estimate of them. Every
sentence is band-limited to 8 kHz (a telephone recording) and transcribed on its own through Earshot's
pipeline (mono: no VAD, word timestamps, base's loop guard), language "zh": base has no Cantonese token
(<|yue|> exists only in large-v3), so Earshot refuses "yue" with base and Cantonese queues run as "zh".

Configurations, interleaved per sentence and repeated (`--repeats`):
  no prompt          initial_prompt None
  vocabulary prompt  the vocabulary's Chinese entries ("紅隼電訊，寬頻，旺角，..."), measured to decide whether a
                     zh queue should get them (it does not: Earshot gives non-English queues no prompt)
  English prompt     the English entries, as before issue #25's fix ("Kestrel, Kestrel Telecom, ...")

CER = character edit distance / reference characters, after folding Traditional to Simplified (OpenCC t2s),
dropping punctuation and spaces, lower-casing Latin letters and writing digits as Chinese numerals
("9123" == "九一二三"). "Prompt echoes": transcripts holding a prompt entry the sentence does not say.
"""

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import opencc  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

from app.core.settings import Settings  # noqa: E402
from app.core.vocabulary import load_vocabulary  # noqa: E402
from app.speech import engine  # noqa: E402
from app.speech.pipeline import transcribe_file  # noqa: E402

CANTONESE = [
    "你好，多謝致電紅隼電訊，我係客戶服務主任，有咩可以幫到你？",
    "我屋企部寬頻成日斷線，尤其係夜晚。",
    "我住喺旺角，已經斷咗三日喇。",
    "唔該你講低你嘅全名同埋電話號碼。",
    "我個電話號碼係九一二三四五六七。",
    "我幫你睇吓，你附近嘅線路做緊維修。",
    "今晚六點之前應該會回復正常。",
    "如果仲係唔得，我哋可以派師傅上門。",
    "我想轉用你哋嘅流動數據月費計劃。",
    "我上個月張賬單多收咗錢，我要投訴。",
    "我會幫你申請退款，大約七個工作天。",
    "師傅星期二上晝十點會去尖沙咀你屋企。",
    "仲有冇其他嘢可以幫到你？",
    "冇喇，唔該晒，拜拜。",
]
MANDARIN = [
    "你好，感谢致电红隼电讯，我是客户服务主任，有什么可以帮你？",
    "我家的宽带经常断线，特别是晚上。",
    "我住在旺角，已经断了三天了。",
    "请你说一下你的全名和电话号码。",
    "我的电话号码是九一二三四五六七。",
    "我帮你查一下，你附近的线路正在维修。",
    "今晚六点之前应该会恢复正常。",
    "如果还是不行，我们可以派技术员上门。",
    "我想转用你们的流动数据月费计划。",
    "我上个月的账单多收了钱，我要投诉。",
    "我会帮你申请退款，大约七个工作日。",
    "技术员星期二上午十点会去尖沙咀你家。",
    "还有没有其他事情可以帮你？",
    "没有了，谢谢，再见。",
]
SETS = {"Cantonese (espeak-ng yue)": ("yue", CANTONESE), "Mandarin (espeak-ng cmn)": ("cmn-latn-pinyin", MANDARIN)}
TELEPHONE_RATE = 8000
TO_SIMPLIFIED = opencc.OpenCC("t2s")
NUMERALS = "零一二三四五六七八九"


def normalise(text: str) -> str:
    text = TO_SIMPLIFIED.convert(text).lower()
    text = re.sub(r"\d", lambda m: NUMERALS[int(m.group())], text)
    return re.sub(r"[^\w]|_", "", text)


def speak(text: str, voice: str, target: Path) -> float:
    """`text` spoken by espeak-ng, band-limited to 8 kHz 16-bit mono (a telephone recording); its seconds."""
    from scipy.signal import resample_poly

    program = shutil.which("espeak-ng")
    if program is None:
        raise SystemExit("espeak-ng is not installed (scripts/system-deps.sh installs it)")
    raw = target.with_suffix(".raw.wav")
    subprocess.run([program, "-v", voice, "-w", str(raw), "--stdin"], input=text.encode(), check=True,  # noqa: S603
                   capture_output=True, timeout=60)
    with wave.open(str(raw), "rb") as handle:
        rate = handle.getframerate()
        samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16).astype(np.float32)
    divisor = np.gcd(rate, TELEPHONE_RATE)
    narrow = resample_poly(samples / 32768.0, TELEPHONE_RATE // divisor, rate // divisor)
    with wave.open(str(target), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(TELEPHONE_RATE)
        handle.writeframes((np.clip(narrow, -1, 1) * 32767).astype("<i2").tobytes())
    raw.unlink()
    return len(narrow) / TELEPHONE_RATE


@dataclass
class Result:
    errors: int = 0
    characters: int = 0
    echoes: int = 0
    audio: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    samples: list[tuple[str, str]] = field(default_factory=list)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="base", choices=["base", "tiny.en"])
    parser.add_argument("--model-path", type=Path, help="a CTranslate2 model directory (e.g. large-v3)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--show", action="store_true", help="print every reference and transcript")
    args = parser.parse_args()
    settings = Settings(speech_model=args.model, speech_model_path=args.model_path, speech_language="zh")
    load_before = load_average()
    model = engine.load_model(settings)
    chinese = engine.decoding_options(settings, queue=None)  # what Earshot decodes a zh queue with: no prompt
    terms = load_vocabulary(settings).terms
    english_prompt = engine.vocabulary_prompt(terms, "en")
    chinese_prompt = "，".join(t for t in terms if engine.HAN.search(t)) + "。"
    configs = {"no prompt": chinese, "vocabulary prompt": replace(chinese, initial_prompt=chinese_prompt),
               "English prompt": replace(chinese, initial_prompt=english_prompt)}
    results = {(set_name, name): Result() for set_name in SETS for name in configs}
    with tempfile.TemporaryDirectory(prefix="earshot-bench-zh-") as tmp:
        files: dict[str, list[tuple[Path, float, str]]] = {}
        for set_name, (voice, sentences) in SETS.items():
            files[set_name] = []
            for number, sentence in enumerate(sentences):
                path = Path(tmp) / f"{voice}-{number:02d}.wav"
                files[set_name].append((path, speak(sentence, voice, path), sentence))
        transcribe_file(files[next(iter(SETS))][0][0], model=model, options=chinese)  # warm-up, not timed
        for repeat in range(args.repeats):
            for set_name, items in files.items():
                for name in configs:
                    result = results[(set_name, name)]
                    result.audio.append(0.0)
                    result.wall.append(0.0)
                    result.cpu.append(0.0)
                for path, audio, sentence in items:
                    for name, options in configs.items():
                        result = results[(set_name, name)]
                        cpu, wall = cpu_seconds(), time.perf_counter()
                        transcript = transcribe_file(path, model=model, options=options)
                        result.wall[-1] += time.perf_counter() - wall
                        result.cpu[-1] += cpu_seconds() - cpu
                        result.audio[-1] += audio
                        if repeat:
                            continue
                        text = "".join(line.text for line in transcript.lines)
                        reference, hypothesis = normalise(sentence), normalise(text)
                        result.errors += Levenshtein.distance(reference, hypothesis)
                        result.characters += len(reference)
                        prompt_entries = [normalise(t) for t in re.split("[,，。.]", options.initial_prompt or "")]
                        result.echoes += any(e and e in hypothesis and e not in reference for e in prompt_entries)
                        result.samples.append((sentence, text))
            print(f"  repeat {repeat + 1} done (load {load_average()})", file=sys.stderr)
    print(f"\nmodel {engine.model_name(settings)}, language zh, int8, {settings.speech_cpu_threads} threads, beam "
          f"{chinese.beam_size}, {args.repeats} repeat(s), {os.cpu_count()} CPUs; machine load average before "
          f"{load_before}, after {load_average()}")
    print(f"vocabulary prompt: {chinese_prompt!r}; English prompt: {english_prompt!r}")
    header = ("| set | prompt | sentences | audio s | wall s median (min-max) | x realtime (wall) | CPU s median "
              "(min-max) | CER % | prompt echoes |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for (set_name, name), r in results.items():
        xrt = statistics.median(a / w for a, w in zip(r.audio, r.wall, strict=True))
        print(f"| {set_name} | {name} | {len(r.samples)} | {r.audio[0]:.1f} | {spread(r.wall)} | {xrt:.1f} | "
              f"{spread(r.cpu)} | {100.0 * r.errors / max(r.characters, 1):.1f} | {r.echoes}/{len(r.samples)} |")
    if args.show:
        for (set_name, name), r in results.items():
            print(f"\n{set_name}, {name}:")
            for sentence, text in r.samples:
                print(f"  {sentence}\n    -> {text}")


if __name__ == "__main__":
    main()
