"""Reads collapsed for speed give what the one-at-a-time reads give, over a generated database
with returns, payments and refunds in every state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from bench import generate
from returns_app.services import orders, payments, returns
from returns_app.services.orders import Viewer
from returns_app.store import db as db_module

pytestmark = pytest.mark.sqlite_only(
    reason="over a database bench/generate.py builds, which it writes as a SQLite file only")
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("batched") / "generated.sqlite3"
    with time_machine.travel(NOW, tick=False):
        generate.build(path, 3000, now=NOW, log=lambda *_: None)
    conn = db_module.connect(path)
    # Generated refunds have all reached the customer: some must still be under way.
    conn.execute("UPDATE refund SET status = 'failed' WHERE id % 9 = 0")
    yield conn
    conn.close()


def _busy_customers(db, count: int = 60) -> list[int]:
    """Customers with refunds under way first, then with the most refunds."""
    return [r[0] for r in db.execute(
        "SELECT orders.customer_id FROM orders LEFT JOIN refund ON refund.order_id = orders.id"
        " GROUP BY orders.customer_id"
        " ORDER BY max(refund.status != 'succeeded') DESC, count(refund.id) DESC,"
        " orders.customer_id LIMIT ?", [count])]


def test_amounts_of_a_customers_orders_are_each_orders_amounts(generated):
    customers = _busy_customers(generated)
    assert len(customers) > 20
    with_refunds = under_way = 0
    for customer_id in customers:
        batched = orders.amounts_of_customer(generated, customer_id)
        own = [r[0] for r in generated.execute(
            "SELECT id FROM orders WHERE customer_id = ?", [customer_id])]
        assert batched == {order_id: orders.amounts(generated, order_id) for order_id in own}
        with_refunds += any(a.refunded for a in batched.values())
        under_way += any(a.refund_owed for a in batched.values())
    assert with_refunds > 5 and under_way > 5


def test_orders_of_a_customer_carry_those_amounts(generated):
    customer_id = _busy_customers(generated, 1)[0]
    listed = orders.orders_of_customer(generated, customer_id)
    assert len(listed) > 1
    for order in listed:
        assert order["amounts"] == orders.amounts(generated, order["id"])


def test_details_from_an_order_already_read_equal_details_read_afresh(generated):
    for (order_id,) in generated.execute(
            "SELECT order_id FROM refund ORDER BY id LIMIT 40").fetchall():
        order = orders.get_order(generated, order_id)
        given = orders.order_details(generated, order_id, order)
        assert given == orders.order_details(generated, order_id)
        assert "lines" not in order  # the caller's row is left as it was
        assert payments.allowed_now(generated, order_id, given["amounts"]) == \
            payments.allowed_now(generated, order_id)


def test_a_return_read_for_its_customer_names_its_order(generated):
    ret_id, order_id, customer_id = generated.execute(
        "SELECT returns.id, orders.id, orders.customer_id FROM returns"
        " JOIN orders ON orders.id = returns.order_id ORDER BY returns.id LIMIT 1").fetchone()
    details = returns.return_details(generated, Viewer(customer_id=customer_id), ret_id)
    assert details["order"] == orders.get_order(generated, order_id)
    assert details["id"] == ret_id and details["items"]
