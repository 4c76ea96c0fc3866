"""Loads the demo interactions (calls, chats, e-mails, social threads) through the real importers, so
loading twice changes nothing. Missing files are skipped: the demo data set may be partial."""

from collections.abc import Callable

from app.core.db import session_scope
from app.core.jobs import JobQueue, Runtime
from app.ingest.calls import import_calls
from app.ingest.chats import import_chats, read_records
from app.ingest.email_threads import import_emails
from app.ingest.emails import iter_email_sources
from app.ingest.models import ImportReport
from app.ingest.social import import_social, read_social
from app.interactions import customers

DEMO_ORDER = 10
SOURCE = "demo"
# What the demo company's CRM knows that the contact channels do not: Maria Lopez's customer record lists
# her Twitter handle. Applying it merges her tweet's customer into her phone/e-mail customer (audited, and
# undoable from the API), so the demo shows one person with one timeline across call, chat and tweet.
CRM_LINKS = [
    ("Maria Lopez", [("phone", "+447700900123", ""), ("email", "maria.lopez@example.com", ""),
                     ("social", "marial", "twitter")]),
]


def _summary(kind: str, report: ImportReport) -> str:
    text = (f"demo: {kind}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.rejected)} rejected")
    for rejected in report.rejected[:5]:
        text += f"\n  line {rejected.line} {rejected.item or ''}: {rejected.reason}"
    return text


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    settings = runtime.settings
    root = settings.demo_dir
    queue = JobQueue(runtime)
    steps: list[tuple[str, bool, Callable[..., ImportReport]]] = [
        ("calls", (root / "calls" / "manifest.csv").exists(), lambda session: import_calls(
            session=session, settings=settings, queue=queue, directory=root / "calls", source=SOURCE)),
        ("chats", (root / "chats.jsonl").exists(), lambda session: import_chats(
            session=session, records=read_records(root / "chats.jsonl"), source=SOURCE,
            settings=settings)),
        ("e-mails", (root / "emails").is_dir(), lambda session: import_emails(
            session=session, sources=iter_email_sources(root / "emails"), source=SOURCE, settings=settings)),
        ("social", (root / "social.json").exists(), lambda session: import_social(
            session=session, records=read_social(root / "social.json"), source=SOURCE,
            settings=settings)),
        # Hong Kong hotline: Cantonese and mixed Cantonese/English chats and posts (hand-written, not generated)
        ("Hong Kong chats", (root / "chats_hk.jsonl").exists(), lambda session: import_chats(
            session=session, records=read_records(root / "chats_hk.jsonl"), source=SOURCE,
            settings=settings)),
        ("Hong Kong social", (root / "social_hk.json").exists(), lambda session: import_social(
            session=session, records=read_social(root / "social_hk.json"), source=SOURCE,
            settings=settings)),
    ]
    for kind, present, run in steps:
        if not present:
            log(f"demo: {kind}: no file under {root}, skipped")
            continue
        with session_scope(runtime.sessions) as session:
            log(_summary(kind, run(session)))
    with session_scope(runtime.sessions) as session:
        for name, identities in CRM_LINKS:
            known = [i for i in identities if customers.find_customer_by_identity(
                session=session, kind=i[0], value=i[1], platform=i[2])]
            if len(known) > 1:  # only link people the demo files actually contain
                customers.resolve_customer(session=session, display_name=name, identities=[
                    customers.normalise_identity(kind, value, platform) for kind, value, platform in known])
