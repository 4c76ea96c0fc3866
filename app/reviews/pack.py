"""The PDF meeting pack (WeasyPrint): a cover with the month's survey figures and trend chart, the status of
actions decided earlier, one section per case (customer story, verbatim, findings, decision, actions), and
the actions table. Header and "Page X of Y" footer come from @page margin boxes, which do not inherit the
body font, so the font (DejaVu, installed locally) is set on them explicitly. Nothing is fetched over the
network: the HTML has no external resources."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from app.auth.models import Site, User
from app.core import audit
from app.core.db import serialized
from app.core.errors import NotFound
from app.core.jobs import JobKind, JobQueue
from app.core.models import Job, JobStatus
from app.core.security import Principal
from app.core.settings import Settings
from app.core.storage import BlobStore
from app.core.timeutil import utcnow
from app.core.web import make_templates
from app.interactions import content
from app.interactions.models import Message, Segment
from app.reviews import actions, meetings, service
from app.reviews.models import ReviewAction, ReviewCase, ReviewMeeting
from app.surveys import charts, figures

JOB_KIND = JobKind.REVIEWS_MEETING_PACK
MAX_PACK_BYTES = 200 * 1024 * 1024
Progress = Callable[[float, str | None], None]


def pack_store(settings: Settings) -> BlobStore:
    return BlobStore(settings.resolved_data_dir / "packs")


def pack_path(*, settings: Settings, meeting: ReviewMeeting) -> Path:
    """The stored PDF; NotFound until the pack has been rendered."""
    if meeting.pack_sha256 is None or not pack_store(settings).exists(meeting.pack_sha256):
        raise NotFound("the meeting pack has not been rendered yet")
    return pack_store(settings).path_for(meeting.pack_sha256)


def enqueue_pack(*, session: Session, queue: JobQueue, meeting_id: int, actor: Principal) -> Job:
    """A job rendering the meeting's pack. A pack job of the meeting still waiting to start is that job
    (it renders the meeting as it is when it starts): pressing "Render" again, or two people at once, queue
    one render, not one each. A render already running may miss the latest change, so then a new one."""
    serialized(session, "meeting-pack", meeting_id)
    waiting = latest_job(session=session, meeting_id=meeting_id)
    if waiting is not None and waiting.status == JobStatus.QUEUED:
        session.commit()
        return waiting
    job = queue.enqueue(session=session, kind=JOB_KIND, payload={"meeting_id": meeting_id},
                        created_by=actor.user_id)
    # enqueue refreshes the job after its commit, which opens a new transaction; end it so an inline
    # (immediate) run's writes are not nested inside it and rolled back when the request session closes
    session.commit()
    return job


def latest_job(*, session: Session, meeting_id: int) -> Job | None:
    """The newest pack job of this meeting (whatever other meetings rendered since), or None."""
    return session.exec(select(Job).where(Job.kind == JOB_KIND,
                                          col(Job.payload)["meeting_id"].as_integer() == meeting_id)
                        .order_by(col(Job.id).desc()).limit(1)).first()


def excerpt(*, session: Session, interaction_id: int | None, limit: int = 6) -> list[tuple[str, str]]:
    """The first turns of the survey's own interaction (redacted text when there is one)."""
    if interaction_id is None:
        return []
    segments = session.exec(select(Segment).where(Segment.interaction_id == interaction_id)
                            .order_by(col(Segment.seq)).limit(limit)).all()
    if segments:
        return [(s.speaker, content.REDACTED.segment_text(s)) for s in segments]
    messages = session.exec(select(Message).where(Message.interaction_id == interaction_id)
                            .order_by(col(Message.sent_at)).limit(limit)).all()
    return [(m.author_role, content.REDACTED.message_text(m)[:600]) for m in messages]


