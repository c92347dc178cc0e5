"""An invoice order's payment terms as support and decisions change them: its due date and a
hold on reminders."""

from __future__ import annotations

from .db import Database, select_one


def on_hold_until(db: Database, order_id: int) -> str | None:
    row = select_one(db, "SELECT on_hold_until FROM orders WHERE id = ?", [order_id])
    return row["on_hold_until"] if row else None


def set_on_hold_until(db: Database, order_id: int, day: str) -> None:
    db.execute("UPDATE orders SET on_hold_until = ? WHERE id = ?", [day, order_id])


def set_due_date(db: Database, order_id: int, day: str) -> None:
    db.execute("UPDATE orders SET due_date = ? WHERE id = ?", [day, order_id])


def order_terms(db: Database, order_id: int) -> dict | None:
    """payment_method and due_date of the order."""
    return select_one(db, "SELECT payment_method, due_date FROM orders WHERE id = ?",
                      [order_id])
