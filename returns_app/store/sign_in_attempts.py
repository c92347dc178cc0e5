"""Failed attempts (sign-ins, second-factor codes, order look-ups, reset and new-link requests)
kept per bucket in lookup_attempt, so a limit holds across every server process."""

from __future__ import annotations

from .db import Database, insert, select


def recent_attempt_times(db: Database, bucket: str, since: str, limit: int) -> list[str]:
    """The times of the bucket's newest `limit` attempts after `since`, newest first."""
    return [row["at"] for row in select(
        db, "SELECT at FROM lookup_attempt WHERE bucket = ? AND at > ? ORDER BY at DESC LIMIT ?",
        [bucket, since, limit])]


def record_attempt(db: Database, bucket: str, at: str) -> int:
    return insert(db, "lookup_attempt", {"bucket": bucket, "at": at})


def drop_attempts_before(db: Database, at: str) -> None:
    db.conn.execute("DELETE FROM lookup_attempt WHERE at < ?", [at])


def forget_attempts(db: Database, attempt_ids: list[int], bucket: str | None = None) -> None:
    """These attempts, and every attempt in `bucket` if given."""
    marks = ", ".join("?" * len(attempt_ids))
    db.conn.execute(f"DELETE FROM lookup_attempt WHERE id IN ({marks}) OR bucket = ?",  # noqa: S608
                    [*attempt_ids, bucket])
