"""Support staff: accounts, signing in to the console, and API tokens."""

from __future__ import annotations

import secrets

from ..domain import clock
from ..domain.errors import Conflict, Forbidden, NotFound, Unauthorized
from ..domain.passwords import hash_password, hash_secret, new_secret
from ..domain.validation import normalize_email
from ..store import faults
from ..store import staff as staff_rows
from ..store.db import Database, write_transaction
from . import audit
from . import sign_in as sign_in_limits


def create_support_user(db: Database, email: str, actor: str = "cli") -> tuple[dict, str]:
    """Create the user with a random password, returned once for the admin to hand over; it
    works for the first sign-in only (must be changed then, and a second factor enrolled)."""
    email = normalize_email(email)
    password = secrets.token_urlsafe(12)
    password_hash = hash_password(password)  # slow on purpose: before the write lock
    with write_transaction(db):
        exists = f"A support user {email} already exists."
        if staff_rows.support_user_by_email(db, email):
            raise Conflict(exists)
        with faults.taken_is_a_conflict(exists):
            user_id = staff_rows.add_support_user(db, email, password_hash, clock.now_iso())
        audit.record(db, actor, "support_user.created", "support_user", user_id,
                     after={"email": email})
    return {"id": user_id, "email": email}, password


SIGN_IN_WINDOW = sign_in_limits.WINDOW
SIGN_IN_LIMIT_PER_EMAIL = sign_in_limits.LIMIT_PER_ACCOUNT
SIGN_IN_LIMIT_PER_CLIENT = sign_in_limits.LIMIT_PER_CLIENT
SIGN_IN_FAILED = "That email and password don't match a support account."
TOKEN_PREFIX = "st_"  # noqa: S105  (a prefix, not a secret)
DOOR = sign_in_limits.Door("support-sign-in", staff_rows.support_user_for_sign_in,
                           SIGN_IN_FAILED)


def sign_in(db: Database, email: str, password: str, client: str) -> dict:
    """The support user whose password this is, or Unauthorized; repeated guessing is refused
    (services/sign_in.py: counted before the password is checked, across every process)."""
    user_id, user_email = sign_in_limits.sign_in(db, DOOR, email, password, client)
    return {"id": user_id, "email": user_email}


def create_token(db: Database, email: str, actor: str = "cli") -> str:
    """A bearer token for the support API, returned once; only its hash is stored."""
    email = normalize_email(email)
    token = new_secret(TOKEN_PREFIX)
    with write_transaction(db):
        user = staff_rows.support_user_by_email(db, email)
        if user is None:
            raise NotFound(f"There is no support user {email}.")
        token_id = staff_rows.add_support_token(db, user["id"], hash_secret(token),
                                                  clock.now_iso())
        audit.record(db, actor, "support_token.created", "support_user", user["id"],
                     after={"token_id": token_id})
    return token


def user_for_token(db: Database, token: str | None) -> dict:
    """The support user a bearer token belongs to. A customer's or merchant's credential is
    Forbidden (a real credential, the wrong role); anything else is Unauthorized."""
    if not token:
        raise Unauthorized("Send a support API token as 'Authorization: Bearer <token>'.")
    token_hash = hash_secret(token)
    user = staff_rows.support_user_of_token(db, token_hash)
    if user:
        return user
    if staff_rows.other_role_holds(db, token_hash, clock.now_iso()):
        raise Forbidden("Only support staff may use this endpoint.")
    raise Unauthorized("That support token is not valid or has been revoked.")


def get_user(db: Database, user_id: int) -> dict | None:
    return staff_rows.support_user_by_id(db, user_id)
