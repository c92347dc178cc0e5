"""The worker delivers webhooks to a real HTTP receiver on loopback: 2xx delivered; an error
status, a hang, a redirect or a refused connection recorded and retried with backoff; given up
after MAX_ATTEMPTS; every attempt recorded; no request made while holding the database."""

from __future__ import annotations

import json
import logging
import socket
from datetime import timedelta

import pytest
import time_machine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from returns_app.domain import clock
from returns_app.notifications import rendering
from returns_app.notifications.queue import get_notification
from returns_app.services import webhook_settings
from returns_app.store.db import connect, is_postgres, select, write_transaction
from returns_app.webhooks import health, signing
from returns_app.webhooks.delivery import RETRY_SCHEDULE, URL_REMOVED, post
from returns_app.worker import rounds as worker
from tests.builders import make_merchant, make_order, make_return
from tests.sandbox_fixtures import free_port
from tests.webhook_support import (
    Receiver,
    hang,
    make_merchant_user,
    redirect,
    set_webhook,
    status,
)

READ_TIMEOUT = 0.5


@pytest.fixture
def app(app):
    app.config["WEBHOOK_TIMEOUT"] = (1.0, READ_TIMEOUT)
    return app


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def shop(db, receiver):
    merchant, _ = make_merchant(db, "Hooked Shop")
    merchant["secret"] = set_webhook(db, merchant["id"], receiver.url + "/hooks")
    return merchant


def run_worker(app, _when=None) -> dict[str, int]:
    if _when is None:
        return worker.deliver_outbox(app, "test-worker", kinds=("webhook",))
    with time_machine.travel(_when, tick=False):
        return worker.deliver_outbox(app, "test-worker", kinds=("webhook",))


def later(hours: float = 2):
    """Past any backoff (at most an hour)."""
    return time_machine.travel(clock.now() + timedelta(hours=hours), tick=True)


def attempts(db) -> list[dict]:
    return list(select(db, "SELECT * FROM webhook_delivery ORDER BY outbox_id, attempt"))


def the_outbox_row(db) -> dict:
    [row] = select(db, "SELECT * FROM outbox WHERE kind = 'webhook'")
    return row


def receiver_accepts(secret: str, received, now: int) -> bool:
    """What a merchant's server does: the official Standard Webhooks library verifies, its
    clock at `now` (Unix seconds)."""
    try:
        with time_machine.travel(now, tick=False):
            Webhook(secret).verify(received.body, received.headers, json_parse=False)
    except WebhookVerificationError:
        return False
    return True


def test_a_2xx_answer_is_delivered_signed_and_recorded(app, db, shop, receiver):
    ret = make_return(db, make_order(db, shop["id"]))
    assert run_worker(app) == {"delivered": 1}
    [received] = receiver.received
    assert received.path == "/hooks"
    assert received.headers["Content-Type"] == "application/json"
    assert receiver_accepts(shop["secret"], received, int(clock.now().timestamp()))
    body = json.loads(received.body)
    assert body["type"] == "return.reported" and body["data"]["id"] == ret["id"]
    assert received.headers["Webhook-Id"] == body["id"]
    assert body == json.loads(the_outbox_row(db)["payload"])
    [attempt] = attempts(db)
    assert (attempt["attempt"], attempt["http_status"], attempt["error"]) == (1, 200, None)
    assert attempt["url"] == receiver.url + "/hooks"
    assert attempt["response_excerpt"] == "ok" and attempt["duration_ms"] >= 0
    assert the_outbox_row(db)["status"] == "done"
    assert run_worker(app) == {}  # delivered once


def test_an_error_status_is_retried_with_backoff_with_the_same_id(app, db, shop, receiver):
    make_return(db, make_order(db, shop["id"]))
    receiver.answer(status(500, b"database down"))
    before = clock.now()
    assert run_worker(app) == {"retrying": 1}
    row = the_outbox_row(db)
    assert row["status"] == "pending" and row["last_error"] == "HTTP 500"
    # The schedule's first wait, 5 s, plus up to 10 % jitter (stored to the second).
    wait = clock.parse(row["available_at"]) - before
    assert timedelta(seconds=4) <= wait <= timedelta(seconds=6)
    assert run_worker(app) == {}  # not before its time
    with later():
        assert run_worker(app) == {"delivered": 1}
        now = int(clock.now().timestamp())
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["Webhook-Id"] == second.headers["Webhook-Id"]
    assert receiver_accepts(shop["secret"], second, now)
    assert [(a["attempt"], a["http_status"], a["response_excerpt"]) for a in attempts(db)] == [
        (1, 500, "database down"), (2, 200, "ok")]


def test_a_receiver_that_does_not_answer_times_out_and_is_retried(app, db, shop, receiver):
    make_return(db, make_order(db, shop["id"]))
    receiver.answer(hang(READ_TIMEOUT * 6))
    assert run_worker(app) == {"retrying": 1}
    [attempt] = attempts(db)
    assert attempt["http_status"] is None
    assert attempt["error"] == f"No answer within 1 s to connect, {READ_TIMEOUT:g} s to respond."
    assert attempt["duration_ms"] < READ_TIMEOUT * 6 * 1000  # gave up instead of waiting
    assert the_outbox_row(db)["last_error"] == attempt["error"]


