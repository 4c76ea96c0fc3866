"""Review meetings: one a month (or an extra one), its agenda of cases ready for the meeting in walk order,
the month's other cases beside it, the place the walk stands at, and the minutes. Executives and admins
run them; every change is audited."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.core import audit
from app.core.db import serialized
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.security import Principal
from app.reviews.models import CaseStatus, MeetingCreate, ReviewCase, ReviewMeeting, ReviewMeetingCase
from app.reviews.service import DECIDERS, get_case
from app.surveys.figures import parse_month


def create_meeting(*, session: Session, actor: Principal, data: MeetingCreate) -> ReviewMeeting:
    """A meeting for a month; its agenda is the given cases in that order, or by default every case of the
    month ready for the meeting (oldest first). One meeting a month unless `data.additional`. Raises
    InvalidInput, NotFound (unknown case), Conflict (the month has a meeting)."""
    if not actor.has(*DECIDERS):
        raise Forbidden("Only executives and admins run review meetings.")
    period = parse_month(data.period).strftime("%Y-%m")
    serialized(session, "review-meeting", period)  # two "create" at once: the second sees the first's meeting
    existing = session.exec(select(ReviewMeeting).where(ReviewMeeting.period == period)
                            .order_by(col(ReviewMeeting.id))).first()
    if existing is not None and not data.additional:
        raise Conflict(f"{period} already has a meeting ({existing.title}, {existing.held_on.isoformat()}); "
                       "open it, or tick 'an extra meeting for this month' to add another")
    if data.case_ids is None:
        cases = list(session.exec(select(ReviewCase).where(
            ReviewCase.period == period, ReviewCase.status == CaseStatus.READY)
            .order_by(col(ReviewCase.opened_at), col(ReviewCase.id))).all())
    else:
        if len(set(data.case_ids)) != len(data.case_ids):
            raise InvalidInput("a case appears twice on the agenda")
        cases = [get_case(session=session, principal=actor, case_id=case_id) for case_id in data.case_ids]
    meeting = ReviewMeeting(period=period, held_on=data.held_on, title=data.title.strip() or
                            f"Customer review meeting {period}",
                            attendees=[a.strip() for a in data.attendees if a.strip()], created_by=actor.user_id)
    session.add(meeting)
    session.flush()
    assert meeting.id is not None
    for position, case in enumerate(cases):
        assert case.id is not None
        session.add(ReviewMeetingCase(meeting_id=meeting.id, case_id=case.id, position=position))
    audit.record(session=session, actor=actor, action="review_meeting.create", record_type="review_meeting",
                 record_id=meeting.id, after={"period": period, "held_on": data.held_on.isoformat(),
                                              "case_ids": [c.id for c in cases], "attendees": meeting.attendees})
    session.flush()
    return meeting


def add_ready_cases(*, session: Session, meeting: ReviewMeeting, actor: Principal) -> int:
    """Append the month's cases that became ready for the meeting since the agenda was made; returns how many."""
    if not actor.has(*DECIDERS):
        raise Forbidden("Only executives and admins run review meetings.")
    assert meeting.id is not None
    on_agenda = {c.id for c in meeting_cases(session=session, meeting_id=meeting.id)}
    ready = [c for c in session.exec(select(ReviewCase).where(
        ReviewCase.period == meeting.period, ReviewCase.status == CaseStatus.READY)
        .order_by(col(ReviewCase.opened_at), col(ReviewCase.id))).all() if c.id not in on_agenda]
    for offset, case in enumerate(ready):
        assert case.id is not None
        session.add(ReviewMeetingCase(meeting_id=meeting.id, case_id=case.id, position=len(on_agenda) + offset))
    if ready:
        audit.record(session=session, actor=actor, action="review_meeting.agenda", record_type="review_meeting",
                     record_id=meeting.id, after={"added_case_ids": [c.id for c in ready]})
    session.flush()
    return len(ready)


@dataclass
class AgendaRow:
    case: ReviewCase
    on_agenda: bool
    position: int | None  # the index in the walk when on the agenda

    @property
    def needs_attention(self) -> bool:
        """A bad rating of the month that is not on the agenda and not yet ready: the meeting would miss it."""
        return not self.on_agenda and self.case.status in (CaseStatus.OPEN, CaseStatus.INVESTIGATING)


def month_agenda(*, session: Session, meeting: ReviewMeeting) -> list[AgendaRow]:
    """Every case of the meeting's month with its state: the agenda first (in walk order), then the month's
    other cases, those not yet ready first (oldest first), then the ones already decided or closed."""
    assert meeting.id is not None
    agenda = meeting_cases(session=session, meeting_id=meeting.id)
    rows = [AgendaRow(case=c, on_agenda=True, position=i) for i, c in enumerate(agenda)]
    on_agenda = {c.id for c in agenda}
    rest = [c for c in session.exec(select(ReviewCase).where(ReviewCase.period == meeting.period)
                                    .order_by(col(ReviewCase.opened_at), col(ReviewCase.id))).all()
            if c.id not in on_agenda]
    order = {CaseStatus.READY: 0, CaseStatus.INVESTIGATING: 1, CaseStatus.OPEN: 2, CaseStatus.DECIDED: 3,
             CaseStatus.CLOSED: 4}
    rest.sort(key=lambda c: order.get(CaseStatus(c.status), 5))
    return rows + [AgendaRow(case=c, on_agenda=False, position=None) for c in rest]


def get_meeting(*, session: Session, meeting_id: int) -> ReviewMeeting:
    meeting = session.get(ReviewMeeting, meeting_id)
    if meeting is None:
        raise NotFound(f"review meeting {meeting_id} not found")
    return meeting


def list_meetings(*, session: Session) -> list[ReviewMeeting]:
    return list(session.exec(select(ReviewMeeting).order_by(col(ReviewMeeting.held_on).desc(),
                                                            col(ReviewMeeting.id).desc())).all())


def meeting_cases(*, session: Session, meeting_id: int) -> list[ReviewCase]:
    """The agenda, in order."""
    rows = session.exec(select(ReviewCase, ReviewMeetingCase).join(
        ReviewMeetingCase, col(ReviewMeetingCase.case_id) == col(ReviewCase.id)).where(
        ReviewMeetingCase.meeting_id == meeting_id).order_by(col(ReviewMeetingCase.position))).all()
    return [case for case, _ in rows]


def set_position(*, session: Session, meeting: ReviewMeeting, position: int, count: int) -> int:
    """Remember the case on screen so the walk resumes there; returns the clamped position."""
    position = max(0, min(position, max(count - 1, 0)))
    if meeting.position != position:
        meeting.position = position
        session.add(meeting)
    return position


def update_minutes(*, session: Session, meeting: ReviewMeeting, minutes: str, actor: Principal) -> ReviewMeeting:
    if not actor.has(*DECIDERS):
        raise Forbidden("Only executives and admins keep the minutes.")
    before = {"minutes": meeting.minutes}
    meeting.minutes = minutes.strip()
    session.add(meeting)
    audit.record(session=session, actor=actor, action="review_meeting.minutes", record_type="review_meeting",
                 record_id=meeting.id, before=before, after={"minutes": meeting.minutes})
    return meeting
