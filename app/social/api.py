"""JSON endpoints of social care: the queue, a thread's state, its decisions, reports, alerts, configuration."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.auth.deps import AdminPrincipal, QueueDep, SessionDep
from app.core.errors import STANDARD_ERRORS, error_responses
from app.core.jobs import JobKind
from app.core.listing import ListResponse, PageNumber, PerPage
from app.core.models import Job
from app.social import alerts, channels, reports, service
from app.social import processes as processes_module
from app.social.crosschannel import hide_unviewable, similar_complaints
from app.social.deps import SocialViewer, SocialWorker

router = APIRouter(prefix="/api/social", tags=["social"], responses=STANDARD_ERRORS)


class ThreadStatePublic(BaseModel):
    interaction_id: int
    platform: str
    author_handle: str | None
    follower_count: int | None
    first_customer_post_at: datetime | None
    first_response_due_at: datetime | None
    first_response_at: datetime | None
    first_response_status: str
    first_response_breached_at: datetime | None
    follow_up_due_at: datetime | None
    follow_up_at: datetime | None
    follow_up_status: str
    problem_open: bool = True
    site_visit: bool = False
    resolution_due_at: datetime | None = None
    resolution_status: str = "not_needed"
    watched: bool = False
    follow_up_breached_at: datetime | None
    follow_up_attempts: int
    follow_up_times: list[str]
    awaiting_reply_since: datetime | None
    reply_due_at: datetime | None
    next_due_at: datetime | None
    last_customer_post_at: datetime | None
    resolution_message_id: int | None
    resolution_url: str | None
    resolution_text: str | None
    resolved_at: datetime | None
    resolved_privately: bool
    non_genuine: bool
    non_genuine_reason: str | None
    non_genuine_at: datetime | None
    non_genuine_evidence: list[str]
    non_genuine_confirmed_at: datetime | None
    process: str
    engagement: int | None
    genuine_override: bool
    welcome_back_at: datetime | None


class QueueItemPublic(BaseModel):
    interaction_id: int
    platform: str
    author_handle: str | None
    follower_count: int | None
    due_at: datetime | None
    seconds_to_due: float | None
    first_post: str
    first_response_status: str
    follow_up_status: str


class GenuineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class ProcessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    process: str = Field(max_length=30)


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public: bool = True
    message_id: int | None = None
    url: str | None = Field(default=None, max_length=1000)
    text: str | None = Field(default=None, max_length=4000)


class ConfigPublic(BaseModel):
    platform: str
    display_name: str
    listed_publicly: bool
    first_response_seconds: float
    follow_up_seconds: float
    business_hours_enabled: bool
    business_timezone: str
    business_hours: dict[str, Any]
    alert_before_breach_seconds: float
    non_genuine_follow_ups: int
    non_genuine_days: int
    non_genuine_window_hours: float
    non_genuine_grace_hours: float
    site_visit_resolution_seconds: float
    influencer_followers: int
    webhook_url: str | None


def _state(state: Any) -> ThreadStatePublic:
    return ThreadStatePublic.model_validate(state, from_attributes=True)


@router.get("/queue")
def queue(principal: SocialViewer, session: SessionDep, platform: str | None = None,
          page: PageNumber = 1, per_page: PerPage = 100) -> ListResponse[QueueItemPublic]:
    """Open threads by due time only (follower count is shown, never used to order)."""
    result = service.care_queue(session=session, platform=platform, page=page, per_page=per_page)
    return ListResponse.of(result.map(lambda r: QueueItemPublic(
        interaction_id=r.state.interaction_id, platform=r.state.platform, author_handle=r.state.author_handle,
        follower_count=r.state.follower_count, due_at=r.due_at, seconds_to_due=r.seconds_to_due,
        first_post=r.first_post, first_response_status=r.state.first_response_status,
        follow_up_status=r.state.follow_up_status)))


@router.get("/threads/{interaction_id}", responses=error_responses(404))
def thread(interaction_id: int, principal: SocialViewer, session: SessionDep) -> ThreadStatePublic:
    state = service.get_state(session=session, interaction_id=interaction_id)
    session.commit()
    return _state(state)


@router.post("/threads/{interaction_id}/refresh", responses=error_responses(404))
def refresh(interaction_id: int, principal: SocialWorker, session: SessionDep) -> ThreadStatePublic:
    """Recompute the clocks from the thread's messages (the importer calls the same service function)."""
    state = service.refresh_thread(session=session, interaction_id=interaction_id)
    session.commit()
    return _state(state)


@router.post("/threads/{interaction_id}/genuine", responses=error_responses(404))
def genuine(interaction_id: int, body: GenuineIn, principal: SocialWorker, session: SessionDep) -> ThreadStatePublic:
    """Reverse a non-genuine flag (audited with the reason)."""
    return _state(service.mark_genuine(session=session, interaction_id=interaction_id, actor=principal,
                                       reason=body.reason))


