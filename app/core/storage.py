"""Content-addressed file storage: files are named by their sha256 and written atomically
(temporary file in the same directory, fsync, rename), so a crash never leaves a half-written file
under a real name, and the same content is stored once.

A writer holds an exclusive flock on its temporary file until it is renamed or removed; a process killed
mid-write loses the lock with its life, so `remove_abandoned_temp_files` can tell a dead writer's file from
a live one without guessing from ages. A full disk (ENOSPC, EFBIG past a file-size limit, EDQUOT) raises
InsufficientStorage (507) and leaves nothing behind."""

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.core.errors import (
    DISK_FULL_ERRNOS,
    DISK_FULL_MESSAGE,
    InsufficientStorage,
    InvalidInput,
    PayloadTooLarge,
)

log = logging.getLogger("earshot.storage")

CHUNK = 1024 * 1024
TEMP_PREFIX = ".incoming-"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: Path
    already_present: bool


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def put_stream(self, stream: BinaryIO, *, max_bytes: int, suffix: str = "") -> StoredFile:
        """Copy a stream into the store. Raises PayloadTooLarge past `max_bytes` and InvalidInput when empty;
        in both cases nothing is left behind."""
        return self.put_chunks(iter(lambda: stream.read(CHUNK), b""), max_bytes=max_bytes)

    def put_chunks(self, chunks: Iterable[bytes], *, max_bytes: int) -> StoredFile:
        try:
            return self._put_chunks(chunks, max_bytes=max_bytes)
        except OSError as exc:
            if exc.errno in DISK_FULL_ERRNOS:
                log.error("cannot store a file under %s: %s", self.root, exc)
                raise InsufficientStorage(DISK_FULL_MESSAGE) from exc
            raise

    def _put_chunks(self, chunks: Iterable[bytes], *, max_bytes: int) -> StoredFile:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = _locked_temp_file(self.root)
        handle = os.fdopen(fd, "wb")  # kept open (and locked) until the file has its real name
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"file is larger than the limit of {max_bytes} bytes")
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
            if size == 0:
                raise InvalidInput("file is empty")
            sha = digest.hexdigest()
            final = self.path_for(sha)
            if final.exists():
                tmp.unlink()
                return StoredFile(sha256=sha, size=size, path=final, already_present=True)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
            return StoredFile(sha256=sha, size=size, path=final, already_present=False)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            with contextlib.suppress(OSError):  # after a failed write the buffer cannot be flushed either
                handle.close()

    def put_file(self, source: Path, *, max_bytes: int) -> StoredFile:
        with source.open("rb") as handle:
            return self.put_stream(handle, max_bytes=max_bytes)

    def delete(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        if path.exists():
            path.unlink()
            return True
        return False


def _locked_temp_file(directory: Path) -> tuple[int, Path]:
    """A new temporary file in `directory`, exclusively locked. A sweeper may unlink a file in the instant
    between its creation and the lock; then the file has no name any more and another is made."""
    while True:
        fd, name = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink > 0:
            return fd, Path(name)
        os.close(fd)


def remove_abandoned_temp_files(data_dir: Path) -> int:
    """Delete the temporary files of the stores in `data_dir` (data/recordings, data/imports, ...) whose
    writer has died (no process holds their lock); files being written right now are left alone. Returns
    how many were removed."""
    removed = 0
    stores = [data_dir, *(d for d in data_dir.iterdir() if d.is_dir())] if data_dir.is_dir() else []
    for path in (p for store in stores for p in store.glob(TEMP_PREFIX + "*")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # renamed or removed meanwhile
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a live writer holds it
            os.close(fd)
            continue
        try:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        finally:
            os.close(fd)
    if removed:
        log.warning("removed %s temporary file(s) left by a stopped process under %s", removed, data_dir)
    return removed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
