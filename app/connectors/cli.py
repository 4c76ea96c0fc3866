"""`earshot connect <system> ...`: import what phone systems, help desks, mailboxes and social networks
export, watch a drop folder (`earshot connect watch DIR`, also `earshot watch DIR` through app/watch/cli.py),
set survey presets and write the exports now."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from app.core.errors import EarshotError
from app.ingest.models import ImportReport

name = "connect"
commands = typer.Typer(help="Connect your systems: import from phone systems, help desks, mail and social.",
                       no_args_is_help=True)

Recordings = Annotated[Path | None, typer.Option("--recordings", exists=True, file_okay=False,
                                                 help="Folder with the recordings.")]
Source = Annotated[str | None, typer.Option(help="Source name (default: the system's name).")]
Zone = Annotated[str, typer.Option("--timezone", help="Zone of times written without an offset.")]
ExistingFile = Annotated[Path, typer.Argument(exists=True)]


def _run(what: Path, work: Callable[..., ImportReport]) -> None:
    """Run an import of `what` in one session; a bad file ends with one `error: <file>: <why>` line, a file
    with nothing to import or only rejected records with exit code 1 (app.ingest.cli's rules)."""
    from app.core.db import session_scope
    from app.core.jobs import command_runtime
    from app.ingest.cli import finish, reading

    with command_runtime() as (runtime, queue), reading(what.name), session_scope(runtime.sessions) as session:
        report = work(session=session, settings=runtime.settings, queue=queue)
    finish(report, what=what.name)


def _calls(what: Path, records: Callable[[], Any], source: str) -> None:
    from app.connectors.common import import_call_records

    _run(what, lambda session, settings, queue: import_call_records(
        session=session, settings=settings, queue=queue, source=source, records=records()))


@commands.command("asterisk")
def asterisk(cdr_csv: ExistingFile, recordings: Recordings = None, source: Source = None,
             timezone: Zone = "UTC") -> None:
    """Asterisk cdr_csv Master.csv with MixMonitor recordings matched by uniqueid."""
    from app.connectors import phone

    _calls(cdr_csv, lambda: phone.read_asterisk(cdr_csv, recordings=recordings, zone=timezone), source or "asterisk")


@commands.command("freeswitch")
def freeswitch(cdr: ExistingFile, recordings: Recordings = None, source: Source = None,
               timezone: Zone = "UTC") -> None:
    """FreeSWITCH mod_json_cdr files (a file or a folder of them) with their recordings."""
    from app.connectors import phone

    _calls(cdr, lambda: phone.read_freeswitch(cdr, recordings=recordings, zone=timezone), source or "freeswitch")


@commands.command("amazon-connect")
def amazon_connect(ctr_file: ExistingFile, recordings: Recordings = None, source: Source = None) -> None:
    """Amazon Connect contact trace records (JSON / JSON lines) with a folder mirroring the S3 layout."""
    from app.connectors import phone

    _calls(ctr_file, lambda: phone.read_connect(ctr_file, recordings=recordings), source or "amazon-connect")


@commands.command("twilio")
def twilio(calls_json: ExistingFile, recordings_json: Annotated[Path | None, typer.Option(
        "--recordings-json", exists=True, dir_okay=False)] = None, audio: Recordings = None,
           source: Source = None) -> None:
    """Twilio Call resources (and Recording resources) as JSON with the audio files."""
    from app.connectors import phone

    _calls(calls_json, lambda: phone.read_twilio(calls_json, recordings_file=recordings_json, audio_dir=audio), source or "twilio")


@commands.command("watch")
def watch_folder_command(directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
                         settle: Annotated[float, typer.Option(help="Seconds a file must stay unchanged.")] = 10.0,
                         interval: Annotated[float, typer.Option(help="Seconds between scans.")] = 5.0,
                         source: Annotated[str, typer.Option()] = "dropfolder",
                         once: Annotated[bool, typer.Option(help="Scan once and exit.")] = False) -> None:
    """Watch DIRECTORY for recordings + <name>.json metadata; ingest each once, then move to processed/."""
    watch_folder(directory, settle=settle, interval=interval, source=source, once=once)


def watch_folder(directory: Path, *, settle: float, interval: float, source: str, once: bool) -> None:
    """Scan `directory` every `interval` seconds (or once) and print what was ingested or failed. A single
    scan (`once`) exits 1 when a recording failed or nothing was ready to ingest."""
    import time

    from app.connectors import watch
    from app.core.db import session_scope
    from app.core.jobs import command_runtime

    with command_runtime() as (runtime, queue):
        while True:
            with session_scope(runtime.sessions) as session:
                result = watch.scan(session=session, settings=runtime.settings, queue=queue, directory=directory,
                                    settle_seconds=settle, source=source)
            for name in result.ingested:
                typer.echo(f"ingested {name}")
            for name, reason in result.failed.items():
                typer.echo(f"failed {name}: {reason}")
            if once:
                if not (result.ingested or result.failed):
                    typer.echo(f"error: {directory.name}: no recording with its <name>.json metadata is ready "
                               f"(waiting: {', '.join(result.waiting) or 'none'})")
                if result.failed or not result.ingested:
                    raise typer.Exit(1)
                return
            time.sleep(interval)


def _interactions(reader_name: str, export: Path, source: str | None) -> None:
    from app.connectors import helpdesk
    from app.connectors.common import import_interactions

    reader = getattr(helpdesk, f"read_{reader_name}")
    _run(export, lambda session, settings, queue: import_interactions(
        session=session, settings=settings, source=source or reader_name, records=reader(session, export)))


@commands.command("zendesk")
def zendesk(export: ExistingFile, source: Source = None) -> None:
    """Zendesk tickets with their comments (and side-loaded users); internal notes stay internal."""
    _interactions("zendesk", export, source)


@commands.command("intercom")
def intercom(export: ExistingFile, source: Source = None) -> None:
    """Intercom conversations with conversation_parts; notes stay internal."""
    _interactions("intercom", export, source)


@commands.command("chatwoot")
def chatwoot(export: ExistingFile, source: Source = None) -> None:
    """Chatwoot conversations with their messages; private messages stay internal."""
    _interactions("chatwoot", export, source)


@commands.command("zammad")
def zammad(export: ExistingFile, source: Source = None) -> None:
    """Zammad tickets with their articles; internal articles stay internal."""
    _interactions("zammad", export, source)


@commands.command("mailbox")
def mailbox_folder(path: ExistingFile, source: Source = None) -> None:
    """An mbox file or a Maildir folder; one interaction per e-mail thread."""
    from app.connectors.email import import_mailbox

    _run(path, lambda session, settings, queue: import_mailbox(session=session, settings=settings, path=path,
                                                        source=source or "mail"))


@commands.command("imap")
def imap(host: Annotated[str, typer.Option()], user: Annotated[str, typer.Option()],
         password: Annotated[str, typer.Option(envvar="EARSHOT_IMAP_PASSWORD", prompt=True, hide_input=True)],
         port: Annotated[int, typer.Option()] = 993, folder: Annotated[list[str] | None, typer.Option()] = None,
         ssl: Annotated[bool, typer.Option("--ssl/--no-ssl")] = True, source: Source = None) -> None:
    """Pull new messages over IMAP (a stored UIDVALIDITY + last-UID mark per folder: nothing twice)."""
    from app.connectors.email import ImapAccount, pull_imap
    from app.core.db import make_engine, session_factory, session_scope
    from app.core.settings import Settings
    from app.ingest.cli import print_report

    settings = Settings()
    sessions = session_factory(make_engine(settings.resolved_database_url))
    account = ImapAccount(host=host, port=port, username=user, password=password, use_ssl=ssl)
    with session_scope(sessions) as session:
        pulls = pull_imap(session=session, settings=settings, account=account, folders=folder or None,
                          source=source or "imap")
    for pull in pulls:
        typer.echo(f"{pull.folder}: fetched {pull.fetched}, last UID {pull.last_uid}")
        print_report(pull.report)


def _social(what: Path, records: Callable[[], Any], source: str) -> None:
    from app.connectors.social import import_posts

    _run(what, lambda session, settings, queue: import_posts(session=session, settings=settings,
                                                            records=records(), source=source))


@commands.command("facebook")
def facebook(feed_json: ExistingFile, page_id: Annotated[str | None, typer.Option()] = None,
             source: Source = None) -> None:
    """Facebook page feed with comments (Graph API JSON); the page's own replies are the brand's."""
    from app.connectors import social

    _social(feed_json, lambda: social.read_facebook(feed_json, page_id=page_id), source or "facebook")


@commands.command("twitter")
def twitter(tweets_js: ExistingFile, handle: Annotated[str | None, typer.Option()] = None,
            source: Source = None) -> None:
    """X/Twitter account archive data/tweets.js (handle from account.js beside it)."""
    from app.connectors import social

    _social(tweets_js, lambda: social.read_tweets(tweets_js, handle=handle), source or "twitter")


@commands.command("instagram")
def instagram(media_json: ExistingFile, account: Annotated[str | None, typer.Option(
        help="The brand's username (needed for a file of media that tag the brand)")] = None,
        source: Source = None) -> None:
    """Instagram media with comments and replies (Graph API JSON), the brand's own or those tagging it."""
    from app.connectors import social

    _social(media_json, lambda: social.read_instagram(media_json, account=account), source or "instagram")


@commands.command("survey-preset")
def survey_preset(name: Annotated[str, typer.Argument(help="Survey source name.")],
                  preset: Annotated[str, typer.Option(help="qualtrics or surveymonkey")],
                  score_column: Annotated[str | None, typer.Option()] = None,
                  comment_column: Annotated[str | None, typer.Option()] = None,
                  export: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                              help="Import this CSV export too.")] = None,
                  timezone: Zone = "UTC") -> None:
    """Create or update a survey source with the Qualtrics/SurveyMonkey column preset (and import an export:
    absent columns change nothing; bad rows are listed by line; an unreadable file is one error line)."""
    from app.connectors import surveys
    from app.core.db import make_engine, session_factory, session_scope
    from app.core.settings import Settings
    from app.ingest.cli import fail
    from app.surveys.cli import run_import
    from app.surveys.imports import background_writer, decode_upload
    from app.surveys.models import SurveySource

    engine = make_engine(Settings().resolved_database_url)
    try:
        with session_scope(session_factory(engine)) as session:
            source = surveys.apply_preset(session=session, name=name, preset=preset, actor=None,
                                          score_column=score_column, comment_column=comment_column)
            typer.echo(f"survey source {source.name!r}: {source.column_mapping}")
            source_id = source.id
    except EarshotError as exc:
        fail(f"survey source {name!r}", exc.message)
    finally:
        engine.dispose()
    if export is None:
        return
    exported = export

    def work(session: Any, settings: Any) -> Any:
        return surveys.import_export(session=session, source=session.get(SurveySource, source_id),
                                     preset=preset, zone=timezone, region=settings.phone_default_region,
                                     text=decode_upload(exported.read_bytes(), what=exported.name),
                                     what=exported.name, writer=background_writer(session))

    run_import(exported, work)


@commands.command("export")
def export_now(directory: Annotated[Path, typer.Argument(file_okay=False)]) -> None:
    """Write today's CSV exports (evaluations, survey figures, social SLA) to DIRECTORY now."""
    from app.connectors.exports import run_exports
    from app.core.db import make_engine, session_factory, session_scope
    from app.core.settings import Settings

    sessions = session_factory(make_engine(Settings().resolved_database_url))
    with session_scope(sessions) as session:
        for path in run_exports(session=session, directory=directory):
            typer.echo(f"wrote {path}")
