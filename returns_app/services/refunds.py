"""Refunds: created the moment money is owed back, sent to the card that paid, else the linked
bank account, else started anyway and waiting for the customer to say where."""

from __future__ import annotations

import json

from ..domain import clock
from ..domain.errors import Conflict, NotFound
from ..domain.payout_details import Destination
from ..store import outbox
from ..store.db import Database, select, write_transaction
from . import approvals, audit, idempotency
from .orders import Viewer, ledger_amounts, order_for_viewer

# succeeded from needs_details or failed: support booked it as paid outside the system.
# ready to needs_details: the customer objected to a destination support chose, before the
# payout left (it waits out a hold of 24 hours, see destination_changes.py).
REFUND_TRANSITIONS = {
    "needs_details": frozenset({"ready", "succeeded"}),
    "ready": frozenset({"sending", "needs_details"}),
    "sending": frozenset({"succeeded", "failed", "unknown"}),
    "unknown": frozenset({"succeeded", "failed", "unknown", "sending"}),
    "failed": frozenset({"ready", "succeeded"}),
    "succeeded": frozenset(),
}


def _move(db: Database, refund_id: int, current: str, target: str, **columns) -> None:
    if target not in REFUND_TRANSITIONS[current]:
        raise Conflict(f"A refund can't go from {current} to {target}.")
    assignments = "".join(f", {name} = ?" for name in columns)
    cursor = db.execute(
        f"UPDATE refund SET status = ?, status_changed_at = ?{assignments}"
        " WHERE id = ? AND status = ?",
        [target, clock.now_iso(), *columns.values(), refund_id, current])
    if cursor.rowcount != 1:
        raise Conflict("The refund changed meanwhile.")


def move(db: Database, refund_id: int, current: str, target: str, **columns) -> None:
    """Inside the caller's transaction: a checked compare-and-set (support's actions)."""
    _move(db, refund_id, current, target, **columns)


def _card_that_paid(db: Database, order: dict) -> dict | None:
    rows = select(db,
        "SELECT provider_payment_id, card_last4 FROM payment WHERE order_id = ? AND method ="
        " 'card' AND status = 'succeeded' AND provider_payment_id IS NOT NULL"
        " ORDER BY id DESC LIMIT 1", [order["id"]])
    if rows:
        return {"kind": "card", "provider": {"type": "card", "payment_id":
                                             rows[0]["provider_payment_id"]},
                "masked": f"Card •••• {rows[0]['card_last4']}"}
    if order["payment_method"] == "card":
        # Paid by card at checkout: the merchant's reference identifies that card payment.
        return {"kind": "card", "provider": {"type": "card",
                                             "payment_id": f"checkout:{order['order_number']}"},
                "masked": "The card you paid with"}
    return None


def _linked_bank_account(db: Database, order: dict) -> dict | None:
    row = db.execute("SELECT bank_account_json, bank_account_masked FROM customer WHERE id = ?",
                     [order["customer_id"]]).fetchone()
    if row and row[0]:
        return {"kind": "bank_account", "provider": json.loads(row[0]), "masked": row[1]}
    return None


def settle_refund_owed(db: Database, order_id: int, reason: str, actor: str,
                       return_id: int | None = None) -> dict | None:
    """Inside the caller's transaction: if the order now owes the customer money that no refund
    covers yet, create exactly one refund for it. The ledger entry is booked with it, so the
    same money can never be refunded twice."""
    owed = ledger_amounts(db, order_id).refund_owed
    if owed <= 0:
        return None
    order = dict(db["orders"].get(order_id))
    destination = _card_that_paid(db, order) or _linked_bank_account(db, order)
    now = clock.now_iso()
    refund_id = db["refund"].insert({
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
    }).last_pk
    db["ledger_entry"].insert({
        "order_id": order_id, "kind": "refund", "amount_minor": owed,
        "idempotency_key": f"refund:{refund_id}", "memo": reason, "created_at": now,
    })
    if destination:
        outbox.enqueue(db, "payout", refund_id)
    audit.record(db, actor, "refund.created", "refund", refund_id,
                 after={"amount": owed, "status": "ready" if destination else "needs_details",
                        "destination": destination["masked"] if destination else None})
    return get_refund(db, refund_id)


def get_refund(db: Database, refund_id: int) -> dict:
    row = db["refund"].get(refund_id) if _exists(db, refund_id) else None
    if row is None:
        raise NotFound("We couldn't find that refund.")
    return dict(row)


def _exists(db: Database, refund_id: int) -> bool:
    return db.execute("SELECT 1 FROM refund WHERE id = ?", [refund_id]).fetchone() is not None


def refund_for_viewer(db: Database, viewer: Viewer, refund_id: int) -> dict:
    refund = get_refund(db, refund_id)
    try:
        order_for_viewer(db, viewer, refund["order_id"])
    except NotFound:
        raise NotFound("We couldn't find that refund.") from None
    return refund


def refunds_of_order(db: Database, order_id: int) -> list[dict]:
    return select(db, "SELECT * FROM refund WHERE order_id = ? ORDER BY id", [order_id])


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
    refund = get_refund(db, refund_id)
    approvals.refuse_if_pending(db, refund_id)
    apply_destination(db, refund, destination.kind,
                      json.dumps(destination.as_provider_destination()), destination.masked,
                      actor, why=why)


def apply_destination(db: Database, refund: dict, kind: str, destination_json: str,
                      masked: str, actor: str, why: str = "", note: dict | None = None,
                      not_before=None) -> None:
    """Inside the caller's transaction: the refund goes to this destination, its payout queued
    (no earlier than `not_before`, when given); an objection on record is settled by it."""
    if refund["status"] not in ("needs_details", "failed"):
        raise Conflict("This refund already has somewhere to go"
                       + (" and has been sent." if refund["status"] == "succeeded" else "."))
    _move(db, refund["id"], refund["status"], "ready", destination_kind=kind,
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
    _move(db, refund["id"], "ready", "needs_details", destination_kind=None,
          destination_json=None, destination_masked=None, objected_at=objected_at)
    # A worker that claimed the row meanwhile finds the refund needing details and pays nothing.
    return db.execute(
        "UPDATE outbox SET status = 'done', done_at = ?, last_error = ?, lease_owner = NULL,"
        " lease_expires_at = NULL WHERE kind = 'payout' AND subject_id = ?"
        " AND status = 'pending'",
        [objected_at, "Called off: the customer objected to the destination", refund["id"]]
    ).rowcount


def start_sending(db: Database, refund_id: int) -> dict:
    """Inside the worker's transaction, before the provider is called."""
    refund = get_refund(db, refund_id)
    if refund["status"] == "ready":
        _move(db, refund_id, "ready", "sending", attempts=refund["attempts"] + 1)
    elif refund["status"] == "unknown":
        _move(db, refund_id, "unknown", "sending", attempts=refund["attempts"] + 1)
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
    _move(db, refund_id, refund["status"], target, **extra)
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
