"""Emails in a phone browser, against `python run.py` (which runs the mail catcher and the
worker): a reported return's email arrives in the development inbox and its link opens the
return in a browser that never looked the order up; the preferences page, the expired-link
page and the inbox pass axe at 375 and 1280 px.

Tests share one server and database, so none depends on another having run: each uses an order
of its own (`make_order`). The expired link is signed on a small server of our own over the
same database (the e2e server's secret key is not exposed, see test_money_flow.py)."""

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

EMAIL_SENT_WITHIN = 45.0  # seconds: a worker round is 2 s; the first try may find no catcher yet


@pytest.fixture
def server_db(server_database):
    from returns_app.store.db import connect

    db = connect(server_database)
    yield db
    db.close()


@pytest.fixture
def reported(make_order, server_db):
    """`reported()` -> an order of its own with the jeans reported for return, and the return."""
    from returns_app.services import returns
    from returns_app.services.orders import Viewer

    def make() -> tuple[dict, dict]:
        order = make_order()
        ret = returns.report_return(server_db, Viewer(order_ids=frozenset({order["id"]})),
                                    order["id"], {"items": [
                                        {"line_id": order["lines"][0]["id"], "quantity": 1,
                                         "reason": "too_large"}]})
        return order, ret

    return make


@pytest.fixture
def link_server(server_database):
    """The same app code on a server of our own with a secret we know: `(base_url, secret)`."""
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


def open_sent_email(page: Page, recipient: str, subject: str) -> None:
    """Reload the inbox (as a developer would) until the email shows as sent, then open it."""
    deadline = time.monotonic() + EMAIL_SENT_WITHIN
    while True:
        page.goto("/dev/mail")
        item = page.locator(".mail-item").filter(has_text=recipient).filter(has_text=subject)
        if item.count() and "Sent" in item.first.locator(".badge").inner_text():
            item.first.get_by_role("link").click()
            return
        if time.monotonic() > deadline:
            pytest.fail(f"no sent email {subject!r} to {recipient} after "
                        f"{EMAIL_SENT_WITHIN:.0f} s")
        page.wait_for_timeout(500)


def test_a_reported_return_is_emailed_and_its_link_opens_it(new_page, reported):
    order, ret = reported()
    inbox = new_page(PHONE)
    open_sent_email(inbox, order["email"], "Din retur till Nordic Outfitters")
    expect(inbox.get_by_role("heading", level=1)).to_contain_text(
        "Din retur till Nordic Outfitters: skicka den senast")
    body = inbox.locator(".mail-body")
    expect(body).to_contain_text("Straight jeans, blue, W32")
    expect(body).to_contain_text("Nordic Outfitters AB")  # the return address
    expect(body).to_contain_text("Så returnerar du")  # the merchant's own instructions
    link = body.get_by_role("link").filter(has_text="/links/return/")
    href = link.get_attribute("href")

    # A phone that has never seen the order: the link opens the return, no lookup needed.
    phone = new_page(PHONE)
    phone.goto(href)
    expect(phone).to_have_url(re.compile(rf"/returns/{ret['id']}$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Your return to Nordic Outfitters")
    phone.get_by_role("link", name=re.compile(r"^← Order")).click()
    expect(phone).to_have_url(re.compile(rf"/orders/{order['id']}$"))


def test_email_pages_pass_axe_at_both_widths(new_page, reported, link_server, screenshots_dir):

    from returns_app.domain import clock
    from returns_app.services import links

    audit = AxeAudit(screenshots_dir)

    order, ret = reported()
    page = new_page(PHONE, js=True)  # axe runs in the page; the pages themselves don't use JS
    open_sent_email(page, order["email"], "Din retur till Nordic Outfitters")
    audit(page, "dev-mail-message")
    preferences = page.locator(".mail-body").get_by_role("link").filter(
        has_text="/preferences/").get_attribute("href")
    page.goto("/dev/mail")
    expect(page.locator(".mail-item").first).to_be_visible()
    audit(page, "dev-mail")

    # Preferences: as opened, refused (no JavaScript needed to send nothing), and saved.
    page.goto(preferences)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your reminder choices")
    expect(page.get_by_label("By email")).to_be_checked()
    audit(page, "preferences")
    page.get_by_label("No reminders").check()
    page.get_by_label("English").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.get_by_label("No reminders")).to_be_checked()
    audit(page, "preferences-saved")

    # The link from an email older than the links live.
    base_url, secret = link_server
    with time_machine.travel(clock.now() - timedelta(days=31), tick=False):
        token = links.make_token(secret, links.RETURN, ret["id"])
    expired = new_page(PHONE, js=True)
    response = expired.goto(f"{base_url}/links/return/{token}")
    assert response is not None and response.status == 410
    expect(expired.get_by_role("heading", level=1)).to_have_text("This link has expired")
    audit(expired, "link-expired")
    expired.get_by_label("Your email address").fill("not an address")
    expired.get_by_role("button", name="Email me a new link").click()
    expect(expired.locator("#email-error")).to_contain_text("Enter a valid email address")
    expect(expired.get_by_label("Your email address")).to_have_value("not an address")
    audit(expired, "link-expired-error")
    expired.get_by_label("Your email address").fill(order["email"])
    expired.get_by_role("button", name="Email me a new link").click()
    expect(expired.get_by_role("heading", level=1)).to_have_text("Check your email")
    audit(expired, "link-sent")

    audit.assert_clean(7)
