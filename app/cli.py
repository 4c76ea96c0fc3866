"""The `earshot` command. Features add their own sub-commands from `app/<feature>/cli.py`
(a module exposing `name` and `commands`, a Typer app)."""

import logging
import os
from typing import Annotated

import typer

from app.core.features import iter_feature_modules
from app.core.hooks import load_hooks
from app.core.settings import Settings

cli = typer.Typer(help="Earshot: quality monitoring and evaluation for contact centers.", no_args_is_help=True)
users_cli = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
demo_cli = typer.Typer(help="The demo data set.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")
cli.add_typer(demo_cli, name="demo")


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic; the only way the schema is made)."""
    from app.core.migrate import upgrade

    settings = Settings()
    upgrade(settings.resolved_database_url)
    typer.echo(f"database is up to date: {_safe_url(settings.resolved_database_url)}")


def default_web_processes() -> int:
    """One web process per CPU core this process may use (a Python process uses about one core)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int | None, typer.Option(
        help="Web processes; default one per CPU core. Each keeps its own connection pool.")] = None,
) -> None:
    """Serve the web app and the API (uvloop and httptools when installed)."""
    import uvicorn

    processes = workers if workers is not None else default_web_processes()
    typer.echo(f"serving with {processes} web process(es)")
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=processes,
                proxy_headers=True, log_level="info", loop="auto", http="auto")


@cli.command()
def worker(workers: Annotated[int, typer.Option(help="Worker threads in this process.")] = 1) -> None:
    """Run background jobs (transcription, imports, PDF packs) until stopped."""
    from app.core.jobs import build_queue
    from app.speech.engine import check_languages

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    problems = check_languages(settings)  # a language the model cannot decode: refuse now, not per call
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        raise typer.Exit(2)
    queue = build_queue(settings)
    recovered = queue.recover()
    if recovered:
        typer.echo(f"handed {recovered} waiting or interrupted job(s) to this worker")
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                          check_worker_health=True)
    consumer.run()


@users_cli.command("create")
def users_create(
    username: str,
    roles: Annotated[str, typer.Option(help="Comma-separated: admin, evaluator, coach, agent, executive.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    display_name: str = "",
    email: str = "",
    team: Annotated[str, typer.Option(help="Team name (created when missing).")] = "",
    site: Annotated[str, typer.Option(help="Site or shop name (created when missing).")] = "",
) -> None:
    """Create a user account."""
    from app.auth import service
    from app.auth.models import UserCreate
    from app.core.db import make_engine, session_factory, session_scope
    from app.core.errors import EarshotError
    from app.core.security import make_password_hasher

    settings = Settings()
    factory = session_factory(make_engine(settings.resolved_database_url))
    try:
        with session_scope(factory) as session:
            team_id = service.get_or_create_team(session=session, name=team).id if team else None
            site_id = service.get_or_create_site(session=session, name=site).id if site else None
            data = UserCreate.model_validate({"username": username, "password": password,
                                              "display_name": display_name, "email": email or None,
                                              "roles": roles.split(","), "team_id": team_id, "site_id": site_id})
            user = service.create_user(session=session, data=data, hasher=make_password_hasher(settings), actor=None)
            typer.echo(f"created user {user.username} ({user.roles})")
    except (EarshotError, ValueError) as exc:
        typer.echo(f"error: {getattr(exc, 'message', exc)}", err=True)
        raise typer.Exit(1) from exc


@users_cli.command("list")
def users_list() -> None:
    """List user accounts."""
    from app.auth import service
    from app.core.db import make_engine, session_factory, session_scope

    factory = session_factory(make_engine(Settings().resolved_database_url))
    with session_scope(factory) as session:
        for user in service.list_users(session=session):
            typer.echo(f"{user.id:>5}  {user.username:<24} {user.roles:<30} {'active' if user.is_active else 'disabled'}")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo data set (idempotent: running it again adds nothing)."""
    from app.core.demo import load_demo

    load_demo(Settings(), log=typer.echo)


@cli.command("backup")
def backup_command(destination: Annotated[str, typer.Argument(help="Folder to write the backup into.")]) -> None:
    """Consistent snapshot of the SQLite database and the recordings, safe while Earshot runs."""
    from pathlib import Path

    from app.core.backup import BackupError, backup

    try:
        report = backup(Settings(), Path(destination))
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"backup written to {report.path}: {sum(report.tables.values())} rows in {len(report.tables)} "
               f"tables, {report.recordings} recording file(s)")


@cli.command("restore")
def restore_command(
    backup_dir: Annotated[str, typer.Argument(help="A folder written by `earshot backup`.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing database.")] = False,
) -> None:
    """Restore a backup into the data directory (EARSHOT_DATA_DIR), verifying every recording."""
    from pathlib import Path

    from app.core.backup import BackupError, restore

    try:
        report = restore(Path(backup_dir), Settings().resolved_data_dir, force=force)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"restored {sum(report.tables.values())} rows and {report.recordings} recording file(s) "
               f"into {report.path}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


for _module in iter_feature_modules("cli"):
    cli.add_typer(_module.commands, name=_module.name)
load_hooks()  # every command may call the core hooks (imports open review cases, ...); raises if one is missing


def main() -> None:
    cli()


if __name__ == "__main__":  # python -m app.cli (runs this checkout's code, whatever `earshot` points at)
    main()
