"""ledger.book is the only writer of ledger rows: it checks what an entry is before the one
INSERT in store/ledger.py runs, and no other module writes ledger_entry."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from returns_app.services import ledger
from returns_app.store.db import write_transaction
from tests.builders import make_merchant, make_order

PACKAGE = Path(__file__).resolve().parents[2] / "returns_app"
LEDGER_WRITE = re.compile(
    r"(INSERT|REPLACE)\s+(OR\s+\w+\s+)?INTO\s+ledger_entry\b"
    r"|db\[\s*[\"']ledger_entry[\"']\s*\]"
    r"|insert\(\s*db\s*,\s*[\"']ledger_entry[\"']", re.IGNORECASE)


def test_only_the_ledger_store_writes_ledger_rows():
    """The schema (store/migrations/) creates the table and its append-only triggers; every
    row comes through ledger.book and store/ledger.add_entry."""
    writers = sorted(
        relative for relative, path in ((p.relative_to(PACKAGE).as_posix(), p)
                                        for p in PACKAGE.rglob("*.py"))
        if not relative.startswith("store/migrations/")
        and LEDGER_WRITE.search(path.read_text(encoding="utf-8")))
    assert writers == ["store/ledger.py"]


def test_the_scan_would_see_another_writer():
    assert LEDGER_WRITE.search('db["ledger_entry"].insert({"kind": "credit"})')
    assert LEDGER_WRITE.search('"INSERT INTO ledger_entry (order_id) VALUES (?)"')
    assert LEDGER_WRITE.search('insert(db, "ledger_entry", row)')
    assert not LEDGER_WRITE.search('"SELECT kind FROM ledger_entry WHERE order_id = ?"')


@pytest.fixture
def order(db):
    merchant, _ = make_merchant(db)
    return make_order(db, merchant["id"])


def entries(db, order_id: int) -> list[tuple]:
    return db.execute("SELECT kind, amount_minor, idempotency_key, memo FROM ledger_entry"
                      " WHERE order_id = ? ORDER BY id", [order_id]).fetchall()


def test_book_writes_one_entry_with_what_it_is(db, order):
    before = entries(db, order["id"])
    with write_transaction(db):
        entry_id = ledger.book(db, order_id=order["id"], kind="credit", amount_minor=500,
                               reference="test:1", memo="one shirt accepted")
    assert entry_id > 0
    assert entries(db, order["id"]) == [*before, ("credit", 500, "test:1",
                                                  "one shirt accepted")]


@pytest.mark.parametrize("changes, message", [
    ({"kind": "bonus"}, "one of charge, credit, payment, refund"),
    ({"kind": "Credit"}, "one of charge, credit, payment, refund"),
    ({"amount_minor": 0}, "positive count of minor units"),
    ({"amount_minor": -5}, "positive count of minor units"),
    ({"amount_minor": 12.5}, "positive count of minor units"),
    ({"amount_minor": True}, "positive count of minor units"),
    ({"reference": ""}, "needs a reference"),
])
def test_book_refuses_what_is_no_ledger_entry(db, order, changes, message):
    before = entries(db, order["id"])
    entry = {"order_id": order["id"], "kind": "credit", "amount_minor": 500,
             "reference": "test:2", **changes}
    with pytest.raises(ValueError, match=message), write_transaction(db):
        ledger.book(db, **entry)
    assert entries(db, order["id"]) == before


def test_the_same_money_is_never_booked_twice(db, order):
    with write_transaction(db):
        ledger.book(db, order_id=order["id"], kind="payment", amount_minor=100,
                    reference="payment:x")
    with pytest.raises(sqlite3.IntegrityError), write_transaction(db):
        ledger.book(db, order_id=order["id"], kind="payment", amount_minor=100,
                    reference="payment:x")


def test_book_takes_named_arguments_only(db, order):
    with pytest.raises(TypeError):
        ledger.book(db, order["id"], "credit", 500, "test:3")
