"""`earshot watch DIR [--settle S] [--interval S] [--once]` — the command `earshot connect watch` under a
shorter name (one declaration of its options, in app/connectors/cli.py)."""

import typer

from app.connectors.cli import watch_folder_command

name = "watch"
commands = typer.Typer(help="Watch a drop folder: ingest complete recordings + metadata once each.",
                       context_settings={"allow_interspersed_args": True})  # `watch DIR --once`
commands.callback(invoke_without_command=True)(watch_folder_command)
