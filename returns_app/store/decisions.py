"""What merchants' decisions and arrivals, and support's reminders about them, read and write
on returns and their items (status changes go through store/status_moves.move)."""

from __future__ import annotations

from .db import Database, is_postgres, select, select_one


def return_with_merchant(db: Database, return_id: int) -> dict | None:
    """The return's row and its order's merchant_id."""
    return select_one(db, "SELECT returns.*, orders.merchant_id FROM returns JOIN orders"
                          " ON orders.id = returns.order_id WHERE returns.id = ?", [return_id])


def returns_of_merchant(db: Database, merchant_id: int, return_ids: list[int]) -> list[dict]:
    """id, status and order_id of those of `return_ids` that are the merchant's."""
    return select(db,
        "SELECT id, status, order_id FROM returns WHERE merchant_id = ?"
        f" AND id IN ({', '.join('?' for _ in return_ids)})", [merchant_id, *return_ids])


def record_decision(db: Database, item_id: int, accepted: int, rejected: int,
                    received_now: int, reason: str | None, decided: bool, at: str) -> None:
    """The item's new totals: received grows by `received_now` and to at least what is
    decided; the reason and time change only when given / decided."""
    # SQLite's two-argument max() is PostgreSQL's greatest().
    larger = "greatest" if is_postgres(db) else "max"
    db.execute(
        "UPDATE return_item SET accepted_quantity = ?, rejected_quantity = ?,"
        f" received_quantity = {larger}(received_quantity + ?, ?), decision_reason = coalesce(?,"
        " decision_reason), decided_at = CASE WHEN ? <> 0 THEN ? ELSE decided_at END"
        " WHERE id = ?",
        [accepted, rejected, received_now, accepted + rejected, reason, decided, at, item_id])


def mark_all_received(db: Database, return_id: int) -> None:
    db.execute("UPDATE return_item SET received_quantity = quantity WHERE return_id = ?",
               [return_id])


def undecided_items(db: Database, return_id: int) -> int:
    return select_one(db,
        "SELECT count(*) AS n FROM return_item WHERE return_id = ?"
        " AND accepted_quantity + rejected_quantity < quantity", [return_id])["n"]


def reported_again_in(db: Database, return_id: int) -> int | None:
    """Another live return (not cancelled or expired) that holds some of this return's items
    beyond their order line's quantity: its id, or None."""
    # SQLite answers a bare column of the group (one of the other returns); PostgreSQL needs
    # it aggregated and order_line.quantity grouped: the same answer, its highest id.
    other, line = (("max(other.return_id) AS return_id", ", order_line.quantity")
                   if is_postgres(db) else ("other.return_id", ""))
    row = select_one(db,
        f"SELECT {other} FROM return_item AS mine"
        " JOIN order_line ON order_line.id = mine.order_line_id"
        " JOIN return_item AS other ON other.order_line_id = mine.order_line_id"
        " AND other.return_id != mine.return_id"
        " JOIN returns ON returns.id = other.return_id"
        " WHERE mine.return_id = ? AND returns.status NOT IN ('cancelled', 'expired')"
        f" GROUP BY mine.id{line}"
        " HAVING mine.quantity + sum(other.quantity) > order_line.quantity"
        " LIMIT 1", [return_id])
    return row["return_id"] if row else None
