"""The staff second factor: TOTP (RFC 6238, pyotp) with single-use recovery codes, for
merchant users (optional) and support agents (required) alike.

- Enrolling: a secret waits in `totp_pending_secret` until the user proves their app has it
  with a current code; then it becomes `totp_secret` and ten recovery codes are made, shown
  once and kept as SHA-256 (each carries 80 random bits, so a fast hash is enough, as for API
  keys).
- Checking a code: counted in the guarded sign-in's limits before it is checked
  (services/sign_in.py; codes have their own per-account bucket, so a right password doesn't
  hand a guesser five new tries), accepted one step either side of now (valid_window=1), and
  never twice: the step of the last accepted code is kept and a code must be of a later step
  (compare-and-set, so two parallel uses of one code can't both win). A recovery code is used
  up by the same kind of compare-and-set.
"""

from __future__ import annotations

import secrets

import pyotp

from ..domain import clock
from ..domain.errors import Forbidden, Invalid, Unauthorized
from ..domain.passwords import hash_secret
from ..store import staff as staff_rows
from ..store.db import Database, lock_rows, write_transaction
from . import audit
from . import sign_in as guarded
from .staff_credentials import DOORS, get_staff

ISSUER = "Returns assistant"
RECOVERY_CODES = 10
VALID_WINDOW = 1  # one 30-second step either side: a phone's clock a little off still works
WRONG_CODE = "That code isn't right. Enter the 6 digits your app shows now, or a recovery code."
WRONG_ENROLMENT_CODE = ("That code isn't right. Check that the app shows this account, and "
                        "enter the 6 digits it shows now.")
REQUIRED = "Support staff must use a second factor: it can't be turned off."
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def _normalized(code: str | None) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _steps_around(totp: pyotp.TOTP) -> list[int]:
    now_step = totp.timecode(clock.now())
    return [now_step + offset for offset in range(-VALID_WINDOW, VALID_WINDOW + 1)]


def _matching_step(secret: str, code: str) -> int | None:
    """The time step `code` belongs to, within the window; None if none."""
    totp = pyotp.TOTP(secret)
    for step in _steps_around(totp):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def pending_secret(db: Database, kind: str, user_id: int) -> str:
    """The secret being enrolled (made now if none waits): the same one on every view of the
    enrolment page until confirmed, so a reload doesn't orphan what the app scanned."""
    with write_transaction(db):
        lock_rows(db, kind, user_id)
        if waiting := staff_rows.pending_totp_secret(db, kind, user_id):
            return waiting
        secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
        staff_rows.set_pending_totp_secret(db, kind, user_id, secret)
    return secret


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address the QR code carries."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def _new_recovery_codes(db: Database, kind: str, user_id: int) -> list[str]:
    """Inside the caller's transaction: ten new codes; the old ones stop working."""
    staff_rows.delete_recovery_codes(db, kind, user_id)
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))  # ~79 bits
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
        staff_rows.add_recovery_code(db, kind, user_id, hash_secret(raw), clock.now_iso())
    return codes


def confirm_enrolment(db: Database, kind: str, user_id: int, code: str) -> list[str]:
    """Turn the pending secret on if `code` is a current code of it; the recovery codes, shown
    this once."""
    code = _normalized(code)
    with write_transaction(db):
        lock_rows(db, kind, user_id)
        secret = staff_rows.pending_totp_secret(db, kind, user_id)
        step = _matching_step(secret, code) if secret and len(code) == 6 else None
        if step is None:
            raise Invalid(WRONG_ENROLMENT_CODE, fields={"code": WRONG_ENROLMENT_CODE})
        staff_rows.enable_totp(db, kind, user_id, clock.now_iso(), step)
        codes = _new_recovery_codes(db, kind, user_id)
        audit.record(db, f"{kind}:{user_id}", f"{kind}.second_factor_enabled", kind, user_id)
    return codes


def verify(db: Database, kind: str, user_id: int, code: str, client: str) -> str:
    """Accept a current TOTP code (once) or an unused recovery code (used up now): "totp" or
    "recovery". Unauthorized if neither; RateLimited after too many wrong codes, before any
    check."""
    staff = get_staff(db, kind, user_id)
    if staff is None:
        raise Unauthorized(WRONG_CODE)
    door = DOORS[kind]
    code = _normalized(code)

    def use_code(row: dict | None) -> str | None:
        secret = row["totp_secret"] if row else None
        if secret and len(code) == 6 and code.isdigit():
            step = _matching_step(secret, code)
            if step is not None and staff_rows.use_totp_step(db, kind, user_id, step):
                return "totp"
        elif secret and len(code) == 16:
            with write_transaction(db):
                if staff_rows.use_recovery_code(db, kind, user_id, hash_secret(code),
                                                clock.now_iso()):
                    audit.record(db, f"{kind}:{user_id}", f"{kind}.recovery_code_used", kind,
                                 user_id, after={"left": recovery_codes_left(db, kind, user_id)})
                    return "recovery"
        return None

    return guarded.guarded_check(
        db, door.buckets(staff.email.casefold(), client, "code"), door.refuse,
        lambda db: staff_rows.live_totp_secret(db, kind, user_id), use_code, WRONG_CODE)


def recovery_codes_left(db: Database, kind: str, user_id: int) -> int:
    return staff_rows.recovery_codes_left(db, kind, user_id)


def _checked(db: Database, kind: str, user_id: int, code: str, client: str) -> None:
    try:
        verify(db, kind, user_id, code, client)
    except Unauthorized as exc:
        raise Invalid(exc.message, fields={"code": exc.message}) from exc


def regenerate_recovery_codes(db: Database, kind: str, user_id: int, code: str,
                              client: str) -> list[str]:
    """Ten new recovery codes (the old ones stop working), against a current code."""
    _checked(db, kind, user_id, code, client)
    with write_transaction(db):
        lock_rows(db, kind, user_id)  # two renewals at once must not leave twenty codes
        codes = _new_recovery_codes(db, kind, user_id)
        audit.record(db, f"{kind}:{user_id}", f"{kind}.recovery_codes_renewed", kind, user_id)
    return codes


def disable(db: Database, kind: str, user_id: int, code: str, client: str) -> None:
    """Turn the second factor off (merchant users only), against a current code."""
    if kind == "support_user":
        raise Forbidden(REQUIRED)
    _checked(db, kind, user_id, code, client)
    with write_transaction(db):
        remove(db, kind, user_id)
        audit.record(db, f"{kind}:{user_id}", f"{kind}.second_factor_disabled", kind, user_id)


def remove(db: Database, kind: str, user_id: int) -> None:
    """Inside the caller's transaction: no second factor, no recovery codes (an operator's
    reset for a lost phone; a support agent then enrols again at the next sign-in)."""
    staff_rows.remove_totp(db, kind, user_id)
    staff_rows.delete_recovery_codes(db, kind, user_id)
