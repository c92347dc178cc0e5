"""What the support console reads about one refund, order or return besides the thing itself:
its payout deliveries, payments, refunds, approvals, and the orders a search names."""

from __future__ import annotations

from .db import Database, select, select_one

SUBJECT_TABLES = {"return": "returns", "refund": "refund", "payment": "payment"}


def subject_ids_of_order(db: Database, kind: str, order_id: int) -> list[int]:
    """The ids of the order's returns, refunds or payments (`kind` as the audit trail names
    them)."""
    return [row["id"] for row in select(
        db, f"SELECT id FROM {SUBJECT_TABLES[kind]} WHERE order_id = ?",  # noqa: S608
        [order_id])]


def payout_deliveries(db: Database, refund_id: int) -> list[dict]:
    return select(db,
        "SELECT id, status, attempts, available_at, last_error, created_at, done_at"
        " FROM outbox WHERE kind = 'payout' AND subject_id = ? ORDER BY id", [refund_id])


def latest_pending_payout_at(db: Database, refund_id: int) -> str | None:
    """When the refund's latest pending payout may leave."""
    return select(db, "SELECT max(available_at) AS at FROM outbox WHERE kind = 'payout'"
                      " AND subject_id = ? AND status = 'pending'", [refund_id])[0]["at"]


def refunds_of_return(db: Database, return_id: int) -> list[dict]:
    return select(db, "SELECT * FROM refund WHERE return_id = ? ORDER BY id", [return_id])


def refund_of_approval(db: Database, approval_id: int) -> int | None:
    row = select_one(db, "SELECT refund_id FROM support_approval WHERE id = ?", [approval_id])
    return row["refund_id"] if row else None


def orders_of_refunds(db: Database, refund_ids) -> set[int]:
    ids = list(refund_ids)
    return {row["order_id"] for row in select(
        db, f"SELECT order_id FROM refund WHERE id IN ({', '.join('?' * len(ids))})",  # noqa: S608
        ids)}


def orders_with_customers(db: Database, order_ids, limit: int) -> list[dict]:
    """These orders with their merchant's and customer's names, newest first."""
    ids = sorted(order_ids)
    return select(db,
        "SELECT orders.id, order_number, purchased_at, currency, payment_method,"
        " merchant.name AS merchant_name, customer.email AS customer_email,"
        " customer.name AS customer_name FROM orders"
        " JOIN merchant ON merchant.id = orders.merchant_id"
        " JOIN customer ON customer.id = orders.customer_id"
        f" WHERE orders.id IN ({', '.join('?' * len(ids))})"  # noqa: S608
        f" ORDER BY purchased_at DESC LIMIT {int(limit)}", ids)
