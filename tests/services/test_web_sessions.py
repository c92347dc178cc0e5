"""Signed-in sessions kept on the server (issue 16, item 2): a copy of the cookie stops working
when its session ends (sign-out, sign out everywhere, a disabled account, a password reset),
idle and absolute limits per role, and a new session on every sign-in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from flask import g, has_app_context

from returns_app.domain import clock
from returns_app.domain.passwords import hash_password
from returns_app.services import web_sessions
from tests.builders import make_order
from tests.merchant_fixtures import STAFF_PASSWORD
from tests.support_helpers import PASSWORD as AGENT_PASSWORD
from tests.support_helpers import make_support_user, pass_code_step

T0 = clock.parse("2026-03-02T09:00:00+00:00")
CUSTOMER = "kund@example.se"
CUSTOMER_PASSWORD = "kund-password"  # noqa: S105 (test data)
# Where each role lands signed in (200), and its sign-in and sign-out.
ROLES = {
    "customer": {"page": "/orders", "signin": "/signin", "signout": "/signout"},
    "merchant": {"page": "/merchant/returns", "signin": "/merchant/signin",
                 "signout": "/merchant/signout"},
    "support": {"page": "/support/", "signin": "/support/signin", "signout": "/support/signout"},
}


@pytest.fixture
def people(db, shop):
    """One account of each role, each with a password."""
    order = make_order(db, shop["merchant"]["id"])
    db.execute("UPDATE customer SET password_hash = ? WHERE id = ?",
               [hash_password(CUSTOMER_PASSWORD), order["customer_id"]])
    make_support_user(db)
    return {"customer": (CUSTOMER, CUSTOMER_PASSWORD, order),
            "merchant": (shop["user"]["email"], STAFF_PASSWORD, shop),
            "support": ("agent@example.se", AGENT_PASSWORD, None)}


def sign_in(client, people, role: str, **extra):
    email, password, _ = people[role]
    response = pass_code_step(client, client.post(ROLES[role]["signin"], data={
        "email": email, "password": password, **extra}))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def signed_in(client, role: str) -> bool:
    # pytest-flask keeps one app context for the whole test, where Flask-Login caches the user
    # it loaded (shared by every client): a real request starts without it.
    if has_app_context():
        g.pop("_login_user", None)
    return client.get(ROLES[role]["page"]).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_a_copied_cookie_stops_working_when_its_owner_signs_out(app, client, people, role):
    sign_in(client, people, role)
    thief = copy_of(app, client)
    assert signed_in(thief, role)
    client.post(ROLES[role]["signout"])
    assert not signed_in(client, role)
    assert not signed_in(thief, role)


@pytest.mark.parametrize("role", ROLES)
def test_sign_out_everywhere_ends_every_session_of_the_account(app, people, role):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, people, role)
    sign_in(phone, people, role)
    page = phone.get(ROLES[role]["page"]).get_data(as_text=True)
    assert ROLES[role]["signout"] + "/everywhere" in page  # the button is on the page
    response = phone.post(ROLES[role]["signout"] + "/everywhere")
    assert response.status_code == 302
    assert not signed_in(phone, role)
    assert not signed_in(laptop, role)


@pytest.mark.parametrize("role", ["merchant", "support"])
def test_disabling_a_user_ends_their_sessions_even_if_enabled_again(app, client, people, role):
    sign_in(client, people, role)
    email = people[role][0]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["disable-user", role, email]).exit_code == 0
    assert runner.invoke(args=["enable-user", role, email]).exit_code == 0
    assert not signed_in(client, role)
    sign_in(client, people, role)  # enabled again: a new sign-in works
    assert signed_in(client, role)


def test_a_password_reset_ends_the_accounts_sessions(app, client, people):
    sign_in(client, people, "merchant")
    result = app.test_cli_runner().invoke(args=["reset-password", "merchant",
                                                people["merchant"][0]])
    assert result.exit_code == 0, result.output
    assert not signed_in(client, "merchant")


def test_end_all_for_can_keep_the_session_a_password_was_changed_in(app, db, people):
    kept, other = app.test_client(), app.test_client()
    sign_in(kept, people, "merchant")
    sign_in(other, people, "merchant")
    user_id = people["merchant"][2]["user"]["id"]
    rows = db.execute("SELECT id FROM web_session WHERE principal_id = ? ORDER BY id",
                      [user_id]).fetchall()
    assert web_sessions.end_all_for(db, "merchant_user", user_id, except_id=rows[0][0]) == 1
    assert signed_in(kept, "merchant") and not signed_in(other, "merchant")


def test_a_signed_cookie_without_a_live_session_row_is_nobodys(app, client, people):
    """A cookie as today's main makes it (Flask-Login's keys only), signed with our key."""
    user_id = people["merchant"][2]["user"]["id"]
    with client.session_transaction() as session:
        session["_user_id"] = f"merchant_user:{user_id}"
        session["_fresh"] = True
        session["order_ids"] = [people["customer"][2]["id"]]
    assert not signed_in(client, "merchant")
    with client.session_transaction() as session:
        assert dict(session) == {}  # forgotten whole, its remembered orders too


def test_the_row_keeps_only_a_hash_of_the_cookies_token(client, db, people):
    sign_in(client, people, "support")
    with client.session_transaction() as session:
        token = session["sid"]
    stored = db.execute("SELECT token_hash, principal_kind FROM web_session").fetchall()
    assert len(stored) == 1 and stored[0][1] == "support_user"
    assert token not in stored[0][0] and len(token) >= 40


# --- limits ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, idle", [
    ("customer", timedelta(minutes=30)), ("merchant", timedelta(minutes=60)),
    ("support", timedelta(minutes=15))])
def test_each_role_is_signed_out_after_its_idle_limit(app, client, people, role, idle):
    with time_machine.travel(T0, tick=False) as traveller:
        sign_in(client, people, role)
        traveller.move_to(T0 + idle)
        assert signed_in(client, role)  # exactly the limit: still in, and activity counts
        traveller.move_to(T0 + idle + idle)
        assert signed_in(client, role)
        traveller.move_to(T0 + 2 * idle + idle + timedelta(seconds=1))
        thief = copy_of(app, client)
        response = client.get(ROLES[role]["page"])
        assert response.status_code == 302
        minutes = int(idle.total_seconds() // 60)
        followed = client.get(response.headers["Location"], follow_redirects=True)
        assert f"signed out after {minutes} minutes without activity" in \
            followed.get_data(as_text=True)
        assert not signed_in(thief, role)


@pytest.mark.parametrize("role", ["merchant", "support"])
def test_staff_sessions_end_after_12_hours_however_busy(client, people, role):
    with time_machine.travel(T0, tick=False) as traveller:
        sign_in(client, people, role)
        for minutes in range(10, 12 * 60, 10):
            traveller.move_to(T0 + timedelta(minutes=minutes))
            assert signed_in(client, role)
        traveller.move_to(T0 + timedelta(hours=12))
        assert not signed_in(client, role)


def test_a_customer_is_signed_out_when_the_browser_closes_unless_they_stay_signed_in(
        client, people):
    plain = sign_in(client, people, "customer").headers["Set-Cookie"]
    assert "Expires" not in plain  # a browser-session cookie
    stay = sign_in(client, people, "customer", stay_signed_in="y").headers["Set-Cookie"]
    expires = re.search(r"Expires=([^;]+)", stay)[1]
    assert str((clock.now() + timedelta(days=30)).year) in expires


def test_staying_signed_in_lasts_30_days_with_no_idle_limit_and_not_a_day_more(client, people):
    with time_machine.travel(T0, tick=False) as traveller:
        sign_in(client, people, "customer", stay_signed_in="y")
        traveller.move_to(T0 + timedelta(days=29, hours=23))
        assert signed_in(client, "customer")  # a month of silence is fine: they asked
        traveller.move_to(T0 + timedelta(days=30))
        assert not signed_in(client, "customer")


def test_without_staying_signed_in_a_customer_session_lasts_at_most_12_hours(client, people):
    with time_machine.travel(T0, tick=False) as traveller:
        sign_in(client, people, "customer")
        for minutes in range(20, 12 * 60, 20):
            traveller.move_to(T0 + timedelta(minutes=minutes))
            assert signed_in(client, "customer")
        traveller.move_to(T0 + timedelta(hours=12))
        assert not signed_in(client, "customer")


# --- a new session on every sign-in ---------------------------------------------------------------

def test_signing_in_drops_orders_looked_up_before_and_starts_a_new_csrf_token(
        client, db, people):
    someone_elses = make_order(db, people["merchant"][2]["merchant"]["id"],
                               customer={"email": "annan@example.se", "name": "Anna Annan"})
    found = client.post("/", data={"order_number": someone_elses["order_number"],
                                   "email": "annan@example.se"})
    assert found.status_code == 302
    client.get("/")  # a form: the session gets its CSRF token
    with client.session_transaction() as session:
        before = dict(session)
    assert before["order_ids"] == [someone_elses["id"]] and "csrf_token" in before
    sign_in(client, people, "customer")
    client.get("/")
    with client.session_transaction() as session:
        after = dict(session)
    assert "order_ids" not in after
    assert after["csrf_token"] != before["csrf_token"]
    assert client.get(f"/orders/{someone_elses['id']}").status_code == 404
    assert "Anna Annan" not in client.get("/orders").get_data(as_text=True)


def test_signing_in_again_ends_the_session_before(app, client, people):
    sign_in(client, people, "merchant")
    before = copy_of(app, client)
    sign_in(client, people, "merchant")
    assert signed_in(client, "merchant") and not signed_in(before, "merchant")


def test_sign_out_keeps_the_language_read(client, people):
    sign_in(client, people, "customer")
    client.post("/language", data={"language": "en", "next": "/"})
    client.post("/signout")
    with client.session_transaction() as session:
        assert dict(session).get("language") == "en" and "sid" not in session


# --- kept pages -------------------------------------------------------------------------------

def test_kept_pages_neither_key_on_nor_hold_the_session(app, monkeypatch, people):
    """Two sessions of one customer share one kept order page (the key has "signed in", not
    which session), and the shelf file holds no session's token."""
    from pathlib import Path

    from tests.web.test_page_cache import counted_renders

    app.config["PAGE_CACHE_VERIFY"] = False
    renders = counted_renders(monkeypatch)
    order = people["customer"][2]
    laptop, phone = app.test_client(), app.test_client()
    tokens = []
    for client in (laptop, phone):
        sign_in(client, people, "customer")
        with client.session_transaction() as session:
            tokens.append(session["sid"])
        page = client.get(f"/orders/{order['id']}").get_data(as_text=True)
        assert order["order_number"] in page and tokens[-1] not in page
    assert len(renders) == 1 and tokens[0] != tokens[1]
    shelf = b"".join(path.read_bytes() for suffix in ("", "-wal")
                     if (path := Path(app.config["PAGE_CACHE_PATH"] + suffix)).exists())
    assert order["order_number"].encode() in shelf  # the page is there
    assert all(token.encode() not in shelf for token in tokens)
    laptop.post("/signout")
    assert laptop.get(f"/orders/{order['id']}").status_code == 404  # kept, yet not served
