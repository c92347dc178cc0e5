"""Chromium (Debian's, as tests/e2e drives it) against the installed package under gunicorn:
a customer's and a merchant's forms, from pages kept by any of the workers, all go through.
Chromium treats 127.0.0.1 as a secure context, so the production cookies (Secure) are kept."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.system.forms import Tally
from tests.system.test_forms_across_workers import DEMO_PASSWORD, new_order

BROWSER_TALLY = Tally()


@pytest.fixture
def page(browser, deployment, tally):  # noqa: F811
    context = browser.new_context(base_url=deployment.base_url, java_script_enabled=False,
                                  locale="en-GB", viewport={"width": 375, "height": 740})
    context.set_default_timeout(10000)
    page = context.new_page()

    def count(response):
        if response.request.method == "POST" and response.url.startswith(deployment.base_url):
            for counted in (tally, BROWSER_TALLY):
                counted.tried += 1
                if response.status == 400:
                    counted.csrf_failed += 1
                    counted.refused.append(f"{response.url} (browser)")

    page.on("response", count)
    yield page
    context.close()


def reload_a_few_times(page) -> None:
    for _ in range(3):
        page.reload()


def test_a_customer_and_a_merchant_in_chromium(page, deployment):
    order = new_order(deployment, 100)
    page.goto("/")
    page.get_by_label("Order number").fill(order["order_number"])
    page.get_by_label("Email address").fill(order["customer"]["email"])
    page.get_by_role("button", name="Find my order").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order['id']}$"))

    reload_a_few_times(page)
    page.get_by_role("button", name="Svenska").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    reload_a_few_times(page)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    reload_a_few_times(page)
    page.get_by_role("link", name="Return items").click()
    group = page.get_by_role("group", name=re.compile("T-shirt"))
    group.get_by_label("How many go back").fill("1")
    group.get_by_label("Reason").select_option(label="Too small")
    page.get_by_role("button", name="Report return").click()
    expect(page.get_by_role("status").filter(has_text="Your return is registered")).to_be_visible()

    reload_a_few_times(page)
    page.get_by_label("Tracking number (optional)").fill("CHROMIUM1")
    page.get_by_role("button", name="I've sent it").click()
    expect(page.get_by_role("status").filter(has_text="on its way")).to_be_visible()
    return_path = re.search(r"/returns/\d+", page.url)[0]

    page.goto("/merchant/signin")
    page.get_by_label("Email address").fill("nordic-outfitters@example.se")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Staff read Swedish until they choose (the sign-in page followed the browser's English).
    page.goto("/merchant/account")
    page.locator("select#language").select_option("en")
    page.get_by_role("button", name="Spara språk").click()
    expect(page.get_by_role("status").filter(has_text="now in English")).to_be_visible()
    page.goto(f"/merchant{return_path}")
    reload_a_few_times(page)
    page.get_by_label("Arrived now", exact=True).fill("1")
    page.get_by_label("Accept", exact=True).fill("1")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Registered")).to_be_visible()

    assert BROWSER_TALLY.tried >= 7
    assert BROWSER_TALLY.csrf_failed == 0, BROWSER_TALLY.refused
