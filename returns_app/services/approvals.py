"""Second-person approvals of support's money actions: one table for every kind (`action`:
mark_paid_outside, change_destination) with what the request carries (`payload`). A pending
request about a refund blocks every other money action on it, whoever asks: support's retry,
change and manual payment, and the customer's own choice of account."""

from __future__ import annotations

import json

from ..domain import clock
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.states import REFUND_PAYABLE_OUTSIDE
from ..store import approvals as approval_rows
from ..store.db import Database

# Above this (5 000 kr), money booked as paid outside the system or sent to a destination that
# support chose needs a second support user's approval.
APPROVAL_ABOVE_MINOR = 500_000

PENDING_BLOCKS = ("A request about this refund is waiting for a second support user's "
                  "approval: nothing else can be done with its money until it is decided.")


def actor(user_id: int) -> str:
    return f"support_user:{user_id}"


def needs_approval(amount_minor: int) -> bool:
    return amount_minor > APPROVAL_ABOVE_MINOR


def pending_of_refund(db: Database, refund_id: int) -> dict | None:
    return approval_rows.pending_of_refund(db, refund_id)


def refuse_if_pending(db: Database, refund_id: int) -> None:
    """Inside the caller's transaction, before any money action on the refund."""
    if pending_of_refund(db, refund_id) is not None:
        raise Conflict(PENDING_BLOCKS)


def request(db: Database, refund: dict, action: str, user_id: int, why: str, *,
            status: str = "pending", reference: str = "", payload: dict | None = None,
            destination_json: str | None = None, pays_not_before: str | None = None) -> int:
    """Inside the caller's transaction: the request's row (status `not_needed` for a change
    at or under the limit, which waits only for the customer's hold)."""
    return approval_rows.add_approval(db, {
        "refund_id": refund["id"], "action": action, "amount_minor": refund["amount_minor"],
        "reference": reference, "payload": json.dumps(payload or {}, sort_keys=True),
        "destination_json": destination_json, "pays_not_before": pays_not_before,
        "why": why, "requested_by": user_id, "requested_at": clock.now_iso(),
        "status": status,
    })


def get(db: Database, approval_id: int) -> dict:
    row = approval_rows.approval_by_id(db, approval_id)
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
    if not approval_rows.decide(db, approval["id"], status, user_id, clock.now_iso(), why):
        raise Conflict("Someone decided on this request meanwhile.")


def email_of(db: Database, user_id: int | None) -> str | None:
    return approval_rows.support_user_email(db, user_id)


def pending(db: Database, refund_id: int | None = None) -> list[dict]:
    """Requests waiting for a second person, oldest first, with who asked and the order."""
    # A request the refund has outgrown (it was paid another way meanwhile) is stale: it
    # leaves the queue by itself, and approving it is refused.
    rows = approval_rows.pending_requests(db, REFUND_PAYABLE_OUTSIDE, refund_id)
    for row in rows:
        row["payload"] = json.loads(row["payload"])
    return rows
