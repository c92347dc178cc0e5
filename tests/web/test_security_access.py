"""Object-level access on the API: whoever asks about someone else's object gets the same 404
as for an object that doesn't exist, and nothing changes.

Two merchants, X and Y, each with a customer's order, a resolved return that left a refund
owed, and an open return. The tables below name each operation once; rows for operations built
in other branches run as soon as the app routes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from returns_app.services import payments, webhook_endpoints
from tests.api.test_api_customer import token_for
from tests.api_helpers import assert_error, bearer, count
from tests.builders import decide, make_merchant, make_order, make_return
from tests.openapi_contract import routed_operations
from tests.rows import by_id, rows_where

API = "/api/v1"
NO_SUCH_ID = 999_999


@dataclass
class Side:
    key: str
    order: dict
    open_return: dict
    resolved_return: dict
    refund: dict
    token: str
    endpoint: dict  # the merchant's webhook endpoint
    payment_id: int


def build_side(client, db, name: str, email: str) -> Side:
    merchant, key = make_merchant(db, name)
    order = make_order(db, merchant["id"], customer={"email": email, "name": name + " Kund"})
    paid = payments.record_transfer(db, order["id"], 149700, f"OCR-{name}", actor="test")
    resolved = make_return(db, order, {1: 1})
    decide(db, merchant["id"], resolved, (0, 1, 0))
    (refund,) = rows_where(db, "refund", "order_id = ?", [order["id"]])
    endpoint, _secret = webhook_endpoints.create(db, merchant["id"], "https://shop.example.com/h",
                                                 None, "test", allow_local=False)
    return Side(key, order, make_return(db, order, {0: 1}), resolved, refund,
                token_for(client, order, email), endpoint, paid["id"])


@pytest.fixture
def sides(client, db) -> tuple[Side, Side]:
    return (build_side(client, db, "Shop X", "x@example.se"),
            build_side(client, db, "Shop Y", "y@example.se"))


# (method, documented path, how to fill its id from a Side, JSON body)
CUSTOMER_OPERATIONS = [
    ("get", "/orders/{order_id}", lambda s: s.order["id"], None),
    ("post", "/orders/{order_id}/returns", lambda s: s.order["id"],
     {"items": [{"line_id": 1, "quantity": 1, "reason": "too_small"}]}),
    ("get", "/orders/{order_id}/refunds", lambda s: s.order["id"], None),
    ("post", "/orders/{order_id}/payments", lambda s: s.order["id"], {"amount": 100}),
    ("post", "/refunds/{refund_id}/payout-details", lambda s: s.refund["id"],
     {"clearing_number": "8327-9", "account_number": "1234567897"}),
    ("post", "/returns/{return_id}/shipment", lambda s: s.open_return["id"],
     {"tracking_number": "JJD1"}),
    ("post", "/returns/{return_id}/cancel", lambda s: s.open_return["id"], None),
    ("post", "/orders/{order_id}/due-date-payment", lambda s: s.order["id"], None),
    ("post", "/payments/{payment_id}/cancel", lambda s: s.payment_id, None),
    ("get", "/orders/{order_id}/calendar.ics", lambda s: s.order["id"], None),
]
MERCHANT_OPERATIONS = [
    ("post", "/returns/{return_id}/registration", lambda s: s.open_return["id"],
     {"items": [{"return_item_id": 1, "accepted_quantity": 1}]}),
    ("delete", "/webhook-endpoints/{endpoint_id}", lambda s: s.endpoint["id"], None),
    ("post", "/webhook-endpoints/{endpoint_id}/rotate-secret", lambda s: s.endpoint["id"],
     None),
]


def url_of(path: str, object_id: int) -> str:
    return API + path.split("{")[0] + str(object_id) + path.split("}")[1]


def ask(client, method: str, url: str, credential: str, body):
    headers = {**bearer(credential), "Idempotency-Key": "access-1"}
    return client.open(url, method=method.upper(), json=body, headers=headers)


def skip_unless_routed(app, method: str, path: str) -> None:
    if (method, path) not in routed_operations(app):
        pytest.skip(f"{method.upper()} {path} is not routed in this branch")


@pytest.mark.parametrize("method, path, object_id, body", CUSTOMER_OPERATIONS,
                         ids=[f"{m.upper()} {p}" for m, p, _, _ in CUSTOMER_OPERATIONS])
def test_a_customer_token_sees_nothing_of_another_customers_order(app, client, db, sides,
                                                                 method, path, object_id,
                                                                 body):
    skip_unless_routed(app, method, path)
    mine, theirs = sides
    before = count(db, "audit_event")
    foreign = ask(client, method, url_of(path, object_id(theirs)), mine.token, body)
    missing = ask(client, method, url_of(path, NO_SUCH_ID), mine.token, body)
    assert_error(foreign, 404, "not_found")
    assert foreign.get_json() == missing.get_json(), \
        "someone else's object answers differently from a missing one"
    assert count(db, "audit_event") == before


@pytest.mark.parametrize("method, path, object_id, body", MERCHANT_OPERATIONS,
                         ids=[f"{m.upper()} {p}" for m, p, _, _ in MERCHANT_OPERATIONS])
def test_a_merchant_key_sees_nothing_of_another_merchants_returns(app, client, db, sides,
                                                                 method, path, object_id, body):
    skip_unless_routed(app, method, path)
    mine, theirs = sides
    before = count(db, "audit_event")
    foreign = ask(client, method, url_of(path, object_id(theirs)), mine.key, body)
    missing = ask(client, method, url_of(path, NO_SUCH_ID), mine.key, body)
    assert_error(foreign, 404, "not_found")
    assert foreign.get_json() == missing.get_json()
    assert count(db, "audit_event") == before


def test_the_open_returns_stay_untouched_by_strangers(client, db, sides):
    """The return endpoints answer 'no such return' for someone else's; and it stays open."""
    mine, theirs = sides
    for action in ("shipment", "cancel"):
        response = ask(client, "post", f"{API}/returns/{theirs.open_return['id']}/{action}",
                       mine.token, {})
        assert_error(response, 404, "not_found")
    assert by_id(db, "returns", theirs.open_return["id"])["status"] == "reported"


