"""Allowed state transitions, one table per entity, and the compare-and-set that applies them."""

from __future__ import annotations

from ..store.db import Database
from .errors import Conflict

RETURN_TRANSITIONS: dict[str, frozenset[str]] = {
    "reported": frozenset({"sent", "received", "cancelled", "expired"}),
    # A parcel can arrive although the customer never said it was sent, or after the pause ended.
    "sent": frozenset({"received"}),
    "expired": frozenset({"received"}),
    "received": frozenset({"resolved"}),
    "resolved": frozenset(),
    "cancelled": frozenset(),
}
OPEN_RETURN_STATUSES = frozenset({"reported", "sent", "received"})
# Items in these returns no longer count against what can be returned.
ENDED_WITHOUT_RETURN = frozenset({"cancelled", "expired"})

TRANSITIONS = {"returns": RETURN_TRANSITIONS}


def check(table: str, current: str, target: str) -> None:
    if target not in TRANSITIONS[table].get(current, frozenset()):
        raise Conflict(
            f"This can't be done while the {table.rstrip('s')} is {current}.",
            current=current,
            target=target,
        )


def move(db: Database, table: str, row_id: int, current: str, target: str,
         **columns) -> None:
    """Compare-and-set: only moves the row if nobody changed its status since we read it."""
    check(table, current, target)
    assignments = ", ".join(f"{name} = ?" for name in columns)
    sql = f"UPDATE {table} SET status = ?{', ' if columns else ''}{assignments} " \
          "WHERE id = ? AND status = ?"
    cursor = db.execute(sql, [target, *columns.values(), row_id, current])
    if cursor.rowcount != 1:
        raise Conflict(f"The {table.rstrip('s')} changed meanwhile; reload and try again.")
