"""Paying for the kept items, at any time, also before the merchant has processed a return:
by card on the provider's hosted page (no card number touches us), or from a linked bank
account on the due date. Every payment carries an idempotency key, so nothing is paid twice."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import time as day_time

from .. import banking_days, clock, outbox
from ..db import Database, select, write_transaction
from ..errors import Conflict, Invalid, NotFound
from ..money import Amounts, format_minor
from ..validation import AMOUNT, FieldErrors
from . import audit, bank_accounts, idempotency, refunds
from .orders import Viewer, amounts, order_for_viewer

METHODS = ("card", "bank_account")
IN_PROGRESS = ("pending", "scheduled")
WAIT_FOR_TWIN = 10.0  # seconds a retried request waits for the first one with its key
INSUFFICIENT_FUNDS = "insufficient_funds"  # the provider's decline_reason
DEBIT_TRIES = 3  # the due date, then the next two banking days
NOT_ENOUGH_MONEY = "There wasn't enough money in the account on three banking days"
NO_MANDATE_ANY_MORE = "There is no direct-debit mandate for the linked bank account any more"
NO_MANDATE = ("No bank account is linked with a confirmed direct-debit mandate. Pay by card"
              " instead.")


@dataclass(frozen=True)
class ReturnUrls:
    """Where the provider's hosted card page sends the customer back to."""

    paid: str
    cancelled: str


def _under_way(db: Database, order_id: int) -> int:
    return db.execute(
        "SELECT coalesce(sum(amount_minor), 0) FROM payment WHERE order_id = ? AND (status ="
        " 'pending' OR (status = 'scheduled' AND debit_tries = 0))", [order_id]).fetchone()[0]


def allowed_now(db: Database, order_id: int, known: Amounts | None = None) -> int:
    """What may still be paid now: the kept items' amount less payments already under way.
    A debit declined for lack of funds is not counted: the customer may pay another way, and
    its next try then takes only what is still owed. `known` is the order's amounts when the
    caller has just computed them."""
    return max(0, (known or amounts(db, order_id)).payable_now - _under_way(db, order_id))


def has_linked_bank_account(db: Database, customer_id: int) -> bool:
    row = db.execute("SELECT bank_account_json FROM customer WHERE id = ?",
                     [customer_id]).fetchone()
    return bool(row and row[0])


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
    under_way = _under_way(db, order["id"])
    allowed = max(0, known.payable_now - under_way)
    if amount > allowed:
        most = format_minor(allowed, order["currency"])
        raise Invalid(f"You can pay at most {most} now.",
                      fields={"amount": _why_no_more(known, under_way, most, order["currency"])},
                      allowed=allowed)


def _why_no_more(known: Amounts, under_way: int, most: str, currency: str) -> str:
    """The true reason a larger amount is refused: a refusal that blames paused items when none
    are paused sends the customer looking for a return that isn't there."""
    if under_way:
        return (f"You can pay at most {most} now: a payment of "
                f"{format_minor(under_way, currency)} is already under way.")
    if known.paused:
        return f"You can pay at most {most} now: items you are returning are paused, not due."
    if not known.payable_now:
        return "There is nothing to pay on this order now."
    return f"You can pay at most {most} now: that is what you owe for the items you keep."


def pay(db: Database, provider, viewer: Viewer, order_id: int, payload, key: str | None,
        urls: ReturnUrls) -> idempotency.Response:
    """Start a payment. A retry with the same key and body gets the first answer again."""
    order = order_for_viewer(db, viewer, order_id)
    key = idempotency.check_key(key)
    amount, method = _parse(payload, bank_accounts.may_debit(db, order["customer_id"]))
    scope = f"payment:order:{order_id}"
    body = {"amount": amount, "method": method}
    try:
        if method == "bank_account":
            return _schedule_from_bank(db, order, scope, key, body)
        return _start_card_checkout(db, provider, order, scope, key, body, urls)
    except Conflict as exc:
        if not exc.details.get("in_flight"):
            raise
        return _wait_for_twin(db, scope, key, exc)


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
    if db.execute("SELECT 1 FROM idempotency_record WHERE scope = ? AND key != ? AND status ="
                  " 'in_flight' AND created_at > ?", [scope, key, cutoff]).fetchone():
        raise Conflict("Another payment for this order is being started. Retry in a moment.")


