"""What a support agent can do about a stuck refund, return or invoice. Each action is one
transaction that changes state and writes its audit row (who, when, what, before and after, and
the agent's "why") together; numbers are masked in the audit by `audit.record`."""

from __future__ import annotations

from datetime import date, timedelta

from ..domain import clock
from ..domain.errors import Conflict, Invalid, NotFound
from ..domain.masking import mask_email
from ..domain.payout_details import Destination
from ..domain.states import OPEN_RETURN_STATUSES, REFUND_PAYABLE_OUTSIDE
from ..store import decisions as decision_rows
from ..store import invoices as invoice_rows
from ..store import outbox, status_moves
from ..store import refunds as refund_rows
from ..store.db import Database, lock_rows, write_transaction
from . import approvals, audit, destination_changes, due_date_debits, refunds
from .approvals import APPROVAL_ABOVE_MINOR, actor
from .orders import get_order

MAX_NOTE = 500
MAX_REFERENCE = 100
MAX_DAYS_AHEAD = 90  # a hold or a new due date further out is a typo or a case for a manager
RETRYABLE = ("failed", "unknown")


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
        refund = refunds.locked_refund(db, refund_id)
        if refund["status"] not in RETRYABLE:
            raise Conflict(_not_retryable(refund["status"]))
        approvals.refuse_if_pending(db, refund_id)
        now = clock.now_iso()
        if refund["status"] == "failed":
            # Support took the case up: an objection on record is settled by this retry.
            status_moves.move(db, "refund", refund_id, "failed", "ready",
                         payout_round=refund["payout_round"] + 1, objected_at=None)
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
    rows = refund_rows.pending_payouts(db, refund_id)
    if any(r["lease_expires_at"] and r["lease_expires_at"] >= now for r in rows):
        raise Conflict("The worker is asking the provider about this payout right now. "
                       "Reload in a minute.")
    if rows:
        refund_rows.bring_payouts_forward(db, refund_id, now)
    else:
        outbox.enqueue(db, "payout", refund_id)


def change_destination(db: Database, refund_id: int, destination: Destination, consent: str,
                       user_id: int, why: str) -> dict:
    """Ask to send the refund somewhere the customer told support about (how they agreed is
    noted). Never pays at once: see destination_changes.py."""
    why = _note(why)
    consent = _note(consent, "consent", "Say how the customer agreed")
    return destination_changes.request_change(db, refund_id, destination, consent, user_id, why)


def resend_details_link(db: Database, refund_id: int, user_id: int, why: str) -> dict:
    """Record that the customer is sent a new payout-details link (the email is sent on the
    `refund.details_link_resent` event, to the address on file only: the agent never sees the
    link). Returns the refund with `sent_to`, the address masked."""
    why = _note(why)
    with write_transaction(db):
        refund = _refund(db, refund_id)
        if refund["status"] not in REFUND_PAYABLE_OUTSIDE:
            raise Conflict("This refund already has somewhere to go.")
        sent_to = mask_email(get_order(db, refund["order_id"])["customer_email"])
        audit.record(db, actor(user_id), "refund.details_link_resent", "refund", refund_id,
                     before={"status": refund["status"]},
                     after={"status": refund["status"], "sent_to": sent_to}, why=why)
    return refund | {"sent_to": sent_to}


def mark_paid_outside(db: Database, refund_id: int, reference: str, user_id: int,
                      why: str) -> dict:
    """The money reached the customer another way (a manual bank transfer): book the refund as
    succeeded. Above APPROVAL_ABOVE_MINOR nothing moves yet: a pending approval waits for a
    second support user. Returns {"status": "paid" | "awaiting_approval", ...}."""
    why = _note(why)
    reference = _note(reference, "reference", "Give the payment's reference")[:MAX_REFERENCE]
    with write_transaction(db):
        refund = refunds.locked_refund(db, refund_id)
        _check_payable_outside(db, refund)
        if refund["amount_minor"] > APPROVAL_ABOVE_MINOR:
            approval_id = approvals.request(db, refund, "mark_paid_outside", user_id, why,
                                           reference=reference)
            audit.record(db, actor(user_id), "refund.manual_payment_requested", "refund",
                         refund_id, before={"status": refund["status"]},
                         after={"status": refund["status"], "approval_id": approval_id,
                                "amount": refund["amount_minor"], "reference": reference},
                         why=why)
            return {"status": "awaiting_approval", "approval_id": approval_id}
        _book_paid(db, refund, reference, user_id, why)
    return {"status": "paid", "refund": _refund(db, refund_id)}


def _check_payable_outside(db: Database, refund: dict) -> None:
    if refund["status"] not in REFUND_PAYABLE_OUTSIDE:
        raise Conflict("This refund has already been paid." if refund["status"] == "succeeded"
                       else "The payout may already be on its way or be executed: retry it "
                            "(the provider is asked first) instead of paying it another way.")
    approvals.refuse_if_pending(db, refund["id"])


