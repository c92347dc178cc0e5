"""Hostile bodies and requests the API must refuse in its own error shape, never with a 500 or
by running them: JSON nested 10,000 levels deep, lone surrogates, bodies of another media type,
and Werkzeug's own 404/405/413 (issue #17, items 1, 2 and 4)."""

from __future__ import annotations

import pytest

from returns_app.api.request_body import MAX_DEPTH
from returns_app.services import payments
from tests.api_helpers import assert_error, bearer, count
from tests.builders import decide, make_merchant, make_order, make_return
from tests.openapi_contract import routed_operations
from tests.rows import by_id

EMAIL = "kund@example.se"
DEEP = "[" * 10_000 + "]" * 10_000
DEEP_IN_OBJECT = '{"items": ' + DEEP + "}"
SURROGATE = '{"order_number": "\\ud800", "email": "kund@example.se", "items": "\\udfff"}'
JUST_TOO_DEEP = '{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"

# Every API operation that reads a JSON body: (method, path with {placeholders}, credential).
JSON_OPERATIONS = [
    ("post", "/orders", "merchant"),
    ("post", "/customer/session", None),
    ("post", "/orders/{order_id}/returns", "customer"),
    ("post", "/returns/{open_return_id}/shipment", "customer"),
    ("post", "/orders/{order_id}/payments", "customer"),
    ("post", "/refunds/{refund_id}/payout-details", "customer"),
    ("post", "/returns/{decided_return_id}/registration", "merchant"),
    ("post", "/webhook-endpoints", "merchant"),
    ("put", "/customer/bank-account", "customer"),
    ("post", "/customer/bank-account/mandate", "customer"),
    ("put", "/customer/pay-on-due-date", "customer"),
]
# Operations that read no JSON: another media type, or no body at all.
NOT_JSON = {("put", "/instructions"), ("post", "/returns/{return_id}/cancel"),
            ("post", "/bank-files"), ("post", "/webhook-endpoints/{endpoint_id}/rotate-secret"),
            ("post", "/orders/{order_id}/due-date-payment"),
            ("post", "/payments/{payment_id}/cancel")}


@pytest.fixture
def world(app, client, db):
    """A merchant, an order paid in full with a refund owed, an open return: every JSON
    endpoint has something of its caller's to act on, so it reaches its body."""
    shop, key = make_merchant(db)
    order = make_order(db, shop["id"])
    payments.record_transfer(db, order["id"], 149700, "OCR-1", actor="test")
    decided = make_return(db, order, {1: 1})
    decide(db, shop["id"], decided, (0, 1, 0))
    refund_id = db.execute("SELECT id FROM refund").fetchone()[0]
    open_return = make_return(db, order, {0: 1})
    token = client.post("/api/v1/customer/session", json={
        "order_number": order["order_number"], "email": EMAIL}).get_json()["token"]
    return {"ids": {"order_id": order["id"], "open_return_id": open_return["id"],
                    "decided_return_id": decided["id"], "refund_id": refund_id},
            "credentials": {"merchant": key, "customer": token}}


def send(client, world, method, path, credential, data, content_type="application/json"):
    headers = {"Idempotency-Key": "hostile-1"}
    if credential:
        headers |= bearer(world["credentials"][credential])
    return getattr(client, method)("/api/v1" + path.format(**world["ids"]), data=data,
                                   content_type=content_type, headers=headers)


def test_the_list_names_every_operation_that_reads_a_body(app):
    documented_paths = {(m, p.replace("{open_return_id}", "{return_id}")
                         .replace("{decided_return_id}", "{return_id}"))
                        for m, p, _ in JSON_OPERATIONS}
    with_body = {(m, p) for m, p in routed_operations(app) if m in ("post", "put", "patch")}
    assert with_body == documented_paths | NOT_JSON


@pytest.mark.parametrize(("method", "path", "credential"), JSON_OPERATIONS)
@pytest.mark.parametrize("body", [DEEP, DEEP_IN_OBJECT, JUST_TOO_DEEP],
                         ids=["10000 levels", "10000 levels in an object", "just too deep"])
def test_json_nested_too_deep_is_400_in_the_error_shape(client, world, db, method, path,
                                                         credential, body):
    before = count(db, "audit_event")
    assert_error(send(client, world, method, path, credential, body), 400, "malformed")
    assert count(db, "audit_event") == before


