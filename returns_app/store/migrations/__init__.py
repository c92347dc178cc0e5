"""The schema as numbered functions over sqlite-utils, applied in order, each once, each in its own
write transaction (`migrate`; `flask migrate` and run.py call it). A migration's text never
changes once released: a change is a new migration. They live by subject in the modules below,
listed here in the order they apply."""

from __future__ import annotations

from ..db import Database, write_transaction
from . import bank, core, operations, partners, security, speed

# Every migration, in the order they apply (the order they were released in).
MIGRATIONS = (*core.MIGRATIONS, *partners.MIGRATIONS, *speed.MIGRATIONS, *operations.MIGRATIONS,
              *bank.MIGRATIONS, *security.MIGRATIONS,
              speed.m023_unread_queue_indexes)


def pending_migrations(db: Database) -> list[str]:
    """The migrations this code has that the database has not applied (readiness: a new version
    started before `flask migrate` ran)."""
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                        " AND name = '_migrations'").fetchone()
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations")} if exists else set()
    return [fn.__name__ for fn in MIGRATIONS if fn.__name__ not in applied]


def migrate(db: Database) -> list[str]:
    """Apply every migration not yet applied; return the names applied now."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    done = []
    for fn in MIGRATIONS:
        if fn.__name__ in applied:
            continue
        with write_transaction(db):
            fn(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))",
                [fn.__name__],
            )
        done.append(fn.__name__)
    return done
