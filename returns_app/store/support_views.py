"""What support's console and API read and write outside the stuck queue: support users and
their API tokens (who may sign in, which bearer token is whose), and the dashboard's refund
figures."""

from __future__ import annotations

from .db import Database, insert, select_one

# A support user signing in: the columns services/sign_in.py hands back, the password hash
# last; one `?` for the email. A disabled user is simply not found.
SIGN_IN_ACCOUNT_SQL = ("SELECT id, email, password_hash FROM support_user"
                       " WHERE email = ? AND disabled_at IS NULL")


# --- support users and their tokens -------------------------------------------------------------

def support_user_by_email(db: Database, email: str) -> dict | None:
    """The user with this email, disabled or not."""
    return select_one(db, "SELECT id, email FROM support_user WHERE email = ?", [email])


def support_user_by_id(db: Database, user_id: int) -> dict | None:
    return select_one(db, "SELECT id, email FROM support_user WHERE id = ?", [user_id])


def add_support_user(db: Database, email: str, password_hash: str, created_at: str) -> int:
    """A new user whose password must be changed at the first sign-in; its id."""
    return insert(db, "support_user", {"email": email, "password_hash": password_hash,
                                       "created_at": created_at, "must_change_password": 1})


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


# --- the dashboard ------------------------------------------------------------------------------

def report_and_refund_times(db: Database, since: str, until: str) -> list[tuple[str, str]]:
    """(reported_at, succeeded_at) of each return's refund that succeeded between the two."""
    return [tuple(row) for row in db.execute(
        "SELECT returns.reported_at, refund.succeeded_at FROM refund"
        " JOIN returns ON returns.id = refund.return_id"
        " WHERE refund.succeeded_at >= ? AND refund.succeeded_at <= ?",
        [since, until]).fetchall()]


def refund_counts_by_status(db: Database) -> dict[str, int]:
    """How many refunds are in each status that has any."""
    return dict(db.execute("SELECT status, count(*) FROM refund GROUP BY status").fetchall())
