"""The OpenAPI document: a valid OpenAPI 3.1 document, documenting exactly the API's routes, and
true about what each of them answers.

Real answers of every routed operation, one per documented status that a request can provoke,
are checked against the schema documented for that status. Operations of the contract built in
other branches (the merchant's returns list and instructions, support's stuck refunds) are
documented already; their cases run as soon as the app routes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from returns_app.api.openapi import document
from returns_app.bankfiles import sandbox
from returns_app.services import payments, webhook_endpoints
from tests.api_helpers import bearer
from tests.builders import (
    INSTRUCTIONS,
    checkout_payload,
    decide,
    link_bank_account,
    make_merchant,
    make_order,
    make_return,
)
from tests.domain.test_payout_details import SEB, SEB_ACCOUNT
from tests.openapi_contract import check, documented_operations, routed_operations, support_token
from tests.rows import rows_where

API = "/api/v1"
EMAIL = "kund@example.se"
OTHER_EMAIL = "annan@example.se"
SHIRT, JEANS = 0, 1
# Built in other branches: documented here, routed once merged.
ELSEWHERE = {("get", "/returns"), ("put", "/instructions"), ("get", "/support/stuck-refunds")}


# --- the document itself ----------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_1(client):
    served = client.get(f"{API}/openapi.json")
    assert served.status_code == 200 and served.is_json
    validate(served.get_json())  # raises OpenAPIValidationError naming what is wrong
    assert served.get_json()["openapi"].startswith("3.1")


def test_the_validator_catches_a_broken_document():
    broken = document()
    broken["paths"]["/orders"]["post"]["parameters"] = [{"name": "page"}]  # where is it?
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_route_is_documented_and_every_documented_operation_routed(app):
    routed, documented = routed_operations(app), documented_operations(document())
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed <= ELSEWHERE, "documented operations the app doesn't route"


def test_path_parameters_are_documented_as_the_routes_name_them():
    for path, item in document()["paths"].items():
        for method, op in item.items():
            in_path = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            named = {part[1:-1] for part in path.split("/") if part.startswith("{")}
            assert in_path == named, f"{method.upper()} {path}"


def test_every_operation_documents_its_errors_in_the_contract_shape():
    doc = document()
    assert set(doc["components"]["securitySchemes"]) == {"merchantKey", "customerToken",
                                                         "supportToken"}
    for scheme in doc["components"]["securitySchemes"].values():
        assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
            if op["security"]:
                assert "401" in op["responses"], (method, path)
            if "requestBody" in op:
                assert {"400", "413", "415"} <= set(op["responses"]), (method, path)


def test_idempotency_key_is_a_required_header_where_the_contract_says():
    doc = document()
    for path, method in (("/orders/{order_id}/payments", "post"),
                         ("/returns/{return_id}/registration", "post")):
        (key,) = [p for p in doc["paths"][path][method]["parameters"]
                  if p["name"] == "Idempotency-Key"]
        assert (key["in"], key["required"]) == ("header", True)


def test_the_contract_check_can_fail(client):
    from flask import Response

    doc = document()
    bad = Response('{"id": "1", "amount": 1.5, "status": "lost"}', 201,
                   mimetype="application/json")
    with pytest.raises(AssertionError, match="amount"):
        check(doc, bad, "/orders/{order_id}/payments", "post")
    extra = Response(json.dumps({"refunds": [], "total": 0}), 200, mimetype="application/json")
    with pytest.raises(AssertionError, match="total"):
        check(doc, extra, "/orders/{order_id}/refunds", "get")
    with pytest.raises(AssertionError, match="doesn't list"):
        check(doc, Response("{}", 418, mimetype="application/json"), "/orders", "post")
    with pytest.raises(AssertionError, match="text/html"):
        check(doc, Response("<p>", 401, mimetype="text/html"), "/orders", "post")


# --- a world to ask questions of ----------------------------------------------------------------

@dataclass
class World:
    key: str  # merchant A's API key
    other_key: str  # merchant B's
    paid: dict  # an order of A's, paid by hand; its jeans returned and accepted: a refund owed
    unpaid: dict  # another order of the same customer, nothing paid yet
    other: dict  # an order of another customer at merchant B
    resolved: dict  # the accepted jeans' return
    open_return: dict  # a shirt reported for return, not sent
    refund: dict
    tokens: dict  # order id -> customer token for that order
    endpoint: dict  # merchant A's webhook endpoint


def session(client, order: dict, email: str = EMAIL) -> str:
    response = client.post(f"{API}/customer/session",
                           json={"order_number": order["order_number"], "email": email})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["token"]


@pytest.fixture
def world(client, db) -> World:
    shop, key = make_merchant(db)
    other_shop, other_key = make_merchant(db, "Other Shop")
    paid = make_order(db, shop["id"], merchant_reference="A-1")
    unpaid = make_order(db, shop["id"], merchant_reference="A-2")
    other = make_order(db, other_shop["id"], merchant_reference="B-1",
                       customer={"email": OTHER_EMAIL, "name": "Alex Annan"})
    payments.record_transfer(db, paid["id"], 149700, "OCR-1", actor="test")
    resolved = make_return(db, paid, {JEANS: 1})
    decide(db, shop["id"], resolved, (0, 1, 0))
    open_return = make_return(db, paid, {SHIRT: 1})
    (refund,) = rows_where(db, "refund", "order_id = ?", [paid["id"]])
    tokens = {o["id"]: session(client, o, EMAIL if o is not other else OTHER_EMAIL)
              for o in (paid, unpaid, other)}
    endpoint, _secret = webhook_endpoints.create(db, shop["id"], "https://shop.example.com/in",
                                                 None, "test", allow_local=False)
    return World(key, other_key, paid, unpaid, other, resolved, open_return, refund, tokens,
                 endpoint)


# --- one real answer per documented status ------------------------------------------------------

@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    ask: Callable  # (client, world, db) -> response


def call(method: str, url: Callable, auth: Callable | None = None, *,
         json_body: Callable | object = None, data: bytes | str | None = None,
         headers: dict | None = None) -> Callable:
    """A request whose URL, credentials and JSON body are computed from the world."""
    def ask(client, w, db):
        body = json_body(w) if callable(json_body) else json_body
        # A raw body is JSON unless the case says otherwise (a wrong type is 415 first).
        extra = {"json": body} if body is not None else {"data": data}
        if data is not None and "Content-Type" not in (headers or {}):
            extra["content_type"] = "application/json"
        return client.open(url(w), method=method.upper(), **extra,
                           headers={**(auth(w, db) if auth else {}), **(headers or {})})
    return ask


def merchant(w, db):
    return bearer(w.key)


def other_merchant(w, db):
    return bearer(w.other_key)


def paid_customer(w, db):
    return bearer(w.tokens[w.paid["id"]])


def unpaid_customer(w, db):
    return bearer(w.tokens[w.unpaid["id"]])


def nobody(w, db):
    return {}


def idempotent(auth: Callable, key: str = "k-1") -> Callable:
    return lambda w, db: {**auth(w, db), "Idempotency-Key": key}


def too_many_lookups(client, w, db):
    for _ in range(5):
        client.post(f"{API}/customer/session",
                    json={"order_number": w.paid["order_number"], "email": "nej@example.se"})
    return client.post(f"{API}/customer/session",
                       json={"order_number": w.paid["order_number"], "email": EMAIL})


def unreachable_provider(client, w, db):
    client.application.config["PROVIDER_URL"] = "http://127.0.0.1:9"  # the discard port
    client.application.extensions.pop("provider_client", None)
    return client.post(f"{API}/orders/{w.unpaid['id']}/payments",
                       json={"amount": 1000, "method": "card"},
                       headers=idempotent(unpaid_customer)(w, db))


def with_linked_account(ask: Callable) -> Callable:
    def linked(client, w, db):
        link_bank_account(db, w.unpaid["customer_id"])
        return ask(client, w, db)
    return linked


def scheduled_then(what: Callable) -> Callable:
    """Schedule the unpaid invoice for its due date, then cancel it (twice: a 409)."""
    def ask(client, w, db):
        headers = unpaid_customer(w, db)
        payment = client.post(f"{API}/orders/{w.unpaid['id']}/due-date-payment",
                              headers=headers).get_json()
        url = f"{API}/payments/{payment['id']}/cancel"
        if what(w) == "cancel twice":
            client.post(url, headers=headers)
        return client.post(url, headers=headers)
    return ask


def accept_open_shirt(w) -> dict:
    return {"items": [{"return_item_id": w.open_return["items"][0]["id"],
                       "accepted_quantity": 1}]}


def orders_url(w):
    return f"{API}/orders"


def paid_url(suffix: str = "") -> Callable:
    return lambda w: f"{API}/orders/{w.paid['id']}{suffix}"


def other_url(suffix: str = "") -> Callable:
    return lambda w: f"{API}/orders/{w.other['id']}{suffix}"


def unpaid_payments(w):
    return f"{API}/orders/{w.unpaid['id']}/payments"


def open_return(action: str) -> Callable:
    return lambda w: f"{API}/returns/{w.open_return['id']}/{action}"


def resolved_return(action: str) -> Callable:
    return lambda w: f"{API}/returns/{w.resolved['id']}/{action}"


def refund_details(w):
    return f"{API}/refunds/{w.refund['id']}/payout-details"


def fixed(path: str) -> Callable:
    return lambda w: f"{API}{path}"


HUGE = "x" * (1024 * 1024 + 1)
XML = {"Content-Type": "application/xml"}
# A payment whose reference fails its check digit: booked nowhere, listed for support.
BANK_FILE = sandbox.notification("991-2346", [sandbox.Credit(12500, "100012393", "Payer")],
                                 date(2026, 3, 2), datetime(2026, 3, 2, 6, 0), "OPENAPI-1")


def support_key(key: str = "bank-1") -> Callable:
    return lambda w, db: {**bearer(support_token(db)), "Idempotency-Key": key}


def unmatched_after_import(client, w, db):
    agent = bearer(support_token(db))
    client.post(f"{API}/bank-files", data=BANK_FILE,
                headers={**XML, **agent, "Idempotency-Key": "bank-0"})
    return client.get(f"{API}/support/unmatched-payments", headers=agent)
MARKDOWN = {"Content-Type": "text/markdown", "Content-Language": "en"}
BAD_DOCUMENT = b"---\nlanguage: xx\n---\n"
SHIRT_BACK = {"items": [{"reason": "too_small", "quantity": 1}]}


def shirt_back(w) -> dict:
    return {"items": [{"line_id": w.paid["lines"][SHIRT]["id"], "quantity": 1,
                       "reason": "too_small"}]}


CASES = [
    Case("post", "/orders", 201, call("post", orders_url, merchant,
                                      json_body=checkout_payload(merchant_reference="NEW-1"))),
    Case("post", "/orders", 400, call("post", orders_url, merchant, data="{not json")),
    Case("post", "/orders", 401, call("post", orders_url, json_body=checkout_payload())),
    Case("post", "/orders", 409, call("post", orders_url, merchant,
                                      json_body=checkout_payload(merchant_reference="A-1"))),
    Case("post", "/orders", 413, call("post", orders_url, merchant, data=HUGE)),
    Case("post", "/orders", 415, call("post", orders_url, merchant, data="{}",
                                      headers={"Content-Type": "text/plain"})),
    Case("post", "/orders", 422, call("post", orders_url, merchant,
                                      json_body=checkout_payload(lines=[]))),
    Case("post", "/customer/session", 201, call(
        "post", fixed("/customer/session"),
        json_body=lambda w: {"order_number": w.unpaid["order_number"], "email": EMAIL})),
    Case("post", "/customer/session", 400, call("post", fixed("/customer/session"),
                                                json_body=["x"])),
    Case("post", "/customer/session", 404, call(
        "post", fixed("/customer/session"),
        json_body={"order_number": "000-000-000", "email": EMAIL})),
    Case("post", "/customer/session", 429, too_many_lookups),
    Case("delete", "/customer/session", 204, call("delete", fixed("/customer/session"),
                                                  unpaid_customer)),
    Case("delete", "/customer/session", 401, call("delete", fixed("/customer/session"))),
    Case("get", "/orders/{order_id}", 200, call("get", paid_url(), paid_customer)),
    Case("get", "/orders/{order_id}", 401, call("get", paid_url())),
    Case("get", "/orders/{order_id}", 404, call("get", other_url(), paid_customer)),
    Case("post", "/orders/{order_id}/returns", 201, call(
        "post", paid_url("/returns"), paid_customer, json_body=shirt_back)),
    Case("post", "/orders/{order_id}/returns", 400, call(
        "post", paid_url("/returns"), paid_customer, data="[]")),
    Case("post", "/orders/{order_id}/returns", 401, call(
        "post", paid_url("/returns"), json_body=shirt_back)),
    Case("post", "/orders/{order_id}/returns", 404, call(
        "post", other_url("/returns"), paid_customer, json_body=shirt_back)),
    Case("post", "/orders/{order_id}/returns", 422, call(
        "post", paid_url("/returns"), paid_customer, json_body=SHIRT_BACK)),
    Case("post", "/returns/{return_id}/shipment", 200, call(
        "post", open_return("shipment"), paid_customer,
        json_body={"tracking_number": "JJD 0001"})),
    Case("post", "/returns/{return_id}/shipment", 400, call(
        "post", open_return("shipment"), paid_customer, json_body=[1])),
    Case("post", "/returns/{return_id}/shipment", 401, call(
        "post", open_return("shipment"), json_body={})),
    Case("post", "/returns/{return_id}/shipment", 404, call(
        "post", open_return("shipment"), unpaid_customer, json_body={})),
    Case("post", "/returns/{return_id}/shipment", 409, call(
        "post", resolved_return("shipment"), paid_customer, json_body={})),
    Case("post", "/returns/{return_id}/shipment", 422, call(
        "post", open_return("shipment"), paid_customer, json_body={"tracking_number": "<b>"})),
    Case("post", "/returns/{return_id}/cancel", 200, call(
        "post", open_return("cancel"), paid_customer)),
    Case("post", "/returns/{return_id}/cancel", 401, call("post", open_return("cancel"))),
    Case("post", "/returns/{return_id}/cancel", 404, call(
        "post", open_return("cancel"), unpaid_customer)),
    Case("post", "/returns/{return_id}/cancel", 409, call(
        "post", resolved_return("cancel"), paid_customer)),
    Case("post", "/orders/{order_id}/payments", 201, with_linked_account(call(
        "post", unpaid_payments, idempotent(unpaid_customer),
        json_body={"amount": 1000, "method": "bank_account"}))),
    Case("post", "/orders/{order_id}/payments", 400, call(
        "post", unpaid_payments, unpaid_customer, json_body={"amount": 1000})),
    Case("post", "/orders/{order_id}/payments", 401, call(
        "post", unpaid_payments, idempotent(nobody), json_body={"amount": 1000})),
    Case("post", "/orders/{order_id}/payments", 404, call(
        "post", other_url("/payments"), idempotent(unpaid_customer),
        json_body={"amount": 1000})),
    Case("post", "/orders/{order_id}/payments", 422, call(
        "post", unpaid_payments, idempotent(unpaid_customer), json_body={"amount": 10**9})),
    Case("post", "/orders/{order_id}/payments", 503, unreachable_provider),
    Case("get", "/orders/{order_id}/refunds", 200, call("get", paid_url("/refunds"),
                                                        paid_customer)),
    Case("get", "/orders/{order_id}/refunds", 401, call("get", paid_url("/refunds"))),
    Case("get", "/orders/{order_id}/refunds", 404, call("get", paid_url("/refunds"),
                                                        unpaid_customer)),
    Case("post", "/refunds/{refund_id}/payout-details", 200, call(
        "post", refund_details, paid_customer,
        json_body={"clearing_number": SEB, "account_number": SEB_ACCOUNT})),
    Case("post", "/refunds/{refund_id}/payout-details", 400, call(
        "post", refund_details, paid_customer, json_body=[])),
    Case("post", "/refunds/{refund_id}/payout-details", 401, call(
        "post", refund_details, json_body={})),
    Case("post", "/refunds/{refund_id}/payout-details", 404, call(
        "post", refund_details, unpaid_customer, json_body={"iban": "x"})),
    Case("post", "/refunds/{refund_id}/payout-details", 422, call(
        "post", refund_details, paid_customer, json_body={"iban": "SE00 0000"})),
    Case("post", "/returns/{return_id}/registration", 200, call(
        "post", open_return("registration"), idempotent(merchant),
        json_body=accept_open_shirt)),
    Case("post", "/returns/{return_id}/registration", 400, call(
        "post", open_return("registration"), merchant, json_body=accept_open_shirt)),
    Case("post", "/returns/{return_id}/registration", 401, call(
        "post", open_return("registration"), idempotent(nobody), json_body=accept_open_shirt)),
    Case("post", "/returns/{return_id}/registration", 404, call(
        "post", open_return("registration"), idempotent(other_merchant),
        json_body=accept_open_shirt)),
    Case("post", "/returns/{return_id}/registration", 409, call(
        "post", resolved_return("registration"), idempotent(merchant),
        json_body={"items": [{"return_item_id": 1, "accepted_quantity": 1}]})),
    Case("post", "/returns/{return_id}/registration", 422, call(
        "post", open_return("registration"), idempotent(merchant), json_body={"items": []})),
    Case("post", "/webhook-endpoints", 201, call(
        "post", fixed("/webhook-endpoints"), merchant,
        json_body={"url": "https://shop.example.com/hooks", "events": ["return.sent"]})),
    Case("post", "/webhook-endpoints", 400, call("post", fixed("/webhook-endpoints"), merchant,
                                                 data="[1]")),
    Case("post", "/webhook-endpoints", 401, call("post", fixed("/webhook-endpoints"),
                                                 json_body={"url": "https://a.example/"})),
    Case("post", "/webhook-endpoints", 413, call("post", fixed("/webhook-endpoints"), merchant,
                                                 data=HUGE)),
    Case("post", "/webhook-endpoints", 422, call(
        "post", fixed("/webhook-endpoints"), merchant,
        json_body={"url": "https://shop.example.com/hooks", "events": ["parcel.lost"]})),
    Case("get", "/webhook-endpoints", 200, call("get", fixed("/webhook-endpoints"), merchant)),
    Case("get", "/webhook-endpoints", 401, call("get", fixed("/webhook-endpoints"))),
    Case("delete", "/webhook-endpoints/{endpoint_id}", 200, call(
        "delete", lambda w: f"{API}/webhook-endpoints/{w.endpoint['id']}", merchant)),
    Case("delete", "/webhook-endpoints/{endpoint_id}", 401, call(
        "delete", lambda w: f"{API}/webhook-endpoints/{w.endpoint['id']}")),
    Case("delete", "/webhook-endpoints/{endpoint_id}", 404, call(
        "delete", lambda w: f"{API}/webhook-endpoints/{w.endpoint['id']}", other_merchant)),
    Case("post", "/webhook-endpoints/{endpoint_id}/rotate-secret", 200, call(
        "post", lambda w: f"{API}/webhook-endpoints/{w.endpoint['id']}/rotate-secret",
        merchant)),
    Case("post", "/webhook-endpoints/{endpoint_id}/rotate-secret", 401, call(
        "post", lambda w: f"{API}/webhook-endpoints/{w.endpoint['id']}/rotate-secret")),
    Case("post", "/webhook-endpoints/{endpoint_id}/rotate-secret", 404, call(
        "post", lambda w: f"{API}/webhook-endpoints/{w.endpoint['id']}/rotate-secret",
        other_merchant)),
    Case("get", "/customer/bank-account", 200, call("get", fixed("/customer/bank-account"),
                                                    unpaid_customer)),
    Case("get", "/customer/bank-account", 401, call("get", fixed("/customer/bank-account"))),
    Case("put", "/customer/bank-account", 200, call(
        "put", fixed("/customer/bank-account"), unpaid_customer,
        json_body={"clearing_number": SEB, "account_number": SEB_ACCOUNT})),
    Case("put", "/customer/bank-account", 400, call(
        "put", fixed("/customer/bank-account"), unpaid_customer, json_body=[])),
    Case("put", "/customer/bank-account", 401, call(
        "put", fixed("/customer/bank-account"), json_body={})),
    Case("put", "/customer/bank-account", 422, call(
        "put", fixed("/customer/bank-account"), unpaid_customer,
        json_body={"clearing_number": SEB, "account_number": "1"})),
    Case("delete", "/customer/bank-account", 200, with_linked_account(call(
        "delete", fixed("/customer/bank-account"), unpaid_customer))),
    Case("delete", "/customer/bank-account", 401, call("delete",
                                                       fixed("/customer/bank-account"))),
    Case("post", "/customer/bank-account/mandate", 200, with_linked_account(call(
        "post", fixed("/customer/bank-account/mandate"), unpaid_customer,
        json_body={"language": "en"}))),
    Case("post", "/customer/bank-account/mandate", 400, call(
        "post", fixed("/customer/bank-account/mandate"), unpaid_customer, data="x")),
    Case("post", "/customer/bank-account/mandate", 401, call(
        "post", fixed("/customer/bank-account/mandate"), json_body={"language": "en"})),
    Case("post", "/customer/bank-account/mandate", 409, call(
        "post", fixed("/customer/bank-account/mandate"), unpaid_customer,
        json_body={"language": "en"})),
    Case("post", "/customer/bank-account/mandate", 422, with_linked_account(call(
        "post", fixed("/customer/bank-account/mandate"), unpaid_customer,
        json_body={"language": "fi"}))),
    Case("put", "/customer/pay-on-due-date", 200, with_linked_account(call(
        "put", fixed("/customer/pay-on-due-date"), unpaid_customer,
        json_body={"pay_on_due_date": True}))),
    Case("put", "/customer/pay-on-due-date", 400, call(
        "put", fixed("/customer/pay-on-due-date"), unpaid_customer, data="x")),
    Case("put", "/customer/pay-on-due-date", 401, call(
        "put", fixed("/customer/pay-on-due-date"), json_body={"pay_on_due_date": True})),
    Case("put", "/customer/pay-on-due-date", 409, call(
        "put", fixed("/customer/pay-on-due-date"), unpaid_customer,
        json_body={"pay_on_due_date": True})),
    Case("put", "/customer/pay-on-due-date", 422, call(
        "put", fixed("/customer/pay-on-due-date"), unpaid_customer,
        json_body={"pay_on_due_date": "yes"})),
    Case("post", "/orders/{order_id}/due-date-payment", 201, with_linked_account(call(
        "post", lambda w: f"{API}/orders/{w.unpaid['id']}/due-date-payment", unpaid_customer))),
    Case("post", "/orders/{order_id}/due-date-payment", 401, call(
        "post", lambda w: f"{API}/orders/{w.unpaid['id']}/due-date-payment")),
    Case("post", "/orders/{order_id}/due-date-payment", 404, call(
        "post", other_url("/due-date-payment"), unpaid_customer)),
    Case("post", "/orders/{order_id}/due-date-payment", 409, call(
        "post", lambda w: f"{API}/orders/{w.unpaid['id']}/due-date-payment", unpaid_customer)),
    Case("post", "/payments/{payment_id}/cancel", 200, with_linked_account(scheduled_then(
        lambda w: "cancel"))),
    Case("post", "/payments/{payment_id}/cancel", 401, call(
        "post", fixed("/payments/1/cancel"))),
    Case("post", "/payments/{payment_id}/cancel", 404, call(
        "post", fixed("/payments/999/cancel"), unpaid_customer)),
    Case("post", "/payments/{payment_id}/cancel", 409, with_linked_account(scheduled_then(
        lambda w: "cancel twice"))),
    Case("get", "/orders/{order_id}/calendar.ics", 200, call(
        "get", lambda w: f"{API}/orders/{w.unpaid['id']}/calendar.ics", unpaid_customer)),
    Case("get", "/orders/{order_id}/calendar.ics", 401, call(
        "get", lambda w: f"{API}/orders/{w.unpaid['id']}/calendar.ics")),
    Case("get", "/orders/{order_id}/calendar.ics", 404, call(
        "get", other_url("/calendar.ics"), unpaid_customer)),
    # Routed in other branches: these run once merged.
    Case("get", "/returns", 200, call("get", fixed("/returns?status=reported"), merchant)),
    Case("get", "/returns", 401, call("get", fixed("/returns"))),
    Case("put", "/instructions", 201, call("put", fixed("/instructions"), merchant,
                                           data=INSTRUCTIONS.encode(), headers=MARKDOWN)),
    Case("put", "/instructions", 401, call("put", fixed("/instructions"),
                                           data=INSTRUCTIONS.encode(), headers=MARKDOWN)),
    Case("put", "/instructions", 422, call("put", fixed("/instructions"), merchant,
                                           data=BAD_DOCUMENT, headers=MARKDOWN)),
    Case("post", "/bank-files", 201, call("post", fixed("/bank-files"), support_key(),
                                          data=BANK_FILE, headers=XML)),
    Case("post", "/bank-files", 400, call("post", fixed("/bank-files"),
                                          lambda w, db: bearer(support_token(db)),
                                          data=BANK_FILE, headers=XML)),
    Case("post", "/bank-files", 401, call("post", fixed("/bank-files"), data=BANK_FILE,
                                          headers=XML)),
    Case("post", "/bank-files", 403, call("post", fixed("/bank-files"), merchant,
                                          data=BANK_FILE, headers=XML)),
    Case("post", "/bank-files", 413, call("post", fixed("/bank-files"), support_key(),
                                          data=HUGE, headers=XML)),
    Case("post", "/bank-files", 415, call("post", fixed("/bank-files"), support_key(),
                                          data=BANK_FILE, headers={"Content-Type":
                                                                   "application/json"})),
    Case("post", "/bank-files", 422, call("post", fixed("/bank-files"), support_key(),
                                          data=b"<Document/>", headers=XML)),
    Case("get", "/support/unmatched-payments", 200, unmatched_after_import),
    Case("get", "/support/unmatched-payments", 401, call(
        "get", fixed("/support/unmatched-payments"))),
    Case("get", "/support/unmatched-payments", 403, call(
        "get", fixed("/support/unmatched-payments"), merchant)),
    Case("get", "/support/stuck-refunds", 200, call(
        "get", fixed("/support/stuck-refunds"), lambda w, db: bearer(support_token(db)))),
    Case("get", "/support/stuck-refunds", 401, call("get", fixed("/support/stuck-refunds"))),
    Case("get", "/support/stuck-refunds", 403, call("get", fixed("/support/stuck-refunds"),
                                                    merchant)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method.upper()} {c.path} {c.status}")
def test_real_answers_match_the_document(app, client, db, world, case):
    if (case.method, case.path) not in routed_operations(app):
        pytest.skip(f"{case.method.upper()} {case.path} is not routed in this branch")
    response = case.ask(client, world, db)
    assert response.status_code == case.status, response.get_data(as_text=True)
    check(document(), response, case.path, case.method)


def test_every_routed_operation_has_its_success_and_its_401_checked(app):
    """A route added later fails here until a case above exercises it."""
    covered = {(c.method, c.path, c.status) for c in CASES}
    doc = document()
    for method, path in routed_operations(app):
        op = doc["paths"][path][method]
        success = next(s for s in op["responses"] if s.startswith("2"))
        assert (method, path, int(success)) in covered, f"no case for {method} {path} {success}"
        if op["security"]:
            assert (method, path, 401) in covered, f"no case for {method} {path} 401"
