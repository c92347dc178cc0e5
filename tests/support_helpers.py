"""Helpers for the support console's tests: support users, signed-in sessions of each role, and
refunds in each state the stuck queue knows."""

from __future__ import annotations

import pyotp
from flask import g, has_app_context
from werkzeug.security import generate_password_hash

from returns_app.domain import clock
from returns_app.services import payments, refunds, returns
from returns_app.store.db import insert
from returns_app.web.database_session import get_db
from tests.builders import decide, make_order, make_return, viewer_for
from tests.session_helpers import session_keys

PASSWORD = "agent-password"  # noqa: S105  (test data)
# Support agents must have a second factor: the test agents have this one (test data).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105


def make_support_user(db, email: str = "agent@example.se", password: str = PASSWORD,
                      second_factor: bool = True) -> int:
    # A cheap hash: the app's scrypt parameters would cost 128 MiB and a noticeable pause each.
    return insert(db, "support_user", {
        "email": email, "password_hash": generate_password_hash(password, "pbkdf2:sha256:1000"),
        "created_at": clock.now_iso(),
        "totp_secret": TOTP_SECRET if second_factor else None,
        "totp_enabled_at": clock.now_iso() if second_factor else None})


def next_code(db, kind: str, user_id: int) -> str:
    """A code the app accepts now for the account: the oldest step in its window not used yet
    (a code is accepted once, so a test that signs in twice gets two different ones)."""
    secret, last_step = db.execute(f"SELECT totp_secret, totp_last_step FROM {kind}"  # noqa: S608
                                   " WHERE id = ?", [user_id]).fetchone()
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(clock.now())
    step = max(now_step - 1, (last_step or 0) + 1)
    assert step <= now_step + 1, "every code of this window is used: move the clock on"
    return totp.generate_otp(step)


def pass_code_step(client, response, db=None):
    """After a sign-in POST: if it asks for the second factor, give the next code; the answer
    to whichever came last."""
    location = response.headers.get("Location", "") if response.status_code == 302 else ""
    if not location.endswith("/signin/code"):
        return response
    db = db or get_db()
    kind = "support_user" if location.startswith("/support/") else "merchant_user"
    with client.session_transaction() as session:
        user_id = session["staff_code_pending"]["id"]
    return client.post(location, data={"code": next_code(db, kind, user_id)})


def make_merchant_user(db, merchant_id: int, email: str = "shop@example.se") -> int:
    return insert(db, "merchant_user", {
        "merchant_id": merchant_id, "email": email, "name": "Shop Staff",
        "password_hash": generate_password_hash("x", "pbkdf2:sha256:1000"),
        "created_at": clock.now_iso()})


def sign_in_as(client, principal: str | None) -> None:
    """Put `principal` ("support_user:1", "customer:1", ...) in the client's session, as
    Flask-Login would after signing in; None signs out."""
    # pytest-flask keeps one app context for the whole test, and Flask-Login caches the user
    # of the request in its `g`: forget it, so the next request loads the new one.
    if has_app_context():
        g.pop("_login_user", None)
    with client.session_transaction() as session:
        session.clear()
        if principal:
            session.update(session_keys(client.application, principal))


def paid_order_with_return(db, merchant_id: int, sent: bool = True, **overrides) -> tuple:
    """An invoice order paid in full by transfer, with one shirt (299 kr) reported for return
    and, if `sent`, marked as sent. Returns (order, return)."""
    order = make_order(db, merchant_id, **overrides)
    total = order["amounts"].total
    payments.record_transfer(db, order["id"], total, f"OCR {order['id']}", actor="test")
    ret = make_return(db, order)
    if sent:
        returns.mark_sent(db, viewer_for(order), ret["id"], None)
    return order, ret


def refund_needing_details(db, merchant_id: int, **overrides) -> dict:
    """A refund of 299 kr waiting for the customer to choose an account (none on file)."""
    order, ret = paid_order_with_return(db, merchant_id, **overrides)
    decide(db, merchant_id, ret, (0, 1, 0))
    (refund,) = refunds.refunds_of_order(db, order["id"])
    return refund
