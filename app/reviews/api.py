"""JSON endpoints for review cases, actions, the review configuration and meetings (with the PDF pack).

Roles (see app/reviews/service.py): admins and executives decide and run meetings; evaluators and coaches
(their team's cases) investigate; agents get 403 everywhere here.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from app.auth.deps import AdminPrincipal, QueueDep, SessionDep, SettingsDep, require_roles
from app.core.errors import STANDARD_ERRORS, error_responses
from app.core.listing import ListResponse, PageNumber, PerPage, paginate
from app.core.security import Principal
from app.core.web import stored_file
from app.reviews import actions as review_actions
from app.reviews import meetings as review_meetings
from app.reviews import pack, service
from app.reviews.models import (
    ActionCreate,
    ActionPublic,
    ActionUpdate,
    CasePublic,
    ConfigUpdate,
    DecisionInput,
    FindingsUpdate,
    MeetingCreate,
    MeetingPublic,
    MinutesUpdate,
    ReviewAction,
    ReviewCase,
    ReviewMeeting,
    StatusChange,
)

router = APIRouter(prefix="/api/reviews", tags=["reviews"], responses=STANDARD_ERRORS)

InvestigatorDep = Annotated[Principal, Depends(require_roles(*service.INVESTIGATORS))]
DeciderDep = Annotated[Principal, Depends(require_roles(*service.DECIDERS))]


def case_public(case: ReviewCase) -> CasePublic:
    return CasePublic.model_validate({**case.model_dump(), "overdue": service.is_overdue(case)})


def action_public(action: ReviewAction) -> ActionPublic:
    return ActionPublic.model_validate({**action.model_dump(), "overdue": review_actions.action_overdue(action)})


def meeting_public(*, session: Any, meeting: ReviewMeeting) -> MeetingPublic:
    assert meeting.id is not None
    cases = review_meetings.meeting_cases(session=session, meeting_id=meeting.id)
    return MeetingPublic.model_validate({**meeting.model_dump(), "case_ids": [c.id for c in cases],
                                         "pack_ready": meeting.pack_sha256 is not None})


@router.get("/cases")
def list_cases(principal: InvestigatorDep, session: SessionDep, status: str | None = None,
               period: str | None = None, page: PageNumber = 1, per_page: PerPage = 100) -> ListResponse[CasePublic]:
    """Cases visible to the caller (a coach: their team's), newest first; filter by status and month."""
    cases = service.list_cases(session=session, principal=principal, status=status, period=period)
    return ListResponse.of(paginate(cases, page=page, per_page=per_page).map(case_public))


@router.get("/cases/{case_id}", responses=error_responses(404))
def get_case(case_id: int, principal: InvestigatorDep, session: SessionDep) -> dict[str, Any]:
    """The case with its story: interactions in time order, agents involved, verbatim, actions."""
    case = service.get_case(session=session, principal=principal, case_id=case_id)
    story = service.case_story(session=session, case=case)
    return {"case": case_public(case), "customer": story.customer_name, "verbatim": story.response.comment,
            "band": story.response.band, "responded_at": story.response.responded_at, "agents": story.agents,
            "interactions": [{"id": i.interaction_id, "channel": i.channel, "started_at": i.started_at,
                              "agents": i.agents, "reason": i.reason, "url": f"/interactions/{i.interaction_id}"}
                             for i in story.items],
            "actions": [action_public(a) for a in story.actions]}


@router.post("/cases/{case_id}/status", responses=error_responses(404, 409))
def change_status(case_id: int, body: StatusChange, principal: InvestigatorDep, session: SessionDep) -> CasePublic:
    """Move the case along its states; an illegal move is 409, deciding/closing needs an executive or admin."""
    case = service.get_case(session=session, principal=principal, case_id=case_id)
    service.change_status(session=session, case=case, to=body.status, actor=principal, reason=body.reason)
    session.commit()
    return case_public(case)


@router.patch("/cases/{case_id}/findings", responses=error_responses(404, 409))
def update_findings(case_id: int, body: FindingsUpdate, principal: InvestigatorDep,
                    session: SessionDep) -> CasePublic:
    case = service.get_case(session=session, principal=principal, case_id=case_id)
    service.update_findings(session=session, case=case, actor=principal, staff_notes=body.staff_notes,
                            customer_notes=body.customer_notes, owner_id=body.owner_id)
    session.commit()
    return case_public(case)


@router.post("/cases/{case_id}/decision", responses=error_responses(404, 409))
def record_decision(case_id: int, body: DecisionInput, principal: DeciderDep, session: SessionDep) -> CasePublic:
    case = service.get_case(session=session, principal=principal, case_id=case_id)
    service.record_decision(session=session, case=case, actor=principal, root_cause=body.root_cause,
                            secondary_causes=body.secondary_causes, decision=body.decision,
                            mark_decided=body.mark_decided)
    session.commit()
    return case_public(case)


@router.post("/cases/{case_id}/actions", status_code=201, responses=error_responses(404, 409))
def add_action(case_id: int, body: ActionCreate, principal: DeciderDep, session: SessionDep) -> ActionPublic:
    case = service.get_case(session=session, principal=principal, case_id=case_id)
    action = review_actions.add_action(session=session, case=case, actor=principal, data=body)
    session.commit()
    return action_public(action)


@router.get("/actions")
def list_actions(principal: InvestigatorDep, session: SessionDep, status: str | None = None,
                 open_only: bool = False, page: PageNumber = 1, per_page: PerPage = 100) -> ListResponse[ActionPublic]:
    """Actions across cases (open and overdue ones flagged)."""
    actions = review_actions.list_actions(session=session, principal=principal, status=status, open_only=open_only)
    return ListResponse.of(paginate(actions, page=page, per_page=per_page).map(action_public))


@router.patch("/actions/{action_id}", responses=error_responses(404))
def update_action(action_id: int, body: ActionUpdate, principal: InvestigatorDep, session: SessionDep) -> ActionPublic:
    action = review_actions.get_action(session=session, principal=principal, action_id=action_id)
    review_actions.update_action(session=session, action=action, actor=principal, data=body)
    session.commit()
    return action_public(action)


@router.get("/config")
def get_config(principal: InvestigatorDep, session: SessionDep) -> dict[str, Any]:
    config = service.get_config(session=session)
    session.commit()
    return config.model_dump(exclude={"id"})


@router.put("/config")
def update_config(body: ConfigUpdate, principal: AdminPrincipal, session: SessionDep) -> dict[str, Any]:
    config = service.update_config(session=session, data=body, actor=principal)
    session.commit()
    return config.model_dump(exclude={"id"})


@router.get("/meetings")
def list_meetings(principal: DeciderDep, session: SessionDep, page: PageNumber = 1,
                  per_page: PerPage = 100) -> ListResponse[MeetingPublic]:
    meetings = review_meetings.list_meetings(session=session)
    return ListResponse.of(paginate(meetings, page=page, per_page=per_page).map(
        lambda m: meeting_public(session=session, meeting=m)))


@router.post("/meetings", status_code=201, responses=error_responses(404))
def create_meeting(body: MeetingCreate, principal: DeciderDep, session: SessionDep) -> MeetingPublic:
    """A meeting for a month; the agenda is `case_ids` in order, or every case of the month ready for it."""
    meeting = review_meetings.create_meeting(session=session, actor=principal, data=body)
    session.commit()
    return meeting_public(session=session, meeting=meeting)


@router.get("/meetings/{meeting_id}", responses=error_responses(404))
def get_meeting(meeting_id: int, principal: DeciderDep, session: SessionDep) -> MeetingPublic:
    return meeting_public(session=session, meeting=review_meetings.get_meeting(session=session, meeting_id=meeting_id))


@router.post("/meetings/{meeting_id}/agenda", responses=error_responses(404))
def add_ready_cases(meeting_id: int, principal: DeciderDep, session: SessionDep) -> MeetingPublic:
    """Append the month's cases that became ready for the meeting after the agenda was made."""
    meeting = review_meetings.get_meeting(session=session, meeting_id=meeting_id)
    review_meetings.add_ready_cases(session=session, meeting=meeting, actor=principal)
    session.commit()
    return meeting_public(session=session, meeting=meeting)


@router.put("/meetings/{meeting_id}/minutes", responses=error_responses(404))
def update_minutes(meeting_id: int, body: MinutesUpdate, principal: DeciderDep,
                   session: SessionDep) -> MeetingPublic:
    meeting = review_meetings.get_meeting(session=session, meeting_id=meeting_id)
    review_meetings.update_minutes(session=session, meeting=meeting, minutes=body.minutes, actor=principal)
    session.commit()
    return meeting_public(session=session, meeting=meeting)


@router.post("/meetings/{meeting_id}/pack", status_code=202, responses=error_responses(404))
def render_pack(meeting_id: int, principal: DeciderDep, session: SessionDep, queue: QueueDep) -> dict[str, Any]:
    """Start the `reviews.meeting_pack` job that renders the PDF meeting pack; follow it at /api/jobs/{id}."""
    review_meetings.get_meeting(session=session, meeting_id=meeting_id)
    job = pack.enqueue_pack(session=session, queue=queue, meeting_id=meeting_id, actor=principal)
    return {"job_id": job.id, "status": job.status, "progress": job.progress, "error": job.error,
            "url": f"/api/jobs/{job.id}"}


@router.get("/meetings/{meeting_id}/pack.pdf", response_class=FileResponse,
            responses={**error_responses(404), 200: {"content": {"application/pdf": {}}}})
def download_pack(meeting_id: int, principal: DeciderDep, session: SessionDep, settings: SettingsDep) -> FileResponse:
    """The last rendered meeting pack (404 until the job has run)."""
    meeting = review_meetings.get_meeting(session=session, meeting_id=meeting_id)
    return stored_file(pack.pack_path(settings=settings, meeting=meeting), media_type="application/pdf",
                       filename=f"review-meeting-{meeting.period}-{meeting.id}.pdf")
