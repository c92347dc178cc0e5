"""What an operator does to staff accounts (cli.py): disable and re-enable a merchant or support
user, reset a password, revoke a support API token. Each change is one transaction with an
audit row naming the operator.

A disabled account is kept, not deleted: audit rows, approvals and decisions keep pointing at it.
It can't sign in (services/sign_in.py doesn't find it), its sessions end at once (their rows in
web_session, so no copy of a cookie works again even if the account is enabled later) and its
support tokens stop working at their next request (support.user_for_token doesn't find it).
"""

from __future__ import annotations

import secrets

from ..domain import clock
from ..domain.errors import Invalid, NotFound
from ..domain.passwords import hash_password, hash_secret
from ..domain.validation import email_for_lookup
from ..store import staff as staff_rows
from ..store.db import Database, lock_rows, write_transaction
from . import audit, staff_credentials, staff_second_factor, web_sessions

TABLES = {"merchant": "merchant_user", "support": "support_user"}


def _table(kind: str) -> str:
    if kind not in TABLES:
        raise Invalid(f"A staff account is 'merchant' or 'support', not {kind!r}.")
    return TABLES[kind]


def _find(db: Database, table: str, email: str) -> tuple[int, str | None]:
    row = staff_rows.staff_by_email(db, table, email_for_lookup(email))
    if row is None:
        raise NotFound(f"There is no {table.replace('_', ' ')} {email}.")
    return row["id"], row["disabled_at"]


def set_disabled(db: Database, kind: str, email: str, disabled: bool,
                 actor: str = "cli") -> bool:
    """Disable (or enable again) the account; whether anything changed."""
    table = _table(kind)
    with write_transaction(db):
        user_id, _ = _find(db, table, email)
        lock_rows(db, table, user_id)
        user_id, disabled_at = _find(db, table, email)
        if (disabled_at is not None) == disabled:
            return False
        staff_rows.set_disabled_at(db, table, user_id, clock.now_iso() if disabled else None)
        if disabled:
            web_sessions.end_all_for(db, table, user_id)
        audit.record(db, actor, f"{table}.{'disabled' if disabled else 'enabled'}", table,
                     user_id, before={"disabled_at": disabled_at},
                     after={"disabled": disabled})
    return True


def reset_password(db: Database, kind: str, email: str, actor: str = "cli") -> str:
    """A new random one-time password for the account, returned once for the operator to hand
    over (it must be changed at the next sign-in); the old one and any reset link stop working
    at once. The second factor stays."""
    table = _table(kind)
    password = secrets.token_urlsafe(12)
    password_hash = hash_password(password)  # slow on purpose: before the write lock
    with write_transaction(db):
        user_id, _disabled_at = _find(db, table, email)
        staff_rows.set_password_hash(db, table, user_id, password_hash)
        staff_credentials.force_change(db, table, user_id)
        web_sessions.end_all_for(db, table, user_id)  # whoever knew the old one is out
        audit.record(db, actor, f"{table}.password_reset", table, user_id)
    return password


def reset_second_factor(db: Database, kind: str, email: str, actor: str = "cli") -> None:
    """A lost phone: the account's second factor and recovery codes are removed and its
    sessions end. A support agent enrols again right after the next password; a merchant
    user signs in with the password alone until they turn it on again."""
    table = _table(kind)
    with write_transaction(db):
        user_id, _disabled_at = _find(db, table, email)
        staff_second_factor.remove(db, table, user_id)
        web_sessions.end_all_for(db, table, user_id)
        audit.record(db, actor, f"{table}.second_factor_reset", table, user_id)


def revoke_support_tokens(db: Database, *, token: str | None = None, token_id: int | None = None,
                          email: str | None = None, actor: str = "cli") -> int:
    """Revoke one support API token (by its value, e.g. a leaked one, or by the id its
    creation's audit row names) or every token of a support user; how many were live."""
    with write_transaction(db):
        if email is not None:
            user_id, _disabled_at = _find(db, "support_user", email)
            which = {"support_user_id": user_id}
        elif token is not None:
            which = {"token_hash": hash_secret(token.strip())}
        else:
            which = {"token_id": token_id}
        rows = staff_rows.support_tokens(db, **which)
        if email is None and not rows and not staff_rows.support_tokens(db, **which,
                                                                        live_only=False):
            raise NotFound("There is no such support token.")
        for row in rows:
            staff_rows.revoke_support_token(db, row["id"], clock.now_iso())
            audit.record(db, actor, "support_token.revoked", "support_user",
                         row["support_user_id"], after={"token_id": row["id"]})
    return len(rows)
