"""Who gets into the support console and its API: signing in, the 15-minute idle timeout, API
tokens, and the permission matrix of every /support route and the API endpoint × every role."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from returns_app.bankfiles import sandbox
from returns_app.services import bank_payments, customers, support, support_actions
from returns_app.store.db import insert
from tests.api_helpers import assert_error, bearer
from tests.builders import make_merchant, make_order
from tests.rows import by_id
from tests.support_helpers import (
    PASSWORD,
    make_merchant_user,
    make_support_user,
    pass_code_step,
    refund_needing_details,
    sign_in_as,
)

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def sign_in(client, email="agent@example.se", password=PASSWORD, next_=None):
    url = "/support/signin" + (f"?next={next_}" if next_ else "")
    return pass_code_step(client, client.post(url, data={"email": email, "password": password}))


# --- signing in -----------------------------------------------------------------------------------

def test_sign_in_opens_the_queue_in_a_new_session(client, db):
    make_support_user(db)
    with client.session_transaction() as session:
        session["order_ids"] = [1]  # left over from customer browsing in this browser
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/support/"
    with client.session_transaction() as session:
        assert "order_ids" not in session and session["_user_id"].startswith("support_user:")
    assert client.get("/support/").status_code == 200


def test_sign_in_goes_back_to_the_page_asked_for_but_never_elsewhere(client, db):
    make_support_user(db)
    assert sign_in(client, next_="/support/dashboard").headers["Location"] == "/support/dashboard"
    sign_in_as(client, None)
    assert sign_in(client, next_="//evil.example/support/").headers["Location"] == "/support/"


def test_a_wrong_password_keeps_the_email_and_says_so(client, db):
    make_support_user(db)
    response = sign_in(client, password="wrong")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert support.SIGN_IN_FAILED.replace("'", "&#39;") in page
    assert 'value="agent@example.se"' in page


def test_repeated_guessing_is_refused_even_with_the_right_password(client, db):
    make_support_user(db)
    for _ in range(support.SIGN_IN_LIMIT_PER_EMAIL):
        assert sign_in(client, password="guess").status_code == 422
    response = sign_in(client)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_sign_out_ends_the_session(client, db):
    make_support_user(db)
    sign_in(client)
    assert client.post("/support/signout").status_code == 302
    assert client.get("/support/").headers["Location"].startswith("/support/signin")


@pytest.mark.parametrize("idle, still_in", [
    (timedelta(minutes=15) - timedelta(seconds=1), True), (timedelta(minutes=15), True),
    (timedelta(minutes=15, seconds=1), False)])
def test_the_session_ends_after_15_idle_minutes(client, db, idle, still_in):
    make_support_user(db)
    with time_machine.travel(T0, tick=False) as traveller:
        sign_in(client)
        traveller.move_to(T0 + timedelta(minutes=10))
        assert client.get("/support/").status_code == 200  # activity restarts the clock
        traveller.move_to(T0 + timedelta(minutes=10) + idle)
        response = client.get("/support/dashboard")
        if still_in:
            assert response.status_code == 200
        else:
            assert response.headers["Location"].startswith("/support/signin")
            page = client.get("/support/signin").get_data(as_text=True)
            assert "signed out after 15 minutes without activity" in page
            traveller.move_to(T0 + timedelta(minutes=26))
            assert client.get("/support/").status_code == 302  # really signed out


# --- API tokens -----------------------------------------------------------------------------------

def test_cli_creates_a_token_stored_only_as_its_hash(app, client, db):
    make_support_user(db)
    result = app.test_cli_runner().invoke(args=["create-support-token", "AGENT@example.se"])
    assert result.exit_code == 0, result.output
    token = re.search(r"(st_\S+)", result.output)[1]
    stored = [r[0] for r in db.execute("SELECT token_hash FROM support_token")]
    assert stored and token not in stored
    response = client.get("/api/v1/support/stuck-refunds", headers=bearer(token))
    assert response.status_code == 200 and response.get_json() == {"stuck_refunds": []}


def test_cli_refuses_a_token_for_nobody(app):
    result = app.test_cli_runner().invoke(args=["create-support-token", "nobody@example.se"])
    assert result.exit_code != 0 and "no support user" in result.output


def test_a_bad_token_is_401_a_revoked_one_too(client, db):
    make_support_user(db)
    token = support.create_token(db, "agent@example.se")
    assert_error(client.get("/api/v1/support/stuck-refunds", headers=bearer("st_nope")),
                 401, "unauthorized")
    db.execute("UPDATE support_token SET revoked_at = '2025-01-01T00:00:00+00:00'")
    assert_error(client.get("/api/v1/support/stuck-refunds", headers=bearer(token)),
                 401, "unauthorized")


# --- the permission matrix ------------------------------------------------------------------------

def _unmatched_payment(db) -> int:
    data = sandbox.notification("991-2346", [sandbox.Credit(100, "1234")], date(2026, 11, 2),
                                datetime(2026, 11, 2, 6), "ACCESS")
    bank_payments.import_file(db, data, "application/xml", "991-2346", "test")
    return bank_payments.unmatched(db)[0]["id"]


@pytest.fixture
def world(app, db):
    """One of everything a support route can name, and a credential for every role."""
    merchant, merchant_key = make_merchant(db)
    refund = refund_needing_details(db, merchant["id"])
    agent = make_support_user(db)
    other_agent = make_support_user(db, "second@example.se")
    big = insert(db, "support_approval", {
        "refund_id": refund["id"], "action": "mark_paid_outside", "amount_minor": 600_000,
        "reference": "BG 1", "why": "test", "requested_by": other_agent,
        "requested_at": "2025-03-03T12:00:00+00:00"})
    order = by_id(db, "orders", refund["order_id"])
    customer_token = customers.create_api_session(db, order["order_number"],
                                                  "kund@example.se", "test")
    return {
        "ids": {"refund_id": refund["id"], "order_id": refund["order_id"],
                "return_id": refund["return_id"], "approval_id": big,
                "bank_payment_id": _unmatched_payment(db)},
        "principals": {"anonymous": None, "customer": f"customer:{order['customer_id']}",
                       "merchant": f"merchant_user:{make_merchant_user(db, merchant['id'])}",
                       "support": f"support_user:{agent}"},
        "tokens": {"anonymous": None, "customer": customer_token, "merchant": merchant_key,
                   "support": support.create_token(db, "agent@example.se")},
    }


def support_routes(app) -> list[tuple[str, str]]:
    """(method, rule) of every console route, from the app's own URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/support"):
            found += [(method, rule.rule) for method in sorted(rule.methods & {"GET", "POST"})]
    return found


