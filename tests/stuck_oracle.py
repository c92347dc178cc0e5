"""The stuck queue recomputed the slow way, for the tests: the rules table
(domain/stuck_rules.py) applied in Python to every refund, return, bank payment and debit there
is, with no read model and no ranking in SQL. tests/store/test_stuck_queue_sql.py holds the queue
(stuck_candidate, ranked by the SQL store/stuck_queue.py renders from the same table) equal to
it, and holds the read model's rows equal to what the table says they must be (`kept_rows`).
"""

from __future__ import annotations

from datetime import datetime

from returns_app.domain import stuck_rules as rules
from returns_app.services.stuck import StuckItem
from returns_app.store import stuck_queue as queue_rows


def _rows(db) -> dict[str, list[dict]]:
    """Every row of every kind, with the columns its rules read."""
    def every(table: str) -> list[int]:
        return [row[0] for row in db.execute(f"SELECT id FROM {table}")]  # noqa: S608

    return {
        rules.REFUND: list(queue_rows.shown_refunds(db, every("refund")).values()),
        rules.RETURN: list(queue_rows.shown_returns(db, every("returns")).values()),
        rules.UNMATCHED: list(queue_rows.shown_bank_payments(db, every("bank_payment")).values()),
        rules.DEBIT: list(queue_rows.shown_debits(db, every("payment")).values()),
    }


_ID_FIELD = {rules.REFUND: "refund_id", rules.RETURN: "return_id",
             rules.UNMATCHED: "unmatched_id", rules.DEBIT: "debit_id"}


def stuck_items(db, now: datetime) -> list[StuckItem]:
    """Every stuck item, most urgent first (without details)."""
    items = []
    for kind, rows in _rows(db).items():
        for row in rows:
            if found := rules.reasons(kind, row, now):
                items.append(StuckItem(row.get("order_id"), found,
                                       **{_ID_FIELD[kind]: row["id"]}))
    items.sort(key=_rank)
    return items


def _rank(item: StuckItem) -> tuple:
    # Refunds before returns before payments in before debits, then by id, where the reasons
    # don't decide.
    kind = next(kind for kind, field in _ID_FIELD.items() if getattr(item, field) is not None)
    return (*item.reason.urgency, rules.KIND_NUMBERS[kind], getattr(item, _ID_FIELD[kind]))


def kept_rows(db) -> set[tuple]:
    """What stuck_candidate must hold by the table: per live item its kind, id, order, deadline
    (where a deadline rule's conditions hold) and when that clock began, and its first slow
    reason whose conditions hold, with when that wait began; the clocks are compared when the
    queue is asked. A since is None where its deadline or reason is (nothing reads it)."""
    kept = set()
    for kind, rows in _rows(db).items():
        for row in rows:
            if not rules.holds(rules.LIVE[kind], row):
                continue
            ruled = [rule for rule in rules.RULES
                     if rule.kind == kind and rules.holds(rule.when, row)]
            due = next((r for r in ruled if r.by_deadline), None)
            slow = next((r for r in ruled if not r.by_deadline), None)
            deadline = row.get(due.deadline) if due else None
            kept.add((rules.KIND_NUMBERS[kind], row["id"], row.get("order_id"), deadline,
                      rules.since_of(due, row) if deadline else None,
                      slow.code if slow else None,
                      rules.since_of(slow, row) if slow else None))
    return kept


def read_model(db) -> set[tuple]:
    """stuck_candidate's rows, a since left out where its deadline or reason is."""
    return {(kind, item_id, order_id, deadline, deadline_since if deadline else None,
             slow_code, slow_since if slow_code else None)
            for kind, item_id, order_id, deadline, deadline_since, slow_code, slow_since
            in db.execute("SELECT kind, item_id, order_id, deadline, deadline_since, slow_code,"
                          " slow_since FROM stuck_candidate")}