@pytest.mark.parametrize(("method", "path", "credential"), JSON_OPERATIONS)
def test_a_lone_surrogate_in_a_string_is_400_in_the_error_shape(client, world, db, method,
                                                                 path, credential):
    before = count(db, "audit_event")
    error = assert_error(send(client, world, method, path, credential, SURROGATE), 400,
                         "malformed")
    assert "surrogate" in error["message"]
    assert count(db, "audit_event") == before


def test_a_surrogate_pair_is_text_not_an_attack(client, world):
    """An escaped pair is one character (here 😀): only a lone half is refused."""
    response = send(client, world, "post", "/customer/session", None,
                    '{"order_number": "\\ud83d\\ude00", "email": "kund@example.se"}')
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_numbers_json_has_no_words_for_are_400(client, world, constant):
    response = send(client, world, "post", "/orders/{order_id}/payments", "customer",
                    '{"amount": ' + constant + "}")
    assert_error(response, 400, "malformed")


@pytest.mark.parametrize(("method", "path", "credential"), JSON_OPERATIONS)
@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/xml", "", "application/json-patch+json",
], ids=["text", "form", "multipart", "xml", "no type", "a json-like type"])
def test_a_json_body_sent_as_another_media_type_is_415_and_not_run(client, world, db, method,
                                                                   path, credential,
                                                                   content_type):
    """The JSON itself is valid: sent as text/plain or a form, it is what a cross-site form can
    post, and it used to be executed."""
    body = ('{"order_number": "1", "email": "kund@example.se", "amount": 100, "items": [],'
            ' "iban": "SE4550000000058398257466", "tracking_number": "A1"}')
    before = (count(db, "audit_event"), count(db, "customer_token"), count(db, "payment"))
    response = send(client, world, method, path, credential, body, content_type)
    error = assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"]
    assert (count(db, "audit_event"), count(db, "customer_token"), count(db, "payment")) == before


def test_json_with_a_charset_is_json(client, world):
    response = send(client, world, "post", "/customer/session", None,
                    '{"order_number": "1", "email": "kund@example.se"}',
                    "application/json; charset=utf-8")
    assert_error(response, 404, "not_found")


def test_instructions_are_415_unless_markdown_or_plain_text(client, world):
    key = world["credentials"]["merchant"]
    for content_type in ("application/json", "image/png", "application/x-www-form-urlencoded"):
        response = client.put("/api/v1/instructions", data=b"# Hi", content_type=content_type,
                              headers=bearer(key))
        error = assert_error(response, 415, "unsupported_media_type")
        assert "text/markdown" in error["message"]


def test_a_post_without_a_body_needs_no_type(client, world):
    response = client.post(f"/api/v1/returns/{world['ids']['open_return_id']}/cancel",
                           headers=bearer(world["credentials"]["customer"]))
    assert response.status_code == 200, response.get_data(as_text=True)


# --- item 4: shipment's body, and Werkzeug's own errors in the contract's words -----------------

def test_shipment_without_a_body_is_400_as_the_document_requires_one(client, world, db):
    return_id = world["ids"]["open_return_id"]
    response = client.post(f"/api/v1/returns/{return_id}/shipment",
                           headers=bearer(world["credentials"]["customer"]))
    assert_error(response, 400, "malformed")
    assert by_id(db, "returns", return_id)["status"] == "reported"


@pytest.mark.parametrize(("method", "path", "status", "code", "words"), [
    ("get", "/api/v1/no-such-thing", 404, "not_found", "Not found, or not yours."),
    ("get", "/api/v1/orders/abc", 404, "not_found", "Not found, or not yours."),
    ("delete", "/api/v1/orders", 405, "method_not_allowed", "This method is not allowed here"),
])
def test_werkzeugs_own_errors_speak_the_contracts_words(client, method, path, status, code,
                                                        words):
    error = assert_error(getattr(client, method)(path), status, code)
    assert error["message"].startswith(words)
    assert "server" not in error["message"] and "URL" not in error["message"]


def test_a_body_over_the_limit_is_413_in_the_contracts_words(client, app, world):
    body = b'{"a": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}'
    error = assert_error(send(client, world, "post", "/customer/session", None, body), 413,
                         "too_large")
    assert error["message"] == "The body is too large."
