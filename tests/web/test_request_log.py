"""One JSON log line per request, and its request id: taken from X-Request-ID when safe (else
made), echoed, written on the outbox rows the request causes, sent to the provider on the calls
made for it (by the request itself or later by the worker), and in the worker's log lines."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
import requests

from returns_app.domain import masking, request_ids
from returns_app.provider.client import ProviderClient
from returns_app.services import links
from returns_app.store import outbox
from returns_app.store.db import write_transaction
from returns_app.web.json_logs import JsonFormatter
from returns_app.worker import rounds as worker
from tests.api.test_api_customer import token_for
from tests.api.test_api_money import JEANS, paid_by_hand
from tests.api_helpers import bearer
from tests.builders import make_merchant, make_order, make_return
from tests.domain.test_payout_details import SEB, SEB_ACCOUNT
from tests.rows import by_id, rows_where

MADE_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines():
    """`json_lines(logger_name)`: the lines that logger writes from now on, through the handler
    and formatter the app's processes use (gunicorn_conf.py, worker.py), parsed."""
    attached = []

    def capture(name: str):
        out = io.StringIO()
        handler = logging.StreamHandler(out)
        handler.setFormatter(JsonFormatter())
        logger = logging.getLogger(name)
        attached.append((logger, handler, logger.level))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        return lambda: [json.loads(line) for line in out.getvalue().splitlines()]

    yield capture
    for logger, handler, level in attached:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def shop(db):
    merchant, key = make_merchant(db)
    return {**merchant, "key": key}


@pytest.fixture
def order(db, shop):
    return make_order(db, shop["id"], merchant_reference="A-1")


@pytest.fixture
def provider_calls(app, sandbox):
    """Every HTTP request the app's provider client sends to the real sandbox, as sent."""
    sent: list[requests.PreparedRequest] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: sent.append(response.request))
    app.config["PROVIDER_URL"] = sandbox.url
    app.extensions["provider_client"] = ProviderClient(sandbox.url, session=session)
    yield sent
    app.extensions.pop("provider_client", None)


# --- the log line -------------------------------------------------------------------------------

def test_each_request_writes_one_json_line_with_its_fields(client, json_lines):
    lines = json_lines("returns_app.access")
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.9:1"},
                          environ_base={"REMOTE_ADDR": "198.51.100.23"})
    (line,) = lines()
    assert line["method"] == "GET"
    assert (line["route"], line["endpoint"]) == ("/healthz", "operations.healthz")
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == "lb-7f3a.9:1" == response.headers["X-Request-ID"]
    assert line["client"] == "198.51.100.23"
    assert line["level"] == "INFO" and line["logger"] == "returns_app.access"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])


def test_refused_and_unknown_requests_are_logged_too(app, client, json_lines):
    app.config["WTF_CSRF_ENABLED"] = True
    lines = json_lines("returns_app.access")
    client.get("/no/such/page")
    client.get("/support/")  # not signed in: redirected to the sign-in page
    client.delete("/")
    client.post("/signin", data={"email": "a@b.se"})  # no CSRF token: refused before the view
    assert [(line["route"], line["status"]) for line in lines()] == [
        (None, 404), ("/support/", 302), (None, 405), ("/signin", 400)]
    assert all(MADE_ID.fullmatch(line["request_id"]) for line in lines())


def test_a_signed_links_token_never_reaches_the_log(app, client, db, json_lines):
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"])
    token = links.make_token(app.secret_key, links.ORDER, order["id"])
    lines = json_lines("returns_app.access")
    response = client.get(f"/links/order/{token}?again={token}")
    assert response.status_code == 303
    expired = client.get("/links/order/not-a-valid-token-but-secret-looking")
    assert expired.status_code in (404, 410)
    written = [json.dumps(line) for line in lines()]
    assert len(written) == 2
    assert all(token not in line and "secret-looking" not in line for line in written)
    assert json.loads(written[0])["route"] == "/links/order/<token>"


def test_log_lines_are_still_masked(json_lines):
    masking.install_log_masking()
    lines = json_lines("returns_app.worker")
    logging.getLogger("returns_app.worker").info("paying out to %s", "8327-9, 123 456 789-7")
    (line,) = lines()
    assert "123 456 789" not in line["message"] and line["message"].endswith("••••7897")


# --- the request id -----------------------------------------------------------------------------

