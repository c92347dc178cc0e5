"""The inbox as CSV for a spreadsheet, safe to open: no cell is read as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from ..money import format_decimal

COLUMNS = (
    ("return_id", "id"), ("status", "status"), ("order_number", "order_number"),
    ("merchant_reference", "merchant_reference"), ("customer_name", "customer_name"),
    ("customer_email", "customer_email"), ("items", "item_count"), ("value", "value_minor"),
    ("currency", "currency"), ("reported_at", "reported_at"), ("send_by", "send_by"),
    ("sent_at", "sent_at"), ("tracking_number", "tracking_number"),
    ("received_at", "received_at"), ("refund_due_by", "refund_due_by"),
    ("overdue", "is_overdue"),
)
# A spreadsheet runs a cell starting with these as a formula (OWASP: CSV injection); a
# customer's name or a tracking number is typed by someone outside the merchant.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _line(values: Iterable) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([safe_cell(v) for v in values])
    return buffer.getvalue()


def csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    yield _line(name for name, _key in COLUMNS)
    for row in rows:
        row = {**row, "value_minor": format_decimal(row["value_minor"] or 0)}
        yield _line(row[key] for _name, key in COLUMNS)
