"""The one way the status of a return, refund, payment or bank payment changes: `move` checks the
transition against its entity's table (domain/states.py) and runs the one statement that writes
the `status` column of returns, refund, payment and bank_payment."""

from __future__ import annotations

from ..domain import clock
from ..domain.errors import Conflict
from ..domain.states import ENTITIES, check
from .db import Database

# The tables whose status only `move` changes; the table name is put into the SQL,
# so only these are accepted.
TABLES = frozenset({"returns", "refund", "payment", "bank_payment"})


def compare_and_set(db: Database, table: str, row_id: int, current: str, target: str,
                    columns: dict) -> bool:
    """Move the row from `current` to `target` (writing `columns` with it) if its status is
    still `current`; whether it moved."""
    if table not in TABLES:
        raise ValueError(f"{table} has no status moves")
    assignments = "".join(f", {name} = ?" for name in columns)
    cursor = db.execute(
        f"UPDATE {table} SET status = ?{assignments} WHERE id = ? AND status = ?",
        [target, *columns.values(), row_id, current])
    return cursor.rowcount == 1


def move(db: Database, entity: str, row_id: int, current: str, target: str,
         **columns) -> None:
    """The one way to change the status of a return, refund, payment or bank payment: a checked
    compare-and-set inside the caller's transaction, which only moves the row if nobody changed
    its status since it was read. `columns` are written with it."""
    check(entity, current, target)
    found = ENTITIES[entity]
    if found.stamp:
        columns = {found.stamp: clock.now_iso(), **columns}
    if not compare_and_set(db, found.table, row_id, current, target, columns):
        raise Conflict(found.changed)
