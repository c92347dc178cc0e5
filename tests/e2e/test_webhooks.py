"""The merchant's webhook settings in a browser: set a URL, copy the secret shown once, send a
test event, follow deliveries and their answers, send a failed one again; axe at 375 and 1280 px.

The pages run on a small server of our own (the same app code, a fresh database, a secret key we
know), so a merchant user can be signed in by a session cookie signed with that key: the merchant
sign-in page is built on another branch. Deliveries go to a real receiver on loopback, through
the worker's own delivery round run in this process. The last test signs in through
/merchant/signin on the run.py server, and is skipped while that page doesn't exist.
"""

from __future__ import annotations

import re
import secrets
import threading

import pytest
from playwright.sync_api import Page, expect

from tests.session_helpers import session_keys
from tests.webhook_support import Receiver, make_merchant_user, status

from .accessibility import AxeAudit
from .conftest import PHONE

PAGE = "/merchant/webhooks"
STAFF_PASSWORD = "portal-e2e-password"  # noqa: S105  (test data)


@pytest.fixture
def portal(tmp_path):
    """`(base_url, app, db, merchant_id, user_id)`: our own server with one merchant and one of
    its staff."""
    from werkzeug.serving import make_server

    from returns_app import create_app
    from returns_app.services import merchants
    from returns_app.store.db import connect
    from returns_app.store.migrations import migrate

    app = create_app({"SECRET_KEY": secrets.token_hex(16),
                      "DATABASE": str(tmp_path / "portal.sqlite3")})
    db = connect(app.config["DATABASE"])
    migrate(db)
    merchant, _ = merchants.create_merchant(db, "Nordic Outfitters", actor="e2e")
    user_id = make_merchant_user(db, merchant["id"])
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}", app, db, merchant["id"], user_id
    finally:
        http.shutdown()
        thread.join(timeout=5)
        db.close()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def staff_page(browser, portal):
    """`staff_page(viewport, js)`: a page signed in as the merchant's staff."""
    base_url, app, _db, _merchant_id, user_id = portal
    contexts = []

    def make(viewport=PHONE, js: bool = False) -> Page:
        context = browser.new_context(viewport=viewport, base_url=base_url,
                                      java_script_enabled=js, locale="en-GB")
        context.set_default_timeout(5000)
        cookie = app.session_interface.get_signing_serializer(app).dumps(
            session_keys(app, f"merchant_user:{user_id}"))
        context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie,
                              "url": base_url}])
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def deliver(app) -> dict:
    from returns_app.worker import rounds as worker

    # Only webhooks: the emails the same events queue share the outbox (and have no catcher here).
    return worker.deliver_outbox(app, "e2e-worker", kinds=("webhook",))


def report_a_return(db, merchant_id: int) -> int:
    from returns_app.services import orders, returns
    from returns_app.services.orders import Viewer

    order = orders.create_order(db, merchant_id, {
        "merchant_reference": f"E2E-{secrets.token_hex(4)}",
        "customer": {"email": "kund@example.se", "name": "Kim Kund"},
        "currency": "SEK", "payment_method": "invoice",
        "lines": [{"sku": "JEANS-32-BLU", "name": "Straight jeans", "quantity": 1,
                   "unit_price": 79900}]})
    ret = returns.report_return(db, Viewer(order_ids=frozenset({order["id"]})), order["id"], {
        "items": [{"line_id": order["lines"][0]["id"], "quantity": 1, "reason": "too_small"}]})
    return ret["id"]


def delivery(page: Page, text: str):
    return page.locator("li.delivery").filter(has_text=text)


def test_set_a_url_copy_the_secret_and_see_deliveries_without_javascript(staff_page, portal,
                                                                           receiver):
    _base, app, db, merchant_id, _user = portal
    page = staff_page(PHONE)
    page.goto(PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")

    url = page.get_by_label("Webhook URL")
    url.fill("http://shop.example.com/hooks")
    page.get_by_role("button", name="Save URL").click()
    expect(page.locator("#url-error")).to_contain_text("must start with https://")
    expect(url).to_have_value("http://shop.example.com/hooks")
    expect(url).to_have_attribute("aria-invalid", "true")

    url.fill(receiver.url + "/hooks")
    page.get_by_role("button", name="Save URL").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signing secret")
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    page.get_by_role("link", name="I have copied it").click()
    expect(page.locator("main")).not_to_contain_text(secret)
    expect(page.get_by_label("Webhook URL")).to_have_value(receiver.url + "/hooks")

    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_role("status")).to_contain_text("A test event is on its way")
    return_id = report_a_return(db, merchant_id)
    receiver.answer(status(200, b"test received"), status(500, b"our database is down"))
    assert deliver(app) == {"delivered": 1, "retrying": 1}
    page.reload()
    test_event = delivery(page, "Test event")
    expect(test_event.locator(".badge")).to_have_text("Delivered")
    returned = delivery(page, f"Return {return_id}")
    expect(returned.locator(".badge")).to_have_text("Retrying")
    expect(returned).to_contain_text("Last answer: HTTP 500. Next attempt at")
    returned.get_by_text("1 attempt").click()
    expect(returned.locator("pre.answer")).to_have_text("our database is down")

    # Given up on: sent again from the page, and delivered.
    db.execute("UPDATE outbox SET status = 'failed' WHERE subject_id = (SELECT event_id FROM"
               " webhook_message WHERE subject_id = ? AND subject_kind = 'return')", [return_id])
    page.reload()
    returned = delivery(page, f"Return {return_id}")
    expect(returned.locator(".badge")).to_have_text("Failed")
    returned.get_by_role("button", name="Send it again").click()
    expect(page.get_by_role("status")).to_contain_text("will be sent again")
    assert deliver(app) == {"delivered": 1}
    page.reload()
    expect(delivery(page, f"Return {return_id}").locator(".badge")).to_have_text("Delivered")

    page.get_by_role("button", name="Rotate signing secret").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your new signing secret")
    assert page.get_by_label("Signing secret").input_value() not in (secret, "")


