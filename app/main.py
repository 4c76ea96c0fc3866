"""create_app(): the FastAPI application factory."""

import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.deps import SESSION_COOKIE, LoginRequired
from app.auth.deps import _resolve_principal as resolve_principal
from app.core.db import SessionFactory, ensure_wal, make_engine, session_factory, write_transactions
from app.core.errors import (
    DISK_FULL_ERRNOS,
    DISK_FULL_MESSAGE,
    BadRequest,
    EarshotError,
    InsufficientStorage,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    field_name,
    plain_validation_detail,
)
from app.core.features import iter_feature_modules
from app.core.figures_cache import FiguresCache
from app.core.hooks import load_hooks
from app.core.jobs import JobQueue, Runtime
from app.core.route_index import index_routes
from app.core.security import Principal, make_password_hasher
from app.core.settings import Settings
from app.core.storage import remove_abandoned_temp_files
from app.core.web import NavItem, PrivateResponses, make_templates, render
from app.interactions.models import Channel

log = logging.getLogger("earshot")

UPLOAD_PATH_MARKERS = ("/upload", "/recordings")


class BodySizeLimit:
    """Rejects request bodies over the configured limit with 413 before the route reads them.

    Upload routes (paths containing /upload or /recordings) get the upload limit; everything else the
    (much smaller) request limit. Bodies without Content-Length are counted as they stream in.
    """

    def __init__(self, app: ASGIApp, *, max_request_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.max_upload_bytes if any(m in path for m in UPLOAD_PATH_MARKERS) else self.max_request_bytes
        headers = dict(scope.get("headers") or [])
        encoding = headers.get(b"content-encoding", b"").strip().lower()
        if encoding not in (b"", b"identity"):
            # nothing here inflates request bodies: refuse them plainly rather than parse compressed bytes
            # (and never expand a gzip bomb)
            await _send_json(send, UnsupportedMediaType(
                f"Content-Encoding {encoding.decode('latin-1')!r} is not accepted; send the body uncompressed."))
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, PayloadTooLarge(f"Request body is over the limit of {limit} bytes."))
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(f"Request body is over the limit of {limit} bytes.")
            return message

        await self.app(scope, limited_receive, send)


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    # Everything is served by Earshot itself: no CDN, no inline scripts.
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; media-src 'self'; "
                                 b"style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [(n, v) for n, v in SECURITY_HEADERS if n not in present]
            await send(message)

        await self.app(scope, receive, with_headers)


class WriteTransactions:
    """State-changing requests (not GET, HEAD or OPTIONS) begin their SQLite transactions IMMEDIATE."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in {"GET", "HEAD", "OPTIONS"}:
            with write_transactions():
                await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class InFlightLimit:
    """At most `limit` requests in progress in this process (from arrival to the last byte of the answer); one
    more is refused at once with 503 and Retry-After. Past saturation an open queue only grows: every request
    would wait seconds, then minutes, and the clients time out anyway. `/healthz` is always answered (it says
    the process is alive, not that it has room).

    The thread pool is sized above the limit (see create_app), so a request holding the SQLite write lock
    always finds a thread for its next step."""

    def __init__(self, app: ASGIApp, *, limit: int, retry_after_seconds: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = str(retry_after_seconds).encode()
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await _send_json(send, ServiceUnavailable("The server is at capacity; try again shortly."),
                             headers=[(b"retry-after", self.retry_after)])
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _send_json(send: Send, error: EarshotError, *, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    response = JSONResponse(error.body(), status_code=error.status_code)
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": response.raw_headers + (headers or [])})
    await send({"type": "http.response.body", "body": response.body})


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "")


# What the HTML error page calls each status (the JSON keeps the code).
ERROR_TITLES = {
    400: "The request could not be read", 401: "Please sign in", 403: "Not allowed",
    404: "Page not found", 405: "That action is not available here", 409: "This changed meanwhile",
    413: "Too large", 415: "Not accepted", 422: "Some of what was sent is not valid", 429: "Too many attempts",
    500: "Something went wrong", 503: "Busy: try again in a moment", 507: "Storage full",
}
ERROR_TITLES_BY_CODE = {"already_sent": "Already sent"}  # where the status alone would mislead


def _error_response(request: Request, *, status: int, code: str, message: str,
                    details: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> Response:
    """The one error path: browsers (Accept: text/html, not /api) get a page in the site's layout, everything
    else the JSON shape {"error": {"code", "message", "details"}}."""
    details = details or []
    if _wants_html(request):
        page = {"status_code": status, "code": code, "message": message,
                "details": [{**d, "loc": field_name(str(d.get("loc") or ""))} for d in details],
                "title": ERROR_TITLES_BY_CODE.get(code) or ERROR_TITLES.get(status, "Error")}
        response: Response = render(request, "error.html", {"error": page}, status_code=status,
                                    principal=_page_principal(request))
        response.headers.update(headers or {})
        return response
    return JSONResponse({"error": {"code": code, "message": message, "details": details}}, status_code=status,
                        headers=headers)


def _page_principal(request: Request) -> Principal | None:
    """Who is signed in, for the error page's menu: the route's principal, or for an address no route
    answers (404) the session cookie read here (safe requests only; any failure shows the page without menu)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None or request.method not in ("GET", "HEAD"):
        return principal
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        with request.app.state.sessions() as session:
            entry = resolve_principal(session, raw, False)
            return entry.principal if entry is not None else None
    except Exception:  # an error page must render whatever else is wrong
        return None


