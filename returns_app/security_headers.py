"""Headers on every response: no framing, no sniffing, no inline script from anyone; outside
development, HTTPS only (HSTS) for a year."""

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask


@lru_cache(maxsize=8)  # built once per provider address, not once per response
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
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
