"""The rows the story (story.py) writes, a batch per table in the column order bulk inserts use,
and the small helpers every part of the story writes them with."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from returns_app.domain import clock


@dataclass
class Ids:
    """Next primary key per table: rows are inserted with their ids, so they can refer to each
    other without a round trip."""

    line: int = 1
    ret: int = 1
    item: int = 1
    payment: int = 1
    refund: int = 1


@dataclass
class Rows:
    """One batch of rows per table, as tuples in the column order of `COLUMNS`."""

    orders: list = field(default_factory=list)
    order_line: list = field(default_factory=list)
    ledger_entry: list = field(default_factory=list)
    payment: list = field(default_factory=list)
    returns: list = field(default_factory=list)
    return_item: list = field(default_factory=list)
    refund: list = field(default_factory=list)
    outbox: list = field(default_factory=list)
    audit_event: list = field(default_factory=list)


COLUMNS = {
    "orders": ("id", "merchant_id", "customer_id", "order_number", "merchant_reference",
               "currency", "payment_method", "purchased_at", "delivered_at", "due_date",
               "created_at"),
    "order_line": ("id", "order_id", "position", "sku", "name", "quantity", "unit_price_minor",
                   "returnable", "non_returnable_reason"),
    "ledger_entry": ("order_id", "kind", "amount_minor", "idempotency_key", "memo",
                     "created_at"),
    "payment": ("id", "order_id", "amount_minor", "method", "status", "idempotency_key",
                "provider_ref", "provider_payment_id", "card_last4", "settled_amount_minor",
                "created_at", "settled_at"),
    "returns": ("id", "order_id", "merchant_id", "status", "instructions_version_id",
                "reported_at", "send_by", "refund_due_by", "sent_at", "tracking_number",
                "received_at", "resolved_at", "cancelled_at", "expired_at"),
    "return_item": ("id", "return_id", "order_line_id", "quantity", "reason", "comment",
                    "received_quantity", "accepted_quantity", "rejected_quantity",
                    "decision_reason", "decided_at"),
    "refund": ("id", "order_id", "return_id", "amount_minor", "status", "destination_kind",
               "destination_json", "destination_masked", "reason", "attempts",
               "provider_payout_id", "last_error", "created_at", "status_changed_at",
               "succeeded_at", "unknown_since"),
    "outbox": ("kind", "subject_id", "payload", "status", "attempts", "available_at",
               "created_at", "done_at"),
    "audit_event": ("at", "actor", "action", "subject_kind", "subject_id", "before_json",
                    "after_json", "why"),
}


def iso(moment: datetime) -> str:
    return clock.iso(moment)


def order_number(order_id: int) -> str:
    """Unique and scattered: 3^18 is coprime to 10^9, so i -> i * 3^18 mod 10^9 is a bijection."""
    digits = f"{(order_id * 387_420_489 + 104_729) % 10**9:09d}"
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]}"


def audit(rows: Rows, at: datetime, actor: str, action: str, kind: str, subject_id: int,
          before: dict | None = None, after: dict | None = None) -> None:
    rows.audit_event.append((
        iso(at), actor, action, kind, subject_id,
        json.dumps(before, sort_keys=True) if before is not None else None,
        json.dumps(after, sort_keys=True) if after is not None else None, ""))