def pack_context(*, session: Session, meeting: ReviewMeeting, progress: Progress | None = None) -> dict[str, Any]:
    """Everything the pack template shows."""
    assert meeting.id is not None
    until = figures.parse_month(meeting.period)
    trend = figures.survey_figures(session=session, until=until, periods=6)
    cases = meetings.meeting_cases(session=session, meeting_id=meeting.id)
    stories = []
    for index, case in enumerate(cases):
        story = service.case_story(session=session, case=case)
        stories.append({"story": story, "excerpt": excerpt(session=session,
                                                           interaction_id=story.response.interaction_id)})
        if progress is not None and (index % 5 == 0 or index == len(cases) - 1):
            progress(0.1 + 0.5 * (index + 1) / max(len(cases), 1), f"gathered case {index + 1} of {len(cases)}")
    case_ids = [c.id for c in cases]
    earlier = session.exec(select(ReviewAction, ReviewCase).join(
        ReviewCase, col(ReviewCase.id) == col(ReviewAction.case_id)).where(
        col(ReviewAction.case_id).not_in(case_ids or [-1]), ReviewCase.period < meeting.period)
        .order_by(col(ReviewAction.due_date), col(ReviewAction.id))).all()
    users = {u.id: u.name for u in session.exec(select(User)).all()}
    sites = {s.id: s.name for s in session.exec(select(Site)).all()}
    return {"meeting": meeting, "current": trend[-1], "trend": trend, "chart": charts.band_trend_chart(trend),
            "stories": stories, "earlier_actions": [a for a, _ in earlier], "users": users, "sites": sites,
            "generated_at": utcnow(), "overdue": actions.action_overdue}


def render_pdf(*, settings: Settings, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # imported here: the web process does not need Pango loaded

    templates = make_templates(str(settings.frontend_dir / "templates"), settings.display_timezone)
    html = templates.env.get_template("reviews/pack.html").render(**context)
    pdf = HTML(string=html, base_url=str(settings.frontend_dir)).write_pdf()
    return bytes(pdf)


def build_and_store(*, session: Session, meeting_id: int, settings: Settings,
                    progress: Progress | None = None) -> dict[str, Any]:
    """Render the meeting's pack, store it (content-addressed under data/packs), remember it on the meeting
    and commit; the pack it replaces is deleted. Raises NotFound for an unknown meeting.

    Crash-safe and retry-safe: the file is written atomically before the commit that names it, and removed
    again when that commit fails, so no stored pack is left that no meeting points to. Progress is written
    (from another connection) only while this session holds no write lock, which SQLite would make it wait for."""
    meeting = meetings.get_meeting(session=session, meeting_id=meeting_id)
    if progress is not None:
        progress(0.05, "gathering cases")
    context = pack_context(session=session, meeting=meeting, progress=progress)
    session.commit()  # end the read: a write after others' commits would fail on SQLite (snapshot too old)
    if progress is not None:
        progress(0.65, "rendering PDF")
    started = datetime.now(UTC)
    pdf = render_pdf(settings=settings, context=context)
    seconds = (datetime.now(UTC) - started).total_seconds()
    store = pack_store(settings)
    stored = store.put_chunks([pdf], max_bytes=MAX_PACK_BYTES)
    previous = meeting.pack_sha256
    try:
        meeting.pack_sha256, meeting.pack_size, meeting.pack_rendered_at = stored.sha256, stored.size, utcnow()
        session.add(meeting)
        audit.record(session=session, actor=None, action="review_meeting.pack", record_type="review_meeting",
                     record_id=meeting_id, after={"sha256": stored.sha256, "size": stored.size,
                                                  "cases": len(context["stories"])})
        session.commit()
    except BaseException:
        session.rollback()
        if not stored.already_present:
            store.delete(stored.sha256)
        raise
    if previous and previous != stored.sha256 and session.exec(
            select(ReviewMeeting.id).where(ReviewMeeting.pack_sha256 == previous)).first() is None:
        store.delete(previous)
    session.commit()
    if progress is not None:
        progress(0.95, "stored")
    return {"meeting_id": meeting_id, "sha256": stored.sha256, "size": stored.size,
            "cases": len(context["stories"]), "render_seconds": round(seconds, 3)}
