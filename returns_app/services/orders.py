"""Orders: created as a checkout sends them, read back with what is owed, paused and returnable."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from ..domain import clock
from ..domain.errors import Conflict, NotFound
from ..domain.money import Amounts, ItemValue, LineValue, compute_amounts
from ..domain.states import ENDED_WITHOUT_RETURN, OPEN_RETURN_STATUSES
from ..domain.validation import AMOUNT, COUNT, FieldErrors
from ..store import customers as customer_rows
from ..store import orders as order_rows
from ..store.db import Database, run_serializable
from . import audit, ledger, merchants

CURRENCIES = ("SEK", "EUR", "NOK", "DKK")
PAYMENT_METHODS = ("invoice", "card")
INVOICE_DAYS = 14
MAX_LINES = 200


@dataclass(frozen=True)
class Viewer:
    """Who is asking for a customer's data: a signed-in customer, and/or orders found by lookup."""

    customer_id: int | None = None
    order_ids: frozenset[int] = frozenset()

    def may_see(self, order: dict) -> bool:
        return order["customer_id"] == self.customer_id or order["id"] in self.order_ids

    @property
    def actor(self) -> str:
        return f"customer:{self.customer_id}" if self.customer_id else "customer:lookup"


def format_order_number(digits: str) -> str:
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]}"


def normalize_order_number(text: str) -> str:
    """People type order numbers with spaces, dashes or none at all; store one spelling."""
    digits = re.sub(r"\D", "", text or "")
    return format_order_number(digits) if len(digits) == 9 else (text or "").strip()


def _new_order_number(db: Database) -> str:
    while True:
        candidate = format_order_number(f"{secrets.randbelow(10**9):09d}")
        if not order_rows.number_taken(db, candidate):
            return candidate


def _parse_checkout(payload) -> dict:
    errors = FieldErrors()
    data = errors.mapping(payload, "body")
    customer = data.get("customer")
    if not isinstance(customer, dict):
        errors.add("customer", "Send the customer as an object with email and name.")
    parsed = {
        "merchant_reference": errors.text(data, "merchant_reference", "merchant_reference",
                                          max_length=100),
        "email": errors.email(customer, "email", "customer.email")
        if isinstance(customer, dict) else None,
        "name": errors.text(customer, "name", "customer.name", max_length=200)
        if isinstance(customer, dict) else None,
        "currency": errors.choice(data, "currency", "currency", CURRENCIES),
        "payment_method": errors.choice(data, "payment_method", "payment_method",
                                        PAYMENT_METHODS),
        "purchased_at": errors.moment(data, "purchased_at", "purchased_at"),
        "delivered_at": errors.moment(data, "delivered_at", "delivered_at"),
        "lines": [],
    }
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        errors.add("lines", "Send at least one line.")
    elif len(lines) > MAX_LINES:
        errors.add("lines", f"At most {MAX_LINES} lines per order.")
    else:
        for i, raw in enumerate(lines):
            line = errors.mapping(raw, f"lines[{i}]")
            if not line:
                continue
            parsed["lines"].append({
                "sku": errors.text(line, "sku", f"lines[{i}].sku", max_length=64),
                "name": errors.text(line, "name", f"lines[{i}].name", max_length=200),
                "quantity": errors.integer(line, "quantity", f"lines[{i}].quantity",
                                           counts=COUNT, minimum=1, maximum=10_000),
                "unit_price": errors.integer(line, "unit_price", f"lines[{i}].unit_price",
                                             counts=AMOUNT, minimum=0, maximum=10**10),
            })
    errors.raise_if_any()
    return parsed


