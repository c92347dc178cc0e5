"""Failed attempts (order look-ups, sign-ins, requests for a new link) counted in the database,
so a limit holds across every server process, not per process."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from ..domain import clock
from ..store.db import Database


def count(db: Database, bucket: str, since: str) -> int:
    return db.execute("SELECT count(*) FROM lookup_attempt WHERE bucket = ? AND at > ?",
                      [bucket, since]).fetchone()[0]


def over_limit(db: Database, limits: Iterable[tuple[str, int]], window: timedelta,
               now: datetime) -> bool:
    """Whether any (bucket, limit) has reached its limit within `window` before `now`."""
    since = clock.iso(now - window)
    return any(count(db, bucket, since) >= limit for bucket, limit in limits)


def record(db: Database, buckets: Iterable[str], window: timedelta, now: datetime) -> list[int]:
    """Inside the caller's transaction: one attempt per bucket; attempts too old to count for
    anyone are dropped on the way. Returns the new rows' ids."""
    ids = [db["lookup_attempt"].insert({"bucket": bucket, "at": clock.iso(now)}).last_pk
           for bucket in buckets]
    db.execute("DELETE FROM lookup_attempt WHERE at < ?", [clock.iso(now - 2 * window)])
    return ids
