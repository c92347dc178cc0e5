"""Returns: reported by the customer, sent, cancelled or expired; read back with instructions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ..domain import clock, states
from ..domain.errors import Invalid, NotFound
from ..domain.money import Amounts, ItemValue, paused_in_return
from ..domain.validation import COUNT, ID, REQUIRED, FieldErrors
from ..store import returns as return_rows
from ..store import status_moves
from ..store.db import Database, lock_rows, run_transaction, write_transaction
from . import audit, merchants
from .orders import Viewer, get_order, lines_with_returnable, order_for_viewer

# The withdrawal right (distansavtalslagen) gives 14 days; merchants may give more, never less.
LEGAL_WINDOW_DAYS = 14
REFUND_DUE_DAYS = 14
DEFAULT_DAYS_TO_SEND = 14
REASONS = (
    "changed_mind", "too_small", "too_large", "not_as_described", "damaged", "wrong_item",
    "arrived_late", "other",
)
MAX_COMMENT = 500
MAX_TRACKING = 64
TRACKING = re.compile("[A-Za-z0-9 -]+")


@dataclass(frozen=True)
class ReturnWindow:
    days: int
    closes_on: date | None  # None while the order is not yet delivered: the window hasn't begun

    def is_closed(self, today: date) -> bool:
        return self.closes_on is not None and today > self.closes_on


def return_window(order: dict, instructions: dict | None) -> ReturnWindow:
    days = instructions["return_window_days"] if instructions else LEGAL_WINDOW_DAYS
    if not order["delivered_at"]:
        return ReturnWindow(days, None)
    return ReturnWindow(days, clock.days_after(clock.parse(order["delivered_at"]), days))


def instructions_for_order(db: Database, order: dict) -> dict | None:
    return merchants.current_instructions(db, order["merchant_id"], order["customer_language"])


def _parse_items(payload) -> list[dict]:
    errors = FieldErrors()
    data = errors.mapping(payload, "body")
    raw_items = data.get("items") if data else None
    if not isinstance(raw_items, list) or not raw_items:
        errors.add("items", "Choose at least one item to return.")
        errors.raise_if_any("Choose at least one item to return.")
    items = []
    for i, raw in enumerate(raw_items):
        item = errors.mapping(raw, f"items[{i}]")
        if not item:
            continue
        reason = errors.choice(item, "reason", f"items[{i}].reason", REASONS,
                               "Choose why this item goes back, one of")
        comment = errors.text(item, "comment", f"items[{i}].comment", max_length=MAX_COMMENT,
                              required=reason == "other", multiline=True) or ""
        # Only a missing comment asks for one: a too long one is told its limit.
        if reason == "other" and errors.fields.get(f"items[{i}].comment") == REQUIRED:
            errors.fields[f"items[{i}].comment"] = "Tell us in a few words why it goes back."
        items.append({
            "line_id": errors.integer(item, "line_id", f"items[{i}].line_id", counts=ID,
                                      minimum=1, maximum=2**62),
            "quantity": errors.integer(item, "quantity", f"items[{i}].quantity", counts=COUNT,
                                       minimum=1, maximum=10_000),
            "reason": reason,
            "comment": comment,
        })
    errors.raise_if_any()
    return items


def _check_against_order(db, order: dict, items: list[dict], window: ReturnWindow,
                         merchant_name: str) -> None:
    """The rules that need the order: every problem reported at once, each on its own item."""
    errors = FieldErrors()
    if window.is_closed(clock.today()):
        errors.add("items", (
            f"The {window.days}-day return window for this order closed on "
            f"{window.closes_on.isoformat()}, {window.days} days after delivery."))
        errors.raise_if_any(errors.fields["items"])
    lines = {line["id"]: line for line in lines_with_returnable(db, order["id"])}
    seen: set[int] = set()
    existing = None
    for i, item in enumerate(items):
        line = lines.get(item["line_id"])
        field = f"items[{i}].quantity"
        if line is None:
            errors.add(f"items[{i}].line_id", "That item is not on this order.")
        elif item["line_id"] in seen:
            errors.add(f"items[{i}].line_id", "The same item is listed twice.")
        elif not line["returnable"]:
            errors.add(field, f"{merchant_name} can't take this item back: "
                              f"{line['non_returnable_reason']}.")
        elif line["returnable_quantity"] == 0:
            existing = existing or return_rows.open_return_with_line(db, line["id"])
            errors.add(field, "You have already reported this item for return.")
        elif item["quantity"] > line["returnable_quantity"]:
            errors.add(field, f"You can return at most {line['returnable_quantity']} "
                              f"of this item.")
        seen.add(item["line_id"])
    if errors.fields:
        details = {"existing_return_id": existing} if existing else {}
        raise Invalid("Some items can't be returned as asked.", fields=errors.fields, **details)


def report_return(db: Database, viewer: Viewer, order_id: int, payload) -> dict:
    """Report items that go back. The pause on their value starts in the same transaction."""
    order = order_for_viewer(db, viewer, order_id)
    items = _parse_items(payload)
    with write_transaction(db):
        # Read the rules inside the lock: two tabs submitting at once can't both pass the check.
        lock_rows(db, "orders", order_id)
        instructions = instructions_for_order(db, order)
        window = return_window(order, instructions)
        _check_against_order(db, order, items, window, order["merchant_name"])
        now = clock.now()
        days_to_send = instructions["days_to_send"] if instructions else DEFAULT_DAYS_TO_SEND
        return_id = return_rows.add_return(db, {
            "order_id": order_id,
            # Given here, m003's fill trigger doesn't run: its UPDATE set off every update
            # trigger on returns, 0.15-0.19 ms of a report's locked work (README, speed table).
            "merchant_id": order["merchant_id"],
            "status": "reported",
            "instructions_version_id": instructions["id"] if instructions else None,
            "reported_at": clock.iso(now),
            "send_by": clock.days_after(now, days_to_send).isoformat(),
            "refund_due_by": clock.days_after(now, REFUND_DUE_DAYS).isoformat(),
        })
        for item in items:
            return_rows.add_return_item(db, {
                "return_id": return_id,
                "order_line_id": item["line_id"],
                "quantity": item["quantity"],
                "reason": item["reason"],
                "comment": item["comment"],
            })
        audit.record(db, viewer.actor, "return.reported", "return", return_id,
                     after={"order_id": order_id, "items": items})
    # The viewer may see the order (checked above), so the new return is theirs too.
    return with_details(db, return_rows.return_row(db, return_id), order)


def return_for_viewer(db, viewer: Viewer, return_id: int) -> tuple[dict, dict]:
    """The return and its order (read once), if the viewer may see the order."""
    ret = return_rows.return_row(db, return_id)
    if ret is None:
        raise NotFound("We couldn't find that return.")
    try:
        order = order_for_viewer(db, viewer, ret["order_id"])
    except NotFound:
        raise NotFound("We couldn't find that return.") from None
    return ret, order


def mark_sent(db: Database, viewer: Viewer, return_id: int,
              tracking_number: str | None) -> dict:
    # Spaces only: "\t" is no tracking number, and the OpenAPI document's pattern says so.
    tracking = (tracking_number or "").strip(" ") or None
    # ASCII only: isalnum() took any script's letters and digits, and NUL passed .strip().
    if tracking and (len(tracking) > MAX_TRACKING or not TRACKING.fullmatch(tracking)):
        raise Invalid(fields={"tracking_number": (
            f"A tracking number has only letters, digits, spaces and dashes, at most "
            f"{MAX_TRACKING} characters.")})
    return_for_viewer(db, viewer, return_id)
    with write_transaction(db):
        current = return_rows.return_row(db, return_id)
        status_moves.move(db, "return", return_id, current["status"], "sent",
                    sent_at=clock.now_iso(), tracking_number=tracking)
        audit.record(db, viewer.actor, "return.sent", "return", return_id,
                     before={"status": current["status"]},
                     after={"status": "sent", "tracking_number": tracking})
    return return_details(db, viewer, return_id)


def cancel_return(db: Database, viewer: Viewer, return_id: int) -> dict:
    _ret, order = return_for_viewer(db, viewer, return_id)
    with write_transaction(db):
        lock_rows(db, "orders", order["id"])  # its items' value is payable again
        current = return_rows.return_row(db, return_id)
        status_moves.move(db, "return", return_id, current["status"], "cancelled",
                    cancelled_at=clock.now_iso())
        audit.record(db, viewer.actor, "return.cancelled", "return", return_id,
                     before={"status": current["status"]}, after={"status": "cancelled"})
    return return_details(db, viewer, return_id)


def expire_overdue(db: Database) -> list[int]:
    """Returns not sent by their send-by date end, and so does the pause on their value."""
    today = clock.today().isoformat()

    def expire(db: Database) -> list[int]:
        # Each move bumps its order's version (a row lock): their orders locked first, all at
        # once in id order, as a bank file and arrivals lock theirs, then the returns read
        # again under the locks. What still deadlocks (a return reported meanwhile on another
        # order) is run again (docs/design.md, "Locking, case by case").
        lock_rows(db, "orders", *return_rows.orders_with_overdue_reported(db, today))
        expired = []
        for return_id in return_rows.overdue_reported(db, today):
            status_moves.move(db, "return", return_id, "reported", "expired",
                              expired_at=clock.now_iso())
            audit.record(db, "system", "return.expired", "return", return_id,
                         before={"status": "reported"}, after={"status": "expired"},
                         why="not sent before the send-by date")
            expired.append(return_id)
        return expired

    return run_transaction(db, expire)


def return_details(db: Database, viewer: Viewer, return_id: int) -> dict:
    return with_details(db, *return_for_viewer(db, viewer, return_id))


def return_for_merchant(db: Database, merchant_id: int, return_id: int) -> dict:
    ret = return_rows.return_of_merchant(db, merchant_id, return_id)
    if ret is None:
        raise NotFound("No such return.")
    return with_details(db, ret)


def paused_here(ret: dict, order_amounts: Amounts) -> int:
    """What this return (read by `with_details`) keeps paused of the order's balance."""
    return paused_in_return(
        (ItemValue(i["quantity"], i["unit_price_minor"], i["accepted_quantity"],
                   i["rejected_quantity"], ret["status"] in states.OPEN_RETURN_STATUSES)
         for i in ret["items"]), order_amounts.paused)


