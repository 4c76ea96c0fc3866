"""`earshot transcribe`: queue transcriptions (the worker runs them), or run them here with --now."""

from typing import Annotated

import typer

name = "transcribe"
commands = typer.Typer(help="Transcribe call recordings.", no_args_is_help=False)


@commands.callback(invoke_without_command=True)
def transcribe(
    recording_ids: Annotated[list[int] | None, typer.Argument(help="Recording ids to (re-)transcribe.")] = None,
    pending: Annotated[bool, typer.Option("--pending", help="Every recording not transcribed yet.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Every recording with audio (re-transcribe).")] = False,
    now: Annotated[bool, typer.Option("--now", help="Run here and wait, instead of queueing for the worker.")]
    = False,
) -> None:
    """Queue transcription jobs for recordings: by id, `--pending`, or `--all`."""
    from huey import MemoryHuey
    from sqlmodel import col, select

    from app.core.db import session_scope
    from app.core.errors import EarshotError
    from app.core.jobs import JobQueue, build_runtime
    from app.core.models import JobStatus
    from app.core.settings import Settings
    from app.interactions.models import Recording
    from app.speech import service

    runtime = build_runtime(Settings())
    queue = JobQueue(runtime, MemoryHuey("earshot-cli", immediate=True, results=False) if now else None)
    with session_scope(runtime.sessions) as session:
        ids = list(recording_ids or [])
        if pending:
            ids += service.pending_recording_ids(session=session)
        if all_:
            ids += [i for i in session.exec(select(Recording.id).where(col(Recording.audio_deleted_at).is_(None))
                                            .order_by(col(Recording.id))).all() if i is not None]
        if not ids:
            typer.echo("nothing to transcribe (give recording ids, --pending or --all)")
            return
        failed = 0
        for recording_id in dict.fromkeys(ids):
            try:
                job = service.request_transcription(session=session, queue=queue, recording_id=recording_id)
            except EarshotError as exc:
                typer.echo(f"recording {recording_id}: {exc.message}", err=True)
                failed += 1
                continue
            session.refresh(job)
            detail = f" ({job.error})" if job.error else ""
            typer.echo(f"recording {recording_id}: job {job.id} {job.status}{detail}")
            failed += job.status == JobStatus.FAILED
    runtime.engine.dispose()
    if failed:
        raise typer.Exit(1)
