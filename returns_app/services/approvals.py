"""Second-person approvals of support's money actions: one table for every kind (`action`:
mark_paid_outside, change_destination) with what the request carries (`payload`). A pending
request about a refund blocks every other money action on it, whoever asks: support's retry,
change and manual payment, and the customer's own choice of account."""

from __future__ import annotations

import json

from ..domain import clock
from ..domain.errors import Conflict, Forbidden, NotFound
from ..store.db import Database, insert, select, select_one

# Above this (5 000 kr), money booked as paid outside the system or sent to a destination that
# support chose needs a second support user's approval.
APPROVAL_ABOVE_MINOR = 500_000
# Money is certainly not on its way in these states; anywhere else it may be.
PAYABLE_OUTSIDE = ("needs_details", "failed")

PENDING_BLOCKS = ("A request about this refund is waiting for a second support user's "
                  "approval: nothing else can be done with its money until it is decided.")


def actor(user_id: int) -> str:
    return f"support_user:{user_id}"


def needs_approval(amount_minor: int) -> bool:
    return amount_minor > APPROVAL_ABOVE_MINOR


def pending_of_refund(db: Database, refund_id: int) -> dict | None:
    return select_one(db, "SELECT * FROM support_approval WHERE refund_id = ?"
                          " AND status = 'pending'", [refund_id])


def refuse_if_pending(db: Database, refund_id: int) -> None:
    """Inside the caller's transaction, before any money action on the refund."""
    if pending_of_refund(db, refund_id) is not None:
        raise Conflict(PENDING_BLOCKS)


def request(db: Database, refund: dict, action: str, user_id: int, why: str, *,
            status: str = "pending", reference: str = "", payload: dict | None = None,
            destination_json: str | None = None, pays_not_before: str | None = None) -> int:
    """Inside the caller's transaction: the request's row (status `not_needed` for a change
    at or under the limit, which waits only for the customer's hold)."""
    return insert(db, "support_approval", {
        "refund_id": refund["id"], "action": action, "amount_minor": refund["amount_minor"],
        "reference": reference, "payload": json.dumps(payload or {}, sort_keys=True),
        "destination_json": destination_json, "pays_not_before": pays_not_before,
        "why": why, "requested_by": user_id, "requested_at": clock.now_iso(),
        "status": status,
    })


def get(db: Database, approval_id: int) -> dict:
    row = select_one(db, "SELECT * FROM support_approval WHERE id = ?", [approval_id])
    if row is None:
        raise NotFound("No such approval request.")
    row["payload"] = json.loads(row["payload"])
    return row


def pending_for_decision(db: Database, approval_id: int, user_id: int,
                         action: str | None = None) -> dict:
    approval = get(db, approval_id)
    if action is not None and approval["action"] != action:
        raise NotFound("No such approval request.")
    if approval["status"] != "pending":
        raise Conflict(f"This request has already been {approval['status'].replace('_', ' ')}.")
    if approval["requested_by"] == user_id:
        raise Forbidden("A second support user must decide on your own request.")
    return approval


def decide(db: Database, approval: dict, status: str, user_id: int, why: str) -> None:
    cursor = db.execute(
        "UPDATE support_approval SET status = ?, decided_by = ?, decided_at = ?,"
        " decision_why = ? WHERE id = ? AND status = 'pending'",
        [status, user_id, clock.now_iso(), why, approval["id"]])
    if cursor.rowcount != 1:
        raise Conflict("Someone decided on this request meanwhile.")


def email_of(db: Database, user_id: int | None) -> str | None:
    row = db.execute("SELECT email FROM support_user WHERE id = ?", [user_id]).fetchone()
    return row[0] if row else None


def pending(db: Database, refund_id: int | None = None) -> list[dict]:
    """Requests waiting for a second person, oldest first, with who asked and the order."""
    where = " AND support_approval.refund_id = ?" if refund_id is not None else ""
    rows = select(db,
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
        # A request the refund has outgrown (it was paid another way meanwhile) is stale: it
        # leaves the queue by itself, and approving it is refused.
        f" AND refund.status IN ({', '.join('?' * len(PAYABLE_OUTSIDE))})" + where +
        " ORDER BY requested_at LIMIT 100",
        [*PAYABLE_OUTSIDE, *([refund_id] if refund_id is not None else [])])
    for row in rows:
        row["payload"] = json.loads(row["payload"])
    return rows
