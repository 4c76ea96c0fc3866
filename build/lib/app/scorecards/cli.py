"""`earshot scorecards ...`: load the shipped forms, validate a file, export a form as YAML."""

from pathlib import Path
from typing import Annotated

import typer

from app.core.settings import Settings

name = "scorecards"
commands = typer.Typer(help="Evaluation forms (scorecards).", no_args_is_help=True)


@commands.command("load")
def load(directory: Annotated[Path | None, typer.Argument(help="Folder of *.yaml forms.")] = None) -> None:
    """Import or update the forms from YAML (idempotent: unchanged files add no version)."""
    from app.core.db import make_engine, session_factory, session_scope
    from app.core.errors import EarshotError
    from app.scorecards import service

    settings = Settings()
    folder = directory or settings.scorecards_dir
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(session_factory(engine)) as session:
            report = service.load_directory(session=session, directory=folder)
    except EarshotError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        for detail in exc.details:
            line = f" (line {detail['line']})" if detail.get("line") else ""
            typer.echo(f"  {detail.get('loc')}: {detail.get('msg')}{line}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"scorecards: {len(report.created)} created, {len(report.new_versions)} new version(s), "
               f"{len(report.unchanged)} unchanged")


@commands.command("check")
def check(path: Path) -> None:
    """Validate one YAML form without touching the database."""
    from app.core.errors import EarshotError
    from app.scorecards.schema import parse_form_yaml

    try:
        form = parse_form_yaml(path.read_text(encoding="utf-8"))
    except EarshotError as exc:
        for detail in exc.details:
            line = f":{detail['line']}" if detail.get("line") else ""
            typer.echo(f"{path}{line}: {detail.get('loc')}: {detail.get('msg')}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{path}: ok ({form.key}, {len(form.questions())} questions)")


@commands.command("export")
def export(key: str, out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
           version: Annotated[int | None, typer.Option(help="Version number; default the published one.")] = None,
           ) -> None:
    """Write a form as YAML (to review it in git, or to edit and load it again)."""
    from app.core.db import make_engine, session_factory, session_scope
    from app.scorecards import service

    engine = make_engine(Settings().resolved_database_url)
    try:
        with session_scope(session_factory(engine)) as session:
            scorecard = service.get_by_key(session=session, key=key)
            if scorecard is None or scorecard.id is None:
                typer.echo(f"error: no scorecard {key!r}", err=True)
                raise typer.Exit(1)
            chosen = (service.get_version_by_number(session=session, scorecard_id=scorecard.id, number=version)
                      if version is not None else service.published_version(session=session, scorecard_id=scorecard.id)
                      or service.latest_version(session=session, scorecard_id=scorecard.id))
            if chosen is None:
                typer.echo(f"error: scorecard {key!r} has no version", err=True)
                raise typer.Exit(1)
            text = service.export_yaml(version=chosen)
    finally:
        engine.dispose()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
