"""A merchant's returns as lists: a page of them under a filter and a search, and how many each
filter shows. Every query starts from returns.merchant_id, so each is an index range
(migration m003)."""

from __future__ import annotations

from .db import Database, select, select_one

Search = tuple[str, str] | None  # (an order number as stored, the text as typed)


def returns_where(merchant_id: int, status: str, search: Search, overdue_by: str
                  ) -> tuple[str, list]:
    """The WHERE clause of a filter ("all", "overdue" or a status) and a search."""
    # The status conditions are spelled as the indexes are, so SQLite can use them (the
    # partial index on open returns needs its own WHERE clause word for word).
    sql, params = "returns.merchant_id = ?", [merchant_id]
    if status == "overdue":
        sql += " AND returns.status IN ('reported', 'sent', 'received') AND refund_due_by <= ?"
        params.append(overdue_by)
    elif status != "all":
        sql += " AND returns.status = ?"
        params.append(status)
    if search:
        sql += (" AND returns.order_id IN (SELECT id FROM orders WHERE orders.merchant_id = ?"
                " AND (order_number = ? OR merchant_reference = ?))")
        params += [merchant_id, *search]
    return sql, params


def page_of_returns(db: Database, merchant_id: int, status: str, search: Search,
                    overdue_by: str, before: tuple[str, int] | None, limit: int) -> list[dict]:
    """Up to `limit` returns, newest first, older than `before` (reported_at, id) if given,
    with their order, customer, item count and value."""
    where, params = returns_where(merchant_id, status, search, overdue_by)
    if before:
        where += " AND (returns.reported_at, returns.id) < (?, ?)"
        params += list(before)
    return select(db,
        "SELECT returns.id, returns.status, returns.order_id, returns.reported_at,"
        " returns.sent_at, returns.received_at, returns.resolved_at, returns.send_by,"
        " returns.refund_due_by, returns.tracking_number, orders.order_number,"
        " orders.merchant_reference, orders.currency, customer.name AS customer_name,"
        " customer.email AS customer_email,"
        " (SELECT sum(return_item.quantity) FROM return_item"
        "  WHERE return_item.return_id = returns.id) AS item_count,"
        " (SELECT sum(return_item.quantity * order_line.unit_price_minor) FROM return_item"
        "  JOIN order_line ON order_line.id = return_item.order_line_id"
        "  WHERE return_item.return_id = returns.id) AS value_minor"
        # The page's ids first, the rest for those only: a filter that sorts (overdue reads
        # every overdue return of the shop) looked up orders, customers and items for all.
        f" FROM (SELECT returns.id FROM returns WHERE {where}"  # noqa: S608
        "  ORDER BY returns.reported_at DESC, returns.id DESC LIMIT ?) AS page"
        " JOIN returns ON returns.id = page.id JOIN orders ON orders.id = returns.order_id"
        " JOIN customer ON customer.id = orders.customer_id"
        " ORDER BY returns.reported_at DESC, returns.id DESC",
        [*params, limit])


def counts_by_status(db: Database, merchant_id: int, search: Search, overdue_by: str
                     ) -> dict[str, int]:
    """How many of the merchant's returns (matching the search) are in each status."""
    if search:
        where, params = returns_where(merchant_id, "all", search, overdue_by)
        rows = select(db, f"SELECT returns.status, count(*) AS n FROM returns"  # noqa: S608
                          f" WHERE {where} GROUP BY returns.status", params)
    else:
        # Kept by triggers (migration m007): counting a big shop's history on every view
        # was the one part of the inbox that grew with it.
        rows = select(db, "SELECT status, count AS n FROM return_status_count"
                          " WHERE merchant_id = ?", [merchant_id])
    return {row["status"]: row["n"] for row in rows}


def count_overdue(db: Database, merchant_id: int, search: Search, overdue_by: str) -> int:
    where, params = returns_where(merchant_id, "overdue", search, overdue_by)
    return select(db, f"SELECT count(*) AS n FROM returns WHERE {where}",  # noqa: S608
                  params)[0]["n"]


def return_is_merchants(db: Database, return_id: int, merchant_id: int) -> bool:
    return select_one(db, "SELECT 1 AS found FROM returns WHERE id = ? AND merchant_id = ?",
                      [return_id, merchant_id]) is not None
