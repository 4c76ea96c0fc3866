"""Consistent backups of the embedded deployment: the SQLite database through SQLite's online backup API
(safe while the app and workers write), then the recordings (immutable, content-addressed files, so any
recording the database snapshot references already exists when it is copied)."""

import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from app.core.settings import Settings
from app.core.timeutil import utcnow

DB_NAME = "earshot.db"


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class BackupReport:
    path: Path
    tables: dict[str, int]
    recordings: int


def _sqlite_path(settings: Settings) -> Path:
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError(
            "earshot backup copies the embedded SQLite database; for PostgreSQL use "
            "`pg_dump --format=custom` for the database (and back up the recordings directory as files)")
    return Path(url.database)


def _table_counts(db_file: Path) -> dict[str, int]:
    with sqlite3.connect(db_file) as connection:
        names = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]
        return {name: int(connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])  # noqa: S608
                for name in names}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup(settings: Settings, destination: Path) -> BackupReport:
    """Write a consistent snapshot into a new folder under `destination` and return what it holds."""
    source_db = _sqlite_path(settings)
    target = destination / f"earshot-backup-{utcnow().strftime('%Y%m%dT%H%M%SZ')}"
    partial = target.with_name(target.name + ".partial")
    partial.mkdir(parents=True)
    source = sqlite3.connect(source_db)
    dest = sqlite3.connect(partial / DB_NAME)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
    copied = 0
    recordings = settings.recordings_dir
    if recordings.exists():
        for file in recordings.rglob("*"):
            if file.is_file() and not file.name.startswith(".incoming-"):
                relative = file.relative_to(recordings)
                (partial / "recordings" / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, partial / "recordings" / relative)
                copied += 1
    key = settings.resolved_data_dir / "secret_key"
    if key.exists():
        shutil.copy2(key, partial / "secret_key")
    tables = _table_counts(partial / DB_NAME)
    (partial / "manifest.json").write_text(json.dumps(
        {"created_at": utcnow().isoformat(), "tables": tables, "recordings": copied}, indent=2))
    os.replace(partial, target)  # a backup folder without ".partial" is complete
    return BackupReport(path=target, tables=tables, recordings=copied)


def restore(backup_dir: Path, data_dir: Path, *, force: bool = False) -> BackupReport:
    """Restore a backup folder into `data_dir`, verifying every recording against its content hash."""
    manifest_file = backup_dir / "manifest.json"
    if not manifest_file.exists():
        raise BackupError(f"{backup_dir} is not a complete Earshot backup (no manifest.json)")
    manifest = json.loads(manifest_file.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    if (data_dir / DB_NAME).exists() and not force:
        raise BackupError(f"{data_dir / DB_NAME} exists; restore into an empty data directory or use --force")
    bad = [f for f in (backup_dir / "recordings").rglob("*") if f.is_file() and _sha256(f) != f.name]
    if bad:
        raise BackupError(f"{len(bad)} recording(s) in the backup do not match their checksum, e.g. {bad[0].name}")
    for stale in ("-wal", "-shm"):
        (data_dir / (DB_NAME + stale)).unlink(missing_ok=True)
    shutil.copy2(backup_dir / DB_NAME, data_dir / DB_NAME)
    if (backup_dir / "recordings").exists():
        shutil.copytree(backup_dir / "recordings", data_dir / "recordings", dirs_exist_ok=True)
    if (backup_dir / "secret_key").exists():
        shutil.copy2(backup_dir / "secret_key", data_dir / "secret_key")
        os.chmod(data_dir / "secret_key", 0o600)
    tables = _table_counts(data_dir / DB_NAME)
    if tables != manifest["tables"]:
        raise BackupError("restored database does not match the backup's manifest")
    return BackupReport(path=data_dir, tables=tables, recordings=int(manifest["recordings"]))
