"""`earshot watch DIR [--settle S] [--interval S] [--once]` — same as `earshot connect watch`."""

from pathlib import Path
from typing import Annotated

import typer

name = "watch"
commands = typer.Typer(help="Watch a drop folder: ingest complete recordings + metadata once each.",
                       context_settings={"allow_interspersed_args": True})  # `watch DIR --once`


@commands.callback(invoke_without_command=True)
def watch(directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
          settle: Annotated[float, typer.Option(help="Seconds a file must stay unchanged.")] = 10.0,
          interval: Annotated[float, typer.Option(help="Seconds between scans.")] = 5.0,
          source: Annotated[str, typer.Option()] = "dropfolder",
          once: Annotated[bool, typer.Option(help="Scan once and exit.")] = False) -> None:
    """Watch DIRECTORY for recordings + <name>.json metadata; ingest each once, then move to processed/."""
    from app.connectors.cli import watch_folder

    watch_folder(directory, settle=settle, interval=interval, source=source, once=once)