def test_a_request_without_an_id_gets_a_new_one_each_time(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert MADE_ID.fullmatch(first) and MADE_ID.fullmatch(second) and first != second


@pytest.mark.parametrize("offered", [
    "a" * 65, "has space", "<script>alert(1)</script>", "semi;colon", "quote\"d", "ÅÄÖ-id",
    "new\\nline", "",
])
def test_an_unsafe_request_id_is_replaced(client, offered, json_lines):
    lines = json_lines("returns_app.access")
    answered = client.get("/healthz", headers={"X-Request-ID": offered}).headers["X-Request-ID"]
    assert MADE_ID.fullmatch(answered)
    assert lines()[0]["request_id"] == answered


def test_the_id_is_not_left_behind_after_the_request(client):
    client.get("/healthz", headers={"X-Request-ID": "only-for-that-request"})
    assert request_ids.current.get() is None


def test_outbox_rows_a_request_writes_carry_its_id(client, db, shop, order):
    ret = make_return(db, order, {JEANS: 1})  # outside a request: its email has no id
    paid_by_hand(db, order)
    (before,) = db.execute("SELECT max(id) FROM outbox").fetchone()
    response = client.post(
        f"/api/v1/returns/{ret['id']}/registration",
        json={"items": [{"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]},
        headers={**bearer(shop["key"]), "Idempotency-Key": "reg-1",
                 "X-Request-ID": "merchant-sync-41"})
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = db.execute("SELECT id > ?, request_id FROM outbox", [before]).fetchall()
    assert {rid for new, rid in rows if new} == {"merchant-sync-41"}
    assert {rid for new, rid in rows if not new} == {None}


def test_rows_written_outside_a_request_have_no_id(db):
    with write_transaction(db):
        row_id = outbox.enqueue(db, "email", 1)
    assert by_id(db, "outbox", row_id)["request_id"] is None


def test_a_request_that_calls_the_provider_sends_its_id(client, order, provider_calls):
    token = token_for(client, order)
    response = client.post(f"/api/v1/orders/{order['id']}/payments",
                           json={"amount": 50000, "method": "card"},
                           headers={**bearer(token), "Idempotency-Key": "pay-1",
                                    "X-Request-ID": "app-checkout-1"})
    assert response.status_code == 201, response.get_data(as_text=True)
    (call,) = provider_calls
    assert call.path_url == "/v1/checkout-sessions"
    assert call.headers["X-Request-ID"] == "app-checkout-1"


def test_the_id_goes_from_the_request_through_the_outbox_to_the_provider_and_worker_log(
        app, client, db, shop, order, provider_calls, json_lines):
    paid_by_hand(db, order)
    ret = make_return(db, order, {JEANS: 1})
    registered = client.post(
        f"/api/v1/returns/{ret['id']}/registration",
        json={"items": [{"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]},
        headers={**bearer(shop["key"]), "Idempotency-Key": "reg-1"})
    assert registered.status_code == 200, registered.get_data(as_text=True)
    (refund,) = rows_where(db, "refund", "order_id = ?", [order["id"]])
    # The customer gives an account to pay the refund to: that request starts the payout.
    details = client.post(f"/api/v1/refunds/{refund['id']}/payout-details",
                          json={"clearing_number": SEB, "account_number": SEB_ACCOUNT},
                          headers={**bearer(token_for(client, order)),
                                   "X-Request-ID": "app-7c1e.details"})
    assert details.status_code == 200, details.get_data(as_text=True)
    (payout_row,) = rows_where(db, "outbox", "kind = 'payout' AND subject_id = ?", [refund["id"]])
    assert payout_row["request_id"] == "app-7c1e.details"

    worker_log = json_lines("returns_app.worker")
    assert worker.deliver_outbox(app, "test-worker", kinds=("payout",)) == {"succeeded": 1}
    assert [call.path_url for call in provider_calls] == ["/v1/payouts"]
    assert provider_calls[0].headers["X-Request-ID"] == "app-7c1e.details"
    lines = worker_log()
    assert any(f"outbox payout {payout_row['id']}" in line["message"] for line in lines)
    for line in lines:
        assert line["request_id"] == "app-7c1e.details", line
        assert line["level"] == "INFO" and line["time"].endswith("Z")
    assert request_ids.current.get() is None


def test_a_delivery_of_a_row_no_request_wrote_sends_no_id(app, db, order, provider_calls):
    paid_by_hand(db, order)
    with write_transaction(db):
        db.execute("INSERT INTO refund (order_id, amount_minor, status, destination_kind,"
                   " destination_json, reason, created_at, status_changed_at)"
                   " VALUES (?, 100, 'ready', 'bank_account', ?, 'goodwill', ?, ?)",
                   [order["id"], json.dumps({"type": "bank_account", "clearing_number": SEB,
                                             "account_number": SEB_ACCOUNT}),
                    "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"])
        refund_id = db.execute("SELECT max(id) FROM refund").fetchone()[0]
        outbox.enqueue(db, "payout", refund_id)
    assert worker.deliver_outbox(app, "test-worker", kinds=("payout",)) == {"succeeded": 1}
    assert provider_calls and all("X-Request-ID" not in call.headers for call in provider_calls)
