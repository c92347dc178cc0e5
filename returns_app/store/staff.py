"""Staff accounts, merchant users ("merchant_user") and support agents ("support_user") alike:
the accounts, their passwords and second factor, recovery codes, password reset links and
support API tokens.

`kind` is the table of the account ("merchant_user" or "support_user"); callers check it
against their own list before it reaches a statement.
"""

from __future__ import annotations

from .db import Database, insert, select, select_one

STAFF_TABLES = ("merchant_user", "support_user")


def _table(kind: str) -> str:
    if kind not in STAFF_TABLES:
        raise ValueError(f"not a staff table: {kind!r}")
    return kind


# --- accounts ---------------------------------------------------------------------------------

def merchant_user_email_taken(db: Database, email: str) -> bool:
    return select_one(db, "SELECT 1 AS taken FROM merchant_user WHERE email = ?",
                      [email]) is not None


def add_merchant_user(db: Database, row: dict) -> int:
    return insert(db, "merchant_user", row)


def merchant_user_for_sign_in(db: Database, email: str) -> dict | None:
    return select_one(db,
        "SELECT id, merchant_id, email, name, password_hash FROM merchant_user"
        " WHERE email = ? AND disabled_at IS NULL", [email])


def support_user_for_sign_in(db: Database, email: str) -> dict | None:
    return select_one(db,
        "SELECT id, email, password_hash FROM support_user WHERE email = ?"
        " AND disabled_at IS NULL", [email])


def merchant_user_principal(db: Database, user_id: int) -> dict | None:
    """What a signed-in merchant user's session needs; None once disabled."""
    return select_one(db,
        "SELECT id, email, name, merchant_id, must_change_password,"
        " totp_secret IS NOT NULL AS second_factor, language FROM merchant_user"
        " WHERE id = ? AND disabled_at IS NULL", [user_id])


def support_user_principal(db: Database, user_id: int) -> dict | None:
    """What a signed-in support agent's session needs; None once disabled."""
    return select_one(db,
        "SELECT id, email, must_change_password, totp_secret IS NOT NULL AS second_factor"
        " FROM support_user WHERE id = ? AND disabled_at IS NULL", [user_id])


def merchant_user_language(db: Database, user_id: int) -> dict | None:
    """The user's row with its language (None when there is no such user)."""
    return select_one(db, "SELECT language FROM merchant_user WHERE id = ?", [user_id])


def set_merchant_user_language(db: Database, user_id: int, language: str) -> None:
    db.conn.execute("UPDATE merchant_user SET language = ? WHERE id = ?", [language, user_id])


def live_staff(db: Database, kind: str, user_id: int) -> dict | None:
    """A live (not disabled) account: id, email, name ('' for support), password_hash,
    must_change_password, totp_enabled."""
    name = "name" if kind == "merchant_user" else "''"
    return select_one(db,
        f"SELECT id, email, {name} AS name, password_hash, must_change_password,"  # noqa: S608
        f" totp_secret IS NOT NULL AS totp_enabled FROM {_table(kind)}"
        " WHERE id = ? AND disabled_at IS NULL", [user_id])


def live_staff_by_email(db: Database, kind: str, email: str) -> dict | None:
    """A live account's id and email."""
    return select_one(db, f"SELECT id, email FROM {_table(kind)} WHERE email = ?"  # noqa: S608
                          " AND disabled_at IS NULL", [email])


def staff_by_email(db: Database, kind: str, email: str) -> dict | None:
    """Any account with this email, disabled or not: its id and disabled_at."""
    return select_one(db, f"SELECT id, disabled_at FROM {_table(kind)}"  # noqa: S608
                          " WHERE email = ?", [email])


def set_disabled_at(db: Database, kind: str, user_id: int, at: str | None) -> None:
    db.conn.execute(f"UPDATE {_table(kind)} SET disabled_at = ? WHERE id = ?",  # noqa: S608
                    [at, user_id])


def set_password_hash(db: Database, kind: str, user_id: int, password_hash: str) -> None:
    db.conn.execute(f"UPDATE {_table(kind)} SET password_hash = ? WHERE id = ?",  # noqa: S608
                    [password_hash, user_id])


