"""Every state-changing route of the pages refuses a request without its CSRF token, with the
real CSRFProtect on: enumerated from app.url_map, so merchant and support routes added later
are covered by themselves. And every form the pages render carries the token."""

from __future__ import annotations

import html5lib
import pytest

from returns_app import create_app
from returns_app.store.db import connect
from tests.api_helpers import count
from tests.rows import by_id
from tests.security_world import build_world, route_urls, sign_in_as

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
REFUSAL = "This form had expired"


@pytest.fixture
def protected(tmp_path, owned_database):
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "WTF_CSRF_ENABLED": True,
                      "BABEL_DEFAULT_LOCALE": "en_GB", "DATABASE": owned_database.address,
                      "PAGE_CACHE_PATH": str(tmp_path / "csrf-pages")})
    db = connect(app.config["DATABASE"])
    world = build_world(app, db)
    yield app, db, world
    db.close()


def form_data(token: str | None) -> dict:
    # Plausible fields, so that only the missing token can be the reason for a refusal.
    data = {"order_number": "123-456-789", "email": "kund@example.se", "password": "x",
            "amount": "10", "tracking_number": "JJD1", "clearing_number": "8327-9",
            "account_number": "1234567897"}
    if token is not None:
        data["csrf_token"] = token
    return data


@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["none", "empty", "forged"])
def test_every_state_changing_page_route_refuses_a_request_without_its_token(protected, token):
    app, db, world = protected
    routes = route_urls(app, UNSAFE_METHODS, world["parameters"])
    assert len(routes) >= 8  # find, sign in, sign out, report, sent, cancel, pay, payout details
    changes_before = count(db, "audit_event")
    for who, principal in world["principals"].items():
        client = app.test_client()
        sign_in_as(client, principal, world["order"]["id"])
        for method, url in routes:
            response = client.open(url, method=method, data=form_data(token))
            assert response.status_code == 400, f"{who} {method} {url}"
            assert REFUSAL in response.get_data(as_text=True), f"{who} {method} {url}"
    assert count(db, "audit_event") == changes_before  # nothing happened


def test_a_token_from_another_session_is_refused(protected):
    app, db, world = protected
    attacker = app.test_client()
    page = attacker.get("/").get_data(as_text=True)
    stolen = csrf_tokens(page)[0]
    victim = app.test_client()
    sign_in_as(victim, world["principals"]["customer"], world["order"]["id"])
    response = victim.post(f"/returns/{world['return']['id']}/cancel",
                           data={"csrf_token": stolen})
    assert response.status_code == 400 and REFUSAL in response.get_data(as_text=True)
    assert by_id(db, "returns", world["return"]["id"])["status"] == "reported"


def test_the_same_request_with_its_token_goes_through(protected):
    """So the refusals above are about the token, not about the request."""
    app, db, world = protected
    client = app.test_client()
    sign_in_as(client, world["principals"]["customer"], world["order"]["id"])
    page = client.get(f"/returns/{world['return']['id']}").get_data(as_text=True)
    response = client.post(f"/returns/{world['return']['id']}/cancel",
                           data={"csrf_token": csrf_tokens(page)[0]})
    assert response.status_code == 302
    assert by_id(db, "returns", world["return"]["id"])["status"] == "cancelled"


def csrf_tokens(html: str) -> list[str]:
    """The csrf_token of each POST form of the page; None for a form without one."""
    page = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    tokens = []
    for form in page.iter("form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        # A prefixed form names it "<prefix>-csrf_token"; CSRFProtect reads any such field.
        fields = [i.get("value") for i in form.iter("input")
                  if (i.get("name") or "").endswith("csrf_token")]
        tokens.append(fields[0] if fields else None)
    return tokens


def test_every_form_on_every_page_carries_a_token(protected):
    app, db, world = protected
    pages = [url for _, url in route_urls(app, {"GET"}, world["parameters"])]
    forms = 0
    for who, principal in world["principals"].items():
        client = app.test_client()
        sign_in_as(client, principal, world["order"]["id"])
        for url in pages:
            response = client.get(url)
            if response.mimetype != "text/html":
                continue
            tokens = csrf_tokens(response.get_data(as_text=True))
            assert None not in tokens, f"{who} GET {url}: a POST form without csrf_token"
            forms += len(tokens)
    assert forms >= 10  # the crawl met the app's forms
