"""Parcels arriving at the merchant: several returns marked received at once from the inbox.

Arrival moves no money (a decision does, in services/decisions): it only records that every item
of the return is in, and the return moves to `received`.
"""

from __future__ import annotations

from ..domain import clock, states
from ..domain.errors import Conflict, Invalid, NotFound
from ..store import decisions as decision_rows
from ..store import status_moves
from ..store.db import Database, lock_rows, write_transaction
from . import audit
from .decisions import check_not_reported_again

MAX_AT_ONCE = 100
CAN_ARRIVE = states.can_move_to("return", "received")


def mark_received(db: Database, merchant_id: int, return_ids: list[int], actor: str) -> dict:
    """All or nothing for whose returns they are (another merchant's id: NotFound); returns that
    can't be received (already received, resolved, cancelled) are skipped and named."""
    ids = sorted(set(return_ids))
    if not ids:
        raise Invalid(fields={"return_ids": "Choose at least one return."})
    if len(ids) > MAX_AT_ONCE:
        raise Invalid(fields={"return_ids": f"Choose at most {MAX_AT_ONCE} returns at once."})
    received, skipped = [], []
    with write_transaction(db):
        found = decision_rows.returns_of_merchant(db, merchant_id, ids)
        # Their orders locked, the returns read again: each one's arrival is its order's case.
        lock_rows(db, "orders", *(row["order_id"] for row in found))
        rows = {row["id"]: row for row in decision_rows.returns_of_merchant(db, merchant_id, ids)}
        if len(rows) != len(ids):
            raise NotFound("No such return.")
        now = clock.now_iso()
        for return_id in ids:
            ret = rows[return_id]
            if ret["status"] not in CAN_ARRIVE:
                skipped.append({"id": return_id, "why": f"it is already {ret['status']}"})
                continue
            if ret["status"] == "expired":
                try:
                    check_not_reported_again(db, ret)
                except Conflict as exc:
                    skipped.append({"id": return_id, "why": exc.message})
                    continue
            decision_rows.mark_all_received(db, return_id)
            status_moves.move(db, "return", return_id, ret["status"], "received", received_at=now)
            audit.record(db, actor, "return.received", "return", return_id,
                         before={"status": ret["status"]}, after={"status": "received"})
            received.append(return_id)
    return {"received": received, "skipped": skipped}
