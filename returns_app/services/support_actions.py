"""What a support agent can do about a stuck refund, return or invoice. Each action is one
transaction that changes state and writes its audit row (who, when, what, before and after, and
the agent's "why") together; numbers are masked in the audit by `audit.record`."""

from __future__ import annotations

from datetime import date, timedelta

from .. import clock, outbox
from ..db import Database, select, write_transaction
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..payout_details import Destination
from . import audit, due_date_debits, refunds
from .orders import get_order

# Above this, money booked as paid outside the system needs a second support user's approval.
APPROVAL_ABOVE_MINOR = 500_000
MAX_NOTE = 500
MAX_REFERENCE = 100
MAX_DAYS_AHEAD = 90  # a hold or a new due date further out is a typo or a case for a manager
RETRYABLE = ("failed", "unknown")
# Money is certainly not on its way in these states; anywhere else it may be.
PAYABLE_OUTSIDE = ("needs_details", "failed")
REMINDABLE_RETURNS = ("reported", "sent", "received")


def actor(user_id: int) -> str:
    return f"support_user:{user_id}"


def _note(text: str | None, field: str = "why", what: str = "Say why") -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid(fields={field: f"{what}: it goes on the record."})
    if len(text) > MAX_NOTE:
        raise Invalid(fields={field: f"At most {MAX_NOTE} characters."})
    return text


def _refund(db: Database, refund_id: int) -> dict:
    return refunds.get_refund(db, refund_id)


# --- refunds --------------------------------------------------------------------------------------

def retry_payout(db: Database, refund_id: int, user_id: int, why: str) -> dict:
    """Queue the payout again. A declined one gets a new idempotency key (the provider would
    replay the decline); an unknown one keeps its key, so the worker first ASKS the provider
    whether it was executed and sends only if it never was."""
    why = _note(why)
    with write_transaction(db):
        refund = _refund(db, refund_id)
        if refund["status"] not in RETRYABLE:
            raise Conflict(_not_retryable(refund["status"]))
        now = clock.now_iso()
        if refund["status"] == "failed":
            refunds.move(db, refund_id, "failed", "ready",
                         payout_round=refund["payout_round"] + 1)
            outbox.enqueue(db, "payout", refund_id)
        else:
            _ask_again(db, refund_id, now)
        audit.record(db, actor(user_id), "refund.payout_retried", "refund", refund_id,
                     before={"status": refund["status"]},
                     after={"status": "ready" if refund["status"] == "failed" else "unknown",
                            "asks_provider_first": refund["status"] == "unknown"},
                     why=why)
    return _refund(db, refund_id)


def _not_retryable(status: str) -> str:
    if status == "succeeded":
        return "This refund has already been paid."
    if status == "needs_details":
        return "This refund has nowhere to go yet: send the customer a link or change the " \
               "destination instead."
    return "This refund is already on its way: wait for the provider's answer."


def _ask_again(db: Database, refund_id: int, now: str) -> None:
    """An unknown payout: bring a waiting delivery forward, or queue a new one if none waits.
    A delivery in progress right now is left to finish."""
    rows = select(db,
        "SELECT id, lease_expires_at FROM outbox WHERE kind = 'payout' AND subject_id = ?"
        " AND status = 'pending'", [refund_id])
    if any(r["lease_expires_at"] and r["lease_expires_at"] >= now for r in rows):
        raise Conflict("The worker is asking the provider about this payout right now. "
                       "Reload in a minute.")
    if rows:
        db.execute("UPDATE outbox SET available_at = ? WHERE kind = 'payout' AND subject_id = ?"
                   " AND status = 'pending'", [now, refund_id])
    else:
        outbox.enqueue(db, "payout", refund_id)


def change_destination(db: Database, refund_id: int, destination: Destination, consent: str,
                       user_id: int, why: str) -> dict:
    """Send the refund somewhere the customer told support about (how they agreed is noted)."""
    why = _note(why)
    consent = _note(consent, "consent", "Say how the customer agreed")
    refund = _refund(db, refund_id)
    if refund["status"] not in PAYABLE_OUTSIDE:
        raise Conflict(_not_changeable(refund["status"]))
    return refunds.set_destination(db, refund_id, destination, actor(user_id), why=why,
                                   note={"consent": consent})


