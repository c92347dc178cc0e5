"""Every guarded check goes through here: password sign-ins (customers, merchant staff, support
staff), second-factor codes, password reset requests, order look-ups by number and email and
requests for a new emailed link. Attempts are counted in the database, so a limit holds across
every server process.

The order matters, and is the same for all:

1. inside one BEGIN IMMEDIATE transaction, refuse if a bucket (the account's, the client
   address's) has reached its limit, else record this attempt as a failure and read what the
   check needs: parallel guesses take turns for the write lock, so each sees the attempts before
   it (checking first and recording after the hash let 64 parallel guesses get 20 evaluated
   against a limit of 5);
2. outside the lock, check the password (scrypt is slow by design; other processes aren't held
   up by it). An unknown or disabled account is hashed against a fixed dummy hash, so it costs
   what a known one costs and timing doesn't tell which addresses have accounts; a refused
   attempt costs no hash at all, so a guesser past the limit can't make the server burn 128 MiB
   of scrypt per request;
3. on success, forget this attempt and the account's failures (not the address's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from ..domain import clock
from ..domain.errors import RateLimited, Unauthorized
from ..domain.passwords import verify_password
from ..domain.validation import email_for_lookup
from ..store import sign_in_attempts as attempt_rows
from ..store.db import Database, lock_keys, write_transaction

WINDOW = timedelta(minutes=15)
LIMIT_PER_ACCOUNT = 5  # a person mistypes a few times; a guesser needs thousands
LIMIT_PER_CLIENT = 20  # one office may share an address; still far from a guesser
TOO_MANY = "Too many attempts. Wait 15 minutes and try again."

T = TypeVar("T")
Refuse = Callable[[datetime, datetime], RateLimited]  # (blocked until, now) -> the refusal


def refuse_generic(until: datetime, now: datetime) -> RateLimited:
    return RateLimited(TOO_MANY, retry_after=max(1, int((until - now).total_seconds())),
                       try_again_at=clock.iso(until))


def refuse_for_window(message: str) -> Refuse:
    """A refusal that asks to wait the whole window (order look-ups, new-link requests)."""
    def refuse(_until: datetime, _now: datetime) -> RateLimited:
        return RateLimited(message, retry_after=int(WINDOW.total_seconds()))
    return refuse


@dataclass(frozen=True)
class Door:
    """One kind of account that signs in with a password."""

    name: str  # the attempt buckets' prefix
    # The account's row for an email (a store function), its password hash under
    # "password_hash". A disabled account is simply not found (and so costs the dummy hash,
    # like an unknown one).
    find_account: Callable[[Database, str], dict | None]
    no_match: str
    refuse: Refuse = refuse_generic

    def buckets(self, email: str, client: str, step: str = "account"
                ) -> tuple[tuple[str, int], tuple[str, int]]:
        """The account's bucket for `step` and the address's. Second-factor codes have their
        own account bucket ("code"): a right password clears the password failures, and must
        not give a guesser of codes a fresh five. Password reset requests have theirs
        ("reset") and their address's, so asking for links never locks anyone out of signing in."""
        client_bucket = "client" if step in ("account", "code") else f"{step}-client"
        return ((f"{self.name}:{step}:{email}", LIMIT_PER_ACCOUNT),
                (f"{self.name}:{client_bucket}:{client}", LIMIT_PER_CLIENT))


@dataclass(frozen=True)
class Attempt:
    ids: list[int]  # this attempt's row in each bucket
    row: dict | None  # what `read` found


def _blocked_until(db: Database, bucket: str, limit: int, now: datetime) -> datetime | None:
    """When the oldest failure that keeps the bucket at its limit leaves the window."""
    times = attempt_rows.recent_attempt_times(db, bucket, clock.iso(now - WINDOW), limit)
    if len(times) < limit:
        return None
    return clock.parse(times[-1]) + WINDOW


def _record(db: Database, buckets: Iterable[str], now: datetime) -> list[int]:
    """Inside the caller's transaction: one attempt per bucket; attempts too old to count for
    anyone are dropped on the way."""
    ids = [attempt_rows.record_attempt(db, bucket, clock.iso(now)) for bucket in buckets]
    attempt_rows.drop_attempts_before(db, clock.iso(now - 2 * WINDOW))
    return ids


def record_attempt(db: Database, buckets, refuse: Refuse = refuse_generic,
                   read: Callable[[Database], dict | None] | None = None,
                   then: Callable[[Attempt], None] | None = None,
                   found_counts: bool = True) -> Attempt:
    """Step 1 for any guarded check: refuse (RateLimited) if a (bucket, limit) is at its limit,
    else record the attempt in every bucket, in one write transaction; the attempt and the row
    `read` finds, read in the same transaction. `then` runs in it too, with the attempt (a
    reset request's link, written in the same transaction). With `found_counts` False, an
    attempt whose read finds its row is no failure and is not kept (an order look-up that
    finds the order)."""
    now = clock.now()
    with write_transaction(db):
        # Each bucket's attempts are counted by one transaction at a time, on any host: a burst
        # of guesses can't all read "one below the limit" and all be let through.
        lock_keys(db, *(f"sign-in:{bucket}" for bucket, _limit in buckets))
        blocked = [until for bucket, limit in buckets
                   if (until := _blocked_until(db, bucket, limit, now))]
        if blocked:
            raise refuse(max(blocked), now)
        attempt = Attempt(_record(db, (bucket for bucket, _limit in buckets), now),
                          read(db) if read else None)
        if attempt.row is not None and not found_counts:
            attempt_rows.forget_attempts(db, attempt.ids)
        if then is not None:
            then(attempt)
    return attempt


def forget_attempts(db: Database, attempt: Attempt, bucket: str) -> None:
    """After a success: this attempt and the failures in `bucket` (the account's) no longer
    count; the address's failures still do."""
    with write_transaction(db):
        attempt_rows.forget_attempts(db, attempt.ids, bucket)


def guarded_check(db: Database, buckets, refuse: Refuse,
                  read: Callable[[Database], dict | None],
                  passes: Callable[[dict | None], T | None], failed: str) -> T:
    """The three steps: the attempt recorded (or refused) with `read`'s row, then `passes`
    judges it outside the lock (None: Unauthorized with `failed`), and a success forgets the
    attempt and the failures of the first bucket (the account's). What `passes` gave."""
    attempt = record_attempt(db, buckets, refuse, read)
    result = passes(attempt.row)
    if result is None:
        raise Unauthorized(failed)
    forget_attempts(db, attempt, buckets[0][0])
    return result


def sign_in(db: Database, door: Door, email: str, password: str, client: str) -> tuple:
    """The account's columns (without its hash) if the password is right; Unauthorized if not;
    RateLimited, before any hash, after too many failures for the account or the address,
    even with the right password."""
    email = email_for_lookup(email)

    def password_matches(row: dict | None) -> tuple | None:
        row = row or {}
        if not verify_password(row.get("password_hash"), password or ""):
            return None
        return tuple(value for column, value in row.items() if column != "password_hash")

    return guarded_check(db, door.buckets(email, client), door.refuse,
                         lambda db: door.find_account(db, email), password_matches,
                         door.no_match)
