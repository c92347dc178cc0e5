"""Merchant systems manage their webhook endpoints through the API: create (the secret in that
answer only), list (never the secrets), delete, rotate the secret; another merchant's endpoint
is not found; the URL obeys the portal's public-address rule; each endpoint gets only the
events it asked for, signed with its own secret as the Standard Webhooks library checks."""

from __future__ import annotations

import base64
import json

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from returns_app.services import returns
from returns_app.services.orders import Viewer
from returns_app.store.db import connect
from returns_app.store.migrations import MIGRATIONS
from returns_app.webhooks import signing
from returns_app.worker import rounds as worker
from tests.api_helpers import assert_error, bearer
from tests.builders import make_merchant, make_order, make_return
from tests.webhook_support import Receiver

API = "/api/v1/webhook-endpoints"


@pytest.fixture
def shop(db):
    merchant, key = make_merchant(db, "Hook Shop")
    return {**merchant, "key": key}


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def create(client, shop, url, events=None):
    body = {"url": url} | ({"events": events} if events is not None else {})
    return client.post(API, json=body, headers=bearer(shop["key"]))


def verified(secret: str, received) -> bool:
    try:
        Webhook(secret).verify(received.body, received.headers, json_parse=False)
    except WebhookVerificationError:
        return False
    return True


def test_create_answers_the_secret_once_and_the_list_never(client, shop):
    response = create(client, shop, "https://shop.example.com/hooks", ["return.sent"])
    assert response.status_code == 201
    created = response.get_json()
    assert created["url"] == "https://shop.example.com/hooks"
    assert created["events"] == ["return.sent"] and created["status"] == "active"
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"), validate=True)) == 32
    listed = client.get(API, headers=bearer(shop["key"])).get_json()["webhook_endpoints"]
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0] and created["secret"] not in str(listed)


def test_events_left_out_means_every_event(client, shop):
    created = create(client, shop, "https://shop.example.com/hooks").get_json()
    assert created["events"] == ["return.reported", "return.sent", "refund.succeeded"]


@pytest.mark.parametrize("body, field", [
    ({"url": "https://shop.example.com/h", "events": ["parcel.lost"]}, "events"),
    ({"url": "https://shop.example.com/h", "events": []}, "events"),
    ({"url": "https://shop.example.com/h", "events": "return.sent"}, "events"),
    ({"url": "ftp://shop.example.com/h"}, "url"),
    ({"url": 42}, "url"),
    ({}, "url"),
])
def test_bad_bodies_name_the_field(client, shop, body, field):
    error = assert_error(client.post(API, json=body, headers=bearer(shop["key"])), 422,
                         "invalid")
    assert field in str(error)


@pytest.mark.parametrize("url", ["https://10.0.0.5/hooks", "https://[::ffff:127.0.0.1]/h",
                                 "https://[64:ff9b::a00:1]/h", "http://127.0.0.1:8000/hooks"])
def test_outside_development_the_url_must_be_a_public_https_address(app, client, shop, url):
    app.testing = False
    app.config["ENV_NAME"] = "production"
    assert_error(create(client, shop, url), 422, "invalid")


def test_another_merchants_endpoint_is_not_found(client, db, shop):
    created = create(client, shop, "https://shop.example.com/hooks").get_json()
    _, other_key = make_merchant(db, "Other Shop")
    other = bearer(other_key)
    assert_error(client.delete(f"{API}/{created['id']}", headers=other), 404, "not_found")
    assert_error(client.post(f"{API}/{created['id']}/rotate-secret", headers=other), 404,
                 "not_found")
    assert client.get(API, headers=other).get_json() == {"webhook_endpoints": []}
    assert len(client.get(API, headers=bearer(shop["key"])).get_json()["webhook_endpoints"]) == 1


def test_no_key_is_401(client):
    assert_error(client.get(API), 401, "unauthorized")


