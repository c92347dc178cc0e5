"""POST /api/v1/orders: what a merchant's checkout sends, as the API contract (docs/api.md) says."""

from __future__ import annotations

import hashlib
import re

import pytest

from returns_app.domain import clock
from tests.api_helpers import assert_error, bearer, count, is_int
from tests.builders import checkout_payload, make_merchant
from tests.rows import by_id, rows_where

ORDERS = "/api/v1/orders"
# checkout_payload(): 2 x 29900 + 1 x 79900 + 1 x 10000 (a gift card, "GC-*" is non-returnable)
DEFAULT_TOTAL = 2 * 29900 + 79900 + 10000


@pytest.fixture
def shop(db):
    """(merchant, API key)"""
    return make_merchant(db)


def post_order(client, key: str, payload=None, **overrides):
    body = payload if payload is not None else checkout_payload(**overrides)
    return client.post(ORDERS, json=body, headers=bearer(key))


def created(response) -> dict:
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def table_counts(db) -> dict[str, int]:
    return {t: count(db, t) for t in ("orders", "order_line", "customer", "ledger_entry")}


# --- 201 ------------------------------------------------------------------------------------

def test_created_order_has_ids_order_number_lines_and_amounts(client, db, shop):
    merchant, key = shop
    body = created(post_order(client, key, merchant_reference="CHK-1"))

    assert is_int(body["id"])
    assert re.fullmatch(r"\d{3}-\d{3}-\d{3}", body["order_number"])
    assert body["merchant_reference"] == "CHK-1"
    assert body["merchant"] == {"id": merchant["id"], "name": merchant["name"]}
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in body["lines"]] == [
        ("SHIRT-M", 2, 29900), ("JEANS-32", 1, 79900), ("GC-100", 1, 10000)]
    line_ids = [line["id"] for line in body["lines"]]
    assert all(is_int(i) for i in line_ids) and len(set(line_ids)) == 3
    assert body["amounts"] == {"total": DEFAULT_TOTAL, "payable_now": DEFAULT_TOTAL,
                               "paused": 0, "paid": 0, "refunded": 0, "refund_owed": 0}

    row = by_id(db, "orders", body["id"])
    assert (row["merchant_id"], row["order_number"]) == (merchant["id"], body["order_number"])
    stored = db.execute("SELECT id FROM order_line WHERE order_id = ? ORDER BY position",
                        [body["id"]]).fetchall()
    assert [r[0] for r in stored] == line_ids


def test_order_numbers_are_unique(client, shop):
    _, key = shop
    numbers = {created(post_order(client, key, merchant_reference=f"R-{i}"))["order_number"]
               for i in range(5)}
    assert len(numbers) == 5


def test_card_order_is_paid_in_full_at_purchase(client, shop):
    _, key = shop
    body = created(post_order(client, key, payment_method="card"))
    amounts = body["amounts"]
    assert amounts["total"] == DEFAULT_TOTAL
    assert amounts["paid"] == amounts["total"]
    assert amounts["payable_now"] == 0
    assert amounts["refund_owed"] == 0
    assert body["due_date"] is None


def test_invoice_is_due_14_days_after_delivery(client, shop):
    _, key = shop
    body = created(post_order(client, key, payment_method="invoice",
                              delivered_at="2026-03-02T10:00:00Z"))
    assert body["delivered_at"].startswith("2026-03-02T10:00:00")
    assert body["due_date"] == "2026-03-16"


def test_invoice_without_delivery_has_no_due_date_yet(client, shop):
    _, key = shop
    payload = checkout_payload(payment_method="invoice")
    del payload["delivered_at"]
    body = created(post_order(client, key, payload))
    assert body["delivered_at"] is None
    assert body["due_date"] is None


@pytest.mark.parametrize(("sku", "returnable"), [
    ("GC-100", False),
    ("gc-250", False),  # the merchant's glob is matched regardless of case
    ("XGC-100", True),  # ...but anchored at the start
    ("SHIRT-M", True),
])
def test_sku_matching_a_non_returnable_glob_is_not_returnable(client, shop, sku, returnable):
    _, key = shop
    body = created(post_order(client, key, lines=[
        {"sku": sku, "name": "Thing", "quantity": 2, "unit_price": 1000}]))
    line = body["lines"][0]
    assert line["returnable"] is returnable
    assert line["returnable_quantity"] == (2 if returnable else 0)


# --- 401 / 400 / 413 ------------------------------------------------------------------------

def revoke_all_keys(db, merchant_id: int) -> None:
    db.execute("UPDATE merchant_api_key SET revoked_at = ? WHERE merchant_id = ?",
               [clock.now_iso(), merchant_id])


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer rk_not-a-real-key"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic dXNlcjpwYXNz"},
], ids=["no header", "unknown key", "empty bearer", "basic auth"])
def test_without_a_valid_key_is_401(client, db, shop, headers):
    response = client.post(ORDERS, json=checkout_payload(), headers=headers)
    assert_error(response, 401, "unauthorized")
    assert count(db, "orders") == 0


