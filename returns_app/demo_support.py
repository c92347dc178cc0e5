"""Demo data for the support console: two support users (a big manual payment needs a second
person) and one stuck refund of every kind. Each is made through the services as it happens
today, then its clock is set back, as if the days had passed."""

from __future__ import annotations

from datetime import timedelta

from .domain import clock
from .domain.passwords import hash_password
from .services import decisions, orders, payments, refunds, returns
from .services.orders import Viewer
from .store import customers as customer_rows
from .store import demo_data, outbox
from .store import merchants as merchant_rows
from .store import refunds as refund_rows
from .store import returns as return_rows
from .store import staff as staff_rows
from .store.db import Database, write_transaction

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
            staff_rows.add_support_user(db, email, hash_password(password), clock.now_iso(),
                                        must_change_password=False)
    hemma = merchant_rows.merchant_id_by_name(db, HEMMA)
    numbers = iter(STUCK_ORDERS)

    waiting = _refund(db, hemma, next(numbers), "Maja Ek", 45900, linked=False)
    demo_data.set_refund_times(db, waiting, status_changed_at=_ago(5))

    declined = _refund(db, hemma, next(numbers), "Lars Holm", 24900, linked=True)
    _worker_says(db, declined, "declined", "account_closed")

    unknown = _refund(db, hemma, next(numbers), "Sofia Nyberg", 129000, linked=True)
    _worker_says(db, unknown, "unknown", "ReadTimeout: the provider did not answer")
    two_hours_ago = _ago(timedelta(hours=2))
    demo_data.set_refund_times(db, unknown, status_changed_at=two_hours_ago,
                               unknown_since=two_hours_ago)

    unregistered = _sent_return(db, hemma, next(numbers), "Per Sandberg", 69500, paid=False)
    demo_data.set_return_times(db, unregistered, sent_at=_ago(16))
    demo_data.set_return_times(db, unregistered, reported_at=_ago(17))
    demo_data.set_return_times(db, unregistered, refund_due_by=_day_ago(17 - 14))

    near = _sent_return(db, hemma, next(numbers), "Elin Strand", 34900, paid=True)
    demo_data.set_return_times(db, near, reported_at=_ago(12), sent_at=_ago(12))
    demo_data.set_return_times(db, near, refund_due_by=_day_ago(-2))

    big = _refund(db, hemma, next(numbers), "Oskar Lund", 899500, linked=False)
    return_id = refunds.get_refund(db, big)["return_id"]
    demo_data.set_return_times(db, return_id, reported_at=_ago(16))
    demo_data.set_return_times(db, return_id, refund_due_by=_day_ago(2))
    demo_data.set_refund_times(db, big, status_changed_at=_ago(4))

    # Refunds paid lately, for the dashboard's report-to-refund times.
    for number, days in (("581-200-311", 3), ("581-200-312", 6), ("581-200-313", 17)):
        paid = _refund(db, hemma, number, "Nils Ahl", 19900, linked=True)
        _worker_says(db, paid, "succeeded", "")
        demo_data.set_return_times(db, refunds.get_refund(db, paid)["return_id"],
                                   reported_at=_ago(days))


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
    order_id = return_rows.return_row(db, return_id)["order_id"]
    if linked:
        customer_rows.set_bank_account_of_order(
            db, order_id,
            '{"type": "bank_account", "clearing_number": "83279", "account_number":'
            ' "1234567897", "bank": "Swedbank"}', "Swedbank 8327-9, account ••••7897")
    items = [{"return_item_id": item_id, "accepted_quantity": 1}
             for item_id in return_rows.item_ids(db, return_id)]
    decisions.register(db, merchant_id, return_id, {"items": items}, actor="demo")
    return refunds.refunds_of_order(db, order_id)[0]["id"]


def _worker_says(db: Database, refund_id: int, outcome: str, detail: str) -> None:
    """What the worker would have recorded; its delivery is over, so it won't run again."""
    with write_transaction(db):
        refunds.start_sending(db, refund_id)
        refunds.record_outcome(db, refund_id, outcome, None, detail)
        for row in refund_rows.pending_payouts(db, refund_id):
            outbox.complete(db, row)


def _ago(ago) -> str:
    """The moment `ago` (days, or a timedelta) before now."""
    return clock.iso(clock.now() - (ago if isinstance(ago, timedelta) else timedelta(days=ago)))


def _day_ago(days: int) -> str:
    return (clock.today() - timedelta(days=days)).isoformat()
