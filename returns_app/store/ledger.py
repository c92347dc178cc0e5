"""The ledger_entry table: the one statement that writes a ledger row (called only by
services/ledger.book), and the reads of the ledger's totals."""

from __future__ import annotations

from .db import Database, insert


def add_entry(db: Database, order_id: int, kind: str, amount_minor: int, idempotency_key: str,
              memo: str, created_at: str) -> int:
    """Append one entry; its id. The table is append-only (its triggers refuse UPDATE and
    DELETE) and (order, kind, key) is UNIQUE, so the same money can't be booked twice."""
    return insert(db, "ledger_entry", {
        "order_id": order_id, "kind": kind, "amount_minor": amount_minor,
        "idempotency_key": idempotency_key, "memo": memo, "created_at": created_at,
    })
