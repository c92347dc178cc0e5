"""The webhook settings page through pytest-flask's client: who may open it, the URL form, the
secret shown once, the actions, and the deliveries list with each attempt."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from returns_app.domain import clock
from returns_app.services import webhook_settings
from returns_app.store.db import insert, select
from returns_app.worker import rounds as worker
from tests.builders import make_merchant, make_order, make_return
from tests.session_helpers import session_keys
from tests.webhook_support import (
    Receiver,
    make_merchant_user,
    set_webhook,
    sign_in_merchant,
    status,
)

PAGE = "/merchant/webhooks"


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def field_error(response, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', response.get_data(as_text=True),
                      re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(match[1])).split()) if match else ""


def shown_secret(response) -> str:
    return re.search(r'id="signing-secret"[^>]*>([^<]+)</textarea>',
                     response.get_data(as_text=True))[1]


@pytest.fixture
def shop(db):
    merchant, _ = make_merchant(db, "Hooked Shop")
    return merchant


@pytest.fixture
def staff(client, db, shop):
    return sign_in_merchant(client, db, shop["id"])


def stored(db, merchant_id: int) -> dict:
    """The URL and secret of the merchant's first endpoint (the one the page edits)."""
    row = db.execute("SELECT url, secret FROM webhook_endpoint WHERE merchant_id = ?"
                     " ORDER BY id LIMIT 1", [merchant_id]).fetchone() or (None, None)
    return {"webhook_url": row[0], "webhook_secret": row[1]}


# --- who may see it ----------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_the_merchant_sign_in(client):
    response = client.get(PAGE + "?before=5")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/merchant/signin"
    assert parse_qs(location.query) == {"next": ["/merchant/webhooks?before=5"]}


def test_a_signed_in_customer_is_refused(client, db, shop):
    order = make_order(db, shop["id"])
    with client.session_transaction() as session:
        session.update(session_keys(client.application, f"customer:{order['customer_id']}"))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE + "/test").status_code == 403


def test_a_support_user_is_refused(client, db):
    support_id = insert(db, "support_user", {"email": "agent@example.se", "password_hash": "x",
                                             "created_at": clock.now_iso()})
    with client.session_transaction() as session:
        session.update(session_keys(client.application, f"support_user:{support_id}"))
    assert client.get(PAGE).status_code == 403


# --- the URL and the secret --------------------------------------------------------------------

