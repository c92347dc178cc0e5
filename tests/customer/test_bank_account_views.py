"""The customer's bank-account page (signed in, or from an email link) and the order page's
"pay on the due date" card."""

from __future__ import annotations

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.domain.passwords import hash_password
from returns_app.services import bank_accounts, due_date_debits, links
from tests.builders import make_merchant, make_order
from tests.customer.test_customer_views import EMAIL, field_error, text
from tests.domain.test_payout_details import SEB, SEB_ACCOUNT, wrong_last_digit

NOON = "2026-11-02T11:00:00Z"  # a Monday


@pytest.fixture
def order(db):
    merchant, _ = make_merchant(db)
    return make_order(db, merchant["id"])


@pytest.fixture
def signed_in(client, db, order):
    db.execute("UPDATE customer SET password_hash = ? WHERE email = ?",
               [hash_password("secret-pass"), EMAIL])
    assert client.post("/signin", data={"email": EMAIL, "password": "secret-pass"}
                       ).status_code == 302
    return order


def link(client, clearing=SEB, account=SEB_ACCOUNT, url="/account/bank-account"):
    return client.post(url, data={"action": "link", "clearing_number": clearing,
                                  "account_number": account})


def test_a_wrong_check_digit_is_named_next_to_the_field_and_the_input_kept(client, signed_in):
    wrong = wrong_last_digit(SEB_ACCOUNT)
    response = link(client, account=wrong)
    assert response.status_code == 422
    assert "check digit" in field_error(response, "account_number")
    assert f'value="{wrong}"' in text(response) and f'value="{SEB}"' in text(response)


def test_linking_then_confirming_the_mandate_shows_its_wording_and_time(client, db, signed_in):
    with time_machine.travel(NOON, tick=False):
        # A session lives on the server from when it began: sign in at the travelled-to time.
        client.post("/signin", data={"email": EMAIL, "password": "secret-pass"})
        response = link(client)
        assert response.status_code == 303
        page = text(client.get("/account/bank-account"))
        assert "SEB 5214, account ••••" in page and "Confirm the direct-debit mandate" in page
        assert bank_accounts.may_debit(db, signed_in["customer_id"]) is False
        client.post("/account/bank-account", data={"action": "mandate", "language": "en"})
        page = text(client.get("/account/bank-account"))
    mandate = bank_accounts.active_mandate(db, signed_in["customer_id"])
    assert mandate["language"] == "en" and mandate["confirmed_at"] == "2026-11-02T11:00:00+00:00"
    assert "I, Kim Kund, authorise" in mandate["wording"] and "SEB 5214 ••••" in mandate["wording"]
    assert mandate["wording"] in page and "at 12:00" in page  # Stockholm time


def test_the_mandate_is_in_swedish_for_a_swedish_page(client, db, signed_in):
    link(client)
    page = text(client.get("/account/bank-account", headers={"Accept-Language": "sv"}))
    assert "Jag, Kim Kund, ger Returhjälpen tillåtelse" in page
    client.post("/account/bank-account", data={"action": "mandate", "language": "sv"})
    assert bank_accounts.active_mandate(db, signed_in["customer_id"])["wording"].startswith(
        "Jag, Kim Kund")


def test_an_email_link_opens_the_page_without_a_password(client, db, app, order):
    token = links.make_token(app.secret_key, links.BANK_ACCOUNT, order["id"])
    url = f"/links/bank-account/{token}"
    assert client.get(url).status_code == 200
    assert link(client, url=url).status_code == 303
    assert bank_accounts.state(db, order["customer_id"])["bank_account"].startswith("SEB 5214")


def test_without_sign_in_or_link_the_page_sends_to_sign_in(client, order):
    response = client.get("/account/bank-account")
    assert response.status_code == 302 and response.headers["Location"] == "/signin"


def test_a_changed_account_needs_a_new_mandate_and_removing_it_cancels_debits(client, db,
                                                                              signed_in):
    link(client)
    client.post("/account/bank-account", data={"action": "mandate", "language": "en"})
    client.post(f"/orders/{signed_in['id']}/due-date-payment")
    assert due_date_debits.scheduled_debit(db, signed_in["id"]) is not None
    link(client, clearing="8327-9", account="1234567897")
    assert bank_accounts.may_debit(db, signed_in["customer_id"]) is False
    assert due_date_debits.scheduled_debit(db, signed_in["id"]) is None
    client.post("/account/bank-account", data={"action": "unlink"})
    assert bank_accounts.state(db, signed_in["customer_id"])["bank_account"] is None


