"""Every error in one place: domain exceptions and HTTP errors to status codes, to the API's
error shape and to the HTML error pages."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..domain import errors
from ..store import faults
from .domain_messages import N_, translate

STATUS = {
    errors.Malformed: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.Invalid: 422,
    errors.RateLimited: 429,
}
HTTP_CODES = {
    400: "malformed", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "rate_limited", 500: "server_error", 503: "unavailable",
}
# Faults of the moment, not of the request (store/faults.py): the database refused the write
# because the disk (or SQLite's size limit) is full, or another writer held a lock, or every
# pooled connection was busy, past the wait. Nothing was stored (the transaction rolled back),
# so the client may send the same request again, and the answer says when instead of a bare
# 500. Seconds until a retry may succeed.
RETRY_AFTER = {faults.FULL: 60, faults.BUSY: 5}
UNAVAILABLE_MESSAGE = N_("The service can't store anything at the moment. Try again shortly.")


# The API's words for what Werkzeug raises by itself (an unknown URL, a method not routed, a body
# over MAX_CONTENT_LENGTH) instead of its generic English pages' sentences.
API_HTTP_TEXTS = {
    400: N_("The request could not be read."),
    404: N_("Not found, or not yours."),
    405: N_("This method is not allowed here; the Allow header names those that are."),
    413: N_("The body is too large."),
    415: N_("The body is not of the media type this operation reads."),
    500: N_("Something went wrong on our side; try again later."),
}


def status_of(exc: errors.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    response = jsonify(body)
    response.status_code = status
    return response


def _domain_error(exc: errors.DomainError):
    status = status_of(exc)
    if wants_json():
        message, extra = _in_callers_language(exc)
        response = api_error(status, exc.code, message, **extra)
    else:
        response = make_response(
            render_template("error.html", status=status, message=translate(exc.message)),
            status)
    if isinstance(exc, errors.RateLimited):
        response.headers["Retry-After"] = str(exc.details.get("retry_after", 60))
    return response


def _in_callers_language(exc: errors.DomainError) -> tuple[str, dict]:
    """The API's message and per-field messages in the request's language (i18n chooses it
    from Accept-Language); codes, field names and lines stay as they are."""
    extra: dict = {}
    message = translate(exc.message) or exc.code
    if isinstance(exc, errors.Invalid) and exc.fields:
        extra["fields"] = {name: translate(text) for name, text in exc.fields.items()}
        if exc.message == errors.Invalid.joined(exc.fields):
            message = errors.Invalid.joined(extra["fields"])
    for key in ("existing_return_id", "allowed"):
        if key in exc.details:
            extra[key] = exc.details[key]
    if "problems" in exc.details:
        extra["problems"] = [
            {**problem, "message": translate(problem["message"])}
            if isinstance(problem, dict) and "message" in problem else problem
            for problem in exc.details["problems"]]
    return message, extra


def _http_error(exc: HTTPException):
    status = exc.code or 500
    if wants_json():
        # Our own words unless the code that raised it said something of its own.
        generic = exc.description == type(exc).description
        message = _(API_HTTP_TEXTS[status]) if generic and status in API_HTTP_TEXTS \
            else translate(exc.description)
        response = api_error(status, HTTP_CODES.get(status, "error"), message or exc.name)
    else:
        # Werkzeug's own description is English ("You don't have the permission..."): the
        # page says it in its own words; a description of ours is a domain message.
        generic = exc.description == type(exc).description
        message = translate(exc.description) if status not in (404, 500) and not generic \
            else None
        response = make_response(
            render_template("error.html", status=status, message=message), status)
    # The exception's own headers, such as a 405's Allow (RFC 9110 requires it).
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _csrf_error(exc: CSRFError):
    return render_template(
        "error.html", status=400,
        message=_("This form had expired or was sent from somewhere else. Go back, reload the "
                  "page and send it again."),
    ), 400


def _database_fault(exc: faults.OperationalError):
    code = faults.fault_of_the_moment(exc)
    if code not in RETRY_AFTER:
        raise exc  # a bug, not a fault of the moment: the usual 500
    current_app.logger.warning("503 for %s %s: %s", request.method, request.path, exc)
    if wants_json():
        response = api_error(503, "unavailable", _(UNAVAILABLE_MESSAGE))
    else:
        response = make_response(render_template(
            "error.html", status=503,
            message=_("We can't save anything right now. Nothing was changed; please try "
                      "again in a minute.")), 503)
    response.headers["Retry-After"] = str(RETRY_AFTER[code])
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(faults.OperationalError, _database_fault)
    app.register_error_handler(errors.DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
