"""The customer's money pages through pytest-flask's client: paying for what is kept (by card on
the real sandbox provider's page, or from a linked bank account), and saying where a refund goes
through the signed link from the email."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
import time_machine

from returns_app.domain import clock
from returns_app.services import decisions, links, payments
from returns_app.web.filters import day
from tests.api_helpers import count
from tests.builders import link_bank_account, make_merchant, make_order, make_return
from tests.customer.test_customer_views import EMAIL, field_error, find, text
from tests.domain.test_payout_details import SEB, SEB_ACCOUNT
from tests.rows import by_id, rows_where

OTHER_EMAIL = "annan@example.se"
TEST_CARD = "4242 4242 4242 4242"
JEANS = 1  # line index: 1 x Jeans at 799,00 kr (the order: 2 shirts, jeans, a gift card)
FULL_PRICE = 149700


# --- fixtures and helpers ----------------------------------------------------------------------

@pytest.fixture
def with_provider(app, sandbox):
    """The app talks to the real sandbox provider (a subprocess); returns the sandbox."""
    app.config["PROVIDER_URL"] = sandbox.url
    app.extensions.pop("provider_client", None)
    yield sandbox
    app.extensions.pop("provider_client", None)


@pytest.fixture
def shop(db):
    merchant, _ = make_merchant(db)
    return merchant


@pytest.fixture
def returning(client, db, shop):
    """An invoice order found in this browser, with the jeans (799 kr) in an open return:
    698 kr payable now, 799 kr paused."""
    order = make_order(db, shop["id"])
    make_return(db, order, {JEANS: 1})
    assert find(client, order["order_number"]).status_code == 302
    return order


def page_text(response) -> str:
    return text(response).replace("\u00a0", " ")


def words(response) -> str:
    """Only what a person reads: tags dropped, whitespace (no-break too) collapsed."""
    spaced = " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())
    return re.sub(r" ([.,:;])", r"\1", spaced)  # no gap where an inline tag closed


def amount_row(response, label: str) -> str | None:
    """The amount in the 'What you owe' row named `label`, or None without that row."""
    match = re.search(rf"<dt>{label}</dt>\s*<dd>([^<]*)", page_text(response))
    return " ".join(match[1].split()) if match else None


def input_value(response, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', response.get_data(as_text=True))
    value = tag and re.search(r'\bvalue="([^"]*)"', tag[0])
    return value[1] if value else None


def pay(client, order, amount="698,00", method="card", key="key-1"):
    return client.post(f"/orders/{order['id']}/payments",
                       data={"amount": amount, "method": method, "idempotency_key": key})


def local(url: str) -> str:
    """The path and query of one of our absolute URLs, for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def pay_on_sandbox_page(checkout_url: str, card: str = TEST_CARD) -> requests.Response:
    """What the customer does on the provider's hosted page: read its form, type the card, pay.
    Returns the provider's answer (a 303 back to the shop when it is paid)."""
    page = requests.get(checkout_url, timeout=5)
    assert page.status_code == 200, page.text
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)
    assert form, page.text
    names = re.findall(r'<input[^>]*\bname="([^"]+)"', form[2])
    assert {"card_number", "expiry", "cvc"} <= set(names), names
    expiry = f"12/{(clock.today().year + 3) % 100:02d}"
    typed = {"card_number": card, "expiry": expiry, "cvc": "123"}
    return requests.post(urlsplit(checkout_url)._replace(path=form[1]).geturl(),
                         data={name: typed.get(name, "") for name in names},
                         allow_redirects=False, timeout=5)


def cancel_on_sandbox_page(checkout_url: str) -> requests.Response:
    page = requests.get(checkout_url, timeout=5)
    action = re.search(r'<form method="post" action="([^"]+/cancel)"', page.text)
    assert action, page.text
    return requests.post(urlsplit(checkout_url)._replace(path=action[1]).geturl(),
                         allow_redirects=False, timeout=5)


