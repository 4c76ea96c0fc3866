"""`earshot import calls DIR | chats FILE | emails PATH | social FILE`: idempotent imports with a progress
bar and the report (created / updated / unchanged / rejected lines with reasons)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.core.errors import EarshotError
from app.core.settings import Settings
from app.ingest.models import ImportReport

name = "import"
commands = typer.Typer(help="Import calls, chats, e-mails and social threads (idempotent).", no_args_is_help=True)
console = Console()

SourceOption = Annotated[str, typer.Option(help="Source system name: with the external ids, it makes imports idempotent.")]


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def print_report(report: ImportReport) -> None:
    console.print(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
                  f"rejected {len(report.rejected)}")
    for rejected in report.rejected:
        where = f"{rejected.item} " if rejected.item else ""
        console.print(f"  line {rejected.line}: {where}{rejected.reason}", markup=False, highlight=False,
                      soft_wrap=True)


def _run(label: str, work: Callable[..., ImportReport]) -> None:
    from app.core.db import ensure_wal, make_engine, session_factory, session_scope
    from app.core.jobs import JobQueue, Runtime

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    ensure_wal(engine)
    sessions = session_factory(engine)
    queue = JobQueue(Runtime(settings=settings, engine=engine, sessions=sessions))
    try:
        with _progress(label) as progress, session_scope(sessions) as session:
            report = work(session=session, settings=settings, queue=queue, progress=progress)
    except EarshotError as exc:  # the whole file is unusable (not text, not JSON, no header): say why
        console.print(f"error: {exc.message}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    print_report(report)
    if report.rejected and not (report.created or report.updated or report.unchanged):
        raise typer.Exit(1)


@commands.command("calls")
def import_calls(directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
                 source: SourceOption = "import") -> None:
    """Recordings listed in DIRECTORY/manifest.csv (transfers become ordered legs of one call)."""
    from app.ingest import service

    _run("calls", lambda session, settings, queue, progress: service.import_calls(
        session=session, settings=settings, queue=queue, directory=directory, source=source, progress=progress))


@commands.command("chats")
def import_chats(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
                 source: SourceOption = "import") -> None:
    """Chat messages from a .jsonl or .csv file, one message a line, grouped by conversation_id."""
    from app.ingest import service

    _run("chats", lambda session, settings, queue, progress: service.import_chats(
        session=session, records=service.read_records(file), source=source, settings=settings, progress=progress))


@commands.command("emails")
def import_emails(path: Annotated[Path, typer.Argument(exists=True)], source: SourceOption = "import") -> None:
    """E-mails from an .eml file, an .mbox archive, or a directory of them; one interaction per thread."""
    from app.ingest import service
    from app.ingest.emails import iter_email_sources

    _run("emails", lambda session, settings, queue, progress: service.import_emails(
        session=session, sources=iter_email_sources(path), source=source, settings=settings, progress=progress))


@commands.command("social")
def import_social(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
                  source: SourceOption = "import") -> None:
    """Social posts, comments and replies from a JSON file ({"posts": [...]}); one interaction per thread."""
    from app.ingest import service

    _run("social", lambda session, settings, queue, progress: service.import_social(
        session=session, records=service.read_social(file), source=source, settings=settings, progress=progress))
