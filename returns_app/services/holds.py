"""Invoices support has put on hold: no reminder, late fee or collection until the date passes.

Whoever sends reminders or fees (emails, collection) asks `invoice_on_hold` first."""

from __future__ import annotations

from datetime import date

from ..store import invoices as invoice_rows
from ..store.db import Database


def invoice_on_hold(db: Database, order_id: int, today: date) -> bool:
    """True while support keeps this order's invoice paused: through `on_hold_until`, inclusive
    (Stockholm calendar days, like due dates)."""
    until = invoice_rows.on_hold_until(db, order_id)
    return bool(until and today.isoformat() <= until)
