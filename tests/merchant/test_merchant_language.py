"""Merchant staff choose their language: the portal, its form errors and their emails follow
it once they are signed in; before that the sign-in page's switch decides."""

from __future__ import annotations

from returns_app.services import merchant_users
from tests.merchant_fixtures import sign_in


def test_staff_are_swedish_until_they_choose(client, db, shop):
    db.execute("UPDATE merchant_user SET language = 'sv'")
    sign_in(client, shop["user"]["email"], headers={"Accept-Language": "en"})
    page = client.get("/merchant/account", headers={"Accept-Language": "en"})
    assert '<html lang="sv"' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_choosing_english_on_the_account_page_turns_the_portal_english(client, db, shop):
    db.execute("UPDATE merchant_user SET language = 'sv'")
    sign_in(client, shop["user"]["email"])
    response = client.post("/merchant/account", data={"language": "en"})
    assert response.status_code == 303
    confirmation = client.get("/merchant/account").get_data(as_text=True)
    assert "Saved: the portal and your emails are now in English." in confirmation
    assert merchant_users.language_of(db, shop["user"]["id"]) == "en"
    page = client.get("/merchant/returns", headers={"Accept-Language": "sv"}).get_data(
        as_text=True)
    assert '<html lang="en"' in page and "Returns" in page
    audit = db.execute("SELECT after_json FROM audit_event WHERE action ="
                       " 'merchant_user.language'").fetchone()
    assert audit == ('{"language": "en"}',)


def test_a_language_that_is_not_offered_is_refused_next_to_the_field(client, db, shop):
    sign_in(client, shop["user"]["email"])
    response = client.post("/merchant/account", data={"language": "de"})
    assert response.status_code == 422
    assert merchant_users.language_of(db, shop["user"]["id"]) == "en"


def test_the_switch_on_the_sign_in_page_works_before_sign_in(client, db, shop):
    client.post("/language", data={"language": "en", "next": "/merchant/signin"})
    assert '<html lang="en"' in client.get("/merchant/signin").get_data(as_text=True)
    client.post("/language", data={"language": "sv", "next": "/merchant/signin"})
    assert '<html lang="sv"' in client.get("/merchant/signin").get_data(as_text=True)


def test_the_switch_when_signed_in_saves_the_staff_members_choice(client, db, shop):
    sign_in(client, shop["user"]["email"])
    client.post("/language", data={"language": "sv", "next": "/merchant/returns"})
    assert merchant_users.language_of(db, shop["user"]["id"]) == "sv"
    assert '<html lang="sv"' in client.get("/merchant/returns").get_data(as_text=True)


def test_a_form_error_in_the_portal_is_in_the_staff_members_language(client, db, shop):
    db.execute("UPDATE merchant_user SET language = 'sv'")
    sign_in(client, shop["user"]["email"])
    response = client.post("/merchant/api-keys", data={"label": ""},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Ge nyckeln ett namn" in response.get_data(as_text=True)


def test_a_domain_rule_broken_in_the_portal_is_told_in_the_staff_members_language(
        client, db, shop):
    # The service's English message goes next to the field through web/form_errors.py, which
    # translates it as the customer's pages do.
    db.execute("UPDATE merchant_user SET language = 'sv'")
    sign_in(client, shop["user"]["email"])
    response = client.post("/merchant/webhooks", data={"url": "http://shop.example.com/hook"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "URL:en måste börja med https:// så att händelserna skickas krypterade." in page
    assert "The URL must start with https://" not in page
