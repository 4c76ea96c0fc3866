"""The watched drop folder: `<name>.<audio>` recordings with a `<name>.json` metadata file
(RecordingMetadata: external_id, started_at, agent, queue, customer...), picked up only once complete.

Complete means: a `<name>.done` sidecar exists, or both files kept the same size and mtime for
`settle_seconds` across scans (the last observation is kept in `DIR/.earshot-watch.json`, so the scanner
can be a loop, a cron run or a worker job). A complete pair is ingested (idempotent by source + external
id and by content hash), then moved to `DIR/processed/`; a pair that cannot be ingested goes to
`DIR/failed/` with `<name>.error.txt`. A crash between ingest and move re-runs safely: the next scan
ingests the same content again ("unchanged") and moves it.
"""

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app.connectors.common import AUDIO_SUFFIXES
from app.core.audit import Actor
from app.core.errors import EarshotError, InvalidInput
from app.core.jobs import JobQueue
from app.core.settings import Settings
from app.ingest.calls import ingest_recording
from app.ingest.models import RecordingMetadata

STATE_FILE = ".earshot-watch.json"


@dataclass
class ScanResult:
    ingested: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)


def _signature(path: Path) -> list[float]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _load_state(directory: Path) -> dict[str, Any]:
    try:
        state = json.loads((directory / STATE_FILE).read_text())
        return state if isinstance(state, dict) else {}
    except (OSError, json.JSONDecodeError):
        return {}


def _save_state(directory: Path, state: dict[str, Any]) -> None:
    temporary = directory / f"{STATE_FILE}.tmp"
    temporary.write_text(json.dumps(state))
    os.replace(temporary, directory / STATE_FILE)


def _is_complete(files: list[Path], done_marker: Path, state: dict[str, Any], *, settle_seconds: float,
                 now: float) -> bool:
    if done_marker.exists():
        return True
    key = files[0].name
    signature = [_signature(f) for f in files]
    seen = state.get(key)
    if seen is None or seen["signature"] != signature:
        state[key] = {"signature": signature, "since": now}
        return False
    return now - float(seen["since"]) >= settle_seconds


def scan(*, session: Session, settings: Settings, queue: JobQueue | None, directory: Path,
         settle_seconds: float, source: str = "dropfolder", actor: Actor | None = None,
         clock: Callable[[], float] = time.monotonic) -> ScanResult:
    """One pass over `directory`: ingest every complete recording + metadata pair, once."""
    result = ScanResult()
    state = _load_state(directory)
    now = clock()
    for audio in sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES):
        metadata_file = audio.with_suffix(".json")
        done_marker = audio.with_name(audio.name + ".done")
        if not metadata_file.exists():
            result.waiting.append(audio.name)
            continue
        if not _is_complete([audio, metadata_file], done_marker, state, settle_seconds=settle_seconds, now=now):
            result.waiting.append(audio.name)
            continue
        members = [audio, metadata_file, done_marker]
        try:
            metadata = _metadata(metadata_file, source=source)
            with audio.open("rb") as stream:
                ingest_recording(session=session, settings=settings, queue=queue,
                                 chunks=iter(lambda s=stream: s.read(1 << 20), b""),  # type: ignore[misc]
                                 filename=audio.name, metadata=metadata, actor=actor)
        except EarshotError as exc:
            session.rollback()
            _move(members, directory / "failed")
            (directory / "failed" / f"{audio.stem}.error.txt").write_text(exc.message + "\n")
            result.failed[audio.name] = exc.message
        else:
            _move(members, directory / "processed")
            result.ingested.append(audio.name)
        state.pop(audio.name, None)
    _save_state(directory, {k: v for k, v in state.items() if (directory / k).exists()})
    return result


def _metadata(path: Path, *, source: str) -> RecordingMetadata:
    from app.connectors.common import validated

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path.name}: not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidInput(f"{path.name}: not valid JSON: nested too deeply") from exc
    if isinstance(raw, dict):
        raw.setdefault("source", source)
    metadata: RecordingMetadata = validated(RecordingMetadata, raw)
    return metadata


def _move(files: list[Path], target: Path) -> None:
    target.mkdir(exist_ok=True)
    for file in files:
        if file.exists():
            os.replace(file, target / file.name)
