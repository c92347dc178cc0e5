"""Issue 16's attack in a browser: agent A sends an 8 995 kr refund to a German IBAN on his own.
Nothing is paid: A can't approve it himself; when B approves, the payout still waits out the
customer's 24 hours; the customer's email links to a page that stops it, and nothing ever
reaches that IBAN at the (sandbox) provider. The approval and objection pages pass axe."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from playwright.sync_api import expect

from .accessibility import AxeAudit
from .conftest import DESKTOP, PHONE
from .test_email_links import open_sent_email
from .test_support_console import sign_in

IBAN = "DE89 3704 0044 0532 0130 00"
AMOUNT = 899_500


@pytest.fixture
def server_db(server_database):
    from returns_app.store.db import connect

    db = connect(server_database)
    yield db
    db.close()


@pytest.fixture
def big_refund(server_db):
    """An invoice order of 8 995 kr paid by transfer, returned and accepted: its refund waits
    for an account."""
    from returns_app.services import payments, refunds
    from tests.builders import decide, make_order, make_return

    (merchant_id,) = server_db.execute(
        "SELECT id FROM merchant WHERE name = 'Nordic Outfitters'").fetchone()
    order = make_order(server_db, merchant_id, lines=[
        {"sku": "SOFA", "name": "Sofa", "quantity": 1, "unit_price": AMOUNT}])
    payments.record_transfer(server_db, order["id"], AMOUNT, f"OCR {order['id']}", actor="e2e")
    ret = make_return(server_db, order)
    decide(server_db, merchant_id, ret, (0, 1, 0))
    (refund,) = refunds.refunds_of_order(server_db, order["id"])
    assert refund["amount_minor"] == AMOUNT and refund["status"] == "needs_details"
    email = server_db.execute("SELECT email FROM customer WHERE id = ?",
                              [order["customer_id"]]).fetchone()[0]
    return refund | {"email": email}


def payouts(server_db, refund_id: int) -> list[tuple]:
    return server_db.execute("SELECT status, available_at FROM outbox WHERE kind = 'payout'"
                             " AND subject_id = ?", [refund_id]).fetchall()


def paid_to_iban(server_folder) -> list[str]:
    path = server_folder / "sandbox-provider.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as sandbox:
        bodies = [row[0] for row in sandbox.execute(
            "SELECT body FROM record WHERE kind = 'payout'")]
    return [b for b in bodies if IBAN.replace(" ", "") in json.dumps(json.loads(b))]


def test_one_agent_cannot_send_a_refund_abroad(new_page, big_refund, server_db,
                                               server_folder, screenshots_dir):
    from returns_app.domain import clock

    audit = AxeAudit(screenshots_dir, prefix="attack-")
    refund_url = f"/support/refunds/{big_refund['id']}"

    agent_a = new_page(DESKTOP, js=True)  # axe runs in the page; the console needs no JS
    sign_in(agent_a)
    agent_a.goto(refund_url)
    card = agent_a.locator("#act-destination")
    card.get_by_label("IBAN").fill(IBAN)
    card.get_by_label("How the customer agreed").fill("By phone, says he moved to Berlin")
    card.get_by_label("Why").fill("Customer asked to be paid in Germany")
    card.get_by_role("button", name="Ask for approval").click()
    expect(agent_a.get_by_role("status")).to_contain_text(
        "A second support user must approve it")
    # Nothing is paid out: no payout queued at all, and A can't approve his own request.
    assert payouts(server_db, big_refund["id"]) == []
    approval = agent_a.locator("#approval")
    expect(approval).to_contain_text("DE89 •••• •••• •••• 3000")
    expect(approval.get_by_role("button", name="Approve the new account")).to_have_count(0)
    expect(agent_a.locator("body")).not_to_contain_text(IBAN)
    audit(agent_a, "requested")

    # B sees who asked, the amount, the masked account and why, and approves.
    agent_b = new_page(DESKTOP, js=True)
    sign_in(agent_b, "support2@example.se")
    expect(agent_b.locator(".approvals")).to_contain_text("DE89 •••• •••• •••• 3000")
    agent_b.goto(refund_url)
    approval = agent_b.locator("#approval")
    expect(approval).to_contain_text("support@example.se asked to send 8")
    expect(approval).to_contain_text("Customer asked to be paid in Germany")
    audit(agent_b, "approval")
    approval.get_by_label("Why").fill("Checked: the request is in order")
    approval.get_by_role("button", name="Approve the new account").click()
    expect(agent_b.get_by_role("status")).to_contain_text("Approved")
    # Approved, and still nothing due: the customer's 24 hours run first.
    ((status, available_at),) = payouts(server_db, big_refund["id"])
    assert status == "pending" and available_at > clock.now_iso()

    # The customer is told at the address on file, and objects.
    inbox = new_page(PHONE)
    open_sent_email(inbox, big_refund["email"], "ett nytt konto har angetts")
    body = inbox.locator(".mail-body")
    expect(body).to_contain_text("DE89 •••• •••• •••• 3000")
    href = body.get_by_role("link").filter(has_text="/refunds/object/").get_attribute("href")
    customer = new_page(PHONE, js=True)
    customer.goto(href)
    expect(customer.get_by_role("heading", level=1)).to_be_visible()
    audit(customer, "objection")
    customer.get_by_role("button", name=re.compile(
        "This wasn’t me|Det var inte jag")).click()
    expect(customer.get_by_role("status")).to_contain_text(re.compile("Stopped|Stoppat"))
    audit(customer, "objected")

    # Nothing is ever paid to that IBAN; the case waits for support with its reason.
    ((status, _),) = payouts(server_db, big_refund["id"])
    assert status == "done"
    refund = server_db.execute("SELECT status, destination_json FROM refund WHERE id = ?",
                               [big_refund["id"]]).fetchone()
    assert tuple(refund) == ("needs_details", None)
    assert paid_to_iban(server_folder) == []
    agent_b.goto(refund_url)
    expect(agent_b.locator(".reason-list")).to_contain_text("Customer stopped a new account")
    expect(agent_b.locator(".history")).to_contain_text("the holder of the link sent to")
    audit.assert_clean(4)
