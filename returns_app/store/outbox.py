"""The outbox: every payout (and later every message) is first a row written in the same
transaction as the change that causes it. The worker claims rows with a lease and delivers them;
a worker that dies mid-delivery loses its lease and another one takes the row over."""

from __future__ import annotations

import json
import os
import random
from datetime import timedelta

from ..domain import clock, request_ids
from .db import (
    BUSY_TIMEOUT_MS,
    Database,
    insert,
    is_postgres,
    select,
    select_one,
    write_transaction,
)

# How long a claimed row stays with its worker: longer than the slowest delivery, so a live
# worker never loses its row to another. The slowest is a payout: the provider client's longest
# call (provider/client.py's longest_call_seconds(), with its timeouts and retries; a webhook
# takes at most 13 s, an email a few SMTP round trips of 10 s) and the two write transactions
# around it, each of which may wait out the busy timeout; twice that leaves room for a slow
# machine. The store imports no provider: the call's length is written here, and
# tests/store/test_outbox_lease.py fails when the client's no longer matches it. The crash tests
# shorten the lease through the environment.
PROVIDER_LONGEST_CALL_SECONDS = 69.0
DEFAULT_LEASE_SECONDS = 2 * (PROVIDER_LONGEST_CALL_SECONDS + 2 * BUSY_TIMEOUT_MS / 1000)
LEASE = timedelta(seconds=float(os.environ.get("RETURNS_OUTBOX_LEASE_SECONDS",
                                               DEFAULT_LEASE_SECONDS)))
MAX_ATTEMPTS = 8
# Every kind of work the worker does (worker/deliveries.py has a handler for each; the metrics
# report each, waiting or not).
KINDS = ("payout", "debit", "checkout_cancel", "webhook", "email")


class LeaseLost(Exception):
    """The caller's lease ran out and another worker claimed the row (or it was settled
    meanwhile): what the caller was about to record must not be, so the exception rolls its
    transaction back."""


def enqueue(db: Database, kind: str, subject_id: int, payload: dict | None = None,
            available_at=None) -> int:
    """Call inside the transaction that makes the delivery necessary. The row keeps the id of
    the request (or the delivery) that wrote it, for the worker's log lines and provider calls."""
    now = clock.now()
    return insert(db, "outbox", {
        "kind": kind,
        "subject_id": subject_id,
        "payload": json.dumps(payload or {}),
        "available_at": clock.iso(available_at or now),
        "created_at": clock.iso(now),
        "request_id": request_ids.current.get(),
    })


_DELIVERABLE = ("status = 'pending' AND available_at <= ?"
                " AND (lease_expires_at IS NULL OR lease_expires_at < ?)")


def claim(db: Database, owner: str, kinds: tuple[str, ...] | None = None) -> dict | None:
    """Take the oldest deliverable row for `owner`, or None. A lease that ran out is fair game."""
    now = clock.now_iso()
    kind_filter = f" AND kind IN ({', '.join('?' for _ in kinds)})" if kinds else ""
    if is_postgres(db):
        return _claim_skipping_locked(db, owner, now, kind_filter, kinds)
    with write_transaction(db):
        rows = select(db,
            "SELECT * FROM outbox WHERE " + _DELIVERABLE + kind_filter +
            " ORDER BY available_at, id LIMIT 1", [now, now, *(kinds or ())])
        if not rows:
            return None
        row = rows[0]
        db.execute(
            "UPDATE outbox SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1"
            " WHERE id = ?", [owner, clock.iso(clock.now() + LEASE), row["id"]])
    row["attempts"] += 1
    row["lease_owner"] = owner
    row["payload"] = json.loads(row["payload"])
    return row


def _claim_skipping_locked(db: Database, owner: str, now: str, kind_filter: str,
                           kinds: tuple[str, ...] | None) -> dict | None:
    """PostgreSQL's claim, one statement: the oldest deliverable row nobody else is claiming this
    instant (SKIP LOCKED: a worker on another host never waits for a row another worker is
    taking, and never gets it), leased in the same statement. A row claimed and committed since
    this statement's snapshot is checked again once locked and passed over (READ COMMITTED)."""
    row = select_one(db,
        "UPDATE outbox SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1"
        " WHERE id = (SELECT id FROM outbox WHERE " + _DELIVERABLE + kind_filter +
        " ORDER BY available_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *",
        [owner, clock.iso(clock.now() + LEASE), now, now, *(kinds or ())])
    if row is not None:
        row["payload"] = json.loads(row["payload"])
    return row


