"""Earshot's settings: one pydantic-settings class, read from EARSHOT_* variables and `.env`."""

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

RoleName = Literal["admin", "evaluator", "coach", "agent", "executive"]
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EARSHOT_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to a SQLite file in the data directory."
    )
    queue_url: str | None = Field(
        default=None, description="'redis://host:port/db' for Redis; defaults to Huey on a SQLite file."
    )
    database_busy_timeout_ms: int = Field(
        default=10000, description="SQLite: how long a request waits for a lock before answering 503.")
    database_ping_idle_seconds: float | None = Field(
        default=0.0, ge=0, description="PostgreSQL: a pooled connection idle this long is pinged before use (a "
                                       "dead one, e.g. after a database restart, is replaced first); 0 (the "
                                       "default): every checkout, so no request fails after a restart; empty: "
                                       "never.")
    queue_name: str = "earshot"
    job_stale_after_seconds: float = Field(
        default=300.0, gt=0, description="A running job whose worker has not sent a heartbeat for this long "
                                         "is taken to be lost (worker killed) and run again.")
    secret_key: SecretStr | None = Field(
        default=None, description="Signs sessions; generated into the data directory on first run when unset."
    )
    max_upload_bytes: int = 500 * 1024 * 1024
    max_request_bytes: int = 5 * 1024 * 1024
    max_in_flight_requests: int = Field(
        default=32, ge=1, description="Requests one server process works on at once; more are refused at once "
                                      "with 503 and Retry-After (overload answers quickly instead of queueing).")
    session_cookie_secure: bool = False
    session_max_age_seconds: int = 12 * 3600
    principal_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a process reuses who a session or token belongs to without asking "
                                       "the database; sign-outs elsewhere take effect within this. 0: always ask.")
    home_figures_seconds: float = Field(
        default=30.0, ge=0, description="How long a server process reuses the home pages' statistics (coaching "
                                        "followed by improvement, survey bands of 6 months) for the same scope; "
                                        "writes through the same process show at once. 0: always compute.")
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    login_max_failures_per_address: int = Field(
        default=50, description="Failed sign-ins from one source address (any usernames) before it is locked out.")
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    display_timezone: str = "UTC"
    phone_default_region: str = Field(default="GB", description="Region for phone numbers given without +country.")
    frontend_dir: Path = PROJECT_ROOT / "frontend"
    scorecards_dir: Path = PROJECT_ROOT / "scorecards"
    demo_dir: Path = PROJECT_ROOT / "demo"
    # speech
    speech_model: Literal["base", "tiny.en"] = Field(
        default="base", description="Whisper base (multilingual, from two PyPI packages, hash-checked) or tiny.en "
                                    "(English only, lighter and about twice as fast); see models/README.md.")
    speech_model_path: Path | None = Field(
        default=None, description="Any CTranslate2 faster-whisper model directory; overrides EARSHOT_SPEECH_MODEL."
    )
    speech_device: str = "cpu"
    speech_compute_type: str = "int8"
    speech_cpu_threads: int = 2
    speech_beam_size: int = 5
    speech_language: str = "en"
    speech_queue_languages: dict[str, str] = Field(
        default_factory=dict, description='Whisper language per queue, e.g. {"hk-care": "zh"}; other queues use '
                                          "EARSHOT_SPEECH_LANGUAGE. Needs a multilingual model (base).")
    speech_mono_split: bool = Field(
        default=False, description="Estimate agent/customer on mono calls from voice differences. Off: on a real "
                                   "mono phone call the estimate was no better than chance, so mono lines are "
                                   "shown as 'speakers not separated'.")
    speech_hold_seconds: float = Field(default=5.0, gt=0,
                                       description="A silence this long on both channels is a hold.")
    vocabulary_file: Path | None = Field(
        default=None, description="YAML of brand, product, plan and place names (terms, queues: {name: [...]}); "
                                  "given to the speech decoder and never redacted. Default: models/vocabulary.yaml.")
    speech_max_seconds: float = Field(default=7200.0, description="Longer recordings are refused, not transcribed.")

    unredacted_roles: list[RoleName] = Field(
        default_factory=lambda: list[RoleName](["admin", "evaluator"]),
        description="Roles that may read unredacted transcripts and play the original (unbeeped) audio of a call; "
                    "every such access is audited. Everyone else who may see the call gets the redacted view.")

    retention: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description='Per channel: {"call": {"audio_days": 90, "transcript_days": 365}, "chat": {"transcript_days": 365}}. '
                    "After audio_days the recording's audio is deleted; after transcript_days only the redacted "
                    "text is kept. Evaluations are always kept. Unset: keep everything.")

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir if self.data_dir.is_absolute() else Path.cwd() / self.data_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'earshot.db'}"

    @property
    def recordings_dir(self) -> Path:
        return self.resolved_data_dir / "recordings"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once and kept (mode 0600) in the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        key_file = self.resolved_data_dir / "secret_key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return key_file.read_text().strip()
