"""Pages: the survey figures dashboard and the unlinked responses list (with linking by hand)."""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from app.auth.deps import QueueDep, SessionDep, SettingsDep, web_require_roles
from app.auth.service import visible_agent_ids
from app.core.errors import EarshotError, InvalidInput
from app.core.export import Column, page_window, table_csv, wants_csv
from app.core.models import JobStatus
from app.core.security import Principal
from app.core.web import NavItem, render
from app.surveys import charts, figures, service, tasks
from app.surveys.api import FIGURE_READERS, LINKERS, MAX_CSV_BYTES, SURVEY_ADMINS
from app.surveys.figures import BandFigures
from app.surveys.models import CANONICAL_FIELDS, ImportReport, LinkStatus, SurveyResponse

router = APIRouter()
Row = TypeVar("Row")
NAV = [NavItem("Surveys", "/surveys", FIGURE_READERS, order=40)]
WebSurveyAdmin = Annotated[Principal, Depends(web_require_roles(*SURVEY_ADMINS))]
WebFigures = Annotated[Principal, Depends(web_require_roles(*FIGURE_READERS))]
WebLinker = Annotated[Principal, Depends(web_require_roles(*LINKERS))]


@router.get("/surveys", response_class=HTMLResponse)
def dashboard(request: Request, principal: WebFigures, session: SessionDep,
              period: Annotated[str, Query(pattern="^(month|week)$")] = "month", until: str | None = None,
              group_by: Annotated[str, Query(pattern="^(|channel|team|agent|shop)$")] = "channel") -> Response:
    try:
        result = figures.survey_figures(
            session=session, period=period, periods=6,
            until=figures.parse_month(until) if until else figures.latest_answer_at(session=session),
            group_by=group_by or None, agent_ids=visible_agent_ids(session=session, principal=principal))
        error = None
    except EarshotError as exc:
        result, error = figures.survey_figures(session=session, periods=6), exc.message
    current = result[-1]
    if wants_csv(request):
        return table_csv("survey-figures.csv", list(reversed(result)), [
            Column("period", lambda p: p.period), *_figure_columns(lambda p: p.total)])
    if wants_csv(request, "groups"):
        return table_csv(f"survey-figures-{current.period}-by-{group_by or 'nothing'}.csv",
                         sorted(current.groups.items()), [
                             Column(group_by or "group", lambda g: g[0], name=group_by or "group"),
                             *_figure_columns(lambda g: g[1])])
    return render(request, "surveys/dashboard.html", {
        "periods": result, "current": current,
        "change": figures.change_from_previous(current.total, result[-2].total if len(result) > 1 else None), "chart": charts.band_trend_chart(result), "period": period,
        "until": until or "", "group_by": group_by, "groupings": figures.GROUPINGS, "error": error,
        "unlinked": service.count_unlinked(session=session) if principal.has(*LINKERS) else None,
    }, principal=principal)


def _band_badge(response: SurveyResponse) -> Markup:
    return Markup('<span class="badge {}">{}</span>').format(response.band, response.band)


UNLINKED_COLUMNS: list[Column[SurveyResponse]] = [
    Column("#", lambda r: r.id, name="id"),
    Column("Response", lambda r: r.response_id, name="response_id"),
    Column("Answered", lambda r: r.responded_at, name="responded_at"),
    Column("Customer", lambda r: f"{r.customer_email or ''} {r.customer_phone or ''}".strip(), csv=False),
    Column("E-mail", lambda r: r.customer_email, name="customer_email", screen=False),
    Column("Phone", lambda r: r.customer_phone, name="customer_phone", screen=False),
    Column("Rating", lambda r: r.band, name="band", html=_band_badge),
    Column("Verbatim", lambda r: r.comment),
    Column("Why unlinked", lambda r: r.link_reason)]


@router.get("/surveys/unlinked", response_class=HTMLResponse)
def unlinked(request: Request, principal: WebLinker, session: SessionDep, message: str | None = None,
             error: str | None = None, page: Annotated[int, Query(ge=1)] = 1) -> Response:
    page, per_page = page_window(request, page, 50)
    result = service.list_responses(session=session, link_status=LinkStatus.UNLINKED, page=page, per_page=per_page)
    if wants_csv(request):
        return table_csv("unlinked-survey-responses.csv", result.items, UNLINKED_COLUMNS)
    return render(request, "surveys/unlinked.html", {"columns": UNLINKED_COLUMNS, "result": result,
                                                      "message": message, "error": error}, principal=principal)