@router.post("/threads/{interaction_id}/confirm-non-genuine", responses=error_responses(404, 409))
def confirm_non_genuine(interaction_id: int, principal: SocialWorker, session: SessionDep) -> ThreadStatePublic:
    """Confirm the sweep's automatic non-genuine proposal (audited)."""
    return _state(service.confirm_non_genuine(session=session, interaction_id=interaction_id, actor=principal))


@router.post("/threads/{interaction_id}/resolution", responses=error_responses(404))
def resolution(interaction_id: int, body: ResolutionIn, principal: SocialWorker,
               session: SessionDep) -> ThreadStatePublic:
    """Record the public resolution reply (message, link or text), or that it was resolved only privately."""
    return _state(service.record_resolution(session=session, interaction_id=interaction_id, actor=principal,
                                            public=body.public, message_id=body.message_id, url=body.url,
                                            text=body.text))


@router.get("/threads/{interaction_id}/similar", responses=error_responses(404))
def similar(interaction_id: int, principal: SocialViewer, session: SessionDep,
            days: Annotated[int, Query(ge=1, le=90)] = 7) -> dict[str, Any]:
    """Similar complaints in calls, chats, e-mails and social threads within ±days, with counts per channel."""
    service.get_state(session=session, interaction_id=interaction_id)  # 404 unless a social thread
    result = hide_unviewable(session=session, principal=principal, result=similar_complaints(
        session=session, interaction_id=interaction_id, window_days=days))
    return {"summary": result.summary, "counts": result.counts, "window_days": days,
            "matches": [{"interaction_id": m.interaction_id, "channel": m.channel, "started_at": m.started_at,
                         "score": m.score, "shared_terms": m.shared_terms, "snippet": m.snippet,
                         "hidden": m.hidden}
                        for m in result.matches]}


@router.post("/threads/{interaction_id}/process", responses=error_responses(404))
def set_process(interaction_id: int, body: ProcessIn, principal: SocialWorker, session: SessionDep) -> ThreadStatePublic:
    """Tag the thread with its customer-facing process by hand (audited; rules stop re-tagging it)."""
    return _state(service.set_process(session=session, interaction_id=interaction_id, process=body.process,
                                      actor=principal))


@router.get("/processes")
def processes(principal: SocialViewer, session: SessionDep) -> dict[str, Any]:
    """Leading metrics and operational maturity per process, with the monthly maturity trend."""
    report = reports.process_report(session=session)
    return {"processes": [vars(r) for r in report.rows], "months": report.months, "trend": report.trend,
            "formula": processes_module.__doc__}


@router.get("/fairness")
def fairness(principal: SocialViewer, session: SessionDep, platform: str | None = None) -> dict[str, Any]:
    report = reports.fairness(session=session, platform=platform)
    return {"bands": [vars(b) for b in report.bands], "high_median_seconds": report.high_median_seconds,
            "low_median_seconds": report.low_median_seconds, "u_statistic": report.u_statistic,
            "p_value": report.p_value, "flagged": report.flagged, "test": report.test}


@router.get("/alerts")
def alert_list(principal: SocialViewer, session: SessionDep, open_only: bool = True, page: PageNumber = 1,
               per_page: PerPage = 100) -> ListResponse[dict[str, Any]]:
    found = alerts.list_alerts(session=session, open_only=open_only, page=page, per_page=per_page)
    return ListResponse.of(found.map(
        lambda a: {**alerts.alert_payload(a), "delivered_at": a.delivered_at, "acknowledged_at": a.acknowledged_at}))


@router.get("/config")
def config_list(principal: SocialViewer, session: SessionDep) -> list[ConfigPublic]:
    return [ConfigPublic.model_validate(c, from_attributes=True) for c in channels.list_configs(session=session)]


@router.put("/config/{platform}", responses=error_responses(404))
def config_update(platform: str, body: channels.ChannelConfigUpdate, principal: AdminPrincipal,
                  session: SessionDep) -> ConfigPublic:
    """Change a platform's response standards (admins; audited)."""
    config = channels.update_config(session=session, platform=platform, data=body, actor=principal)
    return ConfigPublic.model_validate(config, from_attributes=True)


@router.post("/sweep")
def run_sweep(principal: AdminPrincipal, session: SessionDep, queue: QueueDep) -> dict[str, Any]:
    """Queue a sweep now (the worker also runs it every few minutes)."""
    job: Job = queue.enqueue(session=session, kind=JobKind.SOCIAL_SWEEP, payload={}, created_by=principal.user_id)
    return {"job_id": job.id, "status": job.status}
