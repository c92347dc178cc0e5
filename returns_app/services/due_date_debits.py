"""Paying an invoice from the linked account on its due date: scheduled for one invoice or,
when the customer chose it, for all of them; cancelled by the customer until the day before;
moved with the due date. What is taken is decided on the day (payments.prepare_debit): never
more than is owed then, so a return accepted or a payment made meanwhile lowers it."""

from __future__ import annotations

import secrets
from datetime import date

from ..domain import clock
from ..domain.errors import Conflict, Invalid, NotFound
from ..store import bank as bank_rows
from ..store import outbox, status_moves
from ..store import payments as payment_rows
from ..store.db import Database, lock_rows, write_transaction
from . import audit, bank_accounts, payments
from .orders import Viewer, amounts, get_order, order_for_viewer
from .payment_book import locked_payment

NOT_AN_INVOICE = "Only an invoice can be paid on its due date."
NOTHING_OWED = "Nothing is left to pay on this invoice."
TOO_LATE_TO_CANCEL = "A payment can be cancelled until the day before it is taken."
NOT_CANCELLABLE = "This payment is no longer scheduled."


def scheduled_debit(db: Database, order_id: int) -> dict | None:
    return payment_rows.scheduled_debit_of_order(db, order_id)


def _schedule(db: Database, order: dict, actor: str) -> dict:
    """Inside the caller's transaction. The amount is all that may become due (a rejected
    return makes its paused part payable again); what is owed on the day caps it."""
    if order["payment_method"] != "invoice":
        raise Conflict(NOT_AN_INVOICE)
    lock_rows(db, "orders", order["id"])  # held already when several are scheduled at once
    if (existing := scheduled_debit(db, order["id"])) is not None:
        return existing
    owed = amounts(db, order["id"])
    if owed.payable_now + owed.paused <= 0:
        raise Conflict(NOTHING_OWED)
    payment_id = payments.insert_scheduled(
        db, order, owed.payable_now + owed.paused, f"due-date:{secrets.token_hex(8)}", actor)
    return payments.get_payment(db, payment_id)


def schedule_invoice(db: Database, viewer: Viewer, order_id: int) -> dict:
    """The customer's "pay this invoice on its due date". Asking twice schedules it once."""
    order = order_for_viewer(db, viewer, order_id)
    with write_transaction(db):
        if not bank_accounts.may_debit(db, order["customer_id"]):
            raise Conflict(payments.NO_MANDATE)
        return _schedule(db, get_order(db, order_id), f"customer:{order['customer_id']}")


def cancel(db: Database, viewer: Viewer, payment_id: int) -> dict:
    """The customer takes back a scheduled debit, until the day before it is taken."""
    with write_transaction(db):
        try:
            payment = locked_payment(db, payment_id)
            order = order_for_viewer(db, viewer, payment["order_id"])
        except NotFound:
            raise NotFound("We couldn't find that payment.") from None
        if payment["method"] != "bank_account" or payment["status"] != "scheduled":
            raise Conflict(NOT_CANCELLABLE)
        if payment["scheduled_for"] <= clock.today().isoformat():
            raise Conflict(TOO_LATE_TO_CANCEL)
        status_moves.move(db, "payment", payment_id, "scheduled", "cancelled",
                    failure_reason="Cancelled by you")
        audit.record(db, f"customer:{order['customer_id']}", "payment.cancelled", "payment",
                     payment_id, before={"status": "scheduled"}, after={"status": "cancelled"})
    return payments.get_payment(db, payment_id)


def set_pay_on_due_date(db: Database, customer_id: int, on: bool, actor: str) -> int:
    """"Always pay my invoices on the due date". Returns how many invoices were scheduled now;
    turning it off keeps debits already scheduled (each can be cancelled on its own)."""
    with write_transaction(db):
        lock_rows(db, "customer", customer_id)
        if on and not bank_accounts.may_debit(db, customer_id):
            raise Conflict(payments.NO_MANDATE)
        bank_rows.set_pay_on_due_date(db, customer_id, on)
        audit.record(db, actor, "customer.pay_on_due_date", "customer", customer_id,
                     after={"pay_on_due_date": on})
        return _schedule_open_invoices(db, customer_id, actor) if on else 0


def _open_invoices(db: Database, customer_id: int | None) -> list[dict]:
    """Invoices of customers who pay on the due date that have never had a debit: one that was
    cancelled, or declined until it fell back to the invoice, is not scheduled again."""
    return payment_rows.invoices_without_debit(db, customer_id)


def _schedule_open_invoices(db: Database, customer_id: int | None, actor: str) -> int:
    scheduled = 0
    invoices = _open_invoices(db, customer_id)
    # All at once, in id order; each is checked again under its lock (_schedule).
    lock_rows(db, "orders", *(order["id"] for order in invoices))
    for order in invoices:
        owed = amounts(db, order["id"])
        if owed.payable_now + owed.paused > 0 and bank_accounts.may_debit(
                db, order["customer_id"]):
            _schedule(db, order, actor)
            scheduled += 1
    return scheduled


def schedule_new_invoices(db: Database) -> int:
    """The worker's round: invoices that arrived for customers who pay on the due date."""
    with write_transaction(db):
        return _schedule_open_invoices(db, None, "system")


def move_with_due_date(db: Database, order_id: int, due: date, actor: str) -> None:
    """Inside support's transaction: a debit not yet tried follows the invoice's new due date."""
    for payment in payment_rows.untried_debits_of_order(db, order_id):
        day = max(due, clock.today()).isoformat()
        payment_rows.set_scheduled_for(db, payment["id"], day)
        outbox.reschedule(db, "debit", payment["id"], payments.debit_starts_at(day))
        audit.record(db, actor, "payment.moved", "payment", payment["id"],
                     before={"scheduled_for": payment["scheduled_for"]},
                     after={"scheduled_for": day})


def invalid_choice() -> Invalid:
    return Invalid(fields={"pay_on_due_date": "Must be true or false."})