def _earshot_response(request: Request, error: EarshotError) -> Response:
    return _error_response(request, status=error.status_code, code=error.code, message=error.message,
                           details=error.details)


def _integrity_response(request: Request, exc: IntegrityError) -> Response:
    """A refused write as the user's error, never a 500: 409 when a unique key was taken (by a simultaneous
    request, or a duplicate the service did not check), 422 when a referenced record does not exist."""
    text_of = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
    sqlstate = getattr(exc.orig, "sqlstate", None)
    log.info("a write was refused by the database: %s", text_of)
    if sqlstate == "23505" or "UNIQUE constraint failed" in text_of:
        field = _unique_field(exc.orig, text_of)
        return _error_response(request, status=409, code="conflict",
                               message=(f"This {field} " if field else "This ") + "is already stored (another request "
                               "may have saved the same at the same moment). Reload to see it.",
                               details=[{"loc": field, "msg": "already stored"}] if field else [])
    if sqlstate == "23503" or "FOREIGN KEY constraint failed" in text_of:
        return _error_response(request, status=422, code="invalid_input",
                               message="A record this refers to does not exist (or was removed meanwhile).")
    return _error_response(request, status=409, code="conflict",
                           message="The database refused this change as it stands now; reload and try again.")


def _unique_field(orig: BaseException | None, text_of: str) -> str | None:
    """The column(s) of a taken unique key: PostgreSQL's "Key (name)=(…)", SQLite's "…: table.name"."""
    detail = getattr(getattr(orig, "diag", None), "message_detail", None) or ""
    found = re.match(r"Key \(([^)]*)\)=", detail)
    if found:
        return found.group(1).replace("_", " ")
    found = re.search(r"UNIQUE constraint failed: (.+)$", text_of)
    if found:
        return ", ".join(part.split(".")[-1] for part in found.group(1).split(", ")).replace("_", " ")
    return None


def _disk_full(exc: BaseException | None) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


