"""Is this process fit to be sent traffic: the database answers, its schema is the one this code
expects, and a worker is delivering the outbox. Each check says what it found, never where the
database is or what an error said about it (the answer is public)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..store import faults, heartbeat, operations
from ..store.db import Database
from ..store.migrations import pending_migrations

CHECKS = ("database", "migrations", "worker")


def check(open_db: Callable[[], Database], now: datetime) -> dict:
    """{"ready": bool, "failed": [names], "checks": {name: {"ok": bool | None, ...}}}: a check
    that could not run because an earlier one failed has ok None and is not among the failed."""
    try:
        db = open_db()
        operations.answers(db)
    except faults.Error as exc:
        unreachable = {"ok": None, "skipped": "database unreachable"}
        checks = {"database": {"ok": False, "error": type(exc).__name__},
                  "migrations": unreachable, "worker": unreachable}
    else:
        checks = {"database": {"ok": True}, **_schema_and_worker(db, now)}
    failed = [name for name in CHECKS if checks[name]["ok"] is False]
    return {"ready": all(checks[name]["ok"] for name in CHECKS), "failed": failed,
            "checks": checks}


def _schema_and_worker(db: Database, now: datetime) -> dict:
    try:
        pending = pending_migrations(db)
    except faults.Error as exc:  # e.g. a file that is not a database only fails on a read
        return {"migrations": {"ok": False, "error": type(exc).__name__},
                "worker": {"ok": None, "skipped": "database unreadable"}}
    age = heartbeat.age_seconds(db, now)
    return {
        "migrations": {"ok": not pending, "pending": pending},
        "worker": {"ok": heartbeat.alive(age),
                   "heartbeat_age_seconds": None if age is None else round(age),
                   "max_age_seconds": int(heartbeat.STALE_AFTER.total_seconds())},
    }
