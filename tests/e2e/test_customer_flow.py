"""The customer's way through a return, in a phone browser and on a desktop, without JavaScript.

Tests share one server and database (session scope), so each owns its demo data:
- phone flow:     Anna's order 482-913-057, the jeans (the only test to return anything on it)
- desktop flow:   Erik's order 290-117-664, the wool socks (the jacket is in a demo return)
- bad input:      Anna's order 482-913-057, nothing is reported (the T-shirts are never returned)
- someone else's: Erik's order and return, only looked at
- accessibility:  Anna's order 615-880-342, the cushion covers (the lamp is in a demo return)
Wrong order number / email pairs count towards the lookup rate limit (5 per order number in 15
minutes): each test that makes one uses a different order number.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE

ANNA = "anna.svensson@example.se"
ERIK = "erik.lind@example.se"
PASSWORD = "returns-demo"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DAY = r"\d{1,2} [A-Z][a-z]+ \d{4}"


def ore(text: str) -> int:
    """'1 499,00 kr' -> 149900: amounts on the page as integer minor units."""
    match = re.search(r"(\d[\d\s\u00a0\u202f]*),(\d\d)", text)
    assert match, f"no amount in {text!r}"
    return int(re.sub(r"\D", "", match[1])) * 100 + int(match[2])


def long_day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def expected_days(days: int) -> list[str]:
    """The date `days` from today (UTC), allowing for the test running across midnight."""
    today = datetime.now(UTC).date()
    return [long_day(today + timedelta(days=days)), long_day(today + timedelta(days=days + 1))]


def find_order(page: Page, number: str, email: str) -> None:
    page.goto("/")
    page.get_by_label("Order number").fill(number)
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Find my order").click()


def item_group(page: Page, name: str):
    """The fieldset of one order line on the report form (its legend names the item)."""
    return page.get_by_role("group", name=re.compile(re.escape(name)))


def choose(page: Page, name: str, quantity: int | str, reason: str | None = None,
           comment: str | None = None) -> None:
    group = item_group(page, name)
    group.get_by_label("How many go back").fill(str(quantity))
    if reason:
        group.get_by_label("Reason").select_option(label=reason)
    if comment is not None:
        group.get_by_label("Anything to add?").fill(comment)


def money_row(page: Page, label: str):
    """The <dd> of the 'What you owe' row whose <dt> is `label`."""
    return page.locator(".money-list > div").filter(
        has=page.locator("dt", has_text=re.compile(f"^{label}$"))).locator("dd")


def unit_price(page: Page, name: str) -> int:
    """From the order page's item list: "3 × 89,00 kr · Art. no. …"."""
    meta = page.locator(".line").filter(has_text=name).locator(".meta").inner_text()
    return ore(meta.split("×", 1)[1])


def report_and_send(page: Page, *, number: str, email: str, item: str, quantity: int,
                    reason: str, tracking: str | None) -> None:
    """The whole flow on one order; asserts every step the customer sees."""
    send_by_dates = expected_days(14)  # Nordic Outfitters: 14 days to send
    refund_dates = expected_days(14)  # the legal 14 days from the return request

    find_order(page, number, email)
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Nordic Outfitters")
    expect(page.get_by_text(f"Order {number}")).to_be_visible()
    owed = page.get_by_role("region", name="What you owe")
    expect(owed).to_be_visible()
    to_pay_before = ore(money_row(page, "To pay").inner_text())
    assert to_pay_before > 0
    expect(money_row(page, "To pay")).to_contain_text(re.compile(f"due {DAY}"))
    paused = money_row(page, "Paused")
    paused_before = ore(paused.inner_text()) if paused.count() else 0
    value = unit_price(page, item) * quantity

    page.get_by_role("link", name="Return items").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What are you sending back?")
    choose(page, item, quantity, reason)
    page.get_by_role("button", name="Report return").click()

    # Straight onto the return page: no further click to see how to send it back.
    expect(page).to_have_url(re.compile(r"/returns/\d+$"))
    return_url = page.url
    expect(page.get_by_role("status").filter(has_text="Your return is registered")).to_be_visible()
    expect(page.locator(".badge")).to_have_text("Reported")
    dates = page.get_by_role("region", name="Dates that matter")
    send_by = dates.locator("div", has=page.locator("dt", has_text="Send it by")).locator("dd")
    expect(send_by).to_have_text(re.compile("|".join(send_by_dates)))
    refund_due = dates.locator("div", has=page.locator("dt", has_text="refund is due")).locator(
        "dd")
    expect(refund_due).to_have_text(re.compile("|".join(refund_dates)))
    how = page.get_by_role("region", name="How to send it back")
    expect(how.locator("address")).to_contain_text("Nordic Outfitters AB")
    expect(how.locator("address")).to_contain_text("Box 1234")
    expect(how.locator("address")).to_contain_text("111 22 Stockholm")
    # Text from the merchant's Markdown body, rendered as HTML.
    expect(how.get_by_role("heading", name="Så returnerar du")).to_be_visible()
    expect(how.get_by_role("listitem").filter(has_text="Packa varorna väl")).to_be_visible()
    expect(how.get_by_role("link", name="köpvillkor")).to_have_attribute(
        "href", "https://www.nordicoutfitters.se/kopvillkor")
    items = page.get_by_role("region", name="What goes back")
    expect(items).to_contain_text(f"{quantity} × {item}")
    expect(items).to_contain_text(f"Reason: {reason}")

    # The order now shows the returned value as paused, and only the rest to pay.
    page.get_by_role("link", name=re.compile(f"Order {number}")).click()
    expect(page).to_have_url(order_url)
    expect(money_row(page, "Paused")).to_be_visible()
    assert ore(money_row(page, "Paused").inner_text()) == paused_before + value
    assert ore(money_row(page, "To pay").inner_text()) == to_pay_before - value
    expect(page.locator(".return-list .badge").last).to_have_text("Reported")

    page.goto(return_url)
    if tracking:
        page.get_by_label("Tracking number (optional)").fill(tracking)
    page.get_by_role("button", name="I've sent it").click()
    expect(page).to_have_url(return_url)
    expect(page.get_by_role("status")).to_contain_text("on its way")
    expect(page.locator(".badge")).to_have_text("On its way")
    timeline = page.get_by_role("region", name="Progress").locator("li")
    expect(timeline.nth(0)).to_have_class(re.compile(r"\bdone\b"))
    expect(timeline.nth(0)).to_contain_text("Return reported")
    sent = timeline.nth(1)
    expect(sent).to_have_class(re.compile(r"\bdone\b"))
    expect(sent).to_contain_text("Sent back")
    expect(sent).to_contain_text(re.compile(DAY))
    if tracking:
        expect(sent).to_contain_text(f"tracking {tracking}")
    expect(timeline.nth(2)).to_have_class(re.compile(r"\btodo\b"))
    # Once sent, it can't be sent again or cancelled.
    expect(page.get_by_role("button", name="I've sent it")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel return")).to_have_count(0)
