"""Typed errors with their HTTP status, turned into one JSON shape for every endpoint:
{"error": {"code": "...", "message": "...", "details": [...]}}."""

import errno
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError


class ErrorDetail(BaseModel):
    loc: str | None = None
    msg: str
    line: int | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    error: ErrorBody


class EarshotError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(EarshotError):
    status_code = 400
    code = "bad_request"


class Unauthorized(EarshotError):
    status_code = 401
    code = "unauthorized"


class Forbidden(EarshotError):
    status_code = 403
    code = "forbidden"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


class NotFound(EarshotError):
    status_code = 404
    code = "not_found"


class Conflict(EarshotError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(EarshotError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(EarshotError):
    status_code = 415
    code = "unsupported_media_type"


class InvalidInput(EarshotError):
    status_code = 422
    code = "invalid_input"


class TooManyRequests(EarshotError):
    status_code = 429
    code = "too_many_requests"


class ServiceUnavailable(EarshotError):
    status_code = 503
    code = "service_unavailable"


class InsufficientStorage(EarshotError):
    """The server's disk (or its file-size limit) is full: nothing was stored; an operator must make room."""

    status_code = 507
    code = "insufficient_storage"


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
DISK_FULL_MESSAGE = "The server's storage is full, so nothing was saved. Ask an administrator to free space."


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the standard error shape."""
    descriptions = {
        400: "Bad request",
        401: "Not signed in, or wrong credentials",
        403: "Role or scope does not allow this, or the CSRF token is missing",
        404: "No such record (or not visible to you)",
        409: "Conflicts with the record's current state",
        413: "Request body over the configured limit",
        415: "Compressed request bodies (Content-Encoding) are not accepted",
        422: "Invalid input; details name the field path",
        429: "Too many attempts",
        503: "Database or queue unavailable; retry later",
        507: "The server's storage is full; nothing was saved",
    }
    return {s: {"model": ErrorResponse, "description": descriptions[s]} for s in statuses}


STANDARD_ERRORS = error_responses(401, 403, 422, 503)


# What a person reads for the common pydantic error types (the raw text says "Input should be a valid
# integer, unable to parse string as an integer" or "Value error, ...").
_PLAIN_MESSAGES = {
    "missing": "is required",
    "int_parsing": "should be a whole number",
    "int_type": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_parsing": "should be a number",
    "float_type": "should be a number",
    "bool_parsing": "should be yes or no",
    "date_parsing": "should be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "should be a date (YYYY-MM-DD)",
    "datetime_parsing": "should be a date and time (YYYY-MM-DDTHH:MM)",
    "datetime_from_date_parsing": "should be a date and time (YYYY-MM-DDTHH:MM)",
    "json_invalid": "is not valid JSON",
    "extra_forbidden": "is not a field this accepts",
}


REQUEST_PARTS = ("body", "query", "path", "header", "cookie", "form")


def field_name(loc: str) -> str:
    """'body.roles' → 'roles', 'query.interaction_id' → 'interaction_id': the field as a person knows it."""
    first, _, rest = loc.partition(".")
    return rest if first in REQUEST_PARTS and rest else loc


def plain_validation_detail(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic error as {"loc", "msg"}: the full field path (body.roles), the message in plain words
    (no "Value error," prefix, no parser jargon)."""
    parts = [str(p) for p in error.get("loc", ())]
    msg = _PLAIN_MESSAGES.get(str(error.get("type", "")))
    if msg is None:
        msg = str(error.get("msg", "is not valid")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return {"loc": ".".join(parts), "msg": msg}


def error_message(exc: Exception) -> str:
    """How a refused input reads on a page, one sentence: an EarshotError's message; a pydantic
    ValidationError's problems in plain words ("per agent should be a whole number; due days is required");
    any other error's first line."""
    if isinstance(exc, EarshotError):
        return exc.message
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            detail = plain_validation_detail(dict(error))
            field = field_name(detail["loc"]).replace("_", " ")
            message = detail["msg"]
            for prefix in (f"{field}:", f"{detail['loc']}:"):  # a validator that names its field itself
                message = message.removeprefix(prefix).strip()
            parts.append(f"{field} {message}".strip() if field else message)
        return "; ".join(dict.fromkeys(parts))
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
