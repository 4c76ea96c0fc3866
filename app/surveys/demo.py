"""Demo: import demo/surveys.csv (when the demo data set has it) into the source "demo"; every bad rating opens
a review case (the reviews demo then readies the latest month's cases and creates its meeting).
Idempotent: a second run imports nothing new."""

from collections.abc import Callable

from app.core.db import session_scope
from app.core.jobs import Runtime
from app.surveys import service
from app.surveys.imports import decode_upload, import_csv

DEMO_ORDER = 40
DEMO_SOURCE = "demo"


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    path = runtime.settings.demo_dir / "surveys.csv"
    if not path.exists():
        log(f"demo: no {path}; surveys skipped")
        return
    with session_scope(runtime.sessions) as session:
        source = service.get_or_create_source(session=session, name=DEMO_SOURCE, actor=None)
        report = import_csv(session=session, source=source, actor=None, what=path.name,
                            text=decode_upload(path.read_bytes(), what=path.name),
                            region=runtime.settings.phone_default_region)
    log(f"demo: surveys created {report.created}, unchanged {report.unchanged}, rejected {len(report.rejected)}; "
        f"review cases opened {report.cases_opened}")
    for problem in report.rejected[:5]:
        log(f"demo: surveys.csv line {problem.line}: {problem.reason}")
