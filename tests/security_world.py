"""Someone of every kind, objects for them to ask about, and the app's routes as URLs: for the
security tests that crawl app.url_map, so routes added later are covered by themselves."""

from __future__ import annotations

from flask import url_for

from returns_app.domain import clock
from returns_app.domain.passwords import hash_password
from returns_app.services import links, payments, support
from returns_app.store import heartbeat
from returns_app.store.db import insert, select
from tests.builders import decide, make_merchant, make_order, make_return
from tests.session_helpers import session_keys
from tests.support_helpers import TOTP_SECRET


def build_world(app, db) -> dict:
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"])
    payments.record_transfer(db, order["id"], 149700, "OCR-1", actor="test")
    decide(db, merchant["id"], make_return(db, order, {1: 1}), (0, 1, 0))  # a refund owed
    ret = make_return(db, order, {0: 1})
    (refund,) = select(db, "SELECT * FROM refund WHERE order_id = ?", [order["id"]])
    merchant_user = insert(db, "merchant_user", {
        "merchant_id": merchant["id"], "email": "staff@shop.example", "name": "Sam Staff",
        "password_hash": hash_password("pw-123456789"), "created_at": clock.now_iso(),
        "language": "en"})
    support_user, _ = support.create_support_user(db, "agent@example.se")
    # Past its first sign-in (own password, second factor set up): the crawls see the console's
    # pages, not only the step that comes before them.
    db.execute("UPDATE support_user SET must_change_password = 0, totp_secret = ? WHERE id = ?",
               [TOTP_SECRET, support_user["id"]])
    # A worker is running, as in production: /readyz answers 200, not the 503 it owes when none is.
    heartbeat.beat(db, "security-world", clock.now())
    return {
        "order": order, "return": ret, "refund": refund,
        "principals": {
            "anonymous": None,
            "customer": f"customer:{order['customer_id']}",
            "merchant user": f"merchant_user:{merchant_user}",
            "support user": f"support_user:{support_user['id']}",
        },
        # Every URL parameter a route may have. A route with another one fails the crawl
        # until a value for it is added here.
        "parameters": {
            "order_id": order["id"], "return_id": ret["id"], "refund_id": refund["id"],
            "token": links.make_token(app.secret_key, links.PAYOUT_DETAILS, refund["id"]),
            # Objects this world has none of (no webhook set up, no approval asked): their
            # routes answer 404 after the sign-in and CSRF checks, which the crawls look at.
            "message_id": 1, "approval_id": 1, "bank_payment_id": 1,
            "payment_id": db.execute("SELECT max(id) FROM payment").fetchone()[0],
            "key_id": db.execute("SELECT max(id) FROM merchant_api_key").fetchone()[0],
            "notification_id": db.execute(
                "SELECT coalesce(max(id), 1) FROM notification").fetchone()[0],
        },
    }


def route_urls(app, methods: set[str], parameters: dict,
               skip_prefixes: tuple[str, ...] = ("/api/", "/static/")) -> list[tuple[str, str]]:
    """(method, URL) of every route answering one of `methods`, its parameters filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(skip_prefixes):
            continue
        unknown = rule.arguments - parameters.keys()
        assert not unknown, (f"{rule.rule}: can't fill {sorted(unknown)}: add a value to the "
                             "parameters in tests/security_world.py")
        with app.test_request_context():
            url = url_for(rule.endpoint, **{k: parameters[k] for k in rule.arguments})
        found += [(method, url) for method in sorted(rule.methods & methods)]
    return found


def sign_in_as(client, principal: str | None, order_id: int) -> None:
    """Flask-Login's session for `principal` ("kind:id"); a customer also has the order open."""
    with client.session_transaction() as session:
        session.clear()
        if principal:
            session.update(session_keys(client.application, principal))
            if principal.startswith("customer:"):
                session["order_ids"] = [order_id]
