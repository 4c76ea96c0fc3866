"""JSON endpoints: survey sources, CSV import, the signed webhook, responses, manual links and figures.

Roles: admins manage sources and import; admins, executives and evaluators see responses and link them by
hand; figures are for every staff role (a coach's figures cover their own team); agents have no access.
The webhook is public and authenticated by its HMAC signature alone.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, UploadFile

from app.auth.deps import QueueDep, SessionDep, SettingsDep, require_roles
from app.auth.service import visible_agent_ids
from app.core.db import written_once
from app.core.errors import STANDARD_ERRORS, PayloadTooLarge, error_responses
from app.core.listing import ListResponse, PageNumber, PerPage
from app.core.security import Principal, Role
from app.surveys import figures, service, tasks
from app.surveys.imports import ingest_webhook
from app.surveys.models import (
    ImportReport,
    ManualLink,
    SurveyImportStarted,
    SurveyResponsePublic,
    SurveySourceCreate,
    SurveySourceCreated,
    SurveySourcePublic,
    SurveySourceUpdate,
)

router = APIRouter(prefix="/api/surveys", tags=["surveys"], responses=STANDARD_ERRORS)

SURVEY_ADMINS = (Role.ADMIN,)
LINKERS = (Role.ADMIN, Role.EXECUTIVE, Role.EVALUATOR)
FIGURE_READERS = (Role.ADMIN, Role.EXECUTIVE, Role.EVALUATOR, Role.COACH)
AdminDep = Annotated[Principal, Depends(require_roles(*SURVEY_ADMINS))]
LinkerDep = Annotated[Principal, Depends(require_roles(*LINKERS))]
FiguresDep = Annotated[Principal, Depends(require_roles(*FIGURE_READERS))]
MAX_CSV_BYTES = 50 * 1024 * 1024


async def raw_body(request: Request) -> bytes:
    return await request.body()


def _public(source: Any) -> SurveySourcePublic:
    return SurveySourcePublic.model_validate(source, from_attributes=True)


@router.post("/webhook/{source}", responses=error_responses(401, 422))
def webhook(source: str, session: SessionDep, settings: SettingsDep, body: Annotated[bytes, Depends(raw_body)],
            x_earshot_signature: Annotated[str | None, Header()] = None) -> ImportReport:
    """Receive one response (or {"responses": [...]}) signed with the source's secret:
    `X-Earshot-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. Idempotent by response id."""
    # a delivery overlapping one being written meanwhile (the tool's retry, or two of its servers) reads what
    # the other committed and merges into it (ingest's one rule for simultaneous writes)
    report = written_once(session, lambda: ingest_webhook(
        session=session, source_name=source, body=body, signature=x_earshot_signature,
        region=settings.phone_default_region), alone=True)
    session.commit()
    return report


@router.get("/sources")
def list_sources(principal: AdminDep, session: SessionDep) -> list[SurveySourcePublic]:
    return [_public(s) for s in service.list_sources(session=session)]


@router.post("/sources", status_code=201, responses=error_responses(409))
def create_source(body: SurveySourceCreate, principal: AdminDep, session: SessionDep) -> SurveySourceCreated:
    """Create a source; the webhook secret is shown only in this answer."""
    source = service.create_source(session=session, name=body.name, actor=principal,
                                   column_mapping=body.column_mapping, rating_rule=body.rating_rule,
                                   link_window_hours=body.link_window_hours, clear_when_empty=body.clear_when_empty)
    session.commit()
    return SurveySourceCreated(**_public(source).model_dump(), webhook_secret=source.webhook_secret)


@router.patch("/sources/{source_id}", responses=error_responses(404))
def update_source(source_id: int, body: SurveySourceUpdate, principal: AdminDep,
                  session: SessionDep) -> SurveySourcePublic:
    source = service.update_source(session=session, source_id=source_id, actor=principal,
                                   column_mapping=body.column_mapping, rating_rule=body.rating_rule,
                                   link_window_hours=body.link_window_hours, clear_when_empty=body.clear_when_empty)
    session.commit()
    return _public(source)


@router.post("/sources/{source_id}/upload", status_code=202, responses=error_responses(404, 413))
def import_csv(source_id: int, file: UploadFile, principal: AdminDep, session: SessionDep, settings: SettingsDep,
               queue: QueueDep) -> SurveyImportStarted:
    """Start importing a CSV export with the source's column mapping, as a background job: a file that cannot
    be read (not text, no response id column) is refused here (422); the job writes the rows in short chunks
    and its result (GET /api/jobs/{job_id}) is the import report with the rejected rows by line."""
    data = file.file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise PayloadTooLarge(f"the CSV is larger than {MAX_CSV_BYTES} bytes")
    job = tasks.start_import(session=session, settings=settings, queue=queue, source_id=source_id, data=data,
                             filename=file.filename or "the CSV", user_id=principal.user_id)
    assert job.id is not None
    return SurveyImportStarted(job_id=job.id, status=job.status, url=f"/api/jobs/{job.id}")


@router.get("/responses")
def list_responses(principal: LinkerDep, session: SessionDep, link_status: str | None = None,
                   band: str | None = None, page: PageNumber = 1,
                   per_page: PerPage = 200) -> ListResponse[SurveyResponsePublic]:
    """Survey responses, newest first, optionally of one link status (linked, unlinked) and one band."""
    result = service.list_responses(session=session, link_status=link_status, band=band, page=page,
                                    per_page=per_page)
    return ListResponse.of(result.map(lambda r: SurveyResponsePublic.model_validate(r, from_attributes=True)))


@router.post("/responses/{response_id}/link", responses=error_responses(404, 409))
def link_response(response_id: int, body: ManualLink, principal: LinkerDep,
                  session: SessionDep) -> SurveyResponsePublic:
    """Link a response to an interaction by hand (audited)."""
    response = service.link_response_manually(session=session, response_id=response_id,
                                              interaction_id=body.interaction_id, actor=principal,
                                              reason=body.reason)
    session.commit()
    return SurveyResponsePublic.model_validate(response, from_attributes=True)


@router.get("/figures")
def survey_figures(principal: FiguresDep, session: SessionDep,
                   period: Annotated[str, Query(pattern="^(month|week)$")] = "month",
                   until: Annotated[str | None, Query(description="A month, e.g. 2026-11")] = None,
                   periods: Annotated[int, Query(ge=1, le=36)] = 6,
                   group_by: Annotated[str | None, Query(pattern="^(channel|team|agent|shop)$")] = None,
                   ) -> list[dict[str, Any]]:
    """Invited, completed, response rate, count and % of each band per period (oldest first), optionally per
    channel, team, agent or shop; the last period is the one holding `until` (default: now)."""
    result = figures.survey_figures(
        session=session, period=period, until=figures.parse_month(until) if until else None, periods=periods,
        group_by=group_by, agent_ids=visible_agent_ids(session=session, principal=principal))
    return figures.as_trend(result)