def test_the_merchants_returns_list_holds_only_its_own(app, client, sides):
    skip_unless_routed(app, "get", "/returns")
    mine, theirs = sides
    listed = client.get(f"{API}/returns", headers=bearer(mine.key)).get_json()["returns"]
    order_ids = {r["order_id"] for r in listed}
    assert order_ids == {mine.order["id"]}


@pytest.mark.parametrize("method, path, object_id, body",
                         CUSTOMER_OPERATIONS + MERCHANT_OPERATIONS,
                         ids=[f"{m.upper()} {p}" for m, p, _, _ in
                              CUSTOMER_OPERATIONS + MERCHANT_OPERATIONS])
def test_the_wrong_kind_of_credential_is_refused(app, client, sides, method, path, object_id,
                                                body):
    """A customer token is no merchant key, nor the other way round."""
    skip_unless_routed(app, method, path)
    mine, _ = sides
    wrong = mine.key if (method, path, object_id, body) in CUSTOMER_OPERATIONS else mine.token
    response = ask(client, method, url_of(path, object_id(mine)), wrong, body)
    assert_error(response, 401, "unauthorized")


def test_every_routed_operation_with_an_id_is_in_a_table(app):
    """A new operation on someone's object fails here until a row above checks who may ask."""
    tabled = {(m, p) for m, p, _, _ in CUSTOMER_OPERATIONS + MERCHANT_OPERATIONS}
    with_ids = {(m, p) for m, p in routed_operations(app) if "{" in p}
    assert with_ids - tabled == set()
