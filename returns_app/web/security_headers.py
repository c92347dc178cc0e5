"""Headers on every response: no framing, no sniffing, no inline script from anyone, no copy
of a page kept by a browser or a proxy; outside development, HTTPS only (HSTS) for a year."""

from urllib.parse import urlsplit

from flask import Flask, request

# Pages that are the same for everyone and hold nobody's data: a cache may keep them.
PUBLIC_ENDPOINTS = frozenset({"static", "api.openapi"})


def content_security_policy(provider_url: str) -> str:
    # A form posted here may be redirected to the provider's card page: Chrome checks
    # form-action on that redirect too, so the provider's origin is allowed, nothing else.
    parts = urlsplit(provider_url)
    provider_origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        f"form-action 'self' {provider_origin}".strip()
    )


HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    # A developer's machine serves plain http on 127.0.0.1: HSTS there would pin every local
    # app on that host to https.
    hsts = app.config["ENV_NAME"] != "development"

    @app.after_request
    def add_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy", content_security_policy(app.config["PROVIDER_URL"]))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Nearly every page and API answer holds someone's order, address, amounts or account:
        # a shared computer's back button or a caching proxy must not show them to the next
        # person (OWASP ASVS 14.3). Not just "private": the browser must not store it either.
        if request.endpoint not in PUBLIC_ENDPOINTS:
            response.headers.setdefault("Cache-Control", "no-store")
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