def test_the_webhook_pages_pass_axe_at_both_widths(staff_page, portal, receiver,
                                                   screenshots_dir):

    _base, app, db, merchant_id, _user = portal
    audit = AxeAudit(screenshots_dir)

    page = staff_page(PHONE, js=True)  # axe runs in the page; the pages themselves don't use JS
    page.goto(PAGE)
    audit(page, "webhooks-empty")
    page.get_by_label("Webhook URL").fill("ftp://shop.example.com/hooks")
    page.get_by_role("button", name="Save URL").click()
    expect(page.locator("#url-error")).to_be_visible()
    audit(page, "webhooks-url-error")
    page.get_by_label("Webhook URL").fill(receiver.url + "/hooks")
    page.get_by_role("button", name="Save URL").click()
    expect(page.get_by_label("Signing secret")).to_be_visible()
    audit(page, "webhooks-secret")
    page.goto(PAGE)
    page.get_by_role("button", name="Send a test event").click()
    report_a_return(db, merchant_id)
    failing = report_a_return(db, merchant_id)
    receiver.answer(status(200, b'{"received": true}'), status(200),
                    status(500, b"<html><body><h1>500 Internal Server Error</h1>" +
                           b"x" * 2000 + b"</body></html>"))
    assert deliver(app) == {"delivered": 2, "retrying": 1}
    page.goto(PAGE)
    for summary in page.locator("details.attempts summary").all():
        summary.click()
    audit(page, "webhooks-deliveries")
    db.execute("UPDATE outbox SET status = 'failed' WHERE subject_id = (SELECT event_id FROM"
               " webhook_message WHERE subject_id = ? AND subject_kind = 'return')", [failing])
    page.reload()
    page.get_by_text("How to check that a request came from us").click()
    audit(page, "webhooks-failed")
    # The endpoint went a day unanswered, and the merchant's ERP added two through the API.
    from returns_app.services import webhook_endpoints
    from returns_app.store.db import write_transaction
    from returns_app.webhooks import health

    [(first,)] = db.execute("SELECT id FROM webhook_endpoint").fetchall()
    erp, _ = webhook_endpoints.create(db, merchant_id, "https://erp.nordic.example/returns",
                                      ["refund.succeeded"], "e2e", allow_local=False)
    webhook_endpoints.create(db, merchant_id, "https://crm.nordic.example/hooks/returns/v2",
                             None, "e2e", allow_local=False)
    with write_transaction(db):
        health.exhausted(db, first)
        health.exhausted(db, erp["id"])
    page.reload()
    expect(page.locator(".webhook-failing")).to_be_visible()
    expect(page.get_by_role("heading", name="More endpoints")).to_be_visible()
    audit(page, "webhooks-failing-and-more-endpoints")
    page.get_by_role("button", name="Rotate signing secret").click()
    audit(page, "webhooks-secret-rotated")

    audit.assert_clean(7)


def _merchant_sign_in_exists() -> bool:
    from returns_app import create_app

    return any(rule.rule == "/merchant/signin" for rule in create_app().url_map.iter_rules())


@pytest.mark.skipif(not _merchant_sign_in_exists(),
                    reason="/merchant/signin is built on the merchant portal branch; this test "
                           "runs once that branch is merged")
def test_staff_sign_in_through_the_portal_and_reach_webhooks(new_page, server_database):
    from returns_app.store.db import connect

    db = connect(server_database)
    (merchant_id,) = db.execute("SELECT id FROM merchant WHERE name = 'Hemma Design'").fetchone()
    email = f"webhooks-{secrets.token_hex(3)}@hemma.example"
    make_merchant_user(db, merchant_id, email, STAFF_PASSWORD)
    db.close()
    page = new_page(PHONE)
    page.goto(PAGE)
    expect(page).to_have_url(re.compile(r"/merchant/signin\?next="))
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(STAFF_PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator(
        "[type=submit]").click()
    page.goto(PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    expect(page.get_by_label("Webhook URL")).to_be_visible()