def link_customer_bank_account(db, email: str = EMAIL) -> None:
    """As returns_app/demo.py links Erik's account (the app would have done it)."""
    customer_id = db.execute("SELECT id FROM customer WHERE email = ?", [email]).fetchone()[0]
    link_bank_account(db, customer_id)


def refund_waiting_for_details(db, shop, email: str = EMAIL) -> tuple[dict, dict]:
    """Like the demo's order 371-526-804: the invoice paid by hand in full, the jeans returned
    and accepted, so 799 kr is owed back and there is no card or bank account to send it to."""
    order = make_order(db, shop["id"], customer={"email": email, "name": "Kim Kund"})
    payments.record_transfer(db, order["id"], FULL_PRICE, f"OCR {order['order_number']}",
                             actor="test")
    ret = make_return(db, order, {JEANS: 1})
    decisions.register(db, shop["id"], ret["id"], {"items": [
        {"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]}, actor="test")
    (refund,) = rows_where(db, "refund", "order_id = ?", [order["id"]])
    assert refund["status"] == "needs_details" and refund["amount_minor"] == 79900
    return order, refund


def details_link(app, refund_id: int) -> str:
    return "/refunds/" + links.make_token(app.secret_key, links.PAYOUT_DETAILS, refund_id)


# --- the pay form ------------------------------------------------------------------------------

def test_order_page_prefills_what_may_be_paid_now_and_a_fresh_key(client, returning):
    response = client.get(f"/orders/{returning['id']}")
    page = page_text(response)
    assert input_value(response, "amount") == "698,00"
    assert "At most 698,00 kr." in page
    assert "The paused 799,00 kr is not included." in page
    key = re.search(r'<input[^>]*type="hidden"[^>]*name="idempotency_key"[^>]*value="(\w{16,})"'
                    r'|<input[^>]*name="idempotency_key"[^>]*type="hidden"[^>]*value="(\w{16,})"',
                    response.get_data(as_text=True))
    assert key, "no hidden idempotency key in the pay form"
    again = client.get(f"/orders/{returning['id']}")
    assert input_value(again, "idempotency_key") != input_value(response, "idempotency_key")
    assert 'value="card"' in page and "Pay by card" in page
    assert "Pay from my bank account" not in page  # no account linked


def test_pay_by_card_goes_to_the_sandbox_page_and_back_is_paid(client, db, returning,
                                                               with_provider):
    response = pay(client, returning)
    assert response.status_code == 303
    checkout_url = response.headers["Location"]
    assert checkout_url.startswith(with_provider.url + "/checkout/cs_")
    payment = db.execute("SELECT status, amount_minor FROM payment").fetchall()
    assert payment == [("pending", 69800)]

    paid = pay_on_sandbox_page(checkout_url)
    assert paid.status_code == 303, paid.text
    back = paid.headers["Location"]
    assert urlsplit(back).path == "/payments/return"
    assert re.search(r"[?&]session_id=cs_\w+", back)

    landed = client.get(local(back))
    assert landed.status_code == 302
    assert landed.headers["Location"] == f"/orders/{returning['id']}"
    order_page = client.get(landed.headers["Location"])
    page = words(order_page)
    assert "Thank you: 698,00 kr is paid." in page
    assert amount_row(order_page, "Paid") == "698,00 kr"
    assert amount_row(order_page, "Paused") == "799,00 kr"  # the return's amount isn't charged
    assert amount_row(order_page, "To pay") == "0,00 kr"
    assert "by card •••• 4242" in page
    assert "Pay for what you keep" not in page  # nothing more may be paid now
    assert db.execute("SELECT status, settled_amount_minor, card_last4 FROM payment"
                      ).fetchall() == [("succeeded", 69800, "4242")]
    assert db.execute("SELECT sum(amount_minor) FROM ledger_entry WHERE order_id = ? AND"
                      " kind = 'payment'", [returning["id"]]).fetchone()[0] == 69800

    # Coming back twice (reload, back button) books nothing twice.
    client.get(local(back))
    assert count(db, "payment") == 1
    assert db.execute("SELECT count(*) FROM ledger_entry WHERE kind = 'payment'"
                      ).fetchone()[0] == 1


def test_cancelling_on_the_sandbox_page_marks_the_payment_cancelled(client, db, returning,
                                                                    with_provider):
    checkout_url = pay(client, returning).headers["Location"]
    cancelled = cancel_on_sandbox_page(checkout_url)
    assert cancelled.status_code == 303
    back = cancelled.headers["Location"]
    assert urlsplit(back).path == "/payments/cancelled"

    landed = client.get(local(back))
    assert landed.status_code == 302, page_text(landed)
    assert landed.headers["Location"] == f"/orders/{returning['id']}"
    page = page_text(client.get(landed.headers["Location"]))
    assert "The card payment was cancelled. Nothing was charged." in page
    assert db.execute("SELECT status FROM payment").fetchall() == [("cancelled",)]
    # The amount may be paid again: the form offers all of it.
    assert "Pay for what you keep" in page and 'value="698,00"' in page


def test_payments_cancelled_with_the_session_id_marks_it_cancelled(client, db, returning,
                                                                   with_provider):
    checkout_url = pay(client, returning).headers["Location"]
    session_id = checkout_url.rsplit("/", 1)[1]
    assert cancel_on_sandbox_page(checkout_url).status_code == 303
    response = client.get(f"/payments/cancelled?session_id={session_id}",
                          follow_redirects=True)
    assert "The card payment was cancelled" in page_text(response)
    assert db.execute("SELECT status FROM payment").fetchall() == [("cancelled",)]


def test_more_than_allowed_is_refused_next_to_the_amount_and_kept(client, db, returning,
                                                                 with_provider):
    response = pay(client, returning, amount="1 497,00")
    assert response.status_code == 422
    assert field_error(response, "amount") == (
        "Error: You can pay at most 698,00 kr now: items you are returning are paused, not due.")
    assert input_value(response, "amount") == "1 497,00"
    tag = re.search(r'<input[^>]*\bname="amount"[^>]*>', response.get_data(as_text=True))[0]
    assert 'aria-invalid="true"' in tag and "amount-error" in tag  # read out with the field
    assert input_value(response, "idempotency_key") == "key-1"  # the same attempt, corrected
    assert count(db, "payment") == 0

    corrected = pay(client, returning, amount="698")
    assert corrected.status_code == 303
    assert corrected.headers["Location"].startswith(with_provider.url + "/checkout/")


@pytest.mark.parametrize("typed, message", [
    ("abc", "Enter an amount such as 249,50."),
    ("", "Enter the amount you want to pay."),
    ("12,345", "Use at most two decimals (öre)."),
    ("0", "Enter an amount above 0,00 kr."),
])
def test_an_amount_that_isnt_one_gets_a_clear_message(client, db, returning, typed, message):
    response = pay(client, returning, amount=typed)
    assert response.status_code == 422
    error = field_error(response, "amount")
    assert error.startswith("Error:") and message.rstrip(".") in error, error
    assert (input_value(response, "amount") or "") == typed
    assert count(db, "payment") == 0


def test_a_double_submit_leads_to_the_same_checkout_and_one_payment(client, db, returning,
                                                                    with_provider):
    first = pay(client, returning, key="double")
    second = pay(client, returning, key="double")
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(db, "payment") == 1
    # The provider was asked once: the second submit got the first answer from our own record.
    assert with_provider.ledger()["requests_per_key"] == {f"order-{returning['id']}-double": 1}


def test_pay_from_a_linked_bank_account_is_scheduled_for_the_due_date(client, db, returning):
    link_customer_bank_account(db)
    page = page_text(client.get(f"/orders/{returning['id']}"))
    due = day(returning["due_date"])
    assert f"Pay from my bank account on {due}" in page

    response = pay(client, returning, method="bank_account")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/orders/{returning['id']}"
    page = page_text(client.get(response.headers["Location"]))
    assert f"Done: 698,00 kr will be paid from your bank account on {due}." in page
    assert f"will be taken from your bank account on {due}" in page
    assert db.execute("SELECT method, status, amount_minor, scheduled_for FROM payment"
                      ).fetchall() == [("bank_account", "scheduled", 69800,
                                        returning["due_date"])]
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'debit'").fetchone()[0] == 1
    # Nothing more may be paid while that one is under way.
    assert "Pay for what you keep" not in page


def test_bank_account_payment_without_a_linked_account_is_refused(client, db, returning):
    response = pay(client, returning, method="bank_account")
    assert response.status_code == 422
    assert "No bank account is linked" in field_error(response, "amount")
    assert count(db, "payment") == 0


def test_paying_someone_elses_order_is_404(client, db, shop, returning):
    other = make_order(db, shop["id"], customer={"email": OTHER_EMAIL, "name": "Alex"})
    assert pay(client, other).status_code == 404
    assert count(db, "payment") == 0


# --- the rejected item -------------------------------------------------------------------------

def test_a_rejected_item_shows_why_and_what_is_due_again(client, db, shop):
    order = make_order(db, shop["id"])
    ret = make_return(db, order, {JEANS: 1})
    with time_machine.travel(clock.now() + timedelta(days=10), tick=False):
        decisions.register(db, shop["id"], ret["id"], {"items": [
            {"return_item_id": ret["items"][0]["id"], "rejected_quantity": 1,
             "reason": "Worn, and the tags are cut off"}]}, actor="test")
        new_due = day(clock.days_after(clock.now(), 14).isoformat())
    assert find(client, order["order_number"]).status_code == 302
    response = client.get(f"/orders/{order['id']}")
    page = words(response)
    assert "The shop did not accept 1 × Jeans: “Worn, and the tags are cut off”." in page
    assert f"Its 799,00 kr is due again, by {new_due}." in page
    assert amount_row(response, "To pay") == "1 497,00 kr"
    assert amount_row(response, "Paused") is None
    assert input_value(response, "amount") == "1497,00"


# --- payout details through the emailed link ---------------------------------------------------

@pytest.fixture
def waiting(db, shop):
    return refund_waiting_for_details(db, shop)


def test_order_page_links_to_the_payout_details_page(client, app, waiting):
    order, refund = waiting
    assert find(client, order["order_number"]).status_code == 302
    response = client.get(f"/orders/{order['id']}")
    page = page_text(response)
    assert "Needs your account" in page
    link = re.search(r'<a href="(/refunds/[^"]+)">Choose where to receive your refund</a>',
                     response.get_data(as_text=True))
    assert link
    assert links.read_token(app.secret_key, links.PAYOUT_DETAILS, link[1].split("/")[-1]) \
        == refund["id"]


def test_the_link_opens_the_form_without_finding_the_order(client, app, waiting):
    order, refund = waiting
    response = client.get(details_link(app, refund["id"]))
    assert response.status_code == 200
    page = page_text(response)
    assert "Your refund of 799,00 kr" in page and order["order_number"] in page
    for name in ("choice", "clearing_number", "account_number", "iban", "swish_number"):
        assert f'name="{name}"' in page
    # Following the link opens this order too.
    assert client.get(f"/orders/{order['id']}").status_code == 200


@pytest.mark.parametrize("choice, typed, kind, masked", [
    ("bank_account", {"clearing_number": SEB, "account_number": SEB_ACCOUNT}, "bank_account",
     f"SEB {SEB}, account ••••{SEB_ACCOUNT[-4:]}"),
    ("iban", {"iban": "SE45 5000 0000 0583 9825 7466"}, "iban", "SE45 •••• •••• •••• 7466"),
    ("swish", {"swish_number": "070-123 45 67"}, "swish", "070-••• •• 67"),
])
def test_each_option_with_valid_numbers_sets_the_destination(client, app, db, waiting, choice,
                                                             typed, kind, masked):
    _, refund = waiting
    link = details_link(app, refund["id"])
    response = client.post(link, data={"choice": choice, **typed})
    assert response.status_code == 303
    assert response.headers["Location"] == link
    done = client.get(link)
    page = words(done)
    assert f"Thank you. Your refund is on its way to {masked}" in page
    assert page.count("on its way to") == 1  # said once, not again below the thank-you
    assert "<form" not in page_text(done).split("</header>", 1)[1].split("<footer", 1)[0]
    # Opened again later, the page itself says where it went.
    assert f"Your refund is on its way to {masked}. Nothing more" in words(client.get(link))
    row = by_id(db, "refund", refund["id"])
    assert (row["status"], row["destination_kind"]) == ("ready", kind)
    assert row["destination_masked"] == masked
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'payout' AND subject_id = ?",
                      [refund["id"]]).fetchone()[0] == 1


BAD_INPUTS = [
    ("bank_account", {"clearing_number": "12", "account_number": "12ab"},
     {"clearing_number": "Swedish clearing numbers have 4 digits",
      "account_number": "An account number has digits only."}),
    ("bank_account", {"clearing_number": SEB, "account_number": SEB_ACCOUNT[:-1] + "0"
                      if SEB_ACCOUNT[-1] != "0" else SEB_ACCOUNT[:-1] + "1"},
     {"account_number": "doesn't match SEB's check digit"}),
    ("iban", {"iban": "SE45 5000 0000 0583 9825 7467"},
     {"iban": "This IBAN's check digits don't add up."}),
    ("swish", {"swish_number": "08-123 456 78"},
     {"swish_number": "Swish payouts go to a Swedish mobile number"}),
]


@pytest.mark.parametrize("choice, typed, messages", BAD_INPUTS)
def test_each_bad_field_gets_its_own_message_and_everything_is_kept(client, app, db, waiting,
                                                                    choice, typed, messages):
    _, refund = waiting
    # Something typed in another option too: it must survive the error as well.
    other = {"iban": "DE89 3704"} if choice != "iban" else {"swish_number": "070-1"}
    response = client.post(details_link(app, refund["id"]),
                           data={"choice": choice, **typed, **other})
    assert response.status_code == 422
    for name, message in messages.items():
        assert message in field_error(response, name), (name, field_error(response, name))
    for name in {"clearing_number", "account_number", "iban", "swish_number"} - set(messages):
        assert field_error(response, name) == ""
    for name, value in {**typed, **other}.items():
        assert input_value(response, name) == value
    # The option that was sent is the one marked, and the only one.
    marked = re.findall(
        r'<form[^>]*class="card option has-error"[^>]*aria-labelledby="option-(\w+)"',
        response.get_data(as_text=True))
    assert marked == [choice]
    assert by_id(db, "refund", refund["id"])["status"] == "needs_details"


def test_no_option_chosen_says_so_at_the_choice(client, app, waiting):
    _, refund = waiting
    response = client.post(details_link(app, refund["id"]),
                           data={"swish_number": "070-123 45 67"})
    assert response.status_code == 422
    alert = re.search(r'role="alert">(.*?)</', response.get_data(as_text=True), re.S)
    assert alert and "Choose where to receive your refund." in alert[1]
    assert input_value(response, "swish_number") == "070-123 45 67"


@pytest.mark.parametrize("choice, field, message", [
    ("swish", "swish_number", "Enter the mobile number"),
    ("iban", "iban", "Enter the IBAN"),
    ("bank_account", "account_number", "Enter the account number"),
])
def test_a_chosen_option_left_empty_is_named_at_its_field(client, app, waiting, choice, field,
                                                          message):
    _, refund = waiting
    response = client.post(details_link(app, refund["id"]),
                           data={"choice": choice, "clearing_number": SEB
                                 if choice == "bank_account" else ""})
    assert response.status_code == 422
    assert message in field_error(response, field), field_error(response, field)


def test_an_expired_link_answers_410_with_the_expired_page(client, app, waiting):
    _, refund = waiting
    link = details_link(app, refund["id"])
    with time_machine.travel(clock.now() + timedelta(days=31), tick=False):
        response = client.get(link)
        posted = client.post(link, data={"choice": "swish", "swish_number": "0701234567"})
    assert response.status_code == 410
    page = page_text(response)
    assert "This link has expired" in page and 'href="/"' in page
    assert posted.status_code == 410
    assert refund["status"] == "needs_details"


def test_a_link_still_works_on_day_29(client, app, waiting):
    _, refund = waiting
    link = details_link(app, refund["id"])
    with time_machine.travel(clock.now() + timedelta(days=29), tick=False):
        assert client.get(link).status_code == 200


def test_a_tampered_link_is_404(client, app, waiting):
    _, refund = waiting
    link = details_link(app, refund["id"])
    token = link.rsplit("/", 1)[1]
    payload, rest = token.split(".", 1)
    forged = links.make_token("another-secret", links.PAYOUT_DETAILS, refund["id"])
    for bad in (payload + "x." + rest, token[:-2], forged, "nonsense"):
        response = client.get(f"/refunds/{bad}")
        assert response.status_code == 404, bad
        assert "Choose where" not in page_text(response)


def test_a_link_for_another_purpose_does_not_open_it(client, app, waiting):
    _, refund = waiting
    token = links._serializer(app.secret_key, "something-else").dumps({"id": refund["id"]})
    assert client.get(f"/refunds/{token}").status_code == 404


def test_a_refund_already_on_its_way_shows_its_status_and_no_form(client, app, db, waiting):
    _, refund = waiting
    link = details_link(app, refund["id"])
    assert client.post(link, data={"choice": "swish", "swish_number": "0701234567"}
                       ).status_code == 303
    response = client.get(link)
    page = words(response)
    assert response.status_code == 200
    assert "Being sent" in page and "on its way to 070-••• •• 67" in page
    assert 'name="choice"' not in page_text(response)
    assert 'name="choice"' not in page and "Send my refund there" not in page
    # A second post (an old tab) changes nothing.
    again = client.post(link, data={"choice": "iban", "iban": "SE45 5000 0000 0583 9825 7466"})
    assert again.status_code == 200
    assert by_id(db, "refund", refund["id"])["destination_kind"] == "swish"


def test_a_sent_refund_shows_when_it_was_sent(client, app, db, waiting):
    _, refund = waiting
    db.execute("UPDATE refund SET status = 'succeeded', destination_masked = 'Swish 070-••• •• 67',"
               " succeeded_at = ? WHERE id = ?", [clock.now_iso(), refund["id"]])
    page = page_text(client.get(details_link(app, refund["id"])))
    assert "Sent" in page and f"on {day(clock.now_iso())}" in page
    assert 'name="choice"' not in page


def test_another_customers_order_stays_404_after_opening_a_link(client, app, db, shop, waiting):
    order, refund = waiting
    other_order, other_refund = refund_waiting_for_details(db, shop, OTHER_EMAIL)
    assert client.get(details_link(app, refund["id"])).status_code == 200
    assert client.get(f"/orders/{order['id']}").status_code == 200
    assert client.get(f"/orders/{other_order['id']}").status_code == 404
    assert pay(client, other_order).status_code == 404
    assert by_id(db, "refund", other_refund["id"])["status"] == "needs_details"


def test_a_refund_ready_from_the_start_shows_its_status_and_no_form(client, app, db, shop):
    order = make_order(db, shop["id"])
    link_customer_bank_account(db)  # the refund goes to the linked account by itself
    payments.record_transfer(db, order["id"], FULL_PRICE, "OCR ready", actor="test")
    ret = make_return(db, order, {JEANS: 1})
    decisions.register(db, shop["id"], ret["id"], {"items": [
        {"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]}, actor="test")
    (refund,) = rows_where(db, "refund", "order_id = ?", [order["id"]])
    assert refund["status"] == "ready"
    response = client.get(details_link(app, refund["id"]))
    assert response.status_code == 200
    page = words(response)
    assert "Being sent" in page
    assert f"Your refund is on its way to {refund['destination_masked']}." in page
    assert "<form" not in page_text(response).split("</header>", 1)[1].split("<footer", 1)[0]
    posted = client.post(details_link(app, refund["id"]),
                         data={"choice": "swish", "swish_number": "0701234567"})
    assert posted.status_code == 200
    assert by_id(db, "refund", refund["id"])["destination_kind"] == "bank_account"
