"""The outbox: every payout (and later every message) is first a row written in the same
transaction as the change that causes it. The worker claims rows with a lease and delivers them;
a worker that dies mid-delivery loses its lease and another one takes the row over."""

from __future__ import annotations

import json
import os
import random
from datetime import timedelta

from . import clock
from .db import Database, insert, select, write_transaction

# How long a claimed row stays with its worker. Longer than any delivery (the provider client's
# timeouts and retries); the crash tests shorten it through the environment.
LEASE = timedelta(seconds=float(os.environ.get("RETURNS_OUTBOX_LEASE_SECONDS", "60")))
MAX_ATTEMPTS = 8


def enqueue(db: Database, kind: str, subject_id: int, payload: dict | None = None,
            available_at=None) -> int:
    """Call inside the transaction that makes the delivery necessary."""
    now = clock.now()
    return insert(db, "outbox", {
        "kind": kind,
        "subject_id": subject_id,
        "payload": json.dumps(payload or {}),
        "available_at": clock.iso(available_at or now),
        "created_at": clock.iso(now),
    })


def claim(db: Database, owner: str, kinds: tuple[str, ...] | None = None) -> dict | None:
    """Take the oldest deliverable row for `owner`, or None. A lease that ran out is fair game."""
    now = clock.now_iso()
    kind_filter = f" AND kind IN ({', '.join('?' for _ in kinds)})" if kinds else ""
    with write_transaction(db):
        rows = select(db,
            "SELECT * FROM outbox WHERE status = 'pending' AND available_at <= ?"
            " AND (lease_expires_at IS NULL OR lease_expires_at < ?)" + kind_filter +
            " ORDER BY available_at, id LIMIT 1", [now, now, *(kinds or ())])
        if not rows:
            return None
        row = rows[0]
        db.execute(
            "UPDATE outbox SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1"
            " WHERE id = ?", [owner, clock.iso(clock.now() + LEASE), row["id"]])
    row["attempts"] += 1
    row["payload"] = json.loads(row["payload"])
    return row


def complete(db: Database, outbox_id: int) -> None:
    """Inside the transaction that records the delivery's outcome."""
    db.execute("UPDATE outbox SET status = 'done', done_at = ?, lease_owner = NULL,"
               " lease_expires_at = NULL WHERE id = ?", [clock.now_iso(), outbox_id])


def set_payload(db: Database, outbox_id: int, payload: dict) -> None:
    """Inside a transaction: what a first attempt decided, for its retries to reuse."""
    db.execute("UPDATE outbox SET payload = ? WHERE id = ?", [json.dumps(payload), outbox_id])


def retry_later(db: Database, outbox_id: int, attempts: int, error: str) -> bool:
    """Back off exponentially with jitter; give up (status failed) after MAX_ATTEMPTS.
    Returns whether it will be retried."""
    if attempts >= MAX_ATTEMPTS:
        db.execute("UPDATE outbox SET status = 'failed', last_error = ?, lease_owner = NULL,"
                   " lease_expires_at = NULL WHERE id = ?", [error, outbox_id])
        return False
    delay = random.uniform(0.5, 1.0) * min(3600, 10 * 2 ** attempts)
    db.execute("UPDATE outbox SET available_at = ?, last_error = ?, lease_owner = NULL,"
               " lease_expires_at = NULL WHERE id = ?",
               [clock.iso(clock.now() + timedelta(seconds=delay)), error, outbox_id])
    return True


def give_up(db: Database, outbox_id: int, error: str) -> None:
    """Inside a transaction: nothing left to try (the destination is gone)."""
    db.execute("UPDATE outbox SET status = 'failed', last_error = ?, lease_owner = NULL,"
               " lease_expires_at = NULL WHERE id = ?", [error, outbox_id])


def requeue(db: Database, outbox_id: int) -> bool:
    """Inside a transaction: a row that was given up on gets a fresh set of attempts, now.
    Compare-and-set on the status; returns whether it was requeued."""
    cursor = db.execute(
        "UPDATE outbox SET status = 'pending', attempts = 0, available_at = ?, lease_owner = NULL,"
        " lease_expires_at = NULL WHERE id = ? AND status = 'failed'", [clock.now_iso(), outbox_id])
    return cursor.rowcount == 1


def pending_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]


def reschedule(db: Database, kind: str, subject_id: int, available_at) -> None:
    """Inside a transaction: a delivery not yet started moves to another time."""
    db.execute("UPDATE outbox SET available_at = ? WHERE kind = ? AND subject_id = ? AND status ="
               " 'pending' AND lease_owner IS NULL", [clock.iso(available_at), kind, subject_id])
