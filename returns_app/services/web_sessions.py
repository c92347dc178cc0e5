"""Signed-in sessions kept on the server.

The signed cookie carries a random token; its SHA-256 names one `web_session` row, and only a
live row makes the cookie count. Ending the row (sign-out, "sign out everywhere", a password
change, an operator disabling the account) ends every copy of the cookie at its next request,
whichever worker serves it. A cookie signed with our key but without a live row is nobody's.

Limits per role: a session idle for longer than its role's idle limit ends, and none outlives
its absolute limit. A customer who ticks "stay signed in" gets 30 days and no idle limit (the
point of ticking it); without it the cookie lasts as long as the browser and the row 12 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain import clock
from ..domain.passwords import hash_secret, new_secret
from ..store import sessions as session_rows
from ..store.db import Database, write_transaction


@dataclass(frozen=True)
class Limits:
    idle: timedelta | None  # None: no idle limit
    absolute: timedelta


STAFF_ABSOLUTE = timedelta(hours=12)
LIMITS = {
    "support_user": Limits(timedelta(minutes=15), STAFF_ABSOLUTE),
    "merchant_user": Limits(timedelta(minutes=60), STAFF_ABSOLUTE),
    "customer": Limits(timedelta(minutes=30), timedelta(hours=12)),
}
STAY_SIGNED_IN = Limits(None, timedelta(days=30))
# Last activity is written at most once a minute, not on every request: a session ends at most
# a minute before its idle limit, and a page view costs no write most of the time.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Live:
    id: int
    kind: str
    user_id: int


@dataclass(frozen=True)
class Ended:
    reason: str  # "idle", "expired" or "ended"
    kind: str


def start(db: Database, kind: str, user_id: int, stay_signed_in: bool = False
          ) -> tuple[int, str]:
    """A new session for the principal: its row id and the token for the cookie (shown once:
    only its hash is kept)."""
    limits = STAY_SIGNED_IN if stay_signed_in and kind == "customer" else LIMITS[kind]
    token = new_secret()
    now = clock.now()
    with write_transaction(db):
        session_id = session_rows.add_session(db, {
            "token_hash": hash_secret(token), "principal_kind": kind, "principal_id": user_id,
            "created_at": clock.iso(now), "last_seen_at": clock.iso(now),
            "idle_seconds": int(limits.idle.total_seconds()) if limits.idle else None,
            "expires_at": clock.iso(now + limits.absolute)})
    return session_id, token


def check(db: Database, token: str | None, now: datetime | None = None) -> Live | Ended | None:
    """The live session the token names (its last activity moved to now), Ended when it has
    ended or just ran out, None for a token that names no session."""
    if not token or not isinstance(token, str):
        return None
    now = now or clock.now()
    row = session_rows.session_by_token_hash(db, hash_secret(token))
    if row is None:
        return None
    session_id, kind, user_id, last_seen_at, idle_seconds, expires_at, ended_at = row.values()
    if ended_at is not None:
        return Ended("ended", kind)
    last_seen = clock.parse(last_seen_at)
    reason = ("expired" if now >= clock.parse(expires_at) else
              "idle" if idle_seconds and now - last_seen > timedelta(seconds=idle_seconds)
              else None)
    if reason:
        session_rows.end_session(db, session_id, clock.iso(now))
        return Ended(reason, kind)
    if now - last_seen >= TOUCH_EVERY:
        # One statement, compare-and-set on the time read: no transaction needed.
        session_rows.touch_session(db, session_id, clock.iso(now), last_seen_at)
    return Live(session_id, kind, user_id)


def end(db: Database, token: str | None) -> None:
    """End the session the token names (signing out)."""
    if token and isinstance(token, str):
        session_rows.end_session_by_token_hash(db, hash_secret(token), clock.now_iso())


def end_all_for(db: Database, kind: str, user_id: int, except_id: int | None = None) -> int:
    """End every live session of the principal, but `except_id` (the one a password was just
    changed in, say); how many ended. One statement: it joins the caller's open transaction
    (e.g. the one that disables the account) or commits on its own."""
    return session_rows.end_sessions_of(db, kind, user_id, clock.now_iso(), except_id)
