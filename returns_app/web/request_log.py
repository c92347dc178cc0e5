"""Every request: an id (the caller's X-Request-ID if it is safe, else a new one) bound for
everything the request causes and echoed in the answer, and one JSON log line when it is
answered. The line names the route's rule (``/payout-details/<token>``), never the path or the
query: emailed links carry their bearer token there."""

from __future__ import annotations

import logging
import time

from flask import Flask, request

from ..domain import request_ids
from . import proxies

log = logging.getLogger("returns_app.access")
_STARTED = "returns_app.started"
_BOUND = "returns_app.request_id_binding"


def elapsed_seconds() -> float:
    return time.perf_counter() - request.environ.get(_STARTED, time.perf_counter())


def route() -> str | None:
    """The URL rule the request matched (None: no route matched)."""
    return request.url_rule.rule if request.url_rule is not None else None


def _start() -> None:
    request.environ[_STARTED] = time.perf_counter()
    request.environ[_BOUND] = request_ids.current.set(
        request_ids.accept(request.headers.get(request_ids.HEADER)))


def _finish(response):
    request_id = request_ids.current.get()
    if request_id:
        response.headers[request_ids.HEADER] = request_id
    status = response.status_code
    log.info("%s %s %s", request.method, route() or "(no route)", status, extra={"fields": {
        "method": request.method,
        "route": route(),
        "endpoint": request.endpoint,
        "status": status,
        "duration_ms": round(elapsed_seconds() * 1000, 2),
        "request_id": request_id,
        "client": proxies.client_address(),
    }})
    return response


def _unbind(_exc=None) -> None:
    token = request.environ.pop(_BOUND, None)
    if token is not None:
        request_ids.current.reset(token)


def init_app(app: Flask) -> None:
    # First of the before-request hooks and last of the after-request ones (Flask runs those in
    # reverse), so a request refused by CSRF or sign-in checks is timed and logged too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_unbind)
