"""`earshot social ...`: the care sweep and thread refresh from the command line (cron-friendly)."""

import json

import typer

from app.core.settings import Settings

name = "social"
commands = typer.Typer(help="Social care: SLA clocks, non-genuine complaints, alerts.", no_args_is_help=True)


@commands.command("sweep")
def sweep_command() -> None:
    """Refresh open threads, flag non-genuine complaints, raise and deliver alerts (run it every few minutes)."""
    from app.core.db import session_scope
    from app.core.jobs import build_runtime
    from app.social.sweep import sweep

    runtime = build_runtime(Settings())
    with session_scope(runtime.sessions) as session:
        result = sweep(session=session)
    runtime.engine.dispose()
    typer.echo(json.dumps(result))


@commands.command("refresh")
def refresh_command() -> None:
    """Recompute the care state of every social thread."""
    from app.core.db import session_scope
    from app.core.jobs import build_runtime
    from app.social import service

    runtime = build_runtime(Settings())
    with session_scope(runtime.sessions) as session:
        ids = service.social_thread_ids(session=session)
        for interaction_id in ids:
            service.refresh_thread(session=session, interaction_id=interaction_id)
    runtime.engine.dispose()
    typer.echo(f"refreshed {len(ids)} social thread(s)")