def _not_changeable(status: str) -> str:
    if status == "succeeded":
        return "This refund has already been paid."
    return "The payout may already be on its way: its destination can't change now."


def resend_details_link(db: Database, refund_id: int, user_id: int, why: str) -> dict:
    """Record that the customer is sent a new payout-details link (the email is sent on the
    `refund.details_link_resent` event; the console shows the link for reading out too)."""
    why = _note(why)
    with write_transaction(db):
        refund = _refund(db, refund_id)
        if refund["status"] not in PAYABLE_OUTSIDE:
            raise Conflict("This refund already has somewhere to go.")
        audit.record(db, actor(user_id), "refund.details_link_resent", "refund", refund_id,
                     before={"status": refund["status"]}, after={"status": refund["status"]},
                     why=why)
    return refund


def mark_paid_outside(db: Database, refund_id: int, reference: str, user_id: int,
                      why: str) -> dict:
    """The money reached the customer another way (a manual bank transfer): book the refund as
    succeeded. Above APPROVAL_ABOVE_MINOR nothing moves yet: a pending approval waits for a
    second support user. Returns {"status": "paid" | "awaiting_approval", ...}."""
    why = _note(why)
    reference = _note(reference, "reference", "Give the payment's reference")[:MAX_REFERENCE]
    with write_transaction(db):
        refund = _refund(db, refund_id)
        _check_payable_outside(db, refund)
        if refund["amount_minor"] > APPROVAL_ABOVE_MINOR:
            approval_id = db["support_approval"].insert({
                "refund_id": refund_id, "action": "mark_paid_outside",
                "amount_minor": refund["amount_minor"], "reference": reference, "why": why,
                "requested_by": user_id, "requested_at": clock.now_iso(),
            }).last_pk
            audit.record(db, actor(user_id), "refund.manual_payment_requested", "refund",
                         refund_id, before={"status": refund["status"]},
                         after={"status": refund["status"], "approval_id": approval_id,
                                "amount": refund["amount_minor"], "reference": reference},
                         why=why)
            return {"status": "awaiting_approval", "approval_id": approval_id}
        _book_paid(db, refund, reference, user_id, why)
    return {"status": "paid", "refund": _refund(db, refund_id)}


def _check_payable_outside(db: Database, refund: dict) -> None:
    if refund["status"] not in PAYABLE_OUTSIDE:
        raise Conflict("This refund has already been paid." if refund["status"] == "succeeded"
                       else "The payout may already be on its way or be executed: retry it "
                            "(the provider is asked first) instead of paying it another way.")
    if db.execute("SELECT 1 FROM support_approval WHERE refund_id = ? AND status = 'pending'",
                  [refund["id"]]).fetchone():
        raise Conflict("A manual payment of this refund is already waiting for approval.")


def _book_paid(db: Database, refund: dict, reference: str, user_id: int, why: str,
               approval: dict | None = None) -> None:
    """Inside the transaction. The refund's ledger entry was booked when it was created, so
    marking it succeeded is all it takes for the ledger and the refund to agree."""
    now = clock.now_iso()
    refunds.move(db, refund["id"], refund["status"], "succeeded", succeeded_at=now,
                 provider_payout_id=f"manual:{reference}", last_error=None)
    after = {"status": "succeeded", "paid_outside_reference": reference}
    if approval:
        after |= {"approval_id": approval["id"], "requested_by": approval["requested_by"]}
    audit.record(db, actor(user_id), "refund.marked_paid_outside", "refund", refund["id"],
                 before={"status": refund["status"]}, after=after, why=why)


def approve_manual_payment(db: Database, approval_id: int, user_id: int, why: str) -> dict:
    """The second person's yes: now the refund is booked as paid."""
    why = _note(why)
    with write_transaction(db):
        approval = _pending_approval(db, approval_id, user_id)
        refund = _refund(db, approval["refund_id"])
        if refund["status"] not in PAYABLE_OUTSIDE:
            raise Conflict("The refund changed since the request: it can't be paid outside now.")
        _decide(db, approval, "approved", user_id, why)
        _book_paid(db, refund, approval["reference"], user_id, why, approval)
    return _refund(db, approval["refund_id"])


