"""The schema's guarantees, the same on both engines: append-only history, CHECK constraints,
case-blind emails, and the read models triggers keep (stuck_candidate, the inbox's counts,
order versions, returns.merchant_id, refund.unknown_since)."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from returns_app.store.db import insert, select, select_one, write_transaction

NOW = "2026-01-10T10:00:00+00:00"


def an_order(db) -> dict:
    tag = uuid.uuid4().hex[:12]
    merchant = insert(db, "merchant", {"slug": f"shop-{tag}", "name": "Shop", "created_at": NOW})
    customer = insert(db, "customer", {"email": f"{tag}@example.se", "name": "Kund",
                                       "created_at": NOW})
    order = insert(db, "orders", {
        "merchant_id": merchant, "customer_id": customer, "order_number": f"O-{tag}",
        "merchant_reference": tag, "currency": "SEK", "payment_method": "invoice",
        "purchased_at": NOW, "created_at": NOW})
    line = insert(db, "order_line", {"order_id": order, "position": 1, "sku": "S", "name": "Sko",
                                     "quantity": 2, "unit_price_minor": 50000})
    return {"merchant": merchant, "customer": customer, "order": order, "line": line, "tag": tag}


def ledger_row(order: int, **changes) -> dict:
    return {"order_id": order, "kind": "charge", "amount_minor": 100000,
            "idempotency_key": uuid.uuid4().hex, "created_at": NOW, **changes}


def test_the_ledger_refuses_updates_and_deletes(either):
    order = an_order(either)["order"]
    entry = insert(either, "ledger_entry", ledger_row(order))
    for statement in ("UPDATE ledger_entry SET amount_minor = 1 WHERE id = ?",
                      "DELETE FROM ledger_entry WHERE id = ?"):
        with pytest.raises(sqlite3.IntegrityError, match="ledger_entry is append-only"):
            either.execute(statement, [entry])
    assert select_one(either, "SELECT amount_minor FROM ledger_entry WHERE id = ?",
                      [entry]) == {"amount_minor": 100000}


@pytest.mark.postgres
def test_postgres_refuses_truncating_history_and_upserting_over_it(pg):
    order = an_order(pg)["order"]
    row = ledger_row(order)
    insert(pg, "ledger_entry", row)
    for table in ("ledger_entry", "audit_event", "webhook_delivery"):
        with pytest.raises(sqlite3.IntegrityError, match=f"{table} is append-only"):
            pg.execute(f"TRUNCATE {table} CASCADE")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        pg.execute("INSERT INTO ledger_entry (order_id, kind, amount_minor, idempotency_key,"
                   " created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_id, kind,"
                   " idempotency_key) DO UPDATE SET amount_minor = 1",
                   [order, "charge", 5, row["idempotency_key"], NOW])


def test_the_audit_trail_refuses_updates_and_deletes(either):
    event = insert(either, "audit_event", {"at": NOW, "actor": "t", "action": "a",
                                           "subject_kind": "order", "subject_id": 1})
    for statement in ("UPDATE audit_event SET why = 'x' WHERE id = ?",
                      "DELETE FROM audit_event WHERE id = ?"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            either.execute(statement, [event])


@pytest.mark.parametrize(("table", "bad"), [
    ("ledger_entry", {"amount_minor": 0}),
    ("ledger_entry", {"amount_minor": -5}),
    ("ledger_entry", {"kind": "gift"}),
    ("orders", {"currency": "SE"}),
    ("orders", {"payment_method": "cash"}),
    ("order_line", {"quantity": 0}),
    ("customer", {"language": "de"}),
    ("customer", {"uses_app": 2}),
])
def test_the_same_checks_refuse_the_same_rows(either, table, bad):
    made = an_order(either)
    tag = uuid.uuid4().hex[:12]
    good = {
        "ledger_entry": ledger_row(made["order"]),
        "orders": {"merchant_id": made["merchant"], "customer_id": made["customer"],
                   "order_number": f"O-{tag}", "merchant_reference": tag, "currency": "SEK",
                   "payment_method": "invoice", "purchased_at": NOW, "created_at": NOW},
        "order_line": {"order_id": made["order"], "position": 2, "sku": "S", "name": "Sko",
                       "quantity": 1, "unit_price_minor": 1},
        "customer": {"email": f"{tag}@example.se", "name": "K", "created_at": NOW},
    }[table]
    with pytest.raises(sqlite3.IntegrityError):
        insert(either, table, {**good, **bad})
    assert insert(either, table, good)


def test_decisions_never_exceed_the_quantity_returned(either):
    made = an_order(either)
    returned = insert(either, "returns", {"order_id": made["order"], "status": "reported",
                                          "reported_at": NOW, "send_by": NOW,
                                          "refund_due_by": NOW})
    with pytest.raises(sqlite3.IntegrityError):
        insert(either, "return_item", {"return_id": returned, "order_line_id": made["line"],
                                       "quantity": 1, "reason": "size", "accepted_quantity": 1,
                                       "rejected_quantity": 1})


def test_an_email_is_taken_whatever_its_case(either):
    made = an_order(either)
    with pytest.raises(sqlite3.IntegrityError):
        insert(either, "customer", {"email": f"{made['tag'].upper()}@EXAMPLE.SE", "name": "K",
                                    "created_at": NOW})
    found = select(either, "SELECT id FROM customer WHERE email = ?",
                   [f"{made['tag'].upper()}@Example.se"])
    assert found == [{"id": made["customer"]}]


def test_a_return_takes_its_orders_merchant_and_refuses_another(either):
    made = an_order(either)
    other = an_order(either)
    returned = insert(either, "returns", {"order_id": made["order"], "status": "reported",
                                          "reported_at": NOW, "send_by": NOW,
                                          "refund_due_by": NOW})
    assert select_one(either, "SELECT merchant_id FROM returns WHERE id = ?",
                      [returned]) == {"merchant_id": made["merchant"]}
    with pytest.raises(sqlite3.IntegrityError, match="must be the order's merchant"):
        either.execute("UPDATE returns SET merchant_id = ? WHERE id = ?",
                       [other["merchant"], returned])
    counts = select(either, "SELECT status, count FROM return_status_count"
                            " WHERE merchant_id = ?", [made["merchant"]])
    assert counts == [{"status": "reported", "count": 1}]


def test_the_stuck_queue_and_the_order_version_follow_a_refund(either):
    made = an_order(either)
    version = select_one(either, "SELECT version FROM order_version WHERE order_id = ?",
                         [made["order"]])["version"]
    refund = insert(either, "refund", {"order_id": made["order"], "amount_minor": 500,
                                       "status": "sending", "reason": "r", "created_at": NOW,
                                       "status_changed_at": NOW})
    either.execute("UPDATE refund SET status = 'unknown', status_changed_at = ? WHERE id = ?",
                   ["2026-01-11T00:00:00+00:00", refund])
    stuck = select_one(either, "SELECT slow_code, slow_since FROM stuck_candidate"
                               " WHERE kind = 0 AND item_id = ?", [refund])
    assert stuck == {"slow_code": "unknown_over_1_hour",
                     "slow_since": "2026-01-11T00:00:00+00:00"}
    assert select_one(either, "SELECT unknown_since FROM refund WHERE id = ?", [refund]) == {
        "unknown_since": "2026-01-11T00:00:00+00:00"}
    either.execute("UPDATE refund SET status = 'succeeded', succeeded_at = ? WHERE id = ?",
                   [NOW, refund])
    assert select(either, "SELECT 1 FROM stuck_candidate WHERE kind = 0 AND item_id = ?",
                  [refund]) == []
    assert select_one(either, "SELECT unknown_since FROM refund WHERE id = ?",
                      [refund]) == {"unknown_since": None}
    assert select_one(either, "SELECT version FROM order_version WHERE order_id = ?",
                      [made["order"]])["version"] > version


def test_an_approvals_payload_must_be_json(either):
    made = an_order(either)
    support = insert(either, "support_user", {"email": f"s-{made['tag']}@example.se",
                                              "password_hash": "x", "created_at": NOW})
    refund = insert(either, "refund", {"order_id": made["order"], "amount_minor": 500,
                                       "status": "failed", "reason": "r", "created_at": NOW,
                                       "status_changed_at": NOW})
    row = {"refund_id": refund, "action": "mark_paid_outside", "amount_minor": 500,
           "why": "w", "requested_by": support, "requested_at": NOW}
    with pytest.raises(sqlite3.IntegrityError):
        insert(either, "support_approval", {**row, "payload": "{not json"})
    assert insert(either, "support_approval", {**row, "payload": '{"a": 1}'})


def test_a_write_transaction_commits_or_rolls_back_as_a_whole(either):
    made = an_order(either)
    with pytest.raises(RuntimeError), write_transaction(either):
        either.execute("UPDATE orders SET due_date = '2026-02-01' WHERE id = ?", [made["order"]])
        assert either.conn.in_transaction
        raise RuntimeError("half way")
    assert not either.conn.in_transaction
    assert select_one(either, "SELECT due_date FROM orders WHERE id = ?",
                      [made["order"]]) == {"due_date": None}
    with write_transaction(either):
        either.execute("UPDATE orders SET due_date = '2026-02-01' WHERE id = ?", [made["order"]])
    assert select_one(either, "SELECT due_date FROM orders WHERE id = ?",
                      [made["order"]]) == {"due_date": "2026-02-01"}
