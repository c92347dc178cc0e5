"""Helpers for the support console's tests: support users, signed-in sessions of each role, and
refunds in each state the stuck queue knows."""

from __future__ import annotations

from flask import g, has_app_context
from werkzeug.security import generate_password_hash

from returns_app import clock
from returns_app.services import payments, refunds, returns
from tests.builders import decide, make_order, make_return, viewer_for
from tests.session_helpers import session_keys

PASSWORD = "agent-password"  # noqa: S105  (test data)


def make_support_user(db, email: str = "agent@example.se", password: str = PASSWORD) -> int:
    # A cheap hash: the app's scrypt parameters would cost 128 MiB and a noticeable pause each.
    return db["support_user"].insert({
        "email": email, "password_hash": generate_password_hash(password, "pbkdf2:sha256:1000"),
        "created_at": clock.now_iso()}).last_pk


def make_merchant_user(db, merchant_id: int, email: str = "shop@example.se") -> int:
    return db["merchant_user"].insert({
        "merchant_id": merchant_id, "email": email, "name": "Shop Staff",
        "password_hash": generate_password_hash("x", "pbkdf2:sha256:1000"),
        "created_at": clock.now_iso()}).last_pk


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
