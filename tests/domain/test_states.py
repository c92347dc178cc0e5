"""One transition table per entity and one `status_moves.move` for every status change of a return,
refund, payment or bank payment: an illegal move is refused, a stale one too, and nothing else
in the code writes those status columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from returns_app.domain import states
from returns_app.domain.errors import Conflict
from returns_app.services import payments, refunds
from returns_app.store import status_moves
from returns_app.store.db import write_transaction
from tests.builders import decide, make_merchant, make_order, make_return

PACKAGE = Path(__file__).resolve().parents[2] / "returns_app"
TABLES = ("returns", "refund", "payment", "bank_payment")


@pytest.mark.parametrize("entity", sorted(states.ENTITIES))
def test_every_entity_has_one_status_list_and_a_table_over_it(entity):
    statuses = states.STATUSES[entity]
    transitions = states.ENTITIES[entity].transitions
    assert len(set(statuses)) == len(statuses)
    assert set(transitions) == set(statuses)
    assert all(set(targets) <= set(statuses) for targets in transitions.values())


@pytest.mark.parametrize("entity, current, target", [
    ("return", "resolved", "reported"),
    ("return", "cancelled", "sent"),
    ("refund", "succeeded", "ready"),
    ("refund", "needs_details", "sending"),
    ("payment", "succeeded", "cancelled"),
    ("payment", "pending", "failed"),
    ("bank_payment", "booked", "to_return"),
    ("bank_payment", "to_return", "unmatched"),
])
def test_an_illegal_transition_is_refused_before_anything_is_written(db, entity, current,
                                                                     target):
    with pytest.raises(Conflict), write_transaction(db):
        status_moves.move(db, entity, 1, current, target)


def test_the_refusals_keep_their_translated_sentences():
    with pytest.raises(Conflict, match=r"^This can't be done while the return is sent\.$"):
        states.check("return", "sent", "cancelled")
    with pytest.raises(Conflict, match=r"^A refund can't go from succeeded to ready\.$"):
        states.check("refund", "succeeded", "ready")


def test_a_move_from_a_status_the_row_no_longer_has_is_refused(db):
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"])
    ret = make_return(db, order)
    with pytest.raises(Conflict, match="The return changed meanwhile"), write_transaction(db):
        status_moves.move(db, "return", ret["id"], "sent", "received")
    paid = payments.record_transfer(db, order["id"], 1000, "OCR 1", "bank")
    with pytest.raises(Conflict, match="The payment changed meanwhile"), write_transaction(db):
        status_moves.move(db, "payment", paid["id"], "pending", "cancelled")


def test_a_refund_move_stamps_its_time_and_writes_its_columns(db):
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"], payment_method="card")
    ret = make_return(db, order)
    decide(db, merchant["id"], ret, (0, 1, 0))
    refund = refunds.refunds_of_order(db, order["id"])[0]
    assert refund["status"] == "ready"
    with write_transaction(db):
        status_moves.move(db, "refund", refund["id"], "ready", "sending", attempts=7)
    moved = refunds.get_refund(db, refund["id"])
    assert (moved["status"], moved["attempts"]) == ("sending", 7)
    assert moved["status_changed_at"] >= refund["status_changed_at"]
    with pytest.raises(Conflict, match="The refund changed meanwhile"), write_transaction(db):
        status_moves.move(db, "refund", refund["id"], "ready", "sending")


def _python_sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("store/migrations/"):
            continue  # the schema, its triggers and its one-off data fixes
        yield relative, path.read_text(encoding="utf-8")


STATUS_WRITE = re.compile(
    r"UPDATE\s+(?:" + "|".join(TABLES) + r")\s+SET\b[^\"']*?\bstatus\s*=", re.IGNORECASE)
TABLE_UPDATE = re.compile(r"db\[\"(?:" + "|".join(TABLES) + r")\"\]\.update\(")


def test_no_module_but_the_store_of_moves_writes_a_status_of_these_tables():
    """Only store/status_moves.py (its `move`) updates these status columns."""
    found = [relative for relative, text in _python_sources()
             if relative != "store/status_moves.py"
             and (STATUS_WRITE.search(text) or TABLE_UPDATE.search(text))]
    assert found == []


def test_the_scan_would_see_a_status_write():
    assert STATUS_WRITE.search('db.execute("UPDATE refund SET status = ? WHERE id = ?")')
    assert STATUS_WRITE.search('"UPDATE payment SET status = \'cancelled\', failure_reason"')
    assert not STATUS_WRITE.search('"UPDATE refund SET objected_at = ? WHERE id = ?"')
    assert TABLE_UPDATE.search('db["payment"].update(1, {"status": "failed"})')
