"""The SQLite writer queue: one writer at a time per database file, handed over at once.

SQLite allows one writer; the others wait in its busy handler, which sleeps and polls (up to 100 ms between
tries), so the lock sits idle between holders and a waiting writer can starve. Here a writer first takes

1. an in-process lock (threads of this process queue on it and are woken the moment it is released), then
2. an advisory file lock beside the database (`<file>-writer.lock`), which orders the processes (web processes
   and workers): its holder polls it every ≤ 2 ms, and a releaser that sees a writer of another process
   waiting (a shared lock on `<file>-waiting.lock`) makes its process's next writer pause 3 ms before trying,
   so no process starves the others.

Both are held from the start of the write (BEGIN IMMEDIATE, or a deferred transaction's first write, which is
when SQLite itself takes its write lock) to the end of the transaction; waiting is bounded by the busy timeout.
"""

import fcntl
import os
import threading
import time
from pathlib import Path

POLL_SECONDS = (0.0002, 0.0005, 0.001, 0.002)
HANDOVER_PAUSE_SECONDS = 0.003


class WriterQueue:
    def __init__(self, database: Path | None) -> None:
        self.local = threading.Lock()
        self.lock_fd = self.waiting_fd = self.probe_fd = -1
        self.pause_until = 0.0
        if database is not None:
            self.lock_fd = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
            self.waiting_fd = os.open(f"{database}-waiting.lock", os.O_RDWR | os.O_CREAT, 0o600)
            self.probe_fd = os.open(f"{database}-waiting.lock", os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.local.acquire(timeout=timeout):
            return False
        if self.lock_fd < 0:
            return True
        pause = self.pause_until - time.monotonic()
        if pause > 0:  # a writer of another process is waiting: let it take the file lock first
            time.sleep(pause)
        if self._try_file_lock():
            return True
        fcntl.flock(self.waiting_fd, fcntl.LOCK_SH)  # tell the holder a writer of another process is waiting
        try:
            for attempt in range(1_000_000):
                time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])
                if self._try_file_lock():
                    return True
                if time.monotonic() > deadline:
                    break
        finally:
            fcntl.flock(self.waiting_fd, fcntl.LOCK_UN)
        self.local.release()
        return False

    def release(self) -> None:
        """Never sleeps (a commit may run on the event loop): the pause for another process's writer is taken
        by this process's next writer, in its own thread."""
        if self.lock_fd >= 0:
            fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
            if self._another_process_waits():
                self.pause_until = time.monotonic() + HANDOVER_PAUSE_SECONDS
        self.local.release()

    def _try_file_lock(self) -> bool:
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _another_process_waits(self) -> bool:
        try:
            fcntl.flock(self.probe_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self.probe_fd, fcntl.LOCK_UN)
        return False


_queues: dict[str, WriterQueue] = {}
_queues_guard = threading.Lock()


def writer_queue(database: str | None) -> WriterQueue:
    """The process's queue for a database file (every engine on the file shares it)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return WriterQueue(None)
    path = Path(database).resolve()
    with _queues_guard:
        if str(path) not in _queues:
            _queues[str(path)] = WriterQueue(path)
        return _queues[str(path)]