def decline_manual_payment(db: Database, approval_id: int, user_id: int, why: str) -> dict:
    why = _note(why)
    with write_transaction(db):
        approval = _pending_approval(db, approval_id, user_id)
        _decide(db, approval, "declined", user_id, why)
        audit.record(db, actor(user_id), "refund.manual_payment_declined", "refund",
                     approval["refund_id"], before={"approval": "pending"},
                     after={"approval": "declined", "approval_id": approval_id}, why=why)
    return _refund(db, approval["refund_id"])


def _pending_approval(db: Database, approval_id: int, user_id: int) -> dict:
    rows = select(db, "SELECT * FROM support_approval WHERE id = ?", [approval_id])
    if not rows:
        raise NotFound("No such approval request.")
    approval = rows[0]
    if approval["status"] != "pending":
        raise Conflict(f"This request has already been {approval['status']}.")
    if approval["requested_by"] == user_id:
        raise Forbidden("A second support user must decide on your own request.")
    return approval


def _decide(db: Database, approval: dict, status: str, user_id: int, why: str) -> None:
    cursor = db.execute(
        "UPDATE support_approval SET status = ?, decided_by = ?, decided_at = ?,"
        " decision_why = ? WHERE id = ? AND status = 'pending'",
        [status, user_id, clock.now_iso(), why, approval["id"]])
    if cursor.rowcount != 1:
        raise Conflict("Someone decided on this request meanwhile.")


def pending_approvals(db: Database, refund_id: int | None = None) -> list[dict]:
    where = " AND support_approval.refund_id = ?" if refund_id is not None else ""
    return select(db,
        "SELECT support_approval.*, support_user.email AS requested_by_email,"
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


# --- returns and invoices -------------------------------------------------------------------------

def remind_merchant(db: Database, return_id: int, user_id: int, why: str) -> dict:
    """Record the reminder; the merchant's users are emailed on `return.merchant_reminded`."""
    why = _note(why)
    with write_transaction(db):
        rows = select(db, "SELECT returns.*, orders.merchant_id FROM returns JOIN orders"
                             " ON orders.id = returns.order_id WHERE returns.id = ?",
                             [return_id])
        if not rows:
            raise NotFound("No such return.")
        ret = rows[0]
        if ret["status"] not in REMINDABLE_RETURNS:
            raise Conflict(f"This return is {ret['status']}: there is nothing left for the "
                           "merchant to do.")
        audit.record(db, actor(user_id), "return.merchant_reminded", "return", return_id,
                     before={"status": ret["status"]},
                     after={"status": ret["status"], "merchant_id": ret["merchant_id"]},
                     why=why)
    return ret


def _invoice(db: Database, order_id: int) -> dict:
    order = get_order(db, order_id)
    if order["payment_method"] != "invoice":
        raise Conflict("This order was paid by card: it has no invoice to hold or move.")
    return order


def _future_day(day: date, field: str, today: date) -> None:
    if day < today:
        raise Invalid(fields={field: "Choose today or a later date."})
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise Invalid(fields={field: f"Choose a date within {MAX_DAYS_AHEAD} days."})


def hold_invoice(db: Database, order_id: int, until: date, user_id: int, why: str) -> dict:
    """No reminder, late fee or collection for this invoice through `until` (see holds.py)."""
    why = _note(why)
    _future_day(until, "until", clock.today())
    with write_transaction(db):
        order = _invoice(db, order_id)
        db.execute("UPDATE orders SET on_hold_until = ? WHERE id = ?",
                   [until.isoformat(), order_id])
        audit.record(db, actor(user_id), "order.invoice_held", "order", order_id,
                     before={"on_hold_until": order["on_hold_until"]},
                     after={"on_hold_until": until.isoformat()}, why=why)
    return get_order(db, order_id)


def move_due_date(db: Database, order_id: int, due: date, user_id: int, why: str) -> dict:
    why = _note(why)
    _future_day(due, "due_date", clock.today())
    with write_transaction(db):
        order = _invoice(db, order_id)
        if order["due_date"] == due.isoformat():
            raise Invalid(fields={"due_date": "That is already the due date."})
        db.execute("UPDATE orders SET due_date = ? WHERE id = ?", [due.isoformat(), order_id])
        due_date_debits.move_with_due_date(db, order_id, due, actor(user_id))
        audit.record(db, actor(user_id), "order.due_date_moved", "order", order_id,
                     before={"due_date": order["due_date"]},
                     after={"due_date": due.isoformat()}, why=why)
    return get_order(db, order_id)
