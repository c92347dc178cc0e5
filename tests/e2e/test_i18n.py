"""Swedish pages in a real browser: chosen from the browser's language, switched without
JavaScript, and accessible (axe, WCAG 2.2 AA) at 375 px. Uses an order of its own."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .accessibility import AXE_TAGS
from .conftest import DESKTOP, PHONE
from .staff_sign_in import second_step


@pytest.fixture
def swedish_page(browser, server):
    """A page in a browser that asks for Swedish, with JavaScript on for axe (pages don't
    need it)."""
    context = browser.new_context(viewport=PHONE, base_url=server, locale="sv-SE",
                                  java_script_enabled=True)
    context.set_default_timeout(5000)
    yield context.new_page()
    context.close()


def test_the_switch_works_without_javascript(browser, server):
    context = browser.new_context(viewport=PHONE, base_url=server, locale="sv-SE",
                                  java_script_enabled=False)
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        page.goto("/signin")
        expect(page.locator("html")).to_have_attribute("lang", "sv")
        expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
        page.get_by_role("button", name="English").click()
        expect(page).to_have_url(re.compile(r"/signin$"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        page.goto("/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Return something you bought")
        page.get_by_role("button", name="Svenska").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Returnera något du har köpt")
    finally:
        context.close()


def test_swedish_pages_pass_axe(swedish_page: Page, make_order, screenshots_dir):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    problems: list[str] = []
    page = swedish_page

    def audit(name: str) -> None:
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            for v in axe.run(page, options=options).response["violations"]:
                targets = "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"])
                problems.append(f"{name} at {viewport['width']} px: {v['id']}: {v['help']} "
                                f"({targets})")
            page.screenshot(path=screenshots_dir / f"sv-{name}-{viewport['width']}.png",
                            full_page=True)
        page.set_viewport_size(PHONE)

    order = make_order()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    audit("find-order")
    page.get_by_role("button", name="Hitta min order").click()
    expect(page.locator(".field-error")).to_have_count(2)
    audit("find-order-errors")
    page.get_by_label("Ordernummer").fill(order["order_number"])
    page.get_by_label("E-postadress").fill(order["email"])
    page.get_by_role("button", name="Hitta min order").click()
    expect(page.get_by_role("heading", name="Så här ligger du till")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d{1,2} [a-zåäö]+ \d{4}")).first).to_be_visible()
    audit("order")
    page.get_by_role("link", name="Returnera varor").click()
    page.get_by_role("button", name="Anmäl retur").click()
    expect(page.get_by_role("alert")).to_be_visible()
    audit("report-form-errors")
    group = page.get_by_role("group", name=re.compile("Organic T-shirt"))
    group.get_by_label("Hur många skickas tillbaka").fill("1")
    group.get_by_label("Anledning").select_option(label="För liten")
    page.get_by_role("button", name="Anmäl retur").click()
    expect(page.get_by_role("heading", name=re.compile("Din retur till"))).to_be_visible()
    audit("return")
    assert not problems, "\n".join(problems)


def test_staff_pages_in_swedish_pass_axe_and_fit_a_phone(browser, server, server_database,
                                                         screenshots_dir):
    """The merchant portal and the support console read Swedish to a Swedish browser: every
    page passes axe at 375 and 1280 px, and no Swedish word, longer than the English, pushes a
    page wider than the phone. Looks only: the demo data stays as it was."""
    from axe_playwright_python.sync_playwright import Axe

    from .test_customer_flow import PASSWORD

    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    problems: list[str] = []

    def audit(page: Page, name: str) -> None:
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            where = f"{name} at {viewport['width']} px ({page.url})"
            for v in axe.run(page, options=options).response["violations"]:
                targets = "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"])
                problems.append(f"{where}: {v['id']}: {v['help']} ({targets})")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                problems.append(f"{where}: {width} px wide")
            page.screenshot(path=screenshots_dir / f"sv-{name}-{viewport['width']}.png",
                            full_page=True)
        page.set_viewport_size(PHONE)

    def swedish_staff_page(path: str, email: str) -> Page:
        context = browser.new_context(viewport=PHONE, base_url=server, locale="sv-SE",
                                      java_script_enabled=True)
        context.set_default_timeout(5000)
        page = context.new_page()
        page.goto(path)
        page.get_by_label("E-postadress").fill(email)
        page.get_by_label("Lösenord").fill(PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        second_step(page, email)
        return page

    # Staff read their account's language: Swedish, the default (another test may have set
    # English on the shared server).
    from returns_app.store.db import connect

    db = connect(server_database)
    db.execute("UPDATE merchant_user SET language = 'sv' WHERE email = ?",
               ["hemma-design@example.se"])
    db.close()
    merchant = swedish_staff_page("/merchant/returns", "hemma-design@example.se")
    try:
        expect(merchant.get_by_role("heading", level=1)).to_have_text("Returer")
        audit(merchant, "merchant-returns")
        merchant.locator("main a[href^='/merchant/returns/']").first.click()
        expect(merchant.get_by_role("heading", name="Historik")).to_be_visible()
        audit(merchant, "merchant-return")
        nav = merchant.get_by_role("navigation", name="Handlarportalen")
        for link, heading, name in (("Instruktioner", "Returinstruktioner", "instructions"),
                                    ("API-nycklar", "API-nycklar", "api-keys"),
                                    ("Webhooks", "Webhooks", "webhooks"),
                                    ("Ditt konto", "Ditt konto", "account")):
            nav.get_by_role("link", name=link).click()
            expect(merchant.get_by_role("heading", level=1)).to_have_text(heading)
            audit(merchant, f"merchant-{name}")
    finally:
        merchant.context.close()

    agent = swedish_staff_page("/support/", "support@example.se")
    try:
        expect(agent.get_by_role("heading", level=1)).to_contain_text("Fastnade återbetalningar")
        audit(agent, "support-queue")
        stuck = agent.locator(".stuck-item").filter(has_text="Order 581-200-303")
        stuck.get_by_role("link", name="Fråga betalleverantören igen").click()
        expect(agent.get_by_role("heading", name="Återbetalningen")).to_be_visible()
        audit(agent, "support-refund")
        agent.goto("/support/")
        stuck = agent.locator(".stuck-item").filter(has_text="Order 581-200-304")
        stuck.get_by_role("link", name=re.compile(r"^Order ")).click()
        expect(agent.get_by_role("heading", name="Håll fakturan pausad")).to_be_visible()
        audit(agent, "support-order")
        agent.goto("/support/dashboard")
        expect(agent.get_by_role("heading", level=1)).to_have_text("Översikt")
        audit(agent, "support-dashboard")
    finally:
        agent.context.close()
    assert not problems, "\n".join(problems)
