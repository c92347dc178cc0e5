"""Orders as a checkout sends them, without HTTP."""

from __future__ import annotations

import pytest

from returns_app.domain.errors import Conflict, Invalid
from returns_app.services import orders
from returns_app.store.db import select, select_one
from tests.builders import checkout_payload, make_merchant, make_order


@pytest.fixture
def shop(db):
    return make_merchant(db)[0]


def test_invoice_order_is_due_14_days_after_delivery(db, shop):
    order = make_order(db, shop["id"], delivered_at="2026-11-01T12:00:00Z")
    assert order["due_date"] == "2026-11-15"
    assert order["amounts"].payable_now == order["amounts"].total == 149700
    assert order["amounts"].paid == 0


def test_card_order_is_paid_in_full_at_purchase(db, shop):
    order = make_order(db, shop["id"], payment_method="card")
    assert order["due_date"] is None
    assert order["amounts"].paid == order["amounts"].total
    assert order["amounts"].payable_now == 0
    kinds = [(r["kind"], r["amount_minor"]) for r in select(db,
        "SELECT kind, amount_minor FROM ledger_entry WHERE order_id = ? ORDER BY id",
        [order["id"]])]
    assert kinds == [("charge", 149700), ("payment", 149700)]


def test_non_returnable_skus_come_from_the_merchants_instructions(db, shop):
    order = make_order(db, shop["id"])
    gift = order["lines"][2]
    assert (gift["returnable"], gift["non_returnable_reason"]) == (0, "Gift cards")
    assert gift["returnable_quantity"] == 0


@pytest.mark.parametrize("number", ["123456789", "123 456 789", " 123-456-789 "])
def test_order_numbers_are_normalized(number):
    assert orders.normalize_order_number(number) == "123-456-789"


def test_every_bad_field_is_named_at_once(db, shop):
    payload = checkout_payload(currency="XXX", payment_method="cash",
                               customer={"email": "nope", "name": ""})
    with pytest.raises(Invalid) as exc:
        orders.create_order(db, shop["id"], payload)
    assert set(exc.value.fields) == {"currency", "payment_method", "customer.email",
                                     "customer.name"}


def test_duplicate_reference_conflicts(db, shop):
    make_order(db, shop["id"], merchant_reference="A-1")
    with pytest.raises(Conflict):
        make_order(db, shop["id"], merchant_reference="A-1")
    assert select_one(db, "SELECT count(*) AS n FROM orders")["n"] == 1
