"""The customer's way through a return, in a phone browser and on a desktop, without JavaScript.

Tests share one server and database (session scope), so none depends on another having run:
- phone flow:     demo order 482-913-057 (Anna), the jeans; the only test to change that order
- desktop flow:   an order of its own (`make_order`), the T-shirts
- second return:  demo order 290-117-664 (Erik), the socks (the jacket is in a demo return)
- bad input:      an order of its own
- someone else's: Anna's and Erik's demo orders, only looked at
- accessibility:  an order of its own, and the demo customers' pages, only looked at
Wrong order number / email pairs count towards the lookup rate limit (5 per order number in 15
minutes): each test that makes one uses another order number.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import Page, expect

from .accessibility import AxeAudit
from .conftest import DESKTOP, PHONE

ANNA = "anna.svensson@example.se"
ERIK = "erik.lind@example.se"
PASSWORD = "returns-demo"
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

    shown_number = re.sub(r"\D", "", number)
    shown_number = f"{shown_number[:3]}-{shown_number[3:6]}-{shown_number[6:]}"  # 482-913-057
    find_order(page, number, email)
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Nordic Outfitters")
    expect(page.get_by_text(f"Order {shown_number}")).to_be_visible()
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
    with page.expect_navigation():
        page.get_by_role("button", name="Report return").click()

    # Straight onto the return page: no further click to see how to send it back.
    assert re.search(r"/returns/\d+$", page.url), (
        f"still on {page.url}: {page.locator('#form-errors, .field-error').all_inner_texts()}")
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
    page.get_by_role("link", name=f"← Order {shown_number}").click()
    expect(page).to_have_url(order_url)
    expect(money_row(page, "Paused")).to_be_visible()
    assert ore(money_row(page, "Paused").inner_text()) == paused_before + value
    assert ore(money_row(page, "To pay").inner_text()) == to_pay_before - value
    return_path = return_url.removeprefix(page.url.split("/orders/")[0])
    listed = page.locator(".return-list li").filter(has=page.locator(f'a[href="{return_path}"]'))
    expect(listed.locator(".badge")).to_have_text("Reported")

    listed.get_by_role("link").click()
    expect(page).to_have_url(return_url)
    if tracking:
        page.get_by_label("Tracking number (optional)").fill(tracking)
    page.get_by_role("button", name="I've sent it").click()
    expect(page).to_have_url(re.compile(re.escape(return_url) + "(#.*)?$"))
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



def test_phone_customer_returns_jeans_and_sends_them(new_page):
    page = new_page(PHONE)
    report_and_send(page, number="482 913 057", email=ANNA, item="Straight jeans, blue, W32",
                    quantity=1, reason="Too small", tracking="RR123456789SE")


def test_desktop_customer_returns_t_shirts_and_sends_them(new_page, make_order):
    order = make_order()
    page = new_page(DESKTOP)
    report_and_send(page, number=order["order_number"], email=order["email"],
                    item="Organic T-shirt, white, M", quantity=2, reason="Changed my mind",
                    tracking=None)


def test_desktop_second_return_on_an_order_with_an_open_return(new_page):
    page = new_page(DESKTOP)
    report_and_send(page, number="290-117-664", email=ERIK, item="Wool socks, size 42",
                    quantity=2, reason="Changed my mind", tracking=None)


def test_bad_input_keeps_what_was_typed(new_page, make_order):
    order = make_order()
    page = new_page(PHONE)

    # A wrong pair: one message that doesn't say which half was wrong; both fields kept.
    find_order(page, order["order_number"], ERIK)
    expect(page).to_have_url(re.compile(r"/$"))
    alert = page.get_by_role("alert")
    expect(alert).to_have_count(1)
    expect(alert).to_have_text(re.compile(
        r"We couldn't find an order with that order number and email address"))
    expect(page.locator(".field-error")).to_have_count(0)
    expect(page.get_by_label("Order number")).to_have_value(order["order_number"])
    expect(page.get_by_label("Email address")).to_have_value(ERIK)
    expect(page.get_by_label("Email address")).to_have_attribute("autocomplete", "email")

    find_order(page, order["order_number"].replace("-", " "), order["email"])
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    page.get_by_role("link", name="Return items").click()
    form_url = page.url

    # Nothing chosen: the page stays, with one message on top and no field marked.
    page.get_by_role("button", name="Report return").click()
    expect(page).to_have_url(form_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("What are you sending back?")
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one item")
    expect(page.locator("[aria-invalid=true]")).to_have_count(0)

    # Too many: the message sits next to that quantity field, and everything typed stays.
    tees = "Organic T-shirt, white, M"
    choose(page, "Straight jeans", 1, "Too large")
    choose(page, tees, 3, "Too small", comment="Tight across the shoulders")
    page.get_by_role("button", name="Report return").click()
    expect(page).to_have_url(form_url)
    group = item_group(page, tees)
    quantity = group.get_by_label("How many go back")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    described_by = quantity.get_attribute("aria-describedby") or ""
    error_ids = [i for i in described_by.split() if i.endswith("-error")]
    assert error_ids, f"aria-describedby={described_by!r} names no error"
    error = group.locator(f"#{error_ids[0]}")  # inside the T-shirts' own fieldset
    expect(error).to_contain_text("You can return at most 2 of this item")
    expect(quantity).to_have_accessible_description(re.compile("at most 2"))
    expect(quantity).to_have_value("3")
    expect(group.get_by_label("Reason")).to_have_value("too_small")
    expect(group.get_by_label("Anything to add?")).to_have_value("Tight across the shoulders")
    # The other line's choice is kept too, and is not marked wrong.
    jeans = item_group(page, "Straight jeans")
    expect(jeans.get_by_label("How many go back")).to_have_value("1")
    expect(jeans.get_by_label("How many go back")).not_to_have_attribute("aria-invalid", "true")
    expect(jeans.get_by_label("Reason")).to_have_value("too_large")
    # The summary on top names the item and links to the field.
    summary_link = page.get_by_role("alert").get_by_role("link", name=re.compile(tees))
    expect(summary_link).to_have_attribute("href", f"#{quantity.get_attribute('id')}")

    # A tracking number that can't be one: the page comes back at the form, typed text kept.
    choose(page, tees, 0)
    page.get_by_role("button", name="Report return").click()
    expect(page.locator(".badge")).to_have_text("Reported")
    tracking = page.get_by_label("Tracking number (optional)")
    tracking.fill("see the receipt!")
    page.get_by_role("button", name="I've sent it").click()
    expect(page).to_have_url(re.compile(r"/returns/\d+/sent#sent-heading$"))
    expect(tracking).to_have_value("see the receipt!")
    expect(tracking).to_have_attribute("aria-invalid", "true")
    expect(tracking).to_have_accessible_description(re.compile("only letters, digits"))
    expect(page.locator(".badge")).to_have_text("Reported")


def test_another_customers_order_and_return_are_not_found(new_page):
    erik = new_page(PHONE)
    find_order(erik, "290-117-664", ERIK)
    expect(erik).to_have_url(re.compile(r"/orders/\d+$"))
    erik_order = erik.url.rsplit("/", 1)[1]
    erik_return = erik.locator(".return-list a").first.get_attribute("href")
    assert erik_return and re.fullmatch(r"/returns/\d+", erik_return)

    anna = new_page(PHONE)
    find_order(anna, "482-913-057", ANNA)
    expect(anna).to_have_url(re.compile(r"/orders/\d+$"))
    for path in (f"/orders/{erik_order}", f"/orders/{erik_order}/returns/new", erik_return):
        response = anna.goto(path)
        assert response is not None and response.status == 404, path
        expect(anna.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(anna.locator("main")).not_to_contain_text("Rain jacket")
        expect(anna.locator("main")).not_to_contain_text("Erik")
    # Anna's own order is still hers.
    anna.get_by_role("link", name="My orders").click()
    expect(anna.get_by_role("link", name="Nordic Outfitters")).to_be_visible()


def test_every_customer_page_passes_axe_at_both_widths(new_page, make_order, screenshots_dir):
    """axe-core (WCAG 2.2 AA tags) on each page in each state, at 375 and 1280 px; a full-page
    screenshot of each goes to screenshots/ for a person to look at."""

    audit = AxeAudit(screenshots_dir)

    order = make_order()
    tees = "Organic T-shirt, white, M"
    # axe runs in the page, so these contexts have JavaScript on; the pages don't use it.
    page = new_page(PHONE, js=True)
    page.goto("/")
    audit(page, "find-order")
    page.get_by_role("button", name="Find my order").click()
    expect(page.locator(".field-error")).to_have_count(2)
    audit(page, "find-order-errors")
    find_order(page, order["order_number"], ANNA)
    expect(page.get_by_role("alert")).to_be_visible()
    audit(page, "find-order-not-found")

    find_order(page, order["order_number"], order["email"])
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = page.url
    audit(page, "order")
    page.get_by_role("link", name="Return items").click()
    form_url = page.url
    audit(page, "report-form")
    page.get_by_role("button", name="Report return").click()
    expect(page.get_by_role("alert")).to_be_visible()
    audit(page, "report-form-nothing-chosen")
    choose(page, tees, 5)
    choose(page, "Straight jeans", 1, "Other (tell us below)")
    page.get_by_role("button", name="Report return").click()
    expect(page.locator(".field-error")).to_have_count(2)
    audit(page, "report-form-errors")

    choose(page, tees, 1, "Changed my mind")
    choose(page, "Straight jeans", 0)
    page.get_by_role("button", name="Report return").click()
    expect(page.locator(".badge")).to_have_text("Reported")
    audit(page, "return-reported")
    page.get_by_label("Tracking number (optional)").fill("#### no")
    page.get_by_role("button", name="I've sent it").click()
    expect(page.locator(".field-error")).to_have_count(1)
    audit(page, "return-tracking-error")
    page.get_by_role("button", name="Cancel return").click()
    expect(page.locator(".badge")).to_have_text("Cancelled")
    audit(page, "return-cancelled")

    page.goto(form_url)
    choose(page, tees, 2, "Other (tell us below)", comment="The wrong shade of white")
    page.get_by_role("button", name="Report return").click()
    expect(page.locator(".badge")).to_have_text("Reported")
    page.get_by_label("Tracking number (optional)").fill("RR 123 456 789 SE")
    page.get_by_role("button", name="I've sent it").click()
    expect(page.locator(".badge")).to_have_text("On its way")
    audit(page, "return-sent")
    page.goto(order_url)
    audit(page, "order-with-returns")
    page.goto(form_url)
    audit(page, "report-form-partly-returned")

    response = page.goto("/orders/999999")
    assert response is not None and response.status == 404
    audit(page, "not-found")

    signed_in = new_page(PHONE, js=True)
    signed_in.goto("/signin")
    audit(signed_in, "sign-in")
    signed_in.get_by_label("Email address").fill(ANNA)
    signed_in.get_by_label("Password").fill("not the password")
    signed_in.get_by_role("button", name="Sign in").click()
    expect(signed_in.get_by_role("alert")).to_be_visible()
    audit(signed_in, "sign-in-errors")
    signed_in.get_by_label("Password").fill(PASSWORD)
    signed_in.get_by_role("button", name="Sign in").click()
    expect(signed_in).to_have_url(re.compile(r"/orders$"))
    expect(signed_in.locator(".order-summary").first).to_be_visible()
    audit(signed_in, "orders")
    signed_in.get_by_role("link", name="Hemma Design").click()
    audit(signed_in, "order-card-paid")

    audit.assert_clean(18)
