"""Every password sign-in (customers, merchant staff, support staff) through one guarded check.

The order matters, and is the same for all three:

1. inside one BEGIN IMMEDIATE transaction, refuse if the account or the client address has
   reached its limit, else record this attempt as a failure and read the account: parallel
   guesses take turns for the write lock, so each sees the attempts before it (checking first
   and recording after the hash let 64 parallel guesses get 20 evaluated against a limit of 5);
2. outside the lock, check the password (scrypt is slow by design; other processes aren't held
   up by it). An unknown or disabled account is hashed against a fixed dummy hash, so it costs
   what a known one costs and timing doesn't tell which addresses have accounts; a refused
   attempt costs no hash at all, so a guesser past the limit can't make the server burn 128 MiB
   of scrypt per request;
3. on success, forget this attempt and the account's failures (not the address's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain import clock
from ..domain.errors import RateLimited, Unauthorized
from ..domain.passwords import verify_password
from ..domain.validation import email_for_lookup
from ..store.db import Database, write_transaction
from . import attempts

WINDOW = timedelta(minutes=15)
LIMIT_PER_ACCOUNT = 5  # a person mistypes a few times; a guesser needs thousands
LIMIT_PER_CLIENT = 20  # one office may share an address; still far from a guesser
TOO_MANY = "Too many attempts. Wait 15 minutes and try again."


def refuse_generic(until: datetime, now: datetime) -> RateLimited:
    return RateLimited(TOO_MANY, retry_after=max(1, int((until - now).total_seconds())),
                       try_again_at=clock.iso(until))


@dataclass(frozen=True)
class Door:
    """One kind of account that signs in with a password."""

    name: str  # the attempt buckets' prefix
    # Columns to hand back, then the password hash last; one `?` for the email. A disabled
    # account is simply not found (and so costs the dummy hash, like an unknown one).
    account_sql: str
    no_match: str
    refuse: Callable[[datetime, datetime], RateLimited] = refuse_generic

    def buckets(self, email: str, client: str, step: str = "account"
                ) -> tuple[tuple[str, int], tuple[str, int]]:
        """The account's bucket for `step` and the address's. Second-factor codes have their
        own account bucket ("code"): a right password clears the password failures, and must
        not give a guesser of codes a fresh five. Password reset requests have theirs
        ("reset") and their address's, so asking for links never locks anyone out of signing in."""
        client_bucket = "client" if step in ("account", "code") else f"{step}-client"
        return ((f"{self.name}:{step}:{email}", LIMIT_PER_ACCOUNT),
                (f"{self.name}:{client_bucket}:{client}", LIMIT_PER_CLIENT))


def _blocked_until(db: Database, bucket: str, limit: int, now: datetime) -> datetime | None:
    """When the oldest failure that keeps the bucket at its limit leaves the window."""
    rows = db.execute(
        "SELECT at FROM lookup_attempt WHERE bucket = ? AND at > ? ORDER BY at DESC LIMIT ?",
        [bucket, clock.iso(now - WINDOW), limit]).fetchall()
    if len(rows) < limit:
        return None
    return clock.parse(rows[-1][0]) + WINDOW


def record_attempt(db: Database, door: Door, buckets, read: tuple[str, list] | None = None,
                   then: Callable[[tuple | None], None] | None = None):
    """Step 1 for any guarded check: refuse (RateLimited) if a bucket is at its limit, else
    record the attempt in every bucket, in one write transaction; the attempt ids and the row
    `read` (a query and its parameters) finds, read in the same transaction. `then` runs in it
    too, with that row (a reset request's link, written in the same transaction)."""
    now = clock.now()
    with write_transaction(db):
        blocked = [until for bucket, limit in buckets
                   if (until := _blocked_until(db, bucket, limit, now))]
        if blocked:
            raise door.refuse(max(blocked), now)
        attempt_ids = attempts.record(db, (bucket for bucket, _limit in buckets), WINDOW, now)
        row = db.execute(read[0], read[1]).fetchone() if read else None
        if then is not None:
            then(row)
    return attempt_ids, row


def forget_attempts(db: Database, attempt_ids: list[int], bucket: str) -> None:
    """After a success: this attempt and the failures in `bucket` (the account's) no longer
    count; the address's failures still do."""
    with write_transaction(db):
        marks = ", ".join("?" * len(attempt_ids))
        db.execute(f"DELETE FROM lookup_attempt WHERE id IN ({marks}) OR bucket = ?",  # noqa: S608
                   [*attempt_ids, bucket])


def sign_in(db: Database, door: Door, email: str, password: str, client: str) -> tuple:
    """The account's columns (without its hash) if the password is right; Unauthorized if not;
    RateLimited, before any hash, after too many failures for the account or the address,
    even with the right password."""
    email = email_for_lookup(email)
    buckets = door.buckets(email, client)
    attempt_ids, row = record_attempt(db, door, buckets, (door.account_sql, [email]))
    if not verify_password(row[-1] if row else None, password or ""):
        raise Unauthorized(door.no_match)
    forget_attempts(db, attempt_ids, buckets[0][0])
    return tuple(row[:-1])