def create_order(db: Database, merchant_id: int, payload, order_number: str | None = None
                 ) -> dict:
    """Record an order as the checkout sends it. A card order is paid in full at purchase.

    `order_number` is for demo data only, so the printed sign-in hints stay the same.
    """
    data = _parse_checkout(payload)
    now = clock.now()
    purchased_at = data["purchased_at"] or now
    delivered_at = data["delivered_at"]
    # SERIALIZABLE with retry (docs/design.md, "Locking, case by case"): what this checks is
    # the absence of rows (the merchant's reference, the order number, the customer's email),
    # and no row lock holds a row that isn't there; a concurrent writer of one of them makes
    # PostgreSQL abort one of the two, and it runs again and sees the other's.
    def write(db: Database) -> int:
        if order_rows.reference_taken(db, merchant_id, data["merchant_reference"]):
            raise Conflict(f"An order with merchant_reference {data['merchant_reference']!r} "
                           "already exists.")
        customer_id = _customer_for(db, data["email"], data["name"], now)
        instructions = merchants.current_instructions(db, merchant_id, None)
        order_id = order_rows.add_order(db, {
            "merchant_id": merchant_id,
            "customer_id": customer_id,
            "order_number": order_number or _new_order_number(db),
            "merchant_reference": data["merchant_reference"],
            "currency": data["currency"],
            "payment_method": data["payment_method"],
            "purchased_at": clock.iso(purchased_at),
            "delivered_at": clock.iso(delivered_at) if delivered_at else None,
            "due_date": _due_date(data["payment_method"], delivered_at),
            "created_at": clock.iso(now),
        })
        total = 0
        for position, line in enumerate(data["lines"], start=1):
            reason = merchants.non_returnable_reason(instructions, line["sku"])
            order_rows.add_line(db, {
                "order_id": order_id,
                "position": position,
                "sku": line["sku"],
                "name": line["name"],
                "quantity": line["quantity"],
                "unit_price_minor": line["unit_price"],
                "returnable": 0 if reason else 1,
                "non_returnable_reason": reason,
            })
            total += line["quantity"] * line["unit_price"]
        _ledger(db, order_id, "charge", total, "order", "Order total at purchase", now)
        if data["payment_method"] == "card":
            _ledger(db, order_id, "payment", total, "card-at-purchase", "Paid by card", now)
        audit.record(db, f"merchant:{merchant_id}", "order.created", "order", order_id,
                     after={"total": total, "payment_method": data["payment_method"]})
        return order_id

    return order_details(db, run_serializable(db, write))


def _due_date(payment_method: str, delivered_at: datetime | None) -> str | None:
    if payment_method != "invoice" or delivered_at is None:
        return None
    return clock.days_after(delivered_at, INVOICE_DAYS).isoformat()


def _ledger(db, order_id: int, kind: str, amount: int, key: str, memo: str, now) -> None:
    if amount > 0:
        ledger.book(db, order_id=order_id, kind=kind, amount_minor=amount, reference=key,
                    memo=memo, at=clock.iso(now))


def _customer_for(db, email: str, name: str, now) -> int:
    found = customer_rows.customer_id_by_email(db, email)
    if found is not None:
        return found
    return customer_rows.add_customer(db, email, name, clock.iso(now))


# --- reading ----------------------------------------------------------------------------------

def get_order(db: Database, order_id: int) -> dict:
    order = order_rows.order_with_names(db, order_id)
    if order is None:
        raise NotFound("No such order.")
    return order


def order_for_viewer(db: Database, viewer: Viewer, order_id: int) -> dict:
    """Someone else's order is indistinguishable from one that doesn't exist."""
    try:
        order = get_order(db, order_id)
    except NotFound:
        raise NotFound("We couldn't find that order.") from None
    if not viewer.may_see(order):
        raise NotFound("We couldn't find that order.")
    return order


def lines_with_returnable(db: Database, order_id: int) -> list[dict]:
    lines = order_rows.lines_with_returned(db, order_id, sorted(ENDED_WITHOUT_RETURN))
    for line in lines:
        left = line["quantity"] - line["in_returns"]
        line["returnable_quantity"] = left if line["returnable"] else 0
        line["line_total"] = line["quantity"] * line["unit_price_minor"]
    return lines


def ledger_amounts(db: Database, order_id: int, lines: list[dict] | None = None) -> Amounts:
    """The money rules over the ledger, where a refund counts from the moment it is created:
    what decides whether a new refund is owed, so the same money is never refunded twice.
    `lines` are the order's lines when the caller has already read them."""
    if lines is None:
        lines = order_rows.line_values(db, order_id)
    values = [LineValue(r["quantity"], r["unit_price_minor"]) for r in lines]
    items = [
        ItemValue(r["quantity"], r["unit_price_minor"], r["accepted_quantity"],
                  r["rejected_quantity"], r["status"] in OPEN_RETURN_STATUSES)
        for r in order_rows.returned_item_values(db, order_id)
    ]
    sums = order_rows.ledger_sums(db, order_id)
    return compute_amounts(values, items, sums.get("payment", 0), sums.get("refund", 0))


