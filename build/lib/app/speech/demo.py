"""Demo: queue the transcription of every demo call not transcribed yet (the worker does the work)."""

from collections.abc import Callable

from app.core.db import session_scope
from app.core.jobs import JobQueue, Runtime
from app.speech import service

DEMO_ORDER = 20


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    queue = JobQueue(runtime)
    with session_scope(runtime.sessions) as session:
        ids = service.pending_recording_ids(session=session)
        for recording_id in ids:
            service.request_transcription(session=session, queue=queue, recording_id=recording_id)
    log(f"demo: {len(ids)} call(s) queued for transcription (the worker transcribes them)")
