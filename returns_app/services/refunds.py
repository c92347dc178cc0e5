"""Refunds: created the moment money is owed back, sent to the card that paid, else the linked
bank account, else started anyway and waiting for the customer to say where."""

from __future__ import annotations

import json

from ..domain import clock
from ..domain.errors import Conflict, NotFound
from ..domain.payout_details import Destination
from ..domain.states import REFUND_PAYABLE_OUTSIDE
from ..store import outbox, status_moves
from ..store import payments as payment_rows
from ..store import refunds as refund_rows
from ..store.db import Database, lock_rows, write_transaction
from . import approvals, audit, idempotency, ledger
from .orders import Viewer, get_order, ledger_amounts, order_for_viewer


def _card_that_paid(db: Database, order: dict) -> dict | None:
    paid = payment_rows.last_card_that_paid(db, order["id"])
    if paid:
        return {"kind": "card", "provider": {"type": "card", "payment_id":
                                             paid["provider_payment_id"]},
                "masked": f"Card •••• {paid['card_last4']}"}
    if order["payment_method"] == "card":
        # Paid by card at checkout: the merchant's reference identifies that card payment.
        return {"kind": "card", "provider": {"type": "card",
                                             "payment_id": f"checkout:{order['order_number']}"},
                "masked": "The card you paid with"}
    return None


def _linked_bank_account(db: Database, order: dict) -> dict | None:
    row = payment_rows.customer_bank_account(db, order["customer_id"])
    if row and row["bank_account_json"]:
        return {"kind": "bank_account", "provider": json.loads(row["bank_account_json"]),
                "masked": row["bank_account_masked"]}
    return None


def settle_refund_owed(db: Database, order_id: int, reason: str, actor: str,
                       return_id: int | None = None) -> dict | None:
    """Inside the caller's transaction: if the order now owes the customer money that no refund
    covers yet, create exactly one refund for it. The ledger entry is booked with it, so the
    same money can never be refunded twice."""
    owed = ledger_amounts(db, order_id).refund_owed
    if owed <= 0:
        return None
    order = get_order(db, order_id)
    destination = _card_that_paid(db, order) or _linked_bank_account(db, order)
    now = clock.now_iso()
    refund_id = refund_rows.add_refund(db, {
        "order_id": order_id,
        "return_id": return_id,  # whose legal refund deadline applies (support's queue)
        "amount_minor": owed,
        "status": "ready" if destination else "needs_details",
        "destination_kind": destination["kind"] if destination else None,
        "destination_json": json.dumps(destination["provider"]) if destination else None,
        "destination_masked": destination["masked"] if destination else None,
        "reason": reason,
        "created_at": now,
        "status_changed_at": now,
    })
    ledger.book(db, order_id=order_id, kind="refund", amount_minor=owed,
                reference=f"refund:{refund_id}", memo=reason, at=now)
    if destination:
        outbox.enqueue(db, "payout", refund_id)
    audit.record(db, actor, "refund.created", "refund", refund_id,
                 after={"amount": owed, "status": "ready" if destination else "needs_details",
                        "destination": destination["masked"] if destination else None})
    return get_refund(db, refund_id)


def get_refund(db: Database, refund_id: int) -> dict:
    row = refund_rows.refund_by_id(db, refund_id)
    if row is None:
        raise NotFound("We couldn't find that refund.")
    return row


def locked_refund(db: Database, refund_id: int) -> dict:
    """Inside a write transaction: the refund as it is once its order is locked (a refund moves
    under its order's lock, as every money case does: docs/design.md, "Locking, case by case")."""
    lock_rows(db, "orders", get_refund(db, refund_id)["order_id"])
    return get_refund(db, refund_id)


def refund_for_viewer(db: Database, viewer: Viewer, refund_id: int) -> dict:
    refund = get_refund(db, refund_id)
    try:
        order_for_viewer(db, viewer, refund["order_id"])
    except NotFound:
        raise NotFound("We couldn't find that refund.") from None
    return refund


def refunds_of_order(db: Database, order_id: int) -> list[dict]:
    return refund_rows.refunds_of_order(db, order_id)


def set_destination(db: Database, refund_id: int, destination: Destination,
                    actor: str, why: str = "") -> dict:
    """The customer chose where the money goes: the refund is ready and its payout queued.
    Refused while a support request about the refund waits for a second person."""
    with write_transaction(db):
        _set_destination(db, refund_id, destination, actor, why)
    return get_refund(db, refund_id)


