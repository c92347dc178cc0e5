"""Paying for the kept items, at any time, also before the merchant has processed a return:
by card on the provider's hosted page (no card number touches us), or from a linked bank
account on the due date. Every payment carries an idempotency key, so nothing is paid twice."""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import time as day_time

from ..domain import banking_days, clock
from ..domain.errors import Conflict, Invalid, NotFound
from ..domain.money import Amounts, format_minor
from ..domain.validation import AMOUNT, FieldErrors
from ..provider.client import ProviderUnavailable
from ..store import outbox
from ..store import payments as payment_rows
from ..store.db import Database, lock_rows, write_transaction
from . import audit, bank_accounts, checkouts, idempotency, orders
from .orders import Viewer, amounts, order_for_viewer
from .payment_book import allowed_now, get_payment, locked_payment, under_way
from .payment_book import set_status as _set_status
from .payment_book import settle as _settle

__all__ = ["allowed_now", "get_payment"]  # their home is payment_book; callers know them here

METHODS = ("card", "bank_account")
WAIT_FOR_TWIN = 10.0  # seconds a retried request waits for the first one with its key
INSUFFICIENT_FUNDS = "insufficient_funds"  # the provider's decline_reason
DEBIT_TRIES = 3  # the due date, then the next two banking days
NOT_ENOUGH_MONEY = "There wasn't enough money in the account on three banking days"
NO_MANDATE_ANY_MORE = "There is no direct-debit mandate for the linked bank account any more"
# The bank's decline codes (the provider's decline_reason) as a customer reads them on the order
# page; the code itself stays in the audit trail. An unknown code is "The bank declined".
REFUSED_BY_PROVIDER = "refused_by_provider"  # our code: the provider refused the call itself
DECLINED_BECAUSE = {"account_closed": "The bank account is closed",
                    REFUSED_BY_PROVIDER: "The payment provider refused the debit"}
BANK_DECLINED = "The bank declined"
NO_MANDATE = ("No bank account is linked with a confirmed direct-debit mandate. Pay by card"
              " instead.")


@dataclass(frozen=True)
class ReturnUrls:
    """Where the provider's hosted card page sends the customer back to."""

    paid: str
    cancelled: str


def has_linked_bank_account(db: Database, customer_id: int) -> bool:
    row = payment_rows.customer_bank_account(db, customer_id)
    return bool(row and row["bank_account_json"])


def _parse(payload, bank_linked: bool) -> tuple[int, str]:
    errors = FieldErrors()
    data = errors.mapping(payload, "body")
    amount = errors.integer(data, "amount", "amount", counts=AMOUNT, minimum=1, maximum=10**10)
    method = data.get("method")
    if method is None:
        method = "bank_account" if bank_linked else "card"
    if method not in METHODS:
        errors.add("method", "Must be one of: card, bank_account.")
    elif method == "bank_account" and not bank_linked:
        errors.add("method", NO_MANDATE)
    errors.raise_if_any()
    return amount, method


def _check_amount(db: Database, order: dict, amount: int) -> None:
    known = amounts(db, order["id"])
    allowed = allowed_now(db, order["id"], known)
    if amount > allowed:
        most = format_minor(allowed, order["currency"])
        raise Invalid(f"You can pay at most {most} now.",
                      fields={"amount": _why_no_more(known, under_way(db, order["id"]), most,
                                                     order["currency"])},
                      allowed=allowed)


def _why_no_more(known: Amounts, scheduled: int, most: str, currency: str) -> str:
    """The true reason a larger amount is refused: a refusal that blames paused items when none
    are paused sends the customer looking for a return that isn't there."""
    if scheduled:
        return (f"You can pay at most {most} now: a payment of "
                f"{format_minor(scheduled, currency)} is already under way.")
    if known.paused:
        return f"You can pay at most {most} now: items you are returning are paused, not due."
    if not known.payable_now:
        return "There is nothing to pay on this order now."
    return f"You can pay at most {most} now: that is what you owe for the items you keep."


