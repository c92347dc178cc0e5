"""Booking the bank's files (services/bank_payments.py): matching by OCR reference through the
ledger path of every payment, each booking once ever, a bad file booking nothing, and support's
list of payments no order was found for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from returns_app.bankfiles import ocr, sandbox
from returns_app.domain.errors import Conflict, Invalid
from returns_app.services import bank_payments, orders, refunds, stuck
from tests import stuck_oracle
from tests.api_helpers import count
from tests.bank_file_builders import Deposit, Pay, as_file
from tests.bank_file_builders import bgmax as build
from tests.builders import checkout_payload, make_merchant

BANKGIRO = "991-2346"
TOTAL = 2 * 29900 + 79900 + 10000  # checkout_payload's lines
NOW = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def order(db):
    merchant, _key = make_merchant(db)
    return orders.create_order(db, merchant["id"], checkout_payload())


def camt(*credits: sandbox.Credit, message_id: str = "MSG-1", day: date = date(2026, 11, 2)
         ) -> bytes:
    return sandbox.notification(BANKGIRO, list(credits), day, datetime(2026, 11, 2, 6),
                                message_id)


def pays(order: dict, amount: int) -> sandbox.Credit:
    return sandbox.Credit(amount, ocr.for_order(order["id"]), "Kim Kund")


def book(db, data: bytes, media_type: str = "application/xml") -> dict:
    return bank_payments.import_file(db, data, media_type, BANKGIRO, "test").body


def ledger_paid(db, order_id: int) -> int:
    return db.execute("SELECT coalesce(sum(amount_minor), 0) FROM ledger_entry WHERE order_id"
                      " = ? AND kind = 'payment'", [order_id]).fetchone()[0]


def test_the_invoice_carries_the_bankgiro_and_its_own_ocr_reference(db, order):
    details = bank_payments.invoice_details(order, "9912346")
    assert details == {"bankgiro": "991-2346", "ocr": ocr.for_order(order["id"]),
                       "due_date": order["due_date"]}
    assert bank_payments.invoice_details({**order, "payment_method": "card"}, BANKGIRO) is None


def test_a_payment_with_the_orders_ocr_is_booked_like_every_payment(db, order):
    result = book(db, camt(pays(order, TOTAL)))
    assert (result["booked"], result["unmatched"], result["duplicates"]) == (1, 0, 0)
    assert result["payments"][0]["order_id"] == order["id"]
    assert ledger_paid(db, order["id"]) == TOTAL
    assert orders.amounts(db, order["id"]).payable_now == 0
    # The same path as every payment: a succeeded payment, its receipt email and audit row.
    assert db.execute("SELECT method, status FROM payment WHERE order_id = ?",
                      [order["id"]]).fetchall() == [("bank_transfer", "succeeded")]
    assert db.execute("SELECT count(*) FROM notification WHERE order_id = ? AND kind ="
                      " 'payment_receipt'", [order["id"]]).fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = 'payment.succeeded'"
                      ).fetchone()[0] == 1


def test_each_booking_is_booked_once_ever(db, order):
    first = camt(pays(order, 10000), pays(order, 20000), message_id="MSG-1")
    book(db, first)
    again = book(db, first)
    assert (again["booked"], again["duplicates"], again["payments"]) == (0, 2, [])
    # A later file repeating one booking (same bank reference) and bringing a new one.
    later = first.replace(b"MSG-1-1</Id>", b"MSG-2-1</Id>").replace(
        b"<MsgId>MSG-1", b"<MsgId>MSG-2").replace(b"MSG-1000002", b"MSG-2000002")
    result = book(db, later)
    assert (result["booked"], result["duplicates"]) == (1, 1)
    assert ledger_paid(db, order["id"]) == 10000 + 20000 + 20000
    assert count(db, "bank_payment") == 3


def test_the_same_ocr_paid_twice_is_two_payments(db, order):
    result = book(db, camt(pays(order, 10000), pays(order, 10000)))
    assert result["booked"] == 2 and ledger_paid(db, order["id"]) == 20000


def test_an_overpayment_is_refunded_at_once_and_the_customer_asked_where(db, order):
    book(db, camt(pays(order, TOTAL + 5000)))
    [refund] = refunds.refunds_of_order(db, order["id"])
    assert (refund["amount_minor"], refund["status"]) == (5000, "needs_details")
    assert db.execute("SELECT count(*) FROM notification WHERE kind = 'payout_details_needed'"
                      ).fetchone()[0] == 1


@pytest.mark.parametrize("credit, reason", [
    (sandbox.Credit(5000, "100012393"), "wrong_check_digit"),
    (sandbox.Credit(5000, ocr.for_order(999)), "unknown_reference"),
    (sandbox.Credit(5000, "", structured=False), "no_reference"),
    (sandbox.Credit(5000, "Faktura från mars", structured=False), "unknown_reference"),
])
def test_payments_no_order_is_found_for_wait_for_support(db, order, credit, reason):
    result = book(db, camt(credit))
    assert (result["booked"], result["unmatched"]) == (0, 1)
    [row] = bank_payments.unmatched(db)
    assert (row["status"], row["unmatched_reason"], row["amount_minor"]) == (
        "unmatched", reason, 5000)
    assert count(db, "ledger_entry WHERE kind = 'payment'") == 0


def test_a_foreign_currency_payment_is_unmatched_even_with_a_good_reference(db, order):
    book(db, camt(sandbox.Credit(5000, ocr.for_order(order["id"]), currency="EUR")))
    assert bank_payments.unmatched(db)[0]["unmatched_reason"] == "foreign_currency"


def test_a_card_orders_number_is_no_invoice_to_pay(db):
    merchant, _key = make_merchant(db)
    card = orders.create_order(db, merchant["id"], checkout_payload(payment_method="card"))
    book(db, camt(pays(card, 5000)))
    assert bank_payments.unmatched(db)[0]["unmatched_reason"] == "unknown_reference"


def test_a_bgmax_file_books_through_the_same_path(db, order):
    data = as_file(build(Deposit([Pay(TOTAL, ocr.for_order(order["id"]), name="Kim Kund"),
                                  Pay(100, "12345", code="3", serial="000000000002"),
                                  Pay(50, deduction=True, serial="000000000003")])))
    result = book(db, data, "text/plain")
    assert (result["booked"], result["unmatched"]) == (1, 2)
    assert {r["unmatched_reason"] for r in bank_payments.unmatched(db)} == {
        "wrong_check_digit", "deduction"}
    assert book(db, data, "text/plain")["duplicates"] == 3


@pytest.mark.parametrize("data, media_type", [
    (b"<Document/>", "application/xml"),
    (b"01BGMAX\r\n", "text/plain"),
])
def test_a_malformed_file_books_nothing(db, order, data, media_type):
    with pytest.raises(Invalid) as caught:
        book(db, data, media_type)
    assert caught.value.details["problems"]
    assert count(db, "bank_file") == count(db, "bank_payment") == 0


def test_a_file_for_another_account_books_nothing(db, order):
    data = sandbox.notification("5050-1055", [pays(order, TOTAL)], date(2026, 11, 2),
                                datetime(2026, 11, 2, 6), "OTHER")
    with pytest.raises(Invalid) as caught:
        book(db, data)
    assert "5050-1055" not in caught.value.details["problems"][0]["message"]
    assert "50501055" in caught.value.details["problems"][0]["message"]
    assert ledger_paid(db, order["id"]) == 0 and count(db, "bank_payment") == 0


def test_an_iban_named_in_configuration_is_our_account(db, order):
    data = camt(pays(order, 100)).replace(
        b"<Othr>", b"<IBAN>SE4550000000058398257466</IBAN><Othr>").replace(
        b"<Id>9912346</Id>", b"<Id>x</Id>")
    data = data[:data.index(b"<Othr>")] + data[data.index(b"</Othr>") + 7:]
    result = bank_payments.import_file(db, data, "application/xml", BANKGIRO, "test",
                                       iban="SE45 5000 0000 0583 9825 7466").body
    assert result["booked"] == 1


# --- support's list -------------------------------------------------------------------------------

@pytest.fixture
def waiting(db, order):
    book(db, camt(sandbox.Credit(TOTAL, "100012393", "Kim Kund")))
    return bank_payments.unmatched(db)[0]


def test_support_books_an_unmatched_payment_to_an_order_with_a_why(db, order, waiting):
    row = bank_payments.book_to_order(db, waiting["id"], order["order_number"].replace("-", ""),
                                      "The payer called: one digit wrong", "support:1")
    assert (row["status"], row["order_id"], row["resolution_why"]) == (
        "booked", order["id"], "The payer called: one digit wrong")
    assert ledger_paid(db, order["id"]) == TOTAL
    assert bank_payments.unmatched(db) == []
    assert db.execute("SELECT actor, why FROM audit_event WHERE action ="
                      " 'bank_payment.booked_by_support'").fetchall() == [
        ("support:1", "The payer called: one digit wrong")]
    with pytest.raises(Conflict):
        bank_payments.mark_for_return(db, waiting["id"], "again", "support:1")


@pytest.mark.parametrize("number, why, field", [
    ("000-000-000", "why", "order_number"),
    (None, "  ", "why"),
])
def test_booking_needs_a_real_order_and_a_why(db, order, waiting, number, why, field):
    with pytest.raises(Invalid) as caught:
        bank_payments.book_to_order(db, waiting["id"], number or order["order_number"], why,
                                    "support:1")
    assert field in caught.value.fields
    assert bank_payments.unmatched(db)[0]["id"] == waiting["id"]


def test_support_marks_a_payment_for_return_to_the_payer(db, order, waiting):
    row = bank_payments.mark_for_return(db, waiting["id"], "Not our customer", "support:2")
    assert row["status"] == "to_return" and ledger_paid(db, order["id"]) == 0
    assert bank_payments.unmatched(db) == []
    assert [r["id"] for r in bank_payments.recently_resolved(db)] == [waiting["id"]]


def test_an_unmatched_payment_is_stuck_after_two_whole_banking_days(db, order):
    # Booked on Friday 6 November: Monday and Tuesday pass, so it is stuck from Wednesday.
    book(db, camt(sandbox.Credit(5000, "100012393"), day=date(2026, 11, 6)))
    [row] = bank_payments.unmatched(db)
    for moment, is_stuck in ((datetime(2026, 11, 10, 12, tzinfo=UTC), False),
                             (datetime(2026, 11, 11, 8, tzinfo=UTC), True)):
        page = stuck.stuck_queue(db, moment)
        codes = [(i.unmatched_id, i.reason.code) for i in page.items]
        assert ((row["id"], "unmatched_payment_over_2_banking_days") in codes) is is_stuck
        assert [(i.unmatched_id, i.reason.code)
                for i in stuck_oracle.stuck_items(db, moment)] == codes
    bank_payments.mark_for_return(db, row["id"], "Returned", "support:1")
    assert stuck.stuck_queue(db, datetime(2026, 11, 11, 8, tzinfo=UTC)).total == 0


def test_the_stuck_api_says_why_in_a_sentence(db, order):
    book(db, camt(sandbox.Credit(5000, "1234", structured=False), day=date(2026, 11, 2)))
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        [item] = stuck.stuck_queue(db, NOW + timedelta(days=2)).items
        shown = stuck.as_api(item, NOW + timedelta(days=2))
    assert shown["unmatched_payment_id"] == item.unmatched_id and shown["order_id"] is None
    assert "2026-11-02" in shown["why"] and shown["amount"] == 5000
