"""Any sequence of bank file imports (the same file again, files that overlap, malformed files,
camt.054 and BgMax mixed) leaves each booking in the ledger exactly once and the money rules
intact: Hypothesis over the real services, each example on a fresh database of the engine
under test (conftest's example_databases)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returns_app.bankfiles import ocr, sandbox
from returns_app.domain.errors import Invalid
from returns_app.services import bank_payments, orders
from tests.bank_file_builders import Deposit, Pay, as_file
from tests.bank_file_builders import bgmax as build
from tests.builders import checkout_payload, make_merchant

BANKGIRO = "991-2346"
TOTAL = 2 * 29900 + 79900 + 10000
ORDERS = 2
# What the bank could tell us: each a booking with its own bank reference, some for our two
# invoice orders (small, whole, more than owed), some that match nothing.
BOOKINGS = [(order, amount) for order in range(ORDERS) for amount in (5000, TOTAL, 7000)] + [
    (None, 3000), (None, 4000)]


def _camt(chosen: list[int], orders_: list[dict], message: str) -> bytes:
    credits = []
    for index in chosen:
        order, amount = BOOKINGS[index]
        reference = ocr.for_order(orders_[order]["id"]) if order is not None else "100012393"
        credits.append((index, sandbox.Credit(amount, reference, "Payer")))
    data = sandbox.notification(BANKGIRO, [c for _i, c in credits], date(2026, 11, 2),
                                datetime(2026, 11, 2, 6), message)
    # The bank's reference for a booking is the same in whichever file repeats it.
    for position, (index, _credit) in enumerate(credits, start=1):
        data = data.replace(f"{message[:24]}{position:06d}".encode(),
                            f"BOOKING{index:06d}_{position:06d}".encode())
    for position, (index, _credit) in enumerate(credits, start=1):
        data = data.replace(f"BOOKING{index:06d}_{position:06d}".encode(),
                            f"BOOKING{index:06d}".encode())
    return data


# BgMax deposits are delivered whole, so a repeat is a whole deposit again: three fixed ones.
DEPOSITS = {1: [(0, 5000), (1, TOTAL)], 2: [(None, 2000), (1, 3000)], 3: [(0, TOTAL)]}


def _bgmax(serials: list[int], orders_: list[dict]) -> bytes:
    deposits = []
    for serial in sorted(serials):
        payments = [Pay(amount, ocr.for_order(orders_[order]["id"]) if order is not None
                        else "12345", "2" if order is not None else "3",
                        serial=f"{serial:06d}{position:06d}")
                    for position, (order, amount) in enumerate(DEPOSITS[serial])]
        deposits.append(Deposit(payments, serial=serial))
    return as_file(build(*deposits))


FILES = st.one_of(
    st.tuples(st.just("camt"), st.lists(st.integers(0, len(BOOKINGS) - 1), min_size=1,
                                        max_size=4, unique=True)),
    st.tuples(st.just("bgmax"), st.lists(st.sampled_from(sorted(DEPOSITS)), min_size=1,
                                         max_size=3, unique=True)),
    st.tuples(st.just("malformed"), st.sampled_from([b"<Document/>", b"01BGMAX\r\n70",
                                                     b"\x00\xff", b""])),
)


def _orders(db) -> None:
    merchant, _key = make_merchant(db, instructions=None)
    for _ in range(ORDERS):
        orders.create_order(db, merchant["id"], checkout_payload())


@pytest.fixture(scope="module")
def databases(example_databases):
    return example_databases(_orders)


def _check(db, orders_: list[dict], imported: dict[tuple, tuple]) -> None:
    keys = [row[0] for row in db.execute("SELECT booking_key FROM bank_payment")]
    assert len(keys) == len(set(keys)) == len(imported)
    for number, order in enumerate(orders_):
        oid = order["id"]
        ledger = dict(db.execute("SELECT kind, sum(amount_minor) FROM ledger_entry"
                                 " WHERE order_id = ? GROUP BY kind", [oid]).fetchall())
        booked = db.execute("SELECT coalesce(sum(amount_minor), 0) FROM bank_payment"
                            " WHERE order_id = ? AND status = 'booked'", [oid]).fetchone()[0]
        expected = sum(amount for target, amount in imported.values() if target == number)
        # Each booking in the ledger once: what the bank said for this order, no more.
        assert ledger.get("payment", 0) == booked == expected
        paid, refunded = ledger.get("payment", 0), ledger.get("refund", 0)
        amounts = orders.ledger_amounts(db, oid)
        # Overpaid money becomes one refund at once, never twice; the rest stays payable.
        assert refunded == max(0, paid - TOTAL) and amounts.refund_owed == 0
        assert amounts.payable_now == max(0, TOTAL - paid + refunded)
        assert 0 <= refunded <= paid


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(st.tuples(FILES, st.booleans()), min_size=1, max_size=6))
def test_any_sequence_of_imports_books_each_payment_once(databases, sequence):
    with databases.fresh() as db:
        orders_ = [orders.get_order(db, i) for i in range(1, ORDERS + 1)]
        imported: dict[tuple, tuple] = {}  # the model: each booking the bank told us of
        for number, ((kind, content), twice) in enumerate(sequence):
            if kind == "malformed":
                data, media = content, "application/xml" if content[:1] == b"<" else "text/plain"
            elif kind == "camt":
                data, media = _camt(content, orders_, f"MSG{number}"), "application/xml"
            else:
                data, media = _bgmax(content, orders_), "text/plain"
            for _ in range(2 if twice else 1):
                before = db.execute("SELECT count(*) FROM ledger_entry").fetchone()[0]
                try:
                    bank_payments.import_file(db, data, media, BANKGIRO, "test")
                except Invalid:
                    assert kind == "malformed"
                    assert db.execute("SELECT count(*) FROM ledger_entry").fetchone()[0] == before
                    continue
                if kind == "camt":
                    imported.update({("camt", i): BOOKINGS[i] for i in content})
                else:
                    imported.update({("bgmax", serial, position): booking
                                     for serial in content
                                     for position, booking in enumerate(DEPOSITS[serial])})
            _check(db, orders_, imported)
