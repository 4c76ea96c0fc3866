"""Connector jobs: the drop-folder scan (every minute through register_periodic; `earshot watch DIR` scans
continuously), webhook deliveries, the daily exports and the hourly IMAP pull."""

from typing import Any

from huey import Huey, crontab

from app.connectors.settings import ConnectorSettings
from app.core.db import session_scope
from app.core.jobs import JobContext, JobKind, JobQueue, Runtime, job_handler, periodic_job

WATCH_KIND = JobKind.CONNECTORS_WATCH_SCAN


@job_handler(WATCH_KIND, max_attempts=3)
def watch_scan(context: JobContext) -> dict[str, Any]:
    """payload: {directory?, settle_seconds?, source?, transcribe?}; defaults from EARSHOT_CONNECTORS_*."""
    from pathlib import Path

    from app.connectors import watch

    config = ConnectorSettings()
    directory = context.payload.get("directory") or config.watch_dir
    if not directory:
        return {"skipped": "no watch folder configured (EARSHOT_CONNECTORS_WATCH_DIR)"}
    queue = JobQueue(context.runtime) if context.payload.get("transcribe", True) else None
    with session_scope(context.runtime.sessions) as session:
        result = watch.scan(session=session, settings=context.runtime.settings, queue=queue,
                            directory=Path(str(directory)),
                            settle_seconds=float(context.payload.get("settle_seconds", config.watch_settle_seconds)),
                            source=str(context.payload.get("source") or config.watch_source))
    return {"ingested": result.ingested, "failed": result.failed, "waiting": result.waiting}


def _scan_configured(runtime: Runtime) -> dict[str, Any]:
    """One scan of EARSHOT_CONNECTORS_WATCH_DIR (no job row: a scan that finds nothing leaves no trace)."""
    from app.connectors import watch

    config = ConnectorSettings()
    if config.watch_dir is None:
        return {"skipped": "no watch folder configured"}
    with session_scope(runtime.sessions) as session:
        result = watch.scan(session=session, settings=runtime.settings,
                            queue=JobQueue(runtime) if config.watch_transcribe else None,
                            directory=config.watch_dir, settle_seconds=config.watch_settle_seconds,
                            source=config.watch_source)
    return {"ingested": result.ingested, "failed": result.failed}


def register_periodic(huey: Huey, runtime: Runtime) -> Any:
    """Scan the drop folder every minute on a consumer started with periodic=True (JobQueue's plug-in point
    for periodic work without job rows); the `connectors.watch_scan` job runs the same scan on demand."""

    @huey.periodic_task(crontab(minute="*"), name="connectors.watch.periodic")  # type: ignore[untyped-decorator]
    def periodic_watch() -> dict[str, Any]:
        return _scan_configured(runtime)

    @huey.periodic_task(crontab(minute="*"), name="connectors.webhooks.pending")  # type: ignore[untyped-decorator]
    def periodic_pending_deliveries() -> int:
        from app.connectors import webhooks

        queue = runtime.cache["queue"]  # the JobQueue that registered these tasks
        with session_scope(runtime.sessions) as session:
            return webhooks.queue_pending(session=session, queue=queue)

    return periodic_watch


@job_handler(JobKind.CONNECTORS_WEBHOOK_DELIVER, max_attempts=6)
def webhook_deliver(context: JobContext) -> dict[str, Any]:
    """payload: {delivery}; a failed POST raises, so the queue retries with back-off."""
    from app.connectors import webhooks

    with session_scope(context.runtime.sessions) as session:
        delivery = webhooks.attempt(session=session, delivery_id=int(context.payload["delivery"]),
                                    timeout=ConnectorSettings().webhook_timeout_seconds)
        return {"status": delivery.status, "response_code": delivery.response_code}


EXPORTS_KIND = JobKind.CONNECTORS_SCHEDULED_EXPORTS


@job_handler(EXPORTS_KIND, max_attempts=3)
def scheduled_exports(context: JobContext) -> dict[str, Any]:
    """payload: {directory?}; default EARSHOT_CONNECTORS_EXPORT_DIR. Daily at 02:15 UTC."""
    from pathlib import Path

    from app.connectors.exports import run_exports

    directory = context.payload.get("directory") or ConnectorSettings().export_dir
    if not directory:
        return {"skipped": "no export folder configured (EARSHOT_CONNECTORS_EXPORT_DIR)"}
    with session_scope(context.runtime.sessions) as session:
        written = run_exports(session=session, directory=Path(str(directory)))
    return {"written": [str(p) for p in written]}


periodic_job(EXPORTS_KIND, crontab(minute="15", hour="2"), every="day")


IMAP_KIND = JobKind.CONNECTORS_IMAP_PULL


@job_handler(IMAP_KIND, max_attempts=3)
def imap_pull(context: JobContext) -> dict[str, Any]:
    """Pull the configured mailbox (EARSHOT_CONNECTORS_IMAP_*; the password never goes into a job row)."""
    from app.connectors.email import ImapAccount, pull_imap

    config = ConnectorSettings()
    if not (config.imap_host and config.imap_user and config.imap_password):
        return {"skipped": "no IMAP account configured (EARSHOT_CONNECTORS_IMAP_HOST, _USER, _PASSWORD)"}
    account = ImapAccount(host=config.imap_host, port=config.imap_port, username=config.imap_user,
                          password=config.imap_password.get_secret_value(), use_ssl=config.imap_ssl)
    with session_scope(context.runtime.sessions) as session:
        pulls = pull_imap(session=session, settings=context.runtime.settings, account=account,
                          folders=config.imap_folders, source=config.imap_source)
    return {pull.folder: {"fetched": pull.fetched, "last_uid": pull.last_uid, "created": pull.report.created,
                          "updated": pull.report.updated, "rejected": len(pull.report.rejected)} for pull in pulls}


periodic_job(IMAP_KIND, crontab(minute="7"), every="hour")
