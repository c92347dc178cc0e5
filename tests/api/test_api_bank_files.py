"""POST /api/v1/bank-files and GET /api/v1/support/unmatched-payments, and the console's
unmatched-payments page: who may, which media types, idempotent replays, problems on a bad file,
and the invoice's payment details on the order (API and page)."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

import pytest

from returns_app.bankfiles import ocr, sandbox
from returns_app.services import bank_payments, orders
from tests.api_helpers import assert_error, bearer, count
from tests.bank_file_builders import Deposit, Pay, as_file
from tests.bank_file_builders import bgmax as build
from tests.builders import checkout_payload, make_merchant
from tests.openapi_contract import support_token
from tests.support_helpers import make_support_user, sign_in_as

URL = "/api/v1/bank-files"
TOTAL = 2 * 29900 + 79900 + 10000
XML = "application/xml"


@pytest.fixture
def shop(db):
    return make_merchant(db)


@pytest.fixture
def order(db, shop):
    return orders.create_order(db, shop[0]["id"], checkout_payload())


@pytest.fixture
def agent(db):
    return bearer(support_token(db))


def camt(order: dict, amount: int = TOTAL, message: str = "API-1") -> bytes:
    return sandbox.notification("991-2346", [sandbox.Credit(amount, ocr.for_order(order["id"]),
                                                            "Kim Kund"),
                                             sandbox.Credit(500, "999", "Okänd")],
                                date(2026, 11, 2), datetime(2026, 11, 2, 6), message)


def post(client, data: bytes, headers: dict, content_type: str = XML, key: str | None = "k1"):
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post(URL, data=data, headers={**headers, **extra,
                                                "Content-Type": content_type})


def test_a_file_is_booked_and_answers_what_happened(client, db, order, agent):
    response = post(client, camt(order), agent)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["booked"], body["unmatched"], body["duplicates"]) == (1, 1, 0)
    assert [(p["status"], p["order_id"], p["amount"]) for p in body["payments"]] == [
        ("booked", order["id"], TOTAL), ("unmatched", None, 500)]
    listed = client.get("/api/v1/support/unmatched-payments", headers=agent).get_json()
    assert [(p["reference"], p["unmatched_reason"]) for p in listed["payments"]] == [
        ("999", "wrong_check_digit")]


def test_a_retry_with_the_same_key_gets_the_first_answer_and_books_nothing(client, db, order,
                                                                           agent):
    first = post(client, camt(order), agent)
    again = post(client, camt(order), agent)
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert count(db, "bank_payment") == 2 and count(db, "bank_file") == 1
    # A new key for the same file: a new import, whose payments are all duplicates.
    third = post(client, camt(order), agent, key="k2").get_json()
    assert (third["booked"], third["duplicates"]) == (0, 2)
    # The same key with another file is refused.
    assert_error(post(client, camt(order, message="API-2"), agent), 422, "invalid")


def test_bgmax_is_text_plain(client, db, order, agent):
    data = as_file(build(Deposit([Pay(TOTAL, ocr.for_order(order["id"]))])))
    response = post(client, data, agent, content_type="text/plain; charset=ISO-8859-1")
    assert response.status_code == 201 and response.get_json()["booked"] == 1


def test_a_malformed_camt_names_each_element_and_books_nothing(client, db, order, agent):
    data = camt(order).replace(b"<Sts>BOOK</Sts>", b"", 1)
    body = assert_error(post(client, data, agent), 422, "invalid")
    assert body["problems"][0]["element"].endswith("Ntry[1]/Sts")
    assert set(body["problems"][0]) == {"element", "message"}
    assert count(db, "bank_payment") == 0


def test_a_malformed_bgmax_names_each_line(client, db, order, agent):
    lines = build(Deposit([Pay(TOTAL, ocr.for_order(order["id"]))]), counts=(2, 0, 0, 1))
    body = assert_error(post(client, as_file(lines), agent, content_type="text/plain"), 422,
                        "invalid")
    assert body["problems"] == [{"line": 5, "message": "The end record counts 2 "
                                          "records of type 20; the file holds 1."}]


def test_a_file_for_another_account_is_422(client, db, order, agent):
    data = camt(order).replace(b"<Id>9912346</Id>", b"<Id>50501055</Id>")
    body = assert_error(post(client, data, agent), 422, "invalid")
    assert body["problems"][0]["element"] == "/Document"


@pytest.mark.parametrize("content_type", ["application/json", "text/csv",
                                          "application/octet-stream", "multipart/form-data"])
def test_other_media_types_are_415(client, order, agent, content_type):
    assert_error(post(client, camt(order), agent, content_type=content_type), 415,
                 "unsupported_media_type")


def test_the_idempotency_key_is_required(client, order, agent):
    assert_error(post(client, camt(order), agent, key=None), 400, "malformed")


def test_without_credentials_401_and_with_others_403(client, db, shop, order):
    assert_error(post(client, camt(order), {}), 401, "unauthorized")
    assert_error(post(client, camt(order), bearer(shop[1])), 403, "forbidden")
    session = client.post("/api/v1/customer/session", json={
        "order_number": order["order_number"], "email": "kund@example.se"}).get_json()
    assert_error(post(client, camt(order), bearer(session["token"])), 403, "forbidden")
    assert_error(client.get("/api/v1/support/unmatched-payments",
                            headers=bearer(shop[1])), 403, "forbidden")
    assert count(db, "bank_payment") == 0


def test_the_order_carries_its_invoice_payment_details(client, db, shop, order):
    token = client.post("/api/v1/customer/session", json={
        "order_number": order["order_number"], "email": "kund@example.se"}).get_json()["token"]
    shown = client.get(f"/api/v1/orders/{order['id']}", headers=bearer(token)).get_json()
    assert shown["invoice"] == {"bankgiro": "991-2346", "ocr": ocr.for_order(order["id"]),
                                "due_date": order["due_date"]}


def test_the_order_page_shows_how_to_pay_from_any_bank(client, db, order):
    sign_in_as(client, f"customer:{order['customer_id']}")
    page = html.unescape(client.get(f"/orders/{order['id']}").get_data(as_text=True))
    assert "991-2346" in page and ocr.for_order(order["id"]) in page
    bank_payments.import_file(db, camt(order), XML, "991-2346", "test")
    page = html.unescape(client.get(f"/orders/{order['id']}").get_data(as_text=True))
    assert ocr.for_order(order["id"]) not in page  # paid: nothing more to pay


# --- the console page -----------------------------------------------------------------------------

@pytest.fixture
def waiting(db, order):
    bank_payments.import_file(db, camt(order, amount=100), XML, "991-2346", "test")
    return bank_payments.unmatched(db)[0]


def test_an_agent_books_an_unmatched_payment_from_the_page(client, db, order, waiting):
    sign_in_as(client, f"support_user:{make_support_user(db)}")
    page = client.get("/support/unmatched")
    assert page.status_code == 200 and f'id="payment-{waiting["id"]}"' in page.get_data(
        as_text=True)
    prefix = f"book-{waiting['id']}"
    missing = client.post(f"/support/unmatched/{waiting['id']}/book",
                          data={f"{prefix}-order_number": order["order_number"]})
    assert missing.status_code == 422
    assert f'id="{prefix}-why-error"' in missing.get_data(as_text=True)
    assert order["order_number"] in missing.get_data(as_text=True)  # the input is kept
    done = client.post(f"/support/unmatched/{waiting['id']}/book", data={
        f"{prefix}-order_number": order["order_number"], f"{prefix}-why": "Payer called"})
    assert done.status_code == 303
    assert bank_payments.get(db, waiting["id"])["status"] == "booked"
    assert db.execute("SELECT why FROM audit_event WHERE action ="
                      " 'bank_payment.booked_by_support'").fetchone()[0] == "Payer called"


def test_an_agent_marks_one_for_return(client, db, waiting):
    sign_in_as(client, f"support_user:{make_support_user(db)}")
    prefix = f"return-{waiting['id']}"
    done = client.post(f"/support/unmatched/{waiting['id']}/return",
                       data={f"{prefix}-why": "Not our customer"})
    assert done.status_code == 303
    page = re.sub(r"\s+", " ", client.get("/support/unmatched").get_data(as_text=True))
    assert "to be returned to the payer" in page and "Not our customer" in page


def test_the_page_is_for_support_only(client, db, order, waiting):
    sign_in_as(client, f"customer:{order['customer_id']}")
    assert client.get("/support/unmatched").status_code == 403
    sign_in_as(client, None)
    assert client.get("/support/unmatched").status_code == 302
