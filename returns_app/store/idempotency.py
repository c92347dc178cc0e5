"""Idempotency records: a request's key, its body's fingerprint and, once done, its response."""

from __future__ import annotations

from .db import Database, insert, select_one


def record_of_key(db: Database, scope: str, key: str) -> dict | None:
    return select_one(db, "SELECT * FROM idempotency_record WHERE scope = ? AND key = ?",
                      [scope, key])


def add_in_flight(db: Database, scope: str, key: str, request_hash: str, at: str) -> int:
    return insert(db, "idempotency_record", {"scope": scope, "key": key,
                                             "request_hash": request_hash,
                                             "status": "in_flight", "created_at": at})


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
