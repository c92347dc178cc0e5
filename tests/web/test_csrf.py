"""Every POST route of the pages refuses a request without a CSRF token."""

from __future__ import annotations

import re

import pytest

from returns_app import create_app
from returns_app.store.db import connect
from tests.builders import make_merchant, make_order


@pytest.fixture
def protected_app(tmp_path, owned_database):
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "WTF_CSRF_ENABLED": True,
                      "BABEL_DEFAULT_LOCALE": "en_GB", "DATABASE": owned_database.address,
                      "PAGE_CACHE_PATH": str(tmp_path / "csrf-pages")})
    db = connect(app.config["DATABASE"])
    merchant, _ = make_merchant(db)
    app.config["ORDER"] = make_order(db, merchant["id"])
    db.close()
    return app


def page_post_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and not rule.rule.startswith("/api/")]


def test_every_page_post_route_needs_a_csrf_token(protected_app):
    client = protected_app.test_client()
    rules = page_post_rules(protected_app)
    assert len(rules) >= 6  # find, sign in, sign out, report, sent, cancel
    for rule in rules:
        url = re.sub(r"<id:\w+>", "1", rule.rule)
        response = client.post(url, data={"order_number": "1", "email": "a@b.se"})
        assert response.status_code == 400, rule.rule
        assert "This form had expired" in response.get_data(as_text=True)


def test_a_form_with_its_token_goes_through(protected_app):
    client = protected_app.test_client()
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    order = protected_app.config["ORDER"]
    response = client.post("/", data={"csrf_token": token, "order_number": order["order_number"],
                                      "email": "kund@example.se"})
    assert response.status_code == 302


def test_the_api_uses_bearer_tokens_not_cookies(protected_app):
    client = protected_app.test_client()
    response = client.post("/api/v1/customer/session", json={"order_number": "x", "email": "y"})
    assert response.status_code == 404  # reached the endpoint: no CSRF wall, and no cookie auth
