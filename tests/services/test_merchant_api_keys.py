"""API keys in the portal: created with a label and shown once, listed, revoked after a
confirmation; a revoked key gets 401 from the API."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from returns_app.domain import clock
from returns_app.domain.passwords import hash_secret
from returns_app.services import api_keys, merchants
from tests.api_helpers import assert_error, bearer
from tests.customer.test_customer_views import field_error, text


def create(client, label="Warehouse"):
    return client.post("/merchant/api-keys", data={"label": label})


def shown_key(response) -> str:
    return re.search(r'id="new-key-value"[^>]*value="(rk_[^"]+)"',
                     response.get_data(as_text=True))[1]


def test_the_page_lists_the_keys(client, staff):
    page = text(client.get("/merchant/api-keys"))
    assert "first key" in page and staff["key"][:8] in page and "Active" in page


def test_a_new_key_is_shown_once_and_stored_hashed(client, db, staff):
    response = create(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    key = shown_key(response)
    assert "Copy it now: it is shown only this once." in text(response)
    stored = db.execute("SELECT key_hash, prefix, label FROM merchant_api_key WHERE label ="
                        " 'Warehouse'").fetchone()
    assert stored == (hash_secret(key), key[:8], "Warehouse")
    assert key not in client.get("/merchant/api-keys").get_data(as_text=True)
    assert merchants.merchant_for_api_key(db, key)["id"] == staff["merchant"]["id"]


def test_a_key_needs_a_label_and_keeps_what_was_typed(client, staff):
    response = create(client, "")
    assert response.status_code == 422
    assert "Give the key a name" in field_error(response, "label")
    long = create(client, "x" * 81)
    assert long.status_code == 422 and 'value="' + "x" * 81 in text(long)


def test_revoking_asks_first_then_the_key_gets_401(client, db, staff):
    key_id = db.execute("SELECT id FROM merchant_api_key").fetchone()[0]
    assert client.get("/api/v1/returns", headers=bearer(staff["key"])).status_code == 200
    confirm = client.get(f"/merchant/api-keys/{key_id}/revoke")
    assert confirm.status_code == 200
    assert "refused (401 Unauthorized)" in text(confirm) and "can’t be undone" in text(confirm)
    response = client.post(f"/merchant/api-keys/{key_id}/revoke")
    assert response.status_code == 303
    assert "is revoked" in text(client.get("/merchant/api-keys"))
    assert_error(client.get("/api/v1/returns", headers=bearer(staff["key"])), 401,
                 "unauthorized")
    again = client.post(f"/merchant/api-keys/{key_id}/revoke")
    assert again.status_code == 303 and "already revoked" in text(client.get(
        "/merchant/api-keys"))


def test_last_used_is_noted_at_most_hourly(db, shop):
    start = clock.parse("2026-03-02T09:00:00+00:00")
    with time_machine.travel(start, tick=False):
        merchants.merchant_for_api_key(db, shop["key"])
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        merchants.merchant_for_api_key(db, shop["key"])
        assert api_keys.api_keys(db, shop["merchant"]["id"])[0]["last_used_at"] == \
            clock.iso(start)
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        merchants.merchant_for_api_key(db, shop["key"])
        assert api_keys.api_keys(db, shop["merchant"]["id"])[0]["last_used_at"] == \
            clock.iso(start + timedelta(minutes=61))


def test_another_merchant_s_key_is_not_found(client, db, staff, other_shop):
    theirs = db.execute("SELECT id FROM merchant_api_key WHERE merchant_id = ?",
                        [other_shop["merchant"]["id"]]).fetchone()[0]
    assert client.get(f"/merchant/api-keys/{theirs}/revoke").status_code == 404
    assert client.post(f"/merchant/api-keys/{theirs}/revoke").status_code == 404
    assert merchants.merchant_for_api_key(db, other_shop["key"])
    assert other_shop["key"][:8] not in text(client.get("/merchant/api-keys"))