@router.post("/surveys/responses/{response_id}/link")
def link(response_id: int, principal: WebLinker, session: SessionDep,
         interaction_id: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    if not interaction_id.strip().isdigit():
        return RedirectResponse("/surveys/unlinked?error=Give+the+interaction+number", status_code=303)
    try:
        service.link_response_manually(session=session, response_id=response_id,
                                       interaction_id=int(interaction_id), actor=principal, reason=reason)
        session.commit()
    except EarshotError as exc:
        session.rollback()
        if exc.status_code == 404 and "survey response" in exc.message:
            raise
        return RedirectResponse(f"/surveys/unlinked?error={exc.message.replace(' ', '+')}", status_code=303)
    return RedirectResponse(f"/surveys/unlinked?message=Linked+response+{response_id}", status_code=303)


# ---------------------------------------------------------------- sources (admins)


def _sources_page(request: Request, principal: Principal, session: SessionDep, *, status_code: int = 200,
                  message: str | None = None, error: str | None = None, secret: tuple[str, str] | None = None,
                  report: ImportReport | None = None, typed: dict[str, Any] | None = None) -> Response:
    """`typed`: a refused source form's fields as sent (with its `source_id`), shown in that source's form."""
    return render(request, "surveys/sources.html", {
        "sources": service.list_sources(session=session), "fields": CANONICAL_FIELDS, "message": message,
        "error": error, "secret": secret, "report": report, "typed": typed or {}}, principal=principal,
        status_code=status_code)


@router.get("/surveys/sources", response_class=HTMLResponse)
def sources_page(request: Request, principal: WebSurveyAdmin, session: SessionDep) -> Response:
    return _sources_page(request, principal, session)


@router.post("/surveys/sources", response_class=HTMLResponse)
def source_create(request: Request, principal: WebSurveyAdmin, session: SessionDep,
                  name: Annotated[str, Form()] = "") -> Response:
    try:
        source = service.create_source(session=session, name=name, actor=principal)
        session.commit()
    except EarshotError as exc:
        session.rollback()
        return _sources_page(request, principal, session, error=exc.message, status_code=exc.status_code)
    # the secret is shown once, on this page, never in a URL
    return _sources_page(request, principal, session, secret=(source.name, source.webhook_secret))


def _parse_mapping(text: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        field, sep, column = line.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InvalidInput(f"mapping line {number}: write field = CSV column")
        mapping[field.strip()] = column.strip()
    return mapping


@router.post("/surveys/sources/{source_id}", response_class=HTMLResponse)
def source_update(request: Request, source_id: int, principal: WebSurveyAdmin, session: SessionDep,
                  mapping: Annotated[str, Form()] = "", default_scale: Annotated[str, Form()] = "csat",
                  csat_good_min: Annotated[str, Form()] = "4", csat_acceptable_min: Annotated[str, Form()] = "3",
                  nps_good_min: Annotated[str, Form()] = "9", nps_acceptable_min: Annotated[str, Form()] = "7",
                  link_window_hours: Annotated[str, Form()] = "72",
                  clear_when_empty: Annotated[str, Form()] = "") -> Response:
    typed = {"source_id": source_id, "mapping": mapping, "default_scale": default_scale,
             "csat_good_min": csat_good_min, "csat_acceptable_min": csat_acceptable_min, "nps_good_min": nps_good_min,
             "nps_acceptable_min": nps_acceptable_min, "link_window_hours": link_window_hours,
             "clear_when_empty": clear_when_empty}
    try:
        rule = {"default_scale": default_scale,
                "csat": {"good_min": float(csat_good_min), "acceptable_min": float(csat_acceptable_min)},
                "nps": {"good_min": float(nps_good_min), "acceptable_min": float(nps_acceptable_min)}}
        service.update_source(session=session, source_id=source_id, actor=principal,
                              column_mapping=_parse_mapping(mapping), rating_rule=rule,
                              link_window_hours=int(link_window_hours),
                              clear_when_empty=[f.strip() for f in clear_when_empty.split(",") if f.strip()])
        session.commit()
    except ValueError:
        session.rollback()
        return _sources_page(request, principal, session, error="thresholds and window must be numbers",
                             status_code=422, typed=typed)
    except EarshotError as exc:
        session.rollback()
        if exc.status_code == 404:
            raise
        return _sources_page(request, principal, session, error=exc.message, status_code=exc.status_code,
                             typed=typed)
    return _sources_page(request, principal, session, message="Source saved")


@router.post("/surveys/sources/{source_id}/upload", response_class=HTMLResponse)
def source_upload(request: Request, source_id: int, principal: WebSurveyAdmin, session: SessionDep,
                  settings: SettingsDep, queue: QueueDep, file: UploadFile | None = None) -> Response:
    """Start the import job; when it has already finished (a small file, or an inline queue) show its report,
    else say where to follow it."""
    source = service.get_source(session=session, source_id=source_id)
    try:
        if file is None:
            raise InvalidInput("choose a CSV file")
        data = file.file.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise InvalidInput(f"the CSV is larger than {MAX_CSV_BYTES} bytes")
        job = tasks.start_import(session=session, settings=settings, queue=queue, source_id=source_id, data=data,
                                 filename=file.filename or "the CSV", user_id=principal.user_id)
    except EarshotError as exc:
        session.rollback()
        return _sources_page(request, principal, session, error=exc.message, status_code=exc.status_code)
    session.refresh(job)
    if job.status == JobStatus.DONE and job.result is not None:
        return _sources_page(request, principal, session, report=ImportReport.model_validate(job.result),
                             message=f"Imported into {source.name}")
    if job.status == JobStatus.FAILED:
        return _sources_page(request, principal, session, error=f"the import failed: {job.error}", status_code=422)
    return _sources_page(request, principal, session,
                         message=f"Import into {source.name} started (job {job.id}); follow it on the Jobs page")


def _figure_columns(figures_of: Callable[[Row], BandFigures]) -> list[Column[Row]]:
    """The dashboard's figure columns for any row that has a BandFigures (a period, or a group of one)."""
    columns: list[Column[Row]] = [
        Column("invited", lambda r: figures_of(r).invited), Column("completed", lambda r: figures_of(r).completed),
        Column("response_rate_pct", lambda r: figures_of(r).response_rate)]
    for band in figures.BANDS:
        columns.append(Column(band, lambda r, band=band: figures_of(r).counts[band]))  # type: ignore[misc]
        columns.append(Column(f"{band}_pct",
                              lambda r, band=band: round(figures_of(r).percents[band], 1)))  # type: ignore[misc]
    return columns