def test_each_endpoint_gets_its_events_signed_with_its_own_secret(app, client, db, shop,
                                                                  receiver):
    everything = create(client, shop, receiver.url + "/all").get_json()
    sent_only = create(client, shop, receiver.url + "/sent", ["return.sent"]).get_json()
    order = make_order(db, shop["id"])
    ret = make_return(db, order)
    returns.mark_sent(db, Viewer(order_ids=frozenset({order["id"]})), ret["id"], None)
    assert worker.deliver_outbox(app, "t", kinds=("webhook",)) == {"delivered": 3}
    by_path = {}
    for received in receiver.received:
        by_path.setdefault(received.path, []).append(received)
    assert sorted((p, len(r)) for p, r in by_path.items()) == [("/all", 2), ("/sent", 1)]
    assert all(verified(everything["secret"], r) for r in by_path["/all"])
    assert all(verified(sent_only["secret"], r) for r in by_path["/sent"])
    assert not verified(everything["secret"], by_path["/sent"][0])
    sent_ids = {r.headers["webhook-id"] for r in receiver.received if b"return.sent" in r.body}
    assert len(sent_ids) == 1  # one event, one id, whichever endpoint receives it


def test_rotating_answers_a_new_secret_that_signs_from_then_on(app, client, db, shop, receiver):
    created = create(client, shop, receiver.url + "/in").get_json()
    rotated = client.post(f"{API}/{created['id']}/rotate-secret", headers=bearer(shop["key"]))
    assert rotated.status_code == 200
    new = rotated.get_json()["secret"]
    assert new != created["secret"] and new.startswith("whsec_")
    make_return(db, make_order(db, shop["id"]))
    assert worker.deliver_outbox(app, "t", kinds=("webhook",)) == {"delivered": 1}
    [received] = receiver.received
    assert verified(new, received) and not verified(created["secret"], received)


def test_deleting_stops_the_events_and_ends_those_waiting(app, client, db, shop, receiver):
    created = create(client, shop, receiver.url + "/in").get_json()
    make_return(db, make_order(db, shop["id"]))  # waiting for the endpoint
    deleted = client.delete(f"{API}/{created['id']}", headers=bearer(shop["key"]))
    assert deleted.status_code == 200 and deleted.get_json()["id"] == created["id"]
    assert client.get(API, headers=bearer(shop["key"])).get_json() == {"webhook_endpoints": []}
    make_return(db, make_order(db, shop["id"]))  # nobody to tell
    assert worker.deliver_outbox(app, "t", kinds=("webhook",)) == {"failed": 1}
    assert receiver.received == []
    assert_error(client.delete(f"{API}/{created['id']}", headers=bearer(shop["key"])), 404,
                 "not_found")


@pytest.mark.sqlite_only(reason="runs SQLite's migration functions one by one on a file of its"
                                " own to write a row as it was before m014")
def test_the_migration_keeps_an_old_secrets_key_in_the_standard_form(tmp_path):
    """Before m014 a merchant row held one URL and a secret whose text was the HMAC key."""
    db = connect(tmp_path / "old.sqlite3")
    m014 = next(i for i, fn in enumerate(MIGRATIONS) if fn.__name__.startswith("m014_"))
    for fn in MIGRATIONS[:m014]:
        fn(db)
    old = "whsec_u3Xb-kq_Xo9Lw2hV6pZ1nYk0c7QmB4sR8tE5aD2fG1H"
    db.execute("INSERT INTO merchant (slug, name, webhook_url, webhook_secret,"
               " webhook_secret_created_at, created_at) VALUES ('old', 'Old Shop',"
               " 'https://old.example/in', ?, '2026-01-01T00:00:00+00:00',"
               " '2026-01-01T00:00:00+00:00')", [old])
    for fn in MIGRATIONS[m014:]:
        fn(db)
    [(url, secret, events)] = db.execute(
        "SELECT url, secret, events FROM webhook_endpoint").fetchall()
    assert url == "https://old.example/in" and secret == signing.from_legacy(old)
    assert signing.key(secret) == old.encode()  # the very key the merchant's receiver holds
    assert json.loads(events) == ["return.reported", "return.sent", "refund.succeeded"]
    assert db.execute("SELECT webhook_secret FROM merchant").fetchone() == (None,)