def set_destination_once(db: Database, refund_id: int, destination: Destination, actor: str,
                         key: str | None, request: dict) -> idempotency.Response:
    """`set_destination` for the API. With an Idempotency-Key, a retry of the same request (its
    answer lost) gets the first answer again instead of a 409; without one, as before."""
    if key is None:
        return idempotency.Response(200, as_api(set_destination(db, refund_id, destination,
                                                                actor)))
    key = idempotency.check_key(key)
    # Per refund: only those who may see the refund get this far, and lookup sessions share
    # one actor name.
    scope = f"payout-details:refund:{refund_id}"
    with write_transaction(db):
        done = idempotency.claim(db, scope, key, {"refund_id": refund_id, "details": request})
        if done is not None:
            return done
        _set_destination(db, refund_id, destination, actor)
        return idempotency.finish(db, scope, key, idempotency.Response(
            200, as_api(get_refund(db, refund_id))))


def _set_destination(db: Database, refund_id: int, destination: Destination, actor: str,
                     why: str = "") -> None:
    refund = locked_refund(db, refund_id)
    approvals.refuse_if_pending(db, refund_id)
    apply_destination(db, refund, destination.kind,
                      json.dumps(destination.as_provider_destination()), destination.masked,
                      actor, why=why)


def apply_destination(db: Database, refund: dict, kind: str, destination_json: str,
                      masked: str, actor: str, why: str = "", note: dict | None = None,
                      not_before=None) -> None:
    """Inside the caller's transaction: the refund goes to this destination, its payout queued
    (no earlier than `not_before`, when given); an objection on record is settled by it."""
    if refund["status"] not in REFUND_PAYABLE_OUTSIDE:
        raise Conflict("This refund already has somewhere to go"
                       + (" and has been sent." if refund["status"] == "succeeded" else "."))
    status_moves.move(db, "refund", refund["id"], refund["status"], "ready", destination_kind=kind,
          destination_json=destination_json, destination_masked=masked, objected_at=None)
    outbox.enqueue(db, "payout", refund["id"], available_at=not_before)
    audit.record(db, actor, "refund.destination_set", "refund", refund["id"],
                 before={"status": refund["status"],
                         "destination": refund["destination_masked"]},
                 after={"status": "ready", "destination": masked, **(note or {})}, why=why)


def withdraw_destination(db: Database, refund: dict, objected_at: str) -> int:
    """Inside the caller's transaction: a ready refund whose payout hasn't left goes back to
    waiting for an account, and its queued payout is called off. Returns how many payout
    deliveries were called off."""
    status_moves.move(db, "refund", refund["id"], "ready", "needs_details", destination_kind=None,
          destination_json=None, destination_masked=None, objected_at=objected_at)
    # A worker that claimed the row meanwhile finds the refund needing details and pays nothing.
    return refund_rows.call_off_pending_payouts(
        db, refund["id"], objected_at, "Called off: the customer objected to the destination")


def start_sending(db: Database, refund_id: int) -> dict:
    """Inside the worker's transaction, before the provider is called."""
    refund = get_refund(db, refund_id)
    if refund["status"] == "ready":
        status_moves.move(db, "refund", refund_id, "ready", "sending",
                          attempts=refund["attempts"] + 1)
    elif refund["status"] == "unknown":
        status_moves.move(db, "refund", refund_id, "unknown", "sending",
                          attempts=refund["attempts"] + 1)
    return get_refund(db, refund_id)


def record_outcome(db: Database, refund_id: int, outcome: str, payout_id: str | None,
                   detail: str) -> dict:
    """Inside the worker's transaction: what the provider said (or that it couldn't say)."""
    refund = get_refund(db, refund_id)
    if refund["status"] in ("succeeded", "failed"):
        return refund
    target = {"succeeded": "succeeded", "declined": "failed"}.get(outcome, "unknown")
    extra = {"provider_payout_id": payout_id, "last_error": None if target == "succeeded"
             else detail}
    if target == "succeeded":
        extra["succeeded_at"] = clock.now_iso()
    status_moves.move(db, "refund", refund_id, refund["status"], target, **extra)
    audit.record(db, "worker", f"refund.{target}", "refund", refund_id,
                 before={"status": refund["status"]},
                 after={"status": target, "payout_id": payout_id, "detail": detail})
    return get_refund(db, refund_id)


def as_api(refund: dict) -> dict:
    return {
        "id": refund["id"],
        "order_id": refund["order_id"],
        "amount": refund["amount_minor"],
        "status": refund["status"],
        "destination": refund["destination_masked"],
        "created_at": refund["created_at"],
    }