def with_details(db: Database, ret: dict, order: dict | None = None) -> dict:
    ret["order"] = order if order is not None else get_order(db, ret["order_id"])
    ret["items"] = return_rows.items_with_lines(db, ret["id"])
    ret["value"] = sum(i["quantity"] * i["unit_price_minor"] for i in ret["items"])
    ret["instructions"] = merchants.instructions_by_id(db, ret["instructions_version_id"])
    ret["timeline"] = timeline(ret)
    return ret


TIMELINE_STEPS = ("reported", "sent", "received", "resolved")


def timeline(ret: dict) -> list[dict]:
    """Each step of the return with when it happened; the ending step if it ended early."""
    steps = [{"status": s, "at": ret[f"{s}_at"]} for s in TIMELINE_STEPS]
    for ending in ("cancelled", "expired"):
        if ret[f"{ending}_at"]:
            steps = [s for s in steps if s["at"]] + [{"status": ending, "at": ret[f"{ending}_at"]}]
    return steps


def as_api(ret: dict) -> dict:
    instructions = ret["instructions"]
    return {
        "id": ret["id"],
        "order_id": ret["order_id"],
        "status": ret["status"],
        "reported_at": ret["reported_at"],
        "send_by": ret["send_by"],
        "refund_due_by": ret["refund_due_by"],
        "tracking_number": ret["tracking_number"],
        "items": [
            {
                "id": item["id"],
                "line_id": item["order_line_id"],
                "quantity": item["quantity"],
                "reason": item["reason"],
                "comment": item["comment"],
                "received_quantity": item["received_quantity"],
                "accepted_quantity": item["accepted_quantity"],
                "rejected_quantity": item["rejected_quantity"],
            }
            for item in ret["items"]
        ],
        "instructions": {
            "version": instructions["version"] if instructions else None,
            "language": instructions["language"] if instructions else None,
            "html": instructions["html"] if instructions else "",
            "return_address": instructions["return_address_lines"] if instructions else [],
            "send_methods": instructions["send_methods"] if instructions else [],
        },
    }
