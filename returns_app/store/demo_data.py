"""Demo data only: the moments of refunds and returns set back, as if the days had passed, and
the payouts the demo's worker outcomes leave behind."""

from __future__ import annotations

from .db import Database

REFUND_TIMES = frozenset({"status_changed_at", "unknown_since"})
RETURN_TIMES = frozenset({"reported_at", "sent_at", "refund_due_by"})


def _set(db: Database, table: str, allowed: frozenset, row_id: int, times: dict) -> None:
    if not set(times) <= allowed:
        raise ValueError(f"not a time of {table}: {sorted(set(times) - allowed)}")
    columns = ", ".join(f"{column} = ?" for column in times)
    db.conn.execute(f"UPDATE {table} SET {columns} WHERE id = ?",  # noqa: S608
                    [*times.values(), row_id])


def set_refund_times(db: Database, refund_id: int, **times: str) -> None:
    _set(db, "refund", REFUND_TIMES, refund_id, times)


def set_return_times(db: Database, return_id: int, **times: str) -> None:
    _set(db, "returns", RETURN_TIMES, return_id, times)
