"""A notification is a row plus an outbox row of kind "email", written in the caller's
transaction; its unique key makes queuing the same email twice a no-op."""

from __future__ import annotations

import json

from ..domain import clock
from ..domain.errors import NotFound
from ..store import outbox
from ..store.db import Database, select

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
    cursor = db.execute(
        "INSERT OR IGNORE INTO notification (kind, dedupe_key, customer_id, merchant_user_id,"
        " support_user_id, order_id, return_id, refund_id, payment_id, recipient, language,"
        " facts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [kind, key, customer_id, merchant_user_id, support_user_id, order_id, return_id,
         refund_id, payment_id, recipient, language, json.dumps(facts or {}, sort_keys=True),
         clock.now_iso()])
    if cursor.rowcount != 1:
        return None
    outbox.enqueue(db, OUTBOX_KIND, cursor.lastrowid)
    return cursor.lastrowid


def queue_customer_email(db: Database, kind: str, key: str, order: dict, **refs) -> int | None:
    """An email to the customer of `order` (a row of services.orders.get_order)."""
    return queue_email(db, kind, key, recipient=order["customer_email"],
                       language=order["customer_language"], customer_id=order["customer_id"],
                       order_id=order["id"], **refs)


def get_notification(db: Database, notification_id: int) -> dict:
    rows = select(db, "SELECT * FROM notification WHERE id = ?", [notification_id])
    if not rows:
        raise NotFound("No such email.")
    row = rows[0]
    row["facts"] = json.loads(row["facts"])
    return row


def recent(db: Database, before_id: int | None = None, limit: int = PAGE_SIZE) -> list[dict]:
    """Newest first, a page at a time (keyset on the primary key: no OFFSET to walk)."""
    return select(db,
        "SELECT id, kind, recipient, subject, status, created_at, sent_at FROM notification"
        " WHERE id < ? ORDER BY id DESC LIMIT ?", [before_id or 2**62, limit])


def of_order(db: Database, order_id: int) -> list[dict]:
    return select(db, "SELECT * FROM notification WHERE order_id = ? ORDER BY id",
                         [order_id])
