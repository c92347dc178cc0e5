"""The inbox as CSV for a spreadsheet, safe to open: no cell is read as a formula.

Two dialects. Plain CSV (RFC 4180: commas, UTF-8) for the merchant's own systems, and one that
Swedish Excel opens by a double click: Excel splits a CSV on the list separator of the
computer's region, which is ";" in Sweden (the decimal separator being ","), and reads a file as
UTF-8 only when it starts with a byte order mark, else "Åsa" arrives as "Ã…sa". A CSV and not an
.xlsx: it streams at any size with the standard library, and every spreadsheet opens it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from ..domain.money import format_decimal

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


def _line(values: Iterable, delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerow([safe_cell(v) for v in values])
    return buffer.getvalue()


def csv_lines(rows: Iterable[dict], for_excel: bool = False) -> Iterator[str]:
    delimiter = ";" if for_excel else ","
    if for_excel:
        yield "\ufeff"
    yield _line((name for name, _key in COLUMNS), delimiter)
    for row in rows:
        row = {**row, "value_minor": format_decimal(row["value_minor"] or 0)}
        yield _line((row[key] for _name, key in COLUMNS), delimiter)
