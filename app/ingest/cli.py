"""`earshot import calls DIR | chats FILE | emails PATH | social FILE`: idempotent imports with a progress
bar and the report (created / updated / unchanged / rejected lines with reasons)."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.core.errors import EarshotError
from app.ingest.models import ImportReport

name = "import"
commands = typer.Typer(help="Import calls, chats, e-mails and social threads (idempotent).", no_args_is_help=True)
console = Console()
log = logging.getLogger("earshot.import")

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


def fail(what: str, message: str) -> NoReturn:
    """One line naming the file (unless the message already does), then exit code 1."""
    console.print(f"error: {message if what in message else f'{what}: {message}'}", markup=False,
                  highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn anything a bad input file raises into one `error: <file>: <why>` line and exit code 1 — a
    traceback tells the user nothing (it is logged at debug level for us)."""
    try:
        yield
    except (typer.Exit, KeyboardInterrupt):
        raise
    except EarshotError as exc:  # the whole file is unusable (not text, not JSON, no header): say why
        fail(what, exc.message)
    except RecursionError:
        fail(what, "cannot be read: nested too deeply")
    except Exception as exc:
        log.debug("reading %s failed", what, exc_info=True)
        fail(what, f"cannot be read: {type(exc).__name__}: {exc}")


def finish(report: ImportReport, *, what: str) -> None:
    """Print the report. A file with nothing to import in it (a silent no-op) and a file whose every record
    was rejected both end with exit code 1."""
    print_report(report)
    if not (report.created or report.updated or report.unchanged or report.rejected):
        fail(what, "found nothing to import in it (is it the right kind of file?)")
    if report.rejected and not (report.created or report.updated or report.unchanged):
        raise typer.Exit(1)


def _run(label: str, what: Path, work: Callable[..., ImportReport]) -> None:
    from app.core.db import session_scope, write_transactions
    from app.core.jobs import command_runtime

    with command_runtime() as (runtime, queue), reading(what.name), _progress(label) as progress, \
            write_transactions(), session_scope(runtime.sessions) as session:
        report = work(session=session, settings=runtime.settings, queue=queue, progress=progress, background=True)
    finish(report, what=what.name)


@commands.command("calls")
def import_calls(directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
                 source: SourceOption = "import") -> None:
    """Recordings listed in DIRECTORY/manifest.csv (transfers become ordered legs of one call)."""
    from app.ingest import calls

    _run("calls", directory, lambda session, settings, queue, progress, background: calls.import_calls(
        session=session, settings=settings, queue=queue, directory=directory, source=source,
        progress=progress, background=background))


@commands.command("chats")
def import_chats(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
                 source: SourceOption = "import") -> None:
    """Chat messages from a .jsonl or .csv file, one message a line, grouped by conversation_id."""
    from app.ingest import chats

    _run("chats", file, lambda session, settings, queue, progress, background: chats.import_chats(
        session=session, records=chats.read_records(file), source=source, settings=settings,
        progress=progress, background=background))


@commands.command("emails")
def import_emails(path: Annotated[Path, typer.Argument(exists=True)], source: SourceOption = "import") -> None:
    """E-mails from an .eml file, an .mbox archive, or a directory of them; one interaction per thread."""
    from app.ingest import email_threads
    from app.ingest.emails import iter_email_sources

    _run("emails", path, lambda session, settings, queue, progress, background: email_threads.import_emails(
        session=session, sources=iter_email_sources(path), source=source, settings=settings,
        progress=progress, background=background))


@commands.command("social")
def import_social(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
                  source: SourceOption = "import") -> None:
    """Social posts, comments and replies from a JSON file ({"posts": [...]}); one interaction per thread."""
    from app.ingest import social

    _run("social", file, lambda session, settings, queue, progress, background: social.import_social(
        session=session, records=social.read_social(file), source=source, settings=settings,
        progress=progress, background=background))
