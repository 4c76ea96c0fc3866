"""`earshot surveys import FILE --source NAME`: import a survey CSV export."""

from pathlib import Path
from typing import Annotated

import typer

name = "surveys"
commands = typer.Typer(help="Customer satisfaction surveys.", no_args_is_help=True)


@commands.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    source: Annotated[str, typer.Option(help="Survey source name (created with the default mapping if new).")],
) -> None:
    """Import a CSV of survey invitations and responses; prints created/updated/unchanged/rejected by line."""
    from app.core.db import make_engine, session_factory, session_scope
    from app.core.errors import EarshotError
    from app.core.settings import Settings
    from app.surveys import service

    factory = session_factory(make_engine(Settings().resolved_database_url))
    try:
        with session_scope(factory) as session:
            survey_source = service.get_source_by_name(session=session, name=source)
            if survey_source is None:
                survey_source = service.create_source(session=session, name=source, actor=None)
                typer.echo(f"created survey source {source!r}; its webhook secret: {survey_source.webhook_secret}")
            report = service.import_csv(session=session, source=survey_source,
                                        text=file.read_text(encoding="utf-8-sig"), actor=None)
    except EarshotError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
               f"rejected {len(report.rejected)}; review cases opened {report.cases_opened}")
    for problem in report.rejected:
        typer.echo(f"  line {problem.line}: {problem.reason}", err=True)


@commands.command("relink")
def relink() -> None:
    """Link the unlinked responses again, e.g. after importing the interactions they are about."""
    from app.core.db import make_engine, session_factory, session_scope
    from app.core.settings import Settings
    from app.surveys import service

    factory = session_factory(make_engine(Settings().resolved_database_url))
    with session_scope(factory) as session:
        linked = service.relink_unlinked(session=session)
        remaining = service.count_unlinked(session=session)
    typer.echo(f"linked {linked} response(s); {remaining} still unlinked")
