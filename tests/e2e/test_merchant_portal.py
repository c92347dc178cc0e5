"""The merchant portal in a browser: a demo merchant's staff signs in, publishes instructions
through the preview, registers a return item by item and manages API keys; every portal page
passes axe (WCAG 2.2 AA) at 375 and 1280 px, and a screenshot of each goes to screenshots/.

The server and its database are shared with the other browser tests, so this works on Hemma
Design (whose demo orders the customer tests only look at) and on an order of its own.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .accessibility import AxeAudit
from .conftest import DESKTOP, PHONE
from .test_customer_flow import PASSWORD

STAFF = "hemma-design@example.se"


def test_a_merchant_works_through_the_portal(new_page, make_order, server_database,
                                             screenshots_dir):

    from returns_app.services import returns
    from returns_app.services.orders import Viewer
    from returns_app.store.db import connect

    audit = AxeAudit(screenshots_dir, prefix="merchant-")

    # A return of our own at Hemma Design: jeans and two T-shirts.
    order = make_order("Hemma Design")
    db = connect(server_database)
    # Demo staff are Swedish until they choose; this walk reads the portal in English.
    db.execute("UPDATE merchant_user SET language = 'en' WHERE email = ?", [STAFF])
    ret = returns.report_return(db, Viewer(order_ids=frozenset({order["id"]})), order["id"], {
        "items": [{"line_id": order["lines"][0]["id"], "quantity": 1, "reason": "too_small"},
                  {"line_id": order["lines"][1]["id"], "quantity": 2, "reason": "damaged"}]})
    db.close()

    # axe runs in the page, so JavaScript is on; the pages themselves don't use it.
    page = new_page(PHONE, js=True)
    page.goto("/merchant/returns")
    expect(page).to_have_url(re.compile(r"/merchant/signin\?next="))
    audit(page, "sign-in")
    page.get_by_label("Email address").fill(STAFF)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("don't match")
    audit(page, "sign-in-error")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/merchant/returns$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Returns")
    audit(page, "inbox")
    page.get_by_role("link", name=re.compile(r"^Overdue")).click()
    expect(page.get_by_text("within 2 days")).to_be_visible()
    audit(page, "inbox-overdue")
    page.goto("/merchant/returns")
    page.get_by_label("Order number or your reference").fill(order["order_number"])
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".inbox-row")).to_have_count(1)

    # Instructions: a mistake first, then the preview, back, and publish.
    page.get_by_role("navigation", name="Merchant portal").get_by_role(
        "link", name="Instructions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Return instructions")
    audit(page, "instructions")
    editor = page.get_by_label("Instructions document (Markdown)")
    source = editor.input_value()
    assert "language: en" in source
    editor.fill(source.replace("days_to_send: 21", "days_to_send: 0"))
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Line 4: days_to_send")
    expect(editor).to_have_value(re.compile("days_to_send: 0"))
    audit(page, "instructions-problems")
    editor.fill(source + "\nQuestions? Write to returns@hemma.example.\n")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Preview: version")
    expect(page.locator(".preview-phone .merchant-content")).to_contain_text("Questions?")
    expect(page.locator(".preview-desktop .merchant-content")).to_contain_text("Questions?")
    page.set_viewport_size(DESKTOP)  # side by side, each box at its own device's width
    phone_box = page.locator(".preview-phone .preview-screen").bounding_box()
    assert phone_box and 360 <= phone_box["width"] <= 380
    audit(page, "instructions-preview")
    page.get_by_role("button", name="Back to editing").first.click()
    expect(editor).to_have_value(re.compile("Questions\\? Write to"))
    page.get_by_role("button", name="Preview", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Publish version")).first.click()
    expect(page.get_by_role("status").first).to_contain_text("is published")
    expect(page.locator(".version-list li").first).to_contain_text("Current English version")
    expect(page.locator(".version-list li").first).to_contain_text(STAFF)

    # The return, item by item.
    page.goto(f"/merchant/returns/{ret['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(order["order_number"])
    audit(page, "return")
    jeans = page.get_by_role("group", name=re.compile("Straight jeans"))
    tees = page.get_by_role("group", name=re.compile("Organic T-shirt"))
    tees.get_by_label("Arrived now").fill("2")
    tees.get_by_label("Reject", exact=True).fill("1")
    page.get_by_role("button", name="Register").click()
    expect(tees.locator(".field-error")).to_contain_text("Say why you reject it")
    expect(tees.get_by_label("Arrived now")).to_have_value("2")
    audit(page, "return-error")
    tees.get_by_label("Why rejected").fill("Stained, not as sent")
    tees.get_by_label("Accept", exact=True).fill("1")
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".badge").first).to_have_text("Received")
    expect(tees).to_contain_text("Decided: nothing left to register.")
    jeans.get_by_label("Arrived now").fill("1")
    jeans.get_by_label("Accept", exact=True).fill("1")
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".badge").first).to_have_text("Resolved")
    expect(page.locator(".history")).to_contain_text("1 rejected (Stained, not as sent)")
    audit(page, "return-resolved")

    # API keys: create (shown once), then revoke after the confirmation.
    page.get_by_role("link", name="API keys").click()
    audit(page, "api-keys")
    page.get_by_label("Name of the key").fill("Warehouse scanner")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("API key", exact=True).input_value()
    assert key.startswith("rk_")
    audit(page, "api-key-created")
    page.locator(".key-row").filter(has_text="Warehouse scanner").get_by_role(
        "link", name=re.compile("Revoke")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Warehouse scanner")
    audit(page, "api-key-revoke")
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.locator(".key-row").filter(has_text="Warehouse scanner")).to_contain_text(
        "Revoked")

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/merchant/signin$"))

    audit.assert_clean(13)
