"""The worker's sign of life: each round it rewrites its row; readiness (/readyz) and the
metrics ask how long ago any worker last did."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from ..domain import clock
from .db import Database, write_transaction

# A round takes a couple of seconds (worker.py's interval plus its deliveries): a worker that
# has not beaten for a minute is stuck or gone.
STALE_AFTER = timedelta(minutes=1)
# Rows of workers that stopped (their name holds the pid) are dropped after a day.
FORGET_AFTER = timedelta(days=1)


def beat(db: Database, worker: str, now: datetime) -> None:
    with write_transaction(db):
        db.execute("INSERT INTO worker_heartbeat (worker, beat_at) VALUES (?, ?)"
                   " ON CONFLICT (worker) DO UPDATE SET beat_at = excluded.beat_at",
                   [worker, clock.iso(now)])
        db.execute("DELETE FROM worker_heartbeat WHERE beat_at < ?",
                   [clock.iso(now - FORGET_AFTER)])


def age_seconds(db: Database, now: datetime) -> float | None:
    """Seconds since the newest beat of any worker; None when none has beaten (or the table is
    not there yet: migrations pending)."""
    try:
        (newest,) = db.execute("SELECT max(beat_at) FROM worker_heartbeat").fetchone()
    except sqlite3.OperationalError:
        return None
    if newest is None:
        return None
    return max(0.0, (now - clock.parse(newest)).total_seconds())


def alive(age: float | None) -> bool:
    return age is not None and age < STALE_AFTER.total_seconds()
