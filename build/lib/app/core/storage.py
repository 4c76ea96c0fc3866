"""Content-addressed file storage: files are named by their sha256 and written atomically
(temporary file in the same directory, fsync, rename), so a crash never leaves a half-written file
under a real name, and the same content is stored once."""

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.core.errors import InvalidInput, PayloadTooLarge

CHUNK = 1024 * 1024


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
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
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

    def put_file(self, source: Path, *, max_bytes: int) -> StoredFile:
        with source.open("rb") as handle:
            return self.put_stream(handle, max_bytes=max_bytes)

    def delete(self, sha256: str) -> bool:
        path = self.path_for(sha256)
        if path.exists():
            path.unlink()
            return True
        return False


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
