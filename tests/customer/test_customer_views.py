"""The customer's pages through pytest-flask's client: each screen, each bad input."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.domain.passwords import hash_password
from returns_app.services import customers
from tests.builders import make_merchant, make_order, make_return
from tests.rows import by_id

EMAIL = "kund@example.se"


@pytest.fixture
def order(db):
    merchant, _ = make_merchant(db)
    return make_order(db, merchant["id"])


def find(client, order_number, email=EMAIL):
    return client.post("/", data={"order_number": order_number, "email": email})


@pytest.fixture
def found(client, order):
    """A browser session that has found `order` by number and email."""
    assert find(client, order["order_number"]).status_code == 302
    return order


def text(response) -> str:
    """The page as a person reads it: entities decoded, whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def field_error(response, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', response.get_data(as_text=True),
                      re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(match[1])).split()) if match else ""


def test_landing_page_has_the_lookup_form(client):
    page = text(client.get("/"))
    assert 'name="order_number"' in page and 'name="email"' in page


def test_find_order_with_number_and_email_opens_it(client, order):
    response = find(client, order["order_number"].replace("-", " "), EMAIL.upper())
    assert response.status_code == 302
    assert response.headers["Location"] == f"/orders/{order['id']}"
    assert order["order_number"] in text(client.get(response.headers["Location"]))


@pytest.mark.parametrize("number_ok, email_ok", [(True, False), (False, True), (False, False)])
def test_a_wrong_pair_gets_one_generic_message_and_keeps_the_input(client, order, number_ok,
                                                                   email_ok):
    number = order["order_number"] if number_ok else "999-999-999"
    email = EMAIL if email_ok else "someone@example.se"
    response = find(client, number, email)
    assert response.status_code == 422
    assert customers.NOT_FOUND_MESSAGE in text(response)
    assert f'value="{number}"' in text(response) and f'value="{email}"' in text(response)


def test_empty_lookup_fields_get_their_own_messages(client):
    response = client.post("/", data={"order_number": "", "email": "not-an-email"})
    assert "Enter the order number" in field_error(response, "order_number")
    assert "valid email address" in field_error(response, "email")
    assert 'value="not-an-email"' in text(response)


def test_repeated_guessing_is_refused(client, order):
    for _ in range(customers.LOOKUP_LIMIT_PER_ORDER):
        find(client, order["order_number"], "guess@example.se")
    response = find(client, order["order_number"], EMAIL)
    assert response.status_code == 429
    assert "Too many attempts" in text(response)


def test_order_page_shows_lines_due_date_and_amounts(client, found):
    page = text(client.get(f"/orders/{found['id']}"))
    assert "Jeans" in page and "Shirt" in page
    assert "1 497,00 kr" in page.replace("\u00a0", " ")
    due = clock.local_date(clock.parse(found["delivered_at"])) + timedelta(days=14)
    assert f"due {due.day} {due.strftime('%B')} {due.year}" in page
    assert "Can't be returned: Gift cards" in page


def test_an_open_return_is_shown_as_paused_not_due(client, db, found):
    make_return(db, found, {1: 1})  # jeans, 799 kr
    page = text(client.get(f"/orders/{found['id']}")).replace("\u00a0", " ")
    assert re.search(r"Paused</dt> <dd>799,00 kr", page)
    assert re.search(r"To pay</dt> <dd>698,00 kr", page)


def test_a_return_page_shows_what_that_return_pauses_not_the_whole_order(client, db, found):
    shirt = make_return(db, found, {0: 1})  # one shirt, 299 kr
    make_return(db, found, {1: 1})  # jeans, 799 kr: the order pauses 1 098 kr in all
    page = text(client.get(f"/returns/{shirt['id']}")).replace("\u00a0", " ")
    assert re.search(r"Paused until the return is handled</dt> ?<dd>299,00 kr", page)
    assert "1 098,00 kr" not in page


def test_a_return_of_an_order_paid_in_full_pauses_nothing(client, db, found):
    from returns_app.services import payments

    payments.record_transfer(db, found["id"], 29900 * 2 + 79900 + 10000, "bank-1", "test")
    ret = make_return(db, found, {0: 1})
    assert "Paused until" not in text(client.get(f"/returns/{ret['id']}"))


