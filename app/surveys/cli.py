"""`earshot surveys import FILE --source NAME`: import a survey CSV export (and `relink`)."""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlmodel import Session

    from app.core.settings import Settings
    from app.surveys.models import ImportReport

name = "surveys"
commands = typer.Typer(help="Customer satisfaction surveys.", no_args_is_help=True)


def run_import(what: Path, work: "Callable[[Session, Settings], ImportReport]") -> None:
    """Run a survey import of the file `what` from the command line: rows are committed in chunks (others keep
    working), a file that cannot be read ends with one `error: <file>: <why>` line, and a file with nothing
    to import or only rejected rows exits with code 1. Rejected rows are listed by line."""
    from app.core.db import session_scope, write_transactions
    from app.core.jobs import command_runtime
    from app.ingest.cli import fail, reading

    # write transactions take SQLite's lock at BEGIN: a chunk waits its turn instead of failing
    with command_runtime() as (runtime, _), reading(what.name), write_transactions(), \
            session_scope(runtime.sessions) as session:
        report = work(session, runtime.settings)
    typer.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
               f"rejected {len(report.rejected)}; review cases opened {report.cases_opened}")
    for problem in report.rejected:
        typer.echo(f"  {what.name} line {problem.line}: {problem.reason}", err=True)
    if report.total == 0:
        fail(what.name, "found no survey rows to import in it")
    if report.rejected and report.total == len(report.rejected):
        raise typer.Exit(1)


@commands.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    source: Annotated[str, typer.Option(help="Survey source name (created with the default mapping if new).")],
) -> None:
    """Import a CSV of survey invitations and responses; prints created/updated/unchanged/rejected by line.
    A column the file does not have changes nothing that is stored."""
    from app.surveys import service
    from app.surveys.imports import background_writer, decode_upload, import_csv

    def work(session: "Session", settings: "Settings") -> "ImportReport":
        survey_source = service.get_source_by_name(session=session, name=source)
        if survey_source is None:
            survey_source = service.create_source(session=session, name=source, actor=None)
            typer.echo(f"created survey source {source!r}; its webhook secret: {survey_source.webhook_secret}")
        return import_csv(session=session, source=survey_source, actor=None, what=file.name,
                          text=decode_upload(file.read_bytes(), what=file.name),
                          region=settings.phone_default_region, writer=background_writer(session))

    run_import(file, work)


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
