"""For whoever runs the app: `/healthz` (the process answers), `/readyz` (it can do its work:
database, schema, worker) and `/metrics` (Prometheus). None needs a sign-in; none shows a secret
or where anything is kept. Metrics are for the machine's own scraper (loopback, not through a
proxy) or whoever holds RETURNS_METRICS_TOKEN; anyone else gets a 404."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, abort, current_app, jsonify, request

from ..domain import clock
from . import metrics, proxies, readiness
from .database_session import get_db

bp = Blueprint("operations", __name__)


@bp.get("/healthz")
def healthz():
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz():
    found = readiness.check(get_db, clock.now())
    body = {"status": "ready" if found["ready"] else "not ready", "failed": found["failed"],
            "checks": found["checks"]}
    return _no_store(jsonify(body)), 200 if found["ready"] else 503


@bp.get("/metrics")
def prometheus_metrics():
    if not (_valid_token() or _from_this_machine()):
        abort(404)
    return _no_store(Response(metrics.exposition(get_db()), mimetype=None,
                              content_type=metrics.CONTENT_TYPE))


def _valid_token() -> bool:
    expected = current_app.config.get("METRICS_TOKEN") or ""
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(offered.strip().encode(), expected.encode())


def _from_this_machine() -> bool:
    if proxies.came_through_a_proxy():
        return False
    try:
        peer = ipaddress.ip_address(proxies.client_address())
    except ValueError:  # a unix socket has no address: a proxy's, not a scraper's
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped:
        peer = peer.ipv4_mapped
    return peer.is_loopback


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