def test_someone_elses_order_and_return_are_404(client, db, found):
    other = make_order(db, found["merchant_id"],
                       customer={"email": "other@example.se", "name": "Other"})
    other_return = make_return(db, other)
    assert client.get(f"/orders/{other['id']}").status_code == 404
    assert client.get(f"/orders/{other['id']}/returns/new").status_code == 404
    assert client.get(f"/returns/{other_return['id']}").status_code == 404
    assert client.post(f"/returns/{other_return['id']}/cancel").status_code == 404
    assert client.post(f"/returns/{other_return['id']}/sent").status_code == 404
    assert by_id(db, "returns", other_return["id"])["status"] == "reported"


def test_without_lookup_an_order_is_404(client, order):
    assert client.get(f"/orders/{order['id']}").status_code == 404


def form_data(order, **by_line) -> dict:
    """{line index: (quantity, reason, comment)} as the report form posts it."""
    data = {}
    for line in order["lines"]:
        if line["returnable"]:
            data.update({f"qty_{line['id']}": "0", f"reason_{line['id']}": "",
                         f"comment_{line['id']}": ""})
    for index, (quantity, reason, comment) in by_line.items():
        line_id = order["lines"][int(index.removeprefix("l"))]["id"]
        data.update({f"qty_{line_id}": str(quantity), f"reason_{line_id}": reason,
                     f"comment_{line_id}": comment})
    return data


def test_report_a_return_and_see_the_instructions_at_once(client, db, found):
    response = client.post(f"/orders/{found['id']}/returns/new",
                           data=form_data(found, l1=(1, "too_large", "")))
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Your return is registered" in page
    assert "How to send it back" in page and "Test Shop AB" in page
    assert "Send it by" in page and "Your refund is due by" in page
    assert "<h2>How to return</h2>" in page  # the merchant's own Markdown, rendered
    ret = db.execute("SELECT instructions_version_id FROM returns").fetchone()
    assert ret[0] is not None


def post_form(client, order, **by_line):
    return client.post(f"/orders/{order['id']}/returns/new", data=form_data(order, **by_line))


def test_no_item_chosen(client, found):
    response = post_form(client, found)
    assert response.status_code == 422
    assert "Choose at least one item to return." in text(response)


def test_quantity_above_what_can_be_returned_is_shown_next_to_the_field(client, found):
    response = post_form(client, found, l0=(5, "too_small", "Kept one"))
    line_id = found["lines"][0]["id"]
    assert field_error(response, f"qty_{line_id}") == "Error: You can return at most 2 of " \
                                                      "this item."
    page = text(response)
    assert re.search(rf'<input[^>]*name="qty_{line_id}"[^>]*value="5"', page)
    assert 'value="Kept one"' in page


def test_reason_and_comment_are_required_where_they_apply(client, found):
    response = post_form(client, found, l0=(1, "", ""), l1=(1, "other", ""))
    assert "Choose why this item goes back." in field_error(
        response, f"reason_{found['lines'][0]['id']}")
    assert "Tell us in a few words" in field_error(
        response, f"comment_{found['lines'][1]['id']}")


def test_the_same_items_twice_links_the_existing_return(client, db, found):
    existing = make_return(db, found, {1: 1})
    response = post_form(client, found, l1=(1, "too_small", ""))
    assert response.status_code == 422
    assert "You have already reported this item" in field_error(
        response, f"qty_{found['lines'][1]['id']}")
    assert f'href="/returns/{existing["id"]}"' in text(response)


def test_an_item_the_merchant_cant_take_back(client, found):
    gift_id = found["lines"][2]["id"]
    data = form_data(found)
    data.update({f"qty_{gift_id}": "1", f"reason_{gift_id}": "changed_mind"})
    response = client.post(f"/orders/{found['id']}/returns/new", data=data)
    # The form offers no field for it, so a forged post reports nothing chosen, and the page
    # says why the item isn't offered.
    assert response.status_code == 422
    assert "can't take this back (Gift cards)" in text(response)


