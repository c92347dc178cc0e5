"""The support_approval table: second-person requests about a refund's money, and the support
user's email shown beside them."""

from __future__ import annotations

from .db import Database, insert, select, select_one


def pending_of_refund(db: Database, refund_id: int) -> dict | None:
    return select_one(db, "SELECT * FROM support_approval WHERE refund_id = ?"
                          " AND status = 'pending'", [refund_id])


def add_approval(db: Database, row: dict) -> int:
    return insert(db, "support_approval", row)


def approval_by_id(db: Database, approval_id: int) -> dict | None:
    """The row as stored (`payload` still JSON text)."""
    return select_one(db, "SELECT * FROM support_approval WHERE id = ?", [approval_id])


def decide(db: Database, approval_id: int, status: str, user_id: int, at: str,
           why: str) -> bool:
    """Record a pending request's decision; whether it was still pending."""
    return db.execute(
        "UPDATE support_approval SET status = ?, decided_by = ?, decided_at = ?,"
        " decision_why = ? WHERE id = ? AND status = 'pending'",
        [status, user_id, at, why, approval_id]).rowcount == 1


def mark_objected(db: Database, approval_id: int, current: str, at: str) -> bool:
    """The customer objected to the change; whether its status was still `current`."""
    return db.execute(
        "UPDATE support_approval SET status = 'objected', objected_at = ? WHERE id = ?"
        " AND status = ?", [at, approval_id, current]).rowcount == 1


def support_user_email(db: Database, user_id: int | None) -> str | None:
    row = select_one(db, "SELECT email FROM support_user WHERE id = ?", [user_id])
    return row["email"] if row else None


def pending_requests(db: Database, refund_statuses: tuple[str, ...],
                     refund_id: int | None = None) -> list[dict]:
    """Pending requests about refunds in `refund_statuses` (of one refund, when given), oldest
    first, at most 100, with who asked and the order (`payload` still JSON text)."""
    where = " AND support_approval.refund_id = ?" if refund_id is not None else ""
    return select(db,
        "SELECT support_approval.id, support_approval.refund_id, support_approval.action,"
        " support_approval.amount_minor, support_approval.reference, support_approval.payload,"
        " support_approval.pays_not_before, support_approval.why,"
        " support_approval.requested_by, support_approval.requested_at,"
        " support_user.email AS requested_by_email,"
        " orders.order_number, orders.currency FROM support_approval"
        " JOIN support_user ON support_user.id = requested_by"
        " JOIN refund ON refund.id = support_approval.refund_id"
        " JOIN orders ON orders.id = refund.order_id"
        " WHERE support_approval.status = 'pending'"
        f" AND refund.status IN ({', '.join('?' * len(refund_statuses))})" + where +
        " ORDER BY requested_at LIMIT 100",
        [*refund_statuses, *([refund_id] if refund_id is not None else [])])