def _schedule_from_bank(db, order, scope, key, body) -> idempotency.Response:
    with write_transaction(db):
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
    payment_id = db["payment"].insert({
        "order_id": order["id"], "amount_minor": amount, "method": "bank_account",
        "status": "scheduled", "idempotency_key": key, "scheduled_for": scheduled_for,
        "created_at": clock.now_iso(),
    }).last_pk
    outbox.enqueue(db, "debit", payment_id, available_at=debit_starts_at(scheduled_for))
    audit.record(db, actor, "payment.scheduled", "payment", payment_id,
                 after={"amount": amount, "method": "bank_account",
                        "scheduled_for": scheduled_for})
    return payment_id


def _start_card_checkout(db, provider, order, scope, key, body, urls) -> idempotency.Response:
    with write_transaction(db):
        if (done := idempotency.claim(db, scope, key, body)) is not None:
            return done
        _refuse_while_another_starts(db, scope, key)
        _check_amount(db, order, body["amount"])
    # The provider call happens between two transactions, never inside one; its own
    # idempotency key makes a repeat (after a crash) return the same checkout.
    try:
        checkout = provider.create_checkout(
            f"order-{order['id']}-{key}", body["amount"], order["currency"],
            order["order_number"], urls.paid, urls.cancelled)
    except Exception:
        with write_transaction(db):
            idempotency.release(db, scope, key)
        raise
    with write_transaction(db):
        payment_id = db["payment"].insert({
            "order_id": order["id"], "amount_minor": body["amount"], "method": "card",
            "status": "pending", "idempotency_key": key, "provider_ref": checkout.id,
            "checkout_url": checkout.url, "created_at": clock.now_iso(),
        }).last_pk
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
    existing = select(db, "SELECT * FROM payment WHERE order_id = ? AND"
                             " idempotency_key = ?", [order_id, f"transfer:{reference}"])
    if existing:
        return existing[0]
    payment_id = db["payment"].insert({
        "order_id": order_id, "amount_minor": amount, "method": "bank_transfer",
        "status": "pending", "idempotency_key": f"transfer:{reference}",
        "provider_ref": reference, "created_at": clock.now_iso(),
    }).last_pk
    _settle(db, get_payment(db, payment_id), amount)
    return get_payment(db, payment_id)


def get_payment(db: Database, payment_id: int) -> dict:
    rows = select(db, "SELECT * FROM payment WHERE id = ?", [payment_id])
    if not rows:
        raise NotFound("No such payment.")
    return rows[0]


def payment_by_checkout(db: Database, session_id: str) -> dict:
    rows = select(db, "SELECT * FROM payment WHERE provider_ref = ? AND method = 'card'",
                         [session_id])
    if not rows:
        raise NotFound("We couldn't find that payment.")
    return rows[0]


def confirm_checkout(db: Database, provider, session_id: str) -> dict:
    """Ask the provider how a card checkout ended and book it once. Safe to call repeatedly:
    from the customer's return, and from the worker for customers who never came back."""
    payment = payment_by_checkout(db, session_id)
    if payment["status"] != "pending":
        return payment
    status = provider.get_checkout(session_id)
    with write_transaction(db):
        payment = get_payment(db, payment["id"])
        if payment["status"] != "pending":
            return payment
        if status.status == "paid":
            _settle(db, payment, payment["amount_minor"], provider_payment_id=status.payment_id,
                    card_last4=status.card_last4)
        elif status.status == "cancelled":
            _set_status(db, payment, "cancelled", failure_reason="Cancelled on the card page")
    return get_payment(db, payment["id"])


def _set_status(db: Database, payment: dict, target: str, **columns) -> None:
    assignments = "".join(f", {name} = ?" for name in columns)
    cursor = db.execute(
        f"UPDATE payment SET status = ?{assignments} WHERE id = ? AND status = ?",
        [target, *columns.values(), payment["id"], payment["status"]])
    if cursor.rowcount != 1:
        raise Conflict("The payment changed meanwhile.")
    audit.record(db, "system", f"payment.{target}", "payment", payment["id"],
                 before={"status": payment["status"]}, after={"status": target, **columns})


