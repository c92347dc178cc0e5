"""Builders for test data: call the real services, override only what a test cares about."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

from returns_app.domain import clock
from returns_app.services import merchants, orders, returns
from returns_app.services.orders import Viewer

SAMPLES = Path(__file__).resolve().parent.parent / "merchant_instructions" / "samples"

INSTRUCTIONS = """---
language: en
return_window_days: 30
days_to_send: 14
send_methods: [post, drop_off]
return_address: |
  Test Shop AB
  Returns
  Box 1
  111 11 Stockholm
non_returnable:
  - what: Gift cards
    skus: ["GC-*"]
---
# How to return

1. Pack the items.
2. Post the parcel to the address above.
"""


def make_merchant(db, name: str = "Test Shop", instructions: str | None = INSTRUCTIONS):
    """Returns (merchant row, API key)."""
    merchant, key = merchants.create_merchant(db, name, actor="test")
    if instructions:
        merchants.publish_instructions(db, merchant["id"], instructions, published_by="test")
    return merchant, key


# Unique even with the clock frozen: id() of a dict is reused once the dict is freed.
_REFERENCES = itertools.count(1)


def checkout_payload(**overrides) -> dict:
    now = clock.now()
    payload = {
        "merchant_reference": f"REF-{now.timestamp()}-{next(_REFERENCES)}",
        "customer": {"email": "kund@example.se", "name": "Kim Kund"},
        "currency": "SEK",
        "payment_method": "invoice",
        # Noon: day counts from it land on the same calendar day in UTC and in Stockholm.
        "delivered_at": clock.iso((now - timedelta(days=3)).replace(hour=12, minute=0,
                                                                     second=0)),
        "lines": [
            {"sku": "SHIRT-M", "name": "Shirt", "quantity": 2, "unit_price": 29900},
            {"sku": "JEANS-32", "name": "Jeans", "quantity": 1, "unit_price": 79900},
            {"sku": "GC-100", "name": "Gift card", "quantity": 1, "unit_price": 10000},
        ],
    }
    payload.update(overrides)
    return payload


def make_order(db, merchant_id: int, **overrides) -> dict:
    return orders.create_order(db, merchant_id, checkout_payload(**overrides))


def viewer_for(order: dict) -> Viewer:
    return Viewer(order_ids=frozenset({order["id"]}))


def make_return(db, order: dict, quantities: dict[int, int] | None = None) -> dict:
    """Report `quantities` ({line index: quantity}); by default one of the first line."""
    quantities = quantities or {0: 1}
    items = [{"line_id": order["lines"][i]["id"], "quantity": q, "reason": "too_small"}
             for i, q in quantities.items()]
    return returns.report_return(db, viewer_for(order), order["id"], {"items": items})


# --- money ----------------------------------------------------------------------------------

def link_bank_account(db, customer_id: int, details: dict | None = None,
                      mandate: bool = True) -> dict:
    """Link a bank account as the customer's account page does and, unless told otherwise,
    confirm the direct-debit mandate. Returns the provider destination stored."""
    from returns_app.domain.payout_details import parse_payout_details
    from returns_app.services import bank_accounts

    linked = parse_payout_details(details or {"clearing_number": "8327-9",
                                              "account_number": "1234567897"})
    bank_accounts.link(db, customer_id, linked, "test")
    if mandate:
        bank_accounts.confirm_mandate(db, customer_id, "sv", "test")
    return linked.as_provider_destination()


def decide(db, merchant_id: int, ret: dict, *decisions_: tuple[int, int, int], reason: str =
           "Worn and washed") -> dict:
    """Register (item index, accepted, rejected) per item of `ret` as the merchant."""
    from returns_app.services import decisions

    items = [{"return_item_id": ret["items"][i]["id"], "accepted_quantity": accepted,
              "rejected_quantity": rejected, **({"reason": reason} if rejected else {})}
             for i, accepted, rejected in decisions_]
    return decisions.register(db, merchant_id, ret["id"], {"items": items}, actor="test")
