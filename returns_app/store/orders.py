"""Orders and their lines, and what the money rules read about them: returned items, ledger
sums and refunds still under way, per order or for every order of a customer."""

from __future__ import annotations

from .db import Database, insert, is_postgres, select, select_one

OF_CUSTOMER = "SELECT id FROM orders WHERE customer_id = ?"


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def number_taken(db: Database, order_number: str) -> bool:
    return select_one(db, "SELECT 1 AS taken FROM orders WHERE order_number = ?",
                      [order_number]) is not None


def reference_taken(db: Database, merchant_id: int, reference: str) -> bool:
    return select_one(db, "SELECT 1 AS taken FROM orders WHERE merchant_id = ?"
                          " AND merchant_reference = ?", [merchant_id, reference]) is not None


def add_order(db: Database, row: dict) -> int:
    return insert(db, "orders", row)


def add_line(db: Database, row: dict) -> int:
    return insert(db, "order_line", row)


def order_with_names(db: Database, order_id: int) -> dict | None:
    """The order with its merchant's name and its customer's email, name and language."""
    return select_one(db,
        "SELECT orders.*, merchant.name AS merchant_name, customer.email AS customer_email,"
        " customer.name AS customer_name, customer.language AS customer_language"
        " FROM orders JOIN merchant ON merchant.id = orders.merchant_id"
        " JOIN customer ON customer.id = orders.customer_id WHERE orders.id = ?", [order_id])


def lines_with_returned(db: Database, order_id: int, ended: list[str]) -> list[dict]:
    """The order's lines in order, each with how much of it is in returns whose status is not
    in `ended` (in_returns) and the newest such return (latest_return_id)."""
    return select(db,
        "SELECT order_line.*, coalesce((SELECT sum(return_item.quantity) FROM return_item"
        " JOIN returns ON returns.id = return_item.return_id"
        " WHERE return_item.order_line_id = order_line.id"
        f" AND returns.status NOT IN ({_marks(ended)})), 0) AS in_returns,"  # noqa: S608
        " (SELECT max(return_id) FROM return_item JOIN returns ON returns.id = return_id"
        " WHERE order_line_id = order_line.id"
        f" AND returns.status NOT IN ({_marks(ended)})) AS latest_return_id"
        " FROM order_line WHERE order_id = ? ORDER BY position",
        [*ended, *ended, order_id])


def line_values(db: Database, order_id: int) -> list[dict]:
    return select(db, "SELECT quantity, unit_price_minor FROM order_line WHERE order_id = ?",
                  [order_id])


def returned_item_values(db: Database, order_id: int) -> list[dict]:
    """Every returned item of the order: quantities, the line's price, the return's status."""
    return select(db,
        "SELECT return_item.quantity, accepted_quantity, rejected_quantity,"
        " unit_price_minor, returns.status FROM return_item"
        " JOIN returns ON returns.id = return_item.return_id"
        " JOIN order_line ON order_line.id = return_item.order_line_id"
        " WHERE returns.order_id = ?", [order_id])


def ledger_sums(db: Database, order_id: int) -> dict[str, int]:
    """The order's ledger summed per kind."""
    return {row["kind"]: row["total"] for row in select(
        db, "SELECT kind, sum(amount_minor) AS total FROM ledger_entry WHERE order_id = ?"
            " GROUP BY kind", [order_id])}


def refunds_under_way(db: Database, order_id: int) -> int:
    """What the order's refunds not yet succeeded add up to."""
    return select(db, "SELECT coalesce(sum(amount_minor), 0) AS total FROM refund"
                      " WHERE order_id = ? AND status != 'succeeded'", [order_id])[0]["total"]


def returns_with_summary(db: Database, order_id: int) -> list[dict]:
    """The order's returns, newest first, each with its items in words ("1 × Jeans, ...")."""
    # SQLite's group_concat joins in the order it reads the items (the return_id index: by id);
    # PostgreSQL's string_agg is told that order.
    words = ("string_agg(return_item.quantity || ' × ' || order_line.name, ', '"
             " ORDER BY return_item.id)" if is_postgres(db) else
             "group_concat(return_item.quantity || ' × ' || order_line.name, ', ')")
    return select(db,
        f"SELECT id, status, reported_at, send_by, (SELECT {words} FROM return_item JOIN"
        " order_line ON order_line.id = order_line_id WHERE return_id = returns.id) AS summary"
        " FROM returns WHERE order_id = ? ORDER BY reported_at DESC, id DESC", [order_id])


def rejected_items(db: Database, order_id: int) -> list[dict]:
    return select(db,
        "SELECT order_line.name, return_item.rejected_quantity, return_item.decision_reason,"
        " return_item.rejected_quantity * order_line.unit_price_minor AS value,"
        " return_item.return_id FROM return_item JOIN order_line ON order_line.id ="
        " return_item.order_line_id JOIN returns ON returns.id = return_item.return_id"
        " WHERE returns.order_id = ? AND return_item.rejected_quantity > 0", [order_id])


# --- every order of a customer, one grouped query per table -----------------------------------

def orders_of_customer(db: Database, customer_id: int) -> list[dict]:
    return select(db,
        "SELECT orders.id, order_number, purchased_at, currency, merchant.name AS merchant_name"
        " FROM orders JOIN merchant ON merchant.id = merchant_id WHERE customer_id = ?"
        " ORDER BY purchased_at DESC", [customer_id])


def order_ids_of_customer(db: Database, customer_id: int) -> list[int]:
    return [row["id"] for row in select(db, OF_CUSTOMER, [customer_id])]


def line_values_of_customer(db: Database, customer_id: int) -> list[dict]:
    return select(db, "SELECT order_id, quantity, unit_price_minor FROM order_line"
                      f" WHERE order_id IN ({OF_CUSTOMER})", [customer_id])


def returned_item_values_of_customer(db: Database, customer_id: int) -> list[dict]:
    return select(db,
        "SELECT returns.order_id, return_item.quantity, accepted_quantity,"
        " rejected_quantity, unit_price_minor, returns.status FROM returns"
        " JOIN return_item ON return_item.return_id = returns.id"
        " JOIN order_line ON order_line.id = return_item.order_line_id"
        f" WHERE returns.order_id IN ({OF_CUSTOMER})", [customer_id])


def ledger_sums_of_customer(db: Database, customer_id: int) -> list[dict]:
    """order_id, kind, total for every order of the customer."""
    return select(db, "SELECT order_id, kind, sum(amount_minor) AS total FROM ledger_entry"
                      f" WHERE order_id IN ({OF_CUSTOMER}) GROUP BY order_id, kind",
                  [customer_id])


def refunds_under_way_of_customer(db: Database, customer_id: int) -> dict[int, int]:
    return {row["order_id"]: row["total"] for row in select(
        db, "SELECT order_id, sum(amount_minor) AS total FROM refund"
            f" WHERE order_id IN ({OF_CUSTOMER}) AND status != 'succeeded' GROUP BY order_id",
        [customer_id])}
