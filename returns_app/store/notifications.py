"""Emails and reminders: the notification rows (queued, rendered once, sent, withdrawn), the
reminder decisions the daily scan keeps, a customer's reminder choices, and what an email's
facts are read from (the order a subject belongs to, a return's items)."""

from __future__ import annotations

import json

from .db import Database, insert, select, select_one

# Subjects whose row names its order (a link's, an event's): table by kind.
SUBJECT_TABLES = {"return": "returns", "refund": "refund", "payment": "payment"}


# --- notification rows -------------------------------------------------------------------------

def add_notification(db: Database, row: dict) -> int | None:
    """The new notification's id, or None when one with its dedupe_key exists: queuing the same
    email twice is a no-op. Only that conflict is ignored (not a NOT NULL or CHECK failure, as
    INSERT OR IGNORE would), in one statement both engines run."""
    row = {**row, "facts": json.dumps(row.get("facts") or {}, sort_keys=True)}
    found = db.execute(
        f"INSERT INTO notification ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})"
        " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id", list(row.values())).fetchone()
    return found[0] if found else None


def notification_by_id(db: Database, notification_id: int) -> dict | None:
    row = select_one(db, "SELECT * FROM notification WHERE id = ?", [notification_id])
    if row is not None:
        row["facts"] = json.loads(row["facts"])
    return row


def recent_notifications(db: Database, before_id: int, limit: int) -> list[dict]:
    """Newest first, below `before_id` (keyset on the primary key: no OFFSET to walk)."""
    return select(db,
        "SELECT id, kind, recipient, subject, status, created_at, sent_at FROM notification"
        " WHERE id < ? ORDER BY id DESC LIMIT ?", [before_id, limit])


def notifications_of_order(db: Database, order_id: int) -> list[dict]:
    return select(db, "SELECT * FROM notification WHERE order_id = ? ORDER BY id", [order_id])


def mark_failed_attempt(db: Database, notification_id: int, error: str, status: str) -> None:
    db.execute("UPDATE notification SET last_error = ?, status = ? WHERE id = ?",
               [error, status, notification_id])


def keep_rendering(db: Database, notification_id: int, subject: str, text: str, html: str,
                   message_id: str, rendered_at: str) -> None:
    """The first rendering only: a retry sends exactly what the first attempt rendered."""
    db.execute(
        "UPDATE notification SET subject = ?, body_text = ?, body_html = ?,"
        " message_id = ?, rendered_at = ? WHERE id = ? AND rendered_at IS NULL",
        [subject, text, html, message_id, rendered_at, notification_id])


def mark_withdrawn(db: Database, notification_id: int, why: str) -> None:
    db.execute("UPDATE notification SET status = 'withdrawn', last_error = ?"
               " WHERE id = ? AND status = 'queued'", [why, notification_id])


def mark_sent(db: Database, notification_id: int, sent_at: str) -> None:
    db.execute("UPDATE notification SET status = 'sent', sent_at = ?, last_error = NULL"
               " WHERE id = ?", [sent_at, notification_id])


# --- reminders ---------------------------------------------------------------------------------

def returns_to_remind_of(db: Database, send_by: str, kind: str, day: str, limit: int
                         ) -> list[int]:
    """Orders with a reported return to send by `send_by`, not yet weighed for `kind` on `day`."""
    return [row["order_id"] for row in select(db,
        "SELECT DISTINCT order_id FROM returns WHERE status = 'reported' AND send_by = ?"
        " AND NOT EXISTS (SELECT 1 FROM reminder_decision AS d WHERE d.kind = ?"
        " AND d.order_id = returns.order_id AND d.day = ?) LIMIT ?",
        [send_by, kind, day, limit])]


def invoices_to_remind_of(db: Database, due_date: str, kind: str, day: str, limit: int
                          ) -> list[int]:
    """Invoice orders due on `due_date`, not yet weighed for `kind` on `day`."""
    return [row["id"] for row in select(db,
        "SELECT id FROM orders WHERE due_date = ? AND payment_method = 'invoice'"
        " AND NOT EXISTS (SELECT 1 FROM reminder_decision AS d WHERE d.kind = ?"
        " AND d.order_id = orders.id AND d.day = ?) LIMIT ?", [due_date, kind, day, limit])]


def reminder_decided(db: Database, kind: str, order_id: int, day: str) -> bool:
    return select_one(db, "SELECT 1 AS decided FROM reminder_decision WHERE kind = ?"
                          " AND order_id = ? AND day = ?", [kind, order_id, day]) is not None


def add_reminder_decision(db: Database, row: dict) -> int:
    return insert(db, "reminder_decision", row)


def returns_waiting_to_be_sent(db: Database, order_id: int, send_by: str) -> list[int]:
    return [row["id"] for row in select(db,
        "SELECT id FROM returns WHERE order_id = ? AND status = 'reported' AND send_by = ?"
        " ORDER BY id", [order_id, send_by])]


def count_still_reported(db: Database, return_ids: list[int]) -> int:
    """How many of these returns are still reported (not yet sent)."""
    if not return_ids:
        return 0
    return select(db,
        f"SELECT count(*) AS n FROM returns WHERE status = 'reported' AND id IN"
        f" ({', '.join('?' for _ in return_ids)})", return_ids)[0]["n"]


# --- a customer's choices ----------------------------------------------------------------------

def reminder_channel(db: Database, customer_id: int) -> str | None:
    row = select_one(db, "SELECT reminder_channel FROM customer WHERE id = ?", [customer_id])
    return row["reminder_channel"] if row else None


def set_preferences(db: Database, customer_id: int, channel: str, language: str) -> None:
    db.execute("UPDATE customer SET reminder_channel = ?, language = ? WHERE id = ?",
               [channel, language, customer_id])


# --- what an email's facts are read from -------------------------------------------------------

def order_id_of(db: Database, subject_kind: str, subject_id: int) -> int | None:
    """The order an order's, a return's or a refund's id belongs to; None when there is none."""
    if subject_kind == "order":
        row = select_one(db, "SELECT id AS order_id FROM orders WHERE id = ?", [subject_id])
    else:
        row = select_one(db, f"SELECT order_id FROM {SUBJECT_TABLES[subject_kind]} WHERE id = ?",
                         [subject_id])
    return row["order_id"] if row else None


def item_names_of_return(db: Database, return_id: int) -> dict[int, str]:
    """{return_item id: the name of its order line}."""
    return {row["id"]: row["name"] for row in select(db,
        "SELECT return_item.id, order_line.name FROM return_item JOIN order_line"
        " ON order_line.id = return_item.order_line_id WHERE return_item.return_id = ?",
        [return_id])}


def items_still_waiting(db: Database, return_id: int) -> list[dict]:
    """A partly decided return's items the shop hasn't decided yet: name and quantity."""
    return select(db,
        "SELECT order_line.name, return_item.quantity - accepted_quantity"
        " - rejected_quantity AS quantity FROM return_item JOIN order_line"
        " ON order_line.id = return_item.order_line_id WHERE return_id = ?"
        " AND return_item.quantity > accepted_quantity + rejected_quantity"
        " ORDER BY order_line.position", [return_id])
