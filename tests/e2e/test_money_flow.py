"""Money in a phone browser without JavaScript: choosing where a waiting refund goes, and paying
for the kept items by card on the sandbox provider's page. Both run against `python run.py`,
which also runs the worker and the sandbox provider, so the refund really leaves.

Tests share one server and database, so none depends on another having run:
- refund flow:   demo order 371-526-804 (Anna's refund waiting for an account); the only test
                 to change that order
- card flow:     an order of its own (`make_order`)
- accessibility: orders of its own; the expired-link page from the same app code on a small
                 server of its own (the e2e server's secret key is not exposed, and an expired
                 link has to be signed with it)
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import Page, expect

from .accessibility import AxeAudit
from .conftest import PHONE
from .test_customer_flow import ANNA, choose, find_order, money_row, ore

REFUND_SENT_WITHIN = 30.0  # seconds: the worker runs a round every 2 s
TEST_CARD = "4242 4242 4242 4242"
JEANS = "Straight jeans, blue, W32"


# --- helpers -----------------------------------------------------------------------------------

def card_expiry() -> str:
    from returns_app.domain import clock

    return f"12/{(clock.today().year + 3) % 100:02d}"


def refund_item(page: Page):
    return page.get_by_role("region", name="Your refunds").locator("li.refund")


def wait_until_refund_sent(page: Page, order_url: str) -> None:
    """Reload the order page (as a customer would) until the refund shows as Sent; bounded."""
    deadline = time.monotonic() + REFUND_SENT_WITHIN
    while True:
        page.goto(order_url)
        badge = refund_item(page).locator(".badge")
        if badge.inner_text().strip() == "Sent":
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the refund still shows {badge.inner_text()!r} after "
                        f"{REFUND_SENT_WITHIN:.0f} s")
        page.wait_for_timeout(500)


def pay_on_sandbox_page(page: Page, card: str = TEST_CARD, expiry: str | None = None,
                        cvc: str = "123") -> None:
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry date").fill(expiry or card_expiry())
    page.get_by_label("Security code (CVC)").fill(cvc)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


@pytest.fixture
def server_db(server_database):
    from returns_app.store.db import connect

    db = connect(server_database)
    yield db
    db.close()


@pytest.fixture
def refund_waiting(make_order, server_db):
    """`refund_waiting()` -> an order of its own whose invoice was paid in full by hand, with the
    jeans returned and accepted: 799 kr is owed back, and there is nowhere to send it yet."""
    from returns_app.services import decisions, payments, returns
    from returns_app.services.orders import Viewer, amounts

    def make() -> dict:
        order = make_order()
        total = amounts(server_db, order["id"]).total
        payments.record_transfer(server_db, order["id"], total, f"OCR E2E {order['id']}", "e2e")
        viewer = Viewer(order_ids=frozenset({order["id"]}))
        ret = returns.report_return(server_db, viewer, order["id"], {"items": [
            {"line_id": order["lines"][0]["id"], "quantity": 1, "reason": "too_large"}]})
        decisions.register(server_db, order["merchant_id"], ret["id"], {"items": [
            {"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]}, actor="e2e")
        return order

    return make


@pytest.fixture
def link_server(server_database):
    """The same app code on a small server of our own, over the e2e server's database, with a
    secret key we know: `(base_url, secret)`. Only for the expired link (see the module doc)."""
    from werkzeug.serving import make_server

    from returns_app import create_app

    secret = secrets.token_hex(16)
    app = create_app({"SECRET_KEY": secret, "DATABASE": str(server_database)})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}", secret
    finally:
        http.shutdown()
        thread.join(timeout=5)


# --- flows -------------------------------------------------------------------------------------

def test_anna_chooses_swish_for_her_waiting_refund_and_it_is_sent(new_page):
    page = new_page(PHONE)
    find_order(page, "371-526-804", ANNA)
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = page.url

    refund = refund_item(page)
    expect(refund).to_have_count(1)
    expect(refund.locator(".badge")).to_have_text("Needs your account")
    amount = ore(refund.locator(".line-name").inner_text())
    assert amount == 99900  # the grey merino sweater the shop accepted
    refund.get_by_role("link", name="Choose where to receive your refund").click()
    expect(page).to_have_url(re.compile(r"/refunds/[\w.-]+$"))
    details_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"Your refund of 999,00\s+kr"))

    # A landline: the message sits next to the Swish field, and what was typed stays.
    swish = page.get_by_role("form", name="With Swish")
    number = swish.get_by_label("Mobile number for Swish")
    number.fill("08-123 456 78")
    swish.get_by_role("button").click()
    # The answer opens at the option that was sent, so its message is in view on a phone.
    expect(page).to_have_url(details_url + "#option-swish")
    swish = page.get_by_role("form", name="With Swish")
    expect(swish).to_be_in_viewport()
    number = swish.get_by_label("Mobile number for Swish")
    expect(number).to_have_value("08-123 456 78")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_accessible_description(
        re.compile("Swish payouts go to a Swedish mobile number"))
    expect(swish.locator(".field-error")).to_contain_text("Swish payouts go to a Swedish mobile")
    expect(page.locator(".field-error")).to_have_count(1)
    expect(page.get_by_role("status")).to_have_count(0)

    number.fill("070-123 45 67")
    swish.get_by_role("button").click()
    expect(page).to_have_url(re.compile(re.escape(details_url) + "(#option-swish)?$"))
    expect(page.get_by_role("status")).to_contain_text("on its way to 070-••• •• 67")
    # (the header's language switch is a form too: only the page's own forms count)
    expect(page.get_by_role("main").get_by_role("form")).to_have_count(0)

    # The worker sends it through the sandbox provider; the order page says so.
    wait_until_refund_sent(page, order_url)
    refund = refund_item(page)
    expect(refund).to_contain_text(re.compile(r"Sent to 070-••• •• 67 on \d{1,2} \w+ \d{4}"))
    expect(refund.get_by_role("link")).to_have_count(0)
    page.goto(details_url)
    expect(page.locator(".notice-success")).to_contain_text("Sent to 070-••• •• 67")


def test_pay_the_kept_items_by_card_while_a_return_is_open(new_page, make_order):
    order = make_order()
    page = new_page(PHONE)
    find_order(page, order["order_number"], order["email"])
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = page.url
    total = ore(money_row(page, "To pay").inner_text())

    page.get_by_role("link", name="Return items").click()
    choose(page, JEANS, 1, "Too small")
    page.get_by_role("button", name="Report return").click()
    expect(page.locator(".badge")).to_have_text("Reported")
    page.goto(order_url)
    paused = ore(money_row(page, "Paused").inner_text())
    to_pay = ore(money_row(page, "To pay").inner_text())
    assert (paused, to_pay) == (79900, total - 79900)

    pay = page.get_by_role("region", name="Pay for what you keep")
    amount = pay.get_by_label("Amount to pay (kr)")
    assert ore(amount.input_value()) == to_pay
    pay.get_by_role("button", name="Pay by card").click()

    # The provider's own page: the amount is the kept items only.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox card payment")
    assert ore(page.locator(".amount").inner_text()) == to_pay
    pay_on_sandbox_page(page)

    expect(page).to_have_url(order_url)
    expect(page.get_by_role("status").filter(has_text="is paid")).to_be_visible()
    assert ore(page.get_by_role("status").filter(has_text="is paid").inner_text()) == to_pay
    assert ore(money_row(page, "Paid").inner_text()) == to_pay
    assert ore(money_row(page, "Paused").inner_text()) == paused  # still paused, not charged
    assert ore(money_row(page, "To pay").inner_text()) == 0
    expect(page.get_by_role("region", name="Pay for what you keep")).to_have_count(0)
    payments = page.get_by_role("region", name="Payments").get_by_role("listitem")
    expect(payments).to_have_count(1)
    expect(payments).to_contain_text("by card •••• 4242")

    # Back and reload change nothing: one payment.
    page.reload()
    expect(page.get_by_role("region", name="Payments").get_by_role("listitem")).to_have_count(1)
    assert ore(money_row(page, "Paid").inner_text()) == to_pay


# --- accessibility -----------------------------------------------------------------------------

def test_money_pages_pass_axe_at_both_widths(new_page, make_order, refund_waiting, link_server,
                                             server_db, screenshots_dir):
    """axe-core (the same WCAG tags as the customer pages' audit) at 375 and 1280 px on each
    money page, with a full-page screenshot of each in screenshots/."""

    from returns_app.services import links

    audit = AxeAudit(screenshots_dir)

    # The pay form, refused: a typed amount that isn't one.
    order = make_order()
    page = new_page(PHONE, js=True)  # axe runs in the page; the pages themselves don't use JS
    find_order(page, order["order_number"], order["email"])
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    page.get_by_role("link", name="Return items").click()
    choose(page, JEANS, 1, "Too small")
    page.get_by_role("button", name="Report return").click()
    expect(page.locator(".badge")).to_have_text("Reported")
    page.get_by_role("link", name=re.compile(r"^← Order")).click()
    pay = page.get_by_role("region", name="Pay for what you keep")
    pay.get_by_label("Amount to pay (kr)").fill("abc")
    pay.get_by_role("button", name="Pay by card").click()
    expect(page.locator("#amount-error")).to_contain_text("Enter an amount such as")
    expect(page.get_by_label("Amount to pay (kr)")).to_have_value("abc")
    audit(page, "pay-form-error")
    page.get_by_label("Amount to pay (kr)").fill("99999")
    page.get_by_role("button", name="Pay by card").click()
    expect(page.locator("#amount-error")).to_contain_text("You can pay at most")
    audit(page, "pay-form-too-much")

    # The sandbox's card page, clean and refused.
    page.get_by_label("Amount to pay (kr)").fill("100")
    page.get_by_role("button", name="Pay by card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox card payment")
    audit(page, "sandbox-checkout")
    pay_on_sandbox_page(page, card="4242 4242 4242 4241", expiry="13/99", cvc="1")
    expect(page.locator(".error")).to_have_count(3)
    audit(page, "sandbox-checkout-errors")
    pay_on_sandbox_page(page)
    expect(page.get_by_role("status").filter(has_text="is paid")).to_be_visible()
    audit(page, "order-paid-during-return")

    # Payout details: clean, with an error in each option, and done.
    waiting = refund_waiting()
    page = new_page(PHONE, js=True)
    find_order(page, waiting["order_number"], waiting["email"])
    audit(page, "order-refund-needs-account")
    refund_item(page).get_by_role("link", name="Choose where to receive your refund").click()
    details_url = page.url
    audit(page, "payout-details")
    for name, option, values in (
        ("bank", "To a Swedish bank account", {"Clearing number": "12",
                                               "Account number": "12ab"}),
        ("swish", "With Swish", {"Mobile number for Swish": "08-123 456 78"}),
        ("iban", "To a bank account abroad (IBAN)", {"IBAN": "SE45 5000 0000 0583 9825 7467"}),
    ):
        form = page.get_by_role("form", name=option)
        for label, value in values.items():
            form.get_by_label(label).fill(value)
        form.get_by_role("button").click()
        form = page.get_by_role("form", name=option)
        expect(form.locator(".field-error")).to_have_count(len(values))
        expect(page.locator(".field-error")).to_have_count(len(values))
        for label, value in values.items():
            expect(form.get_by_label(label)).to_have_value(value)
            expect(form.get_by_label(label)).to_have_attribute("aria-invalid", "true")
        audit(page, f"payout-details-error-{name}")
    empty = page.get_by_role("form", name="With Swish")
    empty.get_by_label("Mobile number for Swish").fill("")
    empty.get_by_role("button").click()
    expect(page.get_by_role("form", name="With Swish").locator(".field-error")).to_contain_text(
        "Enter the mobile number")
    audit(page, "payout-details-empty")
    swish = page.get_by_role("form", name="With Swish")
    swish.get_by_label("Mobile number for Swish").fill("0701234567")
    swish.get_by_role("button").click()
    expect(page).to_have_url(re.compile(re.escape(details_url) + "(#option-swish)?$"))
    expect(page.get_by_role("status")).to_contain_text("on its way")
    audit(page, "payout-details-done")

    # The link from an email more than 30 days old.
    from returns_app.domain import clock

    base_url, secret = link_server
    (refund_id,) = server_db.execute("SELECT id FROM refund WHERE order_id = ?",
                                     [waiting["id"]]).fetchone()
    with time_machine.travel(clock.now() - timedelta(days=31), tick=False):
        token = links.make_token(secret, links.PAYOUT_DETAILS, refund_id)
    expired = new_page(PHONE, js=True)
    response = expired.goto(f"{base_url}/refunds/{token}")
    assert response is not None and response.status == 410
    expect(expired.get_by_role("heading", level=1)).to_have_text("This link has expired")
    expect(expired.get_by_role("link", name="Find your order")).to_be_visible()
    audit(expired, "link-expired")

    audit.assert_clean(13)
