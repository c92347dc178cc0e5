"""The support console in a browser against `python run.py` and its demo data: an agent signs
in, sees every stuck refund, acts on one, and every page passes axe at 375 and 1280 px.

Tests share one server and database, so none depends on another having run:
- the agent's flow: demo order 581-200-301 (waiting for an account); the only test to act on it
- accessibility: looks at the demo's stuck orders, and submits forms without a "why" (which
  changes nothing)
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .accessibility import AxeAudit
from .conftest import DESKTOP, PHONE
from .staff_sign_in import second_step
from .test_customer_flow import PASSWORD

AGENT = "support@example.se"


def sign_in(page: Page, email: str = AGENT) -> None:
    page.goto("/support/")
    expect(page).to_have_url(re.compile(r"/support/signin"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    second_step(page, email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stuck refunds")


def stuck_item(page: Page, order_number: str):
    return page.locator(".stuck-item").filter(has_text=f"Order {order_number}")


def test_an_agent_sees_every_kind_of_stuck_refund_and_sends_a_link(new_page):
    page = new_page(DESKTOP)
    sign_in(page)
    for number, reason in (
            ("581-200-306", "Legal deadline passed"), ("581-200-305", "Legal deadline near"),
            ("581-200-302", "Payout declined"), ("581-200-303", "Outcome unknown"),
            ("581-200-301", "No account to pay to"),
            ("581-200-304", "Merchant hasn’t registered")):
        expect(stuck_item(page, number)).to_contain_text(reason)
    # Most urgent first: the broken deadline leads.
    expect(page.locator(".stuck-item").first).to_contain_text("Legal deadline passed")

    stuck_item(page, "581-200-301").get_by_role("link", name="Send a new details link").click()
    expect(page.get_by_role("heading", name="Send a new payout-details link")).to_be_visible()
    link_card = page.locator("#act-link")
    link_card.get_by_label("Why").fill("Customer called: the first email went to spam")
    link_card.get_by_role("button", name="Send the link").click()
    # The link goes to the customer's address on file only: the agent sees where, not the link.
    notice = page.get_by_role("status").filter(has_text="on its way to the customer")
    expect(notice).to_contain_text("•••@example.se")
    expect(notice).not_to_contain_text("/refunds/")
    expect(page.locator(".history")).to_contain_text("refund.details_link_resent")
    expect(page.locator(".history")).to_contain_text("Customer called: the first email went")


def test_every_console_page_passes_axe_at_both_widths(new_page, screenshots_dir):

    audit = AxeAudit(screenshots_dir, prefix="support-")

    page = new_page(DESKTOP, js=True)  # axe runs in the page; the console itself needs no JS
    page.goto("/support/signin")
    audit(page, "sign-in")
    sign_in(page, "support2@example.se")
    audit(page, "queue")

    stuck_item(page, "581-200-306").get_by_role("link", name=re.compile(r"^Refund ")).click()
    expect(page.get_by_role("heading", name="Mark as paid outside the system")).to_be_visible()
    audit(page, "refund")
    paid = page.locator("#act-paid")
    paid.get_by_label("Payment reference").fill("BG 5050-1055")
    paid.get_by_role("button", name="Ask for approval").click()
    expect(page.locator("#paid-why-error")).to_contain_text("Say why")
    audit(page, "refund-errors")

    page.goto("/support/")
    stuck_item(page, "581-200-303").get_by_role("link", name="Ask the provider again").click()
    audit(page, "refund-unknown")

    page.goto("/support/")
    stuck_item(page, "581-200-304").get_by_role("link", name=re.compile(r"^Order ")).click()
    expect(page.get_by_role("heading", name="Keep the invoice paused")).to_be_visible()
    audit(page, "order")

    page.goto("/support/")
    stuck_item(page, "581-200-304").get_by_role("link", name="Remind the merchant").click()
    audit(page, "return")

    page.goto("/support/dashboard")
    expect(page.get_by_role("img", name=re.compile("How long customers waited"))).to_be_visible()
    audit(page, "dashboard")

    page.goto("/support/search?q=maja.ek@example.se")
    expect(page.locator(".result-list").get_by_text("Order 581-200-301")).to_be_visible()
    audit(page, "search")

    audit.assert_clean()


def test_customers_are_kept_out(new_page):
    page = new_page(PHONE)
    page.goto("/signin")
    page.get_by_label("Email address").fill("anna.svensson@example.se")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    response = page.goto("/support/")
    assert response.status == 403
