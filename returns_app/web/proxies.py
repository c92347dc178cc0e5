"""Who is asking: the client's address as the trusted proxies in front of the app saw it.

Every per-address limit (order look-ups, customer API sessions, sign-ins, new-link requests)
keys on `client_address()`. Behind a reverse proxy the socket's peer is the proxy, so without
ProxyFix every visitor would share one address (and one limit); but forwarded headers are only
believed for as many hops as the operator says there are proxies (`RETURNS_TRUSTED_PROXIES`),
because anyone can send `X-Forwarded-For` and would otherwise pick a fresh address per guess.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        # Each trusted proxy appends one entry; ProxyFix takes the one `hops` from the right,
        # the address the outermost trusted proxy saw, whatever a client prepended.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def client_address() -> str:
    return request.remote_addr or "unknown"


# Headers a proxy adds: a request that carries one came through a proxy, so its socket's
# loopback address says nothing about who is asking (/metrics is for this machine only).
FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def came_through_a_proxy() -> bool:
    return any(name in request.headers for name in FORWARDED)
