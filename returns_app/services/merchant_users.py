"""Merchant staff accounts and their sign-in, with a guessing limit shared by every server
process (the attempts are rows in the database, as for the customers' order lookup)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .. import clock
from ..db import Database, write_transaction
from ..errors import Conflict, NotFound, RateLimited, Unauthorized
from ..passwords import hash_password, verify_password
from ..validation import email_for_lookup, normalize_email
from . import attempts, audit

SIGN_IN_WINDOW = timedelta(minutes=15)
SIGN_IN_LIMIT_PER_ACCOUNT = 5  # a person mistypes a few times; a guesser needs thousands
SIGN_IN_LIMIT_PER_CLIENT = 20  # one office may share an address; still far from a guesser
NO_MATCH_MESSAGE = "That email address and password don't match a merchant account."


@dataclass(frozen=True)
class SignedIn:
    id: int
    merchant_id: int
    email: str
    name: str


def create_merchant_user(db: Database, merchant_slug: str, email: str, name: str = "",
                         password: str | None = None, actor: str = "cli",
                         password_hash: str | None = None) -> tuple[dict, str | None]:
    """Create a staff account; returns it and its password (random unless given), shown once.

    `password_hash` is for demo data, where several accounts share one known password and
    hashing it once saves seconds at every start.
    """
    email = normalize_email(email)
    if password_hash is None:
        password = password or secrets.token_urlsafe(12)
        password_hash = hash_password(password)  # slow on purpose: before the write lock
    with write_transaction(db):
        merchant = db.execute("SELECT id FROM merchant WHERE slug = ?",
                              [merchant_slug]).fetchone()
        if merchant is None:
            raise NotFound(f"There is no merchant {merchant_slug!r}.")
        if db.execute("SELECT 1 FROM merchant_user WHERE email = ?", [email]).fetchone():
            raise Conflict(f"A merchant user {email} already exists.")
        user_id = db["merchant_user"].insert({
            "merchant_id": merchant[0], "email": email, "name": name.strip(),
            "password_hash": password_hash, "created_at": clock.now_iso(),
        }).last_pk
        audit.record(db, actor, "merchant_user.created", "merchant", merchant[0],
                     after={"merchant_user_id": user_id, "email": email})
    return {"id": user_id, "merchant_id": merchant[0], "email": email}, password


def _buckets(email: str, client: str) -> tuple[tuple[str, int], tuple[str, int]]:
    return ((f"merchant-sign-in:account:{email}", SIGN_IN_LIMIT_PER_ACCOUNT),
            (f"merchant-sign-in:client:{client}", SIGN_IN_LIMIT_PER_CLIENT))


def _blocked_until(db: Database, bucket: str, limit: int, now: datetime) -> datetime | None:
    """When the oldest failure that keeps the bucket at its limit leaves the window."""
    rows = db.execute(
        "SELECT at FROM lookup_attempt WHERE bucket = ? AND at > ? ORDER BY at DESC LIMIT ?",
        [bucket, clock.iso(now - SIGN_IN_WINDOW), limit]).fetchall()
    if len(rows) < limit:
        return None
    return clock.parse(rows[-1][0]) + SIGN_IN_WINDOW


def _refuse(until: datetime, now: datetime) -> RateLimited:
    wait = max(1, int((until - now).total_seconds()))
    minutes = -(-wait // 60)
    at = until.astimezone(clock.LOCAL_ZONE).strftime("%H:%M")
    return RateLimited(
        f"Too many failed sign-ins. Try again at {at} (in {minutes} "
        f"minute{'' if minutes == 1 else 's'}), or ask a colleague to check your email address.",
        retry_after=wait, try_again_at=clock.iso(until))


def sign_in(db: Database, email: str, password: str, client: str) -> SignedIn:
    """The staff account for this email and password; refused (RateLimited) after too many
    failures for the account or from the client address, even with the right password."""
    email = email_for_lookup(email)
    now = clock.now()
    buckets = _buckets(email, client)
    with write_transaction(db):
        blocked = [until for bucket, limit in buckets
                   if (until := _blocked_until(db, bucket, limit, now))]
        if blocked:
            raise _refuse(max(blocked), now)
        # Counted as a failure before the password is checked, so that parallel guesses see
        # each other: the check itself runs outside the lock (scrypt is slow by design).
        attempt_ids = attempts.record(db, (bucket for bucket, _limit in buckets),
                                      SIGN_IN_WINDOW, now)
        row = db.execute("SELECT id, merchant_id, email, name, password_hash FROM merchant_user"
                         " WHERE email = ?", [email]).fetchone()
    # verify_password does the same work whether or not the account exists.
    if not verify_password(row[4] if row else None, password or ""):
        raise Unauthorized(NO_MATCH_MESSAGE)
    with write_transaction(db):
        db.execute("DELETE FROM lookup_attempt WHERE id IN (?, ?) OR bucket = ?",
                   [*attempt_ids, buckets[0][0]])
    return SignedIn(row[0], row[1], row[2], row[3])