def set_new_password(db: Database, kind: str, user_id: int, password_hash: str,
                     at: str) -> None:
    """A password the user chose: no change required any more."""
    db.conn.execute(f"UPDATE {_table(kind)} SET password_hash = ?,"  # noqa: S608
                    " must_change_password = 0, password_changed_at = ? WHERE id = ?",
                    [password_hash, at, user_id])


def require_password_change(db: Database, kind: str, user_id: int) -> None:
    db.conn.execute(f"UPDATE {_table(kind)} SET must_change_password = 1"  # noqa: S608
                    " WHERE id = ?", [user_id])


# --- password reset links ---------------------------------------------------------------------

def void_resets(db: Database, kind: str, user_id: int, at: str) -> None:
    """Every unused reset link of the account stops working."""
    db.conn.execute("UPDATE staff_password_reset SET used_at = ? WHERE principal_kind = ?"
                    " AND principal_id = ? AND used_at IS NULL", [at, kind, user_id])


def add_reset(db: Database, row: dict) -> int:
    return insert(db, "staff_password_reset", row)


def live_reset(db: Database, kind: str, token_hash: str, now: str) -> dict | None:
    """An unused, unexpired reset link: its id and principal_id."""
    return select_one(db,
        "SELECT id, principal_id FROM staff_password_reset WHERE token_hash = ?"
        " AND principal_kind = ? AND used_at IS NULL AND expires_at > ?",
        [token_hash, kind, now])


def use_reset(db: Database, reset_id: int, now: str) -> bool:
    """Use the link up (compare-and-set); whether it was still live."""
    return db.conn.execute(
        "UPDATE staff_password_reset SET used_at = ? WHERE id = ?"
        " AND used_at IS NULL AND expires_at > ?", [now, reset_id, now]).rowcount == 1


# --- the second factor ------------------------------------------------------------------------

def pending_totp_secret(db: Database, kind: str, user_id: int) -> str | None:
    row = select_one(db, f"SELECT totp_pending_secret FROM {_table(kind)}"  # noqa: S608
                         " WHERE id = ?", [user_id])
    return row["totp_pending_secret"] if row else None


def set_pending_totp_secret(db: Database, kind: str, user_id: int, secret: str) -> None:
    db.conn.execute(f"UPDATE {_table(kind)} SET totp_pending_secret = ?"  # noqa: S608
                    " WHERE id = ?", [secret, user_id])


def enable_totp(db: Database, kind: str, user_id: int, at: str, step: int) -> None:
    """The pending secret becomes the account's, its code of `step` counted as used."""
    db.conn.execute(f"UPDATE {_table(kind)} SET totp_secret = totp_pending_secret,"  # noqa: S608
                    " totp_pending_secret = NULL, totp_enabled_at = ?, totp_last_step = ?"
                    " WHERE id = ?", [at, step, user_id])


def live_totp_secret(db: Database, kind: str, user_id: int) -> dict | None:
    """The live account's totp_secret (None inside when it has none)."""
    return select_one(db, f"SELECT totp_secret FROM {_table(kind)} WHERE id = ?"  # noqa: S608
                          " AND disabled_at IS NULL", [user_id])


def use_totp_step(db: Database, kind: str, user_id: int, step: int) -> bool:
    """Count the code of `step` as used, if no code of it or a later step was (compare-and-set);
    whether it was."""
    return db.conn.execute(
        f"UPDATE {_table(kind)} SET totp_last_step = ? WHERE id = ?"  # noqa: S608
        " AND (totp_last_step IS NULL OR totp_last_step < ?)",
        [step, user_id, step]).rowcount == 1


def remove_totp(db: Database, kind: str, user_id: int) -> None:
    db.conn.execute(f"UPDATE {_table(kind)} SET totp_secret = NULL,"  # noqa: S608
                    " totp_pending_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL"
                    " WHERE id = ?", [user_id])


def delete_recovery_codes(db: Database, kind: str, user_id: int) -> None:
    db.conn.execute("DELETE FROM staff_recovery_code WHERE principal_kind = ?"
                    " AND principal_id = ?", [kind, user_id])


def add_recovery_code(db: Database, kind: str, user_id: int, code_hash: str, at: str) -> int:
    return insert(db, "staff_recovery_code", {"principal_kind": kind, "principal_id": user_id,
                                              "code_hash": code_hash, "created_at": at})