def test_closed_window_names_the_window_and_when_it_closed(client, found):
    delivered = clock.parse(found["delivered_at"])
    with time_machine.travel(delivered + timedelta(days=31), tick=False):
        response = post_form(client, found, l0=(1, "too_small", ""))
    closes = clock.local_date(delivered + timedelta(days=30)).isoformat()
    assert f"The 30-day return window for this order closed on {closes}" in text(response)
    assert 'value="1"' in text(response)


def test_shipment_with_tracking_number_and_the_timeline(client, db, found):
    ret = make_return(db, found)
    response = client.post(f"/returns/{ret['id']}/sent", data={"tracking_number": "JJ123SE"})
    assert response.status_code == 302
    page = text(client.get(f"/returns/{ret['id']}"))
    assert "On its way" in page and "tracking JJ123SE" in page
    assert "Have you sent it?" not in page and "Cancel return" not in page


def test_bad_tracking_number_keeps_the_input(client, db, found):
    ret = make_return(db, found)
    response = client.post(f"/returns/{ret['id']}/sent", data={"tracking_number": "AB;12"})
    assert response.status_code == 422
    assert "letters, digits" in field_error(response, "tracking_number")
    assert 'value="AB;12"' in text(response)


def test_cancel_a_return_before_it_is_sent(client, db, found):
    ret = make_return(db, found)
    response = client.post(f"/returns/{ret['id']}/cancel", follow_redirects=True)
    assert "Your return is cancelled" in text(response)
    assert by_id(db, "returns", ret["id"])["status"] == "cancelled"


def test_cancel_after_sent_is_refused_with_a_message(client, db, found):
    ret = make_return(db, found)
    client.post(f"/returns/{ret['id']}/sent", data={"tracking_number": ""})
    response = client.post(f"/returns/{ret['id']}/cancel", follow_redirects=True)
    assert "can't be done while the return is sent" in text(response)
    assert by_id(db, "returns", ret["id"])["status"] == "sent"


def test_signed_in_customer_sees_all_their_orders(client, db, order):
    db.execute("UPDATE customer SET password_hash = ? WHERE email = ?",
               [hash_password("secret-pass"), EMAIL])
    second = make_order(db, order["merchant_id"])
    response = client.post("/signin", data={"email": EMAIL, "password": "secret-pass"})
    assert response.headers["Location"] == "/orders"
    page = text(client.get("/orders"))
    assert page.count("Test Shop") >= 2
    assert client.get(f"/orders/{second['id']}").status_code == 200


def test_wrong_password(client, db, order):
    response = client.post("/signin", data={"email": EMAIL, "password": "nope"})
    assert response.status_code == 422
    assert "don't match" in text(response) and f'value="{EMAIL}"' in text(response)


def test_sign_out_forgets_found_orders(client, found):
    client.post("/signout")
    assert client.get(f"/orders/{found['id']}").status_code == 404


def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert "object-src 'none'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Find your order" in text(response)


def test_a_debit_waiting_for_the_banks_answer_is_not_asked_for_again(client, db, found):
    """Issue 14: the provider hasn't said whether the due-date debit was taken: the order page
    says so and offers no way to pay it twice."""
    from returns_app.services import due_date_debits
    from tests.builders import link_bank_account
    from tests.builders import viewer_for as viewer

    link_bank_account(db, found["customer_id"])
    debit = due_date_debits.schedule_invoice(db, viewer(found), found["id"])
    db.execute("UPDATE payment SET provider_silent_since = ?, debit_tries = 1 WHERE id = ?",
               ["2026-01-01T08:00:00+00:00", debit["id"]])
    page = text(client.get(f"/orders/{found['id']}?lang=en"))
    assert "we are waiting for the bank’s answer" in page
    assert f'action="/orders/{found["id"]}/payments#pay-heading"' not in page
    db.execute("UPDATE payment SET provider_silent_since = NULL WHERE id = ?", [debit["id"]])
    again = client.get(f"/orders/{found['id']}").get_data(as_text=True)
    assert f'action="/orders/{found["id"]}/payments#pay-heading"' in again  # between tries
