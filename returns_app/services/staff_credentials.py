"""Staff passwords, for merchant users and support agents alike: the rules, the change a
one-time password forces at first sign-in, a change by the signed-in user, and a reset by an
emailed link. The second factor is in staff_second_factor.py.

A principal is named as web sessions name it: kind "merchant_user" or "support_user" (also the
table) and the row's id. Every password change, whichever way, in one write transaction: the
new hash, the flag cleared, every unused reset link voided, the user's other sessions ended
(web_sessions.end_all_for), an audit row and the "your password was changed" email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..domain import clock
from ..domain.errors import Invalid, NotFound, Unauthorized
from ..domain.passwords import hash_password, hash_secret, new_secret, verify_password
from ..domain.validation import email_for_lookup
from ..notifications import STAFF_PASSWORD_CHANGED as PASSWORD_CHANGED
from ..notifications import STAFF_PASSWORD_RESET as PASSWORD_RESET
from ..notifications.queue import queue_email
from ..store import staff as staff_rows
from ..store.db import Database, write_transaction
from . import audit, merchant_users, support, web_sessions
from . import sign_in as guarded

# ASVS 5 (V6.2): at least 8 characters, 15 recommended where there is no second factor;
# NIST SP 800-63B: at least 8, allow 64 or more. 12 sits between, for accounts whose second
# factor is optional; 128 is far past any passphrase and keeps a hash request bounded.
MIN_LENGTH = 12
MAX_LENGTH = 128
RESET_LIFETIME = timedelta(hours=1)
DOORS = {"merchant_user": merchant_users.DOOR, "support_user": support.DOOR}
AUDIENCES = {"merchant_user": "merchant", "support_user": "support"}  # blueprint names

TOO_SHORT = "Use at least %(least)s characters."
TOO_LONG = "Use at most %(most)s characters."
IS_EMAIL = "Don't use your email address as your password."
IS_CURRENT = "Choose a password other than the one you have now."
NOT_CURRENT = "That is not your current password."
LINK_DEAD = ("This link has expired or has been used. Ask for a new one: a link works once, "
             "for an hour.")


@dataclass(frozen=True)
class Staff:
    kind: str
    id: int
    email: str
    name: str
    password_hash: str
    must_change_password: bool
    totp_enabled: bool


def _kind(kind: str) -> str:
    if kind not in DOORS:
        raise Invalid(f"Staff are 'merchant_user' or 'support_user', not {kind!r}.")
    return kind


def get_staff(db: Database, kind: str, user_id: int) -> Staff | None:
    """A live (not disabled) staff account."""
    row = staff_rows.live_staff(db, _kind(kind), user_id)
    return Staff(kind, row["id"], row["email"], row["name"], row["password_hash"],
                 bool(row["must_change_password"]), bool(row["totp_enabled"])) if row else None


def merchant_user_principal(db: Database, user_id: int) -> dict | None:
    """What a live merchant user's signed-in session carries (web/auth.py)."""
    return staff_rows.merchant_user_principal(db, user_id)


def support_user_principal(db: Database, user_id: int) -> dict | None:
    """What a live support agent's signed-in session carries (web/auth.py)."""
    return staff_rows.support_user_principal(db, user_id)


def password_problem(password: str, email: str) -> str | None:
    """What is wrong with `password` as a new password, or None. Length only, no composition
    rules (ASVS, NIST): see docs/decisions.md for why there is no common-password list."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT % {"least": MIN_LENGTH}
    if len(password) > MAX_LENGTH:
        return TOO_LONG % {"most": MAX_LENGTH}
    if password.strip().casefold() == email.casefold():
        return IS_EMAIL
    return None


def change_password(db: Database, kind: str, user_id: int, new_password: str, *,
                    current_password: str | None, client: str, keep_session_id: int | None,
                    language: str) -> None:
    """The signed-in user's new password. `current_password` is required unless the account
    must change its one-time password (it was given at this very sign-in); it is checked
    through the guarded sign-in (counted, limited). The new one may not be the old one."""
    staff = get_staff(db, kind, user_id)
    if staff is None:
        raise NotFound("There is no such staff account.")
    if current_password is not None or not staff.must_change_password:
        try:
            guarded.sign_in(db, DOORS[kind], staff.email, current_password or "", client)
        except Unauthorized as exc:
            raise Invalid(NOT_CURRENT, fields={"current_password": NOT_CURRENT}) from exc
    if problem := password_problem(new_password, staff.email):
        raise Invalid(problem, fields={"new_password": problem})
    if verify_password(staff.password_hash, new_password):
        raise Invalid(IS_CURRENT, fields={"new_password": IS_CURRENT})
    password_hash = hash_password(new_password)  # slow on purpose: before the write lock
    with write_transaction(db):
        _set_password(db, staff, password_hash, keep_session_id, language, "changed")


def _set_password(db: Database, staff: Staff, password_hash: str, keep_session_id: int | None,
                  language: str, how: str) -> None:
    """Inside the caller's transaction."""
    now = clock.now_iso()
    staff_rows.set_new_password(db, staff.kind, staff.id, password_hash, now)
    staff_rows.void_resets(db, staff.kind, staff.id, now)
    ended = web_sessions.end_all_for(db, staff.kind, staff.id, except_id=keep_session_id)
    audit.record(db, f"{staff.kind}:{staff.id}", f"{staff.kind}.password_{how}", staff.kind,
                 staff.id, after={"sessions_ended": ended})
    queue_email(db, PASSWORD_CHANGED, f"{PASSWORD_CHANGED}:{staff.kind}:{staff.id}:{now}",
                recipient=staff.email, language=language, **_recipient(staff),
                facts={"audience": AUDIENCES[staff.kind], "how": how})