def test_the_order_page_schedules_the_invoice_for_its_due_date_and_can_cancel_it(client, db,
                                                                                 signed_in):
    page = text(client.get(f"/orders/{signed_in['id']}"))
    assert "Link your bank account" in page
    link(client)
    client.post("/account/bank-account", data={"action": "mandate", "language": "en"})
    response = client.post(f"/orders/{signed_in['id']}/due-date-payment")
    assert response.status_code == 303
    debit = due_date_debits.scheduled_debit(db, signed_in["id"])
    assert debit["scheduled_for"] == signed_in["due_date"]
    page = text(client.get(f"/orders/{signed_in['id']}"))
    assert "is taken from your bank account that day" in page
    client.post(f"/payments/{debit['id']}/cancel")
    assert due_date_debits.scheduled_debit(db, signed_in["id"]) is None


def test_a_debit_can_not_be_cancelled_on_its_day(client, db, signed_in):
    link(client)
    client.post("/account/bank-account", data={"action": "mandate", "language": "en"})
    client.post(f"/orders/{signed_in['id']}/due-date-payment")
    debit = due_date_debits.scheduled_debit(db, signed_in["id"])
    with time_machine.travel(f"{debit['scheduled_for']}T10:00:00+01:00", tick=False):
        client.post(f"/payments/{debit['id']}/cancel")
        assert due_date_debits.scheduled_debit(db, signed_in["id"])["id"] == debit["id"]


def test_always_pay_on_the_due_date_schedules_every_open_invoice(client, db, signed_in):
    second = make_order(db, signed_in["merchant_id"])
    link(client)
    client.post("/account/bank-account", data={"action": "mandate", "language": "en"})
    client.post(f"/orders/{signed_in['id']}/pay-on-due-date", data={"on": "1"})
    assert due_date_debits.scheduled_debit(db, signed_in["id"]) is not None
    assert due_date_debits.scheduled_debit(db, second["id"]) is not None
    third = make_order(db, signed_in["merchant_id"])
    assert due_date_debits.schedule_new_invoices(db) == 1
    assert due_date_debits.scheduled_debit(db, third["id"]) is not None


def test_someone_elses_debit_can_not_be_cancelled(client, db, order):
    other = make_order(db, order["merchant_id"], customer={"email": "annan@example.se",
                                                            "name": "Ann"})
    from tests.builders import link_bank_account, viewer_for
    link_bank_account(db, other["customer_id"])
    debit = due_date_debits.schedule_invoice(db, viewer_for(other), other["id"])
    client.post("/", data={"order_number": order["order_number"], "email": EMAIL})
    assert client.post(f"/payments/{debit['id']}/cancel").status_code == 404
    assert clock.today()  # the debit is untouched
    assert due_date_debits.scheduled_debit(db, other["id"])["id"] == debit["id"]


def test_the_payout_details_page_can_save_the_account_for_next_time(client, db, app, order):
    from returns_app.services import payments, refunds
    from tests.builders import decide, make_return
    payments.record_transfer(db, order["id"], 149700, "OCR-all", actor="test")
    decide(db, order["merchant_id"], make_return(db, order, {1: 1}), (0, 1, 0))
    [refund] = refunds.refunds_of_order(db, order["id"])
    token = links.make_token(app.secret_key, links.PAYOUT_DETAILS, refund["id"])
    page = text(client.get(f"/refunds/{token}"))
    assert "Save this account for next time" in page
    client.post(f"/refunds/{token}", data={"choice": "bank_account", "clearing_number": SEB,
                                           "account_number": SEB_ACCOUNT, "save_account": "y"})
    assert bank_accounts.state(db, order["customer_id"])["bank_account"].startswith("SEB 5214")
    second = make_return(db, order, {0: 1})
    decide(db, order["merchant_id"], second, (0, 1, 0))
    later = refunds.refunds_of_order(db, order["id"])[-1]
    assert later["status"] == "ready" and later["destination_kind"] == "bank_account"


def test_not_ticking_save_keeps_the_account_for_this_refund_only(client, db, app, order):
    from returns_app.services import payments, refunds
    from tests.builders import decide, make_return
    payments.record_transfer(db, order["id"], 149700, "OCR-all", actor="test")
    decide(db, order["merchant_id"], make_return(db, order, {1: 1}), (0, 1, 0))
    [refund] = refunds.refunds_of_order(db, order["id"])
    token = links.make_token(app.secret_key, links.PAYOUT_DETAILS, refund["id"])
    client.post(f"/refunds/{token}", data={"choice": "bank_account", "clearing_number": SEB,
                                           "account_number": SEB_ACCOUNT})
    assert refunds.get_refund(db, refund["id"])["status"] == "ready"
    assert bank_accounts.state(db, order["customer_id"])["bank_account"] is None
