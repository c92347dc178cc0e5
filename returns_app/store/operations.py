"""What the operations endpoints and the request's own bookkeeping ask of the database itself:
whether it answers, and closing what a failed request left open."""

from __future__ import annotations

from .db import Database


def answers(db: Database) -> None:
    """A trivial read: raises sqlite3.Error when the database can't be reached or read."""
    db.execute("SELECT 1").fetchone()


def roll_back_left_open(db: Database) -> None:
    """A request that failed half way through a write must not hand its open transaction to the
    next one (write_transaction rolls back itself; this covers anything that escaped it)."""
    if db.conn.in_transaction:
        db.conn.execute("ROLLBACK")