def test_revoked_key_is_401(client, db, shop):
    merchant, key = shop
    created(post_order(client, key, merchant_reference="before-revoking"))
    revoke_all_keys(db, merchant["id"])
    assert_error(post_order(client, key, merchant_reference="after-revoking"), 401,
                 "unauthorized")
    assert count(db, "orders") == 1


def test_a_customer_token_is_not_a_merchant_key(client, db, shop):
    _, key = shop
    order = created(post_order(client, key))
    session = client.post("/api/v1/customer/session", json={
        "order_number": order["order_number"], "email": "kund@example.se"})
    token = session.get_json()["token"]
    assert_error(post_order(client, token, merchant_reference="other"), 401, "unauthorized")


def test_key_is_stored_only_as_its_hash(db, shop):
    merchant, key = shop
    rows = [dict(r) for r in rows_where(db, "merchant_api_key", "merchant_id = ?",
                                                               [merchant["id"]])]
    assert [r["key_hash"] for r in rows] == [hashlib.sha256(key.encode()).hexdigest()]
    assert not any(key in str(value) for row in rows for value in row.values())


@pytest.mark.parametrize(("data", "content_type"), [
    ("not json at all", "application/json"),
    ('{"merchant_reference": "R-1", ', "application/json"),
    ("[]", "application/json"),
    ('[{"merchant_reference": "R-1"}]', "application/json"),
    ('"a string"', "application/json"),
    ("null", "application/json"),
], ids=["text", "truncated json", "empty array", "array", "string", "null"])
def test_body_that_is_not_a_json_object_is_400(client, db, shop, data, content_type):
    _, key = shop
    response = client.post(ORDERS, data=data, content_type=content_type, headers=bearer(key))
    assert_error(response, 400, "malformed")
    assert count(db, "orders") == 0


def test_body_over_the_size_limit_is_413(client, app, db, shop):
    _, key = shop
    payload = checkout_payload(lines=[{"sku": "A", "name": "x" * app.config["MAX_CONTENT_LENGTH"],
                                       "quantity": 1, "unit_price": 1}])
    assert_error(post_order(client, key, payload), 413, "too_large")
    assert count(db, "orders") == 0


# --- 422 ------------------------------------------------------------------------------------

def without(key):
    def change(payload):
        del payload[key]
    return change


def set_customer(**values):
    def change(payload):
        payload["customer"].update(values)
    return change


def set_top(**values):
    def change(payload):
        payload.update(values)
    return change


def set_line(index=0, **values):
    def change(payload):
        payload["lines"][index].update(values)
    return change


INVALID = [
    ("missing merchant_reference", without("merchant_reference"), "merchant_reference"),
    ("blank merchant_reference", set_top(merchant_reference="   "), "merchant_reference"),
    ("missing customer", without("customer"), "customer"),
    ("bad email", set_customer(email="kund.example.se"), "customer.email"),
    ("email with two @", set_customer(email="kund@@example.se"), "customer.email"),
    ("empty name", set_customer(name=""), "customer.name"),
    ("currency XXX", set_top(currency="XXX"), "currency"),
    ("currency lower case", set_top(currency="sek"), "currency"),
    ("payment_method cash", set_top(payment_method="cash"), "payment_method"),
    ("empty lines", set_top(lines=[]), "lines"),
    ("lines not a list", set_top(lines={"sku": "A"}), "lines"),
    ("line not an object", set_top(lines=["SHIRT-M"]), "lines[0]"),
    ("quantity 0", set_line(quantity=0), "lines[0].quantity"),
    ("quantity as a string", set_line(quantity="2"), "lines[0].quantity"),
    ("quantity true", set_line(quantity=True), "lines[0].quantity"),
    ("quantity on the third line", set_line(2, quantity=-1), "lines[2].quantity"),
    ("unit_price -1", set_line(unit_price=-1), "lines[0].unit_price"),
    ("unit_price 1.5", set_line(unit_price=1.5), "lines[0].unit_price"),
    ("unit_price 100.0", set_line(unit_price=100.0), "lines[0].unit_price"),
    ("missing unit_price", set_line(unit_price=None), "lines[0].unit_price"),
    ("sku too long", set_line(sku="S" * 65), "lines[0].sku"),
    ("empty line name", set_line(name=" "), "lines[0].name"),
    ("delivered_at not a date", set_top(delivered_at="yesterday"), "delivered_at"),
]


@pytest.mark.parametrize(("change", "field"), [case[1:] for case in INVALID],
                         ids=[case[0] for case in INVALID])
def test_each_invalid_value_is_422_naming_its_field(client, db, shop, change, field):
    _, key = shop
    payload = checkout_payload()
    change(payload)
    error = assert_error(post_order(client, key, payload), 422, "invalid")
    assert set(error["fields"]) == {field}
    assert error["fields"][field].strip()
    assert table_counts(db) == {"orders": 0, "order_line": 0, "customer": 0, "ledger_entry": 0}


