"""A world where every page and every email has something to say: the demo data (`make run`'s)
plus what the demo lacks — a card payment and a refund to that card, a partial decision with a
rejected item, refunds paid out by Swish and to an IBAN, a payment under way, a scheduled and a
declined debit, a support request to change a refund's account, a failing webhook, and one
email of every kind. Used by tests/test_i18n_rendered_swedish.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from returns_app.demo import load_demo
from returns_app.domain import clock
from returns_app.domain.payout_details import parse_payout_details
from returns_app.notifications import SEND_RETURN_REMINDER
from returns_app.notifications.preferences import request_new_link
from returns_app.notifications.queue import queue_customer_email
from returns_app.notifications.reminders import remind_of_invoice_now
from returns_app.provider.client import Checkout, CheckoutStatus
from returns_app.services import (
    decisions,
    due_date_debits,
    links,
    orders,
    payments,
    refunds,
    returns,
    staff_credentials,
    support_actions,
    webhook_endpoints,
)
from returns_app.services.orders import Viewer
from returns_app.store.db import write_transaction
from returns_app.webhooks import health
from tests.support_helpers import TOTP_SECRET


class PaidCards:
    """The card provider as far as these pages need it: every checkout is paid with •••• 4242,
    except the ones named in `open_ones`, which the customer left on the provider's page, and
    in `cancelled_ones`, which the customer cancelled there."""

    def __init__(self) -> None:
        self.open_ones: set[str] = set()
        self.cancelled_ones: set[str] = set()

    def create_checkout(self, idempotency_key, amount, currency, reference, return_url,
                        cancel_url) -> Checkout:
        return Checkout(id=f"cs_{idempotency_key}", url=f"https://cards.example/{reference}")

    def get_checkout(self, session_id: str) -> CheckoutStatus:
        status = "open" if session_id in self.open_ones else \
            "cancelled" if session_id in self.cancelled_ones else "paid"
        return CheckoutStatus(id=session_id, status=status, amount=0, currency="SEK",
                              reference="", payment_id=f"pay_{session_id}", card_last4="4242")


URLS = payments.ReturnUrls(paid="https://returns.example/paid",
                           cancelled="https://returns.example/cancelled")


@dataclass
class World:
    customer_ids: dict[str, int]          # anna, erik, ...: every customer with an order
    merchant_user_ids: list[int]
    support_user_ids: list[int]
    order_ids: dict[int, list[int]]       # customer id -> that customer's orders
    refund_id: int                        # one waiting for payout details (its link page)
    approval_id: int                      # a change of account the customer may object to


def _new_order(db, merchant_id: int, customer: str, number: str, method: str,
               lines: list[tuple[str, str, int, int]]) -> dict:
    name = {"anna": "Anna Svensson", "erik": "Erik Lind"}[customer]
    email = {"anna": "anna.svensson@example.se", "erik": "erik.lind@example.se"}[customer]
    now = clock.now()
    return orders.create_order(db, merchant_id, {
        "merchant_reference": f"SW-{number}", "currency": "SEK", "payment_method": method,
        "customer": {"email": email, "name": name},
        "purchased_at": clock.iso(now - timedelta(days=6)),
        "delivered_at": clock.iso(now - timedelta(days=4)),
        "lines": [{"sku": s, "name": n, "quantity": q, "unit_price": p} for s, n, q, p in lines],
    }, order_number=number)


def _paid_by_card(db, provider: PaidCards, order: dict, amount: int, key: str) -> dict:
    viewer = Viewer(order_ids=frozenset({order["id"]}))
    body = payments.pay(db, provider, viewer, order["id"], {"amount": amount, "method": "card"},
                        key, URLS).body
    payment = payments.get_payment(db, body["id"])
    return payments.confirm_checkout(db, provider, payment["provider_ref"])


def _report(db, order: dict, items: list[tuple[int, int, str]], sent: bool = True) -> dict:
    viewer = Viewer(order_ids=frozenset({order["id"]}))
    ret = returns.report_return(db, viewer, order["id"], {"items": [
        {"line_id": order["lines"][i]["id"], "quantity": q, "reason": reason}
        for i, q, reason in items]})
    if sent:
        returns.mark_sent(db, viewer, ret["id"], "JJSE0099887766")
    return ret


def _decide(db, merchant_id: int, ret: dict, *rows: tuple[int, int, int]) -> None:
    decisions.register(db, merchant_id, ret["id"], {"items": [
        {"return_item_id": ret["items"][i]["id"], "accepted_quantity": accepted,
         "rejected_quantity": rejected,
         **({"reason": "Använd och tvättad"} if rejected else {})}
        for i, accepted, rejected in rows]}, actor="test")


def _refund_of(db, order: dict) -> dict:
    return refunds.refunds_of_order(db, order["id"])[-1]


# The demo's product names are English (the browser tests find items by them): here they are
# what a Swedish shop calls them, so that any English left on a page is the app's own.
SWEDISH_PRODUCTS = {
    "Straight jeans, blue, W32": "Raka jeans, blå, W32",
    "Organic T-shirt, white, M": "T-shirt i ekologisk bomull, vit, M",
    "Cotton briefs, 3-pack": "Kalsonger i bomull, 3-pack",
    "Wireless headphones WL-200": "Trådlösa hörlurar WL-200",
    "Oak table lamp": "Bordslampa i ek",
    "Linen cushion cover, green": "Kuddfodral i linne, grönt",
    "Rain jacket, navy, L": "Regnjacka, marinblå, L",
    "Wool socks, size 42": "Ullstrumpor, storlek 42",
    "Mechanical keyboard, Swedish layout": "Mekaniskt tangentbord, svensk layout",
    "Gift card 500 kr": "Presentkort 500 kr",
    "Merino sweater, grey, L": "Merinotröja, grå, L",
    "Wool scarf, red": "Ullhalsduk, röd",
}


def build(app, db) -> World:
    with app.app_context():
        load_demo(db)
    for english, swedish in SWEDISH_PRODUCTS.items():
        db.execute("UPDATE order_line SET name = ? WHERE name = ?", [swedish, english])
    merchant = {name: row_id for row_id, name in db.execute("SELECT id, name FROM merchant")}
    nordic, hemma = merchant["Nordic Outfitters"], merchant["Hemma Design"]
    customer = {email.split(".")[0]: row_id for row_id, email in db.execute(
        "SELECT id, email FROM customer")}
    support_user_ids = [row[0] for row in db.execute("SELECT id FROM support_user")]
    agent = support_user_ids[0]
    cards = PaidCards()

    # Paid by card, three items back: one accepted (refunded to the card), one rejected (due
    # again), one still waiting for the shop.
    card = _new_order(db, nordic, "anna", "600-100-001", "invoice", [
        ("KNIT-M", "Ulltröja, grön, M", 1, 89900), ("SKIRT-38", "Kjol, svart, 38", 1, 59900),
        ("CAP-1", "Mössa, röd", 1, 19900)])
    _paid_by_card(db, cards, card, 169700, "card-1")
    ret = _report(db, card, [(0, 1, "too_large"), (1, 1, "too_small"), (2, 1, "changed_mind")])
    _decide(db, nordic, ret, (0, 1, 0), (1, 0, 1))

    # Two refunds the customer sent somewhere herself: one by Swish, one to an IBAN.
    for number, details in (("600-100-002", {"swish_number": "070-123 45 67"}),
                            ("600-100-003", {"iban": "SE45 5000 0000 0583 9825 7466"})):
        order = _new_order(db, nordic, "anna", number, "invoice", [
            ("JKT-S", "Regnjacka, gul, S", 1, 99900)])
        payments.record_transfer(db, order["id"], 99900, f"OCR {number}", actor="test")
        _decide(db, nordic, _report(db, order, [(0, 1, "wrong_item")]), (0, 1, 0))
        refunds.set_destination(db, _refund_of(db, order)["id"], parse_payout_details(details),
                                actor="customer")

    # A refund still waiting for details (its link page), and a payment left on the card page.
    waiting = _new_order(db, hemma, "anna", "600-100-004", "invoice", [
        ("VASE-1", "Vas i glas", 1, 34900), ("PLATE-2", "Tallrik", 2, 12900)])
    payments.record_transfer(db, waiting["id"], 60700, "OCR 600-100-004", actor="test")
    _decide(db, hemma, _report(db, waiting, [(0, 1, "damaged")]), (0, 1, 0))
    refund_id = _refund_of(db, waiting)["id"]
    cards.open_ones.add("cs_open-1")
    cards.cancelled_ones.add("cs_cancelled-1")
    overdue = db.execute("SELECT id FROM orders WHERE order_number = '733-204-118'").fetchone()[0]
    payments.pay(db, cards, Viewer(order_ids=frozenset({overdue})), overdue,
                 {"amount": 1000, "method": "card"}, "open-1", URLS)
    left = _new_order(db, hemma, "anna", "600-100-009", "invoice", [("MUG-1", "Mugg", 1, 14900)])
    _paid_by_card(db, cards, left, 14900, "cancelled-1")
    request_new_link(db, links.PAYOUT_DETAILS, refund_id, "anna.svensson@example.se", "test")

    # Erik: an invoice paid on its due date from his linked account, and one the bank declined.
    erik_viewer = Viewer(customer_id=customer["erik"])
    scheduled = _new_order(db, nordic, "erik", "600-100-005", "invoice", [
        ("SOCK-3", "Strumpor, 3-pack", 1, 17900)])
    due_date_debits.schedule_invoice(db, erik_viewer, scheduled["id"])
    declined = _new_order(db, nordic, "erik", "600-100-006", "invoice", [
        ("BELT-1", "Skärp i läder", 1, 49900)])
    payment = due_date_debits.schedule_invoice(db, erik_viewer, declined["id"])
    with write_transaction(db):
        payments.record_debit(db, payment["id"], 49900, "declined", None,
                              payments.INSUFFICIENT_FUNDS)
    remind_of_invoice_now(db, declined["id"])
    # ...and two that failed for good: too little money three times, and a closed account.
    for number, tries in (("600-100-007", payments.DEBIT_TRIES), ("600-100-008", 0)):
        order = _new_order(db, nordic, "erik", number, "invoice", [
            ("HAT-1", "Hatt i filt", 1, 39900)])
        payment = due_date_debits.schedule_invoice(db, erik_viewer, order["id"])
        with write_transaction(db):
            for _ in range(tries):
                payments.record_debit(db, payment["id"], 39900, "declined", None,
                                      payments.INSUFFICIENT_FUNDS)
            if not tries:
                payments.record_debit(db, payment["id"], 39900, "declined", None,
                                      "account_closed")

    # Support: a new account asked for the refund waiting for details (the customer's email
    # and objection page), and the shop reminded of a return it hasn't registered.
    change = support_actions.change_destination(
        db, refund_id, parse_payout_details({"clearing_number": "8327-9",
                                             "account_number": "1234567897"}),
        "Kunden ringde och bekräftade kontot", agent, "Kunden bad om det i telefon")
    unregistered = db.execute(
        "SELECT returns.id FROM returns JOIN orders ON orders.id = returns.order_id"
        " WHERE orders.order_number = '581-200-304'").fetchone()[0]
    support_actions.remind_merchant(db, unregistered, agent, "Väntat i 16 dagar")

    # A reminder to send a return (the reminder scan's email) and a failing webhook endpoint.
    open_return = db.execute("SELECT id, order_id, send_by FROM returns WHERE status ="
                             " 'reported' ORDER BY id LIMIT 1").fetchone()
    with write_transaction(db):
        queue_customer_email(db, SEND_RETURN_REMINDER, "sw-reminder",
                             orders.get_order(db, open_return[1]), return_id=open_return[0],
                             facts={"return_ids": [open_return[0]], "send_by": open_return[2]})
        endpoint, _secret = webhook_endpoints.add(db, hemma, "https://hemma.example/hooks",
                                                  ["return.registered"], "test")
        health.exhausted(db, endpoint["id"])

    # Staff credentials: a merchant user's one-time password changed (the "password changed"
    # email), and a support agent who forgot hers (the reset link email).
    staff = db.execute("SELECT id FROM merchant_user ORDER BY id DESC LIMIT 1").fetchone()[0]
    with write_transaction(db):
        staff_credentials.force_change(db, "merchant_user", staff)
    staff_credentials.change_password(db, "merchant_user", staff, "ett nytt långt lösenord",
                                      current_password=None, client="203.0.113.9",
                                      keep_session_id=None, language="sv")
    agent_email = db.execute("SELECT email FROM support_user WHERE id = ?", [agent]).fetchone()[0]
    staff_credentials.request_reset(db, "support_user", agent_email, "203.0.113.9", "sv")
    # Support agents must have a second factor before the console opens (demo agents enrol at
    # their first sign-in): these have.
    db.execute("UPDATE support_user SET totp_secret = ?, totp_enabled_at = ?",
               [TOTP_SECRET, clock.now_iso()])

    order_ids: dict[int, list[int]] = {}
    for order_id, customer_id in db.execute("SELECT id, customer_id FROM orders ORDER BY id"):
        order_ids.setdefault(customer_id, []).append(order_id)
    return World(
        customer_ids={**customer, **{f"customer {c}": c for c in order_ids}},
        merchant_user_ids=[row[0] for row in db.execute("SELECT id FROM merchant_user")],
        support_user_ids=support_user_ids, order_ids=order_ids, refund_id=refund_id,
        approval_id=change["approval_id"])


def ids(db, sql: str) -> list[int]:
    return [row[0] for row in db.execute(sql)]


def event(action: str, subject_id: int, after: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(action=action, subject_id=subject_id, id=0, after=after or {})
