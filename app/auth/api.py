"""JSON endpoints for sign-in, users, teams, sites and API tokens."""

from fastapi import APIRouter, Request, Response

from app.auth import service
from app.auth.deps import (
    SESSION_COOKIE,
    AdminPrincipal,
    CurrentPrincipal,
    HasherDep,
    SessionDep,
    SettingsDep,
    StaffPrincipal,
)
from app.auth.models import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenPublic,
    LoginRequest,
    NamedCreate,
    Site,
    Team,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from app.core.errors import STANDARD_ERRORS, error_responses
from app.core.settings import Settings

router = APIRouter(prefix="/api", tags=["auth"], responses=STANDARD_ERRORS)


def set_session_cookie(response: Response, raw_token: str, settings: Settings) -> None:
    response.set_cookie(SESSION_COOKIE, raw_token, max_age=settings.session_max_age_seconds, httponly=True,
                        samesite="lax", secure=settings.session_cookie_secure, path="/")


@router.post("/auth/login", responses=error_responses(429))
def login(body: LoginRequest, request: Request, response: Response, session: SessionDep, settings: SettingsDep,
          hasher: HasherDep) -> dict[str, object]:
    """Sign in; sets the session cookie and returns the CSRF token for later state-changing calls."""
    user = service.authenticate(session=session, username=body.username, password=body.password,
                                hasher=hasher, settings=settings,
                                source_address=request.client.host if request.client else None)
    raw, web_session = service.start_web_session(session=session, user=user, settings=settings)
    set_session_cookie(response, raw, settings)
    return {"user": UserPublic.of(user), "csrf_token": web_session.csrf_token}


@router.get("/me")
def me(principal: CurrentPrincipal, session: SessionDep) -> UserPublic:
    return UserPublic.of(service.get_user(session=session, user_id=principal.user_id))


@router.get("/users")
def list_users(principal: StaffPrincipal, session: SessionDep) -> list[UserPublic]:
    """Staff see users (agents' names appear on every record); only admins change them."""
    return [UserPublic.of(u) for u in service.list_users(session=session)]


@router.post("/users", status_code=201, responses=error_responses(409))
def create_user(body: UserCreate, principal: AdminPrincipal, session: SessionDep, hasher: HasherDep) -> UserPublic:
    return UserPublic.of(service.create_user(session=session, data=body, hasher=hasher, actor=principal))


@router.patch("/users/{user_id}", responses=error_responses(404))
def update_user(user_id: int, body: UserUpdate, principal: AdminPrincipal, session: SessionDep,
                hasher: HasherDep) -> UserPublic:
    return UserPublic.of(service.update_user(session=session, user_id=user_id, data=body, hasher=hasher,
                                             actor=principal))


@router.get("/teams")
def list_teams(principal: StaffPrincipal, session: SessionDep) -> list[Team]:
    return service.list_teams(session=session)


@router.post("/teams", status_code=201, responses=error_responses(409))
def create_team(body: NamedCreate, principal: AdminPrincipal, session: SessionDep) -> Team:
    return service.create_team(session=session, name=body.name, actor=principal)


@router.get("/sites")
def list_sites(principal: StaffPrincipal, session: SessionDep) -> list[Site]:
    return service.list_sites(session=session)


@router.post("/sites", status_code=201, responses=error_responses(409))
def create_site(body: NamedCreate, principal: AdminPrincipal, session: SessionDep) -> Site:
    return service.create_site(session=session, name=body.name, actor=principal)


@router.get("/tokens")
def list_tokens(principal: CurrentPrincipal, session: SessionDep) -> list[ApiTokenPublic]:
    return [ApiTokenPublic.model_validate(t, from_attributes=True)
            for t in service.list_api_tokens(session=session, principal=principal)]


@router.post("/tokens", status_code=201)
def create_token(body: ApiTokenCreate, principal: CurrentPrincipal, session: SessionDep) -> ApiTokenCreated:
    """Create an API token for the caller; the token itself is shown only in this answer."""
    raw, token = service.create_api_token(session=session, principal=principal, name=body.name)
    public = ApiTokenPublic.model_validate(token, from_attributes=True)
    return ApiTokenCreated(**public.model_dump(), token=raw)


@router.delete("/tokens/{token_id}", responses=error_responses(404))
def revoke_token(token_id: int, principal: CurrentPrincipal, session: SessionDep) -> ApiTokenPublic:
    token = service.revoke_api_token(session=session, principal=principal, token_id=token_id)
    return ApiTokenPublic.model_validate(token, from_attributes=True)


@router.post("/auth/logout", status_code=204)
def logout(principal: CurrentPrincipal, request: Request, session: SessionDep) -> Response:
    """End the current web session (API tokens are revoked with DELETE /api/tokens/{id})."""
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        service.end_web_session(session=session, raw_token=raw)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/auth/logout-all", status_code=204)
def logout_everywhere(principal: CurrentPrincipal, session: SessionDep) -> Response:
    """End every web session of the caller (all browsers and devices)."""
    service.end_all_web_sessions(session=session, principal=principal)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