def test_the_matrix_covers_every_console_route(app):
    routes = support_routes(app)
    assert len(routes) >= 17
    for _method, rule in routes:
        rule = rule.replace("/reset/<token>", "/reset/")
        assert re.sub(r"<id:(\w+)>", "", rule).count("<") == 0, f"unknown converter in {rule}"


# Open to everyone: the steps of signing in and of a forgotten password (checked in
# tests/services/test_staff_credentials.py). Reached by a signed-in agent only when it has a
# step left.
OPEN_TO_ALL = {"/support/signin/code": (302,), "/support/password/forgot": (200, 422),
               "/support/password/reset/<token>": (404,)}
ONLY_WHEN_A_STEP_IS_LEFT = ("/support/password/new", "/support/security/second-factor")


ROLES = ("anonymous", "customer", "merchant", "support")


@pytest.mark.parametrize("role", ROLES)
def test_every_console_route_for_every_role(app, client, world, role):
    sign_in_as(client, world["principals"][role])
    checked = 0
    for method, rule in support_routes(app):
        url = re.sub(r"<id:(\w+)>", lambda m: str(world["ids"][m[1]]), rule)
        url = url.replace("<token>", "not-a-token")
        response = client.open(url, method=method, data={})
        where = f"{role} {method} {url}: {response.status_code}"
        location = response.headers.get("Location", "")
        if rule == "/support/signin":
            assert response.status_code in (200, 422), where  # the way in is open to all
        elif rule in OPEN_TO_ALL:
            assert response.status_code in OPEN_TO_ALL[rule], where
        elif role == "support" and method == "GET" and rule in ONLY_WHEN_A_STEP_IS_LEFT:
            assert response.status_code == 302, where  # nothing left to do: on to the console
        elif role == "anonymous":
            assert response.status_code == 302, where
            assert location.startswith("/support/signin"), where
        elif role in ("customer", "merchant"):
            assert response.status_code == 403, where
        elif method == "GET":
            assert response.status_code == 200, where
        elif rule in ("/support/signout", "/support/signout/everywhere"):
            assert response.status_code == 302 and location == "/support/signin", where
        else:  # support: the action ran, or re-rendered asking for its "why"
            assert response.status_code in (302, 303, 422), where
            assert not location.startswith("/support/signin"), where
        checked += 1
        sign_in_as(client, world["principals"][role])  # sign out logs out: put it back
    assert checked == len(support_routes(app))


@pytest.mark.parametrize("role, status", [
    ("anonymous", 401), ("customer", 403), ("merchant", 403), ("support", 200)])
def test_the_stuck_refunds_api_for_every_role(client, world, role, status):
    token = world["tokens"][role]
    response = client.get("/api/v1/support/stuck-refunds",
                          headers=bearer(token) if token else {})
    if status == 200:
        assert response.status_code == 200 and "stuck_refunds" in response.get_json()
    else:
        assert_error(response, status, {401: "unauthorized", 403: "forbidden"}[status])


@pytest.mark.parametrize("role, status", [
    ("anonymous", 401), ("customer", 403), ("merchant", 403), ("support", 200)])
def test_the_api_with_a_console_session_instead_of_a_token(client, world, role, status):
    sign_in_as(client, world["principals"][role])
    assert client.get("/api/v1/support/stuck-refunds").status_code == status


def test_the_second_agent_sees_the_approval_and_the_first_cannot_approve(client, db, world):
    sign_in_as(client, world["principals"]["support"])
    approval_id = world["ids"]["approval_id"]
    response = client.post(f"/support/approvals/{approval_id}",
                           data={"approval-why": "Seen the transfer", "approval-approve": "y"})
    assert response.status_code == 303
    assert by_id(db, "refund", world["ids"]["refund_id"])["status"] == "succeeded"
    # and the one who asked can't decide their own
    refund2 = refund_needing_details(db, by_id(db, "orders", world["ids"]["order_id"])[
        "merchant_id"])
    agent_id = int(world["principals"]["support"].split(":")[1])
    db.execute("UPDATE refund SET amount_minor = 600000 WHERE id = ?", [refund2["id"]])
    request = support_actions.mark_paid_outside(db, refund2["id"], "BG 2", agent_id, "x")
    response = client.post(f"/support/approvals/{request['approval_id']}",
                           data={"approval-why": "Mine", "approval-approve": "y"},
                           follow_redirects=True)
    assert "A second support user must decide" in response.get_data(as_text=True)
    assert by_id(db, "refund", refund2["id"])["status"] == "needs_details"


def test_another_role_signed_in_sees_403_not_the_console(client, db):
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"])
    sign_in_as(client, f"customer:{order['customer_id']}")
    response = client.get("/support/")
    assert response.status_code == 403
    assert "Stuck refunds" not in response.get_data(as_text=True)
