"""The merchant's decision per returned item moves money: accepted items are credited (and a
refund starts if the customer paid more than they now owe), rejected items are payable again."""

from __future__ import annotations

from ..domain import clock, states
from ..domain.errors import Conflict, NotFound
from ..domain.validation import COUNT, ID, FieldErrors
from ..store import decisions as decision_rows
from ..store import invoices as invoice_rows
from ..store import returns as return_rows
from ..store import status_moves
from ..store.db import Database, lock_rows, write_transaction
from . import audit, idempotency, ledger, refunds, returns
from .orders import INVOICE_DAYS

MAX_REASON = 500


def _parse(payload) -> list[dict]:
    errors = FieldErrors()
    data = errors.mapping(payload, "body")
    raw_items = data.get("items") if data else None
    if not isinstance(raw_items, list) or not raw_items:
        errors.add("items", "Register at least one item.")
        errors.raise_if_any()
    parsed = []
    for i, raw in enumerate(raw_items):
        item = errors.mapping(raw, f"items[{i}]")
        if not item:
            continue
        entry = {
            "return_item_id": errors.integer(item, "return_item_id", f"items[{i}].return_item_id",
                                             counts=ID, minimum=1, maximum=2**62),
            "accepted": errors.integer(item, "accepted_quantity", f"items[{i}].accepted_quantity",
                                       counts=COUNT, maximum=10_000, default=0),
            "rejected": errors.integer(item, "rejected_quantity", f"items[{i}].rejected_quantity",
                                       counts=COUNT, maximum=10_000, default=0),
            "reason": errors.text(item, "reason", f"items[{i}].reason", max_length=MAX_REASON,
                                  required=bool(item.get("rejected_quantity")),
                                  multiline=True) or "",
            # Arrival is kept apart from the decision: items may arrive today, be inspected
            # and decided later. A decided item has arrived, so deciding counts too.
            "received": errors.integer(item, "received_quantity",
                                       f"items[{i}].received_quantity", counts=COUNT,
                                       maximum=10_000,
                                       default=0),
        }
        if not entry["accepted"] and not entry["rejected"] and not entry["received"]:
            errors.add(f"items[{i}].accepted_quantity",
                       "Accept or reject at least one of this item.")
        parsed.append(entry)
    errors.raise_if_any()
    return parsed


def register(db: Database, merchant_id: int, return_id: int, payload, actor: str) -> dict:
    """Record what arrived and what was accepted or rejected, all in one transaction, and move
    the money that follows from it."""
    items = _parse(payload)
    with write_transaction(db):
        _register(db, merchant_id, return_id, items, actor)
    return returns.return_for_merchant(db, merchant_id, return_id)


def register_once(db: Database, merchant_id: int, return_id: int, payload, key: str | None,
                  actor: str) -> idempotency.Response:
    """`register` behind an Idempotency-Key: a retry gets the first answer, nothing twice."""
    key = idempotency.check_key(key)
    items = _parse(payload)
    scope = f"registration:merchant:{merchant_id}"
    with write_transaction(db):
        done = idempotency.claim(db, scope, key, {"return_id": return_id, "items": payload})
        if done is not None:
            return done
        _register(db, merchant_id, return_id, items, actor)
        body = returns.as_api(returns.return_for_merchant(db, merchant_id, return_id))
        return idempotency.finish(db, scope, key, idempotency.Response(200, body))


