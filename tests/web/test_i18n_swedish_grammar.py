"""Swedish that is right, not only Swedish: numbers agree with their count ("1 godkänd", "2
godkända"), reasons agree with the item ("För stor"), numbers are written the Swedish way
("6,0 dagar"), a Swish payout is said to arrive at once, and an amount that was paid is never
called due again."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from returns_app.domain.payout_details import parse_payout_details
from returns_app.notifications import queue, rendering
from returns_app.services import links, merchant_users, payments, refunds, returns
from returns_app.services.orders import get_order
from returns_app.store.db import write_transaction
from returns_app.web.filters import number
from returns_app.web.return_reasons import REASON_LABELS
from tests.builders import decide, make_order, make_return, viewer_for
from tests.rows import rows_where
from tests.support_helpers import make_support_user
from tests.swedish_pages import sign_in, visible_text

# make_order's lines: two shirts at 299 kr, jeans at 799 kr, a gift card at 100 kr.
TOTAL = 149700


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return re.sub(r"\s+", " ", visible_text(response.get_data(as_text=True)))


def swedish_email(app, db, kind: str) -> str:
    """The latest email of `kind`, rendered in Swedish: subject, text and HTML's text."""
    note_id = db.execute("SELECT max(id) FROM notification WHERE kind = ?", [kind]).fetchone()[0]
    note = {**queue.get_notification(db, note_id), "language": "sv"}
    with app.app_context():
        rendered = rendering.render(db, note)
    return re.sub(r"\s+", " ", " ".join(
        [rendered.subject, rendered.text, visible_text(rendered.html)]))


@pytest.fixture
def paid_order(db, shop):
    order = make_order(db, shop["merchant"]["id"])
    payments.record_transfer(db, order["id"], TOTAL, "OCR-1", actor="test")
    return order


# --- agreement --------------------------------------------------------------------------------

def test_counts_agree_with_their_number_for_the_customer_and_the_merchant(client, db, shop,
                                                                           staff):
    order = make_order(db, shop["merchant"]["id"])
    ret = make_return(db, order, {0: 2, 1: 1})
    decide(db, shop["merchant"]["id"], ret, (0, 2, 0), (1, 0, 1))

    sign_in(client, f"customer:{order['customer_id']}")
    customer = page(client, f"/returns/{ret['id']}")
    assert "2 godkända." in customer and "1 inte godkänd: Worn and washed." in customer
    assert "1 inte godkända" not in customer

    merchant_users.set_language(db, shop["user"]["id"], "sv", "test")  # fixtures read English
    sign_in(client, f"merchant_user:{shop['user']['id']}")
    merchant = page(client, f"/merchant/returns/{ret['id']}")
    assert "· 2 godkända" in merchant and "· 1 avvisad (Worn and washed)" in merchant
    assert "1 avvisade" not in merchant


def test_size_reasons_agree_with_an_item(app):
    """Said of "varan", "tröjan", "jackan" (common gender), like every other reason."""
    with app.test_request_context(), force_locale("sv_SE"):
        assert (str(REASON_LABELS["too_large"]), str(REASON_LABELS["too_small"])) == (
            "För stor", "För liten")
        assert str(REASON_LABELS["not_as_described"]) == "Inte som beskriven"


# --- numbers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("locale, value, decimals, shown", [
    ("sv_SE", 6.0, 1, "6,0"), ("en_GB", 6.0, 1, "6.0"), ("sv_SE", 0, 1, "0,0"),
    ("sv_SE", 1234, 0, "1\xa0234"), ("en_GB", 1234, 0, "1,234"),
])
def test_numbers_are_written_in_the_pages_language(app, locale, value, decimals, shown):
    with app.test_request_context(), force_locale(locale):
        assert number(value, decimals) == shown


def test_the_dashboards_days_have_a_decimal_comma(client, db, paid_order, shop):

    decide(db, shop["merchant"]["id"], make_return(db, paid_order, {1: 1}), (0, 1, 0))
    (refund,) = rows_where(db, "refund", "order_id = ?", [paid_order["id"]])
    refunds.set_destination(db, refund["id"], parse_payout_details(
        {"swish_number": "070-123 45 67"}), actor="test")
    with write_transaction(db):
        refunds.start_sending(db, refund["id"])
        refunds.record_outcome(db, refund["id"], "succeeded", "po_1", "")
    user_id = make_support_user(db)  # with its second factor and no one-time password
    sign_in(client, f"support_user:{user_id}")
    dashboard = page(client, "/support/dashboard")
    assert "0,0 dagar" in dashboard and "0.0" not in dashboard


# --- Swish is instant ---------------------------------------------------------------------------

def paid_out(db, order, details: dict) -> dict:
    decide(db, order["merchant_id"], make_return(db, order, {1: 1}), (0, 1, 0))
    (refund,) = rows_where(db, "refund", "order_id = ?", [order["id"]])
    refunds.set_destination(db, refund["id"], parse_payout_details(details), actor="test")
    with write_transaction(db):
        refunds.start_sending(db, refund["id"])
        refunds.record_outcome(db, refund["id"], "succeeded", "po_1", "")
    return refund