def test_empty_customer_object_is_422_naming_email_and_name(client, db, shop):
    _, key = shop
    error = assert_error(post_order(client, key, customer={}), 422, "invalid")
    assert set(error["fields"]) == {"customer.email", "customer.name"}
    assert count(db, "orders") == 0


def test_empty_object_names_every_required_field(client, shop):
    _, key = shop
    error = assert_error(post_order(client, key, {}), 422, "invalid")
    assert set(error["fields"]) == {"merchant_reference", "customer", "currency",
                                    "payment_method", "lines"}


def test_every_bad_field_is_named_in_one_answer(client, db, shop):
    _, key = shop
    payload = checkout_payload()
    for change in (without("merchant_reference"), set_customer(email="nope", name=""),
                   set_top(currency="XXX", payment_method="cash"),
                   set_line(0, quantity="2"), set_line(1, unit_price=1.5),
                   set_line(2, sku="S" * 65)):
        change(payload)
    error = assert_error(post_order(client, key, payload), 422, "invalid")
    assert set(error["fields"]) == {
        "merchant_reference", "customer.email", "customer.name", "currency", "payment_method",
        "lines[0].quantity", "lines[1].unit_price", "lines[2].sku"}
    assert count(db, "orders") == 0


# --- 409 and customers ----------------------------------------------------------------------

def test_same_merchant_reference_twice_is_409(client, db, shop):
    _, key = shop
    first = created(post_order(client, key, merchant_reference="DUP-1"))
    error = assert_error(post_order(client, key, merchant_reference="DUP-1", currency="EUR"),
                         409, "conflict")
    assert "DUP-1" in error["message"]
    assert [r[0] for r in db.execute("SELECT id FROM orders").fetchall()] == [first["id"]]


def test_same_merchant_reference_at_another_merchant_is_fine(client, db, shop):
    _, key = shop
    _, other_key = make_merchant(db, "Other Shop")
    first = created(post_order(client, key, merchant_reference="SHARED-7"))
    second = created(post_order(client, other_key, merchant_reference="SHARED-7"))
    assert first["merchant"]["name"] == "Test Shop"
    assert second["merchant"]["name"] == "Other Shop"
    assert first["order_number"] != second["order_number"]


def test_customer_email_is_normalized_and_reused(client, db, shop):
    _, key = shop
    first = created(post_order(client, key, merchant_reference="C-1",
                               customer={"email": "  Kim.Kund@Example.SE ", "name": "Kim"}))
    second = created(post_order(client, key, merchant_reference="C-2",
                                customer={"email": "kim.kund@example.se", "name": "Kim K"}))
    assert first["customer"]["email"] == "kim.kund@example.se"
    assert second["customer"]["email"] == "kim.kund@example.se"
    assert count(db, "customer") == 1
    customer_ids = {by_id(db, "orders", o["id"])["customer_id"] for o in (first, second)}
    assert len(customer_ids) == 1


# --- the documented limits are the enforced ones --------------------------------------------

def documented_line_schema(client) -> dict:
    document = client.get("/api/v1/openapi.json").get_json()
    return document["components"]["schemas"]["NewOrder"]["properties"]["lines"]["items"]


@pytest.mark.parametrize("field", ["quantity", "unit_price"])
def test_documented_line_limits_are_enforced(client, db, shop, field):
    _, key = shop
    schema = documented_line_schema(client)["properties"][field]
    lowest, highest = schema["minimum"], schema["maximum"]
    for n, value in enumerate((lowest, highest)):
        line = {"sku": "A", "name": "Thing", "quantity": 1, "unit_price": 100, field: value}
        created(post_order(client, key, merchant_reference=f"OK-{n}", lines=[line]))
    for value in (lowest - 1, highest + 1):
        line = {"sku": "A", "name": "Thing", "quantity": 1, "unit_price": 100, field: value}
        error = assert_error(post_order(client, key, merchant_reference="BAD", lines=[line]),
                             422, "invalid")
        assert set(error["fields"]) == {f"lines[0].{field}"}
    assert count(db, "orders") == 2


def test_documented_text_limits_are_enforced(client, db, shop):
    _, key = shop
    sku_max = documented_line_schema(client)["properties"]["sku"]["maxLength"]
    created(post_order(client, key, merchant_reference="S-1", lines=[
        {"sku": "S" * sku_max, "name": "Thing", "quantity": 1, "unit_price": 100}]))
    error = assert_error(post_order(client, key, merchant_reference="S-2", lines=[
        {"sku": "S" * (sku_max + 1), "name": "Thing", "quantity": 1, "unit_price": 100}]),
        422, "invalid")
    assert set(error["fields"]) == {"lines[0].sku"}
