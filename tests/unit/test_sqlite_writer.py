"""The SQLite writer queue orders writers of several processes: a writer waits while another process holds
the lock, gets it within a few milliseconds of its release (not SQLite's 100 ms polls), and gives up after its
timeout."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from app.core.sqlite_writer import WriterQueue

ROOT = Path(__file__).resolve().parents[2]


def hold_in_another_process(database: Path, seconds: float) -> subprocess.Popen[str]:
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from app.core.sqlite_writer import WriterQueue
        queue = WriterQueue(Path({str(database)!r}))
        assert queue.acquire(timeout=5)
        print("held", flush=True)
        time.sleep({seconds})
        releasing_at = time.time()
        queue.release()
        print("released", releasing_at, flush=True)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def test_a_writer_of_another_process_is_waited_for_then_handed_the_lock_at_once(tmp_path):
    database = tmp_path / "earshot.db"
    child = hold_in_another_process(database, 0.4)
    queue = WriterQueue(database)
    assert queue.acquire(timeout=5)
    acquired_at = time.time()
    queue.release()
    assert child.stdout is not None
    released_at = float(child.stdout.readline().split()[1])
    child.wait(5)
    assert 0 <= acquired_at - released_at < 0.05


def test_a_writer_gives_up_after_its_timeout_while_another_process_holds_the_lock(tmp_path):
    database = tmp_path / "earshot.db"
    child = hold_in_another_process(database, 1.0)
    queue = WriterQueue(database)
    started = time.monotonic()
    assert not queue.acquire(timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 0.6
    child.wait(5)
    assert queue.acquire(timeout=1)  # free again, and the in-process lock was not left taken
    queue.release()
