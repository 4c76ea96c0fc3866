"""`earshot scorecards ...`: load the shipped forms, validate a file, export a form as YAML."""

from pathlib import Path
from typing import Annotated, Any

import typer

from app.core.settings import Settings

name = "scorecards"
commands = typer.Typer(help="Evaluation forms (scorecards).", no_args_is_help=True)


def _echo_error(exc: Any) -> None:
    typer.echo(f"error: {exc.message}", err=True)
    for detail in exc.details:
        line = f" (line {detail['line']})" if detail.get("line") else ""
        typer.echo(f"  {detail.get('loc')}: {detail.get('msg')}{line}", err=True)


@commands.command("load")
def load(directory: Annotated[Path | None, typer.Argument(help="Folder of *.yaml forms.")] = None,
         publish: Annotated[bool, typer.Option(
             "--publish", help="Publish changed forms too, when the test on past evaluations shows no change "
                               "to scores (add --reviewed to publish one that does).")] = False,
         reviewed: Annotated[bool, typer.Option(
             "--reviewed", help="With --publish: I have reviewed the change to scores.")] = False) -> None:
    """Import or update the forms from YAML (idempotent: unchanged files add no version).

    New forms are published; a changed form becomes a draft version to test and publish on its page."""
    from app.core.db import make_engine, session_factory, session_scope
    from app.core.errors import EarshotError
    from app.scorecards import formtest, service

    settings = Settings()
    folder = directory or settings.scorecards_dir
    engine = make_engine(settings.resolved_database_url)
    refused = 0
    try:
        with session_scope(session_factory(engine)) as session:
            report = service.load_directory(session=session, directory=folder)
            typer.echo(f"scorecards: {len(report.created)} created, {len(report.new_versions)} new version(s), "
                       f"{len(report.unchanged)} unchanged")
            for draft in report.drafts:
                where = f"/scorecards/{draft['scorecard_id']}/versions/{draft['number']}/test"
                if not publish:
                    typer.echo(f"  {draft['key']}: draft version {draft['number']} — test it and publish it at {where}")
                    continue
                version = service.get_version_by_number(session=session, scorecard_id=draft["scorecard_id"],
                                                        number=draft["number"])
                try:
                    _, tested = formtest.publish_reviewed(session=session, version=version, actor=None,
                                                          reviewed=reviewed)
                except EarshotError as exc:
                    session.rollback()
                    refused += 1
                    typer.echo(f"  {draft['key']}: not published: {exc.message} ({where})", err=True)
                    continue
                typer.echo(f"  {draft['key']}: published version {draft['number']} "
                           f"(mean change {tested.shift.describe(2)})")
    except EarshotError as exc:
        _echo_error(exc)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    if refused:
        raise typer.Exit(2)


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
def export(key: Annotated[str | None, typer.Argument(help="The form's key (or --all).")] = None,
           out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
           version: Annotated[int | None, typer.Option(help="Version number; default the published one.")] = None,
           all_forms: Annotated[bool, typer.Option("--all", help="Every scorecard, one <key>.yaml per form.")] = False,
           directory: Annotated[Path | None, typer.Option("--dir", help="With --all: the folder to write to.")] = None,
           ) -> None:
    """Write a form as YAML (to review it in git, or to edit and load it again). With --all --dir, one file per
    scorecard (its published version, else its latest), so the folder can live in git; comments are not kept."""
    from app.core.db import make_engine, session_factory, session_scope
    from app.scorecards import service

    if all_forms == (key is not None) or (all_forms and (directory is None or out or version)):
        typer.echo("error: give a KEY, or --all --dir FOLDER (without --out/--version)", err=True)
        raise typer.Exit(2)
    engine = make_engine(Settings().resolved_database_url)
    texts: dict[str, str] = {}
    try:
        with session_scope(session_factory(engine)) as session:
            cards = (service.list_scorecards(session=session, include_retired=True) if all_forms
                     else [c for c in [service.get_by_key(session=session, key=key or "")] if c is not None])
            if not cards:
                typer.echo(f"error: no scorecard {key!r}" if key else "error: no scorecards", err=True)
                raise typer.Exit(1)
            for scorecard in cards:
                assert scorecard.id is not None
                chosen = (service.get_version_by_number(session=session, scorecard_id=scorecard.id, number=version)
                          if version is not None else
                          service.published_version(session=session, scorecard_id=scorecard.id)
                          or service.latest_version(session=session, scorecard_id=scorecard.id))
                if chosen is None:
                    typer.echo(f"error: scorecard {scorecard.key!r} has no version", err=True)
                    raise typer.Exit(1)
                texts[scorecard.key] = service.export_yaml(version=chosen)
    finally:
        engine.dispose()
    if all_forms:
        assert directory is not None
        directory.mkdir(parents=True, exist_ok=True)
        for form_key, text in texts.items():
            (directory / f"{form_key}.yaml").write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(texts)} form(s) to {directory}")
    elif out is None:
        typer.echo(next(iter(texts.values())), nl=False)
    else:
        out.write_text(next(iter(texts.values())), encoding="utf-8")
        typer.echo(f"wrote {out}")
