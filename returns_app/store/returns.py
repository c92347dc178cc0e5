"""Returns and their items: written when reported, read with their order lines."""

from __future__ import annotations

from .db import Database, insert, select, select_one

ITEM_WITH_LINE = ("SELECT return_item.*, order_line.sku, order_line.name,"
                  " order_line.unit_price_minor FROM return_item"
                  " JOIN order_line ON order_line.id = order_line_id WHERE return_id = ?")


def add_return(db: Database, row: dict) -> int:
    return insert(db, "returns", row)


def add_return_item(db: Database, row: dict) -> int:
    return insert(db, "return_item", row)


def return_row(db: Database, return_id: int) -> dict | None:
    return select_one(db, "SELECT * FROM returns WHERE id = ?", [return_id])


def return_of_merchant(db: Database, merchant_id: int, return_id: int) -> dict | None:
    return select_one(db,
        "SELECT returns.* FROM returns JOIN orders ON orders.id = returns.order_id"
        " WHERE returns.id = ? AND orders.merchant_id = ?", [return_id, merchant_id])


def open_return_with_line(db: Database, line_id: int) -> int | None:
    """The newest return not cancelled or expired that has this order line."""
    row = select_one(db,
        "SELECT returns.id FROM returns JOIN return_item ON return_item.return_id = returns.id"
        " WHERE order_line_id = ? AND status NOT IN ('cancelled', 'expired')"
        " ORDER BY returns.id DESC LIMIT 1", [line_id])
    return row["id"] if row else None


def items_with_lines(db: Database, return_id: int) -> list[dict]:
    """The return's items with their line's sku, name and price, in the order's line order."""
    return select(db, ITEM_WITH_LINE + " ORDER BY order_line.position", [return_id])


def items_as_reported(db: Database, return_id: int) -> list[dict]:
    """The same, in the order the items were reported."""
    return select(db, ITEM_WITH_LINE + " ORDER BY return_item.id", [return_id])


def item_ids(db: Database, return_id: int) -> list[int]:
    return [row["id"] for row in select(db, "SELECT id FROM return_item WHERE return_id = ?",
                                        [return_id])]


def overdue_reported(db: Database, today: str) -> list[int]:
    """Reported returns whose send-by date has passed."""
    return [row["id"] for row in select(
        db, "SELECT id FROM returns WHERE status = 'reported' AND send_by < ?", [today])]


def orders_with_overdue_reported(db: Database, today: str) -> list[int]:
    """The orders of those returns."""
    return [row["order_id"] for row in select(
        db, "SELECT DISTINCT order_id FROM returns WHERE status = 'reported' AND send_by < ?",
        [today])]


def reported_returns_of_order(db: Database, order_id: int) -> list[dict]:
    """The order's returns still to be sent: id and send_by."""
    return select(db, "SELECT id, send_by FROM returns WHERE order_id = ? AND status ="
                      " 'reported' ORDER BY id", [order_id])

