"""The email-only customer pays his invoice from his own bank, in a phone browser without
JavaScript, in English and in Swedish: the order page shows the bankgiro and his OCR
reference; the sandbox bank's camt.054 file (written and imported by the real `flask`
commands) books it; he returns the jeans, the
merchant accepts, the overpaid 799 kr waits for an account, the emailed link takes a Swedish
bank account, and the worker pays it out. No demo shortcut on the way.

Also: axe on the order page with the payment details and on the support console's unmatched
payments page, with screenshots of both. Orders of its own (`make_order`), so no test depends
on another's runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import Page, expect

from tests.databases import env_for

from .accessibility import AxeAudit
from .conftest import PHONE, ROOT
from .test_customer_flow import find_order, ore
from .test_email_links import open_sent_email
from .test_money_flow import JEANS
from .test_support_console import sign_in


def flask(database, *args: str) -> str:
    """The admin command as an operator runs it, on the e2e server's database."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "returns_app", *args], cwd=ROOT,
        env={**os.environ, **env_for(database)}, capture_output=True, text=True,
        timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def bank_details(page: Page, name: str = "Pay from your own bank") -> dict[str, str]:
    region = page.get_by_role("region", name=name)
    facts = {}
    for row in region.locator(".facts > div").all():
        facts[row.locator("dt").inner_text().strip()] = row.locator("dd").inner_text().strip()
    return facts


# What the email-only customer reads and clicks, in each language his browser asks for.
WORDS = {
    "en": {"locale": "en-GB", "number": "Order number", "email": "Email address",
           "find": "Find my order", "to_pay": "To pay", "paid": "Paid",
           "bank_region": "Pay from your own bank", "ocr": "OCR reference", "amount": "Amount",
           "payments": "Payments", "by_transfer": "by bank transfer",
           "return_items": "Return items", "how_many": "How many go back", "reason": "Reason",
           "too_small": "Too small", "report": "Report return", "reported": "Reported",
           "needs_account": "Needs your account", "refunds": "Your refunds",
           "to_bank": "To a Swedish bank account", "clearing": "Clearing number",
           "account": "Account number", "on_its_way": "on its way", "sent": "Sent",
           "sent_to": r"Sent to .*7897"},
    "sv": {"locale": "sv-SE", "number": "Ordernummer", "email": "E-postadress",
           "find": "Hitta min order", "to_pay": "Att betala", "paid": "Betalt",
           "bank_region": "Betala från din egen bank", "ocr": "OCR-nummer", "amount": "Belopp",
           "payments": "Betalningar", "by_transfer": "med banköverföring",
           "return_items": "Returnera varor", "how_many": "Hur många skickas tillbaka",
           "reason": "Anledning", "too_small": "För liten", "report": "Anmäl retur",
           "reported": "Anmäld", "needs_account": "Behöver ditt konto",
           "refunds": "Dina återbetalningar", "to_bank": "Till ett svenskt bankkonto",
           "clearing": "Clearingnummer", "account": "Kontonummer", "on_its_way": "på väg",
           "sent": "Skickad", "sent_to": r"Skickad till .*7897"},
}
REFUND_SENT_WITHIN = 30.0  # seconds: the worker runs a round every 2 s


