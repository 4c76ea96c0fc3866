"""Pages: the scorecard list (with YAML import) and a scorecard's versions with the form rendered."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth.deps import SessionDep, WebPrincipal, web_require_roles
from app.core.errors import EarshotError
from app.core.security import Principal, Role
from app.core.web import NavItem, render
from app.reports.export import table_csv, wants_csv
from app.scorecards import service

router = APIRouter()

NAV = [NavItem("Scorecards", "/scorecards", tuple(Role), order=35)]

WebEditor = Annotated[Principal, Depends(web_require_roles(Role.ADMIN, Role.EVALUATOR))]


def _list_page(request: Request, principal: Principal, session: SessionDep, *, error: str | None = None,
               details: list[dict[str, object]] | None = None, yaml_text: str = "", status_code: int = 200) -> Response:
    cards = service.list_scorecards(session=session, include_retired=True)
    return render(request, "scorecards/list.html", {
        "scorecards": [service.public(session=session, scorecard=c) for c in cards], "error": error,
        "details": details or [], "yaml_text": yaml_text,
        "can_edit": principal.has(Role.ADMIN, Role.EVALUATOR),
    }, principal=principal, status_code=status_code)


@router.get("/scorecards", response_class=HTMLResponse)
def scorecards_page(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    if wants_csv(request):
        cards = [service.public(session=session, scorecard=c)
                 for c in service.list_scorecards(session=session, include_retired=True)]
        return table_csv("scorecards.csv", cards, {
            "id": lambda c: c.id, "name": lambda c: c.name, "key": lambda c: c.key,
            "channels": lambda c: ", ".join(c.channels), "published_version": lambda c: c.published_version,
            "latest_version": lambda c: c.latest_version,
            "status": lambda c: "retired" if c.retired else "published" if c.published_version else "draft"})
    return _list_page(request, principal, session)


@router.post("/scorecards/import", response_class=HTMLResponse)
def import_page(request: Request, principal: WebEditor, session: SessionDep, yaml_text: Annotated[str, Form()] = "",
                publish: Annotated[str, Form()] = "") -> Response:
    try:
        scorecard, version, _ = service.import_yaml(session=session, text=yaml_text, actor=principal,
                                                    source="yaml:web", publish=publish == "on")
    except EarshotError as exc:
        session.rollback()
        return _list_page(request, principal, session, error=exc.message, details=exc.details, yaml_text=yaml_text,
                          status_code=exc.status_code)
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


@router.post("/scorecards/{scorecard_id}/versions/{number}/publish")
def publish_page(scorecard_id: int, number: int, principal: WebEditor, session: SessionDep) -> Response:
    version = service.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    service.publish_version(session=session, version=version, actor=principal)
    return RedirectResponse(f"/scorecards/{scorecard_id}?version={number}", status_code=303)


@router.post("/scorecards/{scorecard_id}/retire")
def retire_page(scorecard_id: int, principal: WebEditor, session: SessionDep) -> Response:
    service.retire(session=session, scorecard_id=scorecard_id, actor=principal)
    return RedirectResponse(f"/scorecards/{scorecard_id}", status_code=303)