def _recipient(staff: Staff) -> dict:
    return {f"{staff.kind}_id": staff.id}


def request_reset(db: Database, kind: str, email: str, client: str, language: str) -> None:
    """Email a reset link if `email` is a live account of this kind; the same answer either
    way, and about the same work: one transaction, a few more inserts when the account exists
    (no account enumeration). Requests are limited per address and per account like sign-ins
    (RateLimited). A new link voids the account's older ones."""
    door = DOORS[_kind(kind)]
    email = email_for_lookup(email)
    token = new_secret()
    now = clock.now()

    def send_link(attempt: guarded.Attempt) -> None:
        if attempt.row is None:
            return
        user_id, address = attempt.row["id"], attempt.row["email"]
        staff_rows.void_resets(db, kind, user_id, clock.iso(now))
        reset_id = staff_rows.add_reset(db, {
            "principal_kind": kind, "principal_id": user_id, "token_hash": hash_secret(token),
            "created_at": clock.iso(now), "expires_at": clock.iso(now + RESET_LIFETIME)})
        # The token rides in the email's facts until the worker renders the link: the reset
        # row keeps only its hash.
        queue_email(db, PASSWORD_RESET, f"{PASSWORD_RESET}:{reset_id}", recipient=address,
                    language=language, **{f"{kind}_id": user_id},
                    facts={"audience": AUDIENCES[kind], "token": token,
                           "minutes": int(RESET_LIFETIME.total_seconds() // 60)})
        audit.record(db, "anonymous", f"{kind}.password_reset_requested", kind, user_id)

    guarded.record_attempt(db, door.buckets(email, client, "reset"), door.refuse,
                           lambda db: staff_rows.live_staff_by_email(db, kind, email),
                           then=send_link)


def _live_reset(db: Database, kind: str, token: str | None) -> tuple[int, int] | None:
    if not token or not isinstance(token, str) or len(token) > 100:
        return None
    row = staff_rows.live_reset(db, kind, hash_secret(token), clock.now_iso())
    return (row["id"], row["principal_id"]) if row else None


def reset_link_works(db: Database, kind: str, token: str | None) -> bool:
    """Whether the link may still set a password (opening it uses nothing up)."""
    return _live_reset(db, _kind(kind), token) is not None


def reset_password(db: Database, kind: str, token: str, new_password: str,
                   language: str) -> None:
    """Set a new password through an emailed link: the link is used up in the same transaction
    that sets the password, and every session of the user ends. The second factor stays: the
    next sign-in asks for it as before."""
    found = _live_reset(db, _kind(kind), token)
    staff = get_staff(db, kind, found[1]) if found else None
    if staff is None:
        raise NotFound(LINK_DEAD)
    if problem := password_problem(new_password, staff.email):
        raise Invalid(problem, fields={"new_password": problem})
    password_hash = hash_password(new_password)  # slow on purpose: before the write lock
    with write_transaction(db):
        if not staff_rows.use_reset(db, found[0], clock.now_iso()):
            raise NotFound(LINK_DEAD)
        _set_password(db, staff, password_hash, None, language, "reset")


def force_change(db: Database, kind: str, user_id: int) -> None:
    """Inside the caller's transaction: the account must choose a new password at its next
    sign-in (a one-time password handed over by an operator), and no reset link still works."""
    staff_rows.require_password_change(db, _kind(kind), user_id)
    staff_rows.void_resets(db, kind, user_id, clock.now_iso())
