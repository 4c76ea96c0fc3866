"""The transcription job: payload {"recording_id": N}."""

import logging
import re
import time
from typing import Any, NoReturn

from app.core.db import session_scope
from app.core.jobs import JobContext, JobKind, PermanentJobError, job_handler
from app.core.models import Job
from app.core.storage import BlobStore
from app.interactions.models import Interaction, Recording
from app.speech import engine, service
from app.speech.audio import AudioError, probe
from app.speech.pipeline import redacted_audio, transcribe_file

log = logging.getLogger("earshot.speech")

PROGRESS_STEP = 0.05  # write progress at most every 5 %
HEARTBEAT_SECONDS = 60.0
MAX_SECONDS = 2 * 3600.0  # a stereo 2-hour call peaks near 1.5 GB while decoding


@job_handler(service.JOB_KIND, max_attempts=3)
def transcribe_recording(ctx: JobContext) -> dict[str, Any]:
    """Transcribe one recording and store its segments, metrics and redaction ranges in one transaction.

    A missing, corrupt or empty file fails the job at once (PermanentJobError) with a readable reason;
    the interaction and the recording rows stay. Other errors are retried by the queue.
    """
    settings = ctx.runtime.settings
    try:
        recording_id = int(ctx.payload["recording_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentJobError("the job has no valid recording_id") from exc
    with session_scope(ctx.runtime.sessions) as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            raise PermanentJobError(f"recording {recording_id} does not exist")
        if recording.audio_deleted_at is not None:
            service.set_status(session=session, recording_id=recording_id, status=service.FAILED,
                               error="the audio was deleted by the retention policy")
            session.commit()
            raise PermanentJobError(f"recording {recording_id} has no audio any more")
        service.set_status(session=session, recording_id=recording_id, status=service.RUNNING)
        path = BlobStore(settings.recordings_dir).path_for(recording.sha256)
        channel_map = dict(recording.channel_map or {})
        interaction = session.get(Interaction, recording.interaction_id)
        queue = interaction.queue if interaction is not None else None
    try:
        info = probe(path)  # a file that is not audio fails before the model is even loaded
        limit = float(getattr(settings, "speech_max_seconds", MAX_SECONDS))
        if info.duration_seconds > limit:
            # decoding holds the whole call in memory (~230 MB per channel-hour): refuse rather than crash
            raise AudioError(f"the recording is {info.duration_seconds / 3600:.1f} hours long; calls over "
                             f"{limit / 3600:.1f} hours are not transcribed")
    except AudioError as exc:
        _fail_permanently(ctx, recording_id, exc)
    try:
        options = engine.decoding_options(settings, queue=queue)
    except engine.LanguageUnsupported as exc:
        _fail_permanently(ctx, recording_id, exc)
    ctx.progress(0.0, "Loading the speech model")
    try:
        model = engine.load_model(settings)
    except engine.ModelUnavailable as exc:  # a retry cannot help until an admin fixes the installation
        _fail_permanently(ctx, recording_id, exc)
    log.info("transcribing recording %s with model %s (%s, %s, %s threads), language %s, %d vocabulary term(s)",
             recording_id, engine.model_name(settings), settings.speech_device, settings.speech_compute_type,
             settings.speech_cpu_threads, options.language,
             len(re.split("[,，]", options.initial_prompt)) if options.initial_prompt else 0)
    last = [-1.0, time.monotonic()]

    def progress(fraction: float, message: str) -> None:
        # also a heartbeat (on SQLite the only one): written at least once a minute on very long calls
        if fraction - last[0] >= PROGRESS_STEP or time.monotonic() - last[1] >= HEARTBEAT_SECONDS:
            last[0], last[1] = fraction, time.monotonic()
            ctx.progress(0.95 * fraction, f"{message} …")

    try:
        transcript = transcribe_file(path, model=model, channel_map=channel_map, options=options,
                                     progress=progress, info=info)
    except AudioError as exc:
        _fail_permanently(ctx, recording_id, exc)
    except Exception as exc:
        _mark(ctx, recording_id, status=_status_after_error(ctx), error=f"{type(exc).__name__}: {exc}")
        raise
    ctx.progress(0.96, "Making the redacted audio copy")
    store = BlobStore(settings.recordings_dir)
    redacted_sha = None
    wav = redacted_audio(path, transcript)
    if wav is not None:
        redacted_sha = store.put_chunks([wav], max_bytes=len(wav) + 1).sha256
    ctx.progress(0.98, "Saving the transcript")
    with session_scope(ctx.runtime.sessions) as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            raise PermanentJobError(f"recording {recording_id} was deleted while it was transcribed")
        count = service.save_transcript(session=session, recording=recording, transcript=transcript,
                                        model=engine.model_name(settings), language=options.language,
                                        redacted_audio_sha256=redacted_sha)
        interaction_id = recording.interaction_id
    with session_scope(ctx.runtime.sessions) as session:
        service.reindex(session=session, interaction_id=interaction_id)
    # sentiment, categories, PII spans and auto-QA on the new transcript (one run per transcription)
    ctx.enqueue(JobKind.NLP_ANALYZE, {"interaction_id": interaction_id},
                dedupe_key=f"{JobKind.NLP_ANALYZE}:{interaction_id}:"
                f"transcribe-job-{ctx.job_id}")
    rtf = transcript.audio_seconds / transcript.processing_seconds if transcript.processing_seconds else None
    return {"recording_id": recording_id, "interaction_id": interaction_id, "segments": count,
            "words": len(transcript.words), "audio_seconds": round(transcript.audio_seconds, 2),
            "processing_seconds": round(transcript.processing_seconds, 2),
            "realtime_factor": round(rtf, 2) if rtf else None,
            "speaker_separation": transcript.speaker_separation}


def _fail_permanently(ctx: JobContext, recording_id: int, exc: Exception) -> NoReturn:
    reason = f"cannot transcribe recording {recording_id}: {exc}"
    _mark(ctx, recording_id, status=service.FAILED, error=reason)
    raise PermanentJobError(reason) from exc


def _status_after_error(ctx: JobContext) -> str:
    """"failed" on the last attempt, else "queued" (the queue retries with back-off)."""
    with session_scope(ctx.runtime.sessions) as session:
        job = session.get(Job, ctx.job_id)
        if job is None or job.attempts >= job.max_attempts:
            return service.FAILED
        return service.QUEUED


def _mark(ctx: JobContext, recording_id: int, *, status: str, error: str) -> None:
    with session_scope(ctx.runtime.sessions) as session:
        service.set_status(session=session, recording_id=recording_id, status=status, error=error)