def use_recovery_code(db: Database, kind: str, user_id: int, code_hash: str, at: str) -> bool:
    """Use the code up if it is unused (compare-and-set); whether it was."""
    return db.conn.execute(
        "UPDATE staff_recovery_code SET used_at = ? WHERE principal_kind = ?"
        " AND principal_id = ? AND code_hash = ? AND used_at IS NULL",
        [at, kind, user_id, code_hash]).rowcount == 1


def recovery_codes_left(db: Database, kind: str, user_id: int) -> int:
    return select(db, "SELECT count(*) AS n FROM staff_recovery_code WHERE principal_kind = ?"
                      " AND principal_id = ? AND used_at IS NULL", [kind, user_id])[0]["n"]


# --- support: accounts and API tokens ---------------------------------------------------------

def add_support_user(db: Database, email: str, password_hash: str, created_at: str, *,
                     must_change_password: bool = True) -> int:
    """A support agent; unless the demo says otherwise, the password must be changed at the
    first sign-in."""
    return insert(db, "support_user", {"email": email, "password_hash": password_hash,
                                       "created_at": created_at,
                                       "must_change_password": int(must_change_password)})


def support_user_by_email(db: Database, email: str) -> dict | None:
    """The user with this email, disabled or not."""
    return select_one(db, "SELECT id, email FROM support_user WHERE email = ?", [email])


def support_user_by_id(db: Database, user_id: int) -> dict | None:
    return select_one(db, "SELECT id, email FROM support_user WHERE id = ?", [user_id])


def add_support_token(db: Database, support_user_id: int, token_hash: str,
                      created_at: str) -> int:
    return insert(db, "support_token", {"support_user_id": support_user_id,
                                        "token_hash": token_hash, "created_at": created_at})


def support_user_of_token(db: Database, token_hash: str) -> dict | None:
    """The enabled support user a live token with this hash belongs to."""
    return select_one(
        db,
        "SELECT support_user.id, support_user.email FROM support_token JOIN support_user"
        " ON support_user.id = support_user_id WHERE token_hash = ? AND revoked_at IS NULL"
        " AND support_user.disabled_at IS NULL",
        [token_hash])


def other_role_holds(db: Database, token_hash: str, now: str) -> bool:
    """Whether a live customer token or merchant API key has this hash."""
    return db.execute(
        "SELECT 1 FROM customer_token WHERE token_hash = ? AND expires_at > ?"
        " UNION ALL SELECT 1 FROM merchant_api_key WHERE key_hash = ? AND revoked_at IS NULL",
        [token_hash, now, token_hash]).fetchone() is not None


def support_tokens(db: Database, *, support_user_id: int | None = None,
                   token_hash: str | None = None, token_id: int | None = None,
                   live_only: bool = True) -> list[dict]:
    """Support tokens by their user, their hash or their id: id and support_user_id."""
    where, params = _token_where(support_user_id, token_hash, token_id)
    live = " AND revoked_at IS NULL" if live_only else ""
    return select(db, f"SELECT id, support_user_id FROM support_token"  # noqa: S608
                      f" WHERE {where}{live}", params)


def _token_where(support_user_id, token_hash, token_id) -> tuple[str, list]:
    if support_user_id is not None:
        return "support_user_id = ?", [support_user_id]
    if token_hash is not None:
        return "token_hash = ?", [token_hash]
    return "id = ?", [token_id]


def revoke_support_token(db: Database, token_id: int, at: str) -> None:
    db.conn.execute("UPDATE support_token SET revoked_at = ? WHERE id = ?", [at, token_id])


# --- the people of a merchant, as the portal's header and the emails to its staff read them ---

def merchant_user_name(db: Database, user_id: int) -> str:
    return select_one(db, "SELECT name FROM merchant_user WHERE id = ?", [user_id])["name"]


def users_of_merchant(db: Database, merchant_id: int) -> list[dict]:
    """Every user of the merchant, oldest first: id, email, language."""
    return select(db, "SELECT id, email, language FROM merchant_user WHERE merchant_id = ?"
                      " ORDER BY id", [merchant_id])
