"""Which email an event causes. Runs inside the transaction that made the event happen, so the
email is queued exactly when the change commits. It only decides and records facts: rendering
(templates, signed links) happens in the worker, so no template can ever undo a customer's
return or payment."""

from __future__ import annotations

from collections.abc import Callable

from ..services.events import Event
from ..services.orders import amounts, get_order
from ..store import notifications as notification_rows
from ..store import staff as staff_rows
from ..store import webhooks as webhook_rows
from ..store.db import Database
from . import (
    DEBIT_DECLINED,
    DESTINATION_CHANGE,
    MERCHANT_RETURN_WAITING,
    PAYMENT_RECEIPT,
    PAYOUT_DETAILS_NEEDED,
    REFUND_SENT,
    RETURN_DECIDED,
    RETURN_REPORTED,
    WEBHOOK_FAILING,
)
from .queue import queue_customer_email, queue_email
from .reminders import remind_of_invoice_now


def _order_of(db: Database, subject_kind: str, row_id: int) -> dict:
    return get_order(db, notification_rows.order_id_of(db, subject_kind, row_id))


def _key(kind: str, event: Event) -> str:
    return f"{kind}:{event.subject_id}:{event.id}"


def return_reported(db: Database, event: Event) -> None:
    order = _order_of(db, "return", event.subject_id)
    # What is still owed for the kept items, as it stands when the return is reported: the
    # customer who lives by email has nothing else telling him.
    facts = {"payable_now": amounts(db, order["id"]).payable_now, "due_date": order["due_date"]}
    queue_customer_email(db, RETURN_REPORTED, _key(RETURN_REPORTED, event), order,
                         return_id=event.subject_id, facts=facts)


def return_registered(db: Database, event: Event) -> None:
    """What the shop decided, and what is due now: the amount as it stands at the decision."""
    order = _order_of(db, "return", event.subject_id)
    after = event.after or {}
    now = amounts(db, order["id"])
    facts = {
        "items": after.get("items", []),
        "credited": after.get("credited", 0),
        "rejected_value": after.get("rejected_value", 0),
        "payable_now": now.payable_now,
        "due_date": order["due_date"],
        # A partial decision: what still waits for the shop, and stays paused meanwhile.
        "waiting": notification_rows.items_still_waiting(db, event.subject_id),
        "paused": now.paused,
    }
    queue_customer_email(db, RETURN_DECIDED, _key(RETURN_DECIDED, event), order,
                         return_id=event.subject_id, facts=facts)


def refund_succeeded(db: Database, event: Event) -> None:
    order = _order_of(db, "refund", event.subject_id)
    queue_customer_email(db, REFUND_SENT, _key(REFUND_SENT, event), order,
                         refund_id=event.subject_id)


def refund_created(db: Database, event: Event) -> None:
    if (event.after or {}).get("status") == "needs_details":
        payout_details_needed(db, event)


def payout_details_needed(db: Database, event: Event) -> None:
    order = _order_of(db, "refund", event.subject_id)
    queue_customer_email(db, PAYOUT_DETAILS_NEEDED, _key(PAYOUT_DETAILS_NEEDED, event), order,
                         refund_id=event.subject_id)


def destination_change_requested(db: Database, event: Event) -> None:
    """Support asked to send the refund somewhere new: the customer hears of it at the address
    on file, whatever the amount, with a way to object before the payout leaves."""
    order = _order_of(db, "refund", event.subject_id)
    after = event.after or {}
    queue_customer_email(db, DESTINATION_CHANGE, _key(DESTINATION_CHANGE, event), order,
                         refund_id=event.subject_id,
                         facts={key: after.get(key) for key in (
                             "approval_id", "destination", "needs_approval", "pays_not_before")})


def payment_succeeded(db: Database, event: Event) -> None:
    order = _order_of(db, "payment", event.subject_id)
    queue_customer_email(db, PAYMENT_RECEIPT, _key(PAYMENT_RECEIPT, event), order,
                         payment_id=event.subject_id)


def debit_declined(db: Database, event: Event) -> None:
    """Every try that found too little money is told, in plain words; after the last one the
    invoice is an ordinary invoice again, and its reminder is weighed at once."""
    order = _order_of(db, "payment", event.subject_id)
    facts = {**(event.after or {}), "due_date": order["due_date"]}
    queue_customer_email(db, DEBIT_DECLINED, _key(DEBIT_DECLINED, event), order,
                         payment_id=event.subject_id, facts=facts)
    if facts.get("next_try_on") is None:
        remind_of_invoice_now(db, order["id"])


def merchant_reminded(db: Database, event: Event) -> None:
    """Support nudged the shop about a return waiting to be registered: every user of that
    merchant hears of it."""
    order = _order_of(db, "return", event.subject_id)
    for user in staff_rows.users_of_merchant(db, order["merchant_id"]):
        queue_email(db, MERCHANT_RETURN_WAITING,
                    f"{_key(MERCHANT_RETURN_WAITING, event)}:{user['id']}",
                    recipient=user["email"], language=user["language"],
                    merchant_user_id=user["id"], order_id=order["id"],
                    return_id=event.subject_id)


def webhook_endpoint_failing(db: Database, event: Event) -> None:
    """A merchant's endpoint stopped answering for a day: every user of that merchant hears of
    it, once per failing spell."""
    endpoint = webhook_rows.endpoint_by_id(db, event.subject_id)
    if endpoint is None:
        return
    for user in staff_rows.users_of_merchant(db, endpoint["merchant_id"]):
        queue_email(db, WEBHOOK_FAILING, f"{_key(WEBHOOK_FAILING, event)}:{user['id']}",
                    recipient=user["email"], language=user["language"],
                    merchant_user_id=user["id"],
                    facts={"endpoint_id": event.subject_id, "url": endpoint["url"],
                           "failing_since": (event.after or {}).get("failing_since")})


HANDLERS: dict[str, Callable[[Database, Event], None]] = {
    "return.reported": return_reported,
    "return.registered": return_registered,
    "refund.succeeded": refund_succeeded,
    "refund.created": refund_created,
    "refund.details_link_resent": payout_details_needed,
    "refund.destination_change_requested": destination_change_requested,
    "payment.succeeded": payment_succeeded,
    "payment.debit_declined": debit_declined,
    "return.merchant_reminded": merchant_reminded,
    "webhook.endpoint_failing": webhook_endpoint_failing,
}


def on_event(db: Database, event: Event) -> None:
    handler = HANDLERS.get(event.action)
    if handler is not None:
        handler(db, event)
