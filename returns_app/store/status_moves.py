"""The compare-and-set behind domain/states.move: the one statement that writes the `status`
column of returns, refund, payment and bank_payment."""

from __future__ import annotations

from .db import Database

# The tables whose status only domain/states.move changes; the table name is put into the SQL,
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
