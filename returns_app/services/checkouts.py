"""How a card checkout on the provider's hosted page ends when the customer doesn't finish it:
it expires at the provider after 30 minutes, the customer cancels it, a new payment replaces it,
or what is owed drops below its amount and we cancel it. A checkout's payment leaves "pending"
only on the provider's word (paid, cancelled or expired), never on ours alone: a session the
provider still holds open could otherwise be paid with nobody booking the money.

If the customer pays at the very moment we cancel, the provider refuses the cancel and answers
"paid": the money is booked like any payment, whatever it overpaid is refunded at once
(payment_book.settle), and the audit trail names what happened for support."""

from __future__ import annotations

from datetime import timedelta

from ..domain import clock
from ..domain.errors import Conflict, NotFound
from ..provider.client import CheckoutStatus, ProviderRejected, ProviderUnavailable
from ..store import outbox
from ..store import payments as payment_rows
from ..store.db import Database, write_transaction
from . import audit
from .events import Event
from .orders import Viewer, amounts, order_for_viewer
from .payment_book import allowed_now, get_payment, locked_payment, set_status, settle

# The provider ends an unpaid session this long after opening it (the sandbox enforces it).
LIFETIME = timedelta(minutes=30)
CANCEL_KIND = "checkout_cancel"  # the outbox row that cancels a checkout grown too large
CANCELLED_ON_PAGE = "Cancelled on the card page"
CANCELLED_BY_YOU = "Cancelled by you"
EXPIRED = "The card payment expired: it was not paid within 30 minutes"
REPLACED = "Cancelled when you started another payment"
AMOUNT_CHANGED = "Cancelled because what you owe changed while it was open"
NOT_A_CHECKOUT = "Only a card payment that is still open can be cancelled here."
# Events after which less may be paid: a return reported (its items are paused), a decision
# (accepted items are credited), money received, a debit scheduled.
LOWERING = {"return.reported": "returns", "return.registered": "returns",
            "payment.succeeded": "payment", "payment.scheduled": "payment"}


def pending(db: Database, order_id: int) -> list[dict]:
    return payment_rows.pending_card_payments(db, order_id)


def is_current(payment: dict) -> bool:
    """Still payable at the provider as far as we know: pending and younger than LIFETIME."""
    return (payment["method"] == "card" and payment["status"] == "pending"
            and clock.parse(payment["created_at"]) > clock.now() - LIFETIME)


def open_checkout(db: Database, order_id: int) -> dict | None:
    """The checkout the customer may go back to, for the order page."""
    current = [p for p in pending(db, order_id) if is_current(p)]
    return current[-1] if current else None


def book_status(db: Database, payment: dict, status: CheckoutStatus, why: str) -> None:
    """Inside the caller's transaction: record how the provider says the checkout stands.
    `why` is the reason a cancel was asked for (kept as the payment's failure reason)."""
    payment = locked_payment(db, payment["id"])
    if payment["status"] != "pending":
        return
    if status.status == "paid":
        settle(db, payment, payment["amount_minor"], provider_payment_id=status.payment_id,
               card_last4=status.card_last4)
        if why != CANCELLED_ON_PAGE:
            owed = amounts(db, payment["order_id"])
            audit.record(db, "system", "payment.paid_while_cancelling", "payment",
                         payment["id"], after={"why_cancelled": why,
                                               "refund_owed": owed.refund_owed})
    elif status.status == "cancelled":
        set_status(db, payment, "cancelled", failure_reason=why)
    elif status.status == "expired":
        set_status(db, payment, "cancelled", failure_reason=EXPIRED)


def book(db: Database, payment_id: int, status: CheckoutStatus, why: str) -> dict:
    with write_transaction(db):
        book_status(db, get_payment(db, payment_id), status, why)
    return get_payment(db, payment_id)


def cancel_at_provider(db: Database, provider, payment: dict, why: str) -> dict:
    """Outside any transaction. Raises ProviderUnavailable when the provider can't be asked."""
    return book(db, payment["id"], provider.cancel_checkout(payment["provider_ref"]), why)


def cancel_for_customer(db: Database, provider, viewer: Viewer, payment_id: int) -> dict:
    """"Cancel this payment" on the order page (and POST /payments/{id}/cancel). Cancelling
    one already ended answers it as it is."""
    try:
        payment = get_payment(db, payment_id)
        order_for_viewer(db, viewer, payment["order_id"])
    except NotFound:
        raise NotFound("We couldn't find that payment.") from None
    if payment["method"] != "card":
        raise Conflict(NOT_A_CHECKOUT)
    if payment["status"] != "pending":
        return payment
    return cancel_at_provider(db, provider, payment, CANCELLED_BY_YOU)


def replace_open(db: Database, provider, order_id: int, key: str) -> None:
    """Before a new payment (with Idempotency-Key `key`): cancel the order's other open
    checkouts at the provider, so at most one can ever take money."""
    for payment in pending(db, order_id):
        if payment["idempotency_key"] != key:
            cancel_at_provider(db, provider, payment, REPLACED)


def on_event(db: Database, event: Event) -> None:
    """Inside the transaction of a change that may lower what is payable: queue a check of the
    order's open checkouts, for the worker (the provider is never called inside a
    transaction). The check itself happens when the whole change has been written."""
    table = LOWERING.get(event.action)
    if table is None:
        return
    order_id = payment_rows.order_of(db, table, event.subject_id)
    for payment in pending(db, order_id) if order_id is not None else ():
        if not payment_rows.outbox_row_pending(db, CANCEL_KIND, payment["id"]):
            outbox.enqueue(db, CANCEL_KIND, payment["id"])


def too_large(db: Database, payment: dict) -> bool:
    return payment["status"] == "pending" and \
        payment["amount_minor"] > allowed_now(db, payment["order_id"])


def deliver_cancel(db: Database, provider, row: dict) -> str:
    """The worker's outbox handler: cancel the checkout if it now asks for more than may be
    paid. Asking the provider twice is harmless (the cancel is idempotent there)."""
    payment = get_payment(db, row["subject_id"])
    if not too_large(db, payment):
        with write_transaction(db):
            outbox.complete(db, row)
        return "kept"
    try:
        status = provider.cancel_checkout(payment["provider_ref"])
    except ProviderUnavailable as exc:
        with write_transaction(db):
            outbox.retry_later(db, row, str(exc))
        return "unknown"
    except ProviderRejected as exc:
        with write_transaction(db):
            outbox.give_up(db, row, str(exc))
        return "failed"
    with write_transaction(db):
        book_status(db, get_payment(db, payment["id"]), status, AMOUNT_CHANGED)
        outbox.complete(db, row)
    return status.status
