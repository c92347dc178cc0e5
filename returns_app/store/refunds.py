"""The refund table: money owed back and where it goes. Status changes go through
store/status_moves.move; this holds the reads, the new rows and the columns written beside a
status."""

from __future__ import annotations

from .db import Database, insert, select, select_one


def refund_by_id(db: Database, refund_id: int) -> dict | None:
    return select_one(db, "SELECT * FROM refund WHERE id = ?", [refund_id])


def refunds_of_order(db: Database, order_id: int) -> list[dict]:
    return select(db, "SELECT * FROM refund WHERE order_id = ? ORDER BY id", [order_id])


def add_refund(db: Database, row: dict) -> int:
    return insert(db, "refund", row)


def waiting_for_details_of_customer(db: Database, customer_id: int) -> list[int]:
    """Ids of the customer's refunds waiting for details that no support request waiting for
    a second person holds."""
    return [row["id"] for row in select(db,
        "SELECT refund.id FROM refund JOIN orders ON orders.id = refund.order_id"
        " WHERE orders.customer_id = ? AND refund.status = 'needs_details'"
        " AND NOT EXISTS (SELECT 1 FROM support_approval WHERE refund_id ="
        " refund.id AND status = 'pending')", [customer_id])]


def set_objected_at(db: Database, refund_id: int, at: str) -> None:
    db.execute("UPDATE refund SET objected_at = ? WHERE id = ?", [at, refund_id])


def call_off_pending_payouts(db: Database, refund_id: int, at: str, why: str) -> int:
    """Mark the refund's waiting payout deliveries done (`why` as their last error); how
    many."""
    return db.execute(
        "UPDATE outbox SET status = 'done', done_at = ?, last_error = ?, lease_owner = NULL,"
        " lease_expires_at = NULL WHERE kind = 'payout' AND subject_id = ?"
        " AND status = 'pending'", [at, why, refund_id]).rowcount


def pending_payouts(db: Database, refund_id: int) -> list[dict]:
    """The refund's payout deliveries not yet done, with their lease (enough to settle one
    through store/outbox as it stands)."""
    return select(db, "SELECT id, lease_owner, lease_expires_at, attempts FROM outbox"
                      " WHERE kind = 'payout' AND subject_id = ? AND status = 'pending'",
                  [refund_id])


def bring_payouts_forward(db: Database, refund_id: int, at: str) -> None:
    db.execute("UPDATE outbox SET available_at = ? WHERE kind = 'payout' AND subject_id = ?"
               " AND status = 'pending'", [at, refund_id])
