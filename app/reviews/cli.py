"""`earshot reviews meeting-pack MEETING_ID --out FILE`: render a meeting's PDF pack from the command line."""

from pathlib import Path
from typing import Annotated

import typer

name = "reviews"
commands = typer.Typer(help="Bad-rating review cases and meetings.", no_args_is_help=True)


@commands.command("meeting-pack")
def meeting_pack(meeting_id: int, out: Annotated[Path, typer.Option(help="Where to write the PDF.")]) -> None:
    """Render the meeting pack now (also stored in the data directory) and copy it to OUT."""
    import shutil

    from app.core.db import make_engine, session_factory, session_scope
    from app.core.errors import EarshotError
    from app.core.settings import Settings
    from app.reviews import meetings, pack

    settings = Settings()
    factory = session_factory(make_engine(settings.resolved_database_url))
    try:
        with session_scope(factory) as session:
            result = pack.build_and_store(session=session, meeting_id=meeting_id, settings=settings)
            meeting = meetings.get_meeting(session=session, meeting_id=meeting_id)
            shutil.copyfile(pack.pack_path(settings=settings, meeting=meeting), out)
    except EarshotError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"wrote {out} ({result['size']} bytes, {result['cases']} case(s), "
               f"rendered in {result['render_seconds']} s)")