def _settle(db: Database, payment: dict, amount: int, **columns) -> None:
    """Book money received, and refund at once whatever it overpaid."""
    _set_status(db, payment, "succeeded", settled_amount_minor=amount,
                settled_at=clock.now_iso(), **columns)
    db["ledger_entry"].insert({
        "order_id": payment["order_id"], "kind": "payment", "amount_minor": amount,
        "idempotency_key": f"payment:{payment['id']}",
        "memo": f"Paid by {payment['method'].replace('_', ' ')}",
        "created_at": clock.now_iso(),
    })
    refunds.settle_refund_owed(db, payment["order_id"],
                               "Paid more than was owed", "system")


def prepare_debit(db: Database, payment_id: int) -> tuple[dict, int, dict | None]:
    """For the worker's first attempt: the scheduled payment, what to take now (never more than
    is owed today: a return accepted meanwhile lowers it), and the bank account to take it from.
    Retries reuse what the first attempt sent (see deliveries.deliver_debit)."""
    with write_transaction(db):
        payment = get_payment(db, payment_id)
        if payment["status"] != "scheduled":
            return payment, 0, None
        owed = amounts(db, payment["order_id"]).payable_now
        amount = min(payment["amount_minor"], owed)
        if amount <= 0:
            _set_status(db, payment, "cancelled",
                        failure_reason="Nothing was owed any more on the payment date")
            return get_payment(db, payment_id), 0, None
        row = db.execute("SELECT customer.id, customer.bank_account_json FROM customer JOIN"
                         " orders ON orders.customer_id = customer.id WHERE orders.id = ?",
                         [payment["order_id"]]).fetchone()
        if not bank_accounts.may_debit(db, row[0]):
            _set_status(db, payment, "cancelled", failure_reason=NO_MANDATE_ANY_MORE)
            return get_payment(db, payment_id), 0, None
    return payment, amount, json.loads(row[1])


def record_debit(db: Database, payment_id: int, amount: int, outcome: str, debit_id: str | None,
                 detail: str) -> dict:
    """Inside the worker's transaction."""
    payment = get_payment(db, payment_id)
    if payment["status"] != "scheduled":
        return payment
    if outcome == "succeeded":
        _settle(db, payment, amount, provider_ref=debit_id)
    elif outcome == "declined" and detail == INSUFFICIENT_FUNDS:
        _declined_for_lack_of_funds(db, payment, amount)
    elif outcome == "declined":
        _set_status(db, payment, "failed", failure_reason=detail or "The bank declined")
    return get_payment(db, payment_id)


def _declined_for_lack_of_funds(db: Database, payment: dict, amount: int) -> None:
    """Tried again on the next banking day, DEBIT_TRIES in all; after the last, the invoice is
    an ordinary invoice again (its reminders follow). Each try is an event the customer hears
    of (notifications.subscriber)."""
    tries = payment["debit_tries"] + 1
    if tries < DEBIT_TRIES:
        next_day = banking_days.next_banking_day(clock.today()).isoformat()
        cursor = db.execute("UPDATE payment SET debit_tries = ?, scheduled_for = ? WHERE id = ?"
                            " AND status = 'scheduled' AND debit_tries = ?",
                            [tries, next_day, payment["id"], payment["debit_tries"]])
        if cursor.rowcount != 1:
            raise Conflict("The payment changed meanwhile.")
        outbox.enqueue(db, "debit", payment["id"], available_at=debit_starts_at(next_day))
    else:
        next_day = None
        db.execute("UPDATE payment SET debit_tries = ? WHERE id = ?", [tries, payment["id"]])
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
    return select(db, "SELECT * FROM payment WHERE order_id = ? ORDER BY id", [order_id])


def as_api(payment: dict) -> dict:
    return {
        "id": payment["id"],
        "order_id": payment["order_id"],
        "amount": payment["amount_minor"],
        "method": payment["method"],
        "status": payment["status"],
        "scheduled_for": payment["scheduled_for"],
        "checkout_url": payment["checkout_url"] if payment["status"] == "pending" else None,
        "created_at": payment["created_at"],
    }
