"""Support's stuck queue in SQL: its ranking and counts over stuck_candidate (the read model
kept by triggers, migration m009 and the ones that rebuilt it), rendered from the rules table
in domain/stuck_rules.py; the search box's look-ups; and the rows the rules and the page read
for the items shown.

Each reason is one range of stuck_candidate, read in the queue's order straight off a partial
index (stuck_candidate_deadline for the deadline reasons, stuck_candidate_slow for the others),
so a page reads only its own rows and a count is one short index range: nothing grows with the
orders, returns or refunds behind the queue. The read model keeps each item's deadline and its
first slow reason with when that wait began; a rule's clock is compared here, when the queue is
asked, as a comparison of stored ISO-8601 text with a limit computed from the table's clock.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from ..domain import clock
from ..domain import stuck_rules as rules
from ..domain.stuck_rules import DueWithin
from .db import Database, is_postgres, select, select_one

_BY_DEADLINE = "deadline, deadline_since, kind, item_id"
_BY_SINCE = "slow_since, kind, item_id"


def _day(offset: int) -> str:
    """The name of the parameter holding today (Stockholm's) plus `offset` days."""
    if offset == 0:
        return "today"
    return f"today_{'plus' if offset > 0 else 'minus'}_{abs(offset)}"


def _deadline_windows() -> list[DueWithin]:
    """The deadline rules' windows, earliest first; together they must run unbroken from any
    day past to their last day, so "no deadline reason" is one comparison."""
    windows = sorted({rule.clock for rule in rules.RULES if rule.by_deadline},
                     key=lambda w: -10**9 if w.first is None else w.first)
    assert windows[0].first is None and all(later.first == earlier.last + 1 for earlier, later
                                            in zip(windows, windows[1:], strict=False))
    return windows


_LAST_DEADLINE_DAY = _deadline_windows()[-1].last
_NO_DEADLINE = f"(deadline IS NULL OR deadline > :{_day(_LAST_DEADLINE_DAY)})"


def _range(code: str) -> tuple[str, str]:
    """Which stuck_candidate rows have `code` as their main reason, and their order."""
    ruled = rules.rules_of(code)
    first = ruled[0]
    if first.by_deadline:
        window = first.clock
        where = [f"deadline >= :{_day(window.first)}"] if window.first is not None else []
        where += [f"deadline <= :{_day(window.last)}"] if window.last is not None else []
        return " AND ".join(where), _BY_DEADLINE
    assert len(ruled) == 1, f"{code}: one kind per slow reason (the read model has one column)"
    where = [f"slow_code = '{code}'"]
    if first.clock is not None:
        where.append(f"slow_since < :{code}")
    if first.kind in rules.KINDS_WITH_DEADLINES:
        where.append(_NO_DEADLINE)  # a deadline reason comes first
    return " AND ".join(where), _BY_SINCE


# (code, which rows, their order), most urgent first.
MAIN_REASON_RANGES = tuple((code, *_range(code)) for code in rules.REASONS)


def _listed(db: Database, marker: str = "?") -> str:
    """The ids a JSON array parameter lists, as a subquery: json_each on SQLite, the same text
    read by json_array_elements_text on PostgreSQL (one of the store's per-engine statements,
    docs/design.md "Two engines")."""
    if is_postgres(db):
        return f"(SELECT value::bigint FROM json_array_elements_text(CAST({marker} AS json)))"
    return f"(SELECT value FROM json_each({marker}))"


def _searched(db: Database) -> str:
    """What a search keeps: the items of the orders and refunds it found."""
    return (f" AND (order_id IN {_listed(db, ':orders')}"
            f" OR (kind = 0 AND item_id IN {_listed(db, ':refunds')}))")


def _limits(now: datetime, order_ids=None, refund_ids=None) -> dict:
    """The ranges' parameters at `now`: each clock's limit, and what a search kept."""
    today = clock.local_date(now)
    params = {}
    for rule in rules.RULES:
        if rule.by_deadline:
            for offset in (rule.clock.first, rule.clock.last):
                if offset is not None:
                    params[_day(offset)] = (today + timedelta(days=offset)).isoformat()
        elif rule.clock is not None:
            params[rule.code] = rule.clock.limit(now)
    params[_day(_LAST_DEADLINE_DAY)] = (today + timedelta(days=_LAST_DEADLINE_DAY)).isoformat()
    if order_ids is not None:
        params |= {"orders": json.dumps(sorted(order_ids)),
                   "refunds": json.dumps(sorted(refund_ids))}
    return params


def main_reason_counts(db: Database, now: datetime, order_ids=None,
                       refund_ids=None) -> dict[str, int]:
    """How many items have each main reason at `now` (only those of the orders and refunds
    named, when a search names them)."""
    searched = _searched(db) if order_ids is not None else ""
    counts = db.execute("SELECT " + ", ".join(
        f"(SELECT count(*) FROM stuck_candidate WHERE {where}{searched})"
        for _code, where, _order in MAIN_REASON_RANGES),
        _limits(now, order_ids, refund_ids)).fetchone()
    return dict(zip(rules.REASONS, counts, strict=True))


def ranked_slice(db: Database, now: datetime, counts: dict[str, int], limit: int, offset: int,
                 order_ids=None, refund_ids=None) -> list[tuple[int, int]]:
    """(kind, id) of the items at positions offset .. offset + limit of the whole queue: each
    reason's stretch of it is one index range, read from where the page starts in it."""
    searched = _searched(db) if order_ids is not None else ""
    params = _limits(now, order_ids, refund_ids)
    found: list[tuple[int, int]] = []
    start = 0
    for code, where, order in MAIN_REASON_RANGES:
        end = start + counts[code]
        if offset < end and offset + limit > start:
            skip = max(0, offset - start)
            found += db.execute(
                f"SELECT kind, item_id FROM stuck_candidate WHERE {where}{searched}"
                f" ORDER BY {order} LIMIT :take OFFSET :skip",
                {**params, "take": min(limit - len(found), end - start - skip),
                 "skip": skip}).fetchall()
        start = end
    return found


# --- the search box -----------------------------------------------------------------------------

def orders_of_customer_email(db: Database, email: str) -> list[int]:
    return [row[0] for row in db.execute(
        "SELECT orders.id FROM customer JOIN orders ON orders.customer_id = customer.id"
        " WHERE customer.email = ?", [email])]


def orders_numbered(db: Database, number: str) -> list[int]:
    return [row[0] for row in db.execute(
        "SELECT id FROM orders WHERE order_number = ?", [number])]


def refunds_numbered(db: Database, refund_id: int) -> list[int]:
    return [row[0] for row in db.execute("SELECT id FROM refund WHERE id = ?", [refund_id])]


# --- the rows the rules read --------------------------------------------------------------------

_REFUND_COLUMNS = (
    "SELECT refund.id, refund.order_id, refund.status, refund.status_changed_at,"
    " refund.unknown_since, refund.provider_silent_since, refund.objected_at, refund.last_error,"
    " refund.created_at,"
    " returns.refund_due_by, returns.reported_at")
_RETURN_COLUMNS = (
    "SELECT returns.id, returns.order_id, returns.status, returns.sent_at,"
    " returns.refund_due_by, returns.reported_at,"
    " EXISTS (SELECT 1 FROM refund WHERE refund.return_id = returns.id) AS has_refund,"
    " EXISTS (SELECT 1 FROM ledger_entry WHERE ledger_entry.order_id = returns.order_id"
    " AND kind = 'payment') AS customer_paid")


def refund_for_rules(db: Database, refund_id: int) -> dict | None:
    """The refund's row as its rules read it (stuck_rules.reasons(REFUND, ...))."""
    return select_one(db, _REFUND_COLUMNS + " FROM refund"
                          " LEFT JOIN returns ON returns.id = refund.return_id"
                          " WHERE refund.id = ?", [refund_id])


def return_for_rules(db: Database, return_id: int) -> dict | None:
    """The return's row as its rules read it (stuck_rules.reasons(RETURN, ...))."""
    return select_one(db, _RETURN_COLUMNS + " FROM returns WHERE returns.id = ?", [return_id])


# --- the items shown: their rows for the rules and their details for the page -----------------
# A statement per kind (not per item), each returning {id: row}.

_PEOPLE = (" orders.order_number, orders.currency, orders.merchant_id,"
           " customer.email AS customer_email, customer.name AS customer_name,"
           " merchant.name AS merchant_name")
_PEOPLE_JOINS = (" JOIN orders ON orders.id = {}.order_id"
                 " JOIN customer ON customer.id = orders.customer_id"
                 " JOIN merchant ON merchant.id = orders.merchant_id")


def _by_id(db: Database, sql: str, ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    return {row["id"]: row for row in select(db, sql, [json.dumps(ids)])}


def shown_refunds(db: Database, ids: list[int]) -> dict[int, dict]:
    return _by_id(db, _REFUND_COLUMNS + ", refund.amount_minor AS amount,"
                  " refund.destination_masked, refund.return_id," + _PEOPLE + " FROM refund"
                  " LEFT JOIN returns ON returns.id = refund.return_id"
                  + _PEOPLE_JOINS.format("refund") +
                  " WHERE refund.id IN " + _listed(db), ids)


def shown_returns(db: Database, ids: list[int]) -> dict[int, dict]:
    """With the value still open in each: what the merchant hasn't accepted or rejected."""
    return _by_id(db, _RETURN_COLUMNS + ","
                  " (SELECT coalesce(sum((return_item.quantity - accepted_quantity"
                  " - rejected_quantity) * unit_price_minor), 0) FROM return_item"
                  " JOIN order_line ON order_line.id = return_item.order_line_id"
                  " WHERE return_id = returns.id) AS amount,"
                  " returns.id AS return_id," + _PEOPLE + " FROM returns"
                  + _PEOPLE_JOINS.format("returns") +
                  " WHERE returns.id IN " + _listed(db), ids)


def shown_debits(db: Database, ids: list[int]) -> dict[int, dict]:
    return _by_id(db, "SELECT payment.id, payment.order_id, payment.status,"
                  " payment.provider_silent_since, payment.amount_minor AS amount,"
                  " payment.scheduled_for," + _PEOPLE + " FROM payment"
                  + _PEOPLE_JOINS.format("payment") +
                  " WHERE payment.id IN " + _listed(db), ids)


def shown_bank_payments(db: Database, ids: list[int]) -> dict[int, dict]:
    return _by_id(db, "SELECT id, status, booking_date, amount_minor, currency, payer_name,"
                  " reference, unmatched_reason FROM bank_payment"
                  " WHERE id IN " + _listed(db), ids)
