"""Every page carries the headers that keep it from being framed, sniffed or made to run
someone else's script: crawled from app.url_map, for every kind of visitor, error pages too.

A route added later is crawled by itself; one whose URL needs a value this file can't fill
fails here, naming the parameter to add to PARAMETERS.
"""

from __future__ import annotations

import pytest

from tests.security_world import build_world, route_urls, sign_in_as

REQUIRED_CSP = ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'")


def assert_protected(response, label: str) -> None:
    csp = [part.strip() for part in response.headers.get("Content-Security-Policy", "").split(";")]
    for directive in REQUIRED_CSP:
        assert directive in csp, f"{label}: CSP lacks {directive}: {csp}"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"], label
    assert response.headers.get("X-Content-Type-Options") == "nosniff", label
    assert response.headers.get("Referrer-Policy"), label


@pytest.fixture
def world(app, db):
    return build_world(app, db)


def test_every_page_for_every_visitor_carries_the_headers(app, world):
    urls = [url for _, url in route_urls(app, {"GET"}, world["parameters"])]
    assert len(urls) >= 8
    rendered = set()
    for who, principal in world["principals"].items():
        client = app.test_client()
        sign_in_as(client, principal, world["order"]["id"])
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, f"{who} GET {url}: {response.status_code}"
            assert_protected(response, f"{who} GET {url} ({response.status_code})")
            if response.status_code == 200 and response.mimetype == "text/html":
                rendered.add(url)
    # The crawl reached the pages themselves, not only redirects and refusals.
    for path in ("/", "/signin", "/orders", f"/orders/{world['order']['id']}",
                 f"/returns/{world['return']['id']}",
                 f"/orders/{world['order']['id']}/returns/new"):
        assert path in rendered, path


def test_no_page_with_someones_data_may_be_stored_by_a_browser_or_proxy(app, world):
    """Every crawled answer but the public ones (static files, the OpenAPI document) says
    no-store, for every visitor: the back button of a shared computer shows nothing."""
    from returns_app.web.security_headers import PUBLIC_ENDPOINTS

    adapter = app.url_map.bind("localhost")
    checked = 0
    for _who, principal in world["principals"].items():
        client = app.test_client()
        sign_in_as(client, principal, world["order"]["id"])
        for url in [url for _, url in route_urls(app, {"GET"}, world["parameters"])]:
            endpoint = adapter.match(url.split("?")[0], "GET")[0]
            response = client.get(url)
            if endpoint in PUBLIC_ENDPOINTS:
                assert "no-store" not in response.headers.get("Cache-Control", ""), url
            else:
                assert response.headers.get("Cache-Control") == "no-store", url
                checked += 1
    assert checked >= 30


def test_the_customers_order_in_the_api_is_not_stored(client, world):
    assert client.get(f"/api/v1/orders/{world['order']['id']}").headers["Cache-Control"] \
        == "no-store"  # the 401 too: an error can name what was asked for


@pytest.mark.parametrize("method, url, status", [
    ("GET", "/no/such/page", 404),
    ("GET", "/orders/999999", 404),
    ("DELETE", "/", 405),
    ("GET", "/api/v1/no/such/thing", 404),
    ("DELETE", "/api/v1/orders", 405),
])
def test_error_answers_carry_the_headers(client, method, url, status):
    response = client.open(url, method=method)
    assert response.status_code == status
    assert_protected(response, f"{method} {url}")


def test_a_server_error_page_carries_the_headers(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as production does, not re-raise

    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/_broken", "broken", broken)
    response = app.test_client().get("/_broken")
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "a bug" not in response.get_data(as_text=True)
    assert_protected(response, "500 page")


def test_the_check_fails_without_the_headers():
    from flask import Response

    bare = Response("<p>hi</p>", mimetype="text/html")
    with pytest.raises(AssertionError, match="object-src"):
        assert_protected(bare, "bare")
    bare.headers["Content-Security-Policy"] = ("default-src 'self'; object-src 'none'; "
                                               "base-uri 'none'; frame-ancestors 'none'")
    with pytest.raises(AssertionError):
        assert_protected(bare, "no nosniff")
