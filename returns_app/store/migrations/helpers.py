"""What the migrations' SQL shares: running a script in the migration's transaction, and making
a table append-only."""

from __future__ import annotations

from ..db import Database


def execute_all(db: Database, script: str) -> None:
    # Not executescript(): it COMMITs first, which would split a migration across transactions.
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)

def append_only(db: Database, table: str) -> None:
    # Money and audit history are corrected by new rows, never rewritten.
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
        )
    refuse_replace(db, table)

def refuse_replace(db: Database, table: str) -> None:
    """REPLACE (and INSERT OR REPLACE) deletes the row it collides with, and SQLite fires DELETE
    triggers for that only when the connection has recursive triggers on. sqlite-utils turns
    them on for ours, but the sqlite3 shell, a backup script or any plain connection doesn't, and
    there `REPLACE INTO ledger_entry` rewrote history. So the table refuses, on every connection,
    an insert that collides with a row on its id or on any UNIQUE key (read from the schema, not
    copied here); a plain INSERT that collides fails as it did, with this message instead."""
    keys = [["id"]]
    for _, index, unique, _, partial in db.execute(f"PRAGMA index_list({table})").fetchall():
        if unique and not partial:
            keys.append([row[2] for row in db.execute(f"PRAGMA index_info({index})")])
    collides = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} WHERE "
        + " AND ".join(f"{column} = NEW.{column}" for column in key) + ")" for key in keys)
    db.execute(f"""CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table}
        WHEN {collides} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")
