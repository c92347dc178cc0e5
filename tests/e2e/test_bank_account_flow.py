"""The app customer's half in a phone browser (375 px, no JavaScript), in Swedish and in English:
link a bank
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


def money(minor: int) -> str:
    """A pattern for an amount as either language may write it (1 346,00 kr or SEK 1,346.00)."""
    whole, cents = divmod(minor, 100)
    digits = f"{whole:,}".replace(",", r"[\s\u00a0,]?")
    return rf"(?:SEK\s?)?{digits}[.,]{cents:02d}(?:\s?kr)?"


# What the customer reads and clicks, in each language the browser asks for.
WORDS = {
    "sv": {"locale": "sv-SE", "email": "E-postadress", "password": "Lösenord",
           "sign_in": "Logga in", "clearing": "Clearingnummer", "account": "Kontonummer",
           "link": "Koppla det här kontot",
           "check_digit": "Kontonumret stämmer inte med kontrollsiffran för SEB",
           "linked": "SEB {clearing}, konto ••••{last4}",
           "mandate": "Jag, Kim Kund, ger Returhjälpen tillåtelse",
           "confirm": "Jag godkänner medgivandet",
           "mandate_heading": "Ditt medgivande till autogiro",
           "confirmed": r"Du godkände den här texten den .* kl\. \d\d:\d\d",
           "pay_on_due": "Betala på förfallodagen", "taken": "dras från ditt bankkonto den dagen",
           "at_most": "Högst " + money(134600),
           "debited": money(54700) + r" · betald .* från ditt bankkonto",
           "not_debited": money(134600) + " · betald",
           "sent_to": "Skickad till SEB {clearing}, konto ••••{last4}",
           "choose": "Välj vart du vill få din återbetalning", "refunds": "Dina återbetalningar",
           "tee": money(19900)},
    "en": {"locale": "en-GB", "email": "Email address", "password": "Password",
           "sign_in": "Sign in", "clearing": "Clearing number", "account": "Account number",
           "link": "Link this account",
           "check_digit": "The account number doesn't match SEB's check digit",
           "linked": "SEB {clearing}, account ••••{last4}",
           "mandate": "I, Kim Kund, authorise Returns assistant",
           "confirm": "I confirm the mandate", "mandate_heading": "Your direct-debit mandate",
           "confirmed": r"You confirmed this text on .* at \d\d:\d\d",
           "pay_on_due": "Pay on the due date", "taken": "is taken from your bank account that day",
           "at_most": "At most " + money(134600),
           "debited": money(54700) + r" · paid .* from your bank account",
           "not_debited": money(134600) + " · paid",
           "sent_to": "Sent to SEB {clearing}, account ••••{last4}",
           "choose": "Choose where to receive your refund", "refunds": "Your refunds",
           "tee": money(19900)},
}


def seb_account() -> tuple[str, str]:
    from returns_app.domain.payout_details import parse_payout_details
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
    from returns_app.store.db import connect

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


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_link_mandate_pay_on_due_date_and_refunds_follow_the_account(
        browser, server, make_order, server_db, screenshots_dir, lang):
    from returns_app.domain.passwords import hash_password
    from returns_app.services import decisions, support, support_actions
    from returns_app.services.orders import Viewer
    from returns_app.services.returns import report_return

    w = WORDS[lang]
    good, wrong = seb_account()
    order = make_order()
    server_db.execute("UPDATE customer SET password_hash = ? WHERE email = ?",
                      [hash_password(PASSWORD), order["email"]])
    context = browser.new_context(viewport=PHONE, base_url=server, java_script_enabled=False,
                                  locale=w["locale"])
    context.set_default_timeout(5000)
    page = context.new_page()
    audit = AxeAudit(screenshots_dir, prefix=f"bank-account-{lang}-")

    def audit_here(name: str, fill: dict | None = None, button: str | None = None) -> None:
        """axe runs in the page, so the audit looks at the same page in a JavaScript context
        with the same cookies (the flow itself runs without JavaScript)."""
        twin = browser.new_context(viewport=PHONE, base_url=server, locale=w["locale"],
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
    page.get_by_label(w["email"]).fill(order["email"])
    page.get_by_label(w["password"]).fill(PASSWORD)
    page.get_by_role("button", name=w["sign_in"]).click()

    # A wrong check digit first: the error next to the field, the input kept.
    page.goto("/account/bank-account")
    page.get_by_label(w["clearing"]).fill(SEB)
    page.get_by_label(w["account"]).fill(wrong)
    page.get_by_role("button", name=w["link"]).click()
    expect(page.locator("#account_number-error")).to_contain_text(w["check_digit"])
    expect(page.get_by_label(w["account"])).to_have_value(wrong)
    expect(page.get_by_label(w["clearing"])).to_have_value(SEB)
    audit_here("wrong-check-digit", {w["clearing"]: SEB, w["account"]: wrong}, w["link"])

    page.get_by_label(w["account"]).fill(good)
    page.get_by_role("button", name=w["link"]).click()
    expect(page.locator(".account-linked")).to_contain_text(
        w["linked"].format(clearing=SEB, last4=good[-4:]))
    mandate = page.locator(".mandate-text")
    expect(mandate).to_contain_text(w["mandate"])
    page.get_by_role("button", name=w["confirm"]).click()
    expect(page.get_by_role("heading", name=w["mandate_heading"])).to_be_visible()
    expect(page.get_by_text(re.compile(w["confirmed"]))).to_be_visible()
    audit_here("account")

    # Schedule the invoice for its due date, from the order page.
    order_url = f"/orders/{order['id']}"
    page.goto(order_url)
    page.get_by_role("button", name=w["pay_on_due"]).first.click()
    card = page.get_by_role("region", name=w["pay_on_due"])
    expect(card).to_contain_text(w["taken"])
    expect(card).to_contain_text(re.compile(w["at_most"]))
    audit_here("order-scheduled")

    # The shop accepts the returned jeans before the due date; support moves the due date to
    # today, and the day's debit time (08:00 in Stockholm, still to come when this runs at
    # night) is brought to now, so the worker takes the debit now: only what is owed,
    # 1 346 - 799 = 547 kr.
    viewer = Viewer(order_ids=frozenset({order["id"]}))
    jeans, tee = order["lines"][0], order["lines"][1]
    ret = report_return(server_db, viewer, order["id"], {"items": [
        {"line_id": jeans["id"], "quantity": 1, "reason": "too_large"}]})
    decisions.register(server_db, order["merchant_id"], ret["id"], {"items": [
        {"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]}, actor="e2e")
    agent = support.create_support_user(server_db, f"agent-{order['id']}@example.se")[0]["id"]
    from returns_app.domain import clock
    support_actions.move_due_date(server_db, order["id"], clock.today(), agent,
                                  "e2e: due today")
    from returns_app.store import outbox
    from returns_app.store import payments as payment_rows
    from returns_app.store.db import write_transaction
    [debit] = payment_rows.untried_debits_of_order(server_db, order["id"])  # the one just moved
    with write_transaction(server_db):
        outbox.reschedule(server_db, "debit", debit["id"], clock.now())
    text = until(page, order_url, w["debited"])
    assert not re.search(w["not_debited"], text)

    # A later return: its refund goes to the linked account without asking.
    later = report_return(server_db, viewer, order["id"], {"items": [
        {"line_id": tee["id"], "quantity": 1, "reason": "too_small"}]})
    decisions.register(server_db, order["merchant_id"], later["id"], {"items": [
        {"return_item_id": later["items"][0]["id"], "accepted_quantity": 1}]}, actor="e2e")
    text = until(page, order_url, re.escape(w["sent_to"].format(clearing=SEB, last4=good[-4:])))
    assert w["choose"] not in text
    refunds = page.get_by_role("region", name=w["refunds"])
    expect(refunds).to_contain_text(re.compile(w["tee"]))
    audit_here("order-refunded")
    audit.assert_clean(4)
    context.close()
