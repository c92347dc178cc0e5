"""A merchant's returns as lists: filtered, searched by order number, newest first, a page at a
time (keyset: each page costs the same however deep), counted per filter, and exported.

Every query starts from returns.merchant_id, so each is an index range (migration m003).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from ..domain import clock
from ..domain.errors import Invalid, NotFound
from ..domain.states import OPEN_RETURN_STATUSES, RETURN_STATUSES
from ..store.db import Database, select
from . import returns
from .orders import normalize_order_number

# Not handled yet, and the refund the law says is due within 14 days of the return request is
# due in this many days or already late: what a merchant must look at first.
OVERDUE_WITHIN_DAYS = 2
FILTERS = ("all", "overdue", *RETURN_STATUSES)
PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
MAX_SEARCH = 60


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    next_cursor: str | None


def overdue_date() -> str:
    return (clock.today() + timedelta(days=OVERDUE_WITHIN_DAYS)).isoformat()


def check_filter(status: str | None) -> str:
    status = status or "all"
    if status not in FILTERS:
        raise Invalid(fields={"status": "Must be one of: " + ", ".join(FILTERS) + "."})
    return status


def _where(merchant_id: int, status: str, search: str | None) -> tuple[str, list]:
    # The status conditions are spelled as the indexes are, so SQLite can use them (the
    # partial index on open returns needs its own WHERE clause word for word).
    sql, params = "returns.merchant_id = ?", [merchant_id]
    if status == "overdue":
        sql += " AND returns.status IN ('reported', 'sent', 'received') AND refund_due_by <= ?"
        params.append(overdue_date())
    elif status != "all":
        sql += " AND returns.status = ?"
        params.append(status)
    if search := (search or "").strip()[:MAX_SEARCH]:
        sql += (" AND returns.order_id IN (SELECT id FROM orders WHERE orders.merchant_id = ?"
                " AND (order_number = ? OR merchant_reference = ?))")
        params += [merchant_id, normalize_order_number(search), search]
    return sql, params


def encode_cursor(row: dict) -> str:
    raw = f"{row['reported_at']}|{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# What encode_cursor writes: base64url without padding (the OpenAPI document states it too).
CURSOR_PATTERN = "^[A-Za-z0-9_-]+$"


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        # b64decode skips characters outside its alphabet: "MjAy!" would pass for "MjAy".
        if not re.match(CURSOR_PATTERN, cursor):
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        reported_at, _, return_id = raw.rpartition("|")
        clock.parse(reported_at)
        return reported_at, int(return_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid(fields={"cursor": "Not a cursor this list gave out."}) from None


def list_returns(db: Database, merchant_id: int, status: str | None = "all",
                 search: str | None = None, cursor: str | None = None,
                 limit: int = PAGE_SIZE) -> Page:
    status = check_filter(status)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    where, params = _where(merchant_id, status, search)
    if cursor:
        where += " AND (returns.reported_at, returns.id) < (?, ?)"
        params += list(decode_cursor(cursor))
    rows = select(db,
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
        f" FROM (SELECT returns.id FROM returns WHERE {where}"
        "  ORDER BY returns.reported_at DESC, returns.id DESC LIMIT ?) AS page"
        " JOIN returns ON returns.id = page.id JOIN orders ON orders.id = returns.order_id"
        " JOIN customer ON customer.id = orders.customer_id"
        " ORDER BY returns.reported_at DESC, returns.id DESC",
        [*params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    today = clock.today().isoformat()
    for row in rows:
        is_open = row["status"] in OPEN_RETURN_STATUSES
        row["is_overdue"] = is_open and row["refund_due_by"] <= overdue_date()
        row["is_late"] = is_open and row["refund_due_by"] < today
    return Page(rows, encode_cursor(rows[-1]) if more else None)


def counts(db: Database, merchant_id: int, search: str | None = None) -> dict[str, int]:
    """How many returns each filter shows (with the same search)."""
    if search:
        where, params = _where(merchant_id, "all", search)
        by_status = dict(db.execute(
            f"SELECT returns.status, count(*) FROM returns WHERE {where}"
            " GROUP BY returns.status", params).fetchall())
    else:
        # Kept by triggers (migration m007): counting a big shop's history on every view
        # was the one part of the inbox that grew with it.
        by_status = dict(db.execute(
            "SELECT status, count FROM return_status_count WHERE merchant_id = ?",
            [merchant_id]).fetchall())
    where, params = _where(merchant_id, "overdue", search)
    overdue = db.execute(f"SELECT count(*) FROM returns WHERE {where}", params).fetchone()[0]
    return {"all": sum(by_status.values()), "overdue": overdue,
            **{status: by_status.get(status, 0) for status in RETURN_STATUSES}}


def all_returns(db: Database, merchant_id: int, status: str | None = "all",
                search: str | None = None) -> Iterator[dict]:
    """Every matching return, fetched a page at a time so an export never holds them all."""
    cursor = None
    while True:
        page = list_returns(db, merchant_id, status, search, cursor, limit=MAX_PAGE_SIZE)
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def api_page(db: Database, merchant_id: int, status: str | None, cursor: str | None,
             limit: int) -> dict:
    """`GET /api/v1/returns`: each return as the registration endpoint answers it."""
    page = list_returns(db, merchant_id, status, None, cursor, limit)
    return {
        "returns": [returns.as_api(returns.return_for_merchant(db, merchant_id, row["id"]))
                    for row in page.rows],
        "next_cursor": page.next_cursor,
    }


def history(db: Database, merchant_id: int, return_id: int) -> list[dict]:
    """The return's audit rows, oldest first (NotFound for another merchant's return)."""
    if not db.execute("SELECT 1 FROM returns WHERE id = ? AND merchant_id = ?",
                      [return_id, merchant_id]).fetchone():
        raise NotFound("No such return.")
    rows = select(db,
        "SELECT at, actor, action, before_json, after_json, why,"
        " merchant_user.email AS actor_email FROM audit_event"
        " LEFT JOIN merchant_user ON audit_event.actor = 'merchant_user:' || merchant_user.id"
        " WHERE subject_kind = 'return' AND subject_id = ? ORDER BY audit_event.id",
        [return_id])
    for row in rows:
        row["before"] = json.loads(row.pop("before_json") or "null")
        row["after"] = json.loads(row.pop("after_json") or "null")
    return rows
