"""Swedish by default, English selectable: how the language is chosen, the switch, and amounts
and dates in both languages."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

import pytest
from babel.dates import get_month_names
from flask_babel import force_locale

from returns_app import create_app
from returns_app.domain.money import format_minor
from returns_app.domain.passwords import hash_password
from returns_app.services import customers, merchants
from returns_app.web.filters import day
from returns_app.web.i18n import safe_next
from tests.builders import INSTRUCTIONS, make_merchant, make_order, make_return

SWEDISH_INSTRUCTIONS = INSTRUCTIONS.replace("language: en", "language: sv").replace(
    "# How to return", "# Så returnerar du").replace("1. Pack the items.", "1. Packa varorna.")

EMAIL = "kund@example.se"
SV = {"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def lang(response) -> str:
    return re.search(r'<html lang="(\w+)">', response.get_data(as_text=True))[1]


@pytest.fixture
def order(db):
    merchant, _ = make_merchant(db)
    return make_order(db, merchant["id"])


@pytest.fixture
def found(client, order):
    response = client.post("/", data={"order_number": order["order_number"], "email": EMAIL})
    assert response.status_code == 302
    return order


def switch(client, language: str, next_: str = "/", **kwargs):
    return client.post("/language", data={"language": language, "next": next_}, **kwargs)


# --- choosing the language --------------------------------------------------------------------

def test_swedish_when_nothing_says_otherwise(app):
    # The product's own default; the tests' app defaults to English (tests/conftest.py).
    product = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                          "DATABASE": app.config["DATABASE"]})
    assert product.config["BABEL_DEFAULT_LOCALE"] == "sv_SE"
    response = product.test_client().get("/")
    assert lang(response) == "sv"
    assert "Returnera något du har köpt" in text(response)


@pytest.mark.parametrize("header, expected, heading", [
    ("sv-SE,sv;q=0.9,en;q=0.8", "sv", "Returnera något du har köpt"),
    ("sv", "sv", "Returnera något du har köpt"),
    ("en-US,en;q=0.9", "en", "Return something you bought"),
    ("de-DE,de;q=0.9,en;q=0.5", "en", "Return something you bought"),
    ("fi-FI,sv;q=0.8,en;q=0.5", "sv", "Returnera något du har köpt"),
])
def test_the_browsers_best_match_among_swedish_and_english(client, header, expected, heading):
    response = client.get("/", headers={"Accept-Language": header})
    assert lang(response) == expected
    assert f"<h1>{heading}</h1>" in text(response)


def test_an_explicit_choice_beats_the_browser_and_persists(client):
    response = switch(client, "en", headers=SV)
    assert response.status_code == 303
    for path in ("/", "/signin"):
        page = client.get(path, headers=SV)
        assert lang(page) == "en"
    assert "Sign in" in text(client.get("/signin", headers=SV))
    switch(client, "sv", headers=EN)
    page = client.get("/signin", headers=EN)
    assert lang(page) == "sv" and "<h1>Logga in</h1>" in text(page)


def test_an_unknown_language_changes_nothing(client):
    switch(client, "de", headers=SV)
    assert lang(client.get("/", headers=SV)) == "sv"


def test_the_switch_goes_back_to_the_page_it_was_on(client, found):
    page = client.get(f"/orders/{found['id']}", headers=SV)
    assert f'name="next" value="/orders/{found["id"]}"' in page.get_data(as_text=True)
    response = switch(client, "en", f"/orders/{found['id']}")
    assert response.headers["Location"] == f"/orders/{found['id']}"


def test_after_a_form_post_the_switch_goes_back_to_the_forms_page(client, found):
    response = client.post(f"/orders/{found['id']}/payments", data={"amount": "abc"},
                           headers={**SV, "Referer": f"http://localhost/orders/{found['id']}"})
    assert response.status_code == 422
    assert f'name="next" value="/orders/{found["id"]}"' in response.get_data(as_text=True)


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "/\n/evil.example", "javascript:alert(1)", "evil.example", "",
    "http:/evil.example", " //evil.example",
])
def test_an_unsafe_next_is_refused(client, target):
    response = switch(client, "en", target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/", "/orders/5", "/signin?next=x", "/refunds/abc.def"])
def test_a_local_next_is_kept(app, target):
    with app.test_request_context():
        assert safe_next(target) == target


def test_a_signed_in_customers_choice_is_saved_for_their_emails(client, db, order):
    db.execute("UPDATE customer SET password_hash = ? WHERE email = ?",
               [hash_password("secret-pass"), EMAIL])
    client.post("/signin", data={"email": EMAIL, "password": "secret-pass"})
    switch(client, "en")
    assert customers.get_customer(db, order["customer_id"])["language"] == "en"
    switch(client, "sv")
    assert customers.get_customer(db, order["customer_id"])["language"] == "sv"


def test_a_choice_before_any_order_is_opened_touches_no_customer(client, db, order):
    switch(client, "en")
    assert customers.get_customer(db, order["customer_id"])["language"] == "sv"


def test_a_guests_choice_follows_the_orders_they_opened_into_instructions_and_emails(
        client, db):
    from returns_app.notifications import queue

    merchant, _ = make_merchant(db, instructions=SWEDISH_INSTRUCTIONS)
    merchants.publish_instructions(db, merchant["id"], INSTRUCTIONS, published_by="test")
    order = make_order(db, merchant["id"])
    client.post("/", data={"order_number": order["order_number"], "email": EMAIL})
    switch(client, "en")
    assert customers.get_customer(db, order["customer_id"])["language"] == "en"
    ret = make_return(db, order)
    page = text(client.get(f"/returns/{ret['id']}"))
    assert "Pack the items." in page and "Packa varorna" not in page
    [note] = [n for n in queue.of_order(db, order["id"]) if n["kind"] == "return_reported"]
    assert note["language"] == "en"


def test_a_language_chosen_before_the_lookup_is_kept_for_that_order(client, db, order):
    switch(client, "en")
    client.post("/", data={"order_number": order["order_number"], "email": EMAIL})
    assert customers.get_customer(db, order["customer_id"])["language"] == "en"


def test_signing_out_keeps_the_language(client, db, order):
    db.execute("UPDATE customer SET password_hash = ? WHERE email = ?",
               [hash_password("secret-pass"), EMAIL])
    client.post("/signin", data={"email": EMAIL, "password": "secret-pass"})
    switch(client, "en")
    response = client.post("/signout", headers=SV, follow_redirects=True)
    assert lang(response) == "en" and "You are signed out." in text(response)


def test_every_page_has_the_switch_each_language_in_its_own_name(client, found):
    for path in ("/", "/signin", f"/orders/{found['id']}", "/no-such-page"):
        page = client.get(path, headers=SV).get_data(as_text=True)
        assert '<span class="language-current" lang="sv" aria-current="true">Svenska</span>' in page
        assert re.search(r'<button[^>]+value="en" lang="en"[^>]*>English</button>', page)


# --- Swedish pages ----------------------------------------------------------------------------

def test_find_order_in_swedish_with_swedish_errors(client):
    response = client.post("/", data={"order_number": "", "email": "nope"}, headers=SV)
    page = text(response)
    assert "Ordernummer" in page and "E-postadress" in page
    assert "Ange ordernumret från din orderbekräftelse." in page
    assert "Ange en giltig e-postadress" in page


def test_a_wrong_pair_is_told_in_swedish(client, order):
    response = client.post("/", data={"order_number": "999-999-999", "email": EMAIL},
                           headers=SV)
    assert "Vi hittade ingen order med det ordernumret och den e-postadressen." in text(response)


def test_order_page_in_swedish(client, found):
    page = text(client.get(f"/orders/{found['id']}", headers=SV))
    assert f"Order {found['order_number']}" in page
    assert "Att betala" in page and "Ordersumma" in page and "Returnera varor" in page
    assert "1 497,00 kr" in page.replace("\u00a0", " ")
    assert re.search(r"förfaller \d{1,2} (januari|februari|mars|april|maj|juni|juli|augusti|"
                     r"september|oktober|november|december) \d{4}", page)


def test_report_and_return_pages_in_swedish(client, db, found):
    form = text(client.get(f"/orders/{found['id']}/returns/new", headers=SV))
    assert "Vad skickar du tillbaka?" in form and "Välj en anledning" in form
    assert "För liten" in form
    response = client.post(f"/orders/{found['id']}/returns/new", headers=SV, data={
        f"qty_{found['lines'][0]['id']}": "1"})
    assert "Välj varför du skickar tillbaka varan." in text(response)
    ret = make_return(db, found)
    page = text(client.get(f"/returns/{ret['id']}", headers=SV))
    assert "Viktiga datum" in page and "Anmäld" in page and "Anledning: För liten" in page


def test_a_flash_in_swedish(client, db, found):
    ret = make_return(db, found)
    response = client.post(f"/returns/{ret['id']}/cancel", headers=SV, follow_redirects=True)
    assert "Din retur är avbruten." in text(response)


def test_error_page_in_swedish(client):
    response = client.get("/no-such-page", headers=SV)
    assert response.status_code == 404 and "<h1>Hittades inte</h1>" in text(response)


# --- amounts and dates ------------------------------------------------------------------------

@pytest.mark.parametrize("minor, shown", [
    (123450, "1\u00a0234,50\u00a0kr"),
    (0, "0,00\u00a0kr"),
    (99, "0,99\u00a0kr"),
    (123456789, "1\u00a0234\u00a0567,89\u00a0kr"),
])
@pytest.mark.parametrize("locale", ["sv_SE", "en_GB"])
def test_amounts_are_swedish_kronor_in_both_languages(app, locale, minor, shown):
    with app.test_request_context(), force_locale(locale):
        assert format_minor(minor) == shown


@pytest.mark.parametrize("locale, shown", [("sv_SE", "23 november 2026"),
                                           ("en_GB", "23 November 2026")])
def test_dates_in_the_pages_language(app, locale, shown):
    with app.test_request_context(), force_locale(locale):
        assert day(date(2026, 11, 23)) == shown
        assert day("2026-11-23") == shown
        # 23:30 UTC is already the 24th in Stockholm: the local calendar day is shown
        assert day(datetime.fromisoformat("2026-11-22T23:30:00+00:00")) == shown


@pytest.mark.parametrize("locale, portal, console, webhook", [
    ("sv_SE", "12 maj 2026, 14:03", "12 maj 2026, 14:03", "12 maj 2026, 14:03:09"),
    ("en_GB", "12 May 2026, 14:03", "12 May 2026, 14:03", "12 May 2026, 14:03:09")])
def test_staff_moments_in_the_pages_language(app, locale, portal, console, webhook):
    from returns_app.web.filters import moment

    at = "2026-05-12T12:03:09+00:00"  # 14:03 in Stockholm (summer time)
    with app.test_request_context(), force_locale(locale):
        assert (moment(at, "short"), moment(at, "short"), moment(at, "seconds")) == \
            (portal, console, webhook)


def test_dates_follow_the_switch_on_a_page(client, found):
    switch(client, "sv")
    sv_page = text(client.get(f"/orders/{found['id']}"))
    switch(client, "en")
    en_page = text(client.get(f"/orders/{found['id']}"))
    month_sv = re.search(r"köpt \d{1,2} (\w+) \d{4}", sv_page)[1]
    month_en = re.search(r"bought \d{1,2} (\w+) \d{4}", en_page)[1]
    sv_months = list(get_month_names("wide", locale="sv").values())
    en_months = list(get_month_names("wide", locale="en").values())
    assert sv_months.index(month_sv) == en_months.index(month_en)