def pay(db: Database, provider, viewer: Viewer, order_id: int, payload, key: str | None,
        urls: ReturnUrls) -> idempotency.Response:
    """Start a payment, after cancelling at the provider any card checkout the order still has
    open (raises ProviderUnavailable when it can't be asked: nothing is started then). A retry
    with the same key and body gets the first answer again, with the payment as it is now."""
    order = order_for_viewer(db, viewer, order_id)
    key = idempotency.check_key(key)
    amount, method = _parse(payload, bank_accounts.may_debit(db, order["customer_id"]))
    scope = f"payment:order:{order_id}"
    body = {"amount": amount, "method": method}
    if not _seen(db, scope, key):
        # Refused before anything is cancelled: a mistyped amount must not cost the customer
        # the checkout they had open. (Open checkouts don't count here, so cancelling one can
        # only lower what may be paid, when it turns out paid; the check is made again then.)
        _check_amount(db, order, amount)
        if method == "bank_account":
            # A card payment replaces the open checkout once it holds the order's one start
            # in flight (_start_card_checkout); a debit, taken on the day and capped by what
            # is owed then, can cancel first.
            checkouts.replace_open(db, provider, order_id, key)
    try:
        if method == "bank_account":
            response = _schedule_from_bank(db, order, scope, key, body)
        else:
            response = _start_card_checkout(db, provider, order, scope, key, body, urls)
    except Conflict as exc:
        if not exc.details.get("in_flight"):
            raise
        response = _wait_for_twin(db, scope, key, exc)
    return _as_now(db, provider, response)


def _seen(db: Database, scope: str, key: str) -> bool:
    """A retry of a request already made: it must not cancel what it started itself."""
    return payment_rows.start_recorded(db, scope, key)


def _as_now(db: Database, provider, response: idempotency.Response) -> idempotency.Response:
    """A replayed answer shows the payment as it is now: a stored "pending" with the page's URL
    would send the customer to a checkout that was cancelled or has expired since."""
    payment_id = response.body.get("id")
    if payment_id is None:
        return response
    payment = get_payment(db, payment_id)
    if payment["status"] == "pending" and not checkouts.is_current(payment):
        # Unreachable provider: still shown as pending, without a way back to a page that may
        # be gone.
        with contextlib.suppress(ProviderUnavailable):
            payment = confirm_checkout(db, provider, payment["provider_ref"])
    return idempotency.Response(response.status, as_api(payment))


def _wait_for_twin(db: Database, scope: str, key: str, exc: Conflict) -> idempotency.Response:
    """A double click or a retried call while the first is still running: answer as it did."""
    deadline = time.monotonic() + WAIT_FOR_TWIN
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if (done := idempotency.stored(db, scope, key)) is not None:
            return done
    raise exc


def _refuse_while_another_starts(db: Database, scope: str, key: str) -> None:
    """A card payment has no payment row (so `allowed_now` can't see it) until the provider has
    opened its checkout: while another key of this order is that far, a second payment could
    ask for the same money again. Refuse it (409); a retry a moment later is judged anew."""
    cutoff = clock.iso(clock.now() - idempotency.STALE_AFTER)
    if payment_rows.another_start_in_flight(db, scope, key, cutoff):
        raise Conflict("Another payment for this order is being started. Retry in a moment.")


def _schedule_from_bank(db, order, scope, key, body) -> idempotency.Response:
    with write_transaction(db):
        lock_rows(db, "orders", order["id"])
        if (done := idempotency.claim(db, scope, key, body)) is not None:
            return done
        _refuse_while_another_starts(db, scope, key)
        _check_amount(db, order, body["amount"])
        payment_id = insert_scheduled(db, order, body["amount"], key,
                                      f"customer:{order['customer_id']}")
        return idempotency.finish(db, scope, key,
                                  idempotency.Response(201, as_api(get_payment(db, payment_id))))


def debit_starts_at(day: str) -> datetime:
    """A debit is taken at 08:00 Stockholm time on its day (or at once if that has passed)."""
    start = datetime.combine(datetime.fromisoformat(day).date(), day_time(8),
                             tzinfo=clock.LOCAL_ZONE)
    return max(start, clock.now())