def test_a_first_url_creates_the_secret_and_shows_it_once(client, db, shop, staff):
    page = text(client.get(PAGE))
    assert "No events are sent until you save a URL" in page
    response = client.post(PAGE, data={"url": "https://shop.example.com/hooks"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = shown_secret(response)
    assert secret.startswith("whsec_")
    assert "shown only this once" in text(response)
    assert stored(db, shop["id"])["webhook_url"] == "https://shop.example.com/hooks"
    assert stored(db, shop["id"])["webhook_secret"] == secret

    again = client.get(PAGE)
    assert secret not in again.get_data(as_text=True)
    assert 'value="https://shop.example.com/hooks"' in again.get_data(as_text=True)
    with client.session_transaction() as session:  # nor kept where a later page could read it
        assert secret not in str(dict(session))


def test_changing_the_url_keeps_the_secret(client, db, shop, staff):
    secret = set_webhook(db, shop["id"], "https://shop.example.com/hooks")
    response = client.post(PAGE, data={"url": "https://api.shop.example.com/v2/hooks"})
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    assert "Saved. Events now go to https://api.shop.example.com/v2/hooks." in text(
        client.get(PAGE))
    assert stored(db, shop["id"])["webhook_secret"] == secret


@pytest.mark.parametrize("url, message", [
    ("", "Enter the URL that should receive the events."),
    ("http://shop.example.com/hooks", "must start with https://"),
    ("https://user:pw@shop.example.com/hooks", "Leave the user name and password out"),
    ("not a url", "A URL has no spaces in it."),
])
def test_a_bad_url_is_named_next_to_the_field_and_kept(client, db, shop, staff, url, message):
    response = client.post(PAGE, data={"url": url})
    assert response.status_code == 422
    assert message in field_error(response, "url")
    assert f'value="{html.escape(url)}"' in response.get_data(as_text=True) or not url
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert stored(db, shop["id"])["webhook_url"] is None


def test_loopback_http_is_refused_outside_development(app, client, db, shop, staff):
    app.testing = False
    app.config["ENV_NAME"] = "production"
    response = client.post(PAGE, data={"url": "http://127.0.0.1:8000/hooks"})
    assert response.status_code == 422
    assert "must start with https://" in field_error(response, "url")


def test_loopback_http_is_allowed_in_development(client, db, shop, staff):
    response = client.post(PAGE, data={"url": "http://127.0.0.1:8000/hooks"})
    assert response.status_code == 200 and shown_secret(response)


def test_rotating_shows_a_new_secret_once(client, db, shop, staff):
    old = set_webhook(db, shop["id"], "https://shop.example.com/hooks")
    response = client.post(PAGE + "/secret")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    new = shown_secret(response)
    assert new != old and stored(db, shop["id"])["webhook_secret"] == new
    assert "The old secret no longer works" in text(response)


def test_rotating_without_a_url_says_what_to_do(client, db, shop, staff):
    response = client.post(PAGE + "/secret", follow_redirects=True)
    assert "Set a webhook URL first" in text(response)
    assert stored(db, shop["id"])["webhook_secret"] is None


def test_removing_drops_url_and_secret_and_a_new_url_gets_a_new_secret(client, db, shop, staff):
    old = set_webhook(db, shop["id"], "https://shop.example.com/hooks")
    response = client.post(PAGE + "/remove")
    assert response.status_code == 303
    assert "No more events are sent" in text(client.get(PAGE))
    assert (stored(db, shop["id"])["webhook_url"], stored(db, shop["id"])["webhook_secret"]) == (
        None, None)
    new = shown_secret(client.post(PAGE, data={"url": "https://shop.example.com/hooks"}))
    assert new != old


def test_the_audit_trail_never_holds_the_secret(client, db, shop, staff):
    secret = shown_secret(client.post(PAGE, data={"url": "https://shop.example.com/hooks"}))
    rotated = shown_secret(client.post(PAGE + "/secret"))
    trail = " ".join(str(row) for row in select(db, "SELECT * FROM audit_event"))
    assert "webhook.endpoint_created" in trail and "webhook.secret_rotated" in trail
    assert secret not in trail and rotated not in trail


# --- test event and deliveries ----------------------------------------------------------------

@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def test_a_test_event_is_delivered_and_listed_with_the_answer(app, client, db, shop, staff,
                                                                 receiver):
    set_webhook(db, shop["id"], receiver.url + "/hooks")
    receiver.answer(status(200, b"thanks, got it"))
    response = client.post(PAGE + "/test")
    assert response.status_code == 303
    assert "A test event is on its way" in text(client.get(PAGE))
    assert worker.deliver_outbox(app, "test", kinds=("webhook",)) == {"delivered": 1}
    page = text(client.get(PAGE))
    assert "webhook.test" in page and "Test event" in page and "Delivered" in page
    assert "Delivered: HTTP 200" in page and "thanks, got it" in page
    assert receiver.received[0].headers["Webhook-Id"] in page


def test_a_test_event_needs_a_url(client, db, shop, staff):
    assert "Set a webhook URL first" in text(client.post(PAGE + "/test", follow_redirects=True))


def test_deliveries_show_each_attempt_retrying_and_failed(app, client, db, shop, staff,
                                                          receiver):
    set_webhook(db, shop["id"], receiver.url + "/hooks")
    ret = make_return(db, make_order(db, shop["id"]))
    receiver.answer(status(500, b"stack trace here"))
    assert worker.deliver_outbox(app, "test", kinds=("webhook",)) == {"retrying": 1}
    page = text(client.get(PAGE))
    assert "Retrying" in page and f"Return {ret['id']}" in page and "return.reported" in page
    assert "Last answer: HTTP 500. Next attempt at" in page
    assert "1 attempt" in page and "Attempt 1" in page and "stack trace here" in page
    assert "Send it again" not in page

    db.execute("UPDATE outbox SET status = 'failed' WHERE kind = 'webhook'")
    page = text(client.get(PAGE))
    assert "Failed" in page and "Not delivered. Last answer: HTTP 500." in page
    assert "Send it again" in page


def test_a_failed_delivery_can_be_sent_again(app, client, db, shop, staff, receiver):
    set_webhook(db, shop["id"], receiver.url + "/hooks")
    make_return(db, make_order(db, shop["id"]))
    db.execute("UPDATE outbox SET status = 'failed', last_error = 'HTTP 500' WHERE kind ="
               " 'webhook'")
    [message] = select(db, "SELECT id FROM webhook_message")
    response = client.post(f"{PAGE}/deliveries/{message['id']}/redeliver")
    assert response.status_code == 303
    assert "will be sent again" in text(client.get(PAGE))
    assert worker.deliver_outbox(app, "test", kinds=("webhook",)) == {"delivered": 1}
    again = text(client.post(f"{PAGE}/deliveries/{message['id']}/redeliver",
                             follow_redirects=True))
    assert "Only a failed delivery can be sent again" in again


def test_another_merchants_deliveries_are_not_found_and_not_listed(client, db, shop, staff):
    other, _ = make_merchant(db, "Other Shop")
    set_webhook(db, other["id"], "https://other.example.com/hooks")
    theirs = make_return(db, make_order(db, other["id"]))
    db.execute("UPDATE outbox SET status = 'failed' WHERE kind = 'webhook'")
    [message] = select(db, "SELECT id FROM webhook_message")
    response = client.post(f"{PAGE}/deliveries/{message['id']}/redeliver")
    assert response.status_code == 404
    assert db.execute("SELECT status FROM outbox WHERE kind = 'webhook'").fetchone()[0] == "failed"
    page = text(client.get(PAGE))
    assert f"Return {theirs['id']}" not in page and "Nothing sent yet" in page
    assert client.post(f"{PAGE}/deliveries/999999/redeliver").status_code == 404


def test_deliveries_are_paginated_newest_first(client, db, shop, staff):
    set_webhook(db, shop["id"], "https://shop.example.com/hooks")
    order = make_order(db, shop["id"], lines=[
        {"sku": f"SKU-{i}", "name": f"Item {i}", "quantity": 1, "unit_price": 100}
        for i in range(webhook_settings.PAGE_SIZE + 5)])
    for i in range(webhook_settings.PAGE_SIZE + 5):
        make_return(db, order, {i: 1})
    returns_newest_first = [r for (r,) in db.execute(
        "SELECT subject_id FROM webhook_message ORDER BY id DESC").fetchall()]
    first = client.get(PAGE).get_data(as_text=True)
    shown = [int(n) for n in re.findall(r"Return (\d+)</span>", first)]
    assert shown == returns_newest_first[:webhook_settings.PAGE_SIZE]
    older = re.search(r'href="(/merchant/webhooks\?before=\d+)">Older deliveries', first)[1]
    second = client.get(html.unescape(older)).get_data(as_text=True)
    assert [int(n) for n in re.findall(r"Return (\d+)</span>", second)] == \
        returns_newest_first[webhook_settings.PAGE_SIZE:]
    assert "Older deliveries" not in second and "← Newest" in second


@pytest.mark.sqlite_only(reason="reads SQLite's query plan (EXPLAIN QUERY PLAN); PostgreSQL "
                                 "plans by its statistics, and a test's few rows are a scan there")
def test_the_deliveries_query_uses_the_merchant_index(db):
    plan = " ".join(str(row) for row in db.execute(
        "EXPLAIN QUERY PLAN SELECT webhook_message.id FROM webhook_message"
        " JOIN outbox ON outbox.id = outbox_id WHERE merchant_id = ? AND webhook_message.id < ?"
        " ORDER BY webhook_message.id DESC LIMIT 21", [1, 2**62]).fetchall())
    assert "webhook_message_merchant" in plan and "TEMP B-TREE" not in plan


# --- CSRF ----------------------------------------------------------------------------------------

@pytest.fixture
def protected(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.mark.parametrize("path", ["", "/secret", "/remove", "/test", "/deliveries/1/redeliver"])
def test_every_webhook_form_needs_its_csrf_token(protected, client, db, shop, path):
    sign_in_merchant(client, db, shop["id"])
    set_webhook(db, shop["id"], "https://shop.example.com/hooks")
    response = client.post(PAGE + path, data={"url": "https://evil.example.com/"})
    assert response.status_code == 400
    assert stored(db, shop["id"])["webhook_url"] == "https://shop.example.com/hooks"


def test_each_form_on_the_page_carries_a_token_that_works(protected, client, db, shop):
    sign_in_merchant(client, db, shop["id"])
    set_webhook(db, shop["id"], "https://shop.example.com/hooks")
    page = client.get(PAGE).get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="([^"]+)".*?name="csrf_token"[^>]*value="'
                       r'([^"]+)"', page, re.S)
    assert {action for action, _ in forms} >= {PAGE, PAGE + "/test", PAGE + "/secret",
                                               PAGE + "/remove"}
    token = dict(forms)[PAGE + "/test"]
    assert client.post(PAGE + "/test", data={"csrf_token": token}).status_code == 303


def test_staff_see_only_their_own_merchants_settings(client, db, shop):
    other, _ = make_merchant(db, "Other Shop")
    user_id = make_merchant_user(db, other["id"], "a@other.example")
    with client.session_transaction() as session:
        session.update(session_keys(client.application, f"merchant_user:{user_id}"))
    set_webhook(db, shop["id"], "https://shop.example.com/hooks")
    assert "https://shop.example.com/hooks" not in client.get(PAGE).get_data(as_text=True)
