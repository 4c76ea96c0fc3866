"""The drop folder: a recording written slowly is ingested once, complete; failures go to failed/."""

import hashlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, select

from app.auth.models import User
from app.connectors import watch
from app.core.settings import Settings
from app.interactions.models import Interaction, Recording
from tests.integration.connectors_support import count_calls, tone


def _metadata(directory: Path, name: str, external_id: str) -> None:
    temporary = directory / f".{name}.tmp"
    temporary.write_text(json.dumps({"external_id": external_id, "started_at": "2026-11-20T09:00:00+00:00",
                                     "agent": "alice", "channel_map": "mixed"}))
    temporary.rename(directory / f"{name}.json")


def test_slowly_written_recording_is_ingested_once_and_complete(
        session: Session, settings: Settings, tmp_path: Path, make_user: Callable[..., User]) -> None:
    make_user("agent", username="alice")
    content = tone(tmp_path / "source.wav").read_bytes()
    drop = tmp_path / "drop"
    drop.mkdir()
    _metadata(drop, "call-1", "drop-1")

    def write_slowly() -> None:
        with (drop / "call-1.wav").open("wb") as handle:
            for start in range(0, len(content), 800):
                handle.write(content[start:start + 800])
                handle.flush()
                time.sleep(0.03)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    results = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        result = watch.scan(session=session, settings=settings, queue=None, directory=drop, settle_seconds=0.2)
        results.append(result)
        if result.ingested or result.failed:
            break
        time.sleep(0.01)
    writer.join()
    assert [r.ingested for r in results if r.ingested] == [["call-1.wav"]]
    assert not any(r.failed for r in results)
    assert len(results) > 5  # the scanner really ran while the file was being written
    recording = session.exec(select(Recording).join(Interaction).where(Interaction.external_id == "drop-1")).one()
    assert recording.sha256 == hashlib.sha256(content).hexdigest()
    assert (drop / "processed" / "call-1.wav").read_bytes() == content
    assert watch.scan(session=session, settings=settings, queue=None, directory=drop, settle_seconds=0).ingested == []
    assert count_calls(session, "dropfolder") == (1, 1)


def test_done_marker_crash_rerun_and_failures(session: Session, settings: Settings, tmp_path: Path,
                                              make_user: Callable[..., User]) -> None:
    make_user("agent", username="alice")
    drop = tmp_path / "drop"
    tone(drop / "a.wav")
    _metadata(drop, "a", "drop-a")
    (drop / "a.wav.done").touch()
    result = watch.scan(session=session, settings=settings, queue=None, directory=drop, settle_seconds=3600)
    assert result.ingested == ["a.wav"]
    # a crash after ingest but before the move: the files are back; the re-run changes nothing and moves them
    for name in ("a.wav", "a.json", "a.wav.done"):
        (drop / "processed" / name).rename(drop / name)
    assert watch.scan(session=session, settings=settings, queue=None, directory=drop,
                      settle_seconds=3600).ingested == ["a.wav"]
    assert count_calls(session, "dropfolder") == (1, 1)
    # failures: bad metadata, and a file that is not audio
    tone(drop / "b.wav", frequency=500)
    (drop / "b.json").write_text("{nope")
    (drop / "c.wav").write_bytes(b"RIFF....not really")
    _metadata(drop, "c", "drop-c")
    first = watch.scan(session=session, settings=settings, queue=None, directory=drop, settle_seconds=0)
    assert first.ingested == [] and sorted(first.waiting) == ["b.wav", "c.wav"]  # seen once: not yet settled
    second = watch.scan(session=session, settings=settings, queue=None, directory=drop, settle_seconds=0)
    assert sorted(second.failed) == ["b.wav", "c.wav"]
    assert "not valid JSON" in (drop / "failed" / "b.error.txt").read_text()
    assert (drop / "failed" / "c.error.txt").exists() and count_calls(session, "dropfolder") == (1, 1)