def _settle(db: Database, row: dict, assignments: str, params: list) -> None:
    """Compare-and-set: only while the row is still as the caller claimed it. Every claim adds
    an attempt, so (owner, attempts) names one claim; a row read without claiming (no owner)
    matches while nobody has claimed it since."""
    # `IS ?` compares NULL as a value on SQLite; PostgreSQL spells it IS NOT DISTINCT FROM.
    same = "IS NOT DISTINCT FROM" if is_postgres(db) else "IS"
    cursor = db.execute(
        f"UPDATE outbox SET {assignments}, lease_owner = NULL, lease_expires_at = NULL"
        f" WHERE id = ? AND status = 'pending' AND lease_owner {same} ? AND attempts = ?",
        [*params, row["id"], row["lease_owner"], row["attempts"]])
    if cursor.rowcount != 1:
        raise LeaseLost(f"outbox row {row['id']}: the lease of {row['lease_owner']!r} "
                        f"(attempt {row['attempts']}) is no longer held")


def complete(db: Database, row: dict) -> None:
    """Inside the transaction that records the delivery's outcome; `row` as claimed. Raises
    LeaseLost if the caller no longer holds it."""
    _settle(db, row, "status = 'done', done_at = ?", [clock.now_iso()])


def set_payload(db: Database, outbox_id: int, payload: dict) -> None:
    """Inside a transaction: what a first attempt decided, for its retries to reuse."""
    db.execute("UPDATE outbox SET payload = ? WHERE id = ?", [json.dumps(payload), outbox_id])


def retry_later(db: Database, row: dict, error: str, *,
                schedule: tuple[float, ...] | None = None,
                then_every: float | None = None) -> bool:
    """Wait before the next attempt; give up (status failed) when the attempts are used up.
    Returns whether it will be retried; raises LeaseLost as `complete` does.

    By default the wait doubles (with jitter) for MAX_ATTEMPTS attempts. `schedule` gives the
    seconds before each retry instead (its length + 1 attempts in all). `then_every`: never
    give up, keep trying at that many seconds once the quick attempts are used up (for work
    whose outcome must be found out, however long the other side takes)."""
    attempts = row["attempts"]
    if schedule is not None:
        delay = schedule[attempts - 1] * random.uniform(1.0, 1.1) \
            if attempts <= len(schedule) else None
    elif attempts < MAX_ATTEMPTS:
        delay = random.uniform(0.5, 1.0) * min(3600, 10 * 2 ** attempts)
    else:
        delay = None
    if delay is None and then_every is not None:
        delay = then_every * random.uniform(1.0, 1.1)
    if delay is None:
        give_up(db, row, error)
        return False
    _settle(db, row, "available_at = ?, last_error = ?",
            [clock.iso(clock.now() + timedelta(seconds=delay)), error])
    return True


def give_up(db: Database, row: dict, error: str) -> None:
    """Inside a transaction: nothing left to try (the destination is gone). Raises LeaseLost as
    `complete` does."""
    _settle(db, row, "status = 'failed', last_error = ?", [error])


def requeue(db: Database, outbox_id: int) -> bool:
    """Inside a transaction: a row that was given up on gets a fresh set of attempts, now.
    Compare-and-set on the status; returns whether it was requeued."""
    # The request asking for it is now the one the delivery's log lines name.
    cursor = db.execute(
        "UPDATE outbox SET status = 'pending', attempts = 0, available_at = ?, lease_owner = NULL,"
        " lease_expires_at = NULL, request_id = coalesce(?, request_id)"
        " WHERE id = ? AND status = 'failed'",
        [clock.now_iso(), request_ids.current.get(), outbox_id])
    return cursor.rowcount == 1


def pending_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]


def reschedule(db: Database, kind: str, subject_id: int, available_at) -> None:
    """Inside a transaction: a delivery not yet started moves to another time."""
    db.execute("UPDATE outbox SET available_at = ? WHERE kind = ? AND subject_id = ? AND status ="
               " 'pending' AND lease_owner IS NULL", [clock.iso(available_at), kind, subject_id])


def pending_by_kind(db: Database) -> dict[str, tuple[int, str]]:
    """{kind: (rows waiting, when the oldest of them was written)} for the metrics."""
    return {kind: (count, oldest) for kind, count, oldest in db.execute(
        "SELECT kind, count(*), min(created_at) FROM outbox WHERE status = 'pending'"
        " GROUP BY kind")}


def failed_by_kind(db: Database) -> dict[str, int]:
    return dict(db.execute(
        "SELECT kind, count(*) FROM outbox WHERE status = 'failed' GROUP BY kind").fetchall())
