"""Signing in and out in a phone browser (issue 16, items 2 and 5): the sign-in pages with
"stay signed in", "sign out everywhere", and an emailed link for another account's order, each
passing axe at 375 and 1280 px. The link is signed on a server of our own over the e2e server's
database (its secret key is not exposed; see test_email_links.py)."""

from __future__ import annotations

import re
import secrets
import threading

import pytest
from playwright.sync_api import expect

from tests.sandbox_fixtures import free_port

from .accessibility import AxeAudit
from .conftest import PHONE

ERIK = "erik.lind@example.se"  # demo customer with a password
DEMO_PASSWORD = "returns-demo"  # noqa: S105 (the demo data's, printed by run.py)


@pytest.fixture
def own_server(server, server_database):
    """The same app on a server of our own with a secret we know: `(base_url, secret)`."""
    from werkzeug.serving import make_server

    from returns_app import create_app

    secret = secrets.token_hex(16)
    app = create_app({"SECRET_KEY": secret, "DATABASE": str(server_database)})
    http = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}", secret
    finally:
        http.shutdown()
        thread.join(timeout=5)


def test_sign_in_and_a_link_for_another_account_pass_axe(browser, own_server, make_order,
                                                         screenshots_dir):
    from returns_app.services import links

    base_url, secret = own_server
    audit = AxeAudit(screenshots_dir, prefix="sessions-")
    context = browser.new_context(viewport=PHONE, base_url=base_url, java_script_enabled=True,
                                  locale="en-GB")
    context.set_default_timeout(5000)
    page = context.new_page()

    page.goto("/signin")
    stay = page.get_by_label("Stay signed in for 30 days")
    expect(stay).not_to_be_checked()
    audit(page, "customer-sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".field-error")).to_have_count(2)
    audit(page, "customer-sign-in-errors")
    page.get_by_label("Email address").fill(ERIK)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    stay.check()
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/orders$"))
    session_cookie = next(c for c in context.cookies() if c["name"] == "session")
    assert session_cookie["expires"] > 0  # kept when the browser closes: they asked
    audit(page, "customer-orders-signed-in")

    theirs = make_order()
    link = "/links/order/" + links.make_token(secret, links.ORDER, theirs["id"])
    response = page.goto(link)
    assert response.status == 409
    expect(page.get_by_role("heading", level=1)).to_have_text("Signed in with another account")
    audit(page, "link-for-another-account")
    page.get_by_role("button", name="Sign out and open the link").click()
    expect(page).to_have_url(re.compile(rf"/orders/{theirs['id']}$"))
    expect(page.get_by_text(theirs["order_number"]).first).to_be_visible()

    for path, name in (("/merchant/signin", "merchant-sign-in"),
                       ("/support/signin", "support-sign-in")):
        page.goto(path)
        expect(page.get_by_label("Stay signed in for 30 days")).to_have_count(0)  # staff: never
        audit(page, name)

    swedish = browser.new_context(viewport=PHONE, base_url=base_url, java_script_enabled=True,
                                  locale="sv-SE", extra_http_headers={"Accept-Language": "sv"})
    page = swedish.new_page()
    page.goto("/signin")
    expect(page.get_by_label("Förbli inloggad i 30 dagar")).to_be_visible()
    audit(page, "customer-sign-in-sv")
    swedish.close()
    context.close()
    audit.assert_clean(pages=7)
