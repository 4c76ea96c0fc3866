"""The demo loads the forms shipped in `scorecards/`."""

from collections.abc import Callable

from app.core.db import session_scope
from app.core.jobs import Runtime
from app.scorecards import service

DEMO_ORDER = 30


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    with session_scope(runtime.sessions) as session:
        report = service.load_directory(session=session, directory=runtime.settings.scorecards_dir)
    log(f"demo: scorecards {len(report.created)} created, {len(report.new_versions)} updated, "
        f"{len(report.unchanged)} unchanged")
