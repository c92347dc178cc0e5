"""Merchant staff sign-in: the form, a fresh session, safe redirects, and the guessing limit
shared by every server process."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from returns_app import create_app
from returns_app.domain import clock
from returns_app.domain.errors import Unauthorized
from returns_app.domain.passwords import hash_password
from returns_app.services import merchant_users
from tests.builders import make_order
from tests.customer.test_customer_views import field_error, text
from tests.merchant_fixtures import STAFF_PASSWORD, sign_in

PORTAL_PAGES = ["/merchant/", "/merchant/returns", "/merchant/returns.csv",
                "/merchant/instructions", "/merchant/api-keys"]


def test_the_sign_in_page_has_the_form(client):
    page = text(client.get("/merchant/signin"))
    assert 'name="email"' in page and 'name="password"' in page
    assert 'autocomplete="current-password"' in page


def test_signing_in_opens_the_inbox(client, shop):
    response = sign_in(client, "STAFF@testshop.se")
    assert response.status_code == 302
    assert response.headers["Location"] == "/merchant/returns"
    assert "Test Shop" in text(client.get("/merchant/returns"))


def test_empty_fields_get_their_own_messages_and_the_email_is_kept(client, shop):
    response = client.post("/merchant/signin", data={"email": "someone@shop.se",
                                                     "password": ""})
    assert response.status_code == 422
    assert "Enter your password" in field_error(response, "password")
    assert 'value="someone@shop.se"' in text(response)


def test_a_wrong_password_gets_one_message_and_keeps_the_email(client, shop):
    response = sign_in(client, shop["user"]["email"], "wrong")
    assert response.status_code == 422
    assert merchant_users.NO_MATCH_MESSAGE in text(response)
    assert f'value="{shop["user"]["email"]}"' in text(response)
    assert 'type="password"' in text(response) and "wrong" not in text(response)


def test_signing_in_starts_a_new_session(client, shop):
    with client.session_transaction() as before:
        before["order_ids"] = [1, 2]
        before["planted"] = "by someone else"
    sign_in(client, shop["user"]["email"])
    with client.session_transaction() as after:
        assert "planted" not in after and "order_ids" not in after
        assert after["_user_id"] == f"merchant_user:{shop['user']['id']}"


@pytest.mark.parametrize("page", PORTAL_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in_and_back(client, shop, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/merchant/signin?next=")
    back = sign_in(client, shop["user"]["email"],
                   query_string={"next": re.sub(r".*next=", "", response.headers["Location"])
                                 .replace("%2F", "/").replace("%3F", "?").replace("%3D", "=")})
    assert back.headers["Location"] == page


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/orders",
                                    "/merchant//evil.example", "/merchant/\\evil"])
def test_the_next_page_is_only_ever_inside_the_portal(client, shop, target):
    response = sign_in(client, shop["user"]["email"], query_string={"next": target})
    assert response.headers["Location"] == "/merchant/returns"


def test_a_signed_in_customer_gets_403_on_every_portal_page(client, db, shop):
    make_order(db, shop["merchant"]["id"])
    db.execute("UPDATE customer SET password_hash = ? WHERE email = 'kund@example.se'",
               [hash_password("kundpass")])
    assert client.post("/signin", data={"email": "kund@example.se", "password": "kundpass"}
                       ).status_code == 302
    for page in PORTAL_PAGES:
        response = client.get(page)
        assert response.status_code == 403, page
        assert "for merchant staff" in text(response)


def test_signing_out_ends_the_session(client, staff):
    response = client.post("/merchant/signout")
    assert response.status_code == 302 and response.headers["Location"] == "/merchant/signin"
    with client.session_transaction() as after:
        assert "_user_id" not in after
    assert "You are signed out." in text(client.get("/merchant/signin"))


def test_the_session_cookie_is_httponly_secure_and_samesite_in_production(
        owned_database, monkeypatch, cheap_hashing):
    monkeypatch.setenv("RETURNS_ENV", "production")
    app = create_app({"SECRET_KEY": "k", "DATABASE": owned_database.address,
                      "WTF_CSRF_ENABLED": False})
    from tests.merchant_fixtures import make_shop

    db = owned_database.connect()
    make_shop(db, "Prod Shop", "staff@prodshop.se")
    response = sign_in(app.test_client(), "staff@prodshop.se")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    # __Host-: browsers take it only if Secure, for Path=/ and with no Domain (issue 16).
    assert cookie.startswith("__Host-session=")
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie
    assert "; Path=/;" in cookie and "Domain" not in cookie
    assert "Expires" not in cookie  # staff cookies end with the browser


# --- the guessing limit -------------------------------------------------------------------------

def test_after_five_failures_the_account_is_locked_even_for_the_right_password(client, shop):
    email = shop["user"]["email"]
    with time_machine.travel(clock.parse("2026-03-02T09:00:00+00:00"), tick=False):
        for _ in range(merchant_users.SIGN_IN_LIMIT_PER_ACCOUNT):
            assert sign_in(client, email, "guess").status_code == 422
        response = sign_in(client, email)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 15 * 60
    # 09:15 UTC is 10:15 in Stockholm in March.
    assert "Try again at 10:15 (in 15 minutes)" in text(response)
    assert f'value="{email}"' in text(response)


def test_the_lock_lifts_when_the_failures_leave_the_window(client, shop):
    email = shop["user"]["email"]
    start = clock.parse("2026-03-02T09:00:00+00:00")
    with time_machine.travel(start, tick=False):
        for _ in range(merchant_users.SIGN_IN_LIMIT_PER_ACCOUNT):
            sign_in(client, email, "guess")
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert sign_in(client, email).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert sign_in(client, email).status_code == 302


def test_a_success_clears_the_account_failures(db, shop):
    email = shop["user"]["email"]
    for _ in range(merchant_users.SIGN_IN_LIMIT_PER_ACCOUNT - 1):
        with pytest.raises(Unauthorized):
            merchant_users.sign_in(db, email, "guess", "10.0.0.1")
    merchant_users.sign_in(db, email, STAFF_PASSWORD, "10.0.0.1")
    for _ in range(merchant_users.SIGN_IN_LIMIT_PER_ACCOUNT - 1):
        with pytest.raises(Unauthorized):
            merchant_users.sign_in(db, email, "guess", "10.0.0.1")
    assert merchant_users.sign_in(db, email, STAFF_PASSWORD, "10.0.0.1").email == email


def test_one_address_trying_many_accounts_is_limited(db, shop):
    for i in range(merchant_users.SIGN_IN_LIMIT_PER_CLIENT):
        with pytest.raises(Unauthorized):
            merchant_users.sign_in(db, f"guess{i}@shop.se", "guess", "10.0.0.9")
    with pytest.raises(merchant_users.RateLimited):
        merchant_users.sign_in(db, shop["user"]["email"], STAFF_PASSWORD, "10.0.0.9")
    # Another address is not affected.
    assert merchant_users.sign_in(db, shop["user"]["email"], STAFF_PASSWORD, "10.0.0.10")


def test_the_limit_holds_across_two_app_instances_on_one_database(app, shop):
    """Two server processes (here: two apps, each with its own connections) share it."""
    other = create_app({**{k: app.config[k] for k in ("DATABASE", "SECRET_KEY")},
                        "TESTING": True, "WTF_CSRF_ENABLED": False})
    first, second = app.test_client(), other.test_client()
    email = shop["user"]["email"]
    for attempt in range(merchant_users.SIGN_IN_LIMIT_PER_ACCOUNT):
        assert sign_in(first if attempt % 2 else second, email, "guess").status_code == 422
    assert sign_in(first, email).status_code == 429
    assert sign_in(second, email).status_code == 429


def test_create_merchant_user_refuses_an_unknown_merchant_and_a_taken_email(db, shop):
    with pytest.raises(merchant_users.NotFound):
        merchant_users.create_merchant_user(db, "no-such-shop", "a@b.se", password="x" * 12)
    with pytest.raises(merchant_users.Conflict):
        merchant_users.create_merchant_user(db, "test-shop", shop["user"]["email"],
                                            password="x" * 12)


def test_session_is_not_touched_by_a_failed_sign_in(client, shop):
    with client.session_transaction() as before:
        before["order_ids"] = [7]
    sign_in(client, shop["user"]["email"], "wrong")
    with client.session_transaction() as after:
        assert after["order_ids"] == [7] and "_user_id" not in after