def test_a_redirect_is_not_followed(app, db, shop, receiver):
    make_return(db, make_order(db, shop["id"]))
    receiver.answer(redirect(receiver.url + "/elsewhere"))
    assert run_worker(app) == {"retrying": 1}
    assert [r.path for r in receiver.received] == ["/hooks"]
    [attempt] = attempts(db)
    assert (attempt["http_status"], attempt["error"]) == (302, None)
    assert the_outbox_row(db)["last_error"] == "HTTP 302"


def test_a_refused_connection_is_recorded_and_retried(app, db):
    merchant, _ = make_merchant(db, "Offline Shop")
    set_webhook(db, merchant["id"], f"http://127.0.0.1:{free_port()}/hooks")
    make_return(db, make_order(db, merchant["id"]))
    assert run_worker(app) == {"retrying": 1}
    [attempt] = attempts(db)
    assert attempt["http_status"] is None and attempt["error"].startswith("ConnectionError")


def test_the_retry_schedule_is_about_a_day_like_the_established_providers():
    assert RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert timedelta(seconds=sum(RETRY_SCHEDULE)) == timedelta(hours=27, minutes=35, seconds=5)


def test_after_the_whole_schedule_the_endpoint_is_failing_and_the_merchant_emailed(
        app, db, shop, receiver):
    make_merchant_user(db, shop["id"], "dev@hooked.example", language="sv")
    make_return(db, make_order(db, shop["id"]))
    tries = len(RETRY_SCHEDULE) + 1
    receiver.answer(*[status(503, b"busy")] * tries)
    outcomes, at = list(run_worker(app)), clock.now()
    for wait in RETRY_SCHEDULE:
        assert run_worker(app, at + timedelta(seconds=wait - 2)) == {}  # not before its time
        at += timedelta(seconds=wait * 1.1 + 2)
        with time_machine.travel(at, tick=True):
            outcomes.extend(run_worker(app))
    assert outcomes == ["retrying"] * (tries - 1) + ["failed"]
    assert the_outbox_row(db)["status"] == "failed"
    assert [a["attempt"] for a in attempts(db)] == list(range(1, tries + 1))
    [endpoint] = select(db, "SELECT * FROM webhook_endpoint")
    assert endpoint["status"] == "failing" and endpoint["failing_since"]
    [note] = select(db, "SELECT * FROM notification WHERE kind = 'webhook_failing'")
    assert (note["recipient"], note["language"]) == ("dev@hooked.example", "sv")

    [message] = select(db, "SELECT id FROM webhook_message")
    webhook_settings.redeliver(db, shop["id"], message["id"], "test")
    assert the_outbox_row(db)["status"] == "pending"
    assert run_worker(app) == {"delivered": 1}
    assert attempts(db)[-1]["attempt"] == tries + 1
    assert len({r.headers["Webhook-Id"] for r in receiver.received}) == 1
    [endpoint] = select(db, "SELECT * FROM webhook_endpoint")
    assert (endpoint["status"], endpoint["failing_since"]) == ("active", None)


def test_the_failing_email_is_swedish_and_names_the_endpoint(app, db, shop, receiver):
    user_id = make_merchant_user(db, shop["id"], "dev@hooked.example", language="sv")
    [endpoint] = select(db, "SELECT id FROM webhook_endpoint")
    with write_transaction(db):
        health.exhausted(db, endpoint["id"])
        health.exhausted(db, endpoint["id"])  # a second event given up on: no second email
    [note] = select(db, "SELECT * FROM notification WHERE kind = 'webhook_failing'")
    assert note["merchant_user_id"] == user_id
    with app.app_context():
        rendered = rendering.render(db, get_notification(db, note["id"]))
    assert rendered.subject == "Er webhook-adress har inte svarat på ett dygn"
    assert receiver.url + "/hooks" in rendered.text and "/merchant/webhooks" in rendered.text


def test_only_the_first_kilobyte_of_the_answer_is_kept(app, db, shop, receiver):
    make_return(db, make_order(db, shop["id"]))
    receiver.answer(status(200, ("å" * 600 + "x" * 5000).encode()))
    assert run_worker(app) == {"delivered": 1}
    [attempt] = attempts(db)
    assert attempt["response_excerpt"] == "å" * 512


def test_a_rotated_secret_signs_the_retries_of_earlier_events(app, db, shop, receiver):
    make_return(db, make_order(db, shop["id"]))
    receiver.answer(status(500))
    assert run_worker(app) == {"retrying": 1}
    new_secret = webhook_settings.rotate_secret(db, shop["id"], "test")
    with later():
        assert run_worker(app) == {"delivered": 1}
        now = int(clock.now().timestamp())
    retry = receiver.received[-1]
    assert receiver_accepts(new_secret, retry, now)
    assert not receiver_accepts(shop["secret"], retry, now)


