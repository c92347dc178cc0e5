"""Demo data for the support console: two support users (a big manual payment needs a second
person) and one stuck refund of every kind. Each is made through the services as it happens
today, then its clock is set back, as if the days had passed."""

from __future__ import annotations

from datetime import timedelta

from .domain import clock
from .domain.passwords import hash_password
from .services import decisions, orders, payments, refunds, returns
from .services.orders import Viewer
from .store import outbox
from .store.db import Database, select, write_transaction

SUPPORT_USERS = ("support@example.se", "support2@example.se")
HEMMA = "Hemma Design"
# What each stuck order bought, by price: a Swedish shop's product names.
PRODUCTS = {45900: "Pläd i ull", 24900: "Kuddfodral i linne", 129000: "Golvlampa i mässing",
            69500: "Spegel, rund", 34900: "Vas i stengods", 899500: "Soffa, tresits",
            19900: "Ljusstake i järn"}
# order number -> what is stuck about it (printed by demo.sign_in_help)
STUCK_ORDERS = {
    "581-200-301": "refund waiting 5 days for an account",
    "581-200-302": "payout declined",
    "581-200-303": "payout outcome unknown for 2 hours",
    "581-200-304": "sent 16 days ago, not registered by the merchant",
    "581-200-305": "legal refund deadline in 2 days",
    "581-200-306": "8 995 kr refund, legal deadline passed (needs two people to pay by hand)",
}


def load_support_demo(db: Database, password: str) -> None:
    with write_transaction(db):
        for email in SUPPORT_USERS:
            db["support_user"].insert({"email": email, "password_hash": hash_password(password),
                                       "created_at": clock.now_iso()})
    hemma = db.execute("SELECT id FROM merchant WHERE name = ?", [HEMMA]).fetchone()[0]
    numbers = iter(STUCK_ORDERS)

    waiting = _refund(db, hemma, next(numbers), "Maja Ek", 45900, linked=False)
    _set_back(db, "UPDATE refund SET status_changed_at = ? WHERE id = ?", 5, waiting)

    declined = _refund(db, hemma, next(numbers), "Lars Holm", 24900, linked=True)
    _worker_says(db, declined, "declined", "account_closed")

    unknown = _refund(db, hemma, next(numbers), "Sofia Nyberg", 129000, linked=True)
    _worker_says(db, unknown, "unknown", "ReadTimeout: the provider did not answer")
    _set_back(db, "UPDATE refund SET status_changed_at = ?, unknown_since = ? WHERE id = ?",
              timedelta(hours=2), unknown, times=2)

    unregistered = _sent_return(db, hemma, next(numbers), "Per Sandberg", 69500, paid=False)
    _set_back(db, "UPDATE returns SET sent_at = ? WHERE id = ?", 16, unregistered)
    _set_back(db, "UPDATE returns SET reported_at = ? WHERE id = ?", 17, unregistered)
    _set_back_date(db, "UPDATE returns SET refund_due_by = ? WHERE id = ?", 17 - 14,
                   unregistered)

    near = _sent_return(db, hemma, next(numbers), "Elin Strand", 34900, paid=True)
    _set_back(db, "UPDATE returns SET reported_at = ?, sent_at = ? WHERE id = ?", 12, near,
              times=2)
    _set_back_date(db, "UPDATE returns SET refund_due_by = ? WHERE id = ?", -2, near)

    big = _refund(db, hemma, next(numbers), "Oskar Lund", 899500, linked=False)
    return_id = refunds.get_refund(db, big)["return_id"]
    _set_back(db, "UPDATE returns SET reported_at = ? WHERE id = ?", 16, return_id)
    _set_back_date(db, "UPDATE returns SET refund_due_by = ? WHERE id = ?", 2, return_id)
    _set_back(db, "UPDATE refund SET status_changed_at = ? WHERE id = ?", 4, big)

    # Refunds paid lately, for the dashboard's report-to-refund times.
    for number, days in (("581-200-311", 3), ("581-200-312", 6), ("581-200-313", 17)):
        paid = _refund(db, hemma, number, "Nils Ahl", 19900, linked=True)
        _worker_says(db, paid, "succeeded", "")
        _set_back(db, "UPDATE returns SET reported_at = ? WHERE id = ?", days,
                  refunds.get_refund(db, paid)["return_id"])


def _order(db: Database, merchant_id: int, number: str, name: str, price: int) -> dict:
    now = clock.now()
    email = name.lower().replace(" ", ".") + "@example.se"
    return orders.create_order(db, merchant_id, {
        "merchant_reference": f"HD-S{number[-3:]}",
        "customer": {"email": email, "name": name},
        "currency": "SEK", "payment_method": "invoice",
        "purchased_at": clock.iso(now - timedelta(days=22)),
        "delivered_at": clock.iso(now - timedelta(days=20)),
        "lines": [{"sku": f"HD-{number[-3:]}", "name": PRODUCTS[price], "quantity": 1,
                   "unit_price": price}],
    }, order_number=number)


def _sent_return(db: Database, merchant_id: int, number: str, name: str, price: int,
                 paid: bool) -> int:
    order = _order(db, merchant_id, number, name, price)
    if paid:
        payments.record_transfer(db, order["id"], price, f"OCR {number}", actor="demo")
    viewer = Viewer(order_ids=frozenset({order["id"]}))
    ret = returns.report_return(db, viewer, order["id"], {"items": [
        {"line_id": order["lines"][0]["id"], "quantity": 1, "reason": "changed_mind"}]})
    returns.mark_sent(db, viewer, ret["id"], None)
    return ret["id"]


def _refund(db: Database, merchant_id: int, number: str, name: str, price: int,
            linked: bool) -> int:
    """An invoice paid by hand, its item returned and accepted: one refund of `price`."""
    return_id = _sent_return(db, merchant_id, number, name, price, paid=True)
    order_id = db["returns"].get(return_id)["order_id"]
    if linked:
        db.execute(
            "UPDATE customer SET bank_account_json = ?, bank_account_masked = ? WHERE id ="
            " (SELECT customer_id FROM orders WHERE id = ?)",
            ['{"type": "bank_account", "clearing_number": "83279", "account_number":'
             ' "1234567897", "bank": "Swedbank"}', "Swedbank 8327-9, account ••••7897",
             order_id])
    ret = db["returns"].get(return_id)
    items = [{"return_item_id": row[0], "accepted_quantity": 1} for row in db.execute(
        "SELECT id FROM return_item WHERE return_id = ?", [ret["id"]])]
    decisions.register(db, merchant_id, ret["id"], {"items": items}, actor="demo")
    return refunds.refunds_of_order(db, order_id)[0]["id"]


def _worker_says(db: Database, refund_id: int, outcome: str, detail: str) -> None:
    """What the worker would have recorded; its delivery is over, so it won't run again."""
    with write_transaction(db):
        refunds.start_sending(db, refund_id)
        refunds.record_outcome(db, refund_id, outcome, None, detail)
        for row in select(db, "SELECT * FROM outbox WHERE kind = 'payout' AND subject_id = ?"
                          " AND status = 'pending'", [refund_id]):
            outbox.complete(db, row)


def _set_back(db: Database, sql: str, ago, row_id: int, times: int = 1) -> None:
    moment = clock.iso(clock.now() - (ago if isinstance(ago, timedelta) else
                                      timedelta(days=ago)))
    db.execute(sql, [*([moment] * times), row_id])


def _set_back_date(db: Database, sql: str, days_ago: int, row_id: int) -> None:
    db.execute(sql, [(clock.today() - timedelta(days=days_ago)).isoformat(), row_id])
