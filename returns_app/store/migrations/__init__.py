"""The schema as numbered functions over sqlite-utils, applied in order, each once, each in its own
write transaction (`migrate`; `flask migrate` and run.py call it). A migration's text never
changes once released: a change is a new migration. They live by subject in the modules below,
listed here in the order they apply. On PostgreSQL each runs as its variant of the same name in
postgres/ (docs/design.md, "Two engines").

Repetition here is deliberate: a migration that rebuilds a view or a trigger spells out the whole
new definition (stuck_candidate's sources were rebuilt five times) rather than calling the code
of an earlier one, so that a released migration never changes when a later one does; and each
PostgreSQL variant restates its SQLite twin in the other dialect."""

from __future__ import annotations

from datetime import UTC, datetime

from ..db import Database, is_postgres, lock_keys, select_one, write_transaction
from . import bank, core, operations, partners, security, speed
from .postgres import VARIANTS as POSTGRES_VARIANTS

# Every migration, in the order they apply (the order they were released in).
MIGRATIONS = (*core.MIGRATIONS, *partners.MIGRATIONS, *speed.MIGRATIONS, *operations.MIGRATIONS,
              *bank.MIGRATIONS, *security.MIGRATIONS,
              speed.m023_unread_queue_indexes)


def pending_migrations(db: Database) -> list[str]:
    """The migrations this code has that the database has not applied (readiness: a new version
    started before `flask migrate` ran)."""
    if is_postgres(db):
        exists = select_one(db, "SELECT to_regclass('_migrations') AS found")["found"]
    else:
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                            " AND name = '_migrations'").fetchone()
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations")} if exists else set()
    return [fn.__name__ for fn in MIGRATIONS if fn.__name__ not in applied]


def for_engine(db: Database, migration):
    """The migration itself on SQLite, its variant of the same name on PostgreSQL."""
    if not is_postgres(db):
        return migration
    if migration.__name__ not in POSTGRES_VARIANTS:
        raise RuntimeError(f"{migration.__name__} has no PostgreSQL variant: add one of the same"
                           " name to store/migrations/postgres/")
    return POSTGRES_VARIANTS[migration.__name__]


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
            # Two hosts starting at once: the second waits here, then finds the step done.
            lock_keys(db, "migrations")
            if select_one(db, "SELECT 1 AS done FROM _migrations WHERE name = ?",
                          [fn.__name__]) is not None:
                continue
            for_engine(db, fn)(db)
            # datetime('now')'s form, written by Python so the statement runs on either engine.
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                [fn.__name__, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")],
            )
        done.append(fn.__name__)
    return done