def _register(db: Database, merchant_id: int, return_id: int, items: list[dict],
              actor: str) -> None:
    ret = _return_of_merchant(db, merchant_id, return_id)
    if ret["status"] in ("cancelled", "resolved"):
        raise Conflict(f"This return is {ret['status']}; nothing more can be registered.")
    if ret["status"] == "expired":
        check_not_reported_again(db, ret)
    current = {row["id"]: row for row in return_rows.items_as_reported(db, return_id)}
    _check_quantities(items, current)
    now = clock.now()
    credited = rejected_value = 0
    for item in items:
        row = current[item["return_item_id"]]
        accepted = row["accepted_quantity"] + item["accepted"]
        rejected = row["rejected_quantity"] + item["rejected"]
        decided = bool(item["accepted"] or item["rejected"])
        decision_rows.record_decision(db, row["id"], accepted, rejected, item["received"],
                                      item["reason"] or None, decided, clock.iso(now))
        value = item["accepted"] * row["unit_price_minor"]
        if value:
            credited += value
            ledger.book(db, order_id=ret["order_id"], kind="credit", amount_minor=value,
                        # Totals only grow, so the running total names this decision uniquely.
                        reference=f"return_item:{row['id']}:accepted:{accepted}",
                        memo=f"{item['accepted']} × {row['name']} accepted", at=clock.iso(now))
        rejected_value += item["rejected"] * row["unit_price_minor"]
    _advance_status(db, ret, now)
    if rejected_value:
        _new_due_date(db, ret["order_id"], now)
    audit.record(db, actor, "return.registered", "return", return_id,
                 before={"status": ret["status"]},
                 after={"items": items, "credited": credited,
                        "rejected_value": rejected_value})
    refunds.settle_refund_owed(db, ret["order_id"], f"Return {return_id}: items accepted",
                               actor, return_id=return_id)


def _return_of_merchant(db: Database, merchant_id: int, return_id: int) -> dict:
    """Inside the write transaction: the return, read again once its order is locked (a
    registration is an order's money case: docs/design.md, "Locking, case by case")."""
    row = return_rows.return_of_merchant(db, merchant_id, return_id)
    if row is None:
        raise NotFound("No such return.")
    lock_rows(db, "orders", row["order_id"])
    return return_rows.return_of_merchant(db, merchant_id, return_id)


def check_not_reported_again(db: Database, ret: dict) -> None:
    """An expired return no longer holds its items, so the customer may have reported them in
    a new return; registering this one too would count them twice (credited beyond the order
    total, refunded beyond what was paid)."""
    other = decision_rows.reported_again_in(db, ret["id"])
    if other is not None:
        raise Conflict(f"These items were reported again in return {other} after this one "
                       "expired: register them there.", other_return_id=other)


def _check_quantities(items: list[dict], current: dict[int, dict]) -> None:
    errors = FieldErrors()
    seen = set()
    for i, item in enumerate(items):
        row = current.get(item["return_item_id"])
        if row is None:
            errors.add(f"items[{i}].return_item_id", "That item is not part of this return.")
            continue
        if item["return_item_id"] in seen:
            errors.add(f"items[{i}].return_item_id", "The same item is listed twice.")
        seen.add(item["return_item_id"])
        left = row["quantity"] - row["accepted_quantity"] - row["rejected_quantity"]
        if item["accepted"] + item["rejected"] > left:
            errors.add(f"items[{i}].accepted_quantity",
                       f"Only {left} of this item {'is' if left == 1 else 'are'} still "
                       "undecided.")
        to_arrive = row["quantity"] - row["received_quantity"]
        if item["received"] > to_arrive:
            errors.add(f"items[{i}].received_quantity",
                       f"{row['received_quantity']} of the {row['quantity']} returned have "
                       f"already arrived: at most {to_arrive} more can arrive.")
    errors.raise_if_any("Some quantities can't be registered.")


def _advance_status(db: Database, ret: dict, now) -> None:
    status = ret["status"]
    if status in states.can_move_to("return", "received"):
        status_moves.move(db, "return", ret["id"], status, "received", received_at=clock.iso(now))
        status = "received"
    if not decision_rows.undecided_items(db, ret["id"]):
        status_moves.move(db, "return", ret["id"], status, "resolved", resolved_at=clock.iso(now))


def _new_due_date(db: Database, order_id: int, now) -> None:
    """A rejected item's value is payable again, with a fresh 14 days to pay it."""
    order = invoice_rows.order_terms(db, order_id)
    if order["payment_method"] != "invoice":
        return
    due = clock.days_after(now, INVOICE_DAYS).isoformat()
    if not order["due_date"] or order["due_date"] < due:
        invoice_rows.set_due_date(db, order_id, due)
        audit.record(db, "system", "order.due_date_moved", "order", order_id,
                     before={"due_date": order["due_date"]}, after={"due_date": due},
                     why="returned items were rejected")