@pytest.mark.parametrize("details, said, not_said", [
    ({"swish_number": "070-123 45 67"}, "Utbetalningar med Swish kommer fram direkt.",
     "bankdag"),
    ({"clearing_number": "8327-9", "account_number": "1234567897"}, "inom 1–2 bankdagar",
     "direkt"),
    ({"iban": "SE45 5000 0000 0583 9825 7466"}, "inom 1–3 bankdagar", "direkt"),
])
def test_a_paid_out_refund_says_when_it_arrives_by_where_it_went(app, client, db, paid_order,
                                                                 details, said, not_said):
    refund = paid_out(db, paid_order, details)
    sign_in(client, None)
    token = links.make_token(app.secret_key, links.PAYOUT_DETAILS, refund["id"])
    shown = page(client, f"/refunds/{token}")
    email = swedish_email(app, db, "refund_sent")
    for text in (shown, email):
        assert said in text and not_said not in text


# --- nothing paid is "due again" ---------------------------------------------------------------

def test_a_rejected_item_of_a_paid_order_is_not_due_again(app, client, db, paid_order, shop):
    decide(db, shop["merchant"]["id"], make_return(db, paid_order, {1: 1}), (0, 0, 1))
    sign_in(client, f"customer:{paid_order['customer_id']}")
    order_page = page(client, f"/orders/{paid_order['id']}")
    assert "ska betalas igen" not in order_page
    assert "den är betald: det finns inget mer att betala" in order_page
    email = swedish_email(app, db, "return_decided")
    assert "ska betalas igen" not in email and "De är betalda" in email


def test_a_rejected_item_of_an_unpaid_order_is_due_again(app, client, db, shop):
    order = make_order(db, shop["merchant"]["id"])
    decide(db, shop["merchant"]["id"], make_return(db, order, {1: 1}), (0, 0, 1))
    sign_in(client, f"customer:{order['customer_id']}")
    assert "799,00 kr ska betalas igen" in page(client, f"/orders/{order['id']}")
    assert "ska betalas igen" in swedish_email(app, db, "return_decided")


@pytest.mark.parametrize("paid, due_again", [(True, False), (False, True)])
def test_the_send_reminder_says_due_again_only_when_it_is(app, db, shop, paid, due_again):
    order = make_order(db, shop["merchant"]["id"])
    if paid:
        payments.record_transfer(db, order["id"], TOTAL, "OCR-1", actor="test")
    ret = make_return(db, order, {1: 1})
    with write_transaction(db):
        queue.queue_customer_email(db, "send_return_reminder", "reminder",
                                   get_order(db, order["id"]), return_id=ret["id"],
                                   facts={"return_ids": [ret["id"]], "send_by": ret["send_by"]})
    assert ("ska betalas igen" in swedish_email(app, db, "send_return_reminder")) is due_again


@pytest.mark.parametrize("paid, said", [
    (True, "Du behåller varorna, som är betalda."),
    (False, "Du behåller varorna, och deras belopp ska betalas igen."),
])
def test_cancelling_says_due_again_only_when_it_is(client, db, shop, paid, said):
    order = make_order(db, shop["merchant"]["id"])
    if paid:
        payments.record_transfer(db, order["id"], TOTAL, "OCR-1", actor="test")
    ret = returns.report_return(db, viewer_for(order), order["id"], {"items": [
        {"line_id": order["lines"][1]["id"], "quantity": 1, "reason": "too_large"}]})
    sign_in(client, f"customer:{order['customer_id']}")
    client.post(f"/returns/{ret['id']}/cancel")
    shown = page(client, f"/returns/{ret['id']}")
    assert said in shown


# --- staff greetings ----------------------------------------------------------------------------

def test_staff_without_a_name_are_greeted_in_swedish(app, db, shop):
    from returns_app.services import webhook_endpoints
    from returns_app.webhooks import health

    db.execute("UPDATE merchant_user SET name = '' WHERE id = ?", [shop["user"]["id"]])
    with write_transaction(db):
        endpoint, _ = webhook_endpoints.add(db, shop["merchant"]["id"], "https://shop.example/h",
                                            ["return.registered"], "test")
        health.exhausted(db, endpoint["id"])
    email = swedish_email(app, db, "webhook_failing")
    assert "Hej!" in email and "Hej ," not in email and "Hej !" not in email


# --- a bank's decline in words ------------------------------------------------------------------

@pytest.mark.parametrize("code, stored, shown", [
    ("account_closed", "The bank account is closed", "Bankkontot är avslutat"),
    ("do_not_honour", "The bank declined", "Banken nekade"),
])
def test_a_declined_debit_says_why_in_words_and_keeps_the_code(client, db, shop, code, stored,
                                                               shown):
    import json

    from returns_app.services import due_date_debits
    from returns_app.services.orders import Viewer
    from tests.builders import link_bank_account

    order = make_order(db, shop["merchant"]["id"])
    link_bank_account(db, order["customer_id"])
    payment = due_date_debits.schedule_invoice(db, Viewer(customer_id=order["customer_id"]),
                                               order["id"])
    with write_transaction(db):
        payments.record_debit(db, payment["id"], TOTAL, "declined", None, code)
    assert payments.get_payment(db, payment["id"])["failure_reason"] == stored
    (after,) = db.execute("SELECT after_json FROM audit_event WHERE subject_kind = 'payment'"
                          " AND subject_id = ? AND action = 'payment.failed'",
                          [payment["id"]]).fetchone()
    assert json.loads(after)["decline_reason"] == code
    sign_in(client, f"customer:{order['customer_id']}")
    assert f"inte betald: {shown}" in page(client, f"/orders/{order['id']}")
