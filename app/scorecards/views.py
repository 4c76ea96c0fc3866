"""Pages: the scorecard list (with YAML import), a scorecard's versions with the form rendered, and the test
of a version on past evaluations with its reviewed publish."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from app.auth.deps import QueueDep, SessionDep, WebPrincipal, web_require_roles
from app.core import charts
from app.core.errors import Conflict, EarshotError
from app.core.export import Column, table_csv, wants_csv
from app.core.security import Principal, Role
from app.core.web import NavItem, render
from app.scorecards import auto_check, formtest, reference, service
from app.scorecards.models import ScorecardPublic, VersionStatus

router = APIRouter()

NAV = [NavItem("Scorecards", "/scorecards", tuple(Role), order=35)]

WebEditor = Annotated[Principal, Depends(web_require_roles(Role.ADMIN, Role.EVALUATOR))]


def _list_page(request: Request, principal: Principal, session: SessionDep, *, error: str | None = None,
               details: list[dict[str, object]] | None = None, yaml_text: str = "", status_code: int = 200) -> Response:
    cards = service.list_scorecards(session=session, include_retired=True)
    return render(request, "scorecards/list.html", {
        "scorecards": [service.public(session=session, scorecard=c) for c in cards], "error": error,
        "columns": SCORECARD_COLUMNS,
        "details": details or [], "yaml_text": yaml_text,
        "can_edit": principal.has(Role.ADMIN, Role.EVALUATOR),
    }, principal=principal, status_code=status_code)


def _status(card: ScorecardPublic) -> str:
    return "retired" if card.retired else "published" if card.published_version else "draft"


SCORECARD_COLUMNS: list[Column[ScorecardPublic]] = [
    Column("Id", lambda c: c.id, screen=False),
    Column("Name", lambda c: c.name, link=lambda c: f"/scorecards/{c.id}"),
    Column("Key", lambda c: c.key, html=lambda c: Markup("<code>{}</code>").format(c.key)),
    Column("Channels", lambda c: ", ".join(c.channels)),
    Column("Published version", lambda c: c.published_version, format=lambda v: v or "—"),
    Column("Latest version", lambda c: c.latest_version, format=lambda v: v or "—"),
    Column("Status", _status, html=lambda c: Markup('<span class="badge{}">{}</span>').format(
        {"published": " good", "draft": " due"}.get(_status(c), ""), _status(c)))]


@router.get("/scorecards", response_class=HTMLResponse)
def scorecards_page(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    if wants_csv(request):
        cards = [service.public(session=session, scorecard=c)
                 for c in service.list_scorecards(session=session, include_retired=True)]
        return table_csv("scorecards.csv", cards, SCORECARD_COLUMNS)
    return _list_page(request, principal, session)


@router.post("/scorecards/import", response_class=HTMLResponse)
def import_page(request: Request, principal: WebEditor, session: SessionDep, yaml_text: Annotated[str, Form()] = "",
                publish: Annotated[str, Form()] = "") -> Response:
    try:
        scorecard, version, _ = service.import_yaml(session=session, text=yaml_text, actor=principal,
                                                    source="yaml:web", publish=False)
    except EarshotError as exc:
        session.rollback()
        return _list_page(request, principal, session, error=exc.message, details=exc.details, yaml_text=yaml_text,
                          status_code=exc.status_code)
    if publish == "on" and version.status == VersionStatus.DRAFT:
        try:
            formtest.publish_reviewed(session=session, version=version, actor=principal, reviewed=False)
        except Conflict:  # it would change scores: saved as a draft, shown with its test report
            session.rollback()
            return RedirectResponse(f"/scorecards/{scorecard.id}/versions/{version.number}/test?saved=1",
                                    status_code=303)
    return RedirectResponse(f"/scorecards/{scorecard.id}?version={version.number}", status_code=303)


@router.get("/scorecards/{scorecard_id}", response_class=HTMLResponse)
def scorecard_page(request: Request, scorecard_id: int, principal: WebPrincipal, session: SessionDep,
                   version: int | None = None) -> Response:
    scorecard = service.get(session=session, scorecard_id=scorecard_id)
    versions = service.versions(session=session, scorecard_id=scorecard_id)
    published = service.published_version(session=session, scorecard_id=scorecard_id)
    shown = (service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=version)
             if version is not None else published or (versions[-1] if versions else None))
    return render(request, "scorecards/detail.html", {
        "scorecard": scorecard, "versions": versions, "shown": shown,
        "form": service.form_of(shown) if shown else None,
        "yaml": service.export_yaml(version=shown) if shown else "",
        "can_edit": principal.has(Role.ADMIN, Role.EVALUATOR),
    }, principal=principal)


def _test_page(request: Request, principal: Principal, session: SessionDep, *, scorecard_id: int, number: int,
               options: reference.ReferenceOptions, with_auto_rules: bool, saved: bool = False,
               error: str | None = None, status_code: int = 200) -> Response:
    scorecard = service.get(session=session, scorecard_id=scorecard_id)
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    report = formtest.form_test(session=session, version=version, options=options, with_auto_rules=with_auto_rules)
    labels, now, draft = report.histogram()
    chart = charts.bar_chart("Evaluations per score band: now and with this version", labels, [
        charts.Series("Now", now), charts.Series(f"Version {number}", draft)], label_header="Score band",
        height=240)
    published = service.published_version(session=session, scorecard_id=scorecard_id)
    return render(request, "scorecards/formtest.html", {
        "scorecard": scorecard, "version": version, "published": published, "report": report, "chart": chart,
        "options": options, "fields": options.as_form(), "with_auto_rules": with_auto_rules, "saved": saved,
        "error": error, "can_publish": version.status == VersionStatus.DRAFT and scorecard.retired_at is None,
        "can_check": bool(report.evaluations) and bool(auto_check.auto_rules_of(service.form_of(version))),
    }, principal=principal, status_code=status_code)


@router.get("/scorecards/{scorecard_id}/versions/{number}/test", response_class=HTMLResponse)
def form_test_page(request: Request, scorecard_id: int, number: int, principal: WebEditor, session: SessionDep,
                   limit: str = "", since: str = "", until: str = "", target: str = "",
                   saved: str = "") -> Response:
    """Test a version on the evaluations already made, and publish it from here once reviewed."""
    options = reference.parse_options(limit=limit, since=since, until=until, target=target)
    return _test_page(request, principal, session, scorecard_id=scorecard_id, number=number, options=options,
                      with_auto_rules=True, saved=saved == "1")


@router.post("/scorecards/{scorecard_id}/versions/{number}/auto-check")
def auto_check_page(scorecard_id: int, number: int, principal: WebEditor, session: SessionDep, queue: QueueDep,
                    limit: Annotated[str, Form()] = "", since: Annotated[str, Form()] = "",
                    until: Annotated[str, Form()] = "", target: Annotated[str, Form()] = "") -> Response:
    """Start the auto-QA check of this version on the reference set; the test page shows its progress."""
    options = reference.parse_options(limit=limit, since=since, until=until, target=target)
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    auto_check.start_auto_check(session=session, queue=queue, version=version, options=options, actor=principal)
    return RedirectResponse(f"/scorecards/{scorecard_id}/versions/{number}/test?{urlencode(options.as_form())}",
                            status_code=303)


@router.post("/scorecards/{scorecard_id}/versions/{number}/publish")
def publish_page(request: Request, scorecard_id: int, number: int, principal: WebEditor, session: SessionDep,
                 reviewed: Annotated[str, Form()] = "", limit: Annotated[str, Form()] = "",
                 since: Annotated[str, Form()] = "", until: Annotated[str, Form()] = "",
                 target: Annotated[str, Form()] = "") -> Response:
    """Publish after the form test: a change that moves scores needs the "I have reviewed" box (409 otherwise)."""
    options = reference.parse_options(limit=limit, since=since, until=until, target=target)
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    try:
        formtest.publish_reviewed(session=session, version=version, actor=principal, reviewed=reviewed == "on",
                                  options=options)
    except Conflict as exc:
        session.rollback()
        return _test_page(request, principal, session, scorecard_id=scorecard_id, number=number, options=options,
                          with_auto_rules=True, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/scorecards/{scorecard_id}?version={number}", status_code=303)


@router.post("/scorecards/{scorecard_id}/retire")
def retire_page(scorecard_id: int, principal: WebEditor, session: SessionDep) -> Response:
    service.retire(session=session, scorecard_id=scorecard_id, actor=principal)
    return RedirectResponse(f"/scorecards/{scorecard_id}", status_code=303)