def test_a_removed_url_ends_the_delivery_without_a_request(app, db, shop, receiver):
    make_return(db, make_order(db, shop["id"]))
    webhook_settings.remove_url(db, shop["id"], "test")
    assert run_worker(app) == {"failed": 1}
    assert receiver.received == [] and attempts(db) == []
    row = the_outbox_row(db)
    assert (row["status"], row["last_error"]) == ("failed", URL_REMOVED)


def test_the_database_is_free_while_the_request_is_in_flight(app, db, shop, receiver):
    """Another writer gets the write lock at once while the receiver is being called: the worker
    holds no transaction across the network call."""
    make_return(db, make_order(db, shop["id"]))
    got_lock = []

    def write_meanwhile(_received):
        other = connect(app.config["DATABASE"])
        if not is_postgres(other):  # don't wait; PostgreSQL's wait is its lock_timeout, 5 s
            other.conn.execute("PRAGMA busy_timeout=0")
        other.conn.execute("BEGIN IMMEDIATE")
        other.conn.execute("ROLLBACK")
        other.close()
        got_lock.append(True)

    receiver.on_request = write_meanwhile
    assert run_worker(app) == {"delivered": 1}
    assert got_lock == [True]


def test_outside_development_a_loopback_address_is_never_called(app, db, shop, receiver):
    make_return(db, make_order(db, shop["id"]))
    app.testing = False
    app.config["ENV_NAME"] = "production"
    assert run_worker(app) == {"retrying": 1}
    assert receiver.received == []
    [attempt] = attempts(db)
    assert "resolves to a non-public address" in attempt["error"]


def test_neither_the_secret_nor_the_url_is_logged(app, db, shop, receiver, caplog):
    make_return(db, make_order(db, shop["id"]))
    receiver.answer(status(500))
    with caplog.at_level(logging.INFO):  # what the worker process logs at
        run_worker(app)
        with later():
            run_worker(app)
    assert "evt_" in caplog.text  # the deliveries were logged ...
    assert shop["secret"] not in caplog.text  # ... without the secret
    assert receiver.url not in caplog.text  # ... or the URL


def test_a_refund_paid_out_by_the_worker_reaches_the_merchant(app, db, shop, receiver, sandbox):
    from returns_app.services import payments, refunds
    from tests.builders import decide, link_bank_account

    app.config["PROVIDER_URL"] = sandbox.url
    order = make_order(db, shop["id"])
    link_bank_account(db, order["customer_id"])
    payments.record_transfer(db, order["id"], 149700, "OCR 1", "bank")
    decide(db, shop["id"], make_return(db, order, {1: 1}), (0, 1, 0))
    [refund] = refunds.refunds_of_order(db, order["id"])
    for _ in range(3):  # the payout, then the webhooks it and the return caused
        worker.deliver_outbox(app, "test-worker", kinds=("payout", "webhook"))
    assert refunds.get_refund(db, refund["id"])["status"] == "succeeded"
    bodies = [json.loads(r.body) for r in receiver.received]
    assert [b["type"] for b in bodies] == ["return.reported", "refund.succeeded"]
    assert bodies[1]["data"] == {**refunds.as_api(refunds.get_refund(db, refund["id"]))}
    assert bodies[1]["data"]["amount"] == 79900


# --- the address checked is the address called (no second look-up: DNS rebinding) -----------

def resolver_of(answers, calls):
    """socket.getaddrinfo for the names in `answers` (name -> a list of answers, one per
    look-up, the last repeated); any other name (an address) the real one."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        calls.append(host)
        address = answers[host][min(len(calls), len(answers[host])) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
    return getaddrinfo


def test_the_request_goes_to_the_address_looked_up_with_the_name_in_host(app, receiver,
                                                                          monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo",
                        resolver_of({"hooks.shop.example": ["127.0.0.1"]}, calls))
    port = receiver.server.server_port
    attempt = post(f"http://hooks.shop.example:{port}/in", signing.new_signing_secret(),
                   "evt_1", b"{}", timeout=(1.0, READ_TIMEOUT), allow_local=True)
    assert attempt.delivered, attempt.error
    [received] = receiver.received
    assert received.headers["Host"] == f"hooks.shop.example:{port}"
    assert calls == ["hooks.shop.example"]  # one look-up: the one that was checked


def test_a_name_rebound_to_loopback_after_the_check_is_not_called(app, receiver, monkeypatch):
    """The first look-up answers a public address, every later one 127.0.0.1: a client that
    looks the name up again when it connects would reach the receiver."""
    calls: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo", resolver_of(
        {"rebind.shop.example": ["93.184.216.34", "127.0.0.1"]}, calls))
    attempt = post(f"http://rebind.shop.example:{receiver.server.server_port}/in",
                   signing.new_signing_secret(), "evt_1", b"{}", timeout=(0.5, READ_TIMEOUT))
    assert not attempt.delivered and receiver.received == []
    assert calls == ["rebind.shop.example"]
