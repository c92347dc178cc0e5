"""A customer's linked bank account and their direct-debit mandate.

Linking an account (validated like payout details) makes it where refunds go when no card paid;
refunds already waiting for details leave for it at once. Debits need more: a mandate the
customer confirmed in their language, for this very account, stored with its exact wording."""

from __future__ import annotations

import hashlib
import json

from ..domain import clock, mandate
from ..domain.errors import Conflict, NotFound
from ..domain.payout_details import Destination
from ..store import bank as bank_rows
from ..store import outbox, status_moves
from ..store import payments as payment_rows
from ..store import refunds as refund_rows
from ..store.db import Database, lock_rows, write_transaction
from . import audit

NO_ACCOUNT = "Link a bank account first."
ACCOUNT_CHANGED = "The bank account was changed"
ACCOUNT_REMOVED = "The bank account was removed"


def _fingerprint(provider_json: str) -> str:
    # Which account a mandate is for, without keeping its number twice.
    return hashlib.sha256(provider_json.encode()).hexdigest()


def _customer(db: Database, customer_id: int) -> dict:
    row = bank_rows.customer_account(db, customer_id)
    if row is None:
        raise NotFound("No such customer.")
    return row


def active_mandate(db: Database, customer_id: int) -> dict | None:
    """The confirmed mandate for the account linked now, if any."""
    customer = _customer(db, customer_id)
    if not customer["bank_account_json"]:
        return None
    return bank_rows.active_mandate(db, customer_id,
                                    _fingerprint(customer["bank_account_json"]))


def may_debit(db: Database, customer_id: int) -> bool:
    return active_mandate(db, customer_id) is not None


def account_label(destination_masked: str) -> str:
    """ "Swedbank 8327-9, account ••••7897" -> "Swedbank 8327-9 ••••7897": the mandate's
    wording is in one language, so the English word goes."""
    return destination_masked.replace(", account ", " ")


def state(db: Database, customer_id: int) -> dict:
    customer = _customer(db, customer_id)
    found = active_mandate(db, customer_id)
    return {
        "bank_account": customer["bank_account_masked"] if customer["bank_account_json"]
        else None,
        "linked_at": customer["bank_account_linked_at"],
        "pay_on_due_date": bool(customer["pay_on_due_date"]),
        "mandate": found,
        "name": customer["name"],
    }


def mandate_text(db: Database, customer_id: int, language: str) -> str | None:
    """The wording the customer is asked to confirm, or None while no account is linked."""
    customer = _customer(db, customer_id)
    if not customer["bank_account_json"]:
        return None
    return mandate.wording(language, customer["name"],
                           account_label(customer["bank_account_masked"]))


def link(db: Database, customer_id: int, destination: Destination, actor: str) -> dict:
    """Link (or replace) the account. A mandate given for another account ends; refunds
    waiting for details leave for this account."""
    if destination.kind != "bank_account":
        raise Conflict("Only a Swedish bank account can be linked.")
    provider_json = json.dumps(destination.as_provider_destination())
    with write_transaction(db):
        lock_rows(db, "customer", customer_id)
        before = _customer(db, customer_id)
        now = clock.now_iso()
        if before["bank_account_json"] != provider_json:
            bank_rows.set_account(db, customer_id, provider_json, destination.masked, now)
            bank_rows.end_mandates(db, customer_id, now, keep=_fingerprint(provider_json))
            cancel_scheduled_debits(db, customer_id, ACCOUNT_CHANGED, actor)
            audit.record(db, actor, "bank_account.linked", "customer", customer_id,
                         before={"bank_account": before["bank_account_masked"]},
                         after={"bank_account": destination.masked})
        _send_waiting_refunds(db, customer_id, destination, provider_json, actor)
    return state(db, customer_id)


def _send_waiting_refunds(db: Database, customer_id: int, destination: Destination,
                          provider_json: str, actor: str) -> None:
    # A support request waiting for a second person holds its refund: those stay.
    for refund_id in refund_rows.waiting_for_details_of_customer(db, customer_id):
        status_moves.move(db, "refund", refund_id, "needs_details", "ready",
                    destination_kind="bank_account", destination_json=provider_json,
                    destination_masked=destination.masked)
        outbox.enqueue(db, "payout", refund_id)
        audit.record(db, actor, "refund.destination_set", "refund", refund_id,
                     before={"status": "needs_details"},
                     after={"status": "ready", "destination": destination.masked},
                     why="The customer linked a bank account")


def unlink(db: Database, customer_id: int, actor: str) -> dict:
    """Remove the account: its mandate ends, debits not yet taken are cancelled."""
    with write_transaction(db):
        lock_rows(db, "customer", customer_id)
        before = _customer(db, customer_id)
        if not before["bank_account_json"]:
            return state(db, customer_id)
        now = clock.now_iso()
        bank_rows.remove_account(db, customer_id)
        bank_rows.end_mandates(db, customer_id, now)
        cancel_scheduled_debits(db, customer_id, ACCOUNT_REMOVED, actor)
        audit.record(db, actor, "bank_account.unlinked", "customer", customer_id,
                     before={"bank_account": before["bank_account_masked"]},
                     after={"bank_account": None})
    return state(db, customer_id)


def cancel_scheduled_debits(db: Database, customer_id: int, why: str, actor: str) -> None:
    """Inside the caller's transaction."""
    for row in payment_rows.scheduled_payments_of_customer(db, customer_id):
        status_moves.move(db, "payment", row["id"], "scheduled", "cancelled", failure_reason=why)
        audit.record(db, actor, "payment.cancelled", "payment", row["id"],
                     before={"status": "scheduled"}, after={"status": "cancelled"}, why=why)


def confirm_mandate(db: Database, customer_id: int, language: str, actor: str) -> dict:
    """The customer confirmed the wording in `language`: stored exactly as shown, with the
    time. Confirming again for the same account keeps the first confirmation."""
    language = language if language in mandate.LANGUAGES else "sv"
    with write_transaction(db):
        lock_rows(db, "customer", customer_id)
        customer = _customer(db, customer_id)
        if not customer["bank_account_json"]:
            raise Conflict(NO_ACCOUNT)
        if (found := active_mandate(db, customer_id)) is not None:
            return found
        wording = mandate.wording(language, customer["name"],
                                  account_label(customer["bank_account_masked"]))
        mandate_id = bank_rows.add_mandate(db, {
            "customer_id": customer_id,
            "account_masked": customer["bank_account_masked"],
            "account_fingerprint": _fingerprint(customer["bank_account_json"]),
            "language": language, "version": mandate.VERSION, "wording": wording,
            "confirmed_at": clock.now_iso(),
        })
        audit.record(db, actor, "mandate.confirmed", "customer", customer_id,
                     after={"mandate": mandate_id, "language": language,
                            "version": mandate.VERSION,
                            "bank_account": customer["bank_account_masked"]})
    return active_mandate(db, customer_id)


def mandate_as_api(found: dict | None) -> dict | None:
    if found is None:
        return None
    return {"confirmed_at": found["confirmed_at"], "language": found["language"],
            "version": found["version"], "text": found["wording"]}


def as_api(current: dict) -> dict:
    return {"bank_account": current["bank_account"], "linked_at": current["linked_at"],
            "pay_on_due_date": current["pay_on_due_date"],
            "mandate": mandate_as_api(current["mandate"])}