def _book_paid(db: Database, refund: dict, reference: str, user_id: int, why: str,
               approval: dict | None = None) -> None:
    """Inside the transaction. The refund's ledger entry was booked when it was created, so
    marking it succeeded is all it takes for the ledger and the refund to agree."""
    now = clock.now_iso()
    status_moves.move(db, "refund", refund["id"], refund["status"], "succeeded", succeeded_at=now,
                 provider_payout_id=f"manual:{reference}", last_error=None)
    after = {"status": "succeeded", "paid_outside_reference": reference}
    if approval:
        after |= {"approval_id": approval["id"], "requested_by": approval["requested_by"],
                  "requested_by_email": approvals.email_of(db, approval["requested_by"]),
                  "approved_by": approvals.email_of(db, user_id)}
    audit.record(db, actor(user_id), "refund.marked_paid_outside", "refund", refund["id"],
                 before={"status": refund["status"]}, after=after, why=why)


def approve_manual_payment(db: Database, approval_id: int, user_id: int, why: str) -> dict:
    """The second person's yes: now the refund is booked as paid."""
    why = _note(why)
    with write_transaction(db):
        refunds.locked_refund(db, approvals.get(db, approval_id)["refund_id"])
        approval = approvals.pending_for_decision(db, approval_id, user_id,
                                                  "mark_paid_outside")
        refund = _refund(db, approval["refund_id"])
        if refund["status"] not in REFUND_PAYABLE_OUTSIDE:
            raise Conflict("The refund changed since the request: it can't be paid outside now.")
        approvals.decide(db, approval, "approved", user_id, why)
        _book_paid(db, refund, approval["reference"], user_id, why, approval)
    return _refund(db, approval["refund_id"])


def decline_manual_payment(db: Database, approval_id: int, user_id: int, why: str) -> dict:
    why = _note(why)
    with write_transaction(db):
        approval = approvals.pending_for_decision(db, approval_id, user_id,
                                                  "mark_paid_outside")
        approvals.decide(db, approval, "declined", user_id, why)
        audit.record(db, actor(user_id), "refund.manual_payment_declined", "refund",
                     approval["refund_id"], before={"approval": "pending"},
                     after={"approval": "declined", "approval_id": approval_id}, why=why)
    return _refund(db, approval["refund_id"])


def approve(db: Database, approval_id: int, user_id: int, why: str) -> dict:
    """The second person's yes to any request: what it does depends on its action."""
    why = _note(why)
    if approvals.get(db, approval_id)["action"] == destination_changes.ACTION:
        return destination_changes.approve_change(db, approval_id, user_id, why)
    return approve_manual_payment(db, approval_id, user_id, why)


def decline(db: Database, approval_id: int, user_id: int, why: str) -> dict:
    why = _note(why)
    if approvals.get(db, approval_id)["action"] == destination_changes.ACTION:
        return destination_changes.decline_change(db, approval_id, user_id, why)
    return decline_manual_payment(db, approval_id, user_id, why)


def pending_approvals(db: Database, refund_id: int | None = None) -> list[dict]:
    return approvals.pending(db, refund_id)


# --- returns and invoices -------------------------------------------------------------------------

def remind_merchant(db: Database, return_id: int, user_id: int, why: str) -> dict:
    """Record the reminder; the merchant's users are emailed on `return.merchant_reminded`."""
    why = _note(why)
    with write_transaction(db):
        ret = decision_rows.return_with_merchant(db, return_id)
        if ret is None:
            raise NotFound("No such return.")
        if ret["status"] not in OPEN_RETURN_STATUSES:
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
        lock_rows(db, "orders", order_id)
        order = _invoice(db, order_id)
        invoice_rows.set_on_hold_until(db, order_id, until.isoformat())
        audit.record(db, actor(user_id), "order.invoice_held", "order", order_id,
                     before={"on_hold_until": order["on_hold_until"]},
                     after={"on_hold_until": until.isoformat()}, why=why)
    return get_order(db, order_id)


def move_due_date(db: Database, order_id: int, due: date, user_id: int, why: str) -> dict:
    why = _note(why)
    _future_day(due, "due_date", clock.today())
    with write_transaction(db):
        lock_rows(db, "orders", order_id)
        order = _invoice(db, order_id)
        if order["due_date"] == due.isoformat():
            raise Invalid(fields={"due_date": "That is already the due date."})
        invoice_rows.set_due_date(db, order_id, due.isoformat())
        due_date_debits.move_with_due_date(db, order_id, due, actor(user_id))
        audit.record(db, actor(user_id), "order.due_date_moved", "order", order_id,
                     before={"due_date": order["due_date"]},
                     after={"due_date": due.isoformat()}, why=why)
    return get_order(db, order_id)
