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
from ..store import audit as audit_rows
from ..store import inbox as inbox_rows
from ..store.db import Database
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


def search_terms(search: str | None) -> inbox_rows.Search:
    """What a search box's text is looked for as: an order number or a merchant reference."""
    if search := (search or "").strip()[:MAX_SEARCH]:
        return normalize_order_number(search), search
    return None


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
    rows = inbox_rows.page_of_returns(db, merchant_id, status, search_terms(search),
                                      overdue_date(),
                                      decode_cursor(cursor) if cursor else None, limit + 1)
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
    terms = search_terms(search)
    by_status = inbox_rows.counts_by_status(db, merchant_id, terms, overdue_date())
    overdue = inbox_rows.count_overdue(db, merchant_id, terms, overdue_date())
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
    if not inbox_rows.return_is_merchants(db, return_id, merchant_id):
        raise NotFound("No such return.")
    rows = audit_rows.events_of_return_with_merchant_users(db, return_id)
    for row in rows:
        row["before"] = json.loads(row.pop("before_json") or "null")
        row["after"] = json.loads(row.pop("after_json") or "null")
    return rows
