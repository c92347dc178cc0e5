"""Idempotency records: a request's key, its body's fingerprint and, once done, its response."""

from __future__ import annotations

from .db import Database, for_update, select_one


def record_of_key(db: Database, scope: str, key: str, locked: bool = False) -> dict | None:
    """The key's record; `locked`: held until the caller's transaction ends (PostgreSQL)."""
    return select_one(db, "SELECT * FROM idempotency_record WHERE scope = ? AND key = ?"
                      + (for_update(db) if locked else ""), [scope, key])


def add_in_flight(db: Database, scope: str, key: str, request_hash: str, at: str) -> bool:
    """Whether this transaction took the key: its in-flight record inserted, or False when the
    key has one already. The unique (scope, key) decides, on any host: a second inserter waits
    until the first transaction ends and then inserts nothing (or takes the key, if the first
    rolled back)."""
    return db.execute(
        "INSERT INTO idempotency_record (scope, key, request_hash, status, created_at)"
        " VALUES (?, ?, ?, 'in_flight', ?) ON CONFLICT (scope, key) DO NOTHING",
        [scope, key, request_hash, at]).rowcount == 1


def take_over(db: Database, record_id: int, at: str) -> None:
    """A stale in-flight record starts again now."""
    db.conn.execute("UPDATE idempotency_record SET created_at = ? WHERE id = ?", [at, record_id])


def finish(db: Database, scope: str, key: str, status: int, body: str, at: str) -> None:
    db.conn.execute(
        "UPDATE idempotency_record SET status = 'done', response_status = ?, response_body = ?,"
        " completed_at = ? WHERE scope = ? AND key = ?", [status, body, at, scope, key])


def release(db: Database, scope: str, key: str) -> None:
    """Forget the key while it is still in flight."""
    db.conn.execute("DELETE FROM idempotency_record WHERE scope = ? AND key = ? AND status = "
                    "'in_flight'", [scope, key])