HTTP_MESSAGES = {
    404: ("not_found", "There is no page at this address. Check the link, or start again from the home page."),
    405: ("method_not_allowed", "This address does not accept that kind of request."),
}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EarshotError)
    async def earshot_error(request: Request, exc: EarshotError) -> Response:
        return _earshot_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [plain_validation_detail(dict(e)) for e in exc.errors()]
        where = "address" if any(e.get("loc", ("",))[0] in ("query", "path") for e in exc.errors()) else "request"
        return _error_response(request, status=422, code="invalid_input",
                               message=f"Some values in the {where} are not valid: " +
                               "; ".join(f"{field_name(d['loc']) or 'value'} {d['msg']}" for d in details),
                               details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _disk_full(exc.__cause__):  # FastAPI turns a failed spool of an uploaded file into a 400
            return _earshot_response(request, InsufficientStorage(DISK_FULL_MESSAGE))
        if isinstance(exc.__cause__, RecursionError):  # FastAPI's bare "error parsing the body" for deep JSON
            return _earshot_response(request, BadRequest("The request body is not valid JSON: it is nested too deeply."))
        code, message = HTTP_MESSAGES.get(exc.status_code, ("http_error", str(exc.detail)))
        return _error_response(request, status=exc.status_code, code=code, message=message,
                               headers=getattr(exc, "headers", None))

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> Response:
        log.warning("database unavailable: %s", exc)
        return _error_response(request, status=503, code="service_unavailable",
                               message="The database is busy or unavailable; try again shortly.",
                               headers={"Retry-After": "2"})

    @app.exception_handler(OSError)
    async def storage_full(request: Request, exc: OSError) -> Response:
        if not _disk_full(exc):
            raise exc
        log.error("storage full: %s", exc)
        return _earshot_response(request, InsufficientStorage(DISK_FULL_MESSAGE))

    @app.exception_handler(IntegrityError)
    async def stored_meanwhile(request: Request, exc: IntegrityError) -> Response:
        # the last line behind every check-then-write: a simultaneous request stored the same name or key first
        # (PostgreSQL makes the second writer wait for the first, then refuses it), or a reference vanished
        return _integrity_response(request, exc)

    @app.exception_handler(DataError)
    async def value_refused(request: Request, exc: DataError) -> Response:
        # a value the database cannot store (e.g. NUL in PostgreSQL text) that no importer cleaned first
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "refused"
        log.warning("database refused a value: %s", reason)
        return _error_response(request, status=422, code="invalid_input",
                               message=f"A value in the request cannot be stored: {reason}")

    @app.exception_handler(OverflowError)
    async def number_out_of_range(request: Request, exc: OverflowError) -> Response:
        return _error_response(request, status=422, code="invalid_input",
                               message="A number in the request is out of range.")

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(request: Request, exc: PoolTimeout) -> Response:
        return _error_response(request, status=503, code="service_unavailable",
                               message="The server is overloaded; try again.", headers={"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Starlette still re-raises it after this answer, so the traceback reaches the server log
        return _error_response(request, status=500, code="internal_error",
                               message="Something went wrong on our side. Nothing you did caused it; "
                                       "try again, and tell an administrator if it keeps happening.")


def freeze_startup_heap() -> None:
    """Once per process: what is loaded at start-up (~320,000 objects: FastAPI, SQLAlchemy, the features) lives
    as long as the process, so it is moved out of the garbage collector's reach. Every full collection walked
    all of it: 80-160 ms of CPU holding the GIL, landing on whichever requests were running. (Once: a test
    process starts thousands of apps.)"""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def create_app(
    settings: Settings | None = None,
    *,
    sessions: SessionFactory | None = None,
    queue: JobQueue | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own session factory (per-test transaction) and queue."""
    settings = settings or Settings()
    load_hooks()  # the features' handlers of the core hooks; raises if one is missing
    engine = None
    if sessions is None:
        engine = make_engine(settings.resolved_database_url, busy_timeout_ms=settings.database_busy_timeout_ms,
                             ping_idle_seconds=settings.database_ping_idle_seconds)
        ensure_wal(engine)
        sessions = session_factory(engine)
    if queue is None:
        assert engine is not None
        queue = JobQueue(Runtime(settings=settings, engine=engine, sessions=sessions))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        remove_abandoned_temp_files(settings.resolved_data_dir)  # left by a server killed mid-upload
        # sync routes and dependencies run in this pool: keep threads free beyond the in-flight limit
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, settings.max_in_flight_requests + 8)
        for module in iter_feature_modules("warm"):  # language models and the like: before the first request
            module.warm_up()
        freeze_startup_heap()  # see there
        yield
        if engine is not None:
            engine.dispose()

    app = FastAPI(
        title="Earshot",
        version="0.1.0",
        description="Quality monitoring and evaluation for contact centers. Every error has the shape "
                    '`{"error": {"code", "message", "details"}}`.',
        lifespan=lifespan,
        docs_url=None,  # app/system/docs.py serves /docs with local assets (the CDN page is blocked by the CSP)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.figures_cache = FiguresCache(settings.home_figures_seconds)
    app.state.queue = queue
    app.state.password_hasher = make_password_hasher(settings)
    app.state.templates = make_templates(str(settings.frontend_dir / "templates"), settings.display_timezone)
    app.state.templates.env.globals["channels"] = list(Channel)  # every channel filter and picker lists these
    nav: list[NavItem] = []
    _install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_request_bytes=settings.max_request_bytes,
                       max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(PrivateResponses)
    app.add_middleware(WriteTransactions)
    app.add_middleware(InFlightLimit, limit=settings.max_in_flight_requests)
    app.mount("/static", StaticFiles(directory=settings.frontend_dir / "static"), name="static")

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "database or queue unreachable"}})
    def readyz() -> Response:
        """The database and the queue are reachable."""
        checks: dict[str, Any] = {}
        try:
            with sessions() as session:
                session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready
            checks["database"] = f"unavailable: {type(exc).__name__}"
        try:
            queue.huey.storage.queue_size()
            checks["queue"] = "ok"
        except Exception as exc:  # any failure means not ready
            checks["queue"] = f"unavailable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                            status_code=200 if ready else 503)

    for module in iter_feature_modules("api"):
        app.include_router(module.router)
    for module in iter_feature_modules("views"):
        app.include_router(module.router, include_in_schema=False)
        nav.extend(getattr(module, "NAV", []))
        app.state.templates.env.filters.update(getattr(module, "TEMPLATE_FILTERS", {}))
    app.state.nav = sorted(nav, key=lambda item: (item.order, item.label))
    index_routes(app)  # see there: every request found its route by trying up to 250 of them
    return app
