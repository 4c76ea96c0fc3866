"""Server-rendered pages: templates, navigation by role, and the render helper every view uses."""

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape

from app.core.audit import action_words
from app.core.security import Principal, Role
from app.core.timeutil import as_utc


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: tuple[Role, ...]
    order: int = 50


@dataclass
class HomePanel:
    """A box on a role's home page; features contribute them from `home.py`."""

    title: str
    items: list[tuple[str, str, str | None]] = field(default_factory=list)  # label, value, link
    empty_text: str = "Nothing here yet."
    link: str | None = None
    order: int = 50


# The hidden field that makes a page's form act once (app.auth.forms owns the rule; core may not import it).
FORM_ONCE_FIELD = "form_once"


@pass_context
def form_fields(context: Any) -> Markup:
    """The hidden fields of every state-changing form of a page: the session's CSRF token and a token of
    this rendering of the form, which the server takes when the form is sent (app.auth.forms: a page's form
    acts once, however often it is sent — double clicks, Back and send again)."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">'
                  '<input type="hidden" name="{}" value="{}">').format(
        escape(context.get("csrf_token") or ""), FORM_ONCE_FIELD, secrets.token_urlsafe(18))


def make_templates(directory: str, display_timezone: str) -> Jinja2Templates:
    templates = Jinja2Templates(directory=directory)  # autoescape on for .html
    zone = ZoneInfo(display_timezone)

    def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return "" if value is None else as_utc(value).astimezone(zone).strftime(fmt)

    def duration(seconds: float | None) -> str:
        if seconds is None:
            return ""
        minutes, secs = divmod(int(round(seconds)), 60)
        return f"{minutes}:{secs:02d}"

    templates.env.filters["local_time"] = local_time
    templates.env.filters["duration"] = duration
    templates.env.filters["action_words"] = action_words
    templates.env.globals["display_timezone"] = display_timezone
    templates.env.globals["form_fields"] = form_fields
    templates.env.globals["local_time"] = local_time  # for macros: the `table` macro formats cells with it
    return templates


def nav_for(request: Request, principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    items: list[NavItem] = request.app.state.nav
    return [item for item in items if principal.has(*item.roles)]


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           principal: Principal | None = None, status_code: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    full = {"principal": principal, "nav": nav_for(request, principal),
            "csrf_token": principal.csrf_token if principal else getattr(request.state, "login_csrf", None),
            **(context or {})}
    return templates.TemplateResponse(request, template, full, status_code=status_code)


STORED_FILE_CSP = "default-src 'none'; sandbox"


def stored_file(path: Path, *, media_type: str, filename: str, inline: bool = False) -> FileResponse:
    """A stored file (recording, PDF) as a response that a browser never runs as a page: the media type we
    determined (not the uploader's), attachment unless `inline` (the audio player, the PDF viewer), a
    sandboxing CSP of its own, and no caching of personal data by shared caches."""
    response = FileResponse(path, media_type=media_type, filename=filename,
                            content_disposition_type="inline" if inline else "attachment")
    response.headers["Content-Security-Policy"] = STORED_FILE_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


PRIVATE_CACHE_CONTROL = b"private, no-store"
SESSION_COOKIE_NAME = "earshot_session"  # app.auth.deps.SESSION_COOKIE (core may not import a feature)


class PrivateResponses:
    """`Cache-Control: private, no-store` on every response to a signed-in request (a session cookie or an API
    token) and on the response that signs in (it sets the cookie): pages, JSON, CSV and PDF hold personal data
    and scores, so neither a shared proxy nor the browser's disk cache may keep them. Static files are exempt
    (the same for everyone)."""

    def __init__(self, app: Any, *, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.static_prefix):
            await self.app(scope, receive, send)
            return
        signed_in = any(_credentials(name, value) for name, value in scope.get("headers", []))

        async def with_cache_control(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                sets_cookie = any(name.lower() == b"set-cookie" for name, _ in headers)
                if signed_in or sets_cookie:
                    headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
                    headers.append((b"cache-control", PRIVATE_CACHE_CONTROL))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_cache_control)


def _credentials(name: bytes, value: bytes) -> bool:
    lowered = name.lower()
    if lowered == b"authorization":
        return value.lower().startswith(b"bearer ")
    return lowered == b"cookie" and f"{SESSION_COOKIE_NAME}=".encode() in value
