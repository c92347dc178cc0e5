"""Support staff: accounts, signing in to the console, and API tokens."""

from __future__ import annotations

import secrets

from ..domain import clock
from ..domain.errors import Conflict, Forbidden, NotFound, Unauthorized
from ..domain.passwords import hash_password, hash_secret, new_secret
from ..domain.validation import normalize_email
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
        if db.execute("SELECT 1 FROM support_user WHERE email = ?", [email]).fetchone():
            raise Conflict(f"A support user {email} already exists.")
        user_id = db["support_user"].insert({
            "email": email, "password_hash": password_hash, "created_at": clock.now_iso(),
            "must_change_password": 1,
        }).last_pk
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
        row = db.execute("SELECT id FROM support_user WHERE email = ?", [email]).fetchone()
        if row is None:
            raise NotFound(f"There is no support user {email}.")
        token_id = db["support_token"].insert({
            "support_user_id": row[0], "token_hash": hash_secret(token),
            "created_at": clock.now_iso(),
        }).last_pk
        audit.record(db, actor, "support_token.created", "support_user", row[0],
                     after={"token_id": token_id})
    return token


def user_for_token(db: Database, token: str | None) -> dict:
    """The support user a bearer token belongs to. A customer's or merchant's credential is
    Forbidden (a real credential, the wrong role); anything else is Unauthorized."""
    if not token:
        raise Unauthorized("Send a support API token as 'Authorization: Bearer <token>'.")
    token_hash = hash_secret(token)
    row = db.execute(
        "SELECT support_user.id, support_user.email FROM support_token JOIN support_user"
        " ON support_user.id = support_user_id WHERE token_hash = ? AND revoked_at IS NULL"
        " AND support_user.disabled_at IS NULL",
        [token_hash]).fetchone()
    if row:
        return {"id": row[0], "email": row[1]}
    other_role = db.execute(
        "SELECT 1 FROM customer_token WHERE token_hash = ? AND expires_at > ?"
        " UNION ALL SELECT 1 FROM merchant_api_key WHERE key_hash = ? AND revoked_at IS NULL",
        [token_hash, clock.now_iso(), token_hash]).fetchone()
    if other_role:
        raise Forbidden("Only support staff may use this endpoint.")
    raise Unauthorized("That support token is not valid or has been revoked.")


def get_user(db: Database, user_id: int) -> dict | None:
    row = db.execute("SELECT id, email FROM support_user WHERE id = ?", [user_id]).fetchone()
    return {"id": row[0], "email": row[1]} if row else None
