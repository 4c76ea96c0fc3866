"""Connector settings (EARSHOT_CONNECTORS_*), kept beside the feature so core settings stay untouched."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConnectorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EARSHOT_CONNECTORS_", env_file=".env", extra="ignore")

    watch_dir: Path | None = Field(default=None, description="Drop folder the worker scans (connectors.watch_scan).")
    watch_settle_seconds: float = Field(
        default=10.0, ge=0, description="A file is complete once its size and mtime are unchanged this long.")
    watch_source: str = "dropfolder"
    watch_transcribe: bool = Field(default=True, description="Queue transcription of what the watcher ingests.")
    export_dir: Path | None = Field(default=None, description="Folder the scheduled CSV exports are written to.")
    webhook_timeout_seconds: float = 10.0
    imap_host: str | None = Field(default=None, description="IMAP server the worker pulls hourly (connectors.imap_pull).")
    imap_port: int = 993
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_ssl: bool = True
    imap_folders: list[str] = Field(default_factory=lambda: ["INBOX"])
    imap_source: str = "imap"