def owed(page: Page, label: str) -> int:
    return ore(page.locator(".money-list > div").filter(
        has=page.locator("dt", has_text=re.compile(f"^{label}$"))).locator("dd").inner_text())


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_the_email_only_customer_pays_from_his_bank_and_gets_his_overpayment_back(
        new_page, make_order, server_database, tmp_path, screenshots_dir, lang):
    from returns_app.services import decisions
    from returns_app.store.db import connect

    w = WORDS[lang]
    order = make_order()
    page = new_page(PHONE, locale=w["locale"])
    page.goto("/")
    page.get_by_label(w["number"]).fill(order["order_number"])
    page.get_by_label(w["email"]).fill(order["email"])
    page.get_by_role("button", name=w["find"]).click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = page.url
    total = owed(page, w["to_pay"])
    details = bank_details(page, w["bank_region"])
    assert details["Bankgiro"] == "991-2346"
    assert re.fullmatch(r"\d{9}", details[w["ocr"]]), details
    assert ore(details[w["amount"]]) == total

    # His bank pays the whole invoice to the bankgiro with the OCR reference he typed from
    # the page; the bank's file is written and booked by the admin commands.
    path = tmp_path / "bank.xml"
    flask(server_database, "sandbox-bank-file", "--pay", order["order_number"],
          f"{total // 100},{total % 100:02d}", "--out", str(path))
    assert details[w["ocr"]].encode() in path.read_bytes()
    assert "Booked 1, unmatched 0, duplicates 0." in flask(
        server_database, "import-bank-file", str(path))
    # The same file again books nothing.
    assert "Booked 0, unmatched 0, duplicates 1." in flask(
        server_database, "import-bank-file", str(path))

    page.goto(order_url)
    assert owed(page, w["paid"]) == total
    assert owed(page, w["to_pay"]) == 0
    expect(page.get_by_role("region", name=w["bank_region"])).to_have_count(0)
    expect(page.get_by_role("region", name=w["payments"]).get_by_role("listitem")
           ).to_contain_text(w["by_transfer"])
    inbox = new_page(PHONE)
    open_sent_email(inbox, order["email"], "Kvitto:")

    # He returns the jeans; the merchant accepts them.
    page.goto(order_url)
    page.get_by_role("link", name=w["return_items"]).click()
    group = page.get_by_role("group", name=re.compile(re.escape(JEANS)))
    group.get_by_label(w["how_many"]).fill("1")
    group.get_by_label(w["reason"]).select_option(label=w["too_small"])
    page.get_by_role("button", name=w["report"]).click()
    expect(page.locator(".badge")).to_have_text(w["reported"])
    ret_id = int(page.url.rsplit("/", 1)[1])
    db = connect(server_database)
    try:
        item = db.execute("SELECT id FROM return_item WHERE return_id = ?", [ret_id]).fetchone()
        decisions.register(db, order["merchant_id"], ret_id, {"items": [
            {"return_item_id": item[0], "accepted_quantity": 1}]}, actor="e2e")
    finally:
        db.close()

    # Overpaid: the refund waits for an account, and the email asks him where it should go.
    page.goto(order_url)
    refund = page.get_by_role("region", name=w["refunds"]).locator("li.refund")
    expect(refund.locator(".badge")).to_have_text(w["needs_account"])
    assert ore(refund.locator(".line-name").inner_text()) == 79900
    open_sent_email(inbox, order["email"], "Vart ska vi skicka din återbetalning")
    link = inbox.locator(".mail-body").get_by_role("link").filter(has_text="/refunds/")
    phone = new_page(PHONE, locale=w["locale"])
    phone.goto(link.first.get_attribute("href"))
    form = phone.get_by_role("form", name=w["to_bank"])
    form.get_by_label(w["clearing"]).fill("8327-9")
    form.get_by_label(w["account"]).fill("1234567897")
    form.get_by_role("button").click()
    expect(phone.get_by_role("status")).to_contain_text(w["on_its_way"])

    # The worker pays it out through the sandbox provider.
    deadline = time.monotonic() + REFUND_SENT_WITHIN
    while True:
        page.goto(order_url)
        if refund.locator(".badge").inner_text().strip() == w["sent"]:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"the refund still shows {refund.inner_text()!r}")
        page.wait_for_timeout(500)
    expect(refund).to_contain_text(re.compile(w["sent_to"]))
    page.screenshot(path=screenshots_dir / f"email-only-{lang}-refunded-375.png", full_page=True)


def test_bank_pages_pass_axe_at_both_widths(new_page, make_order, server_database, tmp_path,
                                            screenshots_dir):
    audit = AxeAudit(screenshots_dir, prefix="bank-")
    order = make_order()
    page = new_page(PHONE, js=True)  # axe runs in the page; the pages themselves don't use JS
    find_order(page, order["order_number"], order["email"])
    expect(page.get_by_role("region", name="Pay from your own bank")).to_be_visible()
    audit(page, "order-with-payment-details")

    # A payment whose reference was mistyped: support matches it by hand.
    path = tmp_path / "typo.xml"
    flask(server_database, "sandbox-bank-file", "--typed", "100012393", "250",
          "--typed", "Faktura mars", "99,50", "--out", str(path))
    assert "unmatched 2" in flask(server_database, "import-bank-file", str(path))
    console = new_page(PHONE, js=True)
    sign_in(console)
    console.get_by_role("link", name="Unmatched payments").click()
    expect(console.get_by_role("heading", level=1)).to_have_text("Unmatched payments")
    card = console.locator("li.unmatched").filter(has_text="100012393")
    expect(card).to_contain_text("check digit is wrong")
    audit(console, "support-unmatched")
    # A why is required: the error sits next to the field and the order number stays.
    card.get_by_text("Book to an order").click()  # the action folds open (<details>)
    card.get_by_label("Order number").fill(order["order_number"])
    card.get_by_role("button", name="Book to this order").click()
    card = console.locator("li.unmatched").filter(has_text="100012393")
    expect(card.get_by_label("Order number")).to_have_value(order["order_number"])
    expect(card.locator(".field-error")).to_have_count(1)
    audit(console, "support-unmatched-error")
    card.get_by_label("Why").first.fill("The payer called: one digit wrong")
    card.get_by_role("button", name="Book to this order").click()
    expect(console.get_by_role("status").or_(console.locator(".notice-success")).first
           ).to_contain_text(f"Booked to order {order['order_number']}")
    audit.assert_clean()
