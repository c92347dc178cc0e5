"""A notification is a row plus an outbox row of kind "email", written in the caller's
transaction; its unique key makes queuing the same email twice a no-op."""

from __future__ import annotations

from ..domain import clock
from ..domain.errors import NotFound
from ..store import notifications as notification_rows
from ..store import outbox
from ..store.db import Database

OUTBOX_KIND = "email"
PAGE_SIZE = 50


def queue_email(db: Database, kind: str, key: str, *, recipient: str, language: str,
                customer_id: int | None = None, merchant_user_id: int | None = None,
                support_user_id: int | None = None, order_id: int | None = None,
                return_id: int | None = None,
                refund_id: int | None = None, payment_id: int | None = None,
                facts: dict | None = None) -> int | None:
    """Inside the caller's transaction. Returns the new notification's id, or None when an
    email with this key was queued before."""
    notification_id = notification_rows.add_notification(db, {
        "kind": kind, "dedupe_key": key, "customer_id": customer_id,
        "merchant_user_id": merchant_user_id, "support_user_id": support_user_id,
        "order_id": order_id, "return_id": return_id, "refund_id": refund_id,
        "payment_id": payment_id, "recipient": recipient, "language": language,
        "facts": facts, "created_at": clock.now_iso()})
    if notification_id is None:
        return None
    outbox.enqueue(db, OUTBOX_KIND, notification_id)
    return notification_id


def queue_customer_email(db: Database, kind: str, key: str, order: dict, **refs) -> int | None:
    """An email to the customer of `order` (a row of services.orders.get_order)."""
    return queue_email(db, kind, key, recipient=order["customer_email"],
                       language=order["customer_language"], customer_id=order["customer_id"],
                       order_id=order["id"], **refs)


def get_notification(db: Database, notification_id: int) -> dict:
    row = notification_rows.notification_by_id(db, notification_id)
    if row is None:
        raise NotFound("No such email.")
    return row


def recent(db: Database, before_id: int | None = None, limit: int = PAGE_SIZE) -> list[dict]:
    """Newest first, a page at a time (keyset on the primary key: no OFFSET to walk)."""
    return notification_rows.recent_notifications(db, before_id or 2**62, limit)


def of_order(db: Database, order_id: int) -> list[dict]:
    return notification_rows.notifications_of_order(db, order_id)
