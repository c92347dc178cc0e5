"""A card payment left unfinished on the provider's page, in a phone browser: the order page
offers to continue or cancel it, and after cancelling a smaller amount is paid. Against
`python run.py` (app, worker and sandbox provider), on an order of its own."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .accessibility import AxeAudit
from .conftest import PHONE
from .test_customer_flow import find_order, money_row, ore
from .test_money_flow import pay_on_sandbox_page


def test_leave_the_card_page_unpaid_then_cancel_and_pay_less(new_page, make_order,
                                                             screenshots_dir):
    order = make_order()
    page = new_page(PHONE, js=True)  # axe runs in the page; the pages themselves use no JS
    find_order(page, order["order_number"], order["email"])
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = page.url
    total = ore(money_row(page, "To pay").inner_text())

    page.get_by_role("region", name="Pay now").get_by_role("button", name="Pay by card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox card payment")
    checkout_url = page.url.split("#")[0]  # the pay form posts to #pay-heading
    page.go_back()  # leaves the provider's page without paying
    page.goto(order_url)

    started = page.get_by_role("region", name="Card payment not finished")
    expect(started).to_contain_text("You started paying")
    assert ore(started.locator("p").first.inner_text()) == total
    expect(started.get_by_role("link", name="Continue paying")).to_have_attribute(
        "href", checkout_url)
    # The pay form is still there: the order is not blocked.
    expect(page.get_by_role("region", name="Pay now")).to_be_visible()
    audit = AxeAudit(screenshots_dir, prefix="checkout-")
    audit(page, "order-with-open-checkout")

    started.get_by_role("link", name="Continue paying").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox card payment")
    page.goto(order_url)

    page.get_by_role("region", name="Card payment not finished").get_by_role(
        "button", name="Cancel this payment").click()
    expect(page.get_by_role("status").filter(has_text="was cancelled")).to_be_visible()
    expect(page.get_by_role("region", name="Card payment not finished")).to_have_count(0)
    page.goto(checkout_url)
    expect(page.locator("main")).to_contain_text("This payment was cancelled")
    page.goto(order_url)

    pay = page.get_by_role("region", name="Pay now")
    pay.get_by_label("Amount to pay (kr)").fill("100,00")
    pay.get_by_role("button", name="Pay by card").click()
    assert ore(page.locator(".amount").inner_text()) == 10000
    pay_on_sandbox_page(page)
    expect(page).to_have_url(order_url)
    expect(page.get_by_role("status").filter(has_text="is paid")).to_be_visible()
    assert ore(money_row(page, "Paid").inner_text()) == 10000
    assert ore(money_row(page, "To pay").inner_text()) == total - 10000
    payments = page.get_by_role("region", name="Payments").get_by_role("listitem")
    expect(payments).to_have_count(2)
    expect(payments.nth(0)).to_contain_text("Cancelled by you")
    expect(payments.nth(1)).to_contain_text("by card •••• 4242")
    audit.assert_clean(pages=1)
