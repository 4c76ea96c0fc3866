"""Demo: put the latest month's bad-rating cases (opened by the surveys demo) on the table, ready for the
meeting, and create that month's review meeting. The latest month is the last full month when it has cases
(the meeting early in a month reviews the month before), else the latest month with cases.
Idempotent: a second run creates no second meeting."""

from collections.abc import Callable
from datetime import date, timedelta

from sqlmodel import Session, select

from app.auth.service import get_user_by_username, principal_of
from app.core.db import session_scope
from app.core.jobs import Runtime
from app.reviews import meetings
from app.reviews import service as reviews
from app.reviews.models import CaseStatus, MeetingCreate, ReviewCase, ReviewMeeting

DEMO_ORDER = 41  # right after the surveys demo (40), whose bad ratings open the cases


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    with session_scope(runtime.sessions) as session:
        latest = _meeting_month(session)
        executive = get_user_by_username(session=session, username="exec")
        if latest is None or executive is None:
            return
        for case in session.exec(select(ReviewCase).where(ReviewCase.period == latest)).all():
            if case.status == CaseStatus.OPEN:
                reviews.change_status(session=session, case=case, to=CaseStatus.INVESTIGATING, actor=None,
                                      reason="demo: investigation started")
            if case.status == CaseStatus.INVESTIGATING:
                reviews.change_status(session=session, case=case, to=CaseStatus.READY, actor=None,
                                      reason="demo: prepared for the monthly meeting")
        if session.exec(select(ReviewMeeting).where(ReviewMeeting.period == latest)).first() is None:
            first_of_next = (date.fromisoformat(f"{latest}-01") + timedelta(days=32)).replace(day=3)
            meeting = meetings.create_meeting(session=session, actor=principal_of(executive), data=MeetingCreate(
                period=latest, held_on=first_of_next, attendees=["Erin Executive", "Alex Admin", "Colin Coach"]))
            log(f"demo: review meeting {meeting.id} for {latest} created")


def _meeting_month(session: Session) -> str | None:
    periods = set(session.exec(select(ReviewCase.period)).all())
    last_full = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    if last_full in periods:
        return last_full
    return max(periods, default=None)
