"""Time the PDF meeting pack: a 19-case pack (a real month) and a 200-case pack, on a throw-away SQLite
database built by the real migrations. Prints gather and render seconds, pages and size.

    .venv/bin/python bench/meeting_pack.py [--cases 19 200] [--keep DIR]
"""

import argparse
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from app.auth.models import User
from app.auth.service import principal_of
from app.core.db import make_engine, session_factory, session_scope
from app.core.hooks import load_hooks
from app.core.migrate import upgrade
from app.core.settings import Settings
from app.interactions.models import Customer, CustomerIdentity, Interaction
from app.reviews import pack, service
from app.reviews.actions import add_action
from app.reviews.meetings import create_meeting, get_meeting
from app.reviews.models import ActionCreate, MeetingCreate, ReviewCase
from app.surveys import service as surveys
from app.surveys.imports import import_rows

VERBATIM = ("Called on Monday, chatted on Wednesday, and my broadband still drops every evening. Everyone says "
            "someone will call me back and nobody ever does.")


def build(url: str, cases: int) -> int:
    upgrade(url)
    factory = session_factory(make_engine(url))
    with session_scope(factory) as session:
        executive = User(username="exec", display_name="Erin Executive", roles="executive", password_hash="x")
        agents = [User(username=f"agent{i}", display_name=f"Agent {i}", roles="agent", password_hash="x")
                  for i in range(8)]
        session.add_all([executive, *agents])
        session.flush()
        source = surveys.create_source(session=session, name="bench", actor=None)
        start = datetime(2026, 11, 1, 9, tzinfo=UTC)
        rows = []
        for n in range(cases):
            customer = Customer(display_name=f"Customer {n:03d}")
            session.add(customer)
            session.flush()
            assert customer.id is not None
            email = f"customer{n}@example.com"
            session.add(CustomerIdentity(customer_id=customer.id, kind="email", value=email))
            when = start + timedelta(hours=3 * n)
            for k, channel in enumerate(("call", "chat", "email")):
                session.add(Interaction(channel=channel, started_at=when + timedelta(hours=k), source="bench",
                                        external_id=f"{channel}-{n}", customer_id=customer.id,
                                        agent_id=agents[(n + k) % 8].id, queue="support"))
            rows.append((n + 1, {"response_id": f"b{n}", "invited_at": (when + timedelta(hours=4)).isoformat(),
                                 "responded_at": (when + timedelta(hours=6)).isoformat(), "customer_email": email,
                                 "rating": "bad", "comment": VERBATIM}))
            rows.append((n + 1, {"response_id": f"g{n}", "invited_at": when.isoformat(),
                                 "responded_at": when.isoformat(), "rating": "good"}))
        session.flush()
        import_rows(session=session, source=source, rows=rows)
        actor = principal_of(executive)
        for case in session.exec(select(ReviewCase)).all():
            case.status = "ready_for_meeting"
            service.update_findings(session=session, case=case, actor=actor, staff_notes="Agent explained " * 20,
                                    customer_notes="Customer said " * 20)
            service.record_decision(session=session, case=case, actor=actor, root_cause="business flow",
                                    decision="Call back within 24 hours of every broadband fault report.")
            add_action(session=session, case=case, actor=actor, data=ActionCreate(
                kind="retrain_staff", agent_id=agents[0].id, topic="fault call-backs", due_date=date(2026, 12, 20)))
        meeting = create_meeting(session=session, actor=actor, data=MeetingCreate(
            period="2026-11", held_on=date(2026, 12, 3), case_ids=[c.id for c in session.exec(select(ReviewCase)).all()]))
        assert meeting.id is not None
        return meeting.id


def measure(cases: int, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        meeting_id = build(url, cases)
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data", database_url=url)  # type: ignore[call-arg]
        factory = session_factory(make_engine(url))
        with session_scope(factory) as session:
            meeting = get_meeting(session=session, meeting_id=meeting_id)
            t0 = time.perf_counter()
            context = pack.pack_context(session=session, meeting=meeting)
            t1 = time.perf_counter()
            pdf = pack.render_pdf(settings=settings, context=context)
            t2 = time.perf_counter()
            if cases <= 50:  # a second render shows the warm time (fonts and Pango caches loaded)
                pack.render_pdf(settings=settings, context=context)
                print(f"{cases:>4} cases: warm render {time.perf_counter() - t2:.2f} s")
        out = Path(tmp) / "pack.pdf"
        out.write_bytes(pdf)
        info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
        pages = next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")
        print(f"{cases:>4} cases: gather {t1 - t0:.2f} s, render {t2 - t1:.2f} s, total {t2 - t0:.2f} s, "
              f"{pages} pages, {len(pdf) / 1024:.0f} KiB")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"pack-{cases}.pdf").write_bytes(pdf)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, nargs="+", default=[19, 200])
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    load_hooks()  # the survey import opens the cases through the reviews feature's hook
    warm = time.perf_counter()
    import weasyprint  # noqa: F401 - loading Pango once is not part of a pack's time

    print(f"weasyprint import {time.perf_counter() - warm:.2f} s (once per worker process)")
    for cases in args.cases:
        measure(cases, args.keep)


if __name__ == "__main__":
    main()