def amounts(db: Database, order_id: int, lines: list[dict] | None = None) -> Amounts:
    """What the customer sees: as refunded only what has reached them; a refund still under
    way is owed to them."""
    booked = ledger_amounts(db, order_id, lines)
    under_way = order_rows.refunds_under_way(db, order_id)
    return _as_seen(booked, under_way)


def _as_seen(booked: Amounts, under_way: int) -> Amounts:
    return replace(booked, refunded=booked.refunded - under_way,
                   refund_owed=booked.refund_owed + under_way)


def order_details(db: Database, order_id: int, order: dict | None = None) -> dict:
    """The order with its lines, amounts and returns; `order` is get_order's row when the
    caller has just read it (as order_for_viewer does), so a request reads it once."""
    order = dict(order) if order is not None else get_order(db, order_id)
    order["lines"] = lines_with_returnable(db, order_id)
    order["amounts"] = amounts(db, order_id, order["lines"])
    order["returns"] = order_rows.returns_with_summary(db, order_id)
    return order


def rejected_items(db: Database, order_id: int) -> list[dict]:
    """Items the merchant did not accept: the customer is told why, and what is due again."""
    return order_rows.rejected_items(db, order_id)


def orders_of_customer(db: Database, customer_id: int) -> list[dict]:
    orders = order_rows.orders_of_customer(db, customer_id)
    known = amounts_of_customer(db, customer_id)
    for order in orders:
        order["amounts"] = known[order["id"]]
    return orders


def amounts_of_customer(db: Database, customer_id: int) -> dict[int, Amounts]:
    """`amounts` of every order of the customer, with one grouped query per table instead of
    four queries per order."""
    lines: dict[int, list[LineValue]] = {}
    for row in order_rows.line_values_of_customer(db, customer_id):
        lines.setdefault(row["order_id"], []).append(
            LineValue(row["quantity"], row["unit_price_minor"]))
    items: dict[int, list[ItemValue]] = {}
    for row in order_rows.returned_item_values_of_customer(db, customer_id):
        items.setdefault(row["order_id"], []).append(ItemValue(
            row["quantity"], row["unit_price_minor"], row["accepted_quantity"],
            row["rejected_quantity"], row["status"] in OPEN_RETURN_STATUSES))
    sums: dict[int, dict[str, int]] = {}
    for row in order_rows.ledger_sums_of_customer(db, customer_id):
        sums.setdefault(row["order_id"], {})[row["kind"]] = row["total"]
    under_way = order_rows.refunds_under_way_of_customer(db, customer_id)
    found = {}
    for order_id in order_rows.order_ids_of_customer(db, customer_id):
        paid = sums.get(order_id, {})
        booked = compute_amounts(lines.get(order_id, []), items.get(order_id, []),
                                 paid.get("payment", 0), paid.get("refund", 0))
        found[order_id] = _as_seen(booked, under_way.get(order_id, 0))
    return found


def as_api(order: dict, invoice: dict | None = None) -> dict:
    """The contract's order representation; `invoice` is how to pay an invoice order from any
    bank (bank_payments.invoice_details), None for a card order."""
    return {
        "id": order["id"],
        "order_number": order["order_number"],
        "merchant_reference": order["merchant_reference"],
        "merchant": {"id": order["merchant_id"], "name": order["merchant_name"]},
        "customer": {"email": order["customer_email"], "name": order["customer_name"]},
        "currency": order["currency"],
        "payment_method": order["payment_method"],
        "purchased_at": order["purchased_at"],
        "delivered_at": order["delivered_at"],
        "due_date": order["due_date"],
        "lines": [
            {
                "id": line["id"],
                "sku": line["sku"],
                "name": line["name"],
                "quantity": line["quantity"],
                "unit_price": line["unit_price_minor"],
                "returnable": bool(line["returnable"]),
                "returnable_quantity": line["returnable_quantity"],
            }
            for line in order["lines"]
        ],
        "amounts": order["amounts"].as_api(),
        "returns": [{"id": r["id"], "status": r["status"]} for r in order["returns"]],
        "invoice": invoice,
    }
