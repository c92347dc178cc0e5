"""What Schemathesis found in the API, each kept fixed by a plain test."""

from __future__ import annotations

import pytest

from returns_app.services import support
from tests.api.test_api_customer import token_for
from tests.api_helpers import assert_error, bearer, count
from tests.builders import make_merchant, make_order


@pytest.mark.parametrize("path", ["/api/v1/orders", "/"])
def test_a_405_names_the_methods_allowed(client, path):
    """RFC 9110: a 405 carries Allow. Our error handler used to build a fresh response
    without it, in the API and on the pages alike."""
    response = client.delete(path)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"POST"}


def test_an_api_405_is_still_the_contract_error_shape(client):
    assert_error(client.put("/api/v1/orders/1"), 405, "method_not_allowed")


@pytest.mark.parametrize("method", ["", 0, False, []])
def test_a_payment_method_that_is_no_method_is_refused_not_defaulted(client, db, method):
    """Only a missing (or null) method means "the default"; an empty string or a 0 used to be
    taken for it, so a request the document calls invalid was paid."""
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"])
    response = client.post(f"/api/v1/orders/{order['id']}/payments",
                           json={"amount": 1000, "method": method},
                           headers={**bearer(token_for(client, order)), "Idempotency-Key": "k"})
    error = assert_error(response, 422, "invalid")
    assert "method" in error["fields"]
    assert count(db, "payment") == 0


@pytest.mark.parametrize("query", ["offset=null", "limit=abc", "limit=1.5", "offset=-1",
                                   "limit=0", "limit=501"])
def test_a_stuck_refunds_page_that_is_no_number_is_refused_not_defaulted(client, db, query):
    """`?offset=null` used to be read as the default 0 and answered 200."""
    user, _ = support.create_support_user(db, "agent@example.se", actor="test")
    token = support.create_token(db, user["email"], actor="test")
    response = client.get(f"/api/v1/support/stuck-refunds?{query}", headers=bearer(token))
    assert_error(response, 422, "invalid")


def test_an_empty_returns_status_filter_is_refused_not_read_as_all(client, db):
    """`GET /returns?status=` used to list every return, as if no filter had been sent."""
    _, key = make_merchant(db)
    assert_error(client.get("/api/v1/returns?status=", headers=bearer(key)), 422, "invalid")
    assert client.get("/api/v1/returns", headers=bearer(key)).status_code == 200


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"])
def test_a_moment_outside_the_calendar_in_utc_is_422_not_500(client, db, moment):
    """Year 1 a minute east of UTC is no moment UTC can hold: it used to raise OverflowError."""
    from tests.builders import checkout_payload

    _, key = make_merchant(db)
    response = client.post("/api/v1/orders", headers=bearer(key),
                           json=checkout_payload(purchased_at=moment))
    error = assert_error(response, 422, "invalid")
    assert "purchased_at" in error["fields"]


# --- issue #17, item 5: where the document was looser than the server -----------------------

@pytest.mark.parametrize("moment", ["", "2026-01-01", "2026-01-01T00:00:00", "2026-01-01 10:00Z",
                                    "20260101T000000Z"])
def test_a_moment_that_is_no_rfc_3339_date_time_is_422_as_the_document_says(client, db, moment):
    """A day alone or a time without its offset is several moments: it used to be read as UTC
    midnight and stored; the document's pattern (format is only a note in OpenAPI 3.1) and the
    server now refuse the same values."""
    from returns_app.api.openapi import document
    from returns_app.domain.validation import MOMENT_PATTERN
    from tests.builders import checkout_payload

    schema = document()["components"]["schemas"]["NewOrder"]["properties"]["delivered_at"]
    assert schema["pattern"] == MOMENT_PATTERN
    _, key = make_merchant(db)
    response = client.post("/api/v1/orders", headers=bearer(key),
                           json=checkout_payload(delivered_at=moment))
    assert "delivered_at" in assert_error(response, 422, "invalid")["fields"]
    assert count(db, "orders") == 0


def test_a_cursor_is_only_one_the_list_gave_out(client, db):
    """An empty cursor used to be read as none, and characters outside base64url were skipped,
    so "<cursor>!" served the next page: the document now states the cursor's alphabet."""
    from returns_app.services import inbox
    from tests.builders import make_return

    shop, key = make_merchant(db)
    for _ in range(3):
        make_return(db, make_order(db, shop["id"]))
    first = client.get("/api/v1/returns?limit=1", headers=bearer(key)).get_json()
    cursor = first["next_cursor"]
    assert client.get(f"/api/v1/returns?limit=1&cursor={cursor}",
                      headers=bearer(key)).status_code == 200
    for bad in ("", cursor + "!", cursor + "=", "*" + cursor):
        response = client.get("/api/v1/returns", query_string={"limit": 1, "cursor": bad},
                              headers=bearer(key))
        assert "cursor" in assert_error(response, 422, "invalid")["fields"], bad
    assert inbox.CURSOR_PATTERN == "^[A-Za-z0-9_-]+$"


@pytest.mark.parametrize("tracking", ["\t", "A1\n", "\u00a0A1"])
def test_a_tracking_number_with_other_whitespace_is_422(client, db, tracking):
    """Only spaces are trimmed: a tab used to be stripped to "no tracking number" and answered
    200, where the document's pattern refuses it."""
    from tests.api.test_api_customer import token_for as token
    from tests.builders import make_return

    shop, _ = make_merchant(db)
    order = make_order(db, shop["id"])
    ret = make_return(db, order)
    response = client.post(f"/api/v1/returns/{ret['id']}/shipment", headers=bearer(token(
        client, order)), json={"tracking_number": tracking})
    assert_error(response, 422, "invalid")