def insert_scheduled(db: Database, order: dict, amount: int, key: str, actor: str) -> int:
    """Inside the caller's transaction: a debit from the linked account on the due date (today
    if that has passed), queued for the worker."""
    today = clock.today().isoformat()
    scheduled_for = max(order["due_date"] or today, today)
    payment_id = payment_rows.add_payment(db, {
        "order_id": order["id"], "amount_minor": amount, "method": "bank_account",
        "status": "scheduled", "idempotency_key": key, "scheduled_for": scheduled_for,
        "created_at": clock.now_iso(),
    })
    outbox.enqueue(db, "debit", payment_id, available_at=debit_starts_at(scheduled_for))
    audit.record(db, actor, "payment.scheduled", "payment", payment_id,
                 after={"amount": amount, "method": "bank_account",
                        "scheduled_for": scheduled_for})
    return payment_id


def _start_card_checkout(db, provider, order, scope, key, body, urls) -> idempotency.Response:
    with write_transaction(db):
        lock_rows(db, "orders", order["id"])
        if (done := idempotency.claim(db, scope, key, body)) is not None:
            return done
        _refuse_while_another_starts(db, scope, key)
        _check_amount(db, order, body["amount"])
    # Provider calls happen between transactions, never inside one. This start is now the
    # order's only one in flight (every other is refused meanwhile), so no checkout can open
    # between cancelling the open ones and opening ours: at most one can ever take money. The
    # checkout's own idempotency key makes a repeat (after a crash) return the same one.
    try:
        checkouts.replace_open(db, provider, order["id"], key)
        with write_transaction(db):
            _check_amount(db, order, body["amount"])  # a replaced one may have been paid
        checkout = provider.create_checkout(
            f"order-{order['id']}-{key}", body["amount"], order["currency"],
            order["order_number"], urls.paid, urls.cancelled)
    except Exception:
        with write_transaction(db):
            idempotency.release(db, scope, key)
        raise
    with write_transaction(db):
        lock_rows(db, "orders", order["id"])
        payment_id = payment_rows.add_payment(db, {
            "order_id": order["id"], "amount_minor": body["amount"], "method": "card",
            "status": "pending", "idempotency_key": key, "provider_ref": checkout.id,
            "checkout_url": checkout.url, "created_at": clock.now_iso(),
        })
        audit.record(db, f"customer:{order['customer_id']}", "payment.started", "payment",
                     payment_id, after=body | {"checkout": checkout.id})
        return idempotency.finish(db, scope, key,
                                  idempotency.Response(201, as_api(get_payment(db, payment_id))))


def record_transfer(db: Database, order_id: int, amount: int, reference: str,
                    actor: str) -> dict:
    """An invoice paid by hand (bank giro with the OCR reference): the money is already here.
    The reference is the idempotency key, so a statement read twice books it once."""
    with write_transaction(db):
        return book_transfer(db, order_id, amount, reference)


def book_transfer(db: Database, order_id: int, amount: int, reference: str) -> dict:
    """record_transfer inside the caller's transaction: a bank file is booked as a whole
    (services/bank_payments.py), through the same ledger path as every other payment."""
    lock_rows(db, "orders", order_id)
    existing = payment_rows.transfer_by_key(db, order_id, f"transfer:{reference}")
    if existing:
        return existing
    payment_id = payment_rows.add_payment(db, {
        "order_id": order_id, "amount_minor": amount, "method": "bank_transfer",
        "status": "pending", "idempotency_key": f"transfer:{reference}",
        "provider_ref": reference, "created_at": clock.now_iso(),
    })
    _settle(db, get_payment(db, payment_id), amount)
    return get_payment(db, payment_id)


def payment_by_checkout(db: Database, session_id: str) -> dict:
    row = payment_rows.card_payment_by_checkout(db, session_id)
    if row is None:
        raise NotFound("We couldn't find that payment.")
    return row


def confirm_checkout(db: Database, provider, session_id: str) -> dict:
    """Ask the provider how a card checkout ended and book it once. Safe to call repeatedly:
    from the customer's return, and from the worker for customers who never came back."""
    payment = payment_by_checkout(db, session_id)
    if payment["status"] != "pending":
        return payment
    # An expired session answers "expired": the payment is then cancelled with that reason.
    return checkouts.book(db, payment["id"], provider.get_checkout(session_id),
                          checkouts.CANCELLED_ON_PAGE)


