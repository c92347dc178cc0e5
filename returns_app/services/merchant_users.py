"""Merchant staff accounts and their sign-in (guarded against guessing in services/sign_in.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from ..domain import clock
from ..domain.errors import Conflict, Invalid, NotFound, RateLimited
from ..domain.passwords import hash_password
from ..domain.validation import normalize_email
from ..store import faults
from ..store import merchants as merchant_rows
from ..store import staff as staff_rows
from ..store.db import Database, write_transaction
from . import audit
from . import sign_in as sign_in_limits

SIGN_IN_WINDOW = sign_in_limits.WINDOW
SIGN_IN_LIMIT_PER_ACCOUNT = sign_in_limits.LIMIT_PER_ACCOUNT
SIGN_IN_LIMIT_PER_CLIENT = sign_in_limits.LIMIT_PER_CLIENT
NO_MATCH_MESSAGE = "That email address and password don't match a merchant account."


@dataclass(frozen=True)
class SignedIn:
    id: int
    merchant_id: int
    email: str
    name: str


def create_merchant_user(db: Database, merchant_slug: str, email: str, name: str = "",
                         password: str | None = None, actor: str = "cli",
                         password_hash: str | None = None,
                         must_change_password: bool = True) -> tuple[dict, str | None]:
    """Create a staff account; returns it and its password (random unless given), shown once.
    The password works for the first sign-in only: it must be changed then.

    `password_hash` is for demo data, where several accounts share one known password and
    hashing it once saves seconds at every start.
    """
    email = normalize_email(email)
    if password_hash is None:
        password = password or secrets.token_urlsafe(12)
        password_hash = hash_password(password)  # slow on purpose: before the write lock
    with write_transaction(db):
        merchant_id = merchant_rows.merchant_id_by_slug(db, merchant_slug)
        if merchant_id is None:
            raise NotFound(f"There is no merchant {merchant_slug!r}.")
        exists = f"A merchant user {email} already exists."
        if staff_rows.merchant_user_email_taken(db, email):
            raise Conflict(exists)
        with faults.taken_is_a_conflict(exists):
            user_id = staff_rows.add_merchant_user(db, {
                "merchant_id": merchant_id, "email": email, "name": name.strip(),
                "password_hash": password_hash, "created_at": clock.now_iso(),
                "must_change_password": int(must_change_password),
            })
        audit.record(db, actor, "merchant_user.created", "merchant", merchant_id,
                     after={"merchant_user_id": user_id, "email": email})
    return {"id": user_id, "merchant_id": merchant_id, "email": email}, password


def _refuse(until: datetime, now: datetime) -> RateLimited:
    wait = max(1, int((until - now).total_seconds()))
    minutes = -(-wait // 60)
    at = until.astimezone(clock.LOCAL_ZONE).strftime("%H:%M")
    return RateLimited(
        f"Too many failed sign-ins. Try again at {at} (in {minutes} "
        f"minute{'' if minutes == 1 else 's'}), or ask a colleague to check your email address.",
        retry_after=wait, try_again_at=clock.iso(until))


DOOR = sign_in_limits.Door("merchant-sign-in", staff_rows.merchant_user_for_sign_in,
                           NO_MATCH_MESSAGE, _refuse)


def sign_in(db: Database, email: str, password: str, client: str) -> SignedIn:
    """The staff account for this email and password; refused (RateLimited) after too many
    failures for the account or from the client address, even with the right password."""
    return SignedIn(*sign_in_limits.sign_in(db, DOOR, email, password, client))


LANGUAGES = ("sv", "en")


def set_language(db: Database, user_id: int, language: str, actor: str) -> None:
    """The language the portal and the emails to this staff member are in."""
    if language not in LANGUAGES:
        raise Invalid(fields={"language": "Choose Swedish or English."})
    with write_transaction(db):
        before = staff_rows.merchant_user_language(db, user_id)
        if before is None:
            raise NotFound("There is no such merchant user.")
        if before["language"] == language:
            return
        staff_rows.set_merchant_user_language(db, user_id, language)
        audit.record(db, actor, "merchant_user.language", "merchant_user", user_id,
                     before={"language": before["language"]}, after={"language": language})


def language_of(db: Database, user_id: int) -> str:
    row = staff_rows.merchant_user_language(db, user_id)
    return row["language"] if row else "sv"
