"""A payment row's one way to change status, and what money arriving books. Below both
payments.py (starting payments) and checkouts.py (ending card checkouts), which share it."""

from __future__ import annotations

from ..domain import clock
from ..domain.errors import NotFound
from ..domain.money import Amounts
from ..store import payments as payment_rows
from ..store import status_moves
from ..store.db import Database, lock_rows
from . import audit, ledger, refunds
from .orders import amounts


def get_payment(db: Database, payment_id: int) -> dict:
    row = payment_rows.payment_by_id(db, payment_id)
    if row is None:
        raise NotFound("No such payment.")
    return row


def locked_payment(db: Database, payment_id: int) -> dict:
    """Inside a write transaction: the payment as it is once its order is locked (the order is
    every money case's lock: docs/design.md, "Locking, case by case")."""
    lock_rows(db, "orders", get_payment(db, payment_id)["order_id"])
    return get_payment(db, payment_id)


def under_way(db: Database, order_id: int) -> int:
    """Bank debits the customer scheduled and that have not been declined yet, and those whose
    last try's outcome the provider hasn't told (it may have taken the money: nobody is asked
    to pay it twice). An open card checkout is not counted: a new payment cancels it at the
    provider first (checkouts.py)."""
    return payment_rows.debits_under_way(db, order_id)


def allowed_now(db: Database, order_id: int, known: Amounts | None = None) -> int:
    """What may still be paid now: the kept items' amount less debits already scheduled. The
    one answer for the pay form, POST .../payments and the API's `payable_now`. A debit declined
    for lack of funds is not counted: the customer may pay another way, and its next try then
    takes only what is still owed. `known` is the order's amounts when the caller has just
    computed them."""
    return max(0, (known or amounts(db, order_id)).payable_now - under_way(db, order_id))


def set_status(db: Database, payment: dict, target: str, audited: dict | None = None,
               **columns) -> None:
    """`columns` are written and audited; `audited` is only audited (a provider's code)."""
    status_moves.move(db, "payment", payment["id"], payment["status"], target, **columns)
    audit.record(db, "system", f"payment.{target}", "payment", payment["id"],
                 before={"status": payment["status"]},
                 after={"status": target, **columns, **(audited or {})})


def settle(db: Database, payment: dict, amount: int, **columns) -> None:
    """Book money received, and refund at once whatever it overpaid."""
    set_status(db, payment, "succeeded", settled_amount_minor=amount,
               settled_at=clock.now_iso(), **columns)
    ledger.book(db, order_id=payment["order_id"], kind="payment", amount_minor=amount,
                reference=f"payment:{payment['id']}",
                memo=f"Paid by {payment['method'].replace('_', ' ')}")
    refunds.settle_refund_owed(db, payment["order_id"],
                               "Paid more than was owed", "system")
