"""`earshot backup` while the app writes, then `earshot restore` into a fresh data directory."""

import io
import threading

import pytest
from sqlmodel import Session, select

from app.auth.models import Team
from app.core.backup import BackupError, backup, restore
from app.core.db import ensure_wal, make_engine
from app.core.migrate import upgrade
from app.core.storage import BlobStore
from tests.conftest import make_settings


def test_backup_while_writing_then_restore_into_a_fresh_directory(tmp_path):
    settings = make_settings(tmp_path / "live")
    upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    ensure_wal(engine)
    store = BlobStore(settings.recordings_dir)
    stored = [store.put_stream(io.BytesIO(f"audio {i}".encode()), max_bytes=1000) for i in range(3)]
    stop = threading.Event()

    def keep_writing() -> None:
        i = 0
        while not stop.is_set():
            with Session(engine) as session:
                session.add(Team(name=f"team {i}"))
                session.commit()
            i += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        report = backup(settings, tmp_path / "backups")
    finally:
        stop.set()
        writer.join()
    engine.dispose()
    assert report.recordings == 3 and report.tables["team"] >= 0
    assert not list((tmp_path / "backups").glob("*.partial"))

    fresh = make_settings(tmp_path / "restored")
    restored = restore(report.path, fresh.resolved_data_dir)
    assert restored.tables == report.tables
    for item in stored:
        assert BlobStore(fresh.recordings_dir).path_for(item.sha256).read_bytes() == item.path.read_bytes()
    restored_engine = make_engine(fresh.resolved_database_url)
    with Session(restored_engine) as session:
        assert len(session.exec(select(Team)).all()) == report.tables["team"]
    restored_engine.dispose()
    with pytest.raises(BackupError, match="exists"):
        restore(report.path, fresh.resolved_data_dir)


def test_restore_refuses_a_tampered_recording(tmp_path):
    settings = make_settings(tmp_path / "live")
    upgrade(settings.resolved_database_url)
    BlobStore(settings.recordings_dir).put_stream(io.BytesIO(b"audio"), max_bytes=100)
    report = backup(settings, tmp_path / "backups")
    next(f for f in (report.path / "recordings").rglob("*") if f.is_file()).write_bytes(b"changed")
    with pytest.raises(BackupError, match="checksum"):
        restore(report.path, tmp_path / "fresh")


def test_backup_of_postgresql_points_to_pg_dump(tmp_path):
    settings = make_settings(tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1/test")
    with pytest.raises(BackupError, match="pg_dump"):
        backup(settings, tmp_path / "b")
