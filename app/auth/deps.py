"""FastAPI dependencies declared once and reused by every route: the database session, settings,
the signed-in principal, and role checks (with CSRF on every state-changing cookie request)."""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from pwdlib import PasswordHash
from sqlmodel import Session

from app.auth import forms, service
from app.auth.principal_cache import CachedPrincipal, PrincipalCache
from app.core import figures_cache
from app.core.db import write_transactions
from app.core.errors import CsrfFailed, Forbidden, Unauthorized
from app.core.jobs import JobQueue
from app.core.security import Principal, Role, constant_time_equal, token_digest
from app.core.settings import Settings
from app.core.timeutil import as_utc, utcnow
from app.core.web import FORM_ONCE_FIELD

SESSION_COOKIE = "earshot_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's session. The request boundary owns the transaction: after the route function returns and
    before FastAPI validates, serialises and sends the answer, a state-changing request commits what is left
    (services flush; some still commit themselves) and every request closes its session, so no transaction
    (on SQLite: no write lock) outlives the route. A route that raises is rolled back.

    This runs on the event loop, not in a worker thread: a commit that had to wait for a free thread while its
    transaction holds the write lock could wait forever once every thread waits for that lock."""
    session: Session = request.app.state.sessions()
    session.info[figures_cache.INFO_KEY] = getattr(request.app.state, "figures_cache", None)  # see figures_cache
    try:
        yield session
        if request.method not in SAFE_METHODS:
            if forms.holds_claim(session):
                await run_in_threadpool(forms.give_back_if_unused, session)
            if session.new or session.dirty or session.deleted:
                await run_in_threadpool(session.commit)  # a flush may have to BEGIN (and queue for the lock)
            else:
                session.commit()
    finally:
        session.close()


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_hasher(request: Request) -> PasswordHash:
    hasher: PasswordHash = request.app.state.password_hasher
    return hasher


async def get_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.queue
    return queue


SessionDep = Annotated[Session, Depends(get_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
HasherDep = Annotated[PasswordHash, Depends(get_hasher)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]


async def _form_field(request: Request, name: str) -> str | None:
    """A text field of a state-changing request's form body; None for other requests and bodies."""
    if request.method in SAFE_METHODS:
        return None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # parsed once per request (Starlette keeps it)
        value = form.get(name)
        return value if isinstance(value, str) else None
    return None


async def _submitted_csrf(request: Request) -> str | None:
    """The CSRF token sent with a state-changing request: header first, then the form field."""
    if request.method in SAFE_METHODS:
        return None
    return request.headers.get(CSRF_HEADER) or await _form_field(request, CSRF_FIELD)


def principal_cache_of(request: Request) -> PrincipalCache:
    cache: PrincipalCache | None = getattr(request.app.state, "principal_cache", None)
    if cache is None:
        settings: Settings = request.app.state.settings
        cache = request.app.state.principal_cache = PrincipalCache(settings.principal_cache_seconds)
    return cache


async def _optional_principal(request: Request, session: SessionDep,
                              submitted_csrf: Annotated[str | None, Depends(_submitted_csrf)]) -> Principal | None:
    """Who is calling: from the principal cache when it knows the credential (no database round trip, no
    thread hop), else from the database (a deferred read in a worker thread, ended before the route runs)."""
    authorization = request.headers.get("authorization", "")
    bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
    raw = bearer or request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    cache = principal_cache_of(request)
    digest = token_digest(raw)
    entry = cache.get(digest, utcnow())
    if entry is None:
        epoch = cache.epoch
        entry = await run_in_threadpool(_resolve_principal, session, raw, bearer is not None)
        if entry is None:
            if bearer is not None:
                raise Unauthorized("Invalid or revoked API token.")
            return None
        cache.put(digest, entry, epoch=epoch)
    if entry.csrf_token is not None and request.method not in SAFE_METHODS and (
        submitted_csrf is None or not constant_time_equal(submitted_csrf, entry.csrf_token)
    ):
        raise CsrfFailed("Missing or wrong CSRF token; reload the page and try again.")
    request.state.principal = entry.principal  # error pages show the signed-in menu (app.main._page_principal)
    once = await _form_field(request, FORM_ONCE_FIELD)
    if once is not None:  # a page's form: it acts once (app.auth.forms)
        await run_in_threadpool(forms.claim, session, once, entry.principal.user_id)
    return entry.principal


def _resolve_principal(session: Session, raw: str, is_api_token: bool) -> CachedPrincipal | None:
    try:
        with write_transactions(False):  # authentication only reads: never queue for the write lock
            if is_api_token:
                user = service.resolve_api_token(session=session, raw_token=raw)
                return None if user is None else CachedPrincipal(service.principal_of(user, via="token"), None, None)
            resolved = service.resolve_web_session(session=session, raw_token=raw)
            if resolved is None:
                return None
            user, web_session = resolved
            principal = service.principal_of(user, via="session", csrf_token=web_session.csrf_token)
            return CachedPrincipal(principal, web_session.csrf_token, as_utc(web_session.expires_at))
    except BaseException:
        session.rollback()  # a failed read (database gone) must surface as itself, not as a failed commit
        raise
    finally:
        # End the read transaction: the connection goes back to the pool before the route runs.
        if session.in_transaction():
            session.commit()


OptionalPrincipal = Annotated[Principal | None, Depends(_optional_principal)]


async def _current_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        raise Unauthorized("Sign in first.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency that lets through principals holding any of `roles`."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has(*roles):
            raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
        return principal

    return check


AdminPrincipal = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
AgentPrincipal = Annotated[Principal, Depends(require_roles(Role.AGENT))]
# who scores and edits forms: evaluators, and admins
EvaluatorPrincipal = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.EVALUATOR))]
StaffPrincipal = Annotated[
    Principal, Depends(require_roles(Role.ADMIN, Role.EVALUATOR, Role.COACH, Role.EXECUTIVE))
]


class LoginRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


async def _web_principal(request: Request, principal: OptionalPrincipal) -> Principal:
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return principal


WebPrincipal = Annotated[Principal, Depends(_web_principal)]


def web_require_roles(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    async def check(principal: WebPrincipal) -> Principal:
        if not principal.has(*roles):
            raise Forbidden(f"This page needs one of the roles: {', '.join(roles)}.")
        return principal

    return check


WebAdmin = Annotated[Principal, Depends(web_require_roles(Role.ADMIN))]
WebStaff = Annotated[Principal, Depends(web_require_roles(Role.ADMIN, Role.EVALUATOR, Role.COACH, Role.EXECUTIVE))]