def prepare_debit(db: Database, payment_id: int) -> tuple[dict, int, dict | None]:
    """For the worker's first attempt: the scheduled payment, what to take now (never more than
    is owed today: a return accepted meanwhile lowers it), and the bank account to take it from.
    Retries reuse what the first attempt sent (see deliveries.deliver_debit)."""
    with write_transaction(db):
        payment = locked_payment(db, payment_id)
        if payment["status"] != "scheduled":
            return payment, 0, None
        owed = amounts(db, payment["order_id"]).payable_now
        amount = min(payment["amount_minor"], owed)
        if amount <= 0:
            _set_status(db, payment, "cancelled",
                        failure_reason="Nothing was owed any more on the payment date")
            return get_payment(db, payment_id), 0, None
        payer = payment_rows.payer_of_order(db, payment["order_id"])
        if not bank_accounts.may_debit(db, payer["id"]):
            _set_status(db, payment, "cancelled", failure_reason=NO_MANDATE_ANY_MORE)
            return get_payment(db, payment_id), 0, None
    return payment, amount, json.loads(payer["bank_account_json"])


def record_debit(db: Database, payment_id: int, amount: int, outcome: str, debit_id: str | None,
                 detail: str) -> dict:
    """Inside the worker's transaction."""
    payment = locked_payment(db, payment_id)
    if payment["status"] != "scheduled":
        return payment
    if outcome == "succeeded":
        _settle(db, payment, amount, provider_ref=debit_id)
    elif outcome == "declined" and detail == INSUFFICIENT_FUNDS:
        _declined_for_lack_of_funds(db, payment, amount)
    elif outcome == "declined":
        _set_status(db, payment, "failed", audited={"decline_reason": detail},
                    failure_reason=_declined_because(detail))
    return get_payment(db, payment_id)


def _declined_because(detail: str) -> str:
    """A sentence for the customer: the provider's code in words, or our own sentence as it is
    (deliveries.py declines with one when no account is linked any more)."""
    if detail in DECLINED_BECAUSE:
        return DECLINED_BECAUSE[detail]
    return BANK_DECLINED if not detail or re.fullmatch(r"[a-z0-9_]+", detail) else detail


def _declined_for_lack_of_funds(db: Database, payment: dict, amount: int) -> None:
    """Tried again on the next banking day, DEBIT_TRIES in all; after the last, the invoice is
    an ordinary invoice again (its reminders follow). Each try is an event the customer hears
    of (notifications.subscriber)."""
    tries = payment["debit_tries"] + 1
    if tries < DEBIT_TRIES:
        next_day = banking_days.next_banking_day(clock.today()).isoformat()
        if not payment_rows.next_debit_try(db, payment["id"], payment["debit_tries"], tries,
                                           next_day):
            raise Conflict("The payment changed meanwhile.")
        outbox.enqueue(db, "debit", payment["id"], available_at=debit_starts_at(next_day))
    else:
        next_day = None
        payment_rows.set_debit_tries(db, payment["id"], tries)
        _set_status(db, get_payment(db, payment["id"]), "failed",
                    failure_reason=NOT_ENOUGH_MONEY)
    audit.record(db, "system", "payment.debit_declined", "payment", payment["id"],
                 after={"reason": INSUFFICIENT_FUNDS, "try": tries, "tries": DEBIT_TRIES,
                        "amount": amount, "next_try_on": next_day})


def provider_key(payment: dict) -> str:
    """The provider's idempotency key for this try: a new try after a decline is a new debit
    (the same key would only replay the decline)."""
    tries = payment["debit_tries"]
    return f"payment-{payment['id']}" + (f"-t{tries + 1}" if tries else "")


def payments_of_order(db: Database, order_id: int) -> list[dict]:
    return payment_rows.payments_of_order(db, order_id)


def order_as_api(db: Database, details: dict, invoice: dict | None) -> dict:
    """The API's order, its `payable_now` being exactly what a payment may be now (allowed_now,
    as POST .../payments judges it), not the amount owed before scheduled debits."""
    answer = orders.as_api(details, invoice)
    answer["amounts"]["payable_now"] = allowed_now(db, details["id"], details["amounts"])
    return answer


def as_api(payment: dict) -> dict:
    return {
        "id": payment["id"],
        "order_id": payment["order_id"],
        "amount": payment["amount_minor"],
        "method": payment["method"],
        "status": payment["status"],
        "scheduled_for": payment["scheduled_for"],
        "checkout_url": payment["checkout_url"] if checkouts.is_current(payment) else None,
        "created_at": payment["created_at"],
    }
