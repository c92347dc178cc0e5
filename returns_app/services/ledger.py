"""The one way a ledger entry is written. Entries are never updated or deleted: a correction is
a new entry. Every kind of money movement that books one names it here."""

from __future__ import annotations

from ..domain import clock
from ..store import ledger as ledger_rows
from ..store.db import Database

# charge: the order's total at purchase; credit: returned items the merchant accepted;
# payment: money received; refund: money owed back (booked when its refund is created).
KINDS = ("charge", "credit", "payment", "refund")


def book(db: Database, *, order_id: int, kind: str, amount_minor: int, reference: str,
         memo: str = "", at: str | None = None) -> int:
    """Inside the caller's transaction: one entry of `amount_minor` (> 0) of `kind` on the
    order. `reference` is its idempotency key (what it is for: "payment:12", "refund:3"):
    booking the same kind and reference on an order twice fails on the table's UNIQUE.
    `at` is when, now unless given. Returns the entry's id."""
    if kind not in KINDS:
        raise ValueError(f"A ledger entry is one of {', '.join(KINDS)}, not {kind!r}.")
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) \
            or amount_minor <= 0:
        raise ValueError(f"A ledger entry's amount is a positive count of minor units, "
                         f"not {amount_minor!r}.")
    if not reference:
        raise ValueError("A ledger entry needs a reference (its idempotency key).")
    return ledger_rows.add_entry(db, order_id, kind, amount_minor, reference, memo,
                                 at or clock.now_iso())
