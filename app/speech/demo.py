"""Demo: queue the transcription of every demo call not transcribed yet, and of every demo call transcribed
by another model than the configured one (so `make run` after the switch to Whisper base re-transcribes the
demo with base and the vocabulary). The worker does the work."""

from collections.abc import Callable

from app.core.db import session_scope
from app.core.jobs import JobQueue, Runtime
from app.speech import engine, service

DEMO_ORDER = 20
DEMO_SOURCE = "demo"  # app/ingest/demo.py loads the demo calls with this source


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    queue = JobQueue(runtime)
    model = engine.model_name(runtime.settings)
    try:  # join base here, once, so a bad installation shows now and the first job starts at once
        log(f"demo: speech model {model} at {engine.model_path(runtime.settings)}")
    except engine.ModelUnavailable as exc:
        log(f"demo: the speech model is not usable, calls will fail to transcribe: {exc}")
    with session_scope(runtime.sessions) as session:
        pending = service.pending_recording_ids(session=session)
        outdated = service.recording_ids_transcribed_by_another_model(session=session, model=model,
                                                                      source=DEMO_SOURCE)
        for recording_id in [*pending, *outdated]:
            service.request_transcription(session=session, queue=queue, recording_id=recording_id)
    log(f"demo: {len(pending)} call(s) queued for transcription, {len(outdated)} transcribed by another model "
        f"queued again for {model} (the worker transcribes them)")
