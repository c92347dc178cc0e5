"""Each email an event causes: queued in the event's transaction, once; its content; and its
link, followed with the test client, landing on the right page without a password."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine

from returns_app import create_app
from returns_app.domain import clock
from returns_app.domain.passwords import hash_password
from returns_app.notifications import queue
from returns_app.services import audit, customers, links, payments, refunds
from returns_app.store.db import insert, select, write_transaction
from tests.builders import decide, make_merchant, make_order, make_return
from tests.notification_helpers import body, deliver_emails, links_in, path_of

EMAIL = "kund@example.se"


@pytest.fixture
def merchant(db):
    return make_merchant(db)[0]


def english_order(db, merchant_id: int, **overrides) -> dict:
    """An order whose customer chose English: most tests below read the emails in English;
    the Swedish ones, the default, are at the end."""
    order = make_order(db, merchant_id, **overrides)
    customers.set_language(db, order["customer_id"], "en")
    return order


@pytest.fixture
def order(db, merchant):
    return english_order(db, merchant["id"])


def notes(db, kind: str | None = None) -> list[dict]:
    rows = list(select(db, "SELECT * FROM notification ORDER BY id"))
    return [r for r in rows if kind is None or r["kind"] == kind]


def one_message(app, db, smtp, kind: str):
    """Deliver what is queued; the one message of `kind` that arrived."""
    deliver_emails(app, db)
    [note] = notes(db, kind)
    found = [m for m in smtp.messages if m["Message-ID"] == note["message_id"]]
    assert len(found) == 1, [m["Subject"] for m in smtp.messages]
    return found[0]


def follow(client, url: str):
    """Follow an emailed link in a browser session that has never seen the order."""
    response = client.get(path_of(url))
    assert response.status_code == 303, response.status_code
    return response.headers["Location"]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --- queuing ------------------------------------------------------------------------------------

def test_an_event_queues_its_email_and_outbox_row_in_the_same_transaction(db, order):
    assert notes(db) == []
    ret = make_return(db, order)
    [note] = notes(db)
    assert (note["kind"], note["order_id"], note["return_id"], note["recipient"],
            note["status"]) == ("return_reported", order["id"], ret["id"], EMAIL, "queued")
    [row] = list(select(db, "SELECT * FROM outbox WHERE kind = 'email'"))
    assert row["subject_id"] == note["id"]


def test_a_rolled_back_change_leaves_no_email(db, order, merchant, monkeypatch):
    ret = make_return(db, order)
    emails_before = len(notes(db))

    def fails_after_the_event(*args, **kwargs):
        raise RuntimeError("the registration fails after its audit row")

    monkeypatch.setattr(refunds, "settle_refund_owed", fails_after_the_event)
    with pytest.raises(RuntimeError):
        decide(db, merchant["id"], ret, (0, 1, 0))
    assert len(notes(db)) == emails_before
    assert notes(db, "return_decided") == []
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == emails_before


def test_the_same_key_is_queued_once(db, order):
    with write_transaction(db):
        first = queue.queue_email(db, "new_link", "k:1", recipient=EMAIL, language="sv",
                                  customer_id=order["customer_id"], order_id=order["id"])
        again = queue.queue_email(db, "new_link", "k:1", recipient=EMAIL, language="sv",
                                  customer_id=order["customer_id"], order_id=order["id"])
    assert first and again is None
    assert len(notes(db)) == 1
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


# --- each email: content and link ---------------------------------------------------------------

def test_return_reported_has_the_instructions_send_by_date_and_a_link(app, db, client, smtp,
                                                                      merchant):
    with time_machine.travel(clock.parse("2026-03-02T09:00:00+00:00"), tick=False):
        order = english_order(db, merchant["id"])
        ret = make_return(db, order)
        message = one_message(app, db, smtp, "return_reported")
        assert ret["send_by"] == "2026-03-16"
        assert message["Subject"] == "Your return to Test Shop: send it by 16 March 2026"
        assert message["To"] == EMAIL
        text, html = body(message), body(message, "html")
        assert "Send it by 16 March 2026." in text
        assert "299,00\xa0kr is paused" in text  # one shirt
        assert "1 × Shirt" in text
        assert "Test Shop AB\n" in text and "111 11 Stockholm" in text
        assert "1. Pack the items.\n2. Post the parcel" in text  # the merchant's own words
        assert "<ol>" in html and "<li>Pack the items.</li>" in html  # the sanitized HTML
        assert ret["instructions"]["html"] in html
        [link] = [u for u in links_in(text) if "/links/return/" in u]
        assert link.startswith("http://127.0.0.1:5000/links/return/")
        assert link in html
        assert follow(client, link) == f"/returns/{ret['id']}"
        page = client.get(f"/returns/{ret['id']}")
        assert page.status_code == 200 and "Your return to Test Shop" in text_of(page)


def test_a_decision_with_a_rejected_item_says_why_and_what_is_due(app, db, client, smtp, order,
                                                                  merchant):
    ret = make_return(db, order, {0: 2})
    with time_machine.travel(clock.now() + timedelta(days=2), tick=False):
        decide(db, merchant["id"], ret, (0, 1, 1), reason="Worn and washed")
        due = clock.days_after(clock.now(), 14)
        message = one_message(app, db, smtp, "return_decided")
        # Two shirts of 299 kr went back, one accepted: the other, the jeans and the gift card
        # are due.
        assert message["Subject"] == \
            "Test Shop did not accept all of your return: 1\xa0198,00\xa0kr is due"
        text = body(message)
        assert "Accepted: 1 × Shirt" in text
        assert "Not accepted: 1 × Shirt (the shop says: “Worn and washed”)" in text
        assert "You no longer owe 299,00\xa0kr for the accepted items." in text
        assert "their 299,00\xa0kr is due again" in text
        assert f"To pay now: 1\xa0198,00\xa0kr, by {due.day} {due:%B %Y}." in text
        # It names a due date, so it also offers the dates as a calendar file.
        [link] = [u for u in links_in(text) if "/links/" in u and "/links/calendar/" not in u]
        assert "/links/pay/" in link
        assert any("/links/calendar/" in u for u in links_in(text))
        assert follow(client, link) == f"/orders/{order['id']}#pay-heading"
        assert client.get(f"/orders/{order['id']}").status_code == 200


def test_everything_accepted_when_all_is_paid_links_the_order(app, db, client, smtp, order,
                                                             merchant):
    payments.record_transfer(db, order["id"], 29900 + 79900 + 10000, "OCR 9", "test")
    ret = make_return(db, order)  # the one shirt not paid for
    decide(db, merchant["id"], ret, (0, 1, 0))
    message = one_message(app, db, smtp, "return_decided")
    assert message["Subject"] == "Test Shop has accepted your return"
    assert "Not accepted" not in body(message)
    assert "You no longer owe 299,00\xa0kr" in body(message)
    [link] = [u for u in links_in(body(message)) if "/links/" in u]
    assert follow(client, link) == f"/orders/{order['id']}"


def test_return_reported_says_what_is_still_owed_and_by_when(app, db, client, smtp, order):
    make_return(db, order, {1: 1})  # the jeans go back; two shirts and the gift card are kept
    text = body(one_message(app, db, smtp, "return_reported"))
    due = date.fromisoformat(order["due_date"])
    assert f"For the items you keep, 698,00\xa0kr is still to pay, by {due.day} {due:%B %Y}:" \
        in text
    [pay] = [u for u in links_in(text) if "/links/pay/" in u]
    assert follow(client, pay) == f"/orders/{order['id']}#pay-heading"


def test_return_reported_when_the_kept_items_are_paid_says_nothing_is_due(app, db, smtp, order):
    payments.record_transfer(db, order["id"], 2 * 29900 + 10000, "OCR 5", "test")
    make_return(db, order, {1: 1})
    text = body(one_message(app, db, smtp, "return_reported"))
    assert "Nothing else is due on this order now." in text and "/links/pay/" not in text


def test_a_partial_decision_says_what_was_decided_and_what_still_waits(app, db, smtp, order,
                                                                     merchant):
    ret = make_return(db, order, {0: 2, 1: 1})  # two shirts and the jeans
    decide(db, merchant["id"], ret, (0, 1, 0))  # one shirt accepted; a shirt and jeans wait
    message = one_message(app, db, smtp, "return_decided")
    assert message["Subject"] == "Test Shop has accepted part of your return"
    text = body(message)
    assert "Accepted: 1 × Shirt" in text
    assert "Still waiting for the shop’s decision:\n- 1 × Shirt\n- 1 × Jeans" in text
    assert "Their 1\xa0098,00\xa0kr stays paused until the shop decides" in text
    assert "has accepted your return" not in text


def test_items_only_received_are_not_called_accepted(app, db, smtp, order, merchant):
    from returns_app.services import decisions

    ret = make_return(db, order, {0: 1})
    decisions.register(db, merchant["id"], ret["id"], {"items": [
        {"return_item_id": ret["items"][0]["id"], "accepted_quantity": 0,
         "rejected_quantity": 0, "received_quantity": 1}]}, actor="test")
    message = one_message(app, db, smtp, "return_decided")
    assert message["Subject"] == "Test Shop has received your return"
    assert "will now check the items" in body(message)
    assert "Still waiting for the shop’s decision:\n- 1 × Shirt" in body(message)


def test_a_partial_decision_in_swedish(app, db, smtp, swedish_order, merchant):
    ret = make_return(db, swedish_order, {0: 2})
    decide(db, merchant["id"], ret, (0, 1, 0))
    message = one_message(app, db, smtp, "return_decided")
    assert message["Subject"] == "Test Shop har godkänt en del av din retur"
    assert "Väntar fortfarande på butikens beslut:\n- 1 × Shirt" in body(message)
    assert "har godkänt din retur" not in body(message)


def paid_and_returned(db, order, merchant) -> dict:
    """Paid in full by transfer, a shirt returned and accepted: a refund of 299 kr with nowhere
    to go (no card, no bank account)."""
    payments.record_transfer(db, order["id"], 2 * 29900 + 79900 + 10000, "OCR 1", "test")
    ret = make_return(db, order)
    decide(db, merchant["id"], ret, (0, 1, 0))
    return refunds.refunds_of_order(db, order["id"])[0]


def test_payment_receipt(app, db, smtp, order, merchant):
    payments.record_transfer(db, order["id"], 50000, "OCR 42", "test")
    message = one_message(app, db, smtp, "payment_receipt")
    assert message["Subject"] == "Receipt: 500,00\xa0kr paid to Test Shop"
    text = body(message)
    assert "by bank transfer" in text
    assert "Left to pay now: 997,00\xa0kr" in text
    assert any("/links/order/" in u for u in links_in(text))


def test_payout_details_needed_links_to_the_payout_page(app, db, client, smtp, order, merchant):
    refund = paid_and_returned(db, order, merchant)
    assert refund["status"] == "needs_details"
    message = one_message(app, db, smtp, "payout_details_needed")
    assert message["Subject"] == "Where should we send your refund of 299,00\xa0kr?"
    [link] = [u for u in links_in(body(message)) if "/refunds/" in u]
    page = client.get(path_of(link))
    assert page.status_code == 200
    assert "Your refund of 299,00" in text_of(page)
    assert "The link works for 30 days" in body(message)


def test_a_resent_details_link_is_a_new_email(app, db, smtp, order, merchant):
    refund = paid_and_returned(db, order, merchant)
    with write_transaction(db):
        audit.record(db, "support_user:1", "refund.details_link_resent", "refund", refund["id"])
    deliver_emails(app, db)
    assert len(notes(db, "payout_details_needed")) == 2
    assert len(smtp.messages) == len(notes(db))


def test_refund_sent(app, db, client, smtp, order, merchant):
    refund = paid_and_returned(db, order, merchant)
    with write_transaction(db):
        db.execute("UPDATE refund SET status = 'ready', destination_masked = 'Swish 070-••• •• 67'"
                   " WHERE id = ?", [refund["id"]])
        refunds.start_sending(db, refund["id"])
        refunds.record_outcome(db, refund["id"], "succeeded", "po_1", "ok")
    message = one_message(app, db, smtp, "refund_sent")
    assert message["Subject"] == "Your refund of 299,00\xa0kr is on its way"
    assert "to Swish 070-••• •• 67" in body(message)
    [link] = [u for u in links_in(body(message)) if "/links/order/" in u]
    assert follow(client, link) == f"/orders/{order['id']}"


def test_support_reminding_the_merchant_emails_each_of_its_users(app, db, smtp, order, merchant):
    # Each in their own language: Swedish unless they chose English (m020).
    for i, (email, language) in enumerate((("lager@shop.se", "sv"), ("chef@shop.se", "en"))):
        insert(db, "merchant_user", {"merchant_id": merchant["id"], "email": email,
                                     "name": f"User {i}", "password_hash": hash_password("x"),
                                     "created_at": clock.now_iso(), "language": language})
    ret = make_return(db, order)
    with write_transaction(db):
        audit.record(db, "support_user:1", "return.merchant_reminded", "return", ret["id"])
    deliver_emails(app, db)
    ids = {n["message_id"] for n in notes(db, "merchant_return_waiting")}
    waiting = [m for m in smtp.messages if m["Message-ID"] in ids]
    assert sorted(m["To"] for m in waiting) == ["chef@shop.se", "lager@shop.se"]
    by_to = {m["To"]: m for m in waiting}
    assert by_to["chef@shop.se"]["Content-Language"] == "en"
    assert by_to["chef@shop.se"]["Subject"] == \
        f"Return {ret['id']} for order {order['order_number']} is waiting to be registered"
    waiting = [by_to["lager@shop.se"]]
    assert waiting[0]["Subject"] == \
        f"Retur {ret['id']} för order {order['order_number']} väntar på att registreras"
    text = body(waiting[0])
    assert "godkänn eller avvisa varje vara, i handlarportalen" in text
    assert f"/api/v1/returns/{ret['id']}/registration" in text
    assert "1 × Shirt (SHIRT-M)" in text
    assert "/links/" not in text  # nothing of the customer's is opened by the shop's email


def test_an_email_is_in_the_customers_language_setting(app, db, smtp, merchant):
    swedish = make_order(db, merchant["id"])
    english = english_order(db, merchant["id"],
                            customer={"email": "customer@example.com", "name": "Chris"})
    for order in (swedish, english):
        make_return(db, order)
    deliver_emails(app, db)
    by_order = {n["order_id"]: n["message_id"] for n in notes(db, "return_reported")}
    for order, language, subject in ((swedish, "sv", "Din retur till Test Shop"),
                                     (english, "en", "Your return to Test Shop")):
        [message] = [m for m in smtp.messages if m["Message-ID"] == by_order[order["id"]]]
        assert message["Content-Language"] == language
        assert f'<html lang="{language}">' in body(message, "html")
        assert message["Subject"].startswith(subject)


# --- links --------------------------------------------------------------------------------------

def token_for(app, purpose: str, subject_id: int, days_ago: int = 0) -> str:
    with time_machine.travel(clock.now() - timedelta(days=days_ago), tick=False):
        return links.make_token(app.secret_key, purpose, subject_id)


@pytest.mark.parametrize("path, purpose", [
    ("/links/order/", links.ORDER), ("/links/pay/", links.PAY),
    ("/preferences/", links.PREFERENCES), ("/refunds/", links.PAYOUT_DETAILS)])
def test_an_expired_link_says_so_and_offers_a_new_one(app, client, order, path, purpose):
    response = client.get(path + token_for(app, purpose, order["id"], days_ago=31))
    assert response.status_code == 410
    page = text_of(response)
    assert "This link has expired" in page
    assert "links in our emails work for 30 days" in page
    assert 'name="email"' in page and f'value="{purpose}"' in page


def test_a_link_opens_only_its_own_purpose_and_subject(app, client, db, order):
    other = make_order(db, order["merchant_id"],
                       customer={"email": "annan@example.se", "name": "Other"})
    pay_token = token_for(app, links.PAY, order["id"])
    assert client.get("/links/order/" + pay_token).status_code == 404  # wrong purpose
    assert client.get("/preferences/" + pay_token).status_code == 404
    assert client.get("/links/order/" + token_for(app, links.ORDER, order["id"]) + "x"
                      ).status_code == 404  # tampered
    assert follow(client, "http://x/links/order/" + token_for(app, links.ORDER, order["id"])) \
        == f"/orders/{order['id']}"
    assert client.get(f"/orders/{other['id']}").status_code == 404  # only the linked order


def ask_for_new_link(client, token: str, purpose: str, email: str):
    return client.post("/links/new", data={"token": token, "purpose": purpose, "email": email})


def test_a_new_link_goes_only_to_the_orders_address_and_says_the_same_either_way(
        app, db, client, smtp, order):
    expired = token_for(app, links.ORDER, order["id"], days_ago=40)
    wrong = ask_for_new_link(client, expired, links.ORDER, "someone@example.se")
    right = ask_for_new_link(client, expired, links.ORDER, EMAIL.upper())
    assert wrong.status_code == right.status_code == 303
    assert wrong.headers["Location"] == right.headers["Location"] == "/links/sent"
    assert "If the address you gave is the one on the order" in text_of(client.get("/links/sent"))
    message = one_message(app, db, smtp, "new_link")
    assert message["To"] == EMAIL
    [link] = [u for u in links_in(body(message)) if "/links/order/" in u]
    assert follow(client, link) == f"/orders/{order['id']}"


def test_asking_for_new_links_is_rate_limited(app, db, client, order):
    expired = token_for(app, links.ORDER, order["id"], days_ago=40)
    for _ in range(3):
        assert ask_for_new_link(client, expired, links.ORDER, EMAIL).status_code == 303
    assert ask_for_new_link(client, expired, links.ORDER, EMAIL).status_code == 429
    assert len(notes(db, "new_link")) == 3


def test_a_new_link_form_without_an_email_keeps_the_page(app, client, order):
    expired = token_for(app, links.RETURN, 1, days_ago=40)
    response = ask_for_new_link(client, expired, links.RETURN, "not-an-email")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page and 'value="not-an-email"' in page


def test_a_forged_token_gets_no_new_link(app, db, client, order):
    forged = links.make_token("another-secret", links.ORDER, order["id"])
    assert ask_for_new_link(client, forged, links.ORDER, EMAIL).status_code == 404
    assert notes(db, "new_link") == []


@pytest.mark.parametrize("payload", [[1], "1", {"id": "1"}, {"id": True}, {"id": -3}, {},
                                     {"id": 1.5}, {"id": None}, None])
@pytest.mark.parametrize("purpose, path", [(links.ORDER, "/links/order/"),
                                           (links.RETURN, "/links/return/"),
                                           (links.PAYOUT_DETAILS, "/refunds/")])
def test_a_link_signed_over_an_unexpected_payload_is_404_not_500(app, client, payload, purpose,
                                                                  path):
    token = links._serializer(app.secret_key, purpose).dumps(payload)
    assert client.get(path + token).status_code == 404


def test_an_expired_link_with_an_unexpected_payload_asks_for_a_new_link(app, client, db):
    token = links._serializer(app.secret_key, links.ORDER).dumps({"id": "x"})
    with time_machine.travel(clock.now() + links.LIFETIME + timedelta(days=1), tick=False):
        response = client.get("/links/order/" + token)
    assert response.status_code == 410
    assert 'name="email"' in response.get_data(as_text=True)


# --- preferences --------------------------------------------------------------------------------

def test_preferences_are_shown_and_saved_with_a_confirmation(app, db, client, order):
    url = "/preferences/" + token_for(app, links.PREFERENCES, order["id"])
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'value="email"[^>]*checked|checked[^>]*value="email"', html)
    saved = client.post(url, data={"reminder_channel": "none", "language": "en"})
    assert saved.status_code == 303 and saved.headers["Location"] == url
    assert "Saved." in text_of(client.get(url))
    row = db.execute("SELECT reminder_channel, language FROM customer WHERE id = ?",
                     [order["customer_id"]]).fetchone()
    assert tuple(row) == ("none", "en")
    [event] = list(select(db, "SELECT * FROM audit_event WHERE action = ?",
                            ["customer.preferences_changed"]))
    assert '"reminder_channel": "none"' in event["after_json"]
    # The preferences link opens the preferences only (issue 16): not the order.
    assert client.get(f"/orders/{order['id']}").status_code == 404


def test_preferences_refuse_an_unknown_choice_next_to_the_field(app, db, client, order):
    url = "/preferences/" + token_for(app, links.PREFERENCES, order["id"])
    response = client.post(url, data={"reminder_channel": "pigeon", "language": "en"})
    assert response.status_code == 422
    assert 'id="reminder_channel-error"' in response.get_data(as_text=True)
    assert db.execute("SELECT reminder_channel FROM customer WHERE id = ?",
                      [order["customer_id"]]).fetchone()[0] == "email"


# --- the development inbox ----------------------------------------------------------------------

def test_dev_inbox_lists_the_emails_newest_first_with_working_links(app, db, client, smtp,
                                                                    order, merchant):
    ret = make_return(db, order)
    payments.record_transfer(db, order["id"], 10000, "OCR 7", "test")
    deliver_emails(app, db)
    inbox = text_of(client.get("/dev/mail"))
    receipt, reported = inbox.index("Receipt: 100,00"), inbox.index("Your return to Test Shop")
    assert receipt < reported
    [note] = notes(db, "return_reported")
    page = client.get(f"/dev/mail/{note['id']}")
    assert page.status_code == 200
    [href] = re.findall(r'<a href="(http://[^"]+/links/return/[^"]+)"', page.get_data(as_text=True))
    assert follow(client, href) == f"/returns/{ret['id']}"
    html = client.get(f"/dev/mail/{note['id']}/html")
    assert html.status_code == 200
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert "<ol>" in html.get_data(as_text=True)


def test_dev_inbox_does_not_exist_outside_development(app, db, order, monkeypatch):
    make_return(db, order)
    monkeypatch.delenv("RETURNS_ENV")  # production, the default
    production = create_app({"SECRET_KEY": "k", "DATABASE": app.config["DATABASE"]}).test_client()
    for path in ("/dev/mail", "/dev/mail/1", "/dev/mail/1/html"):
        assert production.get(path).status_code == 404, path


def test_the_migration_builds_the_notification_schema():
    from returns_app.store.db import connect
    from returns_app.store.migrations import migrate

    mem = connect(":memory:")
    migrate(mem)
    assert {"kind", "dedupe_key", "customer_id", "order_id", "return_id", "recipient",
            "subject", "body_text", "body_html", "status", "sent_at", "message_id"} <= {
        c.name for c in mem["notification"].columns}
    assert {c.name: c.default_value for c in mem["customer"].columns}["reminder_channel"] \
        == "'email'"
    assert {"reminder_decision"} <= set(mem.table_names())


def test_dev_inbox_links_stop_before_the_punctuation_that_ends_a_sentence():
    from returns_app.web.dev_inbox import linkify

    html = str(linkify("Read (https://shop.se/terms). Or <b> http://a.se/x?y=1"))
    assert '<a href="https://shop.se/terms">https://shop.se/terms</a>).' in html
    assert '<a href="http://a.se/x?y=1">' in html and "&lt;b&gt;" in html


# --- in Swedish, the customers' default ---------------------------------------------------------

@pytest.fixture
def swedish_order(db, merchant):
    return make_order(db, merchant["id"])


def test_return_reported_in_swedish(app, db, smtp, merchant):
    with time_machine.travel(clock.parse("2026-03-02T09:00:00+00:00"), tick=False):
        order = make_order(db, merchant["id"])
        make_return(db, order, {0: 2, 1: 1})
        message = one_message(app, db, smtp, "return_reported")
    assert message["Content-Language"] == "sv"
    assert message["Subject"] == "Din retur till Test Shop: skicka den senast 16 mars 2026"
    text, html = body(message), body(message, "html")
    assert text.startswith("Hej Kim Kund!\n")
    assert f"Din retur till Test Shop (order {order['order_number']}) är registrerad." in text
    # Two shirts and the jeans: 2 × 299 + 799 kr, with a thousands separator.
    assert ("Skicka den senast 16 mars 2026. Tills butiken har hanterat returen betalar du "
            "ingenting för de här varorna: 1\xa0397,00\xa0kr är pausat") in text
    assert "Returadress:\n  Test Shop AB" in text
    assert "Din retur till Test Shop är registrerad" in html


def test_a_decision_in_swedish(app, db, smtp, merchant):
    with time_machine.travel(clock.parse("2026-03-02T09:00:00+00:00"), tick=False):
        order = make_order(db, merchant["id"])
        ret = make_return(db, order, {0: 2})
    with time_machine.travel(clock.parse("2026-03-04T09:00:00+00:00"), tick=False):
        decide(db, merchant["id"], ret, (0, 1, 1), reason="Sliten och tvättad")
        message = one_message(app, db, smtp, "return_decided")
    assert message["Subject"] == \
        "Test Shop godkände inte hela din retur: 1\xa0198,00\xa0kr ska betalas"
    text = body(message)
    assert "- Godkänt: 1 × Shirt\n" in text
    assert "- Inte godkänt: 1 × Shirt (butiken skriver: ”Sliten och tvättad”)" in text
    assert "Du är inte längre skyldig 299,00\xa0kr för de godkända varorna." in text
    assert "Att betala nu: 1\xa0198,00\xa0kr, senast 18 mars 2026." in text  # 14 new days
    assert "Betala eller se din order:" in text


def test_refund_sent_in_swedish(app, db, smtp, swedish_order, merchant):
    refund = paid_and_returned(db, swedish_order, merchant)
    with write_transaction(db):
        db.execute("UPDATE refund SET status = 'ready', destination_masked = 'Swish 070-••• •• 67'"
                   " WHERE id = ?", [refund["id"]])
        refunds.start_sending(db, refund["id"])
        refunds.record_outcome(db, refund["id"], "succeeded", "po_1", "ok")
    message = one_message(app, db, smtp, "refund_sent")
    assert message["Subject"] == "Din återbetalning på 299,00\xa0kr är på väg"
    assert (f"Vi har skickat din återbetalning på 299,00\xa0kr för order "
            f"{swedish_order['order_number']} från Test Shop till Swish 070-••• •• 67. "
            "Den brukar synas på ditt konto inom 1–2 bankdagar.") in body(message)


def test_payout_details_needed_in_swedish(app, db, smtp, swedish_order, merchant):
    paid_and_returned(db, swedish_order, merchant)
    message = one_message(app, db, smtp, "payout_details_needed")
    assert message["Subject"] == "Vart ska vi skicka din återbetalning på 299,00\xa0kr?"
    text = body(message)
    assert ("vi har inget kort eller bankkonto att skicka den till. Välj ett svenskt bankkonto, "
            "ett IBAN eller Swish, så skickas den samma dag:") in text
    assert "Länken fungerar i 30 dagar och du behöver inget lösenord." in text
    assert "Frågor? Svara på det här mejlet" in text


def test_payment_receipt_in_swedish(app, db, smtp, swedish_order):
    with time_machine.travel(clock.parse("2026-03-05T09:00:00+00:00"), tick=False):
        payments.record_transfer(db, swedish_order["id"], 123450, "OCR 43", "test")
        message = one_message(app, db, smtp, "payment_receipt")
    assert message["Subject"] == "Kvitto: 1\xa0234,50\xa0kr betalt till Test Shop"
    text = body(message)
    assert "Betalt: 5 mars 2026\nSå betalade du: med banköverföring\n" in text
    assert "Kvar att betala nu: 262,50\xa0kr" in text  # 1 497 kr in all


def test_sms_is_not_offered_and_not_accepted(app, db, client, order):
    """A preference must never silently mean "nothing": no SMS is sent, so none is offered."""
    url = "/preferences/" + token_for(app, links.PREFERENCES, order["id"])
    assert 'value="sms"' not in client.get(url).get_data(as_text=True)
    refused = client.post(url, data={"reminder_channel": "sms", "language": "en"})
    assert refused.status_code == 422
    assert db.execute("SELECT reminder_channel FROM customer WHERE id = ?",
                      [order["customer_id"]]).fetchone()[0] == "email"
    db.execute("UPDATE customer SET reminder_channel = 'sms' WHERE id = ?",
               [order["customer_id"]])
    assert "so your reminders come by email" in text_of(client.get(url))
