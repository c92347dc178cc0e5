"""The app customer's half in a Swedish phone browser (375 px, no JavaScript): link a bank
account (a wrong check digit first), confirm the mandate, pay an invoice on its due date; a
return accepted before the due date lowers the debit, and the refund of a later return lands on
the account without asking. Runs against `python run.py` (web, worker, sandbox provider) on an
order of its own.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from .accessibility import AxeAudit
from .conftest import PHONE

SEB = "5214"
PASSWORD = "returns-demo"
WORKER_WITHIN = 30.0  # seconds: the worker runs a round every 2 s


def seb_account() -> tuple[str, str]:
    from returns_app.payout_details import parse_payout_details
    for body in ("123456", "234567", "345678"):
        for check in "0123456789":
            try:
                parse_payout_details({"clearing_number": SEB, "account_number": body + check})
            except Exception:  # noqa: BLE001,S112  (not this digit)
                continue
            return body + check, body + str((int(check) + 1) % 10)
    raise AssertionError("no valid SEB account")


@pytest.fixture
def server_db(server_database):
    from returns_app.db import connect

    db = connect(server_database)
    yield db
    db.close()


def until(page: Page, url: str, pattern: str) -> str:
    """Reload `url` (as a customer would) until its text matches `pattern`; bounded."""
    deadline = time.monotonic() + WORKER_WITHIN
    while True:
        page.goto(url)
        text = " ".join(page.locator("main").inner_text().split())
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            pytest.fail(f"{url} never showed {pattern!r}:\n{text}")
        page.wait_for_timeout(500)


def test_link_mandate_pay_on_due_date_and_refunds_follow_the_account(
        browser, server, make_order, server_db, screenshots_dir):
    from returns_app.passwords import hash_password
    from returns_app.services import decisions, support, support_actions
    from returns_app.services.orders import Viewer
    from returns_app.services.returns import report_return

    good, wrong = seb_account()
    order = make_order()
    server_db.execute("UPDATE customer SET password_hash = ? WHERE email = ?",
                      [hash_password(PASSWORD), order["email"]])
    context = browser.new_context(viewport=PHONE, base_url=server, java_script_enabled=False,
                                  locale="sv-SE")
    context.set_default_timeout(5000)
    page = context.new_page()
    audit = AxeAudit(screenshots_dir, prefix="bank-account-")

    def audit_here(name: str, fill: dict | None = None, button: str | None = None) -> None:
        """axe runs in the page, so the audit looks at the same page in a JavaScript context
        with the same cookies (the flow itself runs without JavaScript)."""
        twin = browser.new_context(viewport=PHONE, base_url=server, locale="sv-SE",
                                   java_script_enabled=True,
                                   storage_state=context.storage_state())
        seen = twin.new_page()
        seen.goto(page.url)
        for label, value in (fill or {}).items():
            seen.get_by_label(label).fill(value)
        if button:
            seen.get_by_role("button", name=button).click()
        audit(seen, name)
        twin.close()

    page.goto("/signin")
    page.get_by_label("E-postadress").fill(order["email"])
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()

    # A wrong check digit first: the error next to the field, the input kept.
    page.goto("/account/bank-account")
    page.get_by_label("Clearingnummer").fill(SEB)
    page.get_by_label("Kontonummer").fill(wrong)
    page.get_by_role("button", name="Koppla det här kontot").click()
    expect(page.locator("#account_number-error")).to_contain_text(
        "Kontonumret stämmer inte med kontrollsiffran för SEB")
    expect(page.get_by_label("Kontonummer")).to_have_value(wrong)
    expect(page.get_by_label("Clearingnummer")).to_have_value(SEB)
    audit_here("wrong-check-digit", {"Clearingnummer": SEB, "Kontonummer": wrong},
               "Koppla det här kontot")

    page.get_by_label("Kontonummer").fill(good)
    page.get_by_role("button", name="Koppla det här kontot").click()
    expect(page.locator(".account-linked")).to_contain_text(f"SEB {SEB}, konto ••••{good[-4:]}")
    mandate = page.locator(".mandate-text")
    expect(mandate).to_contain_text("Jag, Kim Kund, ger Returhjälpen tillåtelse")
    page.get_by_role("button", name="Jag godkänner medgivandet").click()
    expect(page.get_by_role("heading", name="Ditt medgivande till autogiro")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Du godkände den här texten den .* kl\. \d\d:\d\d"))
           ).to_be_visible()
    audit_here("account")

    # Schedule the invoice for its due date, from the order page.
    order_url = f"/orders/{order['id']}"
    page.goto(order_url)
    page.get_by_role("button", name="Betala på förfallodagen").first.click()
    card = page.get_by_role("region", name="Betala på förfallodagen")
    expect(card).to_contain_text("dras från ditt bankkonto den dagen")
    expect(card).to_contain_text("Högst 1 346,00 kr")
    audit_here("order-scheduled")

    # The shop accepts the returned jeans before the due date; support moves the due date to
    # today, so the worker takes the debit now: only what is owed, 1 346 - 799 = 547 kr.
    viewer = Viewer(order_ids=frozenset({order["id"]}))
    jeans, tee = order["lines"][0], order["lines"][1]
    ret = report_return(server_db, viewer, order["id"], {"items": [
        {"line_id": jeans["id"], "quantity": 1, "reason": "too_large"}]})
    decisions.register(server_db, order["merchant_id"], ret["id"], {"items": [
        {"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]}, actor="e2e")
    agent = support.create_support_user(server_db, f"agent-{order['id']}@example.se")[0]["id"]
    from returns_app import clock
    support_actions.move_due_date(server_db, order["id"], clock.today(), agent,
                                  "e2e: due today")
    text = until(page, order_url, r"547,00 kr · betald .* från ditt bankkonto")
    assert "1 346,00 kr · betald" not in text

    # A later return: its refund goes to the linked account without asking.
    later = report_return(server_db, viewer, order["id"], {"items": [
        {"line_id": tee["id"], "quantity": 1, "reason": "too_small"}]})
    decisions.register(server_db, order["merchant_id"], later["id"], {"items": [
        {"return_item_id": later["items"][0]["id"], "accepted_quantity": 1}]}, actor="e2e")
    text = until(page, order_url, rf"Skickad till SEB {SEB}, konto ••••{good[-4:]}")
    assert "Välj vart du vill få din återbetalning" not in text
    refunds = page.get_by_role("region", name="Dina återbetalningar")
    expect(refunds).to_contain_text("199,00 kr")
    audit_here("order-refunded")
    audit.assert_clean(4)
    context.close()
