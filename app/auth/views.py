"""Pages: sign-in, sign-out, the home page per role, and the admin's users page."""

import functools
import secrets
from collections.abc import Callable
from types import ModuleType
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth import service
from app.auth.api import set_session_cookie
from app.auth.deps import SESSION_COOKIE, HasherDep, SessionDep, SettingsDep, WebAdmin, WebPrincipal
from app.auth.models import User, UserCreate, UserUpdate
from app.core.errors import CsrfFailed, EarshotError, error_message
from app.core.export import Column, table_csv, wants_csv
from app.core.features import iter_feature_modules
from app.core.listing import paginate, parse_sort, sort_rows
from app.core.security import ALL_ROLES, Principal, Role, constant_time_equal
from app.core.web import HomePanel, NavItem, render

router = APIRouter()
LOGIN_CSRF_COOKIE = "earshot_login_csrf"

NAV = [
    NavItem("Home", "/", tuple(Role), order=0),
    NavItem("Users", "/admin/users", (Role.ADMIN,), order=90),
]


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never redirect a user off Earshot after sign-in."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    request.state.login_csrf = token
    response = render(request, "auth/login.html", {"next": _safe_next(next), "error": None})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie_token or not constant_time_equal(cookie_token, csrf_token):
        raise CsrfFailed("The sign-in form expired; reload the page and try again.")
    try:
        user = service.authenticate(session=session, username=username, password=password, hasher=hasher,
                                    settings=settings,
                                    source_address=request.client.host if request.client else None)
    except EarshotError as exc:
        request.state.login_csrf = cookie_token
        return render(request, "auth/login.html", {"next": _safe_next(next), "error": exc.message},
                      status_code=exc.status_code)
    raw, _ = service.start_web_session(session=session, user=user, settings=settings)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, raw, settings)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        service.end_web_session(session=session, raw_token=raw)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@functools.cache
def _home_modules() -> list[ModuleType]:
    return list(iter_feature_modules("home"))  # a directory scan: once per process, not once per view


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    """One page, with a section for each of the user's roles, filled by the features' home panels."""
    sections: list[tuple[Role, list[HomePanel]]] = []
    for role in ALL_ROLES:
        if not principal.has(role):
            continue
        panels: list[HomePanel] = []
        for module in _home_modules():
            panels.extend(module.panels(session=session, principal=principal, role=role))
        sections.append((role, sorted(panels, key=lambda p: p.order)))
    return render(request, "auth/home.html", {"sections": sections}, principal=principal)


USER_SORTS: dict[str, Callable[[User], Any]] = {
    "username": lambda u: u.username.lower(), "name": lambda u: u.name.lower(), "active": lambda u: u.is_active}


def _user_columns(team_names: dict[int | None, str], site_names: dict[int | None, str]) -> list[Column[User]]:
    """The users table, on the page and in users.csv. On the page the roles, team, site and active cells are
    the row's edit form (the template draws them by these columns' CSV names)."""
    return [
        Column("Id", lambda u: u.id, screen=False),
        Column("Username", lambda u: u.username, sort="username"),
        Column("Name", lambda u: u.name, sort="name"),
        Column("E-mail", lambda u: u.email, name="email", screen=False),
        Column("Roles", lambda u: u.roles),
        Column("Team", lambda u: team_names.get(u.team_id, "")),
        Column("Site", lambda u: site_names.get(u.site_id, "")),
        Column("Active", lambda u: "yes" if u.is_active else "no", sort="active")]


def _users_page(request: Request, session: SessionDep, principal: Principal, *, q: str = "", role: str = "",
                sort: str = "", page: int = 1, message: str | None = None, error: str | None = None,
                new_user: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    order = parse_sort(sort, USER_SORTS, "username")
    text = q.strip().lower()
    users = sort_rows([u for u in service.list_users(session=session)
                       if (not text or text in u.username.lower() or text in u.name.lower()
                           or text in (u.email or "").lower()) and (not role or role in u.roles.split())], order)
    teams, sites = service.list_teams(session=session), service.list_sites(session=session)
    columns = _user_columns({t.id: t.name for t in teams}, {s.id: s.name for s in sites})
    if wants_csv(request):
        return table_csv("users.csv", users, columns)
    result = paginate(users, page=page, per_page=50)
    return render(request, "auth/users.html", {
        "users": result.items, "result": result, "sort": order, "filters": {"q": q, "role": role},
        "columns": columns, "teams": teams, "sites": sites, "roles": ALL_ROLES, "message": message, "error": error,
        "new_user": new_user or {},
    }, principal=principal, status_code=status_code)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, principal: WebAdmin, session: SessionDep, message: str | None = None,
               q: str = "", role: str = "", sort: str = "", page: Annotated[int, Query(ge=1)] = 1) -> Response:
    return _users_page(request, session, principal, q=q, role=role, sort=sort, page=page, message=message)


def _optional_id(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


@router.post("/admin/users", response_class=HTMLResponse)
def users_create(
    request: Request, principal: WebAdmin, session: SessionDep, hasher: HasherDep,
    username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    team_id: Annotated[str, Form()] = "", site_id: Annotated[str, Form()] = "",
) -> Response:
    """A refused user shows the page again with the reason and what was typed (never the password)."""
    try:
        data = UserCreate.model_validate({
            "username": username, "password": password, "display_name": display_name,
            "email": email or None, "roles": roles or [], "team_id": _optional_id(team_id),
            "site_id": _optional_id(site_id)}, strict=False)
        user = service.create_user(session=session, data=data, hasher=hasher, actor=principal)
    except (EarshotError, ValueError) as exc:
        session.rollback()
        return _users_page(request, session, principal, error=error_message(exc), status_code=422, new_user={
            "username": username, "display_name": display_name, "email": email, "roles": roles or [],
            "team_id": team_id, "site_id": site_id})
    return RedirectResponse(f"/admin/users?message=Created+{user.username}", status_code=303)


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
def users_update(
    user_id: int, principal: WebAdmin, session: SessionDep, hasher: HasherDep,
    roles: Annotated[list[str] | None, Form()] = None, team_id: Annotated[str, Form()] = "",
    site_id: Annotated[str, Form()] = "", is_active: Annotated[str, Form()] = "",
) -> Response:
    data = UserUpdate(roles=roles or None, team_id=_optional_id(team_id), site_id=_optional_id(site_id),
                      is_active=is_active == "on")
    user = service.update_user(session=session, user_id=user_id, data=data, hasher=hasher, actor=principal)
    return RedirectResponse(f"/admin/users?message=Saved+{user.username}", status_code=303)


